#!/usr/bin/env bash
# carnet-sms-send through the http and twilio drivers, against a scripted
# local gateway (tests/httpgw.pl): requests built from the templates,
# provider ids kept, temporary failures retried (Retry-After), permanent
# ones failed, refused credentials (77), a gateway that is down (75, then
# resumed), timeouts in doubt (never resent unless asked), kill -9 during
# a send and a resume that sends nothing twice; secrets never printed.
. "$(dirname "$0")/../lib.sh"
command -v perl >/dev/null || skip_all "perl is needed for the local gateway"

gw_pid=
gw_start() {
	rm -f port
	perl "$TOP/tests/httpgw.pl" port script gw.log &
	gw_pid=$!
	for _ in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
	PORT=$(cat port)
}
gw_stop() { [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; gw_pid=; }
trap 'gw_stop; cd /; rm -rf "$T"' EXIT
reqs() { [ -f gw.log ] && wc -l <gw.log || echo 0; }
# first_request: under make check-valgrind (the tools wrapped in a script)
# a tool takes seconds to start, so a kill at a fixed delay would land
# before its first request: wait for that request (60 s at most) first
first_request() {
	[ "$(head -c2 "$CARNET_BIN/carnet-sms-send")" = '#!' ] || return 0
	for _ in $(seq 600); do [ -s gw.log ] && return 0; sleep 0.1; done
}

echo '200 {"data":{"id":"gw-{n}"}}' >script
gw_start
cat >http.yaml <<EOF
sms:
  driver: http
  http:
    url: http://127.0.0.1:$PORT/send?to={{to}}
    headers: {Content-Type: application/json}
    body: '{"to": "{{to}}", "text": "{{text}}", "ref": "{{ref}}", "key": "{{secret}}"}'
    id_path: data.id
EOF
export CARNET_HTTP_SECRET=s3cr3t-http

# --- requests from the templates; provider ids kept ----------------------------
run carnet-sms-send --config http.yaml --parallel 1 --campaign h1 --format ndjson \
	--text 'Il a dit "oui" à 8h' --to 0612345671 --to 0612345672
is "$status" 0 "two messages through the http driver"
is "$(printf '%s\n' "$out" | jq -c '[.to, .status, .provider_id]')" \
	"$(printf '%s\n' '["+33612345671","sent","gw-1"]' '["+33612345672","sent","gw-2"]')" \
	"sent, with the gateway's ids (id_path data.id)"
is "$(jq -r .query gw.log | head -1)" "to=%2B33612345671" "the URL template is URL-escaped"
is "$(jq -r .body gw.log | head -1 | jq -c '[.to, .text, .key]')" '["+33612345671","Il a dit \"oui\" à 8h","s3cr3t-http"]' \
	"the JSON body template is JSON-escaped; {{secret}} comes from the environment"
is "$(jq -r .body gw.log | head -1 | jq -r .ref)" "$(sql "SELECT ref FROM message WHERE phone = '+33612345671'")" \
	"{{ref}} is carnet's own reference of the message"
is "$(sql "SELECT status, provider_id, attempts FROM message ORDER BY id")" "$(printf '%s\n' sent,gw-1,1 sent,gw-2,1)" \
	"the store has the status, the id and one attempt each"
unlike "$out$err" "s3cr3t" "the secret is never printed"
is "$(sql "SELECT u.sms, u.recipients, u.month FROM usage u JOIN campaign c ON c.id = u.campaign_id WHERE c.name = 'h1'")" "2,2,$(date -u +%Y-%m)" \
	"the usage ledger gets the send's SMS and recipients, with the campaign"

# --- what a send changes syncs (carnet-sync), and so does a receipt --------------------
is "$(sql "SELECT count(*) FROM sync_item i JOIN message m ON m.ref = i.uuid WHERE i.kind = 'message' AND i.state = 'pending' AND m.phone IN ('+33612345671', '+33612345672')")" 2 \
	"the messages sent are marked for sync"
is "$(sql "SELECT count(*) FROM sync_item i JOIN campaign c ON c.uuid = i.uuid WHERE i.kind = 'campaign' AND c.name = 'h1' AND i.state = 'pending'")" 1 \
	"and so is their campaign"
sqlite3 "$STORE" "UPDATE sync_item SET state = 'synced' WHERE kind IN ('message', 'campaign')"
ref1=$(sql "SELECT ref FROM message WHERE phone = '+33612345671'")
printf '{"kind":"receipt","ref":"%s","status":"delivered"}\n' "$ref1" | carnet-sms-fetch --from-stdin >/dev/null 2>&1
is "$(sql "SELECT m.status, i.state FROM message m JOIN sync_item i ON i.kind = 'message' AND i.uuid = m.ref WHERE m.ref = '$ref1'")" "delivered,pending" \
	"a receipt that moves a message marks it for sync again"

# --- a temporary failure is retried after Retry-After; sent once -------------------
: >gw.log
printf '%s\n' '503 retry=1 busy' '200 {"data":{"id":"late"}}' >script
start=$(date +%s.%N)
run carnet-sms-send --config http.yaml --campaign h2 --format ndjson --text 'x' --to 0612345673
end=$(date +%s.%N)
is "$status" 0 "503 then 200: sent"
is "$(printf '%s' "$out" | jq -c '[.status, .provider_id]')" '["sent","late"]' "with the id of the second answer"
is "$(reqs)" 2 "two requests"
ok "$(awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a >= 0.9) }'; echo $?)" "the retry waited for Retry-After (1 s)"
is "$(sql "SELECT attempts FROM message WHERE phone = '+33612345673'")" 2 "two attempts recorded"

# --- a permanent refusal fails that message, with the gateway's reason ---------------
: >gw.log
echo '400 {"error":"unknown number"}' >script
run carnet-sms-send --config http.yaml --campaign h3 --format ndjson --text 'x' --to 0612345674
is "$(printf '%s' "$out" | jq -c '[.status, .error]')" '["failed","HTTP 400: {\"error\":\"unknown number\"}"]' \
	"400: failed, with the answer"
is "$(reqs)" 1 "not retried"
is "$(sql "SELECT status FROM campaign WHERE name = 'h3'")" sent "the campaign is done (nothing left to send)"

# --- refused credentials: 77, nothing lost -------------------------------------------
: >gw.log
echo '401 {"error":"bad key"}' >script
run carnet-sms-send --config http.yaml --campaign h4 --text 'x' --to 0612345675 --to 0612345676
is "$status" 77 "401: exit 77"
like "$err" "HTTP 401" "saying what the gateway answered"
is "$(sql "SELECT count(*) FROM message m JOIN campaign c ON c.id = m.campaign_id WHERE c.name = 'h4' AND m.status = 'preparing' AND m.inflight_at IS NULL")" 2 \
	"both messages wait, untried"
echo '200 {"data":{"id":"ok-{n}"}}' >script
run carnet-campaign --config http.yaml send h4 --format ndjson
is "$status" 0 "with the right key, the campaign resumes"
is "$(printf '%s\n' "$out" | jq -r .status | sort | uniq -c | awk '{print $1, $2}')" "2 sent" "and sends both"

# --- the gateway down: 75, messages kept for a later run ------------------------------
gw_stop
run carnet-sms-send --config http.yaml --campaign down --retries 2 --text 'x' --to 0612345677 --to 0612345678 --to 0612345679
is "$status" 75 "connection refused after the retries: exit 75"
like "$err" "messages left to send; try again later with .carnet-campaign send" "saying how to resume"
is "$(sql "SELECT status FROM campaign WHERE name = 'down'")" sending "the campaign is still sending"
: >gw.log
echo '200 {"data":{"id":"back-{n}"}}' >script
gw_start
sed -i "s/127.0.0.1:[0-9]*/127.0.0.1:$PORT/" http.yaml
run carnet-campaign --config http.yaml send down
is "$status" 0 "the gateway is back: the campaign resumes"
is "$(jq -r .body gw.log | jq -r .to | sort | tr '\n' ' ')" "+33612345677 +33612345678 +33612345679 " \
	"each number reaches the gateway exactly once"
is "$(sql "SELECT count(*) FROM message m JOIN campaign c ON c.id = m.campaign_id WHERE c.name = 'down' AND m.status = 'sent'")" 3 "all sent"
is "$(sql "SELECT status FROM campaign WHERE name = 'down'")" sent "the campaign is sent"

# --- a timeout after the request left: in doubt, never resent blindly ------------------
: >gw.log
echo 'sleep=3 200 {"data":{"id":"slow"}}' >script
run carnet-sms-send --config http.yaml --campaign slow --timeout 1 --text 'x' --to 0612345680 --format ndjson
is "$(printf '%s' "$out" | jq -r .status)" in-doubt "a timeout after sending: the message is in doubt"
like "$err" "1 in doubt" "the summary says so"
like "$err" "not sent again" "and what it means"
n=$(reqs)
echo '200 {"data":{"id":"x"}}' >script
run carnet-campaign --config http.yaml send slow --format ndjson
is "$(reqs)" "$n" "a resume does not send it again"
is "$(printf '%s' "$out" | jq -r .status)" in-doubt "and reports it in doubt"
run carnet-campaign --config http.yaml messages slow --status in-doubt --format ndjson
is "$(printf '%s' "$out" | jq -r .to)" "+33612345680" "messages --status in-doubt lists it"
run carnet-campaign --config http.yaml send slow --resend-in-doubt --format ndjson
is "$(printf '%s' "$out" | jq -r .status)" sent "--resend-in-doubt sends it"
is "$(sql "SELECT status FROM campaign WHERE name = 'slow'")" sent "and the campaign is sent"

# --- kill -9 during a send, then resume: nothing twice, nothing lost -------------------
: >gw.log
echo 'sleep=0.1 200 {"data":{"id":"k{n}"}}' >script
{ echo phone; for i in $(seq 10 49); do echo "+336123456$i"; done; } >k.csv
carnet-sms-send --config http.yaml --campaign kill --parallel 2 --text 'k' <k.csv >/dev/null 2>&1 &
pid=$!
first_request
sleep 0.8
exec 3>&2 2>/dev/null	# no "Killed" from the shell
kill -9 "$pid"
wait "$pid"
exec 2>&3 3>&-
before_resume=$(reqs)
ok "$([ "$before_resume" -gt 0 ] && [ "$before_resume" -lt 40 ]; echo $?)" "killed midway ($before_resume of 40 requests made)"
echo '200 {"data":{"id":"r{n}"}}' >script
run carnet-campaign --config http.yaml send kill --format ndjson
doubt=$(printf '%s\n' "$out" | jq -r 'select(.status == "in-doubt") | .to' | wc -l)
is "$(jq -r .body gw.log | jq -r .to | sort | uniq -d)" "" "no number reached the gateway twice"
is "$(jq -r .body gw.log | jq -r .to | sort -u | wc -l)" 40 "every number reached it once"
is "$(sql "SELECT count(*) FROM message m JOIN campaign c ON c.id = m.campaign_id WHERE c.name = 'kill' AND m.status = 'sent'") + $doubt" "$((40 - doubt)) + $doubt" \
	"the store: every message sent, except those in doubt ($doubt, reported)"
ok "$([ "$doubt" -le 2 ]; echo $?)" "at most --parallel messages are in doubt"

# --- accepted, not yet committed: the journal keeps the outcome --------------------------
# Outcomes are committed every 100 ms; in between, each acceptance is in
# the journal ("=REF TIME PROVIDER-ID"), which the next run folds in.
: >gw.log
echo '200 {"data":{"id":"j{n}"}}' >script
{ echo phone; for i in $(seq 10 19); do echo "+336123458$i"; done; } >j.csv
run_in j.csv env CARNET_TEST_CRASHPOINT=send.journaled:4 carnet-sms-send --config http.yaml \
	--campaign journal --parallel 1 --text 'j'
is "$status" 137 "killed as the 4th request is journaled"
is "$(reqs)" 3 "after three requests were answered"
echo '200 {"data":{"id":"z{n}"}}' >script
run carnet-campaign --config http.yaml send journal --format ndjson
is "$(sql_raw "SELECT group_concat(provider_id, ' ') FROM (SELECT provider_id FROM message m JOIN campaign c ON c.id = m.campaign_id WHERE c.name = 'journal' AND m.phone IN ('+33612345810', '+33612345811', '+33612345812') ORDER BY m.phone)")" \
	"j1 j2 j3" "the three answered before the kill are sent, with the gateway's ids"
is "$(sql "SELECT phone FROM message m JOIN campaign c ON c.id = m.campaign_id WHERE c.name = 'journal' AND m.status = 'preparing' AND m.inflight_at IS NOT NULL")" \
	"+33612345813" "only the 4th, journaled as it was killed, is in doubt"
is "$(jq -r .body gw.log | jq -r .to | sort | uniq -d)" "" "no number reached the gateway twice"
is "$(jq -r .body gw.log | jq -r .to | sort -u | wc -l)" 9 "the other nine reached it once"

# a journal written by hand: "=" lines applied once, torn ones ignored
run carnet-sms-send --config http.yaml --campaign hand --text 'h' --to 0612345820 \
	--to 0612345821 --to 0612345822 --to 0612345823 --save
cid=$(sql "SELECT id FROM campaign WHERE name = 'hand'")
ref() { sql "SELECT ref FROM message WHERE campaign_id = $cid AND phone = '$1'"; }
printf '+%s\n=%s 1790000000 pid-a\n+%s\n=%s 1790000001 \n+%s\n=%s 1790000002 pid-c' \
	"$(ref +33612345820)" "$(ref +33612345820)" "$(ref +33612345821)" \
	"$(ref +33612345821)" "$(ref +33612345822)" "$(ref +33612345822)" >"$STORE.send-$cid.lock"
: >gw.log
run carnet-campaign --config http.yaml send hand --format ndjson
is "$(sql_raw "SELECT phone || ' ' || status || ' ' || coalesce(provider_id, '-') || ' ' || coalesce(sent_at, '-') || ' ' || (inflight_at IS NOT NULL) FROM message WHERE campaign_id = $cid AND phone < '+33612345823' ORDER BY phone")" \
	"$(printf '%s\n' '+33612345820 sent pid-a 1790000000 0' '+33612345821 sent - 1790000001 0' \
		'+33612345822 preparing - - 1')" \
	"accepted ones sent with their id and time; the torn last line leaves its message in doubt"
like "$(sql_raw "SELECT status || ' ' || provider_id FROM message WHERE campaign_id = $cid AND phone = '+33612345823'")" \
	'^sent z[0-9]+$' "the untried one is sent by this run"
is "$(jq -r .body gw.log | jq -r .to)" "+33612345823" "only the untried one was sent"

# --- SIGTERM: stops after the requests in flight, nothing in doubt ----------------------
: >gw.log
echo 'sleep=0.2 200 {"data":{"id":"t{n}"}}' >script
{ echo phone; for i in $(seq 10 29); do echo "+336123457$i"; done; } >t.csv
carnet-sms-send --config http.yaml --campaign term --parallel 2 --text 't' <t.csv >term.out 2>term.err &
pid=$!
first_request
sleep 0.7
kill -TERM "$pid"
wait "$pid"
is "$?" 75 "SIGTERM: exit 75"
like "$(cat term.err)" "stopped: [0-9]+ messages left to send" "saying how many are left"
is "$(sql "SELECT count(*) FROM message m JOIN campaign c ON c.id = m.campaign_id WHERE c.name = 'term' AND m.inflight_at IS NOT NULL")" 0 \
	"the requests in flight were finished: nothing in doubt"
echo '200 {"data":{"id":"u{n}"}}' >script
run carnet-campaign --config http.yaml send term
is "$status" 0 "the resume sends the rest"
is "$(jq -r .body gw.log | jq -r .to | sort | uniq -c | awk '$1 != 1' | wc -l),$(jq -r .body gw.log | jq -r .to | sort -u | wc -l)" "0,20" \
	"each of the 20 numbers exactly once"

# --- two senders of one campaign at once: the second is told to wait -----------------------
: >gw.log
# (slower answers under check-valgrind, where the second sender takes
# seconds to start: the first must still be sending)
slow=0.2
[ "$(head -c2 "$CARNET_BIN/carnet-sms-send")" = '#!' ] && slow=1
echo "sleep=$slow 200 {\"data\":{\"id\":\"c{n}\"}}" >script
{ echo phone; for i in $(seq 10 19); do echo "+336123458$i"; done; } >c.csv
carnet-sms-send --config http.yaml --campaign twice --save --text 'c' <c.csv >/dev/null 2>&1
carnet-campaign --config http.yaml send twice --parallel 1 >/dev/null 2>&1 &
pid=$!
first_request
sleep 0.5
run carnet-campaign --config http.yaml send twice
is "$status" 75 "a second sender of the same campaign: 75"
like "$err" "campaign [0-9]+ is being sent by another process" "saying why"
wait "$pid"
is "$(jq -r .body gw.log | jq -r .to | sort | uniq -d | wc -l),$(reqs)" "0,10" "each number once"

# --- --rate: at most N requests per second -----------------------------------------------
: >gw.log
echo '200 {"data":{"id":"r{n}"}}' >script
{ echo phone; for i in $(seq 10 19); do echo "+336123459$i"; done; } >rate.csv
start=$(date +%s.%N)
run carnet-sms-send --config http.yaml --campaign rate --parallel 8 --rate 5/s --text 'r' <rate.csv
end=$(date +%s.%N)
is "$status,$(reqs)" "0,10" "--rate 5/s: the 10 messages are sent"
ok "$(awk -v a="$start" -v b="$end" 'BEGIN { exit !(b - a >= 1.7) }'; echo $?)" \
	"and take at least 9 intervals of 0.2 s ($(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s)"

# --- twilio: REST Messages.json, Basic auth, the sid kept, errors mapped ---------------
: >gw.log
echo '201 {"sid":"SM{n}abc","status":"queued"}' >script
cat >tw.yaml <<EOF
sms:
  driver: twilio
  sender: "+33600000001"
  twilio:
    base_url: http://127.0.0.1:$PORT/
    account_sid: AC0123
EOF
CARNET_TWILIO_AUTH_TOKEN=tw-t0ken run carnet-sms-send --config tw.yaml --campaign tw --text 'Hé' --to 0612345690 --format ndjson
is "$status" 0 "twilio: sent"
is "$(printf '%s' "$out" | jq -r .provider_id)" SM1abc "the sid is the provider id"
is "$(jq -r '.method + " " + .path' gw.log)" "POST /2010-04-01/Accounts/AC0123/Messages.json" "POST to the account's Messages.json"
is "$(jq -r .auth gw.log)" "Basic $(printf 'AC0123:tw-t0ken' | base64)" "Basic auth with the sid and the token"
is "$(jq -r .body gw.log)" "To=%2B33612345690&From=%2B33600000001&Body=H%C3%A9" "the form: To, From, Body"
unlike "$out$err" "tw-t0ken" "the token is never printed"
: >gw.log
echo "400 {\"code\":21211,\"message\":\"The 'To' number is not valid.\"}" >script
CARNET_TWILIO_AUTH_TOKEN=tw-t0ken run carnet-sms-send --config tw.yaml --campaign tw2 --text 'x' --to 0612345691 --format ndjson
is "$(printf '%s' "$out" | jq -r .error)" "HTTP 400: The 'To' number is not valid. (code 21211)" "Twilio's error message and code"
: >gw.log
echo '201 {"status":"queued"}' >script
CARNET_TWILIO_AUTH_TOKEN=tw-t0ken run carnet-sms-send --config tw.yaml --campaign tw4 --text 'x' --to 0612345692 --format ndjson
is "$(printf '%s' "$out" | jq -r '.status + " " + .error'),$(reqs)" "in-doubt HTTP 201 without a message sid: {\"status\":\"queued\"},1" \
	"a 2xx without a sid: in doubt, not retried (Twilio may have taken it)"
run carnet-sms-send --config tw.yaml --campaign tw3 --text 'x' --to 0612345691
is "$status" 78 "no auth token anywhere: 78"
like "$err" "CARNET_TWILIO_AUTH_TOKEN" "saying where it may come from"

done_testing
