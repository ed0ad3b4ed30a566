#!/usr/bin/env bash
# carnet-template ls and show: columns, order, filters (context, active,
# folder, user), encoding and segments of the body as written at the
# 160/161 and 70/71 boundaries, formats; show by id, UUID and title, with
# the configured sender's STOP mention; unknown and ambiguous names.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400
export TZ=UTC

add() {
	printf '%s' "$1" >"$T/body"
	shift
	carnet-template add "$@" <"$T/body" >/dev/null
}
rep() { printf "$1%.0s" $(seq "$2"); }	# rep STRING N

add 'Bonjour {{first_name}}, mission le {{date}}.' --title 'Relance mission' --context temp-worker
add 'Rappel : à bientôt, fenêtre ouverte' --title Rappel --context client --scope common
add "$(rep a 161)" --title Long --context temp-worker --inactive
add 'Bonjour {{first_name}}, rappel pour demain ?' --title Perso --context client --scope users --users jk --reply hours:48 --default
add 'Agence {{first_name}}' --title Agence --context client --folder other
add "$(rep a 160)" --title g160
add "$(rep ê 70)" --title u70
add "$(rep ê 71)" --title u71
add "$(rep '€' 80)" --title euro80
add "$(rep '€' 81)" --title euro81
add "$(rep a 306)" --title g306
add "$(rep a 307)" --title g307
add "$(rep 😀 35)" --title emoji35
add "$(rep 😀 36)" --title emoji36
add 'Sans contexte' --title none --reply until:2026-12-01T18:00:00Z

# --- ls ---------------------------------------------------------------------------
run carnet-template ls
is "$status" 0 "ls exits 0"
is "$err" "" "ls writes nothing on stderr"
want=$(cat <<'EOF'
id,folder,title,context,active,default,scope,reply,encoding,segments
13,default,emoji35,,true,false,folder,none,ucs2,1
14,default,emoji36,,true,false,folder,none,ucs2,2
9,default,euro80,,true,false,folder,none,gsm7,1
10,default,euro81,,true,false,folder,none,gsm7,2
6,default,g160,,true,false,folder,none,gsm7,1
11,default,g306,,true,false,folder,none,gsm7,2
12,default,g307,,true,false,folder,none,gsm7,3
15,default,none,,true,false,folder,until:2026-12-01T18:00:00Z,gsm7,1
7,default,u70,,true,false,folder,none,ucs2,1
8,default,u71,,true,false,folder,none,ucs2,2
5,other,Agence,client,true,false,folder,none,gsm7,1
4,default,Perso,client,true,true,users,hours:48,gsm7,1
2,,Rappel,client,true,false,common,none,ucs2,1
3,default,Long,temp-worker,false,false,folder,none,gsm7,2
1,default,Relance mission,temp-worker,true,false,folder,none,gsm7,1
EOF
)
is "$out" "$want" "ls: every template by context then title, with encoding and segments as written (CSV off a terminal)"

run carnet-template ls --context client
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 5 4 2 " "ls --context client"
run carnet-template ls --context temp-worker --active
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 1 " "ls --active leaves out the inactive template"
run carnet-template ls --inactive
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 3 " "ls --inactive shows only it"
run carnet-template ls --active=false
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 3 " "ls --active=false too"
run carnet-template ls --folder other --context client
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 5 2 " "ls --folder: that folder's templates and the common ones"
run carnet-template ls --folder nowhere
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 2 " "ls --folder of an unknown folder: the common ones"
run carnet-template ls --context client --user sylvie
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 5 2 " "ls --user leaves out users templates that do not list the user"
run carnet-template ls --context client --user jk
is "$(printf '%s\n' "$out" | cut -d, -f1 | tr '\n' ' ')" "id 5 4 2 " "and keeps those that do"
run carnet-template ls --context nobody
is "$out" "id,folder,title,context,active,default,scope,reply,encoding,segments" "no match: the header only"

run carnet-template ls --context client --format json
is "$status" 0 "ls --format json exits 0"
is "$(printf '%s' "$out" | jq -c '.[1]')" \
	'{"id":4,"folder":"default","title":"Perso","context":"client","active":true,"default":true,"scope":"users","reply":"hours:48","encoding":"gsm7","segments":1}' \
	"ls --format json: typed values"
