#!/usr/bin/env bash
# carnet-sms-fetch --listen: Kannel's callbacks sent with curl in the
# exact format of the dlr-url and get-url (type=2, 16, 34; %p the
# handset; an MO in UTF-8 and one in UTF-16BE), the token (403 and
# nothing stored when wrong or missing), 400, 413, 429, events printed as
# they come, a receiver killed right after answering keeps the event, a
# token file readable by others refused, SIGTERM stops it.
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || skip_all "curl is not installed (make deps)"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
T0=$CARNET_NOW

carnet-sms-fetch --close-due >/dev/null
sql "INSERT INTO folder(name, created_at) VALUES('default', 0);
INSERT INTO campaign(uuid, folder_id, name, status, created_at, sent_at, close_at)
  VALUES('c-1', 1, 'relance', 'sent', $T0 - 600, $T0 - 600, $T0 + 72 * 3600);
INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, created_at, sent_at) VALUES
  ('0190aaaa-0000-7000-8000-000000000001', 1, 1, '+33600000001', 'x', 'gsm7', 1, 'sent', $T0 - 600, $T0 - 600),
  ('0190aaaa-0000-7000-8000-000000000002', 1, 1, '+33600000002', 'x', 'gsm7', 1, 'sent', $T0 - 600, $T0 - 600),
  ('0190aaaa-0000-7000-8000-000000000003', 1, 1, '+33600000003', 'x', 'gsm7', 1, 'sent', $T0 - 600, $T0 - 600),
  ('0190aaaa-0000-7000-8000-000000000004', 1, 1, '+33600000004', 'x', 'gsm7', 1, 'sent', $T0 - 600, $T0 - 600);"
R=0190aaaa-0000-7000-8000-00000000000

printf 's3cr&t+token\n' >cb.token
chmod 600 cb.token
TOK='s3cr%26t%2Btoken'	# URL-encoded, as carnet-sms-send writes it

# listen_start [ARGS...]: starts the receiver on a free port; sets $PORT, $LPID
listen_start() {
	rm -f ready
	carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready --format ndjson "$@" \
		>>events.out 2>>events.err &
	LPID=$!
	# a watchdog stops it if this shell is killed
	( while kill -0 $$ 2>/dev/null; do sleep 1; done; kill "$LPID" 2>/dev/null ) >/dev/null 2>&1 &
	for _ in $(seq 600); do	# 30 s at most (valgrind is slow)
		[ -s ready ] && break
		sleep 0.05
	done
	PORT=$(cat ready 2>/dev/null)
}
listen_stop() { kill "$LPID" 2>/dev/null; wait "$LPID"; }
trap 'kill $LPID 2>/dev/null; cd /; rm -rf "$T"' EXIT
# get QUERY [PATH]: the HTTP status of a GET
get() { curl -s -o body.out -w '%{http_code}' "http://127.0.0.1:$PORT/${2:-dlr}?$1"; }

listen_start --token-file cb.token
ok "$([ -n "$PORT" ] && echo 0 || echo 1)" "the receiver is listening (port in --ready-file)"

# --- the token ------------------------------------------------------------------
sum=$(store_sum)
is "$(get "t=wrong&ref=${R}1&type=1&p=%2B33600000001")" 403 "a wrong token: 403"
is "$(get "ref=${R}1&type=1&p=%2B33600000001")" 403 "no token: 403"
is "$(get "t=s3cr%26t%2Btoke&ref=${R}1&type=1")" 403 "a prefix of the token: 403"
is "$(store_sum)" "$sum" "nothing stored for a refused callback"

