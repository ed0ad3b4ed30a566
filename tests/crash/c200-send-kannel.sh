#!/usr/bin/env bash
# c200-send-kannel: campaigns sent to the real Kannel rig (tests/kannel.sh,
# the fake SMSC counting what reaches the carrier side), with the receiver
# (carnet-sms-fetch --listen) taking Kannel's delivery reports into the
# same store, killed with SIGKILL at every send point (lib/send.c:
# send.journaled, send.answered, send.committed, send.finish) at several
# counts, and by time.  Each kill point is one `carnet-campaign send`
# (the first one a `carnet-sms-send`) of a campaign that earlier kill
# points may have left half sent.  After each kill: integrity_check ok;
# once Kannel is quiet, no number reached the SMSC twice, every message
# the store calls sent or delivered reached it, and every message that
# reached it is sent or delivered in the store (its receipt settled it if
# it was in flight at the kill) or, still 'preparing', is in the journal
# of messages in flight ("+REF" last), so that no later run sends it
# blindly.  At the end of each campaign, the documented path for the
# messages in doubt: the receipts settle the ones that went out, and
# `--resend-in-doubt` sends the rest; no message in doubt that reached
# the SMSC is left for it to send twice; every number reached the SMSC
# exactly once, and the store agrees.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
. "$TOP/tests/kannel.sh"
command -v jq >/dev/null || skip_all "jq is needed"
command -v carnet-sms-fetch >/dev/null || skip_all "carnet-sms-fetch is not built"
kannel_require

export CARNET_CALLBACK_TOKEN=crash-c200-token
backups_off

# the receiver first (Kannel's dlr-url points at it); stopped on every way out
carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready --quiet \
	>listen.out 2>listen.err &
LPID=$!
for _ in $(seq 600); do [ -s ready ] && break; sleep 0.05; done
PORT=$(cat ready 2>/dev/null)
_c200_stop() { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }
trap '_c200_stop; cd /; rm -rf "$T"' EXIT
( while kill -0 $$ 2>/dev/null; do sleep 1; done; kill "$LPID" 2>/dev/null ) >/dev/null 2>&1 &
[ -n "$PORT" ] || skip_all "the receiver did not start"

kannel_start
# odd campaigns ask for delivery reports, even ones do not (a gateway
# without them: the journal alone keeps a message from going out twice)
cp "$KANNEL_CARNET_YAML" nodlr.yaml
printf '    dlr_url: http://127.0.0.1:%s/dlr\n' "$PORT" >>"$KANNEL_CARNET_YAML"
C_DLR=$KANNEL_CARNET_YAML
C=$C_DLR

N=$(crash_scale 300 600)		# messages per campaign
TEXT='Crash c200'

# quiet: waits until the SMSC and the receipts stop moving (Kannel has
# delivered what it accepted and reported it), bounded
quiet() {
	local a b n=0 i
	a="$(fakesmsc_count) $(sql 'SELECT count(*) FROM receipt')"
	for i in $(seq 150); do
		sleep 0.2
		b="$(fakesmsc_count) $(sql 'SELECT count(*) FROM receipt')"
		if [ "$a" = "$b" ]; then
			n=$((n + 1))
			[ $n -ge 4 ] && return 0
		else
			n=0
		fi
		a=$b
	done
	return 1
}

# the numbers at the SMSC (this scenario's text), sorted, with repeats
# (the current campaign's: +336KK......, KK = 10 + K)
smsc_numbers() {
	jq -r --arg t "$TEXT" --arg p "+336$((10 + K))" \
		'select(.text == $t and (.to | startswith($p))) | .to' "$FAKESMSC_LOG" | sort
}

# lost_reports: the delivery reports Kannel could not deliver to the
# receiver (it does not try again: smsbox's http-request-retry is 0)
lost_reports() { grep -c "Couldn't fetch <http://127.0.0.1:$PORT/dlr" "$KANNEL_DIR/smsbox.log"; }

# phones CAMPAIGN-ID WHERE: the campaign's numbers whose messages match
phones() {
	sql_raw "SELECT phone FROM message WHERE campaign_id = $1 AND ($2) ORDER BY phone"
}

integrity() {
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$1: integrity_check ok"
}

