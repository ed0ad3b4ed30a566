#!/usr/bin/env bash
# Whole-store snapshots: `carnet-backup snapshot > FILE.tar.gz` writes a
# gzip'd tar a person can read without carnet (README, a consistent copy
# of the store, every table and every list as CSV, the configuration with
# its secrets redacted, SHA256SUMS that sha256sum -c accepts), also while
# an import runs; `carnet-restore --snapshot FILE --store PATH` restores it
# into a new or empty store only (mode 0600), from a file or stdin; a
# non-empty store, a damaged archive and the usage errors are refused and
# change nothing.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1

cat >clients.csv <<'EOF'
email,phone,first_name,last_name,city
alice@example.fr,06 12 34 56 78,Alice,Martin,Lyon
bob@example.com,06 80 12 34 56,Bob,Durand,"Metz, Moselle"
chloe@example.org,07 23 45 67 89,Chloé,Petit,Paris
EOF
cat >carnet.yaml <<'EOF'
folder: default
sms:
  kannel:
    url: http://127.0.0.1:13013/cgi-bin/sendsms
    username: carnet
    password: hunter2-secret
EOF
chmod 600 carnet.yaml
carnet-contacts import -q --list clients clients.csv >/dev/null
carnet-contacts import -q --folder lyon --list prospects clients.csv >/dev/null
carnet-blacklist add -q --reason STOP '06 99 99 99 99' >/dev/null
carnet-contacts import -q --list clients --mode replace <(head -3 clients.csv) >/dev/null	# a backup record
carnet-contacts export --list clients >clients.export
carnet-contacts export --folder lyon --list prospects >prospects.export

# --- snapshot -------------------------------------------------------------------------------------
carnet-backup --config carnet.yaml snapshot >x.tar.gz 2>snap.err
is "$?" 0 "snapshot exits 0"
is "$(cat snap.err)" "" "and writes nothing on stderr"
ok "$(gzip -t x.tar.gz 2>/dev/null; echo $?)" "the snapshot is valid gzip"
tar tzf x.tar.gz >members.txt
ok "$?" "tar tzf reads it"
top=$(head -1 members.txt | cut -d/ -f1)
like "$top" '^carnet-snapshot-[0-9]{8}T[0-9]{6}Z$' "every member is under one dated directory"
is "$(cut -d/ -f1 members.txt | sort -u | wc -l)" 1 "(only one)"
for m in README.txt carnet.db tables/contact.csv tables/list.csv tables/member.csv tables/blacklist.csv \
	tables/backup.csv lists/default/clients.csv lists/lyon/prospects.csv config.yaml SHA256SUMS; do
	ok "$(grep -qxF "$top/$m" members.txt; echo $?)" "the archive holds $m"
done
mkdir x && tar xzf x.tar.gz -C x
ok "$(cd "x/$top" && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1; echo $?)" "sha256sum -c SHA256SUMS accepts every member"
is "$(wc -l <"x/$top/SHA256SUMS")" "$(($(wc -l <members.txt) - 1))" "SHA256SUMS names every other member"
ok "$(cmp -s "x/$top/lists/default/clients.csv" clients.export; echo $?)" \
	"lists/default/clients.csv is the list's export"
ok "$(cmp -s "x/$top/lists/lyon/prospects.csv" prospects.export; echo $?)" \
	"lists/lyon/prospects.csv too, another folder"
is "$(sqlite3 "x/$top/carnet.db" 'PRAGMA integrity_check')" ok "the store copy is sound"
is "$(sqlite3 "x/$top/carnet.db" 'SELECT count(*) FROM contact')" "$(sql 'SELECT count(*) FROM contact')" \
	"and holds every contact"
is "$(($(wc -l <"x/$top/tables/contact.csv") - 1))" "$(sql 'SELECT count(*) FROM contact')" \
	"tables/contact.csv: a header and a row per contact"
like "$(cat "x/$top/tables/blacklist.csv")" '\+33699999999' "tables/blacklist.csv holds the blacklist"
like "$(cat "x/$top/config.yaml")" 'password: .?<redacted>' "the configuration's secrets are redacted"
is "$(grep -rl 'hunter2' x | wc -l)" 0 "the secret appears nowhere in the archive"
like "$(cat "x/$top/config.yaml")" 'username: carnet' "the rest of the configuration is kept"
like "$(cat "x/$top/README.txt")" 'carnet' "README.txt says what the archive is"

# --- restore into a new store ------------------------------------------------------------------------
run carnet-restore --snapshot x.tar.gz --store "$T/new/carnet.db"
is "$status" 0 "restore --snapshot into a new store exits 0"
is "$out" "restored snapshot x.tar.gz into $T/new/carnet.db" "and says so"
is "$err" "" "nothing on stderr"
is "$(stat -c %a "$T/new/carnet.db")" 600 "the new store has mode 0600"
run carnet-contacts --store "$T/new/carnet.db" export --list clients
is "$out" "$(cat clients.export)" "the new store exports the list exactly as the original"
is "$(carnet-contacts --store "$T/new/carnet.db" export --folder lyon --list prospects)" "$(cat prospects.export)" \
	"and the other folder's list"
