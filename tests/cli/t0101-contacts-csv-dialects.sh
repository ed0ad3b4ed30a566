#!/usr/bin/env bash
# CSV as spreadsheets write it: a UTF-8 BOM, CRLF, quoted line breaks (and
# the line numbers of later rows), ';' and tab detected or given with
# --delimiter, doubled quotes, blanks around header names, blank lines,
# short rows, and the column names understood without --map.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1	# messages name files as given: relative names here

# --- BOM ----------------------------------------------------------------------
printf '\xef\xbb\xbfemail,first_name\nbom@x.fr,Bea\n' >"$T/bom.csv"
run carnet-contacts import --list bom "$T/bom.csv"
is "$status" 0 "a file with a UTF-8 BOM imports"
is "$(sql_raw "SELECT email, first_name, attrs IS NULL FROM contact")" "bom@x.fr|Bea|1" \
	"the BOM is not part of the first column name (email is the key, no stray attribute)"
is "$(sql "SELECT fields IS NULL OR fields = '[]' FROM list WHERE name = 'bom'")" 1 \
	"the list has no attribute column"

# --- CRLF with quoted line breaks; line numbers of later rejects ------------------
printf 'email,first_name,note\r\na@x.fr,Ann,"l1\r\nl2"\r\nb@x.fr,Bob,plain\r\n\r\nbad,Bad,x\r\nc@x.fr,Cid,last\r\n' >"$T/crlf.csv"
run carnet-contacts import --list crlf --rejects crlf.rej crlf.csv
is "$status" 65 "CRLF file with one bad row exits 65"
is "$out" "crlf: 4 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected, 0 removed" \
	"CRLF: the blank line is not a row; the rest are counted"
is "$err" "carnet-contacts: crlf.csv:6: invalid email 'bad': no '@'" \
	"CRLF: the bad row is on line 6 (a quoted line break and a blank line before it)"
is "$(sed -n 2p "$T/crlf.rej")" "6,\"invalid email 'bad': no '@'\",bad,Bad,x" \
	"the rejects file has the same line number and the row without its CR"
is "$(sql "SELECT count(*) FROM contact WHERE instr(first_name, char(13)) OR instr(attrs, '\\r\"')")" 0 \
	"no value keeps the CR of a CRLF line end"
is "$(sql_raw "SELECT json_extract(attrs, '\$.note') = 'plain' FROM contact WHERE email = 'b@x.fr'")" 1 \
	"the last field of a CRLF row is clean"
is "$(sql_raw "SELECT hex(json_extract(attrs, '\$.note')) FROM contact WHERE email = 'a@x.fr'")" \
	"$(printf 'l1\r\nl2' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
	"a quoted line break is kept in the value as written"

printf 'email,first_name,note\na@x.fr,Ann,"multi\nline\nnote"\nb@x.fr,Bob,"x\n\ny"\nbad1,Bad,x\nc@x.fr,Cid,ok\n"bad2",Bad,"z\nz"\nbad3,B,y\n' >"$T/nl.csv"
run carnet-contacts import --list nl --rejects nl.rej nl.csv
is "$status" 65 "quoted line breaks: exits 65 for the bad rows"
want=$(cat <<'EOF'
carnet-contacts: nl.csv:8: invalid email 'bad1': no '@'
carnet-contacts: nl.csv:10: invalid email 'bad2': no '@'
carnet-contacts: nl.csv:12: invalid email 'bad3': no '@'
EOF
)
is "$err" "$want" "quoted line breaks: later rows keep their true line numbers"
cat >"$T/nl.want" <<'EOF'
line,reason,email,first_name,note
8,"invalid email 'bad1': no '@'",bad1,Bad,x
10,"invalid email 'bad2': no '@'","bad2",Bad,"z
z"
12,"invalid email 'bad3': no '@'",bad3,B,y
EOF
file_is "$T/nl.rej" "$T/nl.want" "the rejects file holds each original row as written, quotes and line breaks included"
is "$(sql_raw "SELECT json_extract(attrs, '\$.note') FROM contact WHERE email = 'a@x.fr' AND first_name = 'Ann'")" \
	"$(printf 'multi\nline\nnote')" "a multi-line value is stored whole"

