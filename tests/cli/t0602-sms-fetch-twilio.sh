#!/usr/bin/env bash
# carnet-sms-fetch with sms.driver twilio: the pull against a local
# stand-in serving recorded pages in Twilio's documented format
# (tests/twilio-standin.pl): statuses by sid, inbound replies and a STOP,
# paging with next_page_uri, the checkpoint in the store (DateSent> from
# the day before it), nothing repeated on the next run, credentials
# refused (77), the provider down or busy (75, checkpoint unchanged).
. "$(dirname "$0")/../lib.sh"
command -v perl >/dev/null || skip_all "perl is not installed"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
T0=$CARNET_NOW
SID=AC0123456789abcdef0123456789abcdef
export CARNET_TWILIO_AUTH_TOKEN=tw-secret

mkdir pages
perl "$TOP/tests/twilio-standin.pl" pages "$SID" tw-secret port &
SPID=$!
trap 'kill $SPID 2>/dev/null; cd /; rm -rf "$T"' EXIT
( while kill -0 $$ 2>/dev/null; do sleep 1; done; kill "$SPID" 2>/dev/null ) >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
PORT=$(cat port)
[ -n "$PORT" ] || skip_all "the Twilio stand-in did not start"

cat >twilio.yaml <<EOF
sms:
  driver: twilio
  twilio:
    base_url: http://127.0.0.1:$PORT
    account_sid: $SID
EOF
export CARNET_CONFIG=$T/twilio.yaml

carnet-sms-fetch --close-due >/dev/null
sql "INSERT INTO folder(name, created_at) VALUES('default', 0);
INSERT INTO campaign(uuid, folder_id, name, status, created_at, sent_at, close_at, driver)
  VALUES('c-1', 1, 'relance', 'sent', $T0 - 600, $T0 - 600, $T0 + 72 * 3600, 'twilio');
INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, provider_id, created_at, sent_at) VALUES
  ('ref-1', 1, 1, '+33600000001', 'x', 'gsm7', 1, 'sent', 'SM00000000000000000000000000000001', $T0 - 600, $T0 - 600),
  ('ref-2', 1, 1, '+33600000002', 'x', 'gsm7', 1, 'sent', 'SM00000000000000000000000000000002', $T0 - 600, $T0 - 600),
  ('ref-3', 1, 1, '+33600000003', 'x', 'gsm7', 1, 'sent', 'SM00000000000000000000000000000003', $T0 - 600, $T0 - 600);"

# two pages, as Twilio's "Read multiple Message resources" documents them
msg() { # sid direction from to status body date [error_code error_message]
	cat <<EOF
    {"account_sid": "$SID", "api_version": "2010-04-01", "body": "$6",
     "date_created": "$7", "date_sent": "$7", "date_updated": "$7",
     "direction": "$2", "error_code": ${8:-null}, "error_message": ${9:-null},
     "from": "$3", "messaging_service_sid": null, "num_media": "0", "num_segments": "1",
     "price": null, "price_unit": "EUR", "sid": "$1", "status": "$5",
     "subresource_uris": {"media": "/2010-04-01/Accounts/$SID/Messages/$1/Media.json"},
     "to": "$4", "uri": "/2010-04-01/Accounts/$SID/Messages/$1.json"}
EOF
}
{
	echo '{"end": 3, "first_page_uri": "/2010-04-01/Accounts/'$SID'/Messages.json?PageSize=4&Page=0",'
	echo ' "next_page_uri": "/2010-04-01/Accounts/'$SID'/Messages.json?PageSize=4&Page=1&PageToken=PAsecond",'
	echo ' "page": 0, "page_size": 4, "previous_page_uri": null, "start": 0,'
	echo ' "uri": "/2010-04-01/Accounts/'$SID'/Messages.json?PageSize=4&Page=0", "messages": ['
	msg SM00000000000000000000000000000001 outbound-api +33700000000 +33600000001 delivered x 'Sun, 22 Nov 2026 07:51:00 +0000'
	echo ,
	msg SM00000000000000000000000000000002 outbound-api +33700000000 +33600000002 undelivered x 'Sun, 22 Nov 2026 07:52:00 +0000' 30003 '"Unreachable destination handset"'
	echo ,
	msg SM0000000000000000000000000000ffff outbound-api +33700000000 +33611111111 delivered 'another app' 'Sun, 22 Nov 2026 07:52:30 +0000'
	echo ,
	msg SM00000000000000000000000000000100 inbound +33600000001 +33700000000 received 'Oui, lundi 8h' 'Sun, 22 Nov 2026 07:53:00 +0000'
	echo ']}'
} >pages/first.json
{
	echo '{"end": 5, "first_page_uri": "/2010-04-01/Accounts/'$SID'/Messages.json?PageSize=4&Page=0",'
	echo ' "next_page_uri": null, "page": 1, "page_size": 4, "previous_page_uri": null, "start": 4,'
	echo ' "uri": "/2010-04-01/Accounts/'$SID'/Messages.json?PageSize=4&Page=1", "messages": ['
	msg SM00000000000000000000000000000101 inbound +33600000003 +33700000000 received 'Stop' 'Sun, 22 Nov 2026 07:54:00 +0000'
	echo ,
	msg SM00000000000000000000000000000003 outbound-api +33700000000 +33600000003 sent x 'Sun, 22 Nov 2026 07:50:10 +0000'
	echo ']}'
} >pages/PAsecond.json
jq -e . pages/first.json pages/PAsecond.json >/dev/null
ok $? "the recorded pages are valid JSON"

