#!/usr/bin/env bash
# carnet-restore ID: after an accidental `--mode replace` import, a restore
# in mode replace brings the list back exactly (the contacts the replace
# deleted come back with their ids); upsert ("refresh and add") never
# removes; add and update; --dry-run changes nothing and prints the counts,
# with --diff the rows as NDJSON; a restore takes a backup first (reason
# restore), which can undo it; --into another list, --folder another
# folder; a list deleted by rm comes back; the usage errors.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
nbackups() { sql "SELECT count(*) FROM backup"; }
members() { # members LIST: its emails, sorted
	carnet-contacts export --list "$1" --format ndjson | jq -r '.email // .phone' | sort | paste -sd' ' -
}

cat >clients.csv <<'EOF'
email,phone,first_name,last_name,city,code
alice@example.fr,06 12 34 56 78,Alice,Martin,Lyon,C001
bob@example.com,0690 12 34 56,Bob,Durand,Pointe-à-Pitre,
chloe@example.org,07 23 45 67 89,Chloé,"Petit, Jr",Paris,C003
,06 99 88 77 66,Dom,Sans-Mail,Metz,C004
emma@example.net,,Emma,Leroy,,C005
EOF
carnet-contacts import -q --list clients clients.csv >/dev/null
printf 'email,first_name\nbob@example.com,Bob\n' | carnet-contacts import -q --list vip >/dev/null
carnet-contacts export --list clients >before.csv
carnet-contacts export --list clients --format json >before.json
vip_before=$(carnet-contacts export --list vip)

# --- the accident: a replace by the wrong file -------------------------------------------
cat >wrong.csv <<'EOF'
email,first_name,city
alice@example.fr,Alicia,Nice
zoe@example.fr,Zoé,Brest
EOF
run carnet-contacts import --list clients --mode replace wrong.csv
is "$out" "clients: 2 rows: 1 inserted, 1 updated, 0 unchanged, 0 skipped, 0 rejected, 4 removed; backup 1 taken first" \
	"the accidental replace removed four members and took backup 1"
is "$(sql "SELECT count(*) FROM contact")" 3 "the removed contacts in no other list are gone from the store"
carnet-contacts export --list clients >accident.csv

# --- a dry run ---------------------------------------------------------------------------------
before=$(store_sum)
run carnet-restore 1 --mode replace --dry-run
is "$status" 0 "restore --dry-run exits 0"
is "$out" "dry run: backup 1 into list 'clients' (folder 'default'): 4 added, 1 updated, 0 unchanged, 1 removed, 0 skipped, 0 rejected" \
	"it prints what would change: added / updated / unchanged / removed"
is "$err" "" "and nothing on stderr"
is "$(store_sum)" "$before" "a dry run changes nothing"
is "$(nbackups)" 1 "and takes no backup"
run carnet-restore 1 --mode replace --dry-run --format json
is "$(printf '%s' "$out" | jq -c .)" \
	'{"restored":"backup 1","folder":"default","list":"clients","added":4,"updated":1,"unchanged":0,"removed":1,"skipped":0,"rejected":0,"dry_run":true,"backup":null}' \
	"--format json gives the counts as one object"
run carnet-restore 1 --mode replace --dry-run --diff
is "$status" 0 "--dry-run --diff exits 0"
is "$err" "dry run: backup 1 into list 'clients' (folder 'default'): 4 added, 1 updated, 0 unchanged, 1 removed, 0 skipped, 0 rejected" \
	"with --diff the counts go to stderr"
is "$(printf '%s\n' "$out" | jq -r '.change + " " + (.email // .phone)')" "update alice@example.fr
add bob@example.com
add chloe@example.org
add +33699887766
add emma@example.net
remove zoe@example.fr" "stdout: one NDJSON row per change, with change add / update / remove (Bob, still in vip, is added back)"
is "$(printf '%s\n' "$out" | jq -c 'select(.email == "alice@example.fr") | del(.change)')" \
	"$(jq -c '.[0]' before.json)" "an update row carries the backup's values"
is "$(printf '%s\n' "$out" | jq -r 'select(.change == "remove") | .id')" \
	"$(sed -n 3p accident.csv | cut -d, -f1)" "the remove row names the member that would go"
is "$(store_sum)" "$before" "--diff changes nothing either"
run carnet-restore 1 --mode upsert --dry-run --diff
is "$(printf '%s\n' "$out" | jq -r .change | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" "add:4 update:1 " \
	"upsert --diff: no remove row"

# --- the restore, mode replace: back exactly ----------------------------------------------------
run carnet-restore 1 --mode replace
is "$status" 0 "restore --mode replace exits 0"
is "$out" "backup 1 into list 'clients' (folder 'default'): 4 added, 1 updated, 0 unchanged, 1 removed, 0 skipped, 0 rejected; backup 2 taken first" \
	"it prints the counts and the backup it took first"
