#!/usr/bin/env bash
# carnet-template render: one record per recipient with the text actually
# sent, its encoding, characters, units and segments as the encoder counts
# them (GSM-7, the extension table, UCS-2, emoji, the boundaries, an escape
# pair at a part's edge), transliteration, the sender name and the STOP
# mention from the configuration, {{date}}, defaults, missing values
# (rejected with their line, the others rendered, exit 65), CSV and NDJSON
# input, the issue's pipeline from carnet-contacts, sms.max_segments.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
export TZ=UTC

add() {
	printf '%s' "$1" >"$T/body"
	shift
	carnet-template add "$@" <"$T/body" >/dev/null
}
rep() { printf "$1%.0s" $(seq "$2"); }
# counts NAME... : "encoding chars units segments" of each output line
counts() { printf '%s\n' "$out" | jq -r '[.encoding, .chars, .units, .segments] | join(" ")'; }
# conf YAML: writes the configuration file
conf() {
	mkdir -p "$XDG_CONFIG_HOME/carnet"
	printf '%s\n' "$@" >"$XDG_CONFIG_HOME/carnet/config.yaml"
}

# the list's attribute column 'ville' makes {{ville}} a known field
printf 'email,phone,first_name,ville\na@x.fr,0612345678,Alice,Paris\nb@x.fr,0698765432,Bob,\n' >"$T/c.csv"
carnet-contacts import --list interim "$T/c.csv" >/dev/null
add 'Bonjour {{first_name}}, mission le {{date}} à {{ville|Lyon}}.' --title relance --context temp-worker
add '{{first_name}}' --title raw

# --- the basics -------------------------------------------------------------------
cat >"$T/r.csv" <<'EOF'
first_name,phone,ville
Alice,+33612345678,Paris
Jérôme,+33698765432,
,+33611111111,Metz
Chloé,+33622222222,"  Nantes "
EOF
run_in "$T/r.csv" carnet-template render relance
is "$status" 65 "a recipient with a missing value: exit 65"
is "$err" "carnet-template: <stdin>:4: missing value for merge field 'first_name' (template line 1, column 9)" \
	"its line and the field are reported on stderr"
want=$(cat <<'EOF'
{"line":2,"phone":"+33612345678","text":"Bonjour Alice, mission le 22/11/2026 à Paris.","encoding":"gsm7","chars":45,"units":45,"segments":1,"changes":""}
{"line":3,"phone":"+33698765432","text":"Bonjour Jérôme, mission le 22/11/2026 à Lyon.","encoding":"ucs2","chars":45,"units":45,"segments":1,"changes":""}
{"line":5,"phone":"+33622222222","text":"Bonjour Chloé, mission le 22/11/2026 à Nantes.","encoding":"gsm7","chars":46,"units":46,"segments":1,"changes":""}
EOF
)
is "$out" "$want" "the other recipients are rendered: NDJSON, with defaults, trimmed values, date, encodings"

printf 'first_name,phone\nAlice,+33612345678\n' >"$T/one.csv"
run_in "$T/one.csv" carnet-template render 1 --format csv
is "$status" 0 "render --format csv exits 0"
is "$out" "$(printf 'line,phone,text,encoding,chars,units,segments,changes\n2,+33612345678,"Bonjour Alice, mission le 22/11/2026 à Lyon.",gsm7,44,44,1,')" \
	"render --format csv: a header and one row"
run carnet-template render 1 "$T/one.csv"
is "$status" 0 "a FILE operand is read like standard input"
like "$out" '"line":2,' "and rendered"
export CARNET_NOW=1795390200	# 2026-11-22T23:30:00Z
run_in "$T/one.csv" carnet-template render 1
like "$out" "le 22/11/2026" "{{date}} is the send date in UTC"
TZ=Europe/Paris run_in "$T/one.csv" carnet-template render 1
like "$out" "le 23/11/2026" "and in local time (TZ): already the next day in Paris"
export CARNET_NOW=1795334400