# the rejects file, fixed, imports again with line and reason ignored
sed -e 's/bad1,/bad1@x.fr,/' -e 's/"bad2"/bad2@x.fr/' -e 's/bad3,/bad3@x.fr,/' "$T/nl.rej" >"$T/nl.fixed"
run carnet-contacts import --list nl --map 'line=-,reason=-' "$T/nl.fixed"
is "$status" 0 "a fixed rejects file imports with --map 'line=-,reason=-'"
is "$out" "nl: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"and adds the three rows"
is "$(sql_raw "SELECT json_extract(attrs, '\$.note') FROM contact WHERE email = 'bad2@x.fr'")" "$(printf 'z\nz')" \
	"the multi-line value survives the round trip through the rejects file"

# --- delimiters -----------------------------------------------------------------
printf 'email;first_name;note\nsemi@x.fr;Sam;"a,b"\n' >"$T/semi.csv"
run carnet-contacts import --list semi --rejects "$T/semi.rej" "$T/semi.csv"
is "$status" 0 "';' is detected"
is "$(sql_raw "SELECT first_name, json_extract(attrs, '\$.note') FROM contact WHERE email = 'semi@x.fr'")" "Sam|a,b" \
	"';' file: fields split on ';' only"
printf 'email;first_name\nsemi2@x.fr;S2\nnope;S3\n' >"$T/semi2.csv"
run carnet-contacts import --list semi --rejects "$T/semi.rej" "$T/semi2.csv"
is "$(cat "$T/semi.rej")" "$(printf '%s\n' "line;reason;email;first_name" "3;\"invalid email 'nope': no '@'\";nope;S3")" \
	"the rejects file of a ';' input uses ';'"

printf 'email\tfirst_name\tnote\ntab@x.fr\tTom\ta,b;c\n' >"$T/tab.tsv"
run carnet-contacts import --list tab "$T/tab.tsv"
is "$status" 0 "tab is detected"
is "$(sql_raw "SELECT first_name, json_extract(attrs, '\$.note') FROM contact WHERE email = 'tab@x.fr'")" "Tom|a,b;c" \
	"tab file: fields split on tabs only"

# a header where detection guesses wrong: --delimiter decides
printf 'email;first,name,x\nd1@x.fr;v,w,z\n' >"$T/d1.csv"
run carnet-contacts import --list d1 "$T/d1.csv"
is "$status" 65 "',' guessed from 'email;first,name,x': no email column, exits 65"
run carnet-contacts import --list d1 --delimiter ';' "$T/d1.csv"
is "$status" 0 "--delimiter ';' overrides the guess"
is "$(sql_raw "SELECT json_extract(attrs, '\$.\"first,name,x\"') FROM contact WHERE email = 'd1@x.fr'")" "v,w,z" \
	"--delimiter ';': the column 'first,name,x' is one attribute"
printf 'email\tnote;a;b\nd2@x.fr\tv;w;z\n' >"$T/d2.csv"
run carnet-contacts import --list d2 --delimiter tab "$T/d2.csv"
is "$status" 0 "--delimiter tab"
is "$(sql_raw "SELECT json_extract(attrs, '\$.\"note;a;b\"') FROM contact WHERE email = 'd2@x.fr'")" "v;w;z" \
	"--delimiter tab: ';' is data"
run carnet-contacts import --list d2 --delimiter '""' "$T/d2.csv"
is "$status" 64 "a delimiter of two characters is a usage error"

# --- quotes ------------------------------------------------------------------------
printf 'email,first_name,note\nq@x.fr,"Jean ""JJ""","say ""hi"", ok"\n' >"$T/q.csv"
run carnet-contacts import --list q "$T/q.csv"
is "$status" 0 "doubled quotes import"
is "$(sql_raw "SELECT first_name, json_extract(attrs, '\$.note') FROM contact WHERE email = 'q@x.fr'")" \
	'Jean "JJ"|say "hi", ok' "doubled quotes become one quote"
