#!/usr/bin/env bash
# Bad input gets a clear error, the right exit status and changes nothing
# it should not: malformed CSV, invalid UTF-8, missing key column, bad
# --map and --map-file, invalid phones and emails (rejects file), empty
# and missing files, too many fields, duplicates, --atomic, replace, bad
# configuration files, unknown option values.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1	# messages name files as given: relative names here

printf 'email,first_name\nkeep@x.fr,Keep\n' >base.csv
carnet-contacts import -q --list L base.csv >/dev/null
base=$(store_sum)

# --- unbalanced and malformed quotes -------------------------------------------------
printf 'email,first_name\nq1@x.fr,ok\nq2@x.fr,"open\nq3@x.fr,x\n' >open.csv
run carnet-contacts import --list L open.csv
is "$status" 65 "an unbalanced quote exits 65"
is "$err" "carnet-contacts: open.csv:3: unterminated quoted field" "the message names the file and the line of the quote"
is "$out" "" "no summary"
is "$(store_sum)" "$base" "an unbalanced quote changes nothing (not even the row before it)"
printf 'email,first_name\nq1@x.fr,ok\nq2@x.fr,"bad"x\nq3@x.fr,x\n' >mal.csv
run carnet-contacts import --list L mal.csv
is "$status" 65 "a malformed quoted field exits 65"
like "$err" "mal.csv:3: malformed quoted field" "with file and line"
is "$(store_sum)" "$base" "and changes nothing"

# --- invalid UTF-8 in a row ---------------------------------------------------------------
printf 'email,first_name,city\nu1@x.fr,Ren\xe9,Lyon\nu2@x.fr,Ok,Metz\n' >utf.csv
run carnet-contacts import --list U --rejects utf.rej utf.csv
is "$status" 65 "a row with invalid UTF-8 exits 65"
is "$err" "carnet-contacts: utf.csv:2: invalid UTF-8 in field 'first_name' at byte 4" \
	"the reason names the field"
is "$out" "U: 2 rows: 1 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected, 0 removed" \
	"the other row is imported"
is "$(export_noid U | sed 1d)" "u2@x.fr,,Ok,,Metz" "only the valid row is in the list"
printf 'line,reason,email,first_name,city\n2,"invalid UTF-8 in field '"'"'first_name'"'"' at byte 4",u1@x.fr,Ren\xe9,Lyon\n' >utf.want
file_is utf.rej utf.want "the rejects file keeps the original bytes"

# --- header without the key column --------------------------------------------------------
base=$(store_sum)
printf 'name,phone\nx,0612345678\n' >nokey.csv
run carnet-contacts import --list L --key email nokey.csv
is "$status" 65 "a header without the key column exits 65"
like "$err" "no column for the key 'email' \(columns: name, phone\)" "the message lists the columns"
like "$err" "nokey.csv:1: no column for the key" "the message names the file and line 1"
is "$(store_sum)" "$base" "and nothing changes"
printf 'name,city\nx,y\n' >nokey2.csv
run carnet-contacts import --list L nokey2.csv
is "$status" 65 "a header with no email, phone or id column exits 65"
like "$err" "no email, phone or id column .*columns: name, city" "and says what is missing"

# --- --map --------------------------------------------------------------------------------
run carnet-contacts import --list L --map 'phone=mobile' nokey.csv
is "$status" 64 "an unknown field in --map exits 64"
like "$err" "unknown field 'mobile'" "the message names the field"
like "$err" "first_name, last_name, attr.NAME" "and lists the valid ones"
run carnet-contacts import --list L --map 'Tel=phone' nokey.csv
is "$status" 64 "--map naming a column the file lacks exits 64"
like "$err" "no column 'Tel'" "the message names the column"
like "$err" "columns: name, phone" "and lists the file's columns"
like "$err" "no column 'Tel' in nokey.csv" "and names the file"
run carnet-contacts import --list L --map 'name=attr.email' nokey.csv
is "$status" 64 "attr.NAME cannot be a core field"
run carnet-contacts import --list L --map 'name=first_name' --map-file x.yaml nokey.csv
is "$status" 64 "--map and --map-file together exit 64"
is "$(store_sum)" "$base" "bad maps change nothing"