# --- encodings and segments at the boundaries ----------------------------------------
# each line is a first_name that the template 'raw' sends as it is
{
	echo first_name
	rep a 160; echo			# GSM-7: 160 septets, one SMS
	rep a 161; echo			# two parts of 153
	rep a 306; echo			# exactly two parts
	rep a 307; echo			# three
	rep '€' 80; echo		# € costs two septets: 160
	rep '€' 81; echo		# 162: two parts
	rep '{' 76; rep a 8; echo	# braces cost two too: 160
	rep a 152; printf '€'; rep a 152; echo	# 306 septets, but the escape pair may not be split: 3
	rep ê 70; echo			# UCS-2: 70 units, one SMS
	rep ê 71; echo			# two parts of 67
	rep ê 134; echo			# exactly two
	rep ê 135; echo			# three
	rep 😀 35; echo			# emoji: two units each, 70
	rep 😀 36; echo			# 72: two parts
	rep a 66; rep 😀 1; echo	# 68 units: 1
	printf 'é è ù à ì ò Ç É Ä Ö Ñ Ü ß'; echo	# all in the basic table
	printf 'ç'; echo		# lower-case ç is not: UCS-2
} >"$T/bounds.csv"
run_in "$T/bounds.csv" carnet-template render raw
is "$status" 0 "the boundary texts render"
want=$(cat <<'EOF'
gsm7 160 160 1
gsm7 161 161 2
gsm7 306 306 2
gsm7 307 307 3
gsm7 80 160 1
gsm7 81 162 2
gsm7 84 160 1
gsm7 305 306 3
ucs2 70 70 1
ucs2 71 71 2
ucs2 134 134 2
ucs2 135 135 3
ucs2 35 70 1
ucs2 36 72 2
ucs2 67 68 1
gsm7 25 25 1
ucs2 1 1 1
EOF
)
is "$(counts)" "$want" "encoding, characters, units and segments follow 3GPP TS 23.038/23.040"
is "$(printf '%s\n' "$out" | jq -r .text | head -1)" "$(rep a 160)" "the text is the value as given"

# --- transliteration ---------------------------------------------------------------
printf 'first_name\n"Tête-à-tête, ça « va » ?"\nCrème 😀\n' >"$T/tr.csv"
run_in "$T/tr.csv" carnet-template render raw
is "$(counts | tr '\n' '/')" "ucs2 24 24 1/ucs2 7 8 1/" "without --transliterate: UCS-2, characters untouched"
is "$(printf '%s\n' "$out" | jq -r .text | head -1)" "Tête-à-tête, ça « va » ?" "the text is not changed"
run_in "$T/tr.csv" carnet-template render raw --transliterate
is "$(printf '%s\n' "$out" | head -1 | jq -r '[.text, .encoding, .segments] | join("|")')" \
	'Tete-à-tete, ca " va " ?|gsm7|1' "--transliterate brings it into GSM-7"
is "$(printf '%s\n' "$out" | head -1 | jq -r .changes)" 'ê→e, ê→e, ç→c, «→", »→"' "and says what it changed"
is "$(printf '%s\n' "$out" | sed -n 2p | jq -r '[.text, .encoding, .changes] | join("|")')" 'Crème 😀|ucs2|' \
	"a text that cannot become GSM-7 is left as it is"

# --- sender name and STOP mention ------------------------------------------------------
conf 'sms:' '  sender: ACME' '  stop_mention: STOP au 36180' '  stop_separator: newline'
run_in "$T/one.csv" carnet-template render 1
is "$(printf '%s' "$out" | jq -r .text)" "$(printf 'Bonjour Alice, mission le 22/11/2026 à Lyon.\nSTOP au 36180')" \
	"the configured sender appends the STOP mention after a newline"
is "$(counts)" "gsm7 58 58 1" "and it is counted (44 + 1 + 13)"
{ echo first_name; rep a 146; echo; rep a 145; echo; } >"$T/stop.csv"
run_in "$T/stop.csv" carnet-template render raw
is "$(counts | tr '\n' '/')" "gsm7 160 160 1/gsm7 159 159 1/" "146 characters and the mention fill one SMS"
{ echo first_name; rep a 147; echo; } >"$T/stop2.csv"
run_in "$T/stop2.csv" carnet-template render raw
is "$(counts)" "gsm7 161 161 2" "one more makes two"
conf 'sms:' '  sender: ACME' '  stop_mention: STOP au 36180' '  stop_separator: space'
run_in "$T/one.csv" carnet-template render 1 --sender 'Agence 2'
is "$(printf '%s' "$out" | jq -r .text)" "Bonjour Alice, mission le 22/11/2026 à Lyon. STOP au 36180" \
	"--sender overrides the configured one; the separator can be a space"