is "$(printf '%s' "$out" | jq -c '.[2].folder')" null "a common template's folder is null"
run carnet-template ls --context temp-worker --format table
want=$(cat <<'EOF'
id  folder   title            context      active  default  scope   reply  encoding  segments
3   default  Long             temp-worker  false   false    folder  none   gsm7      2
1   default  Relance mission  temp-worker  true    false    folder  none   gsm7      1
EOF
)
is "$out" "$want" "ls --format table: aligned columns"

# --- show -------------------------------------------------------------------------
uuid=$(sql "SELECT uuid FROM template WHERE id = 4")
run carnet-template show 4
is "$status" 0 "show exits 0"
want=$(cat <<EOF
id             4
uuid           $uuid
folder         default
title          Perso
context        client
active         true
default        true
scope          users
users          jk
reply          hours:48
created_by     tester
created_at     2026-11-22T08:00:00Z
updated_at     2026-11-22T08:00:00Z
fields         first_name
encoding       gsm7
chars          44
units          48
segments       1
sent_encoding  gsm7
sent_chars     44
sent_units     48
sent_segments  1
body:
    Bonjour {{first_name}}, rappel pour demain ?
sent_text:
    Bonjour {{first_name}}, rappel pour demain ?
EOF
)
is "$out" "$want" "show: every property, the counts, then the body"
run carnet-template show "$uuid"
is "$status" 0 "show by UUID"
like "$out" "^id +4$" "finds the same template"
run carnet-template show "$(printf '%s' "$uuid" | tr a-f A-F)"
like "$out" "^id +4$" "UUIDs are matched without regard to case"
run carnet-template show Perso
like "$out" "^id +4$" "show by title"
run carnet-template show 'Relance mission' --format json
is "$(printf '%s' "$out" | jq -c '[.id, .fields, .encoding, .chars, .units, .segments, .sent_segments]')" \
	'[1,"first_name,date","gsm7",44,52,1,1]' "show --format json: one object with the fields used and the counts"

mkdir -p "$XDG_CONFIG_HOME/carnet"
printf 'sms:\n  sender: ACME\n  stop_mention: STOP au 36180\n  stop_separator: newline\n' \
	>"$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-template show g160 --format json
is "$(printf '%s' "$out" | jq -c '[.segments, .sent_chars, .sent_segments, (.sent_text | endswith("a\nSTOP au 36180"))]')" \
	'[1,174,2,true]' "with a configured sender, sent_* counts the STOP mention (160 + 14 septets: 2 segments)"
run carnet-template show Rappel --transliterate --sender 'Agence 2' --format json
is "$(printf '%s' "$out" | jq -c '[.encoding, .sent_encoding, .sent_text]')" \
	'["ucs2","gsm7","Rappel : à bientot, fenetre ouverte\nSTOP au 36180"]' \
	"show --transliterate --sender: the text as sent in GSM-7"
rm "$XDG_CONFIG_HOME/carnet/config.yaml"

# --- unknown and ambiguous names -----------------------------------------------------
run carnet-template show 99
is "$status" 66 "show of an unknown id exits 66"
is "$err" "carnet-template: no template '99'" "and says so"
is "$out" "" "and prints nothing"
run carnet-template show Nope --folder other
is "$status" 66 "an unknown title exits 66"
is "$err" "carnet-template: no template 'Nope' in folder 'other' or among the common ones" "and says where it looked"
add 'Autre' --title Perso --folder other
run carnet-template show Perso
is "$status" 64 "a title of two folders without --folder exits 64"
is "$err" "carnet-template: title 'Perso' names 2 templates (ids 4, 16); use an id or --folder" \
	"and lists their ids"
run carnet-template show Perso --folder other
like "$out" "^id +16$" "with --folder, that folder's template"
add 'Commun' --title Rappel --folder other
run carnet-template show Rappel --folder other
like "$out" "^id +17$" "a folder's title wins over a common one"
run carnet-template show Rappel --folder default
like "$out" "^id +2$" "the common one is found from another folder"
run carnet-template show
is "$status" 64 "show without an id exits 64"
like "$err" "show: which template\? \(give its id, UUID or title\)" "and asks which"
run carnet-template show 1 2
is "$status" 64 "show with two ids exits 64"
done_testing
