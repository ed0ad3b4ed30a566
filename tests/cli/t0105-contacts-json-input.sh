#!/usr/bin/env bash
# JSON input: NDJSON and arrays, detected or given with --input-format;
# nested values kept as attributes with their JSON types; records without
# the key rejected to an NDJSON rejects file; invalid JSON stops the
# import with the line and changes nothing.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1

cat >j.ndjson <<'EOF'
{"email":"j1@x.fr","phone":"0612345601","age":42,"score":1.50,"vip":true,"address":{"city":"Lyon","zip":"69001"},"tags":["a","b"]}
{"email":"j2@x.fr","first_name":"Jo","last_name":"Dupont","phone":612345602}
{"email":"j3@x.fr","first_name":"Zoé","note":null}
EOF

# --- NDJSON, detected ---------------------------------------------------------------------
run carnet-contacts import --list nd j.ndjson
is "$status" 0 "NDJSON is detected and imported"
is "$out" "nd: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" "the summary"
is "$err" "" "nothing on stderr"
run carnet-contacts export --list nd --format json
is "$status" 0 "export --format json"
is "$(printf '%s' "$out" | jq -c '.[0] | del(.id)')" \
	'{"email":"j1@x.fr","phone":"+33612345601","first_name":null,"last_name":null,"age":42,"score":1.5,"vip":true,"address":{"city":"Lyon","zip":"69001"},"tags":["a","b"]}' \
	"nested objects and arrays are kept; numbers and booleans keep their type"
like "$out" '"age":42,"score":1\.5,"vip":true,' "numbers and booleans are written unquoted"
is "$(printf '%s' "$out" | jq -r '.[0] | [.age, .vip, .address, .tags] | map(type) | join(",")')" \
	"number,boolean,object,array" "the JSON types survive"
is "$(printf '%s' "$out" | jq -c '.[1] | [.phone, .first_name, .last_name]')" '["+33612345602","Jo","Dupont"]' \
	"a number as a core field (phone) is accepted and normalised"
is "$(printf '%s' "$out" | jq -c '.[2] | del(.id)')" \
	'{"email":"j3@x.fr","phone":null,"first_name":"Zoé","last_name":null}' \
	"null for missing core fields; a null attribute is not stored"
is "$(sql_raw "SELECT json_type(attrs, '\$.address'), json_extract(attrs, '\$.address.city') FROM contact WHERE email = 'j1@x.fr'")" \
	"object|Lyon" "the store keeps the nested object as JSON"
run carnet-contacts export --list nd
is "$(printf '%s\n' "$out" | head -1)" "id,email,phone,first_name,last_name,age,score,vip,address,tags" \
	"CSV export: attribute columns in the order they first came"
is "$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f2-)" \
	'j1@x.fr,+33612345601,,,42,1.5,true,"{""city"":""Lyon"",""zip"":""69001""}","[""a"",""b""]"' \
	"CSV export: nested values as compact JSON text"

# --- a JSON array, pretty-printed, detected -------------------------------------------------
cat >arr.json <<'EOF'
[
  {"email": "a1@x.fr",
   "phone": "0612345611",
   "n": 7},
  {"email": "a2@x.fr", "first_name": "Deux"},
  {"email": "a3@x.fr", "n": {"deep": [1, {"x": null}]}}
]
EOF
run carnet-contacts import --list arr arr.json
is "$status" 0 "a pretty-printed JSON array is detected and imported"
is "$out" "arr: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" "all three objects"
run carnet-contacts export --list arr --format ndjson
is "$(printf '%s\n' "$out" | jq -c 'del(.id) | [.email, .n]')" \
	"$(printf '%s\n' '["a1@x.fr",7]' '["a2@x.fr",null]' '["a3@x.fr",{"deep":[1,{"x":null}]}]')" \
	"values of every depth are kept"

# --- --input-format ------------------------------------------------------------------------
run_in j.ndjson carnet-contacts import --list viaformat --input-format json
is "$status" 0 "--input-format json reads NDJSON on stdin"
run_in arr.json carnet-contacts import --list viaformat2 --input-format ndjson
is "$status" 0 "--input-format ndjson (a synonym) reads an array"
is "$(export_noid viaformat)" "$(export_noid nd)" "--input-format json gives what detection gives"
is "$(export_noid viaformat2)" "$(export_noid arr)" "for arrays too"
printf '  \n\n{"email":"ws@x.fr"}\n' >ws.ndjson
run carnet-contacts import --list ws ws.ndjson
is "$status" 0 "leading blank lines before the first object"
run carnet-contacts import --list csvforced --input-format csv j.ndjson
is "$status" 65 "--input-format csv forces CSV: this JSON is not valid CSV"

# --- --map with JSON ----------------------------------------------------------------------------
printf '{"mail":"m1@x.fr","tel":"0612345621"}\n{"mail":"m2@x.fr"}\n' >map.ndjson
run carnet-contacts import --list map --map 'mail=email,tel=phone' map.ndjson
is "$status" 0 "--map with JSON: a mapped member may be absent from some objects"
is "$(export_noid map | sed 1d)" "$(printf '%s\n' 'm1@x.fr,+33612345621,,' 'm2@x.fr,,,')" "and the mapping applies"
run carnet-contacts import --list map --map 'mail=mobile' map.ndjson
is "$status" 64 "--map with an unknown field exits 64 for JSON too"