add 'De la part de {{sender}} : {{first_name}}' --title from
run_in "$T/one.csv" carnet-template render from --sender 'Agence 2'
is "$(printf '%s' "$out" | jq -r .text)" "De la part de Agence 2 : Alice STOP au 36180" "{{sender}} is the sender name"
run_in "$T/one.csv" carnet-template render from --sender 'NAME TOO LONG'
is "$status" 64 "a bad --sender exits 64"
like "$err" "^carnet-template: --sender: " "and says why"
is "$out" "" "and renders nothing"
rm "$XDG_CONFIG_HOME/carnet/config.yaml"
run_in "$T/one.csv" carnet-template render from
is "$status" 65 "no sender name: {{sender}} is missing"
like "$err" "<stdin>:2: missing value for merge field 'sender' \(template line 1, column 15\)" "and the record is rejected"
add 'De la part de {{sender|nous}}' --title from2
run_in "$T/one.csv" carnet-template render from2
is "$(printf '%s' "$out" | jq -r .text)" "De la part de nous" "unless {{sender}} has a default"

# --- NDJSON input: the issue's pipeline ----------------------------------------------------
carnet-contacts export --list interim --format ndjson | carnet-template render relance >"$T/out" 2>"$T/err"
is "$?" 0 "carnet-contacts export | carnet-template render exits 0"
is "$(jq -r '[.line, .phone, .text] | join("|")' "$T/out")" \
	"$(printf '1|+33612345678|Bonjour Alice, mission le 22/11/2026 à Paris.\n2|+33698765432|Bonjour Bob, mission le 22/11/2026 à Lyon.')" \
	"one rendered text per contact; NDJSON lines are numbered from 1"
printf '{"first_name":"Ann","ville":42}\n{"first_name":null}\n{"first_name":true,"ville":["x"]}\n' >"$T/j.ndjson"
run_in "$T/j.ndjson" carnet-template render relance
is "$status" 65 "JSON input with bad values exits 65"
is "$(printf '%s' "$out" | jq -r .text)" "Bonjour Ann, mission le 22/11/2026 à 42." "a number renders as written"
is "$err" "$(printf "carnet-template: <stdin>:2: missing value for merge field 'first_name' (template line 1, column 9)\ncarnet-template: <stdin>:3: merge field 'ville' (template line 1, column 47) holds a JSON object or array, not a text")" \
	"null is missing; an array is not a text"

# --- limits and errors -----------------------------------------------------------------------
conf 'sms:' '  max_segments: 2'
run_in "$T/bounds.csv" carnet-template render raw
is "$status" 65 "texts longer than sms.max_segments: exit 65"
is "$(printf '%s\n' "$err" | head -1)" "carnet-template: <stdin>:5: the text is 3 segments long (at most 2: sms.max_segments)" \
	"each is reported with its line"
is "$(printf '%s\n' "$err" | wc -l)" 3 "three are"
is "$(printf '%s\n' "$out" | wc -l)" 14 "and left out; the 14 others are rendered"
rm "$XDG_CONFIG_HOME/carnet/config.yaml"
run_in "$T/one.csv" carnet-template render 99
is "$status" 66 "an unknown template exits 66"
is "$out" "" "and prints nothing"
run_in /dev/null carnet-template render 1
is "$status" 66 "an empty input exits 66"
run carnet-template render 1 "$T/nope.csv"
is "$status" 66 "a missing input file exits 66"
like "$err" "nope.csv: cannot open" "and says so"
printf 'first_name\n"unclosed\n' >"$T/bad.csv"
run_in "$T/bad.csv" carnet-template render 1
is "$status" 65 "a malformed CSV exits 65"
carnet-template edit 1 --inactive </dev/null
run_in "$T/one.csv" carnet-template render 1
is "$status" 0 "an inactive template still renders"
like "$err" "note: template 1 is inactive: the sending tools will not use it" "with a note"
run_in "$T/one.csv" carnet-template render 1 -q
is "$err" "" "-q silences the note"
done_testing
