#!/usr/bin/env bash
# carnet-stats on a store filled by the real paths: two sends through a
# real Kannel (tests/kannel.sh; one with a 2-SMS template and a
# blacklisted number that is skipped), a simulated send, receipts and
# replies applied by carnet-sms-fetch --from-stdin.  Every figure against
# hand-computed expectations: totals in SMS and in recipients, pending
# messages outside the delivery rate, simulated sends apart, empty days,
# a user with no sends, per user and folder, templates, one campaign
# (real and simulated); and agreement with carnet-quota usage.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/kannel.sh"
command -v carnet-sms-send >/dev/null || skip_all "carnet-sms-send is not built"
command -v carnet-sms-fetch >/dev/null || skip_all "carnet-sms-fetch is not built"

export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
T0=$CARNET_NOW
kannel_start
CFG=$KANNEL_CARNET_YAML

A=+33600000001 B=+33600000002 C=+33600000003 D=+33600000004
E=+33600000005 F=+33600000006 X=+33600000009

carnet-blacklist add --config "$CFG" "$X" >/dev/null
carnet-quota set --config "$CFG" --user IDLE --unlimited >/dev/null	# a user, no sends
# 170 GSM-7 characters: 2 SMS (153 + 17)
body=$(printf 'Bonjour, une mission vous attend demain matin. %.0s' 1 2 3 4 | cut -c1-170)
printf '%s' "$body" | carnet-template add --config "$CFG" --title Relance >/dev/null

# ref NUMBER: carnet's reference of the message to NUMBER
ref() { sql_raw "SELECT ref FROM message WHERE phone = '$1' AND status <> 'simulated'"; }

# --- send 1: JK, folder default, the 2-SMS template, 4 recipients + 1 skipped ---------
run carnet-sms-send --config "$CFG" --user JK --template Relance --campaign nov --yes \
	--to "$A" --to "$B" --to "$C" --to "$D" --to "$X"
is "$status" 0 "send 1 through Kannel: exit 0"
fakesmsc_wait 8
ok $? "the fake SMSC got 4 messages of 2 parts"
# receipts: A and B delivered, C rejected, D none (pending); replies: A twice, B STOP
cat >ev1.ndjson <<EOF
{"kind":"receipt","ref":"$(ref $A)","type":1,"time":$((T0 + 60))}
{"kind":"receipt","ref":"$(ref $B)","type":1,"time":$((T0 + 60))}
{"kind":"receipt","ref":"$(ref $C)","type":16,"time":$((T0 + 60))}
{"kind":"reply","number":"$A","text":"Oui","time":$((T0 + 600))}
{"kind":"reply","number":"$A","text":"Je serai la a 8h","time":$((T0 + 700))}
{"kind":"reply","number":"$B","text":"STOP","time":$((T0 + 800))}
EOF
CARNET_NOW=$((T0 + 900)) run_in ev1.ndjson carnet-sms-fetch --config "$CFG" --from-stdin -q
is "$status" 0 "the receipts and replies of send 1 are applied"

# --- send 2: ANN, folder lyon, the next day, 1 SMS to 2 recipients ---------------------
export CARNET_NOW=$((T0 + 86400))
run carnet-sms-send --config "$CFG" --user ANN --folder lyon --text 'Rappel: rdv demain' \
	--campaign rappel --yes --to "$E" --to "$F"
is "$status" 0 "send 2 through Kannel: exit 0"
fakesmsc_wait 10
cat >ev2.ndjson <<EOF
{"kind":"receipt","ref":"$(ref $E)","type":1,"time":$((CARNET_NOW + 60))}
{"kind":"receipt","ref":"$(ref $F)","type":2,"reason":"stat:EXPIRED","time":$((CARNET_NOW + 60))}
{"kind":"reply","number":"$E","text":"ok merci","time":$((CARNET_NOW + 600))}
EOF
CARNET_NOW=$((CARNET_NOW + 900)) run_in ev2.ndjson carnet-sms-fetch --config "$CFG" --from-stdin -q
is "$status" 0 "the receipts and replies of send 2 are applied"
is "$(sql_raw "SELECT phone, status FROM message ORDER BY id" | tr '\n' ' ')" \
	"$A|delivered $B|delivered $C|rejected $D|sent $X|skipped $E|delivered $F|expired " \
	"the statuses the real paths left"

