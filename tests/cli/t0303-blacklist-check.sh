#!/usr/bin/env bash
# check: filters a CSV or JSON stream in a pipe.  --drop (the default)
# leaves blacklisted rows out, --mark adds a 'blacklisted' column; the
# output keeps the input's format (CSV delimiter, JSON array, NDJSON)
# unless --format; invalid numbers are kept with a warning (line number)
# and marked 'invalid'; exit 0; the store is never changed.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1

carnet-blacklist add -q +33612345678 --reason STOP >/dev/null
carnet-blacklist add -q +33711111111 --reason NPAI >/dev/null
carnet-blacklist add -q +33622222222 ann@example.fr >/dev/null
base=$(store_sum)

cat >in.csv <<'EOF'
first_name,phone,city
Ann,06 12 34 56 78,Lyon
Bob,+33 7 11 11 11 11,Metz
Cid,06 12,"Nice, Côte"
Dan,,Paris
Eve,0699999999,Brest
Fay,0622222222,Caen
EOF

# --- CSV --drop ----------------------------------------------------------------------------------
run_in in.csv carnet-blacklist check
is "$status" 0 "check exits 0"
is "$out" "$(cat <<'EOF'
first_name,phone,city
Cid,06 12,"Nice, Côte"
Dan,,Paris
Eve,0699999999,Brest
EOF
)" "--drop (default): the blacklisted rows are left out, the others are kept as they were"
is "$err" "carnet-blacklist: <stdin>:4: invalid phone '06 12': too short (kept)" \
	"an invalid number is kept, with a warning naming its line"
run_in in.csv carnet-blacklist check --drop -q
is "$err" "" "-q: no warning"
is "$(printf '%s\n' "$out" | wc -l)" 4 "--drop gives the same rows"

# --- CSV --mark ----------------------------------------------------------------------------------
run_in in.csv carnet-blacklist check --mark
is "$status" 0 "check --mark exits 0"
is "$out" "$(cat <<'EOF'
first_name,phone,city,blacklisted
Ann,06 12 34 56 78,Lyon,STOP
Bob,+33 7 11 11 11 11,Metz,NPAI
Cid,06 12,"Nice, Côte",invalid
Dan,,Paris,
Eve,0699999999,Brest,
Fay,0622222222,Caen,manual
EOF
)" "--mark keeps every row and adds the reason, 'invalid', or nothing"
like "$err" "<stdin>:4: invalid phone '06 12'" "with the warning"
is "$(store_sum)" "$base" "checking changes nothing in the store"

printf 'Nom;Mobile;blacklisted\nAnn;0612345678;old\nBob;0633333333;old\n' >semi.csv
run carnet-blacklist check --mark --column mobile semi.csv
is "$out" "$(printf 'Nom;Mobile;blacklisted\nAnn;0612345678;STOP\nBob;0633333333;')" \
	"a FILE operand; the ';' delimiter is kept; --column (any case); an existing 'blacklisted' column is replaced"
run carnet-blacklist check --column Mobile --format ndjson semi.csv
is "$out" '{"Nom":"Bob","Mobile":"0633333333","blacklisted":"old"}' "--format ndjson from CSV"

# --- NDJSON and JSON ------------------------------------------------------------------------------
cat >in.ndjson <<'EOF'
{"id":1,"number":"0612345678","tags":["a","b"]}
{"id":2,"number":"0633333333","vip":true}
{"id":3,"number":"07 11"}
{"id":4}
{"id":5,"number":"ann@Example.fr"}
EOF
run_in in.ndjson carnet-blacklist check
is "$status" 0 "check of NDJSON exits 0"
is "$out" "$(printf '%s\n' '{"id":2,"number":"0633333333","vip":true}' '{"id":3,"number":"07 11"}' '{"id":4}')" \
	"NDJSON in, NDJSON out: types kept, a record without the field is kept"
