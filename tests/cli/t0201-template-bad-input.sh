#!/usr/bin/env bash
# carnet-template add refuses bad input and stores nothing: a title of 51
# characters (not bytes), unknown merge fields with their line and column,
# unbalanced braces, empty names, an empty body, invalid UTF-8, duplicate
# titles, contradictory options; which attribute fields are known.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400
export TZ=UTC

tsql() { sqlite3 -batch -list "$STORE" "$1"; }
add() {
	printf '%s' "$1" >"$T/body"
	shift
	run_in "$T/body" carnet-template add "$@"
}
# refused STATUS MESSAGE NAME BODY ARGS...: add fails with STATUS, says
# MESSAGE (exactly, after "carnet-template: ") and changes nothing
refused() {
	local want=$1 msg=$2 name=$3 before
	shift 3
	before=$(store_sum)
	add "$@"
	is "$status" "$want" "$name: exit $want"
	is "$err" "carnet-template: $msg" "$name: the message"
	is "$out" "" "$name: nothing on stdout"
	is "$(store_sum)" "$before" "$name: nothing stored"
}

add 'first' --title first
is "$status" 0 "a first template (the store exists)"

# --- titles -----------------------------------------------------------------------
t50=$(printf 'é%.0s' $(seq 50))
t51=$(printf 'é%.0s' $(seq 51))
refused 65 "title is 51 characters long (at most 50)" "51 accented characters" 'x' --title "$t51"
refused 65 "title is 51 characters long (at most 50)" "51 ASCII characters" 'x' --title "$(printf 'a%.0s' $(seq 51))"
add 'x' --title "$t50"
is "$status" 0 "50 accented characters (100 bytes) are accepted"
is "$(sql "SELECT length(title), length(CAST(title AS BLOB)) FROM template WHERE id = 2")" "50,100" \
	"the title is stored whole"
refused 65 "empty title" "an empty title" 'x' --title ''
refused 65 "title holds a line break or a control character" "a title on two lines" 'x' --title $'a\nb'
refused 65 "title 'first' is already used in folder 'default' (template 1)" "a duplicate title" 'x' --title first
add 'x' --title first --folder other
is "$status" 0 "the same title in another folder is accepted"
add 'x' --title first --scope common
is "$status" 0 "and among the common templates"
refused 65 "title 'first' is already used by a common template (template 4)" "a duplicate common title" \
	'y' --title first --scope common
refused 64 "add: --title TITLE is required
Try 'carnet-template --help' for more information." "no --title" 'x'

# --- merge fields -------------------------------------------------------------------
refused 65 "unknown merge field 'foo' at line 1, column 12 (known: first_name, last_name, phone, email, sender, date)" \
	"an unknown merge field" 'Hello, you {{foo}}' --title t
refused 65 "unknown merge field 'Prénom' at line 3, column 9 (known: first_name, last_name, phone, email, sender, date)" \
	"an unknown field on line 3, columns in characters" $'Line 1\nLine 2\nBonjour {{ Prénom }}' --title t
refused 65 "unclosed '{{' at line 1, column 9" "an unclosed field" 'Bonjour {{first_name, ça va ?' --title t
refused 65 "unclosed '{{' at line 1, column 4" "a field cut by a line break" $'Hi {{first\n_name}}' --title t
refused 65 "unmatched '}}' at line 2, column 14" "a '}}' that closes nothing" $'ok\nBonjour first}} !' --title t
refused 65 "empty merge field name at line 1, column 7" "an empty field name" 'Hello {{ }}' --title t
refused 65 "empty merge field name at line 1, column 1" "a default without a name" '{{|toi}}' --title t
refused 65 "'{' inside a merge field at line 1, column 3" "triple braces" '{{{first_name}}}' --title t
refused 65 "empty body" "an empty body" '' --title t
refused 65 "empty body" "a body of line breaks only" $'\n\n' --title t
printf 'Caf\xe9 {{first_name}}' >"$T/latin1"
before=$(store_sum)
run_in "$T/latin1" carnet-template add --title latin1
is "$status" 65 "a Latin-1 body is refused"
is "$err" "carnet-template: invalid UTF-8 at line 1, column 4" "with the place of the bad byte"
is "$(store_sum)" "$before" "and nothing is stored"