# --- delivery reports, as Kannel sends them (dlr-url with %d %p %P %T %A) ---------
is "$(get "t=$TOK&ref=${R}1&type=2&p=%2B33600000001&P=ACME&ts=1795334460&A=NACK%2F0x0000000b%2FInvalid+Destination+Address")" 200 "type=2: 200"
is "$(cat body.out)" "ok" "the answer says ok"
is "$(get "t=$TOK&ref=${R}2&type=16&p=%2B33600000002&P=ACME&ts=1795334460&A=")" 200 "type=16: 200"
is "$(get "t=$TOK&ref=${R}3&type=34&p=%2B33600000003&P=ACME&ts=1795334460&A=stat%3AUNDELIV")" 200 "type=34: 200"
is "$(get "t=$TOK&ref=${R}4&type=8&p=%2B33600000004&P=ACME&ts=1795334400&A=ACK%2F")" 200 "type=8: 200"
is "$(get "t=$TOK&ref=${R}4&type=1&p=%2B33600000004&P=ACME&ts=1795334470&A=")" 200 "type=1: 200"
is "$(get "t=$TOK&ref=${R}4&type=4&p=%2B33600000004&P=ACME&ts=1795334480&A=")" 200 "a late type=4: 200"
is "$(sql_raw "SELECT substr(ref, 36), status, coalesce(error, '-') FROM message ORDER BY id")" \
"1|failed|NACK/0x0000000b/Invalid Destination Address
2|rejected|rejected
3|failed|stat:UNDELIV
4|delivered|-" "2 and 34 failed, 16 rejected, 8 then 1 delivered, the late 4 changes nothing"
is "$(sql "SELECT DISTINCT phone FROM receipt WHERE message_id = 4")" "+33600000004" "the receipt's number is %p, the handset"

# --- MOs (sms-service get-url: from=%p&to=%P&text=%a&time=%T&id=%I&coding=%c&charset=%C)
is "$(get "t=$TOK&from=%2B33600000001&to=36180&text=Oui+je+suis+dispo+%C3%A0+8h&time=1795334500&id=mo-1&coding=0&charset=UTF-8" mo)" 200 "an MO: 200"
# UTF-16BE as Kannel passes a UCS-2 MO: "Arrêt"
is "$(get "t=$TOK&from=%2B33600000002&to=36180&text=%00A%00r%00r%00%EA%00t&time=1795334510&id=mo-2&coding=2&charset=UTF-16BE" mo)" 200 "a UCS-2 MO: 200"
is "$(sql_raw "SELECT phone, kind, body, coalesce(message_id, '-') FROM reply ORDER BY id")" \
"+33600000001|reply|Oui je suis dispo à 8h|1
+33600000002|optout|Arrêt|2" "the replies, decoded (UTF-16BE too), attached to their message"
is "$(sql "SELECT reason FROM blacklist WHERE address = '+33600000002'")" STOP "Arrêt in UCS-2 is a STOP"

# --- bad requests --------------------------------------------------------------------
sum=$(store_sum)
is "$(get "t=$TOK&foo=bar")" 400 "neither a receipt nor an MO: 400"
is "$(get "t=$TOK&ref=${R}1&type=abc")" 400 "a bad type: 400"
big=$(head -c 9000 /dev/zero | tr '\0' a)
is "$(get "t=$TOK&from=%2B33600000001&text=$big" mo)" 413 "a callback over 8 KiB: 413"
is "$(store_sum)" "$sum" "nothing stored for them"
like "$(cat events.err)" "answered 400: callback: neither a delivery report \(ref, type\) nor an MO" \
	"the reason of a 400 is on stderr"
like "$(cat events.err)" "answered 400: callback: delivery report without a valid type 'abc'" \
	"and names the bad value"
is "$(get "t=$TOK&ref=${R}1&type=%0A%1B%5B31m")" 400 "a type with a newline and an escape: 400"
like "$(tail -n 1 events.err)" "valid type '.\?\[31m'\$" "its note is one line"
is "$(grep -c $'\x1b' events.err)" 0 "the escape is shown as '?', not written"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/dlr?t=$TOK")" 405 "DELETE: 405"

# POST with a form body (post-url style) works as GET does
is "$(curl -s -o /dev/null -w '%{http_code}' --data "from=%2B33600000003&text=Merci" "http://127.0.0.1:$PORT/mo?t=$TOK")" 200 "a form POST: 200"
is "$(sql_raw "SELECT body FROM reply WHERE phone = '+33600000003'")" Merci "its reply is stored"
# Kannel's post-url: the text is the body (UCS-2: UTF-16BE), the numbers in X-Kannel headers
printf '\000D\000\351\000j\000\340' >ucs2.body	# "Déjà" in UTF-16BE
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Kannel-From: +33600000004' -H 'X-Kannel-To: 36180' \
	-H 'Content-Type: text/plain; charset=UTF-16BE' --data-binary @ucs2.body "http://127.0.0.1:$PORT/mo?t=$TOK")" 200 \
	"a post-url MO (X-Kannel-From, UTF-16BE body): 200"
