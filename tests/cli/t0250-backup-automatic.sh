#!/usr/bin/env bash
# Automatic backups: an import that changes a list and `carnet-contacts rm`
# take a backup of the list first (reason import / delete); a new list, an
# import that changes nothing, a dry run and a rejected replace take none
# (and leave no file); the backup file is gzip'd NDJSON, 0600, beside the
# store, with a header line and the list's rows as the export prints them,
# and its SHA-256 and size are recorded; the global switch (backup.enabled)
# and the per-list switch (carnet-backup config) stop automatic backups but
# not `create`; the backup directory follows --store, backup.dir and
# CARNET_BACKUP_DIR; a backup that cannot be written stops the import.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
BK=$T/backups
nfiles() { find "${1:-$BK}" -type f 2>/dev/null | wc -l; }
nbackups() { sql "SELECT count(*) FROM backup"; }

cat >clients.csv <<'EOF'
email,phone,first_name,last_name,city
alice@example.fr,06 12 34 56 78,Alice,Martin,Lyon
bob@example.com,0690 12 34 56,Bob,Durand,Pointe-à-Pitre
chloe@example.org,07 23 45 67 89,Chloé,"Petit, Jr",Paris
EOF

# --- a new list: no backup ---------------------------------------------------
run carnet-contacts import --list clients clients.csv
is "$status" 0 "the first import exits 0"
is "$out" "clients: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"a new list: the summary mentions no backup"
is "$(nbackups)" 0 "a new list gets no backup record"
is "$(nfiles)" 0 "and no backup file"

# --- an import that changes nothing: no backup ---------------------------------
run carnet-contacts import --list clients --mode replace clients.csv
is "$status" 0 "a replace by the same rows exits 0"
is "$out" "clients: 3 rows: 0 inserted, 0 updated, 3 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"nothing changed: no backup mentioned"
is "$(nbackups),$(nfiles)" "0,0" "an import that changes nothing takes no backup and leaves no file"

# --- a dry run: no backup --------------------------------------------------------
printf 'email,first_name\nalice@example.fr,Alice\ndan@example.net,Dan\n' >new.csv
run carnet-contacts import --list clients --mode replace --dry-run new.csv
like "$out" '^dry run: clients: 2 rows: 1 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 2 removed$' \
	"a dry run prints its counts, without a backup"
is "$(nbackups),$(nfiles)" "0,0" "a dry run takes no backup"

# --- a rejected replace changes nothing: its backup is discarded ---------------------
printf 'email,phone\nzoe@example.fr,not a phone\n' >bad.csv
run carnet-contacts import --list clients --mode replace bad.csv
is "$status" 65 "a replace with a rejected row exits 65"
unlike "$out" 'backup' "and mentions no backup"
is "$(nbackups)" 0 "a rejected replace keeps no backup record"
is "$(nfiles)" 0 "and removes the file it wrote"

# --- an accidental replace: a backup of the list is taken first ---------------------
carnet-contacts export --list clients >before.csv
carnet-contacts export --list clients --format ndjson >before.ndjson
run_in new.csv carnet-contacts import --list clients --mode replace
is "$status" 0 "the replace import exits 0"
is "$out" "clients: 2 rows: 1 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 2 removed; backup 1 taken first" \
	"the summary names the backup taken first"
is "$err" "" "nothing on stderr"
is "$(nbackups)" 1 "one backup record"
f=$(sql "SELECT file FROM backup WHERE id = 1")
is "$(dirname "$f")" "$BK" "the file is in 'backups' beside the store"
like "$(basename "$f")" '^[0-9a-f]{8}--default--clients--20261122T080000Z-import-[0-9a-f]{6}\.ndjson\.gz$' \
	"its name says store, folder, list, time and reason"
is "$(stat -c %a "$f")" 600 "the backup file has mode 0600"
is "$(stat -c %a "$BK")" 700 "the backup directory has mode 0700"
is "$(find "$BK" -name '*.tmp*' | wc -l)" 0 "no temporary file is left"
sha=$(sha256sum "$f" | cut -d' ' -f1)
size=$(stat -c %s "$f")