is "$err" "carnet-blacklist: <stdin>:3: invalid phone '07 11': too short (kept)" "the warning names the line"
run_in in.ndjson carnet-blacklist check --mark
is "$out" "$(printf '%s\n' '{"id":1,"number":"0612345678","tags":["a","b"],"blacklisted":"STOP"}' \
	'{"id":2,"number":"0633333333","vip":true,"blacklisted":""}' \
	'{"id":3,"number":"07 11","blacklisted":"invalid"}' \
	'{"id":4,"blacklisted":""}' \
	'{"id":5,"number":"ann@Example.fr","blacklisted":"manual"}')" \
	"--mark on NDJSON; an email is looked up as an email"
run_in in.ndjson carnet-blacklist check --mark --format csv
is "$out" "$(cat <<'EOF'
id,number,tags,blacklisted
1,0612345678,"[""a"",""b""]",STOP
2,0633333333,,
3,07 11,,invalid
4,,,
5,ann@Example.fr,,manual
EOF
)" "--format csv from NDJSON: the first record's columns"

printf '[{"tel":"0612345678"},\n {"tel":"0644444444"}]\n' >in.json
run_in in.json carnet-blacklist check
is "$out" "$(printf '[\n{"tel":"0644444444"}\n]')" "a JSON array in gives a JSON array out"

# --- columns -----------------------------------------------------------------------------------------
printf 'Name,Mobile,email\nAnn,0612345678,x@y.fr\n' >cols.csv
run carnet-blacklist check cols.csv
is "$out" "Name,Mobile,email" "a 'Mobile' column is found before 'email' (no --column needed)"
printf 'a,b\n1,2\n' >nocol.csv
run carnet-blacklist check nocol.csv
is "$status" 65 "no column of numbers exits 65"
is "$err" "carnet-blacklist: nocol.csv:1: no phone, number, address or email column (columns: a, b); name it with --column" \
	"and says how to fix it"
run carnet-blacklist check --column phone nocol.csv
is "$status" 65 "--column naming a missing column exits 65"
is "$err" "carnet-blacklist: nocol.csv:1: no column 'phone' (columns: a, b)" "and lists the columns"

# --- empty and missing input ---------------------------------------------------------------------------
printf 'phone\n' >header.csv
run carnet-blacklist check header.csv
is "$status" 0 "a header-only CSV exits 0"
is "$out" "phone" "and gives the header"
: >empty.csv
run carnet-blacklist check empty.csv
is "$status" 66 "an empty input exits 66"
is "$err" "carnet-blacklist: empty.csv: empty input" "and says so"
run carnet-blacklist check missing.csv
is "$status" 66 "a missing file exits 66"
like "$err" "missing.csv: cannot open" "and names it"

# --- a row with too many fields -----------------------------------------------------------------------
printf 'phone,x\n0612345678,1\n0633333333,2,3\n0644444444,4\n' >wide.csv
run carnet-blacklist check wide.csv
is "$status" 65 "a row that cannot be written back exits 65"
is "$out" "$(printf 'phone,x\n0644444444,4')" "the other rows are filtered"
like "$err" "wide.csv:3: .*row left out" "the row is reported"

# --- options ------------------------------------------------------------------------------------------
run_in in.csv carnet-blacklist check --drop --mark
is "$status" 64 "--drop with --mark exits 64"
run_in in.csv carnet-blacklist check --dry-run
is "$status" 64 "check --dry-run exits 64"
like "$err" "check: --dry-run does not apply" "and says so"
run carnet-blacklist check a.csv b.csv
is "$status" 64 "two files exit 64"

# --- a pipe -----------------------------------------------------------------------------------------------
printf 'email,phone,first_name\nann@example.fr,0612345678,Ann\nbob@x.fr,0655555555,Bob\n' >c.csv
carnet-contacts import -q --list clients c.csv >/dev/null
base=$(store_sum)
is "$(carnet-contacts export --list clients | carnet-blacklist check | cut -d, -f2-)" \
	"$(printf 'email,phone,first_name,last_name\nbob@x.fr,+33655555555,Bob,')" \
	"carnet-contacts export | carnet-blacklist check: the phone column is checked"
is "$(store_sum)" "$base" "check changes nothing in the store"
done_testing
