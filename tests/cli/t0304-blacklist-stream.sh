#!/usr/bin/env bash
# add -: the addresses of a CSV or JSON stream, all or nothing: the number
# column found by name or --column, blank cells skipped, reason and note
# columns (unless --reason/--note), invalid rows reported with their line
# and nothing added, --dry-run, --format json.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400

# q QUERY: the store, columns separated by '|', nothing quoted
q() { sqlite3 -batch -list "$STORE" "$1"; }

carnet-blacklist add -q +33699999999 >/dev/null

cat >optouts.csv <<'EOF'
Nom;Téléphone;Mobile
Ann;x;06 12 34 56 78
Bob;x;+33 6 99 99 99 99
Cid;x;
Dan;x;0033 7 11 11 11 11
EOF
run_in optouts.csv carnet-blacklist add --reason STOP --column Mobile -
is "$status" 0 "add - exits 0"
is "$out" "4 rows: 2 added, 1 upgraded, 0 unchanged, 1 skipped" "one summary line"
is "$err" "" "nothing on stderr"
is "$(q "SELECT address || '|' || reason || '|' || source || '|' || u.name FROM blacklist b JOIN user u ON u.id = b.user_id ORDER BY address")" \
	"$(printf '%s\n' '+33612345678|STOP|import|tester' '+33699999999|STOP|import|tester' '+33711111111|STOP|import|tester')" \
	"the entries are normalised, with source import and the user"
is "$(q "SELECT count(*) FROM sync_item WHERE kind = 'blacklist' AND state = 'pending'")" 3 "each is marked for sync"

# --- reason and note columns ----------------------------------------------------------------------
cat >withreason.csv <<'EOF'
address,reason,note
0622222222,NPAI,bounced 3 times
b@x.fr,,
0612345678,manual,
0633333333,stop,
EOF
run_in withreason.csv carnet-blacklist add -
is "$out" "4 rows: 3 added, 0 upgraded, 1 unchanged, 0 skipped" "the reason column applies; manual over STOP is unchanged"
is "$(q "SELECT address || '|' || reason || '|' || coalesce(note, '-') FROM blacklist WHERE address IN ('+33622222222', 'b@x.fr', '+33633333333') ORDER BY address")" \
	"$(printf '%s\n' '+33622222222|NPAI|bounced 3 times' '+33633333333|STOP|-' 'b@x.fr|manual|-')" \
	"reason and note per row; an empty reason means manual"
printf 'phone,reason,note\n0644444444,NPAI,from file\n' >override.csv
run_in override.csv carnet-blacklist add --reason STOP --note 'from option' -
is "$(q "SELECT reason || '|' || note FROM blacklist WHERE address = '+33644444444'")" "STOP|from option" \
	"--reason and --note win over the columns"

# --- NDJSON -------------------------------------------------------------------------------------------
printf '{"number":"0655555555","x":1}\n{"number":null}\n{"number":"c@x.fr"}\n' >in.ndjson
run_in in.ndjson carnet-blacklist add - --format json
is "$status" 0 "add - of NDJSON exits 0"
is "$out" '{"rows":3,"added":2,"upgraded":0,"unchanged":0,"skipped":1,"dry_run":false,"committed":true}' \
	"--format json: the summary as one object; a null number is skipped"

# --- invalid rows: nothing added -------------------------------------------------------------------
base=$(store_sum)
cat >bad.csv <<'EOF'
phone,reason
0666666666,STOP
06 12,
0677777777,spam
not-an@email,
0688888888,NPAI
EOF
run_in bad.csv carnet-blacklist add -
is "$status" 65 "a stream with invalid rows exits 65"
is "$err" "$(printf '%s\n' "carnet-blacklist: <stdin>:3: invalid phone '06 12': too short" \
	"carnet-blacklist: <stdin>:4: unknown reason 'spam' (manual, STOP, NPAI)" \
	"carnet-blacklist: <stdin>:5: invalid email 'not-an@email': domain has no dot" \
	"carnet-blacklist: <stdin>: 3 bad rows: nothing added")" "every bad row is reported with its line"
is "$out" "" "no summary"
is "$(store_sum)" "$base" "nothing is added, not even the good rows"

printf 'a,b\n1,2\n' >nocol.csv
run_in nocol.csv carnet-blacklist add -
is "$status" 65 "a stream without a column of numbers exits 65"
like "$err" "no phone, number, address or email column \(columns: a, b\)" "and lists the columns"
: >empty.csv
run_in empty.csv carnet-blacklist add -
is "$status" 66 "an empty stream exits 66"
is "$(store_sum)" "$base" "nothing changed"

# --- --dry-run ----------------------------------------------------------------------------------------
printf 'phone\n0699000001\n0699000002\n0612345678\n' >dry.csv
run_in dry.csv carnet-blacklist add --reason STOP -n -
is "$status" 0 "add - --dry-run exits 0"
is "$out" "dry run: 3 rows: 2 added, 0 upgraded, 1 unchanged, 0 skipped" "and counts what it would do"
is "$(store_sum)" "$base" "and changes nothing"

# --- usage ---------------------------------------------------------------------------------------------
run carnet-blacklist add - 0612345678
is "$status" 64 "'-' with other addresses exits 64"
like "$err" "'-' reads the addresses from the standard input" "and says why"
run carnet-blacklist add 0612345678 --column phone
is "$status" 64 "--column without '-' exits 64"
like "$err" "add: --column does not apply" "and says so"
run carnet-blacklist add --input-format xml -
is "$status" 64 "an unknown --input-format exits 64"
printf '{"phone":"0699000003"}\n' >j.txt
run_in j.txt carnet-blacklist add --input-format json -
is "$out" "1 rows: 1 added, 0 upgraded, 0 unchanged, 0 skipped" "--input-format json"
done_testing
