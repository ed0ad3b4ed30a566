#!/usr/bin/env bash
# ls: the columns address, reason, source, note, user, created, ordered by
# address; --reason; csv, json, ndjson and table; --folder changes
# nothing; the output of ls feeds add - (a copy to another store).
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

run carnet-blacklist ls
is "$status" 0 "ls of an empty blacklist exits 0"
is "$out" "address,reason,source,note,user,created" "the header alone (CSV off a terminal)"
is "$err" "" "nothing on stderr"

carnet-blacklist add -q +33612345678 --reason STOP --user jk >/dev/null
carnet-blacklist add -q '07 11 11 11 11' --reason NPAI --note 'closed, says the operator' >/dev/null
CARNET_NOW=1795338000 carnet-blacklist add -q ann@example.fr >/dev/null

run carnet-blacklist ls
is "$status" 0 "ls exits 0"
is "$out" "$(cat <<'EOF'
address,reason,source,note,user,created
+33612345678,STOP,operator,,jk,2026-11-22T08:00:00Z
+33711111111,NPAI,operator,"closed, says the operator",tester,2026-11-22T08:00:00Z
ann@example.fr,manual,operator,,tester,2026-11-22T09:00:00Z
EOF
)" "every entry, ordered by address, CSV quoted where needed"

run carnet-blacklist ls --reason stop
is "$out" "$(printf 'address,reason,source,note,user,created\n+33612345678,STOP,operator,,jk,2026-11-22T08:00:00Z')" \
	"--reason STOP (any case) shows the STOP entries only"
run carnet-blacklist ls -r NPAI --format ndjson
is "$out" '{"address":"+33711111111","reason":"NPAI","source":"operator","note":"closed, says the operator","user":"tester","created":"2026-11-22T08:00:00Z"}' \
	"--format ndjson"
run carnet-blacklist ls --reason manual --format json
is "$out" "$(printf '%s\n' '[' '{"address":"ann@example.fr","reason":"manual","source":"operator","note":null,"user":"tester","created":"2026-11-22T09:00:00Z"}' ']')" \
	"--format json: an array, null for no note"
is "$(carnet-blacklist ls --format json | jq length)" 3 "the JSON array holds every entry"
run carnet-blacklist ls --format table
is "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" "address reason source note user created" "--format table: a header"
like "$(printf '%s\n' "$out" | sed -n 3p)" '^\+33711111111 +NPAI +operator +closed, says the operator +tester' \
	"and aligned rows"

run carnet-blacklist ls --folder somewhere-else
is "$(printf '%s\n' "$out" | wc -l)" 4 "--folder is accepted: the blacklist is the same in every folder"

# --- ls | add -: a copy -------------------------------------------------------------------------
carnet-blacklist ls --format csv >bl.csv
run_in bl.csv carnet-blacklist --store "$T/other.db" --user copier add -
is "$status" 0 "ls output feeds add - on another store"
is "$out" "3 rows: 3 added, 0 upgraded, 0 unchanged, 0 skipped" "every entry is added"
is "$(carnet-blacklist --store "$T/other.db" ls | cut -d, -f1,2,4)" "$(cut -d, -f1,2,4 bl.csv)" \
	"with the same addresses, reasons and notes"
is "$(sqlite3 "$T/other.db" "SELECT DISTINCT source FROM blacklist")" "import" "the source says import"

# --- usage ------------------------------------------------------------------------------------------
run carnet-blacklist ls --reason spam
is "$status" 64 "ls --reason with an unknown reason exits 64"
is "$err" "$(printf '%s\n' "carnet-blacklist: unknown reason 'spam' (manual, STOP, NPAI)" \
	"Try 'carnet-blacklist --help' for more information.")" "and names the reasons"
run carnet-blacklist ls --force
is "$status" 64 "ls --force exits 64"
like "$err" "ls: --force does not apply" "and says so"
run carnet-blacklist ls extra
is "$status" 64 "ls with an argument exits 64"
like "$err" "ls: unexpected argument 'extra'" "and names it"
run carnet-blacklist ls --format xml
is "$status" 64 "ls --format xml exits 64"
done_testing