is "$(sql_raw "SELECT body FROM reply WHERE phone = '+33600000004'")" "Déjà" "its text is decoded from UTF-16BE"

# --- events on stdout, as they come -----------------------------------------------------------
sleep 0.2
is "$(jq -r '[.kind, .status, (.message // "-" | .[35:]), .number] | join(" ")' events.out)" \
"receipt failed 1 +33600000001
receipt rejected 2 +33600000002
receipt failed 3 +33600000003
receipt delivered 4 +33600000004
reply reply 1 +33600000001
optout STOP 2 +33600000002
reply reply 3 +33600000003
reply reply 4 +33600000004" "one NDJSON event per change, in order"
listen_stop
is "$?" 0 "SIGTERM stops the receiver, exit 0"

# --- killed right after answering: the event is kept ---------------------------------------
listen_start --token-file cb.token
sql "INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, created_at, sent_at) VALUES ('${R}5', 1, 1, '+33600000005', 'x', 'gsm7', 1, 'sent', $T0, $T0);"
code=$(get "t=$TOK&ref=${R}5&type=1&p=%2B33600000005")
kill -9 "$LPID"
wait "$LPID" 2>/dev/null
is "$code" 200 "answered 200"
is "$(sql "SELECT status FROM message WHERE ref = '${R}5'")" delivered "then SIGKILL: the receipt is in the store"

# --- the rate limit ----------------------------------------------------------------------------
listen_start --token-file cb.token --rate 2
codes=$(for i in 1 2 3 4 5 6; do get "t=$TOK&ref=nope-$i&type=1"; echo; done | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')
like "$codes" '429' "six callbacks at once with --rate 2: some get 429 ($codes)"
listen_stop

# --- configuration -----------------------------------------------------------------------------
chmod 644 cb.token
run carnet-sms-fetch --listen 127.0.0.1:0 --token-file cb.token
is "$status" 78 "a token file readable by others: exit 78"
like "$err" 'cb.token' "the message names the file"
unlike "$err" 's3cr' "and never the token"
CARNET_CALLBACK_TOKEN=x run carnet-sms-fetch --listen 'nowhere:port'
is "$status" 64 "a bad address: exit 64"
run carnet-sms-fetch --token-file cb.token
is "$status" 64 "--token-file without --listen: exit 64"
run carnet-sms-fetch --listen 0.0.0.0:0
is "$status" 78 "every interface without a token: refused (exit 78)"
like "$err" "no callback token; one is required beyond the loopback" "the message says why"
run carnet-sms-fetch --listen 127.0.0.1:0 --dry-run
is "$status" 64 "--dry-run with --listen: exit 64"

# the token from the environment
chmod 600 cb.token
CARNET_CALLBACK_TOKEN=envtok listen_start
is "$(get "t=envtok&ref=nope-env&type=1")" 200 "CARNET_CALLBACK_TOKEN is the token"
is "$(get "t=$TOK&ref=nope-env&type=1")" 403 "and replaces the file's"
listen_stop

# --listen without an address: sms.callback.listen
mkdir -p "$XDG_CONFIG_HOME/carnet"
printf 'sms:\n  callback:\n    listen: 127.0.0.1:0\n    token_file: %s\n' "$T/cb.token" \
	>"$XDG_CONFIG_HOME/carnet/config.yaml"
rm -f ready
carnet-sms-fetch --listen --ready-file ready >>events.out 2>>events.err &
LPID=$!
for _ in $(seq 600); do [ -s ready ] && break; sleep 0.05; done
PORT=$(cat ready 2>/dev/null)
is "$(get "t=$TOK&ref=nope-cfg&type=1")" 200 "--listen alone listens on sms.callback.listen, with sms.callback.token_file"
listen_stop
done_testing
