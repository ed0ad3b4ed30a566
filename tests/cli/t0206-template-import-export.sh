#!/usr/bin/env bash
# carnet-template export and import: the columns, CSV with multi-line
# bodies, JSON and NDJSON; a round trip into another store gives the same
# templates (UUIDs included); a second import changes nothing; updates by
# UUID and by title; all or nothing with bad records reported by line;
# conflicting defaults and duplicates; --dry-run; the summary.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400
export TZ=UTC

add() {
	printf '%s' "$1" >"$T/body"
	shift
	carnet-template add "$@" <"$T/body" >/dev/null
}

add 'Bonjour {{first_name}}, "mission" demain ?' --title 'Relance mission' --context temp-worker --default --reply hours:48
add $'Ligne 1, avec virgule\nLigne 2 ; {{first_name|toi}}' --title 'Deux lignes' --context client --scope common
add 'Perso {{sender|nous}}' --title Perso --context client --scope users --users sylvie,jk --reply until:2026-12-01
add 'Éteint' --title Off --inactive --folder agence --reply until

# --- export -------------------------------------------------------------------------
run carnet-template export
is "$status" 0 "export exits 0"
is "$err" "" "export writes nothing on stderr"
u1=$(sql "SELECT uuid FROM template WHERE id = 1")
u2=$(sql "SELECT uuid FROM template WHERE id = 2")
u3=$(sql "SELECT uuid FROM template WHERE id = 3")
u4=$(sql "SELECT uuid FROM template WHERE id = 4")
want=$(cat <<EOF
id,uuid,folder,title,context,active,default,scope,users,reply,body,created_by,created_at,updated_at
4,$u4,agence,Off,,false,false,folder,,until,Éteint,tester,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
2,$u2,,Deux lignes,client,true,false,common,,none,"Ligne 1, avec virgule
Ligne 2 ; {{first_name|toi}}",tester,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
3,$u3,default,Perso,client,true,false,users,"jk,sylvie",until:2026-12-01T23:59:59Z,Perso {{sender|nous}},tester,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
1,$u1,default,Relance mission,temp-worker,true,true,folder,,hours:48,"Bonjour {{first_name}}, ""mission"" demain ?",tester,2026-11-22T08:00:00Z,2026-11-22T08:00:00Z
EOF
)
is "$out" "$want" "export: CSV with every column, bodies quoted where needed"
run carnet-template export --format json
is "$(printf '%s' "$out" | jq -c '.[2] | del(.uuid)')" \
	'{"id":3,"folder":"default","title":"Perso","context":"client","active":true,"default":false,"scope":"users","users":"jk,sylvie","reply":"until:2026-12-01T23:59:59Z","body":"Perso {{sender|nous}}","created_by":"tester","created_at":"2026-11-22T08:00:00Z","updated_at":"2026-11-22T08:00:00Z"}' \
	"export --format json: typed values"
cp "$T/.out" "$T/a.json"
run carnet-template export --format ndjson
is "$(printf '%s\n' "$out" | wc -l)" 4 "export --format ndjson: one line each"
run carnet-template export --folder agence --format ndjson
is "$(printf '%s\n' "$out" | jq -r .id | tr '\n' ' ')" "4 2 " "export --folder: that folder's templates and the common ones"
carnet-template export >"$T/a.csv"

# --- round trip ------------------------------------------------------------------------
strip() { jq -c 'del(.id)' "$@"; }
run_in "$T/a.json" carnet-template --store "$T/b.db" import
is "$status" 0 "import into another store exits 0"
is "$out" "templates: 4 records: 4 added, 0 updated, 0 unchanged, 0 rejected" "the summary counts them"
is "$err" "" "and nothing on stderr"
carnet-template --store "$T/b.db" export --format ndjson >"$T/b.ndjson"
is "$(strip "$T/b.ndjson")" "$(jq -c '.[] | del(.id)' "$T/a.json")" \
	"the other store exports the same templates, UUIDs, users and reply handling included"
is "$(sqlite3 "$T/b.db" "SELECT count(*) FROM sync_item WHERE kind = 'template' AND state = 'pending'")" 4 \
	"the imported templates are marked for sync"
run_in "$T/a.csv" carnet-template --store "$T/c.db" import
is "$status" 0 "a CSV import exits 0"
carnet-template --store "$T/c.db" export --format ndjson >"$T/c.ndjson"
is "$(strip "$T/c.ndjson")" "$(strip "$T/b.ndjson")" "CSV round-trips too (multi-line bodies, quotes, lists)"

cp "$T/b.db" "$T/b.before"
sum_b() { STORE=$T/b.db store_sum; }
before=$(sum_b)
run_in "$T/a.json" carnet-template --store "$T/b.db" import
is "$out" "templates: 4 records: 0 added, 0 updated, 4 unchanged, 0 rejected" "a second import changes nothing"
is "$(sum_b)" "$before" "not even a time or a sync mark"

