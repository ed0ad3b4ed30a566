#!/usr/bin/env bash
# carnet-campaign: ls, show, send (a draft), close (refused while messages
# are left, --force), messages (filters), conversation (messages and
# replies with one number, in order), reply (through the sending rules:
# a blacklisted number is refused), and bad arguments.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

printf 'phone,first_name\n0612345671,Ana\n0612345672,Bob\n' >r.csv
carnet-sms-send --text 'Bonjour {{first_name}}' --simulate --campaign first <r.csv >/dev/null 2>&1
CARNET_NOW=1795338000 carnet-sms-send --text 'Plus tard' --save --campaign draft <r.csv >/dev/null 2>&1

# --- ls ---------------------------------------------------------------------------------
run carnet-campaign ls --format ndjson
is "$status" 0 "ls exits 0"
is "$(printf '%s\n' "$out" | jq -c '[.id, .name, .status, .messages, .pending, .sent]')" \
	"$(printf '%s\n' '[2,"draft","draft",2,2,0]' '[1,"first","sent",2,0,2]')" \
	"newest first: status and counts"
is "$(printf '%s\n' "$out" | jq -r 'select(.id == 1) | .close_at')" "2026-11-25T08:00:00Z" "the expected close"
run carnet-campaign ls --status draft --format ndjson
is "$(printf '%s\n' "$out" | jq -r .name)" draft "--status filters"
run carnet-campaign ls --status nope
is "$status" 64 "a bad --status: 64"

# --- show ---------------------------------------------------------------------------------
run carnet-campaign show first --format json
is "$status" 0 "show by name"
is "$(printf '%s' "$out" | jq -c '.[0] | [.name, .status, .simulated, .driver, .messages, .segments, .simulated_messages, .sent_at, .close_at]')" \
	'["first","sent",true,"simulate",2,2,2,"2026-11-22T08:00:00Z","2026-11-25T08:00:00Z"]' \
	"every field of the campaign"
uuid=$(printf '%s' "$out" | jq -r '.[0].uuid')
run carnet-campaign show "$uuid" --format json
is "$(printf '%s' "$out" | jq -r '.[0].id')" 1 "show by uuid"
run carnet-campaign show 99
is "$status" 66 "an unknown campaign: 66"
like "$err" "no campaign '99'" "saying which"

# --- close: refused while messages wait, unless --force ---------------------------------
before=$(store_sum)
run carnet-campaign close draft
is "$status" 1 "closing a draft with messages to send: refused (1)"
like "$err" "has 2 messages not sent yet" "saying why and what to do"
is "$(store_sum)" "$before" "nothing changed"
run carnet-campaign close first
is "$status" 0 "closing a sent campaign"
is "$(sql "SELECT status, closed_at FROM campaign WHERE name = 'first'")" "closed,1795334400" "closed now"
run carnet-campaign close first
is "$status,$err" "0,carnet-campaign: campaign 1 was already closed" "closing it again says so"
run carnet-campaign send first --simulate
is "$status" 1 "a closed campaign is not sent"
like "$err" "is closed" "saying so"
run carnet-campaign close draft --force
is "$status" 0 "--force closes it"
is "$(sql "SELECT status, error FROM message WHERE campaign_id = 2 ORDER BY id" | sort -u)" 'failed,"campaign closed before it was sent"' \
	"its waiting messages become failed, with the reason"

# --- messages -------------------------------------------------------------------------------
run carnet-campaign messages 1 --format ndjson
is "$(printf '%s\n' "$out" | jq -c '[.to, .status, .text, .campaign]')" \
	"$(printf '%s\n' '["+33612345671","simulated","Bonjour Ana","first"]' '["+33612345672","simulated","Bonjour Bob","first"]')" \
	"each message with its text and status"
run carnet-campaign messages 2 --status failed --format ndjson
is "$(printf '%s\n' "$out" | wc -l)" 2 "--status filters messages"

# --- conversation and reply --------------------------------------------------------------------
carnet-sms-send --text 'Mission lundi ?' --simulate --campaign ask --to 0612345673 >/dev/null 2>&1
ref=$(sql "SELECT ref FROM message WHERE phone = '+33612345673'")
if command -v carnet-sms-fetch >/dev/null; then
	printf '{"kind":"reply","number":"+33612345673","text":"Oui, OK","time":"2026-11-22T09:00:00Z"}\n' |
		CARNET_NOW=1795338000 carnet-sms-fetch --from-stdin >/dev/null 2>&1
fi
run carnet-campaign conversation 06.12.34.56.73 --format ndjson
is "$status" 0 "conversation with a number in any form"
is "$(printf '%s\n' "$out" | jq -c '[.kind, .campaign, .status, .text]' | head -2)" \
	"$(printf '%s\n' '["sent","ask","simulated","Mission lundi ?"]' '["unsolicited",null,null,"Oui, OK"]')" \
	"the message, then the reply (unsolicited: a simulated message was never sent)"
printf 'sms:\n  driver: simulate\n' >cfg.yaml
CARNET_NOW=1795341600 run carnet-campaign --config cfg.yaml reply +33612345673 --text 'Merci, à lundi' --format ndjson
is "$status" 0 "reply sends through the configured driver"
is "$(printf '%s' "$out" | jq -c '[.to, .status]')" '["+33612345673","simulated"]' "one message"
run carnet-campaign conversation +33612345673 --format ndjson
is "$(printf '%s\n' "$out" | tail -1 | jq -c '[.kind, .text]')" '["sent","Merci, à lundi"]' "the answer is in the conversation, last"
carnet-blacklist add +33612345673 --reason STOP >/dev/null 2>&1
before=$(store_sum)
run carnet-campaign --config cfg.yaml reply +33612345673 --text 'Encore ?'
is "$status" 65 "a reply to an opted-out number is refused"
like "$err" "blacklisted \(STOP\)" "saying why"
is "$(store_sum)" "$before" "nothing recorded"
CARNET_NOW=1795341600 run carnet-campaign --config cfg.yaml reply +33612345671 --text 'Un'
CARNET_NOW=1795341600 run carnet-campaign --config cfg.yaml reply +33612345671 --text 'Deux'
is "$status" 0 "two replies to one number in the same second both go"
is "$(sql "SELECT count(*) FROM campaign WHERE name LIKE 'reply +33612345671 2026-11-22 10:00:00%'")" 2 \
	"each in a campaign of its own, named after the number and the time"
run carnet-campaign reply +33612345673
is "$status" 64 "reply without --text: 64"
run carnet-campaign conversation not-a-number
is "$status" 64 "a bad number: 64"

# --- bad usage --------------------------------------------------------------------------------
run carnet-campaign
is "$status" 64 "no command: 64"
run carnet-campaign frobnicate
is "$status" 64 "an unknown command: 64"
run carnet-campaign show
is "$status" 64 "show without ID: 64"
run carnet-campaign ls --force
is "$status" 64 "an option of another command: 64"
like "$err" "ls: --force does not apply" "saying which"

done_testing