# check_state LABEL: the store against the SMSC, once Kannel is quiet
check_state() {
	local what=$1 cid=$CID
	quiet
	ok $? "$what: Kannel quiet"
	smsc_numbers >got.txt
	is "$(uniq -d got.txt | tr '\n' ' ')" "" "$what: no number reached the SMSC twice"
	phones "$cid" "status IN ('sent', 'delivered')" >sent.txt
	is "$(comm -23 sent.txt got.txt | wc -l)" 0 \
		"$what: every message sent or delivered in the store reached the SMSC"
	# reached the SMSC, and the store would send it again: 'preparing',
	# not in doubt, and not in the journal as in flight
	phones "$cid" "status = 'preparing' AND inflight_at IS NULL" >todo.txt
	comm -12 todo.txt got.txt >again.txt
	local bad=0 p ref
	while read -r p; do
		[ -n "$p" ] || continue
		ref=$(sql_raw "SELECT ref FROM message WHERE campaign_id = $cid AND phone = '$p'")
		[ "$(grep -E "^[+-]$ref\$" "$STORE.send-$cid.lock" 2>/dev/null | tail -1)" = "+$ref" ] ||
			{ bad=$((bad + 1)); echo "# $p ($ref) reached the SMSC and would be sent again"; }
	done <again.txt
	is "$bad" 0 "$what: nothing that reached the SMSC waits to be sent again ($(wc -l <again.txt) in the journal)"
	is "$(phones "$cid" "status NOT IN ('preparing', 'sent', 'delivered')" | wc -l)" 0 \
		"$what: no message failed"
}

# new_campaign [POINT]: a new campaign of $N numbers, saved (a draft),
# or with POINT prepared and sent at once by carnet-sms-send killed at
# POINT (crash_at: sets status); sets CID and K
K=0
lost_before=0
new_campaign() {
	K=$((K + 1))
	if [ $((K % 2)) = 1 ]; then C=$C_DLR; else C=nodlr.yaml; fi
	awk -v k="$K" -v n="$N" 'BEGIN { print "phone"; for (i = 0; i < n; i++) printf "+336%02d%06d\n", 10 + k, i }' >"c$K.csv"
	if [ -n "${1:-}" ]; then
		crash_at "$1" carnet-sms-send --config "$C" --campaign "c200-$K" --yes \
			--parallel 8 --text "$TEXT" <"c$K.csv" 2>/dev/null
	else
		run carnet-sms-send --config "$C" --campaign "c200-$K" --save --yes --text "$TEXT" <"c$K.csv"
		is "$status" 0 "campaign c200-$K: $N messages saved"
	fi
	CID=$(sql "SELECT id FROM campaign WHERE name = 'c200-$K'")
}