is "$err" "" "and nothing on stderr"
carnet-contacts export --list clients >after.csv
ok "$(cmp -s after.csv before.csv; echo $?)" "the list exports exactly as before the accident, ids included"
carnet-contacts export --list clients --format json >after.json
ok "$(cmp -s after.json before.json; echo $?)" "the JSON export too (attributes, empty fields)"
is "$(sql "SELECT count(*) FROM contact WHERE email = 'zoe@example.fr'")" 0 \
	"the contact the accident brought is gone (in no other list)"
is "$(carnet-contacts export --list vip)" "$vip_before" "the other list is as it was"
is "$(sqlite3 -batch -list "$STORE" "SELECT reason || ',' || rows || ',' || list FROM backup WHERE id = 2")" "restore,2,clients" \
	"the backup taken first has reason restore and the two members before"
run carnet-backup export 2
is "$out" "$(cat accident.csv)" "and holds the list as the accident left it"
run carnet-backup verify
is "$status" 0 "both backups verify"

# the backup taken first undoes the restore, and the restore redoes
run carnet-restore 2 --mode replace
is "$status" 0 "restoring the backup taken first exits 0"
carnet-contacts export --list clients >undo.csv
ok "$(cmp -s undo.csv accident.csv; echo $?)" "and undoes the restore exactly"
carnet-restore -q 1 --mode replace >/dev/null
carnet-contacts export --list clients >redo.csv
ok "$(cmp -s redo.csv before.csv; echo $?)" "restoring backup 1 again gives the list before the accident"
run carnet-restore 1 --mode replace
is "$out" "backup 1 into list 'clients' (folder 'default'): 0 added, 0 updated, 5 unchanged, 0 removed, 0 skipped, 0 rejected" \
	"a restore that changes nothing takes no backup"
n=$(nbackups)

# --- upsert ("refresh and add", the default) never removes ------------------------------------
cat >edit.csv <<'EOF'
email,city,code,note
alice@example.fr,Nantes,,late payer
frank@example.fr,Caen,C009,
EOF
carnet-contacts import -q --list clients edit.csv >/dev/null
run carnet-restore 1
is "$status" 0 "restore in the default mode exits 0"
is "$out" "backup 1 into list 'clients' (folder 'default'): 0 added, 1 updated, 4 unchanged, 0 removed, 0 skipped, 0 rejected; backup $((n + 2)) taken first" \
	"upsert: Alice refreshed, nothing removed"
is "$(members clients)" "+33699887766 alice@example.fr bob@example.com chloe@example.org emma@example.net frank@example.fr" \
	"the member added since is still there"
is "$(carnet-contacts export --list clients --format ndjson | jq -c 'select(.email == "alice@example.fr") | [.city, .code, .note]')" \
	'["Lyon","C001",null]' "the refreshed member has the backup's values exactly (an attribute added since is cleared)"

# --- add and update -------------------------------------------------------------------------------
carnet-contacts import -q --list clients --mode replace wrong.csv >/dev/null
run carnet-restore 1 --mode update
is "$out" "backup 1 into list 'clients' (folder 'default'): 0 added, 1 updated, 0 unchanged, 0 removed, 4 skipped, 0 rejected; backup $((n + 4)) taken first" \
	"update: only the members still in the list are refreshed"
is "$(members clients)" "alice@example.fr zoe@example.fr" "update adds no member"
carnet-contacts import -q --list clients --mode replace wrong.csv >/dev/null
run carnet-restore 1 --mode add
is "$out" "backup 1 into list 'clients' (folder 'default'): 4 added, 0 updated, 0 unchanged, 0 removed, 1 skipped, 0 rejected; backup $((n + 6)) taken first" \
	"add: the missing members come back, the others are left alone"
is "$(carnet-contacts export --list clients --format ndjson | jq -r 'select(.email == "alice@example.fr") | .first_name')" \
	"Alicia" "add does not change a member already there"
is "$(members clients)" "+33699887766 alice@example.fr bob@example.com chloe@example.org emma@example.net zoe@example.fr" \
	"and removes nobody"
is "$(carnet-contacts export --list clients | grep chloe | cut -d, -f1)" "$(grep chloe before.csv | cut -d, -f1)" \
	"a contact deleted since comes back with its id"

# --- --into another list ------------------------------------------------------------------------------
carnet-restore -q 1 --mode replace >/dev/null
n=$(nbackups)
run carnet-restore 1 --into clients-restored
is "$status" 0 "restore --into exits 0"
is "$out" "backup 1 into list 'clients-restored' (folder 'default'): 5 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 0 rejected" \
	"it creates the list (no backup: the list is new)"
is "$(nbackups)" "$n" "no backup taken"
carnet-contacts export --list clients-restored >copy.csv
ok "$(cmp -s copy.csv before.csv; echo $?)" "the copy exports as the list did, the same contacts"
ok "$(carnet-contacts export --list clients | cmp -s - before.csv; echo $?)" "the original list is untouched"

