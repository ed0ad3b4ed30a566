#!/usr/bin/env bash
# carnet-sms-send without a gateway: preview, simulation and saved
# campaigns; recipients from stdin, --to and --list; rendering per
# recipient; duplicates sent once; blacklisted numbers skipped (or the
# send refused); invalid input refused with nothing recorded; the segment
# limit; quotas (block, warn, threshold and --yes); campaign names.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

cat >r.csv <<'EOF'
phone,first_name,city
06 12 34 56 78,Zoé,Lyon
+33612345679,Marc,Paris
0612345678,Zoé bis,Lyon
EOF

# --- preview: the text each recipient gets, nothing recorded ---------------------
carnet-quota show >/dev/null	# creates the store
before=$(store_sum)
run carnet-sms-send --text 'Bonjour {{first_name}} de {{city}}' --preview --format ndjson <r.csv
is "$status" 0 "preview exits 0"
is "$(printf '%s\n' "$out" | jq -c '[.line, .to, .status, .text, .encoding, .segments]')" \
	"$(printf '%s\n' '[2,"+33612345678","preparing","Bonjour Zoé de Lyon","gsm7",1]' \
		'[3,"+33612345679","preparing","Bonjour Marc de Paris","gsm7",1]' \
		'[4,"+33612345678","duplicate",null,null,null]')" \
	"one record per recipient, rendered; the same number again is a duplicate"
like "$err" "preview: 2 recipients, 2 SMS \(2 GSM-7, 0 UCS-2\), 1 duplicates sent once" "stderr: the totals"
like "$err" "quota: no quota; this month 0 SMS used" "and the quota effect"
like "$err" "nothing recorded, nothing sent" "and says nothing happened"
is "$(store_sum)" "$before" "preview changes nothing in the store"
run carnet-sms-send --text 'x' --dry-run --to 0612345678
is "$status,$(sql 'SELECT count(*) FROM campaign')" "0,0" "--dry-run is the same as --preview"

# --- simulation: recorded as simulated, one record per message -------------------
run carnet-sms-send --text 'Bonjour {{first_name}}, mission à 8h' --simulate --campaign c1 --format ndjson <r.csv
is "$status" 0 "simulate exits 0"
is "$(printf '%s\n' "$out" | jq -c '[.campaign, .to, .status, .encoding, .segments, .provider_id, .error]')" \
	"$(printf '%s\n' '[1,"+33612345678","simulated","gsm7",1,null,null]' '[1,"+33612345679","simulated","gsm7",1,null,null]')" \
	"output: id, campaign, to, status, encoding, segments, provider id, error"
like "$(printf '%s\n' "$out" | jq -r .id | head -1)" '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-' "each message has its own reference (UUIDv7)"
is "$(sql "SELECT name, status, simulated, driver FROM campaign")" "c1,sent,1,simulate" "the campaign is recorded, simulated, sent"
is "$(sql "SELECT phone, status, body FROM message ORDER BY id")" \
	"$(printf '%s\n' '+33612345678,simulated,"Bonjour Zoé, mission à 8h"' '+33612345679,simulated,"Bonjour Marc, mission à 8h"')" \
	"the messages hold the text actually sent"
is "$(sql "SELECT count(*) FROM usage")" 0 "a simulation uses no quota"
like "$err" "campaign 1: 2 simulated, 0 failed" "stderr: the summary"
is "$(sql "SELECT close_at - sent_at FROM campaign WHERE id = 1")" 259200 "expected close: 72 hours after sending"

# --- a campaign name is a promise that it is sent once ----------------------------
before=$(store_sum)
run carnet-sms-send --text 'again' --simulate --campaign c1 <r.csv
is "$status" 65 "the same campaign name again: refused (65)"
like "$err" "campaign 'c1' already exists \(id 1, sent\)" "it says why and which"
is "$(store_sum)" "$before" "and records nothing"
run carnet-sms-send --text 'one' --simulate --to 0612345678
run carnet-sms-send --text 'two' --simulate --to 0612345678
is "$status" 0 "two sends without a name in the same second: both go"
is "$(sql "SELECT count(DISTINCT name) FROM campaign")" 3 "with distinct implicit names"

# --- the UCS-2 choice and long texts -----------------------------------------------
run carnet-sms-send --text 'Votre mission démarre lundi, ça va être bien' --simulate --to 0612345670 --format ndjson
is "$(printf '%s' "$out" | jq -c '[.encoding, .segments]')" '["ucs2",1]' "ê makes the text UCS-2"
long=$(printf 'a%.0s' $(seq 1 1540))
before=$(store_sum)
run carnet-sms-send --text "$long" --simulate --to 0612345670
is "$status" 65 "a text over sms.max_segments (10) is refused before anything"
like "$err" "11 segments long \(at most 10: sms.max_segments\)" "with the count and the limit"
is "$(store_sum)" "$before" "nothing recorded"

