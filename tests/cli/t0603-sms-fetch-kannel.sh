#!/usr/bin/env bash
# carnet-sms-fetch --listen against a real Kannel (tests/kannel.sh): a
# message sent by carnet-sms-send with a delivery report becomes
# delivered through the receiver; an MO written by the fake SMSC reaches
# the receiver as a reply attached to the right campaign; STOP then START
# from the fake SMSC blacklists then lifts; a reply after the window is
# unsolicited; a UCS-2 MO arrives intact.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/kannel.sh"
command -v carnet-sms-send >/dev/null || skip_all "carnet-sms-send is not built"

export CARNET_CALLBACK_TOKEN='cb t&k+1'
TOK='cb%20t%26k%2B1'

# the receiver first: Kannel's get-url points at it
carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready --format ndjson \
	>events.out 2>events.err &
LPID=$!
for _ in $(seq 600); do [ -s ready ] && break; sleep 0.05; done	# 30 s (valgrind)
PORT=$(cat ready 2>/dev/null)
_t0603_stop() { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }
# stopped on every way out, also when kannel_start skips or bails out
# (it chains this trap), and by a watchdog if this shell is killed
trap '_t0603_stop; cd /; rm -rf "$T"' EXIT
( while kill -0 $$ 2>/dev/null; do sleep 1; done; kill "$LPID" 2>/dev/null ) >/dev/null 2>&1 &
[ -n "$PORT" ] || skip_all "the receiver did not start"

KANNEL_MO_URL="http://127.0.0.1:$PORT/mo?t=$TOK" kannel_start
printf '    dlr_url: http://127.0.0.1:%s/dlr\n' "$PORT" >>"$KANNEL_CARNET_YAML"
CFG=$KANNEL_CARNET_YAML

# wait_sql QUERY WANT [SECONDS]: until the query gives WANT (bounded)
wait_sql() {
	local i
	for i in $(seq $((${3:-10} * 10))); do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- a delivery report through the receiver ------------------------------------
run carnet-sms-send --config "$CFG" --to +33612345678 --text 'Mission lundi 8h, dispo ?' --campaign relance --yes
is "$status" 0 "carnet-sms-send through Kannel: exit 0"
fakesmsc_wait 1
ok $? "the fake SMSC got the message"
wait_sql "SELECT status FROM message WHERE phone = '+33612345678'" delivered
ok $? "the delivery report (dlr-url, type 8 then 1) made the message delivered"
# smsbox makes the two report calls on their own: the second may still be
# on its way when the first has made the message delivered
wait_sql "SELECT count(*) FROM receipt" 2
is "$(sql_raw "SELECT group_concat(raw_type, ' ') FROM (SELECT raw_type FROM receipt ORDER BY raw_type)")" "1 8" \
	"two receipts stored: types 8 and 1, with the message's ref"
is "$(sql "SELECT count(*) FROM receipt r JOIN message m ON m.id = r.message_id WHERE r.phone = m.phone")" 2 \
	"the receipts' number is %p, the handset (the message's recipient)"
CID=$(sql "SELECT campaign_id FROM message WHERE phone = '+33612345678'")

# --- an MO: a reply attached to the campaign ----------------------------------------
fakesmsc_mo +33612345678 +33600000000 'Oui, dispo lundi'
wait_sql "SELECT count(*) FROM reply" 1
ok $? "the MO reached the receiver"
is "$(sql_raw "SELECT kind, campaign_id, body FROM reply")" "reply|$CID|Oui, dispo lundi" \
	"stored as a reply to the right campaign, text intact"

# a UCS-2 MO (UTF-16BE through Kannel's %a and %C)
fakesmsc_mo +33612345678 +33600000000 'Très bien, à lundi ê'
wait_sql "SELECT count(*) FROM reply" 2
is "$(sql_raw "SELECT body FROM reply ORDER BY id DESC LIMIT 1")" "Très bien, à lundi ê" "a UCS-2 MO arrives intact"

# --- STOP then START from the handset --------------------------------------------------
fakesmsc_mo +33612345678 +33600000000 'Stop'
wait_sql "SELECT reason FROM blacklist WHERE address = '+33612345678'" STOP
ok $? "STOP from the fake SMSC: the number is blacklisted (STOP)"
fakesmsc_mo +33612345678 +33600000000 'START'
wait_sql "SELECT count(*) FROM blacklist WHERE address = '+33612345678'" 0
ok $? "START from the fake SMSC: the entry is lifted"

# --- a reply after the window ---------------------------------------------------------------
sql "UPDATE message SET sent_at = sent_at - 49 * 3600 WHERE phone = '+33612345678'"
fakesmsc_mo +33612345678 +33600000000 'Encore dispo ?'
wait_sql "SELECT count(*) FROM reply" 5
is "$(sql_raw "SELECT kind, coalesce(campaign_id, '-') FROM reply ORDER BY id DESC LIMIT 1")" "unsolicited|-" \
	"a reply 49 hours after the message is unsolicited"

# --- the events the receiver printed --------------------------------------------------------
for _ in $(seq 100); do [ "$(grep -c . events.out)" -ge 6 ] && break; sleep 0.1; done
is "$(jq -r '.kind + " " + .status' events.out | tr '\n' ',')" \
	"receipt delivered,reply reply,reply reply,optout STOP,optin lifted,reply unsolicited," \
	"the receiver printed one event per change"
_t0603_stop
is "$(grep -c . events.err)" 0 "nothing on the receiver's stderr"
done_testing