# --- send 3: simulated, JK, 2 recipients (1 SMS each) ----------------------------------
export CARNET_NOW=$T0
run carnet-sms-send --config "$CFG" --user JK --simulate --text 'Test' --campaign essai \
	--to +33600000007 --to +33600000008
is "$status" 0 "a simulated send"

COLS=from,to,count,sms,recipients,delivered,failed,pending,delivery_rate,skipped,replies,replied,reply_rate,optouts,simulated_sms,simulated_recipients

# --- totals of the month -----------------------------------------------------------------
# sent: A B C D (2 SMS each) + E F (1 each) = 10 SMS, 6 recipients
# delivered A B E = 5 SMS; failed C F = 3; pending D = 2; rate 5 / (10 - 2) = 62.5
# skipped X = 2 SMS; replies 3 (A 2, E 1) from 2 recipients: 2 / 6 = 33.3; opt-outs B
run carnet-stats --config "$CFG"
is "$status" 0 "carnet-stats exits 0"
is "$out" "$COLS
2026-11-01,2026-11-30,sms,10,6,5,3,2,62.5,2,3,2,33.3,1,2,2" \
	"this month's totals in SMS (CSV off a terminal); simulated apart"
run carnet-stats --config "$CFG" --count recipients --format json
is "$out" '[
{"from":"2026-11-01","to":"2026-11-30","count":"recipients","sms":10,"recipients":6,"delivered":3,"failed":2,"pending":1,"delivery_rate":60.0,"skipped":1,"replies":3,"replied":2,"reply_rate":33.3,"optouts":1,"simulated_sms":2,"simulated_recipients":2}
]' "--count recipients: delivered 3 of the 5 with a known fate; pending 1 shown apart"

# --- by day, with empty days ------------------------------------------------------------------
run carnet-stats --config "$CFG" --from 2026-11-21 --to 2026-11-24 --by day
is "$out" "day,count,sms,recipients,delivered,failed,pending,delivery_rate,skipped,replies,replied,reply_rate,optouts,simulated_sms,simulated_recipients
2026-11-21,sms,0,0,0,0,0,,0,0,0,,0,0,0
2026-11-22,sms,8,4,4,2,2,66.7,2,2,1,25.0,1,2,2
2026-11-23,sms,2,2,1,1,0,50.0,0,1,1,50.0,0,0,0
2026-11-24,sms,0,0,0,0,0,,0,0,0,,0,0,0" \
	"--by day: every day of the range, the empty ones as zeros with no rate"

# --- by folder and user; a user with no sends; unknown names ----------------------------------
run carnet-stats --config "$CFG" --by folder,user --count recipients --format json
is "$(printf '%s' "$out" | jq -c '.[] | [.folder, .user, .recipients, .delivered, .failed, .pending, .delivery_rate, .replied, .reply_rate, .optouts, .simulated_recipients]')" \
'["default","JK",4,2,1,1,66.7,1,25,1,2]
["lyon","ANN",2,1,1,0,50,1,50,0,0]' "--by folder,user --count recipients --format json"
run carnet-stats --config "$CFG" --user IDLE
is "$status,$out" "0,$COLS
2026-11-01,2026-11-30,sms,0,0,0,0,0,,0,0,0,,0,0,0" "a user with no sends: zeros, no rates"
run carnet-stats --config "$CFG" --user NOBODY --by user
is "$status,$out" "0,user,count,sms,recipients,delivered,failed,pending,delivery_rate,skipped,replies,replied,reply_rate,optouts,simulated_sms,simulated_recipients" \
	"an unknown user: no rows, exit 0"
run carnet-stats --config "$CFG" --folder lyon
is "$(printf '%s' "$out" | tail -n 1)" "2026-11-01,2026-11-30,sms,2,2,1,1,0,50.0,0,1,1,50.0,0,0,0" "--folder lyon"
run carnet-stats --config "$CFG" --from 2026-10
is "$out" "$COLS
2026-10-01,2026-10-31,sms,0,0,0,0,0,,0,0,0,,0,0,0" "a month without messages: zeros"

