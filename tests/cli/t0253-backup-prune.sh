#!/usr/bin/env bash
# carnet-backup prune: retention measured from now (30 days by default,
# --days, backup.retention_days), --keep-last N per list, a list's newest
# backup under 24 hours old kept unless --force, --dry-run removes nothing,
# removed backups lose their files, orphan files of this store older than
# a day go too, and backup.auto_prune prunes after each automatic backup.
# The backups are made to look old by setting CARNET_NOW when they are
# taken; prune runs on the real clock.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
now=$(date +%s)
day=86400

printf 'email\na@example.fr\n' >a.csv
for l in A B C; do carnet-contacts import -q --list $l a.csv >/dev/null; done
mk() { # mk LIST AGE-SECONDS
	CARNET_NOW=$((now - $2)) carnet-backup create --list "$1" >/dev/null
}
mk A $((40 * day))	# 1
mk A $((31 * day))	# 2
mk A $((10 * day))	# 3
mk A 3600	# 4: A's newest, an hour old
mk B $((40 * day))	# 5
mk B $((35 * day))	# 6: B's newest, 35 days old
mk C $((3 * 3600))	# 7
mk C $((2 * 3600))	# 8: C's newest, two hours old
is "$(sqlite3 -batch -list "$STORE" "SELECT group_concat(list || ':' || id) FROM (SELECT * FROM backup ORDER BY id)")" \
	"A:1,A:2,A:3,A:4,B:5,B:6,C:7,C:8" "eight backups of three lists"

for i in $(seq 8); do f[$i]=$(sql "SELECT file FROM backup WHERE id = $i"); done
sqlite3 "$STORE" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$STORE" saved.db
cp -a backups saved-backups
reset() {
	rm -f "$STORE-wal" "$STORE-shm"
	cp saved.db "$STORE"
	rm -rf backups
	cp -a saved-backups backups
}
left() { sqlite3 -batch -list "$STORE" "SELECT coalesce(group_concat(id), '') FROM (SELECT id FROM backup ORDER BY id)"; }
# files_left: the ids whose files still exist
files_left() {
	local i s=
	for i in $(seq 8); do [ -e "${f[$i]}" ] && s="$s${s:+,}$i"; done
	echo "$s"
}
ids() { printf '%s\n' "$out" | sed 1d | cut -d, -f1 | paste -sd, -; }

# --- --dry-run removes nothing ---------------------------------------------------------
before=$(store_sum)
run carnet-backup prune --dry-run
is "$status" 0 "prune --dry-run exits 0"
is "$(printf '%s\n' "$out" | head -1)" "id,folder,list,created,reason,rows,size,sha256,user,file" \
	"it prints the backups it would remove, in ls's columns"
is "$(ids)" "1,2,5,6" "those older than 30 days"
is "$err" "carnet-backup: would remove 4 backups older than 30 days" "and the count on stderr"
is "$(store_sum)" "$before" "the store is unchanged"
is "$(files_left)" "1,2,3,4,5,6,7,8" "every file is still there"

# --- the default: 30 days ------------------------------------------------------------------
run carnet-backup prune
is "$status" 0 "prune exits 0"
is "$(ids)" "1,2,5,6" "it removes the backups older than 30 days"
is "$err" "carnet-backup: removed 4 backups older than 30 days" "and says how many"
is "$(left)" "3,4,7,8" "the recent ones are kept"
is "$(files_left)" "3,4,7,8" "the files of the removed backups are deleted, the others kept"
run carnet-backup ls --list B
is "$out" "id,folder,list,created,reason,rows,size,sha256,user,file" \
	"a list whose backups are all old has none left"
run carnet-backup verify
is "$status" 0 "the backups left are sound"
run carnet-backup prune
is "$(ids),$err" ",carnet-backup: removed 0 backups older than 30 days" "a second prune removes nothing"

# --- --keep-last ------------------------------------------------------------------------------
reset
run carnet-backup prune --keep-last 1
is "$status" 0 "prune --keep-last 1 exits 0"
is "$(left)" "3,4,6,7,8" "the newest backup of each list is kept, however old"
is "$err" "carnet-backup: removed 3 backups older than 30 days (keeping the newest of each list)" \
	"and says so"
reset
run carnet-backup prune --days 0 --keep-last 2
is "$(left)" "3,4,5,6,7,8" "--keep-last 2 keeps two per list"

# --- --days -------------------------------------------------------------------------------------
reset
run carnet-backup prune --days 36
is "$(ids)" "1,5" "--days 36: older than 36 days"
reset
run carnet-backup prune --days 0
is "$status" 0 "prune --days 0 exits 0"
is "$(left)" "4,8" "--days 0 keeps only each list's newest backup under 24 hours old"
is "$(files_left)" "4,8" "and removes the other files"
run carnet-backup prune --days 0 --force
is "$status" 0 "prune --days 0 --force exits 0"
is "$(left)" "" "--force removes those too"
is "$(find backups -type f | wc -l)" 0 "and the backup directory is empty"

