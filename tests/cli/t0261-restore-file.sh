#!/usr/bin/env bash
# carnet-restore --file: a backup exported to CSV, edited in a spreadsheet
# (a column renamed, semicolons, rows changed, removed and added), restored
# with --map 'Mobile=phone' --mode upsert: rows match a contact on id,
# else email, else phone; a backup of the list is taken first; --map-file,
# '-' for stdin, --dry-run, mode replace, rejected rows, and the errors.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
id_in() { # id_in LIST FIRST-NAME: the id of that member, as exported
	carnet-contacts export --list "$1" --format ndjson | jq -r --arg n "$2" 'select(.first_name == $n) | .id'
}

cat >clients.csv <<'EOF'
email,phone,first_name,last_name,city
alice@example.fr,06 12 34 56 78,Alice,Martin,Lyon
bob@example.com,06 80 12 34 56,Bob,Durand,Metz
chloe@example.org,07 23 45 67 89,Chloé,Petit,Paris
,06 99 88 77 66,Dom,Sans-Mail,Nice
EOF
carnet-contacts import -q --list clients clients.csv >/dev/null
carnet-contacts import -q --list all clients.csv >/dev/null	# keeps the contacts in the store
printf 'email\nalice@example.fr\n' | carnet-contacts import -q --list clients --mode replace >/dev/null
is "$(sql "SELECT count(*) FROM backup")" 1 "the accidental replace took backup 1"

# the backup, exported for a spreadsheet and edited there
carnet-backup export 1 --delimiter ';' >exported.csv
alice=$(grep alice exported.csv | cut -d';' -f1)
bob=$(grep bob exported.csv | cut -d';' -f1)
dom=$(grep Dom exported.csv | cut -d';' -f1)
{
	echo 'id;email;Mobile;first_name;last_name;city'
	echo "$alice;alice.martin@example.fr;+33612345678;Alice;Martin;Lyon"	# new email, matched on id
	echo ';bob@example.com;+33680123456;Bob;Durand;Metz'	# no id: matched on email
	echo ';;06 99 88 77 66;Dom;Sans-Mail;Nice'	# no id, no email: on phone
	echo ';gina@example.fr;06 55 44 33 22;Gina;Neuve;Caen'	# a new contact
} >edited.csv	# Chloé's row was deleted

before=$(store_sum)
run carnet-restore --file edited.csv --list clients --map 'Mobile=phone' --mode upsert --dry-run
is "$status" 0 "--file --dry-run exits 0"
is "$out" "dry run: edited.csv into list 'clients' (folder 'default'): 3 added, 1 updated, 0 unchanged, 0 removed, 0 skipped, 0 rejected" \
	"it prints the counts"
is "$(store_sum)" "$before" "and changes nothing"

run carnet-restore --file edited.csv --list clients --map 'Mobile=phone' --mode upsert
is "$status" 0 "the issue's --file example exits 0"
is "$out" "edited.csv into list 'clients' (folder 'default'): 3 added, 1 updated, 0 unchanged, 0 removed, 0 skipped, 0 rejected; backup 2 taken first" \
	"it takes a backup first and prints the counts"
is "$err" "" "nothing on stderr"
is "$(sqlite3 -batch -list "$STORE" "SELECT reason || ',' || rows FROM backup WHERE id = 2")" "restore,1" \
	"the backup has reason restore and the one member before"
is "$(id_in clients Alice)" "$alice" "a row with an id updates that contact"
is "$(carnet-contacts export --list all --format ndjson | jq -r 'select(.first_name == "Alice") | .email')" \
	"alice.martin@example.fr" "email included (the contact is the same in every list)"
is "$(id_in clients Bob)" "$bob" "a row without id matches the contact with its email"
is "$(id_in clients Dom)" "$dom" "a row without id or email matches on the phone"
is "$(sql "SELECT count(*) FROM contact")" 5 "only Gina is a new contact"
is "$(carnet-contacts export --list clients | cut -d, -f2- | sort)" "$(printf '%s\n' \
	',+33699887766,Dom,Sans-Mail,Nice' \
	'alice.martin@example.fr,+33612345678,Alice,Martin,Lyon' \
	'bob@example.com,+33680123456,Bob,Durand,Metz' \
	'email,phone,first_name,last_name,city' \
	'gina@example.fr,+33655443322,Gina,Neuve,Caen')" "the list holds the edited rows"

# --- the same through --map-file and stdin ----------------------------------------------------
printf 'email\nalice.martin@example.fr\n' | carnet-contacts import -q --list clients --mode replace >/dev/null
printf 'Mobile: phone\n' >map.yaml
run_in edited.csv carnet-restore --file - --list clients --map-file map.yaml --delimiter ';'
is "$status" 0 "--file - --map-file --delimiter exits 0"
like "$out" "^(-|<stdin>) into list 'clients' \(folder 'default'\): 3 added, 0 updated, 1 unchanged, 0 removed, 0 skipped, 0 rejected; backup [0-9]+ taken first$" \
	"standard input is restored the same way (the default mode is upsert)"

# --- mode replace from a file -----------------------------------------------------------------
head -3 edited.csv >two.csv
run carnet-restore --file two.csv --list clients --map 'Mobile=phone' --mode replace
is "$out" "two.csv into list 'clients' (folder 'default'): 0 added, 0 updated, 2 unchanged, 2 removed, 0 skipped, 0 rejected; backup $(($(sql "SELECT max(id) FROM backup"))) taken first" \
	"--mode replace: the list becomes exactly the file"
is "$(carnet-contacts export --list clients --format ndjson | jq -r .email | sort | paste -sd' ' -)" \
	"alice.martin@example.fr bob@example.com" "with only its rows"

# --- a row that matches nothing it could: rejected ---------------------------------------------
printf 'id,email,phone,first_name\n,,,Nobody\n,hana@example.fr,,Hana\n' >bad.csv
run carnet-restore --file bad.csv --list clients
is "$status" 65 "a row without id, email or phone: exit 65"
like "$err" "bad.csv:2: no id, email or phone to match a contact on" "with the line and the reason"
like "$out" "1 added, 0 updated, 0 unchanged, 0 removed, 0 skipped, 1 rejected" "the other rows are restored (upsert)"
printf 'id,email\nnot-a-uuid,ivy@example.fr\n' >badid.csv
run carnet-restore --file badid.csv --list clients
is "$status" 65 "an invalid id: exit 65"
like "$err" "badid.csv:2: invalid id" "and says so"

# --- errors --------------------------------------------------------------------------------------
before=$(store_sum)
run carnet-restore --file missing.csv --list clients
is "$status" 66 "a missing file exits 66"
like "$err" "^carnet-restore: missing.csv: cannot open" "and names it"
run carnet-restore --file edited.csv
is "$status" 64 "--file without --list exits 64"
like "$err" "--file: --list NAME is required" "and says so"
run carnet-restore --file edited.csv --list clients --map 'Mobile=phone' --map-file map.yaml
is "$status" 64 "--map with --map-file exits 64"
run carnet-restore --file edited.csv --list clients --map 'Nope=phone'
is "$status" 64 "a map naming a column the file lacks exits 64"
run carnet-restore --file edited.csv --list clients --delimiter ab
is "$status" 64 "a bad delimiter exits 64"
: >empty.csv
run carnet-restore --file empty.csv --list clients
is "$status" 66 "an empty file exits 66"
is "$(store_sum)" "$before" "none of these changed anything"
done_testing