is "$(export_noid q | sed 1d)" 'q@x.fr,,"Jean ""JJ""",,"say ""hi"", ok"' "and are doubled again on export"

# --- names in the header ---------------------------------------------------------------
printf ' email ,  first_name , Code client \nsp@x.fr,Spa,K1\n' >"$T/sp.csv"
run carnet-contacts import --list sp "$T/sp.csv"
is "$status" 0 "blanks around header names are ignored"
is "$(sql_raw "SELECT first_name, json_extract(attrs, '\$.\"Code client\"') FROM contact WHERE email = 'sp@x.fr'")" "Spa|K1" \
	"' email ' is email and ' Code client ' the attribute 'Code client'"
run carnet-contacts export --list sp
is "$(printf '%s\n' "$out" | head -1)" "id,email,phone,first_name,last_name,Code client" "the exported header has the trimmed name"

printf 'Prénom,Nom,E-mail,mobile\nAnaïs,Lefèvre,al@x.fr,06 12 34 56 90\n' >"$T/fr.csv"
run carnet-contacts import --list fr "$T/fr.csv"
is "$status" 0 "Prénom, Nom, E-mail, mobile without --map"
is "$(sql_raw "SELECT first_name, last_name, phone, attrs IS NULL FROM contact WHERE email = 'al@x.fr'")" "Anaïs|Lefèvre|+33612345690|1" \
	"they map to first_name, last_name, email and phone"
printf 'FIRSTNAME;Last Name;Courriel;GSM;Tel.\nZed;Zulu;zz@x.fr;0612345691;x\n' >"$T/fr2.csv"
run carnet-contacts import --list fr2 "$T/fr2.csv"
is "$status" 0 "FIRSTNAME, Last Name, Courriel, GSM (any ASCII case)"
is "$(sql_raw "SELECT first_name, last_name, phone, json_extract(attrs, '\$.\"Tel.\"') FROM contact WHERE email = 'zz@x.fr'")" "Zed|Zulu|+33612345691|x" \
	"they map to the core fields; an unknown name stays an attribute"
printf 'email,mail\nm1@x.fr,m2@x.fr\n' >"$T/two.csv"
run carnet-contacts import --list two "$T/two.csv"
is "$status" 64 "two columns that map to email are an error"
like "$err" "two columns map to 'email'" "and the message says so"

# --- short rows and blank lines -----------------------------------------------------------
printf 'email,first_name,last_name\n\nshort@x.fr\n   \nshort2@x.fr,S\n' >"$T/short.csv"
run carnet-contacts import --list short "$T/short.csv"
is "$status" 0 "rows with fewer fields than the header are accepted"
is "$out" "short: 2 rows: 2 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"blank lines are not rows"
is "$(sql_raw "SELECT email, first_name IS NULL, last_name IS NULL FROM contact WHERE email LIKE 'short%' ORDER BY id")" \
	"$(printf '%s\n' 'short@x.fr|1|1' 'short2@x.fr|0|1')" "the missing fields are empty"

# --- export round trip ------------------------------------------------------------------
carnet-contacts export --list nl >"$T/nl.out"
run carnet-contacts import --list nl-copy "$T/nl.out"
is "$status" 0 "an export imports again"
is "$(export_noid nl-copy)" "$(export_noid nl)" "and gives the same list back (line breaks, quotes and all)"
carnet-contacts export --list nl --delimiter ';' >"$T/nl-semi.out"
is "$(head -1 "$T/nl-semi.out")" "id;email;phone;first_name;last_name;note" "export --delimiter ';'"
run carnet-contacts import --list nl-semi "$T/nl-semi.out"
is "$(export_noid nl-semi)" "$(export_noid nl)" "a ';' export imports back the same"
done_testing