run carnet-backup ls
is "$status" 0 "carnet-backup ls exits 0"
is "$out" "id,folder,list,created,reason,rows,size,sha256,user,file
1,default,clients,2026-11-22T08:00:00Z,import,3,$size,$sha,tester,$f" \
	"ls: reason import, rows = the members before, size and sha256 of the file (sha256sum)"
is "$err" "" "ls writes nothing on stderr"

ok "$(gzip -t "$f" 2>/dev/null; echo $?)" "the file is valid gzip"
zcat "$f" >backup.ndjson
is "$(head -1 backup.ndjson | jq -c 'del(.list_id)')" \
	'{"carnet_backup":1,"schema_version":4,"folder":"default","list":"clients","fields":["city"],"reason":"import","rows":3,"created_at":"2026-11-22T08:00:00Z","user":"tester"}' \
	"zcat: the first line is the self-describing header"
like "$(head -1 backup.ndjson | jq -r .list_id)" "^[0-9a-f-]{36}$" "the header names the list's uuid"
is "$(sed 1d backup.ndjson | wc -l)" "$(head -1 backup.ndjson | jq .rows)" \
	"the header's row count is the number of rows that follow"
is "$(jq -c . backup.ndjson 2>&1 | wc -l)" 4 "every line is a JSON object (jq reads the whole file)"
is "$(sed 1d backup.ndjson)" "$(cat before.ndjson)" \
	"the rows are the list's NDJSON export at backup time"
is "$(sed 1d backup.ndjson | jq -c 'keys_unsorted' | sort -u)" '["id","email","phone","first_name","last_name","city"]' \
	"master data only: id, email, phone, names and attributes"

# --- an upsert that changes the list takes one too ----------------------------------
printf 'email,city\nalice@example.fr,Nantes\n' >up.csv
run carnet-contacts import --list clients up.csv
is "$out" "clients: 1 rows: 0 inserted, 1 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed; backup 2 taken first" \
	"an upsert that changes the list takes a backup"
is "$(sql "SELECT reason, rows FROM backup WHERE id = 2")" "import,2" "reason import, the two members before"
run carnet-contacts import --list clients up.csv
is "$(nbackups)" 2 "the same upsert again changes nothing and takes no backup"

# --- carnet-contacts rm ---------------------------------------------------------------
run carnet-contacts rm --list clients --dry-run
is "$(nbackups)" 2 "rm --dry-run takes no backup"
carnet-contacts export --list clients >before-rm.csv
run carnet-contacts rm --list clients
is "$status" 0 "rm exits 0"
is "$out" "removed list 'clients' (folder 'default'): 2 members, 2 contacts deleted; backup 3 taken first" \
	"rm names the backup taken before the list went"
is "$(sql "SELECT reason, rows, list FROM backup WHERE id = 3")" "delete,2,clients" \
	"reason delete, with the members the list had"
run carnet-backup export 3
is "$out" "$(cat before-rm.csv)" "the delete backup holds the list as it was"
is "$(nfiles)" 3 "three backup files"

# --- the global switch: backup.enabled: false ----------------------------------------
printf 'backup:\n  enabled: false\n' >off.yaml
chmod 600 off.yaml
carnet-contacts --config off.yaml import -q --list g clients.csv >/dev/null
run carnet-contacts --config off.yaml import --list g --mode replace new.csv
is "$status" 0 "with backup.enabled false, a replace exits 0"
is "$out" "g: 2 rows: 1 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 2 removed" \
	"and takes no backup"
run carnet-contacts --config off.yaml rm --list g
is "$out" "removed list 'g' (folder 'default'): 2 members, 2 contacts deleted" "rm takes none either"
is "$(nbackups),$(nfiles)" "3,3" "no record, no file"
carnet-contacts --config off.yaml import -q --list g clients.csv >/dev/null
run carnet-backup --config off.yaml create --list g
is "$status" 0 "create still works with backup.enabled false"
like "$out" "^backup 4 of list 'g' \(folder 'default'\): 3 rows, [0-9]+ bytes, sha256 [0-9a-f]{64}$" \
	"and says what it wrote"