is "$(carnet-blacklist --store "$T/new/carnet.db" ls --format csv | grep -c '+33699999999')" 1 "and the blacklist"
is "$(carnet-backup --store "$T/new/carnet.db" ls | sed 1d | cut -d, -f1-7)" "$(carnet-backup ls | sed 1d | cut -d, -f1-7)" \
	"and the backup records"
run_in x.tar.gz carnet-restore --snapshot - --store "$T/new2.db"
is "$status" 0 "--snapshot - reads the archive from stdin"
is "$(carnet-contacts --store "$T/new2.db" export --list clients)" "$(cat clients.export)" "with the same result"
carnet-contacts --store "$T/empty.db" ls >/dev/null
run carnet-restore --snapshot x.tar.gz --store "$T/empty.db"
is "$status" 0 "an existing but empty store is accepted"
is "$(carnet-contacts --store "$T/empty.db" export --list clients)" "$(cat clients.export)" "and gets the lists"

# --- refused: a non-empty store, a damaged archive -------------------------------------------------------
before=$(store_sum)
run carnet-restore --snapshot x.tar.gz --store "$STORE"
is "$status" 65 "restore into a non-empty store is refused with exit 65"
like "$err" "is not empty" "and says the store is not empty"
is "$(store_sum)" "$before" "the store is unchanged"
size=$(stat -c %s x.tar.gz)
head -c $((size / 2)) x.tar.gz >half.tar.gz
run carnet-restore --snapshot half.tar.gz --store "$T/half.db"
is "$status" 65 "a truncated archive is refused with exit 65"
like "$err" "half.tar.gz: truncated archive" "and says so"
ok "$([ ! -e "$T/half.db" ]; echo $?)" "and no store is created"
mkdir y && tar xzf x.tar.gz -C y
printf '\n-- tampered\n' >>"y/$top/tables/contact.csv"
tar czf tampered.tar.gz -C y "$top"
run carnet-restore --snapshot tampered.tar.gz --store "$T/tampered.db"
is "$status" 65 "an archive whose member does not match SHA256SUMS is refused with exit 65"
like "$err" "tables/contact.csv' does not match its checksum in SHA256SUMS" "and names the member"
ok "$([ ! -e "$T/tampered.db" ]; echo $?)" "and no store is created"
run carnet-restore --snapshot nope.tar.gz --store "$T/nope.db"
is "$status" 66 "a missing archive exits 66"

# --- usage ------------------------------------------------------------------------------------------------
run env -u CARNET_STORE carnet-restore --snapshot x.tar.gz
is "$status" 64 "--snapshot without --store exits 64"
run carnet-restore --snapshot x.tar.gz --store "$T/u.db" --dry-run
is "$status" 64 "--snapshot with --dry-run exits 64"
run carnet-backup snapshot extra
is "$status" 64 "snapshot with an operand exits 64"
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "carnet-backup snapshot; echo status=\$?" "$T/tty.log" >/dev/null 2>&1
	like "$(tr -d '\r' <"$T/tty.log")" "status=64" "snapshot to a terminal exits 64"
	like "$(tr -d '\r' <"$T/tty.log")" "redirect it" "and says to redirect it"
else
	ok 0 "# SKIP script(1) is not available: no terminal for snapshot"
fi

# --- consistent while an import runs ----------------------------------------------------------------------
B=30000
[ "$(head -c2 "$CARNET_BIN/carnet-contacts")" = '#!' ] && B=3000	# under valgrind
awk -v n=$B 'BEGIN { print "email"; for (i = 1; i <= n; i++) printf "bulk%06d@example.com\n", i }' >bulk.csv
carnet-contacts import -q --list bulk bulk.csv >/dev/null 2>&1 &
pi=$!
sleep 0.3
carnet-backup snapshot >busy.tar.gz 2>busy.err
ss=$?
wait "$pi"
si=$?
is "$ss,$si" "0,0" "a snapshot taken while an import runs, and the import, both exit 0"
mkdir z && tar xzf busy.tar.gz -C z
zt=$(ls z)
ok "$(cd "z/$zt" && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1; echo $?)" "its checksums hold"
n=$(sqlite3 "z/$zt/carnet.db" "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'bulk'")
like "$n" "^(0|$B)\$" "its copy has the list before or after the import, not in between ($n)"
if [ -f "z/$zt/lists/default/bulk.csv" ]; then
	is "$(($(wc -l <"z/$zt/lists/default/bulk.csv") - 1))" "$n" "and the list's CSV agrees with the copy"
else
	is 0 "$n" "and no list CSV when the list did not exist yet"
fi
done_testing