# --- --folder: into another folder -----------------------------------------------------------------------
run carnet-restore 1 --folder archive
is "$status" 0 "restore --folder archive exits 0"
is "$out" "backup 1 into list 'clients' (folder 'archive'): 5 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 0 rejected" \
	"into the list of the same name in that folder"
is "$(carnet-contacts export --folder archive --list clients | cut -d, -f2-)" "$(cut -d, -f2- before.csv)" \
	"with the same data"
is "$(carnet-contacts export --folder archive --list clients | sed 1d | cut -d, -f1 | grep -cxFf <(cut -d, -f1 before.csv))" 0 \
	"as contacts of that folder, with ids of their own"

# --- a list deleted by rm comes back ------------------------------------------------------------------------
carnet-contacts export --list clients-restored >copy-before-rm.csv
run carnet-contacts rm --list clients-restored
id=$(printf '%s\n' "$out" | sed -n 's/.*backup \([0-9]*\) taken first$/\1/p')
is "$(sql "SELECT reason FROM backup WHERE id = ${id:-0}")" delete "rm took a backup (reason delete)"
run carnet-restore "$id"
is "$status" 0 "restoring it exits 0"
is "$out" "backup $id into list 'clients-restored' (folder 'default'): 5 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 0 rejected" \
	"it recreates the list"
ok "$(carnet-contacts export --list clients-restored | cmp -s - copy-before-rm.csv; echo $?)" \
	"exactly as it was"
rm_all=$(carnet-backup ls --list clients --format json | jq length)
carnet-contacts rm -q --list clients >/dev/null
carnet-contacts rm -q --list clients-restored >/dev/null
carnet-contacts rm -q --list vip >/dev/null
is "$(sql "SELECT count(*) FROM contact c JOIN folder f ON f.id = c.folder_id WHERE f.name = 'default'")" 0 \
	"(every list of the folder deleted: no contact left)"
run carnet-restore 1
is "$status" 0 "a restore into a store where the contacts were deleted exits 0"
ok "$(carnet-contacts export --list clients | cmp -s - before.csv; echo $?)" \
	"the contacts come back with their ids"
is "$(carnet-backup ls --list clients --format json | jq length)" "$((rm_all + 1))" "(rm took one more backup)"

# --- typed attributes round-trip --------------------------------------------------------------------------------
printf '%s\n' '{"email":"a@x.fr","score":42,"vip":true,"tags":["x"],"addr":{"city":"Lyon"}}' \
	'{"phone":"0611111111","note":"a \"quoted\", multi\nline value"}' | carnet-contacts import -q --list typed >/dev/null
carnet-contacts export --list typed --format json >typed0.json
carnet-backup create --list typed >/dev/null
tid=$(sql "SELECT max(id) FROM backup")
printf '{"email":"a@x.fr","score":"42","vip":false}\n' | carnet-contacts import -q --list typed --mode replace >/dev/null
carnet-restore -q "$tid" --mode replace >/dev/null
ok "$(carnet-contacts export --list typed --format json | cmp -s - typed0.json; echo $?)" \
	"JSON attributes come back with their types"

# --- errors -----------------------------------------------------------------------------------------------------
run carnet-restore 999
is "$status" 66 "an unknown backup exits 66"
is "$err" "carnet-restore: no backup 999" "and says which"
run carnet-restore abc
is "$status" 64 "a bad id exits 64"
like "$err" "'abc' is not a backup id" "and says why"
run carnet-restore
is "$status" 64 "nothing to restore exits 64"
like "$err" "restore what\? a backup ID, --file FILE or --snapshot FILE" "and says what it wants"
run carnet-restore 1 --into nolist --mode update
is "$status" 66 "mode update into a list that does not exist exits 66"
like "$err" "no list 'nolist' in folder 'default'" "and names it"
is "$(sql "SELECT count(*) FROM list WHERE name = 'nolist'")" 0 "and creates nothing"
run carnet-restore 1 --diff
is "$status" 64 "--diff without --dry-run exits 64"
like "$err" "--diff goes with --dry-run" "and says so"
run carnet-restore 1 --mode merge
is "$status" 64 "an unknown mode exits 64"
like "$err" "unknown mode 'merge' \(add, update, upsert, replace\)" "and lists the modes"
run carnet-restore 1 2
is "$status" 64 "two ids exit 64"
run carnet-restore 1 --file x.csv --list clients
is "$status" 64 "an id and --file exit 64"
run carnet-restore --help
is "$status" 0 "--help exits 0"
like "$out" "carnet-restore --file edited.csv --list clients --map 'Mobile=phone' --mode upsert" "with the examples"
run carnet restore 999
is "$status" 66 "carnet restore passes the exit status through"
done_testing