# --- records without the key: NDJSON rejects -------------------------------------------------
cat >rej.json <<'EOF'
[
  {"email": "r1@x.fr", "n": 1},
  {"first_name": "NoKey",
   "n": 2},
  {"email": "bad@", "phone": "0612"},
  {"email": "r4@x.fr", "first_name": {"not": "a string"}},
  {"email": "r5@x.fr", "email": "r5b@x.fr"},
  {"email": "r6@x.fr"}
]
EOF
run carnet-contacts import --list rej --rejects rej.ndjson rej.json
is "$status" 65 "JSON records that are rejected: exit 65"
is "$out" "rej: 6 rows: 2 inserted, 0 updated, 0 unchanged, 0 skipped, 4 rejected, 0 removed" \
	"the valid records are imported"
like "$err" "rej.json:3: no email" "a record without the key: file and line"
like "$err" "rej.json:5: invalid email 'bad@'" "an invalid email"
like "$err" "rej.json:6: field 'first_name' must be a string" "a core field that is an object"
like "$err" "rej.json:7: duplicate key 'email'" "an object with a key twice"
is "$(jq -sc 'map(.line)' rej.ndjson)" "[3,5,6,7]" "the rejects file has one object per rejected record, with its line"
is "$(jq -sc 'map(keys_unsorted)|unique' rej.ndjson)" '[["line","reason","record"]]' \
	"each object has line, reason and record"
is "$(jq -c 'select(.line == 3) | .record' rej.ndjson)" '{"first_name":"NoKey","n":2}' \
	"the record is the original object"
is "$(jq -r 'select(.line == 5) | .reason' rej.ndjson)" "invalid email 'bad@': empty domain" "and the reason is there"
bad=0
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" | jq -e 'type == "object" and has("line")' >/dev/null 2>&1 || bad=$((bad + 1))
done <rej.ndjson
# a rejected object that spanned several lines still takes one line
is "$n,$bad" "4,0" "the rejects file is NDJSON: one object per line"

# a record with the key member but no value for it
printf '{"email":"","phone":"0612345631"}\n{"phone":"0612345632"}\n' >nokey.ndjson
run carnet-contacts import --list nokey --key email --rejects nokey.rej nokey.ndjson
is "$status" 65 "--key email: records without an email exit 65"
is "$(jq -r '.reason' nokey.rej | sort -u)" "no email (the key to match contacts on)" \
	"the reason names the key"
run carnet-contacts import --list nokey2 --rejects nokey2.rej nokey.ndjson
# without --key, each record is matched on its email, else its phone, else
# its id: both records have a phone, so both are imported
is "$status" 0 "the default key falls back to the phone, record by record"
is "$(carnet-contacts export --list nokey2 --format ndjson | jq -r .phone | sort | tr '\n' ' ')" \
	"+33612345631 +33612345632 " "both records are in the list, matched on their phone"
printf '{"first_name":"Nobody"}\n' >nothing.ndjson
run carnet-contacts import --list nokey3 --rejects nokey3.rej nothing.ndjson
is "$status" 65 "a record with no email, phone or id is rejected"
is "$(jq -c '{line, reason}' nokey3.rej)" \
	'{"line":1,"reason":"no email, phone or id to match a contact on"}' \
	"and the rejects file says why"

# --- invalid JSON: the import stops, nothing changes --------------------------------------------
base=$(store_sum)
printf '{"email":"x1@y.fr"}\n{"email": "x2@y.fr",}\n{"email":"x3@y.fr"}\n' >inv.ndjson
run carnet-contacts import --list inv inv.ndjson
is "$status" 65 "invalid JSON exits 65"
is "$err" "carnet-contacts: inv.ndjson:2: invalid JSON" "the message has the file and line"
is "$out" "" "no summary"
is "$(store_sum)" "$base" "nothing is imported, not even the valid record before it"
printf '[\n{"email":"x1@y.fr"},\n{"email":"x2@y.fr"}\n' >trunc.json
run carnet-contacts import --list inv trunc.json
is "$status" 65 "a truncated array exits 65"
like "$err" "trunc.json:[0-9]+: invalid JSON \(unexpected end of input\)" "and says the input ended"
printf '[1, 2]\n' >nums.json
run carnet-contacts import --list inv nums.json
is "$status" 65 "an array of numbers exits 65"
like "$err" "nums.json:1: expected an object" "and says an object was expected"
printf '{"email":"x1@y.fr"}\n{"email":"x2@y.fr"\n' >open.ndjson
run carnet-contacts import --list inv open.ndjson
is "$status" 65 "an unclosed object exits 65"
like "$err" "open.ndjson:2: invalid JSON" "at the line where it starts"
printf '{"email":"x1@y.fr"}\n{"email":"x2@y.fr","first_name":"\xe9"}\n' >utf.ndjson
run carnet-contacts import --list utf --rejects utf.rej utf.ndjson
is "$status" 65 "invalid UTF-8 in a JSON string exits 65"
is "$(sql "SELECT count(*) FROM contact WHERE email = 'x2@y.fr'")" 0 "and that record is not imported"

# --- --clear-empty with null -------------------------------------------------------------------
printf '{"email":"c1@x.fr","first_name":"C","city":"Lyon"}\n' >c1.ndjson
carnet-contacts import -q --list clear c1.ndjson >/dev/null
printf '{"email":"c1@x.fr","first_name":null,"city":null}\n' >c2.ndjson
run carnet-contacts import --list clear c2.ndjson
is "$out" "clear: 1 rows: 0 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"null keeps the stored values by default"
run carnet-contacts import --list clear --clear-empty c2.ndjson
is "$out" "clear: 1 rows: 0 inserted, 1 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"--clear-empty: null clears"
is "$(carnet-contacts export --list clear --format ndjson | jq -c 'del(.id)')" \
	'{"email":"c1@x.fr","phone":null,"first_name":null,"last_name":null}' \
	"the field is cleared and the attribute removed"
done_testing
