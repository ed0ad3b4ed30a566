#!/usr/bin/env bash
# carnet-template add: the issue's example, what the store holds (times,
# uuid, creator, sync mark), the body as read (trailing line breaks, CRLF),
# every option (context, scope common/folder/users, reply handling, active),
# --format, --dry-run, and the dispatcher.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
export TZ=UTC

# tsql QUERY: like sql, columns separated by '|', nothing quoted
tsql() { sqlite3 -batch -list "$STORE" "$1"; }

# add BODY ARGS...: runs carnet-template add with BODY on standard input
add() {
	printf '%s' "$1" >"$T/body"
	shift
	run_in "$T/body" carnet-template add "$@"
}

# --- the issue's example ----------------------------------------------------
printf 'Bonjour {{first_name}}, une mission vous attend le {{date}}.\n' >"$T/body.txt"
run_in "$T/body.txt" carnet-template add --title 'Relance mission' --context temp-worker --scope folder
is "$status" 0 "the issue's example exits 0"
is "$out" 1 "it prints the new id"
is "$err" "" "and nothing on stderr"
is "$(tsql "SELECT t.title, t.body, t.context, t.scope, f.name, t.active, t.is_default, t.reply_mode FROM template t JOIN folder f ON f.id = t.folder_id")" \
	'Relance mission|Bonjour {{first_name}}, une mission vous attend le {{date}}.|temp-worker|folder|default|1|0|none' \
	"the store holds the title, the body without its final line break, context, scope, folder, flags"
is "$(sql "SELECT created_at, updated_at FROM template WHERE id = 1")" "1795334400,1795334400" \
	"created_at and updated_at are the time of the change"
is "$(sql "SELECT u.name FROM template t JOIN user u ON u.id = t.created_by")" tester \
	"created_by is the acting user (\$USER)"
uuid=$(sql "SELECT uuid FROM template WHERE id = 1")
like "$uuid" '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "the template has a UUIDv7"
is "$(sql "SELECT kind, uuid = '$uuid', state, changed_at, deleted FROM sync_item")" \
	"template,1,pending,1795334400,0" "and a pending sync mark"

# --- the body as read -----------------------------------------------------------
add $'Ligne 1\r\nLigne 2\r\n\r\n\n' --title crlf
is "$status" 0 "a CRLF body is accepted"
is "$(sql "SELECT hex(body) FROM template WHERE title = 'crlf'")" \
	"$(printf 'Ligne 1\nLigne 2' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
	"CRLF becomes LF and trailing line breaks are removed"
add $'  spaces kept  \t' --title spaces
is "$(tsql "SELECT '[' || body || ']' FROM template WHERE title = 'spaces'")" \
	"$(printf '[  spaces kept  \t]')" "other white space is kept exactly"
add $'\n\nA\n\nB' --title inner
is "$(sql "SELECT hex(body) FROM template WHERE title = 'inner'")" "0A0A410A0A42" \
	"leading and inner line breaks are kept"
add 'Tête-à-tête ç ô € 😀' --title unicode
is "$(tsql "SELECT body FROM template WHERE title = 'unicode'")" 'Tête-à-tête ç ô € 😀' \
	"non-ASCII characters are stored as given (never changed)"

# --- options --------------------------------------------------------------------
add 'Commun' --title commun --scope common --context client
is "$status" 0 "scope common is accepted"
is "$(sql "SELECT folder_id IS NULL, scope FROM template WHERE title = 'commun'")" "1,common" \
	"a common template has no folder"

add 'Pour JK et Sylvie' --title perso --scope users --users 'jk, sylvie' --folder agence
is "$status" 0 "scope users with --users is accepted"
is "$(sql "SELECT u.name FROM template_user tu JOIN user u ON u.id = tu.user_id JOIN template t ON t.id = tu.template_id WHERE t.title = 'perso' ORDER BY 1")" \
	"$(printf 'jk\nsylvie')" "the listed users are stored (trimmed)"
is "$(sql "SELECT f.name, t.scope FROM template t JOIN folder f ON f.id = t.folder_id WHERE t.title = 'perso'")" \
	"agence,users" "a users template lives in the --folder (created)"

add 'Off' --title off --inactive
is "$(sql "SELECT active FROM template WHERE title = 'off'")" 0 "--inactive stores an inactive template"
add 'Off2' --title off2 --active=false
is "$(sql "SELECT active FROM template WHERE title = 'off2'")" 0 "--active=false too"
add 'On' --title on --active
is "$(sql "SELECT active FROM template WHERE title = 'on'")" 1 "--active stores an active one"

add 'R1' --title r1 --reply hours:48
is "$(sql "SELECT reply_mode, reply_hours, reply_until IS NULL FROM template WHERE title = 'r1'")" \
	"hours,48,1" "--reply hours:48"
add 'R2' --title r2 --reply until:2026-12-01
is "$(sql "SELECT reply_mode, reply_hours IS NULL, reply_until FROM template WHERE title = 'r2'")" \
	"until,1,1796169599" "--reply until:DATE is the end of that day (here UTC)"
add 'R3' --title r3 --reply until:2026-12-01T18:00:00+01:00
is "$(sql "SELECT reply_until FROM template WHERE title = 'r3'")" 1796144400 \
	"--reply until:DATETIME with an offset"
TZ=Europe/Paris add 'R4' --title r4 --reply until:2026-12-01T18:00
is "$(sql "SELECT reply_until FROM template WHERE title = 'r4'")" 1796144400 \
	"a date and time without an offset is local time (TZ)"
add 'R5' --title r5 --reply until
is "$(sql "SELECT reply_mode, reply_until IS NULL FROM template WHERE title = 'r5'")" "until,1" \
	"--reply until: the date is given when sending"

add 'D' --title d1 --context client --default
is "$status" 0 "--default with a context is accepted"
is "$(sql "SELECT is_default FROM template WHERE title = 'd1'")" 1 "and stored"

# --- --format -------------------------------------------------------------------
add 'Hello {{first_name|you}}' --title json --format json --context x
is "$status" 0 "add --format json exits 0"
is "$(printf '%s' "$out" | jq -c '[.id, .title, .context, .active, .default, .scope, .reply, .body, .folder]')" \
	'[17,"json","x",true,false,"folder","none","Hello {{first_name|you}}","default"]' \
	"it prints the new template as one JSON object"

# --- --dry-run ------------------------------------------------------------------
before=$(store_sum)
add 'Dry' --title dry --dry-run
is "$status" 0 "add --dry-run exits 0"
is "$out" "" "it prints no id"
like "$err" "dry run: template 'dry' is valid; nothing stored" "it says nothing was stored"
is "$(store_sum)" "$before" "and the store is unchanged"
add 'Dry {{nope}}' --title dry --dry-run
is "$status" 65 "add --dry-run still checks the body"

# --- the dispatcher ---------------------------------------------------------------
printf 'Via carnet' >"$T/b"
run_in "$T/b" carnet template add --title dispatcher
is "$status" 0 "carnet template add exits 0"
is "$out" 18 "and prints the id"
is "$(sql "SELECT count(*) FROM template")" 18 "18 templates in all"
done_testing