# --- invalid phone and email: the rejects file ------------------------------------------
cat >pe.csv <<'EOF'
E-mail,Mobile,Nom
ann@x.fr,06 12 34 56 78,Petit
bob@x.fr,06 12,Durand
not-an-email,0612345679,"Martin, J"
cid@,0612345670,Roux
dan@x.fr,+99 1234,Blanc
eve@x.fr,0612345671,Noir
EOF
run carnet-contacts import --list PE --rejects pe.rej pe.csv
is "$status" 65 "invalid phones and emails exit 65"
is "$out" "PE: 6 rows: 2 inserted, 0 updated, 0 unchanged, 0 skipped, 4 rejected, 0 removed" \
	"the summary counts them as rejected"
cat >pe.want <<'EOF'
line,reason,E-mail,Mobile,Nom
3,"invalid phone '06 12': too short",bob@x.fr,06 12,Durand
4,"invalid email 'not-an-email': no '@'",not-an-email,0612345679,"Martin, J"
5,"invalid email 'cid@': empty domain",cid@,0612345670,Roux
EOF
head -4 pe.rej >pe.got
file_is pe.got pe.want "the rejects file: line, reason, then the original row"
like "$(sed -n 5p pe.rej)" "^6,\"invalid phone '\+99 1234'.*\",dan@x.fr,\+99 1234,Blanc$" \
	"an unknown calling code is rejected"
is "$(wc -l <pe.rej)" 5 "one line per rejected row, after the header"
is "$(stat -c %a pe.rej)" 600 "the rejects file is mode 0600"
like "$err" "pe.csv:3: invalid phone '06 12'" "stderr has the same reasons with file and line"
is "$(export_noid PE | sed 1d)" "$(printf '%s\n' 'ann@x.fr,+33612345678,,Petit' 'eve@x.fr,+33612345671,,Noir')" \
	"the valid rows are imported"

# --- empty, header-only and missing files ---------------------------------------------------
: >empty.csv
run carnet-contacts import --list E empty.csv
is "$status" 66 "an empty file exits 66"
is "$err" "carnet-contacts: empty.csv: empty input" "and says it is empty"
printf '\n  \n\n' >blank.csv
run carnet-contacts import --list E blank.csv
is "$status" 66 "a file of blank lines is empty too"
base2=$(store_sum)
printf 'email,phone\n' >header.csv
run carnet-contacts import --list H header.csv
is "$status" 0 "a header-only file exits 0"
is "$out" "H: 0 rows: 0 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"and imports 0 rows"
is "$err" "" "without a warning"
is "$(sql "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'H'")" 0 \
	"the list exists, empty"
store_restore_sum=$(store_sum)
run carnet-contacts import --list E nope.csv
is "$status" 66 "a missing input file exits 66"
like "$err" "nope.csv: cannot open: No such file or directory" "and names it"
is "$(store_sum)" "$store_restore_sum" "and changes nothing"
is "$(sql "SELECT count(*) FROM list WHERE name = 'E'")" 0 "the empty and missing inputs created no list"

# --- too many fields ----------------------------------------------------------------------
printf 'email,first_name\nw1@x.fr,A\nw2@x.fr,B,extra\nw3@x.fr,C\n' >wide.csv
run carnet-contacts import --list W --rejects wide.rej wide.csv
is "$status" 65 "a row with too many fields exits 65"
like "$err" "wide.csv:3: 3 fields, header has 2" "the reason says how many fields"
is "$(sed -n 2p wide.rej)" '3,"3 fields, header has 2",w2@x.fr,B,extra' "the rejects file has the row"
is "$(export_noid W | sed 1d | cut -d, -f1)" "$(printf 'w1@x.fr\nw3@x.fr')" "the other rows are imported"

# --- a value too long ------------------------------------------------------------------------
{ echo 'email,note'; printf 'long@x.fr,'; head -c 70000 /dev/zero | tr '\0' x; echo; echo 'ok@x.fr,fine'; } >long.csv
run carnet-contacts import --list LG long.csv
is "$status" 65 "a value over 64 KiB exits 65"
is "$err" "carnet-contacts: long.csv:2: field 'note' too long (70000 bytes, at most 65536)" \
	"the reason names the field and the limit"