# --- the configuration: retention_days, keep_last, auto_prune -------------------------------------
reset
printf 'backup:\n  retention_days: 7\n' >r7.yaml
chmod 600 r7.yaml
run carnet-backup --config r7.yaml prune
is "$(left)" "4,7,8" "backup.retention_days: 7 is the default of --days"
is "$err" "carnet-backup: removed 5 backups older than 7 days" "and is named in the message"
reset
run carnet-backup --config r7.yaml prune --days 30
is "$(left)" "3,4,7,8" "--days wins over the configuration"
reset
printf 'backup:\n  retention_days: 7\n  keep_last: 2\n' >k2.yaml
chmod 600 k2.yaml
run carnet-backup --config k2.yaml prune
is "$(left)" "3,4,5,6,7,8" "backup.keep_last is the default of --keep-last"
reset
printf 'backup:\n  retention_days: 0\n' >r0.yaml
chmod 600 r0.yaml
run carnet-backup --config r0.yaml prune
is "$(left)" "1,2,3,4,5,6,7,8" "backup.retention_days: 0 keeps backups forever (carnet.yaml(5))"
is "$err" "carnet-backup: removed 0 backups (retention: forever)" "and prune says so"
run carnet-backup --config r0.yaml prune --days 36
is "$(left)" "2,3,4,6,7,8" "--days still prunes when the configuration keeps forever"
reset
printf 'backup:\n  retention_days: 0\n  keep_last: 2\n' >r0k2.yaml
chmod 600 r0k2.yaml
run carnet-backup --config r0k2.yaml prune
# keep_last is a minimum ("keep at least the newest N ... however old",
# carnet.yaml(5)), not a maximum: with retention forever nothing goes.
is "$(left)" "1,2,3,4,5,6,7,8" "retention_days: 0 with keep_last: 2 still keeps every backup"
reset
printf 'backup:\n  auto_prune: true\n' >auto.yaml
chmod 600 auto.yaml
printf 'email\nb@example.fr\n' >b.csv
run carnet-contacts --config auto.yaml import --list A --mode replace b.csv
is "$status" 0 "an import with backup.auto_prune exits 0"
is "$out" "A: 1 rows: 1 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 1 removed; backup 9 taken first" \
	"and takes its backup"
is "$(left)" "3,4,7,8,9" "after which the old backups are pruned automatically"
is "$(files_left)" "3,4,7,8" "with their files"
reset
run carnet-backup --config auto.yaml create --list C
is "$(left)" "3,4,7,8,9" "a manual backup prunes too with backup.auto_prune"
reset
run carnet-contacts import --list A --mode replace b.csv
is "$(left)" "1,2,3,4,5,6,7,8,9" "without backup.auto_prune nothing is pruned"

# --- orphan files ------------------------------------------------------------------------------------
reset
prefix=$(basename "${f[1]}" | cut -c1-8)
old=backups/$prefix--default--A--20261101T000000Z-import-abcdef.ndjson.gz
fresh=backups/$prefix--default--A--20261101T000000Z-import-fedcba.ndjson.gz
tmp=backups/$prefix--default--A--20261101T000000Z-import-0a0b0c.ndjson.gz.tmp.Xy12Zw
foreign=backups/00000000--default--A--20261101T000000Z-import-abcdef.ndjson.gz
[ "$prefix" = 00000000 ] && foreign=backups/11111111--default--A--20261101T000000Z-import-abcdef.ndjson.gz
echo x | gzip >"$old"
cp "$old" "$fresh"
cp "$old" "$tmp"
cp "$old" "$foreign"
echo notes >backups/README
touch -d '2 days ago' "$old" "$tmp" "$foreign" backups/README
run carnet-backup prune --dry-run
like "$out" ",\(orphan file\),.*$old" "prune --dry-run lists an orphan file older than a day"
ok "$([ -e "$old" ]; echo $?)" "and leaves it"
is "$err" "carnet-backup: would remove 6 backups older than 30 days" "and counts it (and the temporary file)"
run carnet-backup prune
is "$status" 0 "prune exits 0"
ok "$([ ! -e "$old" ]; echo $?)" "an orphan file of this store older than a day is removed"
like "$out" "$old" "and listed"
ok "$([ -e "$fresh" ]; echo $?)" "a recent one is kept (an import may still be running)"
ok "$([ -e "$foreign" ]; echo $?)" "a file of another store is kept"
ok "$([ -e backups/README ]; echo $?)" "a file that is not a backup is kept"
# a backup being written when its import is killed stays as
# NAME.ndjson.gz.tmp.XXXXXX: an orphan too
ok "$([ ! -e "$tmp" ]; echo $?)" "an old temporary file left by a killed backup is removed"
is "$(left)" "3,4,7,8" "the records are pruned as before"

# --- usage ------------------------------------------------------------------------------------------
run carnet-backup prune --days -1
is "$status" 64 "--days -1 exits 64"
like "$err" "--days: expected a number of 0 or more, got '-1'" "and says why"
run carnet-backup prune --keep-last x
is "$status" 64 "--keep-last x exits 64"
run carnet-backup prune extra
is "$status" 64 "prune with an operand exits 64"
done_testing