# --- invalid recipients: all or nothing -----------------------------------------------
printf 'phone,first_name\n0612345678,A\nnot-a-number,B\n,C\n0612345671\n' >bad.csv
before=$(store_sum)
run carnet-sms-send --text 'Hi {{first_name}}' --simulate <bad.csv
is "$status" 65 "invalid recipients: exit 65"
like "$err" "stdin:3: invalid phone 'not-a-number'" "the bad number, with its line"
like "$err" "stdin:4: no phone number" "the empty phone, with its line"
like "$err" "stdin:5: .*first_name" "a missing merge field, with its line"
like "$err" "3 of 4 recipients are invalid: nothing was recorded or sent" "and the verdict"
is "$(store_sum)" "$before" "the store is exactly as before"
run carnet-sms-send --text 'x' --simulate </dev/null
is "$status" 66 "no recipients at all: 66"

# --- the blacklist: skipped and reported, or the send refused ---------------------
carnet-blacklist add +33612345679 --reason STOP >/dev/null 2>&1
run carnet-sms-send --text 'Promo' --simulate --campaign bl --format ndjson <r.csv
is "$status" 0 "a blacklisted recipient does not stop the send"
is "$(printf '%s\n' "$out" | jq -r .to)" "+33612345678" "only the other number is sent"
is "$(sql "SELECT phone, status, error FROM message WHERE campaign_id = (SELECT id FROM campaign WHERE name = 'bl') ORDER BY id")" \
	"$(printf '%s\n' '+33612345678,simulated,' '+33612345679,skipped,"blacklisted (STOP)"')" \
	"the blacklisted one is recorded as skipped, with the reason"
like "$err" "1 blacklisted skipped" "and the summary counts it"
before=$(store_sum)
run carnet-sms-send --text 'Promo' --simulate --no-skip-blacklisted <r.csv
is "$status" 65 "--no-skip-blacklisted: the whole send is refused"
like "$err" "\+33612345679 is blacklisted \(STOP\)" "naming the number and the reason"
is "$(store_sum)" "$before" "nothing recorded"

# --- --list: the members of a list, with their fields ------------------------------
carnet-contacts import --list interim r.csv >/dev/null 2>&1
run carnet-sms-send --list interim --text '{{first_name}} ({{city}})' --preview --format ndjson
is "$status" 0 "--list previews"
is "$(printf '%s\n' "$out" | jq -r '.text // .status' | sort)" "$(printf '%s\n' 'Marc (Paris)' 'Zoé (Lyon)')" \
	"one message per member, merge fields from the contacts (the import kept the first Zoé)"
run carnet-sms-send --list nope --text 'x' --preview
is "$status" 66 "an unknown list: 66"

# --- templates --------------------------------------------------------------------------
echo 'Bonjour {{first_name|vous}}, rappel mission' | carnet-template add --title relance >/dev/null
run carnet-sms-send --template relance --to 0612345600 --simulate --format ndjson
is "$status" 0 "--template by title"
is "$(sql "SELECT m.body, t.title FROM message m JOIN template t ON t.id = m.template_id WHERE m.phone = '+33612345600'")" \
	"\"Bonjour vous, rappel mission\",relance" \
	"the template is rendered (a missing value takes its default) and linked"
echo 'Salut' | CARNET_FOLDER=agence carnet-template add --title salut >/dev/null
is "$(sql "SELECT f.name FROM template t JOIN folder f ON f.id = t.folder_id WHERE t.title = 'salut'")" agence \
	"a template goes to the configured folder (\$CARNET_FOLDER)"
CARNET_FOLDER=agence run carnet-sms-send --template salut --to 0612345601 --simulate
is "$status" 0 "and a send in that folder finds it"
run carnet-sms-send --template nope --to 0612345600 --simulate
is "$status" 66 "an unknown template: 66"

# --- saved campaigns: a draft, sent later -----------------------------------------------
run carnet-sms-send --text 'Plus tard {{first_name}}' --save --campaign later <r.csv
is "$status" 0 "--save exits 0"
like "$err" "campaign [0-9]+ 'later' saved as a draft" "it says how to send it"
is "$(sql "SELECT status FROM campaign WHERE name = 'later'")" draft "the campaign is a draft"
is "$(sql "SELECT count(*), min(status) FROM message WHERE campaign_id = (SELECT id FROM campaign WHERE name = 'later')")" \
	"2,preparing" "its messages wait"
