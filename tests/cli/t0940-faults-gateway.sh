#!/usr/bin/env bash
# Faults from the outside, gateway side: carnet-sms-send and carnet-campaign
# through tests/faultproxy.pl in front of a real Kannel (tests/kannel.sh:
# bearerbox, smsbox, tests/fakesmsc.pl as the SMSC).  For each fault: 500s,
# 503 with Retry-After, timeouts (before and after the request reached
# Kannel), connection refused, a slow and a trickling server, a garbage
# body, Kannel's "202 3: Queued for later delivery", the answer lost after
# Kannel took the message (closed, cut half way), and a seeded storm of
# all of them: the documented exit status, the retries and their waits
# (counted and timed in the proxy's log), nothing lost (a resume finishes
# the rest) and nothing twice at the SMSC, except the messages reported in
# doubt, which are never sent again without --resend-in-doubt.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/kannel.sh"
command -v jq >/dev/null || skip_all "jq is needed"
kannel_start

# --- the proxy ---------------------------------------------------------------------
: >ctl
perl "$TOP/tests/faultproxy.pl" fp.port "http://127.0.0.1:$KANNEL_SENDSMS_PORT" ctl fp.log \
	2>fp.stderr &
_kannel_started $!	# kannel_stop (and its watchdog) stop it too
for _ in $(seq 1 100); do [ -s fp.port ] && break; sleep 0.05; done
FP=$(cat fp.port)
C=$T/fp.yaml
sed "s|url: .*|url: http://127.0.0.1:$FP/cgi-bin/sendsms|" "$KANNEL_CARNET_YAML" >"$C"
chmod 600 "$C"

# faults LINE...: the proxy's rules from now on (none: everything passes)
faults() { printf '%s\n' "$@" >ctl; }
# reqs_to NUMBER: requests the proxy saw for NUMBER (+336... form)
reqs_to() { jq -r --arg q "to=%2B${1#+}" 'select(.query | contains($q)) | .n' fp.log | wc -l; }
# times_to NUMBER: the times of those requests, one a line
times_to() { jq -r --arg q "to=%2B${1#+}" 'select(.query | contains($q)) | .t' fp.log; }
# at_smsc NUMBER: the messages the fake SMSC got for NUMBER
at_smsc() { jq -r --arg to "$1" 'select(.to == $to) | .n' "$FAKESMSC_LOG" | wc -l; }
# gaps NUMBER: the waits between its requests, "0.51 1.02 ..."
gaps() { times_to "$1" | awk 'NR > 1 { printf "%s%.2f", (NR > 2 ? " " : ""), $1 - p } { p = $1 }'; }
# at_least A B: 0 when A >= B (decimals)
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# status_of CAMPAIGN NUMBER: the message's status, as carnet-campaign
# messages shows it (in-doubt included)
status_of() {
	carnet-campaign --config "$C" messages "$1" --format ndjson |
		jq -r --arg to "$2" 'select(.to == $to) | .status'
}
# with_status CAMPAIGN STATUS: its numbers with that status, sorted
with_status() {
	carnet-campaign --config "$C" messages "$1" --status "$2" --format ndjson | jq -r .to | sort
}
# settle N: waits until the SMSC has N MTs more than when the scenario
# began, and a little more for strays
settle() { fakesmsc_wait $((base + $1)) 10; sleep 0.3; }
survived=0 scenarios=0
# scenario NAME: counts it; survived when no assertion failed since
sc_failed=0
scenario_begin() { scenarios=$((scenarios + 1)); sc_failed=$_failed; base=$(fakesmsc_count); }
scenario_end() { [ "$_failed" = "$sc_failed" ] && survived=$((survived + 1)); echo "# scenario $scenarios ($1): $([ "$_failed" = "$sc_failed" ] && echo survived || echo FAILED)"; }

# --- the proxy itself: everything passes (not counted as a fault) ---------------------------
base=$(fakesmsc_count)
faults
start=$(date +%s.%N)
run carnet-sms-send --config "$C" --campaign clean --to 0611000001 --text 'Propre'
end=$(date +%s.%N)
# tools wrapped in a script (make check-valgrind) take seconds to start
# and send: that time, measured here, is added to the bound on a slow
# send below (a serial send, 6 s and the same start, still exceeds it)
overhead=0
[ "$(head -c2 "$CARNET_BIN/carnet-sms-send")" = '#!' ] &&
	overhead=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