# --- updates ----------------------------------------------------------------------------
export CARNET_NOW=1795338000
jq -c '.[] | if .title == "Off" then .title = "Allumé" | .active = true else . end' "$T/a.json" >"$T/upd.ndjson"
run_in "$T/upd.ndjson" carnet-template --store "$T/b.db" import
is "$out" "templates: 4 records: 0 added, 1 updated, 3 unchanged, 0 rejected" "a changed record updates its template (by UUID)"
is "$(sqlite3 "$T/b.db" "SELECT title, active, updated_at FROM template WHERE uuid = '$u4'")" "Allumé|1|1795338000" \
	"the title and flag changed, updated_at moved"
printf 'title,body,context,default\nRelance mission,Nouveau texte {{first_name}},temp-worker,true\nNeuf,Neuf,temp-worker,false\n' >"$T/bytitle.csv"
run_in "$T/bytitle.csv" carnet-template --store "$T/b.db" import
is "$out" "templates: 2 records: 1 added, 1 updated, 0 unchanged, 0 rejected" "without a UUID, the title in the folder matches"
is "$(sqlite3 "$T/b.db" "SELECT body, uuid = '$u1' FROM template WHERE title = 'Relance mission'")" "Nouveau texte {{first_name}}|1" \
	"the same template got the new body"
printf '{"title":"JSON users","body":"x","scope":"users","users":["anne","bob"],"folder":"lyon"}\n' >"$T/users.ndjson"
run_in "$T/users.ndjson" carnet-template --store "$T/b.db" import --format json
is "$out" '{"records":1,"added":1,"updated":0,"unchanged":0,"rejected":0,"dry_run":false,"committed":true}' \
	"import --format json: the summary as one object"
is "$(sqlite3 "$T/b.db" "SELECT f.name, group_concat(u.name) FROM template t JOIN folder f ON f.id = t.folder_id JOIN template_user tu ON tu.template_id = t.id JOIN user u ON u.id = tu.user_id WHERE t.title = 'JSON users'")" \
	"lyon|anne,bob" "users as a JSON array, and the record's folder"

# --- all or nothing ---------------------------------------------------------------------------
long=$(printf 'x%.0s' $(seq 51))
cat >"$T/bad.csv" <<EOF
title,body,context,scope,reply,default
Bon,Bon {{first_name}},c1,,,
$long,corps,,,,
Champ,Bonjour {{foo}},,,,
Portée,x,,partout,,
Réponse,x,,,hours:0,
Vide,,,,,
Défaut,x,,,,true
EOF
before=$(sum_b)
run_in "$T/bad.csv" carnet-template --store "$T/b.db" import
is "$status" 65 "an input with bad records exits 65"
want=$(cat <<'EOF'
carnet-template: <stdin>:3: title is 51 characters long (at most 50)
carnet-template: <stdin>:4: unknown merge field 'foo' at line 1, column 9 (known: first_name, last_name, phone, email, sender, date)
carnet-template: <stdin>:5: invalid scope 'partout' (common, folder, users)
carnet-template: <stdin>:6: invalid reply handling 'hours:0': hours must be a whole number from 1 to 8760
carnet-template: <stdin>:7: no body
carnet-template: <stdin>:8: a default template needs a context (the default of which context?)
carnet-template: <stdin>: 6 records rejected: nothing imported
EOF
)
is "$err" "$want" "each bad record is reported with its line"
is "$out" "templates: 7 records: 0 added, 0 updated, 0 unchanged, 6 rejected" "the summary counts them, and nothing applied"
is "$(sum_b)" "$before" "and nothing was imported, not even the good record"

printf 'title,body,context,default\nA,a,ctx,true\nB,b,ctx,true\n' >"$T/defaults.csv"
run_in "$T/defaults.csv" carnet-template --store "$T/b.db" import
is "$status" 65 "two defaults of one context in one input: exit 65"
is "$(printf '%s\n' "$err" | head -1)" "carnet-template: <stdin>:3: the template of line 2 is already the default for context 'ctx'" \
	"the second is reported"
printf 'title,body\nA,a\nA,b\n' >"$T/dup.csv"
run_in "$T/dup.csv" carnet-template --store "$T/b.db" import
is "$status" 65 "the same template twice: exit 65"
is "$(printf '%s\n' "$err" | head -1)" "carnet-template: <stdin>:3: the same template as line 2" "is reported"
is "$(sum_b)" "$before" "neither changed the store"

# --- dry run and errors -----------------------------------------------------------------------
printf 'title,body\nNouveau,n\n' >"$T/new.csv"
run_in "$T/new.csv" carnet-template --store "$T/b.db" import --dry-run
is "$status" 0 "import --dry-run exits 0"
is "$out" "dry run: templates: 1 records: 1 added, 0 updated, 0 unchanged, 0 rejected" "and says what would be done"
is "$(sum_b)" "$before" "and changes nothing"
run_in /dev/null carnet-template --store "$T/b.db" import
is "$status" 66 "an empty input exits 66"
run carnet-template --store "$T/b.db" import "$T/missing.csv"
is "$status" 66 "a missing file exits 66"
printf 'title,body\n"A,b\n' >"$T/broken.csv"
run_in "$T/broken.csv" carnet-template --store "$T/b.db" import
is "$status" 65 "a malformed CSV exits 65"
is "$(sum_b)" "$before" "and changes nothing"
run carnet-template export --format xml
is "$status" 64 "an unknown format exits 64"
run carnet-template export --dry-run
is "$status" 64 "export --dry-run does not apply: exit 64"
done_testing