is "$(export_noid LG | sed 1d)" "ok@x.fr,,,,fine" "the other row is imported"

# --- duplicates inside one file ---------------------------------------------------------------
printf 'email,first_name\nd1@x.fr,First\nd2@x.fr,Two\nd1@X.FR,Second\n' >dup.csv
run carnet-contacts import --list D --rejects dup.rej dup.csv
is "$status" 65 "a duplicate inside the file exits 65"
# a duplicate of a contact this import created says "earlier in this
# file" (the import keeps no per-row line for new contacts: see
# DUPLICATES in carnet-contacts(1)); of an existing one, its first line
like "$err" "dup.csv:4: duplicate email 'd1@x.fr' \(earlier in this file\)" \
	"the second is reported as a duplicate"
is "$(sql_raw "SELECT first_name FROM contact WHERE email = 'd1@x.fr'")" "First" "the duplicate is not merged"
is "$out" "D: 3 rows: 2 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected, 0 removed" \
	"the duplicate is counted as rejected"
printf 'email,first_name\nother@x.fr,O\nkeep@x.fr,K1\nkeep@x.fr,K2\n' >dup2.csv
run carnet-contacts import --list L --rejects dup2.rej dup2.csv
like "$err" "dup2.csv:4: duplicate email 'keep@x.fr' \(first on line 3\)" \
	"a duplicate of an existing contact names the first line too"
is "$(sql_raw "SELECT first_name FROM contact WHERE email = 'keep@x.fr'")" "K1" "only the first is applied"
printf 'phone,first_name\n0612340001,A\n06 12 34 00 01,B\n' >dup3.csv
run carnet-contacts import --list D3 --key phone dup3.csv
is "$status" 65 "a duplicate phone (written differently) exits 65 with --key phone"
like "$err" "dup3.csv:3: duplicate phone '\+33612340001' \(earlier in this file\)" \
	"and names the normalised number"

# --- --atomic -----------------------------------------------------------------------------
base=$(store_sum)
printf 'email,first_name\nat1@x.fr,A\nkeep@x.fr,Changed\nbad,X\nat2@x.fr,B\n' >atomic.csv
run carnet-contacts import --list L --atomic --format json atomic.csv
is "$status" 65 "--atomic with a bad row exits 65"
is "$(printf '%s' "$out" | jq -c 'del(.backup)')" '{"folder":"default","list":"L","rows":4,"inserted":0,"updated":0,"unchanged":0,"skipped":0,"rejected":1,"removed":0,"dry_run":false,"committed":false}' \
	"--atomic: the summary says nothing was committed"
is "$(store_sum)" "$base" "--atomic: nothing is imported or changed"
run carnet-contacts import --list NEW --atomic atomic.csv
is "$(sql "SELECT count(*) FROM list WHERE name = 'NEW'")" 0 "--atomic: not even the new list"

# --- replace with a bad row --------------------------------------------------------------------
run carnet-contacts import --list PE --mode replace --rejects rep.rej atomic.csv
is "$status" 65 "replace with a bad row exits 65"
is "$out" "PE: 4 rows: 0 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected, 0 removed" \
	"replace with a bad row: nothing inserted, nothing removed"
is "$(store_sum)" "$base" "replace with a bad row changes nothing"
is "$(sed -n 2p rep.rej)" '4,"invalid email '"'bad'"': no '"'@'"'",bad,X' "its rejects file has the row"

