#!/usr/bin/env bash
# rm: deletes the list, its memberships and the contacts in no other list,
# keeps the shared ones; --dry-run changes nothing and prints the same
# counts; a missing list exits 66 unless --force; --format json.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1

printf 'email\na@x.fr\nb@x.fr\nc@x.fr\n' >old.csv
printf 'email\nc@x.fr\nd@x.fr\n' >keep.csv
carnet-contacts import -q --list old-leads old.csv >/dev/null
carnet-contacts import -q --list keep keep.csv >/dev/null
carnet-contacts import -q --list old-leads --folder other old.csv >/dev/null
keep_export=$(carnet-contacts export --list keep)

# --- --dry-run ------------------------------------------------------------------------------
base=$(store_sum)
run carnet-contacts rm --list old-leads --dry-run
is "$status" 0 "rm --dry-run exits 0"
is "$out" "would remove list 'old-leads' (folder 'default'): 3 members, 2 contacts deleted" \
	"rm --dry-run says what it would do"
is "$err" "" "and nothing on stderr"
is "$(store_sum)" "$base" "rm --dry-run changes nothing"
run carnet-contacts rm --list old-leads -n --format json
is "$(printf '%s' "$out" | jq -c 'del(.backup)')" \
	'{"folder":"default","list":"old-leads","members":3,"contacts_deleted":2,"dry_run":true}' \
	"rm --dry-run --format json"
is "$(store_sum)" "$base" "still nothing changed"

# --- rm ---------------------------------------------------------------------------------------
run carnet-contacts rm --list old-leads
is "$status" 0 "rm exits 0"
is "$out" "removed list 'old-leads' (folder 'default'): 3 members, 2 contacts deleted" \
	"rm prints the counts the dry run printed"
is "$err" "" "and nothing on stderr"
is "$(sql "SELECT count(*) FROM list l JOIN folder f ON f.id = l.folder_id WHERE l.name = 'old-leads' AND f.name = 'default'")" 0 \
	"the list is gone"
is "$(sql_raw "SELECT group_concat(email, ' ') FROM (SELECT c.email FROM contact c JOIN folder f ON f.id = c.folder_id WHERE f.name = 'default' ORDER BY c.id)")" \
	"c@x.fr d@x.fr" "contacts in no other list are deleted, the shared one is kept"
is "$(sql "SELECT count(*) FROM member WHERE list_id NOT IN (SELECT id FROM list) OR contact_id NOT IN (SELECT id FROM contact)")" 0 \
	"no membership is left behind"
is "$(carnet-contacts export --list keep)" "$keep_export" "the other list is untouched, shared contact included"
is "$(export_noid old-leads --folder other | sed 1d | wc -l)" 3 "the list of the same name in another folder is untouched"
is "$(sql "PRAGMA foreign_key_check")" "" "no dangling reference"

# --- a missing list ------------------------------------------------------------------------------
base=$(store_sum)
run carnet-contacts rm --list old-leads
is "$status" 66 "rm of a missing list exits 66"
is "$err" "carnet-contacts: no list 'old-leads' in folder 'default'" "and says which list in which folder"
is "$out" "" "and prints nothing on stdout"
run carnet-contacts rm --list old-leads --force
is "$status" 0 "rm --force of a missing list exits 0"
is "$out$err" "" "and prints nothing"
run carnet-contacts rm --list old-leads -f --format json
is "$status" 0 "rm -f --format json of a missing list exits 0"
is "$(store_sum)" "$base" "and changes nothing"
run carnet-contacts rm --list old-leads --dry-run
is "$status" 66 "rm --dry-run of a missing list exits 66 too"
run carnet-contacts rm
is "$status" 64 "rm without --list exits 64"

# --- --format json ----------------------------------------------------------------------------------
run carnet-contacts rm --list old-leads --folder other --format json
is "$status" 0 "rm --format json exits 0"
is "$(printf '%s' "$out" | jq -c 'del(.backup)')" \
	'{"folder":"other","list":"old-leads","members":3,"contacts_deleted":3,"dry_run":false}' \
	"rm --format json: one object with the documented keys"
is "$(printf '%s' "$out" | jq -r '[.members, .contacts_deleted, .dry_run] | map(type) | join(",")')" \
	"number,number,boolean" "with numbers and a boolean"
is "$(sql "SELECT count(*) FROM contact c JOIN folder f ON f.id = c.folder_id WHERE f.name = 'other'")" 0 \
	"every contact of that list is deleted"

# --- an empty list; through the dispatcher -----------------------------------------------------------
printf 'email\n' >header.csv
carnet-contacts import -q --list empty header.csv >/dev/null
run carnet contacts rm --list empty
is "$status" 0 "carnet contacts rm"
is "$out" "removed list 'empty' (folder 'default'): 0 members, 0 contacts deleted" "an empty list"
run carnet-contacts ls
is "$(printf '%s\n' "$out" | cut -d, -f1-3)" "$(printf '%s\n' 'folder,list,members' 'default,keep,2')" \
	"ls shows only the list that is left"
done_testing