add 'Escaped {{{{first_name}}}} and }}}} and { }' --title escapes
is "$status" 0 "escaped braces and single braces are accepted"
add '{{first_name}} {{last_name}} {{phone}} {{email}} {{sender}} {{date}} {{first_name|toi}}' --title core
is "$status" 0 "core and send-time fields are known"

# attributes: the attribute columns of the lists of the folder
printf 'email,Ville,Code client\na@x.fr,Lyon,C1\n' >"$T/c.csv"
carnet-contacts import --list clients "$T/c.csv" >/dev/null
printf 'email,Agence\nb@x.fr,Nord\n' >"$T/o.csv"
carnet-contacts import --list autres --folder other "$T/o.csv" >/dev/null
add 'À {{Ville}}, code {{ Code client }}' --title attrs
is "$status" 0 "attribute columns of the folder's lists are known"
refused 65 "unknown merge field 'Agence' at line 1, column 1 (known: first_name, last_name, phone, email, sender, date, Code client, Ville)" \
	"an attribute of another folder's list is unknown" '{{Agence}}' --title t
add '{{Agence}}' --title agence --folder other
is "$status" 0 "but known in that folder"
add '{{Agence}} {{Ville}}' --title agence-common --scope common
is "$status" 0 "a common template knows the attributes of every folder"
refused 65 "unknown merge field 'ville' at line 1, column 1 (known: first_name, last_name, phone, email, sender, date, Code client, Ville)" \
	"attribute names are compared exactly" '{{ville}}' --title t

# --- options ------------------------------------------------------------------------
refused 64 "scope users needs at least one user" "scope users without --users" 'x' --title t --scope users
refused 64 "users are listed only for scope users (this template's scope is folder)" \
	"--users without scope users" 'x' --title t --users jk
refused 64 "--users: no user named
Try 'carnet-template --help' for more information." "--users with no name" 'x' --title t --scope users --users ' , '
refused 64 "a default template needs a context (the default of which context?)" "--default without a context" 'x' --title t --default
refused 64 "unknown scope 'user' (common, folder, users)
Try 'carnet-template --help' for more information." "an unknown scope" 'x' --title t --scope user
refused 64 "invalid reply handling 'hours:0': hours must be a whole number from 1 to 8760
Try 'carnet-template --help' for more information." "--reply hours:0" 'x' --title t --reply hours:0
refused 64 "invalid reply handling 'until:2026-02-30': expected an ISO 8601 date (2026-12-01) or date and time (2026-12-01T18:00, with Z or an offset for UTC)
Try 'carnet-template --help' for more information." "--reply with a bad date" 'x' --title t --reply until:2026-02-30
refused 64 "invalid reply handling 'sometimes' (none, hours:N, until, until:DATE)
Try 'carnet-template --help' for more information." "an unknown reply mode" 'x' --title t --reply sometimes
refused 64 "--active: expected true or false, got 'maybe'
Try 'carnet-template --help' for more information." "--active=maybe" 'x' --title t --active=maybe
refused 64 "add: --sender does not apply
Try 'carnet-template --help' for more information." "an option of another command" 'x' --title t --sender ACME
refused 64 "add: unexpected argument 'body.txt' (the body is read from standard input)
Try 'carnet-template --help' for more information." "a body file as an operand" 'x' --title t body.txt
context101=$(printf 'c%.0s' $(seq 101))
refused 65 "context is 101 characters long (at most 100)" "a context of 101 characters" 'x' --title t --context "$context101"

run carnet-template
is "$status" 64 "no command: exit 64"
like "$err" "no command \(add, ls, show, edit, rm, render, import, export\)" "and the commands are listed"
run carnet-template frobnicate
is "$status" 64 "an unknown command: exit 64"
like "$err" "unknown command 'frobnicate'" "and it is named"
run carnet-template ls --title x
is "$status" 64 "ls --title: exit 64"
like "$err" "ls: --title does not apply" "and it says so"
run carnet-template --bogus ls
is "$status" 64 "an unknown option: exit 64"
is "$(sql "SELECT count(*) FROM template")" 9 "nine templates were stored in all"
done_testing
