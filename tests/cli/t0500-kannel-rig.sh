#!/usr/bin/env bash
# The Kannel test rig itself (tests/kannel.sh, tests/fakesmsc.pl), driven
# with curl, no carnet tool: a GSM-7 text reaches the fake SMSC exactly; a
# UTF-8 text with charset=UTF-8&coding=2 arrives as UCS-2 with ê/ô intact
# (and without coding=2 Kannel turns them into "?"); a long text arrives as
# parts with a concatenation UDH, cut at max-messages; the sender arrives;
# sendsms's answers (202, 403, 400) as Kannel words them; an MO from the
# fake SMSC reaches the sms-service get-url; a dlr-url with dlr-mask 31 is
# called back with types 8 and 1; the SMSC link down (queued, then sent);
# smsbox stopped then started again; and
# nothing is left running afterwards.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/kannel.sh"

kannel_require
# get-url and dlr-url lead to an HTTP sink that logs each request line
: >"$T/http.log"
http_sink_start "$T/http.log"
http_port=$HTTP_SINK_PORT
KANNEL_MO_URL="http://127.0.0.1:$http_port/mo" kannel_start

pw=$(cat "$KANNEL_PASSWORD_FILE")

# urlenc TEXT: TEXT URL-encoded (every byte but unreserved ones)
urlenc() {
	printf '%s' "$1" | perl -0777 -pe 's/([^A-Za-z0-9_.~-])/sprintf("%%%02X", ord $1)/ge'
}