is "$status" 0 "no fault: exit 0"
settle 1
is "$(at_smsc +33611000001),$(reqs_to +33611000001)" "1,1" "one request, one message at the SMSC"

# --- 500s: retried after 0.5 s, 1 s; then exit 75, and a resume sends it once -----------
scenario_begin
faults 'GET sendsms 500 body=internal error'
run carnet-sms-send --config "$C" --campaign e500 --retries 2 --format ndjson \
	--to 0611000010 --text 'Cinq cents'
is "$status" 75 "500 on every try, retries exhausted: exit 75"
like "$err" "carnet-campaign send" "saying how to resume"
is "$(reqs_to +33611000010)" 3 "the message was tried 3 times (--retries 2)"
g=$(gaps +33611000010)
ok "$(at_least "${g%% *}" 0.45 && at_least "${g##* }" 0.95; echo $?)" \
	"with a backoff that doubles: waits of $g s (0.5 then 1)"
is "$(status_of e500 +33611000010)" failed "the message is failed, to retry"
is "$(at_smsc +33611000010)" 0 "nothing reached the SMSC"
faults
run carnet-campaign --config "$C" send e500
is "$status" 0 "the gateway back: carnet-campaign send exits 0"
settle 1
is "$(at_smsc +33611000010),$(status_of e500 +33611000010)" "1,sent" \
	"the message reaches the SMSC once, and is sent"

# a few 500s among good answers: each message sent once, exit 0
faults 'GET sendsms 500 count=3'
run carnet-sms-send --config "$C" --campaign e500b --parallel 2 \
	--to 0611000011 --to 0611000012 --to 0611000013 --to 0611000014 --text 'Quelques'
is "$status" 0 "three 500s among answers, retried: exit 0"
settle 4
is "$(for n in 11 12 13 14; do at_smsc +336110000$n; done | tr '\n' ' ')" "1 1 1 1 " \
	"each of the four numbers reaches the SMSC once"
is "$(wc -l <fp.log)" $((1 + 3 + 1 + 4 + 3)) "the proxy saw 3 retries more than messages"
scenario_end "500"

# --- 503 with Retry-After: 2 s honoured ---------------------------------------------------
scenario_begin
faults 'GET sendsms 503 count=1 retry-after=2 body=busy'
run carnet-sms-send --config "$C" --campaign e503 --format ndjson --to 0611000020 --text 'Plus tard'
is "$status" 0 "503 then 202: exit 0"
g=$(gaps +33611000020)
is "$(reqs_to +33611000020)" 2 "two requests"
ok "$(at_least "$g" 1.9; echo $?)" "the retry waited for Retry-After: 2 ($g s, not 0.5)"
is "$(sql "SELECT attempts FROM message WHERE phone = '+33611000020'")" 2 "two attempts recorded"
settle 1
is "$(at_smsc +33611000020)" 1 "the SMSC got it once"
scenario_end "503 Retry-After"

# --- a timeout before Kannel saw the request: in doubt, then sent on request ---------------
scenario_begin
faults 'GET sendsms timeout count=1'
run carnet-sms-send --config "$C" --campaign tmo --timeout 1 --format ndjson \
	--to 0611000030 --text 'Attente'
is "$status" 0 "a timeout: exit 0 (a message in doubt does not change it)"
is "$(printf '%s' "$out" | jq -r .status)" in-doubt "the message is in doubt"
like "$err" "1 in doubt" "the summary says so"
run carnet-campaign --config "$C" send tmo
is "$(reqs_to +33611000030)" 1 "a resume does not send it again"
run carnet-campaign --config "$C" send tmo --resend-in-doubt --format ndjson
is "$status,$(printf '%s' "$out" | jq -r .status)" "0,sent" "--resend-in-doubt sends it"
settle 1
is "$(at_smsc +33611000030)" 1 "the SMSC got it once"
scenario_end "timeout"

# --- a timeout after Kannel took it: in doubt, never sent twice ------------------------------
scenario_begin
faults 'GET sendsms timeout forward count=1'
run carnet-sms-send --config "$C" --campaign tmo2 --timeout 1 --format ndjson \
	--to 0611000031 --text 'Pris'
is "$status,$(printf '%s' "$out" | jq -r .status)" "0,in-doubt" \
	"the answer never came: exit 0, in doubt"
settle 1
run carnet-campaign --config "$C" send tmo2 --format ndjson
is "$(printf '%s' "$out" | jq -r .status)" in-doubt "a resume reports it in doubt"
sleep 0.5
is "$(at_smsc +33611000031),$(reqs_to +33611000031)" "1,1" \
	"and does not send it again: once at the SMSC"
scenario_end "timeout after forwarding"

# --- connection refused (a closed port): exit 75, then resumed through the proxy ---------------
scenario_begin
closed=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport')
sed "s|url: .*|url: http://127.0.0.1:$closed/cgi-bin/sendsms|" "$C" >closed.yaml
chmod 600 closed.yaml
faults
run carnet-sms-send --config closed.yaml --campaign refused --retries 1 \
	--to 0611000040 --to 0611000041 --text 'Refus'
is "$status" 75 "connection refused after the retries: exit 75"
like "$err" "try again later" "try again later"
is "$(sql "SELECT count(*) FROM message m JOIN campaign c ON c.id = m.campaign_id
	WHERE c.name = 'refused' AND (m.status IN ('sent', 'in-doubt') OR m.inflight_at IS NOT NULL)")" 0 \
	"nothing is sent, nothing in doubt (nothing left the machine)"
run carnet-campaign --config "$C" send refused
is "$status" 0 "through the proxy: the resume exits 0"
settle 2
is "$(at_smsc +33611000040),$(at_smsc +33611000041)" "1,1" "each message once at the SMSC"
scenario_end "connection refused"

# --- closed without an answer, before forwarding: in doubt (the client cannot tell) ------------
scenario_begin
faults 'GET sendsms close count=1'
run carnet-sms-send --config "$C" --campaign closed --format ndjson --to 0611000045 --text 'Fermé'
is "$status,$(printf '%s' "$out" | jq -r .status)" "0,in-doubt" \
	"connection closed without an answer: in doubt"
run carnet-campaign --config "$C" send closed --resend-in-doubt
settle 1
is "$(at_smsc +33611000045)" 1 "sent on request: once at the SMSC"
scenario_end "close"

# --- a slow server, and one that trickles its answer ---------------------------------------
scenario_begin
faults 'GET sendsms slow=1500'
start=$(date +%s.%N)
run carnet-sms-send --config "$C" --campaign slow --parallel 4 \
	--to 0611000050 --to 0611000051 --to 0611000052 --to 0611000053 --text 'Lent'
end=$(date +%s.%N)
is "$status" 0 "answers after 1.5 s each: exit 0"
ok "$(awk -v a="$start" -v b="$end" -v o="$overhead" 'BEGIN { exit !(b - a < 4.4 + o) }'; echo $?)" \
	"in parallel ($(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s for 4 x 1.5 s)"
faults 'GET sendsms trickle=300'
run carnet-sms-send --config "$C" --campaign trickle --to 0611000054 --text 'Goutte'
is "$status" 0 "an answer sent 64 bytes at a time: exit 0"
settle 5
is "$(for n in 50 51 52 53 54; do at_smsc +336110000$n; done | tr '\n' ' ')" "1 1 1 1 1 " \
	"each message once at the SMSC"
scenario_end "slow"

# --- a garbage body with 200: not Kannel; the message is in doubt ------------------------------
scenario_begin
faults 'GET sendsms garbage count=1'
run carnet-sms-send --config "$C" --campaign garbage --format ndjson --to 0611000060 --text 'Bruit'
is "$status" 0 "200 with a garbage body: exit 0"
is "$(printf '%s' "$out" | jq -r .status)" in-doubt \
	"not recorded as sent: Kannel answers 202 \"0: ...\" or \"3: ...\"; the message is in doubt"
like "$(printf '%s' "$out" | jq -r .error)" "unexpected answer" "with the reason"
sleep 0.5
is "$(at_smsc +33611000060)" 0 "(it did not reach the SMSC)"
run carnet-campaign --config "$C" send garbage --resend-in-doubt
settle 1
is "$(at_smsc +33611000060),$(status_of garbage +33611000060)" "1,sent" \
	"--resend-in-doubt: once at the SMSC, sent"
scenario_end "garbage"

# --- Kannel's own "202 3: Queued for later delivery" (the SMSC link down) ----------------------
scenario_begin
faults
fakesmsc_stop
run carnet-sms-send --config "$C" --campaign queued --format ndjson \
	--to 0611000070 --to 0611000071 --text 'En file'
is "$status" 0 "Kannel queues (3: Queued for later delivery): exit 0"
is "$(printf '%s\n' "$out" | jq -r .status | sort -u)" sent "both recorded as sent"
is "$(jq -r .up fp.log | tail -n 2 | sort -u)" 202 "(Kannel answered 202)"
fakesmsc_start
settle 2
is "$(at_smsc +33611000070),$(at_smsc +33611000071)" "1,1" \
	"the link back: each reaches the SMSC once"
run carnet-campaign --config "$C" send queued
sleep 0.5
is "$(at_smsc +33611000070),$(at_smsc +33611000071)" "1,1" "a resume sends nothing more"
scenario_end "202 3: Queued"

# --- the answer lost after Kannel took it: closed, and cut half way --------------------------
# one at a time: a message in doubt with nothing accepted since it left
# looks like a gateway gone, so the run stops (75) and a resume goes on
scenario_begin
faults 'GET to=%2B33611000080 close forward count=1' 'GET to=%2B33611000081 drop-mid count=1'
run carnet-sms-send --config "$C" --campaign lost --format ndjson --parallel 1 \
	--to 0611000080 --to 0611000081 --to 0611000082 --text 'Perdu'
is "$status,$(printf '%s\n' "$out" | jq -r '.to + " " + .status' | tr '\n' ,)" "75,+33611000080 in-doubt," \
	"the answer lost: in doubt; nothing got through since: the run stops, exit 75"
for i in 1 2 3; do
	run carnet-campaign --config "$C" send lost --parallel 1
	[ "$status" = 75 ] || break
done
is "$status" 0 "resumed until done ($i runs), exit 0"
settle 3
is "$(status_of lost +33611000080),$(status_of lost +33611000081),$(status_of lost +33611000082)" \
	"in-doubt,in-doubt,sent" "the two whose answer was lost (closed, cut half way) are in doubt, the third sent"
is "$(at_smsc +33611000080),$(at_smsc +33611000081),$(at_smsc +33611000082)" "1,1,1" \
	"nothing sent twice: each once at the SMSC"
is "$(reqs_to +33611000080),$(reqs_to +33611000081),$(reqs_to +33611000082)" "1,1,1" \
	"the resumes never asked Kannel again for those in doubt"
run carnet-campaign --config "$C" messages lost --status in-doubt --format ndjson
is "$(printf '%s\n' "$out" | jq -r .to | sort | tr '\n' ' ')" "+33611000080 +33611000081 " \
	"messages --status in-doubt lists them for a person to check"
scenario_end "answer lost"

# --- the answer lost on a kept-alive connection: libcurl must not send it again ---------------
# (libcurl resends by itself a request whose reused connection closed
# without a byte of answer: Kannel would get the message twice)
scenario_begin
faults 'GET to=%2B33611000091 close forward count=1'
run carnet-sms-send --config "$C" --campaign reused --format ndjson --parallel 1 \
	--to 0611000090 --to 0611000091 --to 0611000092 --text 'Réutilisée'
for i in 1 2 3; do
	[ "$status" = 75 ] || break
	run carnet-campaign --config "$C" send reused --parallel 1
done
settle 3
is "$(status_of reused +33611000091)" in-doubt "the second message, its answer lost on a reused connection: in doubt"
is "$(reqs_to +33611000091),$(at_smsc +33611000091)" "1,1" "sent to Kannel once, once at the SMSC"
is "$(at_smsc +33611000090),$(at_smsc +33611000092)" "1,1" "the others once each"
scenario_end "answer lost, connection reused"

# --- credentials refused (403, as smsbox says it): 77, nothing lost --------------------------
scenario_begin
faults 'GET sendsms 403 count=1 body=Authorization failed for sendsms'
run carnet-sms-send --config "$C" --campaign auth --parallel 1 \
	--to 0611000095 --to 0611000096 --text 'Accès'
is "$status" 77 "403: exit 77"
like "$err" "Kannel refused the credentials" "saying the credentials were refused"
is "$(reqs_to +33611000095),$(reqs_to +33611000096)" "1,0" "no retry, no new request"
run carnet-campaign --config "$C" send auth
is "$status" 0 "the credentials mended: the resume exits 0"
settle 2
is "$(at_smsc +33611000095),$(at_smsc +33611000096)" "1,1" "each message once at the SMSC"
scenario_end "403 credentials"

# --- a seeded storm of every fault, 40 messages (400 with CARNET_SLOW=1) ------------------------
N=40
[ "${CARNET_SLOW:-0}" = 1 ] && N=400
scenario_begin
storm_from=$(wc -l <fp.log)
faults 'GET sendsms close forward p=0.08' 'GET sendsms timeout p=0.05' \
	'GET sendsms close p=0.05' 'GET sendsms 500 p=0.15' \
	'GET sendsms 503 p=0.1 retry-after=1' 'GET sendsms slow=300 p=0.2'
awk -v n=$N 'BEGIN { print "phone"; for (i = 0; i < n; i++) printf "+3361200%04d\n", i }' >storm.csv
run_in storm.csv carnet-sms-send --config "$C" --campaign storm --parallel 4 --retries 5 \
	--timeout 2 --format ndjson --text 'Tempête'
st1=$status
# a run may stop (75) when an answer is lost while nothing else gets
# through; the resumes go on until done, the faults still on
for i in 1 2 3 4; do
	[ "$status" = 75 ] || break
	run carnet-campaign --config "$C" send storm --timeout 2
done
faults
run carnet-campaign --config "$C" send storm --format ndjson
ok "$(case $st1 in 0 | 75) [ "$status" = 0 ] ;; *) false ;; esac; echo $?)" \
	"the storm exits 0 or 75 ($st1), the resumes end with 0 (seed ${FAULTPROXY_SEED:-1})"
doubt=$(with_status storm in-doubt)
with_status storm sent >storm-sent.txt
nsent=$(wc -l <storm-sent.txt)
nd=$(printf '%s' "$doubt" | grep -c . || true)
is "$((nsent + nd))" $N "every message is sent or in doubt ($nsent sent, $nd in doubt)"
settle "$nsent"
jq -r 'select(.to | startswith("+3361200")) | .to' "$FAKESMSC_LOG" | sort >storm-got.txt
is "$(uniq -d storm-got.txt | wc -l)" 0 "no number reached the SMSC twice"
is "$(comm -23 storm-sent.txt storm-got.txt | wc -l)" 0 "every message recorded as sent reached it"
is "$(comm -13 storm-sent.txt storm-got.txt | comm -23 - <(printf '%s\n' "$doubt" | sort) | wc -l)" 0 \
	"the SMSC got nothing else than those and messages in doubt"
run carnet-campaign --config "$C" send storm --resend-in-doubt
settle $N
jq -r 'select(.to | startswith("+3361200")) | .to' "$FAKESMSC_LOG" | sort | uniq -c | awk '{ print $1 }' | sort | uniq -c >storm-count.txt
tail -n +$((storm_from + 1)) fp.log | jq -r '.rule | sub(" p=[0-9.]*"; "") | sub("^GET sendsms "; "")' |
	sort | uniq -c | sed 's/^ */# storm: /'
echo "# storm: $(($(wc -l <fp.log) - storm_from)) requests in all; at the SMSC per number: $(tr -s ' \n' ' ' <storm-count.txt) (count, times)"
ok "$([ "$(jq -r 'select(.to | startswith("+3361200")) | .to' "$FAKESMSC_LOG" | sort -u | wc -l)" = $N ]; echo $?)" \
	"after --resend-in-doubt, all $N numbers reached the SMSC"
scenario_end "storm"

echo "# faults survived: $survived of $scenarios"
done_testing
