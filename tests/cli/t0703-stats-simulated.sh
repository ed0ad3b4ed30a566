#!/usr/bin/env bash
# carnet-stats after simulated sends only (carnet-sms-send --simulate, no
# gateway, so this runs where Kannel is not installed): nothing counts as
# sent, the simulation is shown apart in SMS and recipients, a blacklisted
# number is skipped, the figures agree with an empty usage ledger, and the
# campaign (by name, as make demo shows it) is labelled SIMULATED.
. "$(dirname "$0")/../lib.sh"
command -v carnet-sms-send >/dev/null || skip_all "carnet-sms-send is not built"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

carnet-blacklist add +33600000009 >/dev/null
run carnet-sms-send --simulate --user JK --campaign rappel-demo \
	--text 'Bonjour, votre rendez-vous de demain est confirmé.' \
	--to +33600000001 --to +33600000002 --to +33600000009
is "$status" 0 "a simulated send"
# 51 characters, but 'é' is GSM-7: 1 SMS each
CARNET_NOW=$((CARNET_NOW + 86400)) carnet-sms-send --simulate --user ANN -q \
	--text 'Rappel' --to +33600000003 >/dev/null

run carnet-stats
is "$out" "from,to,count,sms,recipients,delivered,failed,pending,delivery_rate,skipped,replies,replied,reply_rate,optouts,simulated_sms,simulated_recipients
2026-11-01,2026-11-30,sms,0,0,0,0,0,,1,0,0,,0,3,3" \
	"simulated sends: nothing sent, 3 simulated apart, 1 skipped"
run carnet-stats --by user --count recipients
is "$(printf '%s\n' "$out" | cut -d, -f1,3,4,9,14,15)" "user,sms,recipients,skipped,simulated_sms,simulated_recipients
ANN,0,0,0,1,1
JK,0,0,1,2,2" "per user"
is "$(carnet-quota usage --month 2026-11 | sed 1d)" "" \
	"the ledger holds nothing for a simulation, as the stats say (0 SMS sent)"
run carnet-stats campaign rappel-demo
is "$status" 0 "the campaign by its name"
is "$out" "campaign 1 'rappel-demo': folder default, user JK, sent, sent 2026-11-22T08:00:00Z
  SIMULATED: nothing was sent to a gateway; the figures are those of the simulation
  simulated: 2 recipients, 2 SMS (segments: the cost it would have had)
  skipped (blacklisted): 1 recipient" "labelled SIMULATED, with the simulation's figures"
run carnet-stats campaign rappel-demo --format json
is "$(printf '%s' "$out" | jq -c '[.simulated, .sms, .simulated_sms, .simulated_recipients, .skipped]')" \
	'[true,0,2,2,1]' "as JSON: simulated true, nothing sent"
if command -v script >/dev/null; then
	script -qec "carnet-stats" /dev/null | tr -d '\r' >tty.out
	is "$(cat tty.out)" "2026-11-01 to 2026-11-30, every folder, every user
  sent:      0 recipients, 0 SMS (segments: the cost)
  delivered: 0 SMS
  failed:    0 SMS
  pending:   0 SMS (no receipt yet; not in the rate)
  skipped:   1 SMS (blacklisted, not sent)
  replies:   0 from 0 recipients
  opt-outs:  0
  simulated apart: 3 recipients, 3 SMS" "on a terminal: the totals for people, no rate without a denominator"
else
	ok 0 "# SKIP script(1) not installed"
fi
done_testing