# --- YAML errors -----------------------------------------------------------------------------
printf 'E-mail: email\n  Mobile: phone\n' >bad.map.yaml
run carnet-contacts import --list L --map-file bad.map.yaml pe.csv
is "$status" 64 "a YAML syntax error in --map-file exits 64"
like "$err" "^carnet-contacts: bad.map.yaml:2:9: mapping values are not allowed" "with file:line:col"
printf 'E-mail: email\nMobile: "phone\n' >bad2.map.yaml
run carnet-contacts import --list L --map-file bad2.map.yaml pe.csv
is "$status" 64 "an unterminated quote in --map-file exits 64"
like "$err" "bad2.map.yaml:[0-9]+:[0-9]+: .*quoted scalar at 2:9" "and points at the quote"
printf 'E-mail: email\nMobile: [phone]\n' >bad3.map.yaml
run carnet-contacts import --list L --map-file bad3.map.yaml pe.csv
is "$status" 64 "a sequence as a field in --map-file exits 64"
like "$err" "bad3.map.yaml:2:9: expected a field name for 'Mobile'" "with file:line:col"
run carnet-contacts import --list L --map-file missing.yaml pe.csv
is "$status" 66 "a missing --map-file exits 66"
is "$(store_sum)" "$base" "map file errors change nothing"
printf 'E-mail: email\nMobile: phone\nNom: last_name\n' >good.map.yaml
run carnet-contacts import --list MF --map-file good.map.yaml --rejects /dev/null pe.csv
is "$status" 65 "a good --map-file works (exit 65 for the bad rows of pe.csv)"
is "$(export_noid MF | sed 1d | head -1)" "ann@x.fr,+33612345678,,Petit" "and maps the columns"

base=$(store_sum)
printf 'folder: x\n  bad: : y\n' >bad.cfg.yaml
run carnet-contacts --config bad.cfg.yaml ls
is "$status" 78 "a config file with a YAML error exits 78"
like "$err" "^carnet-contacts: bad.cfg.yaml:2:6: " "with file:line:col"
run env CARNET_CONFIG=bad.cfg.yaml carnet-contacts import --list L pe.csv
is "$status" 78 "the same through CARNET_CONFIG"
cp bad.cfg.yaml "$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-contacts import --list L pe.csv
is "$status" 78 "the same in the default place"
like "$err" "config.yaml:2:6: " "with file:line:col"
backups_off
run carnet-contacts --config missing.yaml ls
is "$status" 78 "a missing --config file exits 78"
printf 'nosuchkey: 1\n' >unknown.cfg.yaml
run carnet-contacts --config unknown.cfg.yaml ls
is "$status" 78 "an unknown key in the config exits 78"
like "$err" "unknown.cfg.yaml:1:1: .*nosuchkey" "and names it with its place"

printf 'sync:\n  password: hunter2-secret\n' >secret.yaml
chmod 644 secret.yaml
run carnet-contacts --config secret.yaml import --list L pe.csv
is "$status" 78 "a config with a secret, mode 0644, exits 78"
like "$err" "secret.yaml: holds secrets and is readable by others \(mode 0644\); run chmod 600" \
	"the message says to chmod 600"
unlike "$err$out" "hunter2" "the secret is not printed"
chmod 600 secret.yaml
run carnet-contacts --config secret.yaml ls
is "$status" 0 "the same file with mode 0600 is accepted"
unlike "$err$out" "hunter2" "and the secret is still not printed"
is "$(store_sum)" "$base" "configuration errors change nothing"

# --- unknown option values: usage errors, no store touched ---------------------------------------
export CARNET_STORE="$T/untouched.db"
for args in "--mode nope" "--format nope" "--key nope" "--input-format nope" "--delimiter ab" "--no-such-option"; do
	# shellcheck disable=SC2086
	run carnet-contacts import --list L $args pe.csv
	is "$status" 64 "import $args exits 64"
	is "$out" "" "import $args prints nothing on stdout"
done
run carnet-contacts import --list L --mode nope pe.csv
is "$err" "$(printf '%s\n' "carnet-contacts: unknown mode 'nope' (add, update, upsert, replace)" "Try 'carnet-contacts --help' for more information.")" \
	"an unknown mode lists the modes"
run carnet-contacts import --list L --format nope pe.csv
like "$err" "unknown format 'nope' \(csv, json, ndjson, table\)" "an unknown format lists the formats"
run carnet-contacts import --list L --key nope pe.csv
like "$err" "unknown key 'nope' \(email, phone, id\)" "an unknown key lists the keys"
run carnet-contacts import pe.csv
is "$status" 64 "import without --list exits 64"
run carnet-contacts frobnicate
is "$status" 64 "an unknown command exits 64"
ok "$([ ! -e "$T/untouched.db" ]; echo $?)" "usage errors do not create the store"
done_testing