# sendsms QUERY: GET sendsms with the rig's user and password and QUERY;
# sets $code (HTTP status) and $body
sendsms() {
	body=$(curl -s -m 10 -w '\n%{http_code}' \
		"$KANNEL_SENDSMS_URL?username=$KANNEL_USER&password=$pw&$1")
	code=${body##*$'\n'}
	body=${body%$'\n'*}
}

# mt N: the Nth MT record the fake SMSC logged (1-based), compact JSON
mt() { sed -n "${1}p" "$FAKESMSC_LOG"; }

# param LINE NAME: the value of NAME in the request LINE, URL-decoded, and
# from UTF-16BE to UTF-8 when the request says charset=UTF-16BE
param() {
	printf '%s' "$1" | perl -MEncode -e '
		my ($q) = <STDIN> =~ m{^\S+ \S*?\?(\S*)} or exit 1;
		my %p;
		for (split /&/, $q) {
			my ($k, $v) = split /=/, $_, 2;
			$v //= ""; $v =~ tr/+/ /;
			$v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
			$p{$k} = $v;
		}
		my $v = $p{$ARGV[0]} // exit 1;
		$v = encode("UTF-8", decode("UTF-16BE", $v))
			if ($p{charset} // "") eq "UTF-16BE" && $ARGV[0] eq "text";
		print $v' "$2"
}

# --- the rig -------------------------------------------------------------
is "$(stat -c %a "$KANNEL_PASSWORD_FILE")" 600 "the password file is mode 0600"
is "$(stat -c %a "$KANNEL_CARNET_YAML")" 600 "carnet.yaml is mode 0600"
like "$(cat "$KANNEL_CARNET_YAML")" "url: $KANNEL_SENDSMS_URL" "carnet.yaml names the sendsms URL"
like "$(cat "$KANNEL_CARNET_YAML")" "password_file: $KANNEL_PASSWORD_FILE" "and the password file"
if command -v ss >/dev/null; then
	# this rig's processes only (other tests may run a Kannel too)
	listen=$(ss -Hltnp 2>/dev/null | grep -E 'bearerbox|smsbox' |
		grep -E "pid=($(paste -sd'|' "$KANNEL_DIR/pids")),")
	listen=$(printf '%s\n' "$listen" | awk 'NF { print $4 }')
	is "$(printf '%s\n' "$listen" | grep -vc '^127\.0\.0\.1:')" 0 \
		"bearerbox and smsbox listen on 127.0.0.1 only"
	is "$(printf '%s\n' "$listen" | grep -c .)" 4 \
		"on four ports: admin, smsbox, fake SMSC, sendsms"
fi

# --- answers: 202, 403, 400 ------------------------------------------------
sendsms "to=%2B33612345678&text=Bonjour"
is "$code $body" "202 0: Accepted for delivery" "a good request: 202 '0: Accepted for delivery'"
fakesmsc_wait 1
is "$(mt 1 | jq -r '[.from, .to, .type, .coding, .text] | join("|")')" \
	"$KANNEL_SENDER|+33612345678|text|7bit|Bonjour" \
	"it reaches the fake SMSC, from the default sender"
body=$(curl -s -m 10 -w '\n%{http_code}' \
	"$KANNEL_SENDSMS_URL?username=$KANNEL_USER&password=x$pw&to=%2B33612345678&text=x")
is "${body##*$'\n'} ${body%$'\n'*}" "403 Authorization failed for sendsms" \
	"a bad password: 403 'Authorization failed for sendsms'"
sendsms "text=x"
is "$code $body" "400 Missing receiver number, rejected" "no 'to': 400"
sendsms "to=abc&text=x"
is "$code $body" "400 Number(s) has/have been denied by white- and/or black-lists." \
	"a number that is not one: 400"
sendsms "to=%2B33612345678&text=x&coding=7"
is "$code $body" "400 Coding field misformed, rejected" "a bad coding: 400"
sleep 0.3
is "$(fakesmsc_count)" 1 "nothing refused reached the fake SMSC"

# --- GSM-7 text, exactly ---------------------------------------------------
gsm='Votre mission démarre lundi à 8h (10€) {ok} @ [x] ~ ^ | \ Ü ñ ß'
sendsms "to=%2B33612345678&from=ACME&charset=UTF-8&text=$(urlenc "$gsm")"
is "$code" 202 "a GSM-7 text: accepted"
fakesmsc_wait 2
is "$(mt 2 | jq -r .coding)" 7bit "it arrives 7-bit"
is "$(mt 2 | jq -r .text)" "$gsm" "and exactly, with é à € { } @ [ ] ~ ^ | \\ Ü ñ ß"
is "$(mt 2 | jq -r .from)" ACME "the sender (from=ACME) arrives"

# --- UCS-2 -------------------------------------------------------------------
ucs='Votre prêt: 3 000 € à rembourser, chômage ê/ô ç'
sendsms "to=%2B33612345678&from=%2B33700000001&charset=UTF-8&coding=2&text=$(urlenc "$ucs")"
is "$code" 202 "a UTF-8 text with coding=2: accepted"
fakesmsc_wait 3
is "$(mt 3 | jq -r '[.type, .coding] | join(" ")')" "ucs-2 ucs-2" "it arrives as UCS-2"
is "$(mt 3 | jq -r .text)" "$ucs" "with ê, ô and ç intact"
is "$(mt 3 | jq -r .from)" "+33700000001" "the sender (a number) arrives"
sendsms "to=%2B33612345678&charset=UTF-8&text=$(urlenc 'prêt chômage')"
fakesmsc_wait 4
is "$(mt 4 | jq -r '[.coding, .text] | join(" ")')" "7bit pr?t ch?mage" \
	"without coding=2 Kannel sends 7-bit with '?' for ê and ô (the driver must send coding=2)"

# --- a long text: parts with a UDH ----------------------------------------------
long=$(printf 'Message %03d de test. ' $(seq 1 20))	# 400 characters
sendsms "to=%2B33698765432&from=ACME&charset=UTF-8&text=$(urlenc "$long")"
is "$code" 202 "a 400-character text: accepted"
fakesmsc_wait 7
parts=$(tail -n 3 "$FAKESMSC_LOG")
is "$(printf '%s\n' "$parts" | jq -r '[.type, .to, .parts, .part] | join(" ")' | tr '\n' ,)" \
	"udh +33698765432 3 1,udh +33698765432 3 2,udh +33698765432 3 3," \
	"it arrives as 3 parts, numbered 1 to 3 of 3"
is "$(printf '%s\n' "$parts" | jq -r .ref | sort -u | wc -l)" 1 "with one reference"
like "$(printf '%s\n' "$parts" | jq -r .udh | head -n 1)" '^050003[0-9a-f]{2}0301$' \
	"the UDH is 05 00 03 REF 03 01 (8-bit reference concatenation)"
is "$(printf '%s\n' "$parts" | jq -r .text | tr -d '\n')" "$long" "the parts put together are the text"
is "$(fakesmsc_messages | tail -n 1 | jq -r '[.parts, .text] | join(" ")')" "3 $long" \
	"fakesmsc_messages joins them into one message"

ulong=$(printf 'Prêt n°%02d à rembourser. ' $(seq 1 6))
sendsms "to=%2B33698765432&charset=UTF-8&coding=2&text=$(urlenc "$ulong")"
fakesmsc_wait 10
is "$(tail -n 3 "$FAKESMSC_LOG" | jq -r '[.coding, .part, .parts] | join(" ")' | tr '\n' ,)" \
	"ucs-2 1 3,ucs-2 2 3,ucs-2 3 3," "a long UCS-2 text: 3 parts of UCS-2"
is "$(fakesmsc_messages | tail -n 1 | jq -r .text)" "$ulong" "put together, intact"

huge=$(printf 'x%.0s' $(seq 1 1700))	# 12 parts of 153
sendsms "to=%2B33611223344&text=$huge"
is "$code $body" "202 0: Accepted for delivery" "a 12-part text: accepted all the same"
fakesmsc_wait 20
sleep 0.5
is "$(fakesmsc_messages | tail -n 1 | jq -r '[.to, .parts, (.text | length)] | join(" ")')" \
	"+33611223344 10 1530" "Kannel cut it silently at max-messages (10 parts, 1,530 characters)"

# --- an MO reaches get-url -----------------------------------------------------
: >"$T/http.log"
fakesmsc_mo +33612345678 36180 'Oui, merci à vous'
_kannel_until 10 grep -q '^GET /mo' "$T/http.log"
mo=$(grep '^GET /mo' "$T/http.log" | head -n 1)
is "$(param "$mo" from)|$(param "$mo" to)|$(param "$mo" text)" \
	"+33612345678|36180|Oui, merci à vous" "an MO reaches get-url: from, to, text"
is "$(param "$mo" coding)/$(param "$mo" charset)" "0/UTF-8" "a 7-bit MO comes as UTF-8"
like "$(param "$mo" time)" '^[0-9]{10}$' "with a Unix time (%T)"
like "$(param "$mo" id)" '^[0-9a-f-]{36}$' "and an id (%I)"
fakesmsc_mo +33612345678 36180 'STOP ê'
_kannel_until 10 eval '[ "$(grep -c "^GET /mo" "$T/http.log")" -ge 2 ]'
mo=$(grep '^GET /mo' "$T/http.log" | sed -n 2p)
is "$(param "$mo" coding)/$(param "$mo" charset)" "2/UTF-16BE" "a UCS-2 MO comes as UTF-16BE"
is "$(param "$mo" text)" "STOP ê" "with its text intact"
is "$(jq -r .coding "$FAKESMSC_MO_LOG" | tr '\n' ' ')" "text ucs2 " \
	"the fake SMSC wrote a text line, then a ucs2 line"
sleep 0.3
is "$(fakesmsc_count)" 20 "the sms-service sent no reply (max-messages 0)"

# --- delivery reports ---------------------------------------------------------------
: >"$T/http.log"
dlr="http://127.0.0.1:$http_port/dlr?ref=r-1&type=%d&p=%p&P=%P&ts=%T&A=%A"
sendsms "to=%2B33612345678&from=ACME&text=dlr&dlr-mask=31&dlr-url=$(urlenc "$dlr")"
is "$code" 202 "dlr-mask=31 with a dlr-url: accepted"
_kannel_until 10 eval '[ "$(grep -c "^GET /dlr" "$T/http.log")" -ge 2 ]'
sleep 0.5
types=$(grep '^GET /dlr' "$T/http.log" | while read -r l; do param "$l" type; echo; done | sort -n | tr '\n' ' ')
is "$types" "1 8 " "dlr-url is called twice: type 8 (SMSC accepted) and type 1 (delivered)"
l=$(grep '^GET /dlr' "$T/http.log" | head -n 1)
is "$(param "$l" ref) $(param "$l" p) $(param "$l" P)" "r-1 +33612345678 ACME" \
	"with our ref, %p the handset and %P the sender"
l=$(grep '^GET /dlr.*type=8' "$T/http.log")
is "$(param "$l" A)" "ACK/" "type 8 carries %A 'ACK/'"

# --- the SMSC link down: queued, then sent ------------------------------------------
fakesmsc_stop
: >"$T/http.log"
dlr="http://127.0.0.1:$http_port/dlr?ref=r-2&type=%d"
sendsms "to=%2B33612345678&text=queued&dlr-mask=31&dlr-url=$(urlenc "$dlr")"
is "$code $body" "202 3: Queued for later delivery" \
	"the SMSC not connected: 202 '3: Queued for later delivery'"
sleep 1
is "$(grep -c . "$T/http.log")" 0 "no delivery report while it waits (no type 4)"
fakesmsc_start
fakesmsc_wait 22
is "$(mt 22 | jq -r .text)" queued "the SMSC back: the queued message goes out"
_kannel_until 10 eval '[ "$(grep -c "^GET /dlr" "$T/http.log")" -ge 2 ]'
is "$(grep -c '^GET /dlr' "$T/http.log")" 2 "and its two reports (8 and 1) come then"

# --- smsbox down, then back --------------------------------------------------------
kannel_stop_smsbox
curl -s -m 5 -o /dev/null "$KANNEL_SENDSMS_URL?username=$KANNEL_USER&password=$pw&to=%2B33612345678&text=down"
is "$?" 7 "smsbox stopped: sendsms refuses the connection (curl exit 7)"
kannel_start_smsbox
sendsms "to=%2B33612345678&text=back"
is "$code $body" "202 0: Accepted for delivery" "smsbox started again: accepted"
fakesmsc_wait 23
is "$(mt 23 | jq -r .text)" back "and delivered"

# --- a text with line breaks: one line per MT, joined back by the fake SMSC ------------
sendsms "to=%2B33612345678&charset=UTF-8&text=$(urlenc $'Ligne 1\nLigne 2 text x\n3 data\n')"
fakesmsc_wait 24
sleep 0.3
is "$(mt 24 | jq -c '[.text, .n]')" '["Ligne 1\nLigne 2 text x\n3 data\n",24]' \
	"a text with line breaks arrives whole, as one MT"
is "$(fakesmsc_count)" 24 "and counts one"
sendsms "to=%2B33612345678&coding=1&text=%01%02bin"
fakesmsc_wait 25
is "$(mt 25 | jq -r '[.type, .coding, .hex] | join(" ")')" "data 8bit 010262696e" \
	"coding=1: an 8-bit data line, its bytes in hex"

# --- nothing left running -------------------------------------------------------
pids=$(cat "$KANNEL_DIR/pids")
is "$(printf '%s\n' "$pids" | wc -l)" 6 \
	"the HTTP sink, bearerbox, the fake SMSC (twice) and smsbox (twice) were started"
kannel_stop
left=
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
is "$left" "" "kannel_stop stopped them all"
is "$(ps -eo args | grep -F "$KANNEL_DIR" | grep -cv grep)" 0 \
	"no process of this rig is left"

done_testing
