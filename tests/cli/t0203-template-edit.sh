#!/usr/bin/env bash
# carnet-template edit: each property, the body from standard input (or
# not), the default of a context switching in one transaction (the other
# template's updated_at and sync mark too), scope changes and their users,
# bad edits that change nothing, --dry-run, unknown ids.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400
export TZ=UTC

tsql() { sqlite3 -batch -list "$STORE" "$1"; }
add() {
	printf '%s' "$1" >"$T/body"
	shift
	carnet-template add "$@" <"$T/body" >/dev/null
}
# edit BODY-OR-- ARGS...: runs edit with BODY on stdin ("-": /dev/null)
edit() {
	if [ "$1" = - ]; then
		shift
		run_in /dev/null carnet-template edit "$@"
	else
		printf '%s' "$1" >"$T/ebody"
		shift
		run_in "$T/ebody" carnet-template edit "$@"
	fi
}

add 'Bonjour {{first_name}}' --title A --context temp-worker --default
add 'Bonjour' --title B --context temp-worker
add 'Commun' --title C --context temp-worker --scope common --default
add 'Client' --title D --context client --default
add 'Perso' --title E --context temp-worker --scope users --users jk,sylvie
export CARNET_NOW=1795338000	# one hour later

# --- properties -----------------------------------------------------------------
edit - 2 --title 'B bis'
is "$status" 0 "edit --title exits 0"
is "$out" "" "edit prints nothing"
is "$err" "" "and nothing on stderr"
is "$(tsql "SELECT title, body, updated_at, created_at FROM template WHERE id = 2")" \
	"B bis|Bonjour|1795338000|1795334400" "the title changed, the body did not, updated_at moved, created_at did not"
is "$(sql "SELECT changed_at FROM sync_item WHERE uuid = (SELECT uuid FROM template WHERE id = 2)")" 1795338000 \
	"the sync mark moved too"
edit - 'B bis' --active=false
is "$(sql "SELECT active FROM template WHERE id = 2")" 0 "edit by title --active=false"
edit - 2 --active
is "$(sql "SELECT active FROM template WHERE id = 2")" 1 "--active switches it back on"
edit - 2 --inactive --context client --reply until:2026-12-24
is "$(tsql "SELECT active, context, reply_mode, reply_until FROM template WHERE id = 2")" \
	"0|client|until|1798156799" "several properties at once"
edit - 2 --context '' --reply none
is "$(tsql "SELECT context IS NULL, reply_mode, reply_until IS NULL FROM template WHERE id = 2")" \
	"1|none|1" "an empty --context removes it; --reply none clears the date"

# --- the body -----------------------------------------------------------------------
edit $'Salut {{first_name|toi}} !\n' 1
is "$status" 0 "a body on standard input replaces the body"
is "$(tsql "SELECT body FROM template WHERE id = 1")" "Salut {{first_name|toi}} !" "and is stored without its final line break"
edit '' 1 --title A2
is "$(tsql "SELECT title, body FROM template WHERE id = 1")" "A2|Salut {{first_name|toi}} !" \
	"an empty standard input keeps the body"
before=$(store_sum)
edit '' 1 --body-stdin
is "$status" 65 "--body-stdin with an empty input exits 65"
is "$err" "carnet-template: empty body" "and says so"
is "$(store_sum)" "$before" "and changes nothing"
edit 'Hello {{foo}}' 1
is "$status" 65 "a body with an unknown field exits 65"
like "$err" "unknown merge field 'foo' at line 1, column 7" "with its place"
is "$(store_sum)" "$before" "and changes nothing"
edit 'Hello {{first_name' 1 --title 'Whatever'
is "$status" 65 "an unclosed field exits 65"
is "$(store_sum)" "$before" "and the title did not change either"
edit - 1 --title "$(printf 'x%.0s' $(seq 51))"
is "$status" 65 "a 51-character title exits 65"
is "$err" "carnet-template: title is 51 characters long (at most 50)" "with the message"
is "$(store_sum)" "$before" "and changes nothing"
edit - 1 --title C
is "$status" 0 "a title used by a common template is fine in a folder"
edit - 1 --title 'B bis'
is "$status" 65 "a title used in the same folder is not"
is "$err" "carnet-template: title 'B bis' is already used in folder 'default' (template 2)" "and the message names it"