# finish_campaign: resume to the end, the documented path for the
# messages in doubt, and the campaign's final checks
finish_campaign() {
	local what="campaign c200-$K" doubt
	run carnet-campaign --config "$C" send "$CID" --yes
	ok "$([ "$status" = 0 ] || [ "$status" = 75 ]; echo $?)" "$what: the resume ends ($status)"
	quiet
	smsc_numbers >got.txt
	# receipts settled what went out; what is still in doubt did not
	# (Kannel's reports may lag behind the SMSC on a loaded machine:
	# waited for, 20 s at most)
	phones "$CID" "status = 'preparing' AND inflight_at IS NOT NULL" >doubt.txt
	for _ in $(seq 100); do
		[ "$C" = "$C_DLR" ] && [ -n "$(comm -12 doubt.txt got.txt)" ] || break
		sleep 0.2
		phones "$CID" "status = 'preparing' AND inflight_at IS NOT NULL" >doubt.txt
	done
	doubt=$(wc -l <doubt.txt)
	lost=$(lost_reports)
	comm -12 doubt.txt got.txt >out.txt
	if [ "$C" = "$C_DLR" ] && [ -s out.txt ]; then
		# a message in doubt that went out and whose report never came:
		# a failure, unless Kannel could not deliver the report (then
		# TODO, see RELIABILITY.md)
		_result 1 "$what: Kannel's reports settled every message in doubt that went out ($(wc -l <out.txt) not)" \
			"$([ "$lost" -gt "$lost_before" ] && echo "Kannel could not deliver $((lost - lost_before)) reports to the receiver (smsbox: Couldn't fetch)")"
	fi
	if [ "$C" != "$C_DLR" ] || [ -s out.txt ]; then
		# no delivery reports: the receipts come later (a pull, an
		# operator), for the messages in doubt that went out
		while read -r p; do
			[ -n "$p" ] || continue
			printf '{"kind":"receipt","ref":"%s","status":"delivered"}\n' \
				"$(sql_raw "SELECT ref FROM message WHERE campaign_id = $CID AND phone = '$p'")"
		done <out.txt >receipts.ndjson
		if [ -s receipts.ndjson ]; then
			run_in receipts.ndjson carnet-sms-fetch --from-stdin --quiet
			is "$status" 0 "$what: the receipts of the $(wc -l <out.txt) messages in doubt that went out are applied"
		fi
		phones "$CID" "status = 'preparing' AND inflight_at IS NOT NULL" >doubt.txt
	fi
	is "$(comm -12 doubt.txt got.txt | tr '\n' ' ')" "" \
		"$what: no message left in doubt ($doubt) reached the SMSC"
	run carnet-campaign --config "$C" send "$CID" --yes --resend-in-doubt
	is "$status" 0 "$what: --resend-in-doubt ends the send"
	check_state "$what, at the end"
	smsc_numbers >got.txt
	cut -d, -f1 "c$K.csv" | tail -n +2 | sort >all.txt
	is "$(grep -c . all.txt),$(comm -12 all.txt got.txt | wc -l),$(uniq -d got.txt | wc -l)" "$N,$N,0" \
		"$what: every number reached the SMSC exactly once"
	is "$(phones "$CID" "status IN ('sent', 'delivered')" | wc -l)" "$N" \
		"$what: the store has every message sent or delivered"
	if [ "$C" = "$C_DLR" ]; then
		# and Kannel reported every one delivered (the reports of the
		# last messages may still be on their way: 20 s at most)
		for _ in $(seq 100); do
			[ "$(phones "$CID" "status = 'delivered'" | wc -l)" = "$N" ] && break
			sleep 0.2
		done
		if [ "$lost" -gt "$lost_before" ]; then
			_result "$([ "$(phones "$CID" "status = 'delivered'" | wc -l)" = "$N" ]; echo $?)" \
				"$what: every message delivered (Kannel's reports)" \
				"Kannel could not deliver $((lost - lost_before)) reports to the receiver (smsbox: Couldn't fetch)"
		else
			is "$(phones "$CID" "status = 'delivered'" | wc -l)" "$N" \
				"$what: every message delivered (Kannel's reports)"
		fi
	fi
	lost_before=$lost
	is "$(sql "SELECT status FROM campaign WHERE id = $CID")" sent "$what: the campaign is sent"
	echo "# $what ($([ "$C" = "$C_DLR" ] && echo with || echo without) delivery reports): $doubt in doubt at the end, $(wc -l <doubt.txt) of them resent on request"
}

# the kill points: POINT:COUNT, time:SECONDS, or sms:POINT:COUNT (a new
# campaign sent by carnet-sms-send, killed)
points=$(crash_scale \
	"send.answered:40 send.journaled:5 send.committed:1 send.answered:90 time:0.25 send.finish:1 send.journaled:30 sms:send.answered:50 send.committed:2 time:0.15 send.answered:7 send.finish:1" \
	"send.answered:40 send.journaled:5 send.committed:1 send.answered:90 time:0.25 send.finish:1 send.journaled:30 sms:send.answered:50 send.committed:2 time:0.15 send.answered:7 send.finish:1 \
	 sms:send.journaled:1 sms:send.committed:2 sms:send.answered:150 \
	 send.answered:1 send.answered:2 send.answered:3 send.answered:15 send.answered:60 send.answered:200 send.answered:250 \
	 send.journaled:1 send.journaled:2 send.journaled:8 send.journaled:13 send.journaled:50 send.journaled:70 \
	 send.committed:1 send.committed:2 send.committed:3 send.committed:1 send.committed:2 send.committed:3 \
	 send.finish:1 send.finish:1 time:0.15 time:0.2 time:0.3 time:0.35 time:0.12 time:0.25")

new_campaign
for pt in $points; do
	# a kill by time needs a fresh campaign (a send takes well under a
	# second on this rig)
	left=$(sql "SELECT count(*) FROM message WHERE campaign_id = $CID AND status = 'preparing' AND inflight_at IS NULL")
	if [ "$left" = 0 ] || { [ "${pt%%:*}" = time ] && [ "$left" -lt "$N" ]; }; then
		finish_campaign
		new_campaign
	fi
	case $pt in
	sms:*)
		# carnet-sms-send itself (prepare, then send) killed
		finish_campaign
		new_campaign "${pt#sms:}"
		is "$(sql "SELECT count(*) FROM message WHERE campaign_id = $CID")" "$N" \
			"c200-$K: prepared in one transaction before the send"
		;;
	time:*) crash_after "${pt#time:}" carnet-campaign --config "$C" send "$CID" --yes --parallel 8 2>/dev/null ;;
	*) crash_at "$pt" carnet-campaign --config "$C" send "$CID" --yes --parallel 8 2>/dev/null ;;
	esac
	crash_point_begin
	what="c200-$K, $pt"
	integrity "$what"
	if [ "$status" = 137 ]; then
		check_state "$what (killed)"
		crash_point_end
	else
		# it ended first: a completed run, checked as such
		ok "$([ "$status" = 0 ] || [ "$status" = 75 ]; echo $?)" "$what: ended before the point ($status)"
		check_state "$what (completed)"
	fi
done
finish_campaign

crash_report c200-send-kannel
done_testing