usage_before=$(sql "SELECT count(*) FROM usage")
run carnet-campaign send later --simulate --format ndjson
is "$status" 0 "carnet-campaign send sends the draft"
is "$(printf '%s\n' "$out" | jq -r .status | sort -u)" simulated "every message"
is "$(sql "SELECT status FROM campaign WHERE name = 'later'")" sent "the campaign is sent"
run carnet-campaign send later --simulate
is "$(printf '%s' "$out" | grep -c simulated)" 0 "sending it again sends nothing"

# --- quotas: block (nothing sent, exit 1, which limit and by how much) -----------------
cat >cfg.yaml <<'EOF'
sms:
  driver: simulate
EOF
printf 'phone\n0611111111\n0611111112\n' >q.csv
carnet-quota set --default --per-send-sms 1 >/dev/null
before=$(store_sum)
run carnet-sms-send --config cfg.yaml --text 'x' <q.csv
is "$status" 1 "over the per-send quota: exit 1"
like "$err" "over the per-send SMS quota .*: 2 > 1 \(by 1\)" "which limit and by how much"
like "$err" "nothing sent" "and that nothing was sent"
is "$(store_sum)" "$before" "nothing recorded"
carnet-quota set --default --per-send-sms 10 >/dev/null
run carnet-sms-send --config cfg.yaml --text 'x' --campaign q1 <q.csv
is "$status" 0 "within the quota, through sms.driver simulate"
is "$(sql "SELECT simulated, (SELECT count(*) FROM usage) FROM campaign WHERE name = 'q1'")" "1,0" \
	"sms.driver simulate is a simulation: no usage recorded"
carnet-quota set --default --per-send-sms 1 --mode warn >/dev/null
run carnet-sms-send --config cfg.yaml --text 'x' --campaign q2 <q.csv
is "$status" 0 "over a quota in warn mode: sent"
like "$err" "over the per-send SMS quota" "with the warning"

# --- the warning threshold: asked on a terminal, --yes for scripts ---------------------
carnet-quota rm --default >/dev/null
printf 'sms:\n  driver: simulate\n  warn_threshold: 1\n' >cfg2.yaml
before=$(store_sum)
run carnet-sms-send --config cfg2.yaml --text 'x' --campaign th <q.csv
is "$status" 1 "above the threshold without a terminal or --yes: refused"
like "$err" "refused: confirm with --yes" "it says how to confirm"
is "$(store_sum)" "$before" "nothing recorded"
run carnet-sms-send --config cfg2.yaml --text 'x' --campaign th --yes <q.csv
is "$status" 0 "--yes confirms"
is "$(sql "SELECT count(*) FROM message WHERE campaign_id = (SELECT id FROM campaign WHERE name = 'th')")" 2 "and it is sent"
if command -v script >/dev/null; then
	printf 'y\n' | script -qec "carnet-sms-send --config cfg2.yaml --text x --campaign tty --to 0611111111 --to 0611111112" /dev/null >tty.out 2>&1
	is "$(sql "SELECT count(*) FROM message WHERE campaign_id = (SELECT id FROM campaign WHERE name = 'tty')")" 2 \
		"on a terminal, answering y sends"
	printf 'n\n' | script -qec "carnet-sms-send --config cfg2.yaml --text x --campaign tty2 --to 0611111111 --to 0611111112" /dev/null >tty.out 2>&1
	is "$(sql "SELECT count(*) FROM campaign WHERE name = 'tty2'")" 0 "answering n sends nothing"
	[ "$_failed" = 0 ] || sed "s/^/# /" tty.out
fi

# --- no gateway configured, bad options ---------------------------------------------------
run carnet-sms-send --text 'x' --to 0612345678
is "$status" 78 "a real send without sms.driver: 78"
like "$err" "no SMS gateway configured" "saying so"
run carnet-sms-send --to 0612345678
is "$status" 64 "no text nor template: 64"
run carnet-sms-send --text x --template relance --to 0612345678
is "$status" 64 "both: 64"
run carnet-sms-send --text x --to 0612345678 --rate fast
is "$status" 64 "a bad --rate: 64"
run carnet-sms-send --text x --to 0612345678 --parallel 0
is "$status" 64 "--parallel 0: 64"
run carnet-sms-send --text x --to 0612345678 --sender 'TOO LONG SENDER NAME' --simulate
is "$status" 64 "a sender name over 11 characters: 64"

done_testing
