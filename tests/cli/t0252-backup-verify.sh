#!/usr/bin/env bash
# carnet-backup verify: every backup (or one) against its recorded size
# and SHA-256, its gzip stream, its header and its row count.  A flipped
# byte, a truncated file, a missing file and a backup of another schema
# version are each reported (exit 1, the backup named); a damaged backup
# is refused by export and restore (exit 65) and nothing changes.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

awk 'BEGIN {
	print "email,phone,first_name,last_name"
	for (i = 1; i <= 300; i++)
		printf "user%04d@example.com,06%08d,First%d,Last%d\n", i, i, i, i
}' >clients.csv
printf 'email\nx@example.fr\n' >prospects.csv
carnet-contacts import -q --list clients clients.csv >/dev/null
carnet-contacts import -q --list prospects prospects.csv >/dev/null
carnet-backup create --list clients >/dev/null	# 1
carnet-backup create --list prospects >/dev/null	# 2
carnet-backup create --list clients >/dev/null	# 3
file() { sql "SELECT file FROM backup WHERE id = $1"; }
f1=$(file 1)

# --- all sound ------------------------------------------------------------------------
run carnet-backup verify
is "$status" 0 "verify of sound backups exits 0"
is "$err" "" "and says nothing on stderr"
is "$out" "id,folder,list,created,status,problem,file
1,default,clients,2026-11-22T08:00:00Z,ok,,$f1
3,default,clients,2026-11-22T08:00:00Z,ok,,$(file 3)
2,default,prospects,2026-11-22T08:00:00Z,ok,,$(file 2)" "it prints one row per backup, status ok"
run carnet-backup verify 2
is "$status" 0 "verify ID of a sound backup exits 0"
is "$(printf '%s\n' "$out" | sed 1d | cut -d, -f1,5)" "2,ok" "and checks that one only"
run carnet-backup verify --format json
is "$(printf '%s' "$out" | jq -c 'map([.id, .status])')" '[[1,"ok"],[3,"ok"],[2,"ok"]]' "verify --format json"
run carnet-backup verify 99
is "$status" 66 "verify of an unknown id exits 66"
is "$err" "carnet-backup: no backup 99" "and says which"
run carnet-backup verify x1
is "$status" 64 "verify of a bad id exits 64"

# --- a flipped byte --------------------------------------------------------------------
cp "$f1" f1.orig
size=$(stat -c %s "$f1")
off=$((size / 2))
byte=$(od -An -tu1 -j "$off" -N1 "$f1" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" | dd of="$f1" bs=1 seek="$off" conv=notrunc status=none
is "$(stat -c %s "$f1")" "$size" "(the damaged file keeps its size)"
ok "$(! cmp -s "$f1" f1.orig; echo $?)" "(one byte differs)"
run carnet-backup verify
is "$status" 1 "a flipped byte: verify exits 1"
like "$err" "^carnet-backup: backup 1 \(clients\): checksum mismatch" "and names the damaged backup on stderr"
like "$err" "1 of 3 backups damaged" "and counts the damaged ones"
is "$(printf '%s\n' "$out" | sed 1d | cut -d, -f1,5)" "$(printf '%s\n' 1,damaged 3,ok 2,ok)" \
	"the damaged backup's row says damaged, the others ok"
like "$(printf '%s\n' "$out" | grep '^1,')" ',damaged,"?checksum mismatch [(]sha256 ' "with the problem"
run carnet-backup verify 3
is "$status" 0 "verify of another, sound backup still exits 0"
run carnet-backup verify -q
is "$status,$err" "1," "verify -q: exit 1, nothing on stderr"

# a damaged backup is refused, and nothing changes
printf 'email\nsomeone@example.fr\n' | carnet-contacts import -q --list clients --mode replace >/dev/null
before=$(store_sum)
nf=$(ls backups | wc -l)
run carnet-backup export 1
is "$status" 65 "export of a damaged backup exits 65"
is "$out" "" "and writes nothing on stdout"
like "$err" "backup 1 is damaged: checksum mismatch" "and says why"
run carnet-restore 1 --mode replace
is "$status" 65 "restore of a damaged backup exits 65"
like "$err" "^carnet-restore: backup 1 is damaged: checksum mismatch" "and says why"
is "$out" "" "no summary"
is "$(store_sum)" "$before" "the store is unchanged"
is "$(ls backups | wc -l)" "$nf" "and no backup was taken"
run carnet-restore 1 --mode replace --dry-run
is "$status" 65 "a dry run of a damaged backup exits 65 too"

# --- a truncated file -------------------------------------------------------------------
cp f1.orig "$f1"
run carnet-backup verify 1
is "$status" 0 "the original bytes back: sound again"
truncate -s $((size - 10)) "$f1"
run carnet-backup verify
is "$status" 1 "a truncated file: verify exits 1"
like "$err" "backup 1 \(clients\): size $((size - 10)), recorded $size \(truncated\)" \
	"and says the file is truncated, with the sizes"
run carnet-restore 1
is "$status" 65 "restore of a truncated backup exits 65"
is "$(store_sum)" "$before" "and changes nothing"
# truncated, with its record made to match: the gzip stream ends early
truncate -s $((size / 2)) "$f1"
sqlite3 "$STORE" "UPDATE backup SET size = $((size / 2)), sha256 = '$(sha256sum "$f1" | cut -d' ' -f1)' WHERE id = 1"
run carnet-backup verify 1
is "$status" 1 "a truncated gzip stream whose checksum was recorded: exit 1"
like "$err" "backup 1 \(clients\): truncated" "the stream is found truncated"
run carnet-backup export 1
is "$status" 65 "and export refuses it"
sqlite3 "$STORE" "UPDATE backup SET size = $size, sha256 = '$(sha256sum f1.orig | cut -d' ' -f1)' WHERE id = 1"
cp f1.orig "$f1"

# --- a missing file ------------------------------------------------------------------------
mv "$(file 2)" gone.gz
run carnet-backup verify
is "$status" 1 "a missing file: verify exits 1"
like "$err" "backup 2 \(prospects\): missing file" "and names the backup"
mv gone.gz "$(file 2)"

# --- another schema version ------------------------------------------------------------------
zcat "$(file 3)" | sed -E '1s/"schema_version":[0-9]+/"schema_version":99/' | gzip >v99.gz
cp v99.gz "$(file 3)"
sqlite3 "$STORE" "UPDATE backup SET size = $(stat -c %s v99.gz), sha256 = '$(sha256sum v99.gz | cut -d' ' -f1)' WHERE id = 3"
run carnet-backup verify 3
is "$status" 1 "a backup of another schema version: verify exits 1"
like "$err" "schema version 99, this carnet reads 1 to [0-9]+" "and says which version"
before=$(store_sum)
run carnet-restore 3
is "$status" 65 "its restore is refused with 65"
like "$err" "schema version 99" "with the same reason"
is "$(store_sum)" "$before" "and nothing changes"

# --- a wrong row count -------------------------------------------------------------------------
zcat f1.orig | sed '$d' | gzip >short.gz
cp short.gz "$f1"
sqlite3 "$STORE" "UPDATE backup SET size = $(stat -c %s short.gz), sha256 = '$(sha256sum short.gz | cut -d' ' -f1)' WHERE id = 1"
before=$(store_sum)
run carnet-backup verify 1
is "$status" 1 "a row missing (checksum recorded): verify exits 1"
like "$err" "299 rows, header says 300, recorded 300" "and counts the rows"
run carnet-restore 1
is "$status" 65 "its restore is refused with 65"
is "$(store_sum)" "$before" "and nothing changes"
done_testing