# --- the default of a context ----------------------------------------------------------
edit - 2 --context temp-worker --default
is "$status" 0 "edit --default exits 0"
is "$err" "carnet-template: template 1 is no longer the default for context 'temp-worker'" \
	"a note says which template stopped being the default"
is "$(tsql "SELECT id, is_default FROM template WHERE context = 'temp-worker' ORDER BY id")" \
	"$(printf '1|0\n2|1\n3|1\n5|0')" "template 2 is the folder's default, the common default (3) is kept"
export CARNET_NOW=1795341600
edit - 1 --default
is "$(tsql "SELECT id, is_default, updated_at FROM template WHERE id IN (1, 2) ORDER BY id")" \
	"$(printf '1|1|1795341600\n2|0|1795341600')" "switching back: the old default's updated_at moves too"
is "$(tsql "SELECT t.id, s.changed_at FROM template t JOIN sync_item s ON s.uuid = t.uuid WHERE t.id IN (1, 2) ORDER BY 1")" \
	"$(printf '1|1795341600\n2|1795341600')" "and both are marked for sync"
is "$(sql "SELECT count(*) FROM template WHERE is_default GROUP BY context, scope, coalesce(folder_id, 0) HAVING count(*) > 1")" "" \
	"never two defaults for one context, scope and folder"
edit - 5 --default
is "$(tsql "SELECT id FROM template WHERE is_default AND context = 'temp-worker' ORDER BY id")" \
	"$(printf '1\n3\n5')" "scopes folder, common and users each have their own default"
edit - 1 --default=false
is "$(sql "SELECT is_default FROM template WHERE id = 1")" 0 "--default=false clears it"
edit - 4 --context ''
is "$status" 64 "removing the context of a default exits 64"
is "$err" "carnet-template: a default template needs a context (the default of which context?)" "and says why"

# --- scope ------------------------------------------------------------------------------
edit - 5 --users 'anne'
is "$(tsql "SELECT u.name FROM template_user tu JOIN user u ON u.id = tu.user_id WHERE tu.template_id = 5")" anne \
	"--users replaces the list"
edit - 5 --scope folder
is "$status" 0 "scope users to folder exits 0"
is "$(tsql "SELECT scope, count(tu.user_id) FROM template t LEFT JOIN template_user tu ON tu.template_id = t.id WHERE t.id = 5")" \
	"folder|0" "the users are dropped"
edit - 5 --users jk
is "$status" 64 "--users on a folder template exits 64"
edit - 5 --scope users
is "$status" 64 "scope users without users exits 64"
is "$err" "carnet-template: scope users needs at least one user" "and says so"
edit - 5 --scope users --users 'jk'
is "$(tsql "SELECT scope, count(tu.user_id) FROM template t LEFT JOIN template_user tu ON tu.template_id = t.id WHERE t.id = 5")" \
	"users|1" "scope users with --users"
edit - 2 --scope common
is "$(tsql "SELECT folder_id IS NULL, scope FROM template WHERE id = 2")" "1|common" "to scope common"
edit - 2 --scope folder --folder agence
is "$(tsql "SELECT f.name, t.scope FROM template t JOIN folder f ON f.id = t.folder_id WHERE t.id = 2")" "agence|folder" \
	"--scope folder --folder moves it to that folder"
printf 'email,Ville\na@x.fr,Lyon\n' >"$T/c.csv"
carnet-contacts import --list l --folder lyon "$T/c.csv" >/dev/null
edit 'À {{Ville}}' 2 --scope folder --folder lyon
is "$status" 0 "a body with a field of the new folder's lists"
edit - 2 --scope folder --folder agence
is "$status" 65 "moving it where that field is unknown exits 65"
like "$err" "unknown merge field 'Ville'" "and says which field"

# --- dry run, errors ----------------------------------------------------------------------
before=$(store_sum)
edit 'Nouveau' 1 --title 'Dry' --default --dry-run
is "$status" 0 "edit --dry-run exits 0"
like "$err" "dry run: template 1 would be changed; nothing stored" "and says nothing was stored"
is "$(store_sum)" "$before" "and the store is unchanged"
edit - 1
is "$status" 64 "edit with nothing to change exits 64"
like "$err" "edit: nothing to change" "and says so"
edit - 99 --title x
is "$status" 66 "edit of an unknown id exits 66"
is "$err" "carnet-template: no template '99'" "and names it"
edit - --title x
is "$status" 64 "edit without an id exits 64"
is "$(store_sum)" "$before" "none of these changed the store"
done_testing