is "$(sql "SELECT reason FROM backup WHERE id = 4")" manual "reason manual"
run carnet-backup --config off.yaml config --list g
is "$out" "list 'g' (folder 'default'): automatic backups on (but off for every list: backup.enabled is false)" \
	"config says the global switch wins"

# --- the per-list switch ------------------------------------------------------------------
carnet-contacts import -q --list p clients.csv >/dev/null
run carnet-backup config --list p --off
is "$status" 0 "config --off exits 0"
is "$out" "list 'p' (folder 'default'): automatic backups off" "and says so"
is "$(sql "SELECT backup FROM list WHERE name = 'p'")" 0 "the list's switch is off in the store"
like "$(carnet-contacts ls | grep ',p,')" '^default,p,3,false,' "carnet-contacts ls shows it off"
run carnet-contacts import --list p --mode replace new.csv
is "$out" "p: 2 rows: 1 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 2 removed" \
	"a replace of a list switched off takes no backup"
run carnet-restore 4 --into p --dry-run
is "$(nbackups)" 4 "(a dry run takes none either)"
run carnet-restore 4 --into p
is "$status" 0 "a restore into a list switched off exits 0"
unlike "$out" 'taken first' "and takes no backup"
run carnet-backup config --list p
is "$out" "list 'p' (folder 'default'): automatic backups off" "config without --on/--off shows the switch"
run carnet-backup create --list p
is "$status" 0 "create still works on a list switched off"
is "$(sql "SELECT list, reason FROM backup WHERE id = 5")" "p,manual" "and records a manual backup"
run carnet-backup config --list p --on
is "$out" "list 'p' (folder 'default'): automatic backups on" "config --on turns it back on"
run carnet-contacts import --list p --mode replace new.csv
like "$out" '; backup 6 taken first$' "and the next change takes a backup again"
run carnet-backup config --list nope --off
is "$status" 66 "config of a missing list exits 66"
is "$err" "carnet-backup: no list 'nope' in folder 'default'" "and names it"
run carnet-backup config --list nope
is "$status" 66 "showing the switch of a missing list exits 66 too"
run carnet-backup config --list p --on --off
is "$status" 64 "--on with --off is a usage error"
run carnet-backup config --off
is "$status" 64 "config without --list is a usage error"
like "$err" "config: --list NAME is required" "and says what is missing"

# --- where backups go ---------------------------------------------------------------------
mkdir -p other
run carnet-contacts --store "$T/other/s.db" import -q --list x clients.csv
run carnet-contacts --store "$T/other/s.db" rm --list x
like "$out" 'backup 1 taken first' "a store of its own numbers its own backups"
is "$(nfiles "$T/other/backups")" 1 "the backup directory follows --store"
printf 'backup:\n  dir: %s\n' "$T/elsewhere" >dir.yaml
chmod 600 dir.yaml
carnet-contacts import -q --list d clients.csv >/dev/null
run carnet-contacts --config dir.yaml rm --list d
is "$(nfiles "$T/elsewhere")" 1 "backup.dir in the configuration is used"
carnet-contacts import -q --list e clients.csv >/dev/null
CARNET_BACKUP_DIR=$T/env-dir carnet-contacts rm --list e >/dev/null
is "$(nfiles "$T/env-dir")" 1 "CARNET_BACKUP_DIR is used"

# --- a backup that cannot be written stops the change ------------------------------------
: >not-a-dir
printf 'backup:\n  dir: %s/not-a-dir/backups\n' "$T" >baddir.yaml
chmod 600 baddir.yaml
carnet-contacts import -q --list q clients.csv >/dev/null
before=$(store_sum)
run carnet-contacts --config baddir.yaml import --list q --mode replace new.csv
is "$status" 73 "no way to write the backup: the import exits 73"
like "$err" "not-a-dir.*cannot create" "and says where it could not write"
is "$out" "" "no summary"
is "$(store_sum)" "$before" "and the list is unchanged"
run carnet-backup --config baddir.yaml create --list q
is "$status" 73 "create exits 73 too"
done_testing