# --- agreement with the usage ledger ------------------------------------------------------------
stats=$(carnet-stats --config "$CFG" --from 2026-11 --by folder,user | sed 1d | cut -d, -f1,2,4,5)
usage=$(carnet-quota usage --config "$CFG" --month 2026-11 --format csv | sed 1d | cut -d, -f2-5)
is "$stats" "$usage" "sms and recipients per folder and user agree with carnet-quota usage"
is "$usage" "default,JK,8,4
lyon,ANN,2,2" "(which holds the two real sends, not the simulated one nor the skipped number)"

# --- templates -------------------------------------------------------------------------------------
run carnet-stats --config "$CFG" templates --format table
is "$out" "rank  template  count  sms  recipients  delivered  failed  pending  delivery_rate  skipped  replies  replied  reply_rate  optouts  simulated_sms  simulated_recipients
1     Relance   sms    8    4           4          2       2        66.7           2        2        1        25.0        1        0              0" \
	"templates: the one template used, ranked (sends without a template left out)"

# --- one campaign ----------------------------------------------------------------------------------
run carnet-stats --config "$CFG" campaign 1 --format json
is "$(printf '%s' "$out" | jq -c '[.name, .user, .template, .simulated, .sms, .recipients, .delivered, .failed, .pending, .delivery_rate, .skipped, .replies, .replied, .optouts]')" \
	'["nov","JK","Relance",false,8,4,4,2,2,66.7,2,2,1,1]' "campaign 1 as JSON"
run carnet-stats --config "$CFG" campaign 1 --count recipients
is "$out" "campaign 1 'nov': folder default, user JK, template 'Relance', sent, sent 2026-11-22T08:00:00Z
  sent:      4 recipients, 8 SMS (segments: the cost)
  delivered: 2 recipients (delivery rate 66.7% of the 3 with a known fate)
  failed:    1 recipient
  pending:   1 recipient (no receipt yet; not in the rate)
  skipped:   1 recipient (blacklisted, not sent)
  replies:   2 from 1 recipient (reply rate 25.0%)
  opt-outs:  1" "campaign 1 for people"
CID=$(sql "SELECT id FROM campaign WHERE name = 'essai'")
run carnet-stats --config "$CFG" campaign "$CID"
like "$out" "SIMULATED: nothing was sent" "a simulated campaign is labelled"
like "$out" "simulated: 2 recipients, 2 SMS" "with the figures of its simulation"
run carnet-stats --config "$CFG" campaign 99
is "$status" 66 "an unknown campaign: exit 66"
is "$err" "carnet-stats: no campaign 99" "and says so"
# --- a reply to a closed campaign: held, not counted until applied ------------------------------
export CARNET_NOW=$((T0 + 86400 + 3600))
run carnet-campaign --config "$CFG" close rappel
is "$status" 0 "campaign rappel closed"
cat >ev3.ndjson <<EOF
{"kind":"reply","number":"$F","text":"trop tard ?","time":$CARNET_NOW}
EOF
run_in ev3.ndjson carnet-sms-fetch --config "$CFG" --from-stdin -q
is "$(sql "SELECT held FROM reply WHERE phone = '$F'")" 1 "a reply after the close is held"
run carnet-stats --config "$CFG" --folder lyon --format json
is "$(printf '%s' "$out" | jq -c '.[0] | [.replies, .replied, .reply_rate]')" "[1,1,50]" \
	"a held reply is not counted: the campaign collected replies until its close"
run carnet-sms-fetch --config "$CFG" --campaign "$(sql "SELECT id FROM campaign WHERE name = 'rappel'")" -q
is "$status" 0 "a manual fetch of the campaign applies what was held"
run carnet-stats --config "$CFG" --folder lyon --format json
is "$(printf '%s' "$out" | jq -c '.[0] | [.replies, .replied, .reply_rate]')" "[2,2,100]" \
	"applied by a manual fetch of the campaign, it counts"
done_testing