run carnet-sms-fetch
is "$status" 0 "the pull: exit 0"
is "$out" "kind,time,campaign,message,number,status,text
receipt,2026-11-22T07:51:00Z,1,ref-1,+33600000001,delivered,
receipt,2026-11-22T07:52:00Z,1,ref-2,+33600000002,failed,30003: Unreachable destination handset
reply,2026-11-22T07:53:00Z,1,ref-1,+33600000001,reply,\"Oui, lundi 8h\"
optout,2026-11-22T07:54:00Z,1,ref-3,+33600000003,STOP,Stop" \
	"both pages: statuses by sid, the inbound reply and the STOP; another app's message and an unchanged 'sent' give nothing"
is "$err" "" "nothing on stderr"
is "$(sed 's/ HTTP.*//' pages/requests.log)" \
"GET /2010-04-01/Accounts/$SID/Messages.json?PageSize=100&DateSent%3E=2026-11-19
GET /2010-04-01/Accounts/$SID/Messages.json?PageSize=4&Page=1&PageToken=PAsecond" \
	"the first request filters by DateSent> (no checkpoint: the reply window and a day), the second follows next_page_uri"
is "$(sql "SELECT value FROM setting WHERE key = 'twilio.checkpoint.$SID'")" "$T0" "the checkpoint is kept in the store"
is "$(sql "SELECT ref, status FROM message ORDER BY id" | tr '\n' ' ')" "ref-1,delivered ref-2,failed ref-3,sent " "message statuses"
is "$(sql "SELECT count(*) FROM receipt")" 2 "only the two receipts that moved a message are stored"
is "$(sql "SELECT reason FROM blacklist WHERE address = '+33600000003'")" STOP "the STOP blacklisted the number"

# the next run: the same pages, nothing new; DateSent> from the day before the checkpoint
: >pages/requests.log
CARNET_NOW=$((T0 + 60)) run carnet-sms-fetch
is "$status,$out" "0," "the next run finds nothing new (replies deduplicated by sid)"
like "$(head -1 pages/requests.log)" 'DateSent%3E=2026-11-21 ' "and asks from the day before the checkpoint"
is "$(sql "SELECT count(*) FROM reply")" 2 "no reply stored twice"
is "$(sql "SELECT value FROM setting WHERE key = 'twilio.checkpoint.$SID'")" "$((T0 + 60))" "the checkpoint moved"

# failures: credentials refused, the provider busy, then down
CARNET_TWILIO_AUTH_TOKEN=wrong run carnet-sms-fetch
is "$status" 77 "a wrong auth token: exit 77"
like "$err" "credentials refused \(HTTP 401\)" "the message says so"
unlike "$err" "wrong" "and does not print the token"
echo 503 >pages/status
CARNET_NOW=$((T0 + 120)) run carnet-sms-fetch
is "$status" 75 "HTTP 503: exit 75 (try again later)"
is "$(sql "SELECT value FROM setting WHERE key = 'twilio.checkpoint.$SID'")" "$((T0 + 60))" "the checkpoint did not move"
rm pages/status

# a status that changes days after the send (a handset switched off): while
# its campaign is open and ref-3 still 'sent', the pull reaches back to the
# campaign's send, not only to the day before its checkpoint
D2=$((T0 + 2 * 86400))		# 2026-11-24T08:00:00Z
CARNET_NOW=$D2 run carnet-sms-fetch
is "$status" 0 "two days later: exit 0"
: >pages/requests.log
CARNET_NOW=$((D2 + 60)) run carnet-sms-fetch
like "$(head -1 pages/requests.log)" 'DateSent%3E=2026-11-21 ' \
	"ref-3 still 'sent' in an open campaign: DateSent> from the day before the campaign's send"
sql "UPDATE message SET status = 'delivered' WHERE ref = 'ref-3'"
: >pages/requests.log
CARNET_NOW=$((D2 + 120)) run carnet-sms-fetch
like "$(head -1 pages/requests.log)" 'DateSent%3E=2026-11-23 ' \
	"nothing waiting any more: from the day before the checkpoint again"
sql "UPDATE message SET status = 'sent' WHERE ref = 'ref-3'"
CARNET_NOW=$((T0 + 73 * 3600)) carnet-sms-fetch --close-due >/dev/null
is "$(sql "SELECT status FROM campaign WHERE id = 1")" closed "the campaign closed after 72 h"
: >pages/requests.log
CARNET_NOW=$((T0 + 73 * 3600 + 60)) run carnet-sms-fetch
like "$(head -1 pages/requests.log)" 'DateSent%3E=2026-11-23 ' \
	"a closed campaign is not waited for (its events are held)"
CP=$(sql "SELECT value FROM setting WHERE key = 'twilio.checkpoint.$SID'")

kill "$SPID"
wait "$SPID" 2>/dev/null
CARNET_NOW=$((T0 + 74 * 3600)) run carnet-sms-fetch
is "$status" 75 "the provider unreachable: exit 75"
like "$err" "twilio: http://127.0.0.1:$PORT: .*try again later" "the message names the provider"
is "$(sql "SELECT value FROM setting WHERE key = 'twilio.checkpoint.$SID'")" "$CP" "the checkpoint still did not move"
done_testing
