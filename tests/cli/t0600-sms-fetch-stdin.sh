#!/usr/bin/env bash
# carnet-sms-fetch --from-stdin: receipts (Kannel's type is a bit mask:
# 1, 2, 16, 34, 4 after 1; stat:EXPIRED), never backwards, unknown
# references stored and ignored, bad input changes nothing; replies in
# and out of the window (default and the template's), STOP variants,
# START lifting only STOP, NPAI after N failures; held events of a closed
# campaign applied by --campaign; --close-due; the cron lock.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
T0=$CARNET_NOW

# a campaign sent an hour ago, five messages; a template that handles
# replies for 2 hours only (message 5)
carnet-sms-fetch --close-due >/dev/null	# creates the store
sql "INSERT INTO folder(name, created_at) VALUES('default', 0);
INSERT INTO template(uuid, folder_id, title, body, reply_mode, reply_hours,
  created_at, updated_at) VALUES('t-1', 1, 'Court', 'x', 'hours', 2, 0, 0);
INSERT INTO campaign(uuid, folder_id, name, status, created_at, sent_at, close_at)
  VALUES('c-1', 1, 'relance', 'sent', $T0 - 3600, $T0 - 3600, $T0 - 3600 + 72 * 3600);
INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, created_at, sent_at, template_id) VALUES
  ('ref-1', 1, 1, '+33600000001', 'Bonjour', 'gsm7', 1, 'sent', $T0 - 3600, $T0 - 3600, NULL),
  ('ref-2', 1, 1, '+33600000002', 'Bonjour', 'gsm7', 1, 'sent', $T0 - 3600, $T0 - 3600, NULL),
  ('ref-3', 1, 1, '+33600000003', 'Bonjour', 'gsm7', 1, 'sent', $T0 - 3600, $T0 - 3600, NULL),
  ('ref-4', 1, 1, '+33600000004', 'Bonjour', 'gsm7', 1, 'sent', $T0 - 3600, $T0 - 3600, NULL),
  ('ref-5', 1, 1, '+33600000005', 'Bonjour', 'gsm7', 1, 'sent', $T0 - 3600, $T0 - 3600, 1),
  ('ref-6', 1, 1, '+33600000006', 'Bonjour', 'gsm7', 1, 'simulated', $T0 - 3600, $T0 - 3600, NULL);"

# --- receipts ---------------------------------------------------------------
printf '%s\n' '{"ref":"ref-1","type":1}' '{"kind":"reply","number":"+33600000002","text":"STOP"}' >dry.ndjson
sum=$(store_sum)
run_in dry.ndjson carnet-sms-fetch --from-stdin --dry-run
is "$status" 0 "--dry-run: exit 0"
is "$(printf '%s\n' "$out" | cut -d, -f1,6 | tr '\n' ' ')" "kind,status receipt,delivered optout,STOP " \
	"--dry-run prints the events that would be"
is "$(store_sum)" "$sum" "and changes nothing (no receipt, no blacklist entry)"

cat >r1.ndjson <<'EOF'
{"kind":"receipt","ref":"ref-1","type":1,"number":"+33600000001","time":"2026-11-22T07:10:00Z"}
{"ref":"ref-1","type":4,"time":1795331500}
{"ref":"ref-2","type":34,"reason":"NACK/0x0000000b/Invalid Destination Address","time":1795331500}
{"ref":"ref-3","type":16,"time":1795331500}
{"ref":"ref-4","type":2,"reason":"id:1 sub:001 dlvrd:000 stat:EXPIRED err:000","time":1795331500}
{"ref":"nope-0000","type":1,"number":"+33699999999"}
EOF
run_in r1.ndjson carnet-sms-fetch --from-stdin
is "$status" 0 "receipts: exit 0"
is "$out" "kind,time,campaign,message,number,status,text
receipt,2026-11-22T07:10:00Z,1,ref-1,+33600000001,delivered,
receipt,2026-11-22T07:11:40Z,1,ref-2,+33600000002,failed,NACK/0x0000000b/Invalid Destination Address
receipt,2026-11-22T07:11:40Z,1,ref-3,+33600000003,rejected,
receipt,2026-11-22T07:11:40Z,1,ref-4,+33600000004,expired,id:1 sub:001 dlvrd:000 stat:EXPIRED err:000" \
	"one event per status change: 1 delivered, 34 failed (bit 2), 16 rejected, 2 + stat:EXPIRED expired; the late 4 (buffered) after 1 is no event"
is "$err" "carnet-sms-fetch: receipt for unknown message nope-0000 stored, not applied" \
	"the unknown reference is noted on stderr"
is "$(sql "SELECT ref, status, coalesce(done_at, '-'), coalesce(error, '-') FROM message ORDER BY id")" \
"ref-1,delivered,1795331400,-
ref-2,failed,1795331500,\"NACK/0x0000000b/Invalid Destination Address\"
ref-3,rejected,1795331500,rejected
ref-4,expired,1795331500,\"id:1 sub:001 dlvrd:000 stat:EXPIRED err:000\"
ref-5,sent,-,-
ref-6,simulated,-,-" "the messages' statuses, times and the gateway's reasons"
is "$(sql "SELECT coalesce(message_id, 'NULL'), ref, status, raw_type, held FROM receipt ORDER BY id")" \
"1,ref-1,delivered,1,0
1,ref-1,buffered,4,0
2,ref-2,failed,34,0
3,ref-3,rejected,16,0
4,ref-4,expired,2,0
NULL,nope-0000,delivered,1,0" "every receipt is stored (with its type), the unknown one without a message"

# never backwards: delivered stays delivered, failed stays failed
printf '%s\n' '{"ref":"ref-1","type":2}' '{"ref":"ref-2","type":1}' '{"ref":"ref-1","status":"buffered"}' >r2.ndjson
run_in r2.ndjson carnet-sms-fetch --from-stdin
is "$status,$out" "0," "late receipts after a final one: no event"
is "$(sql "SELECT status FROM message WHERE ref IN ('ref-1','ref-2') ORDER BY id" | tr '\n' ' ')" \
	"delivered failed " "a receipt never moves a message backwards"

# a simulated message gets no receipt
echo '{"ref":"ref-6","type":1}' | carnet-sms-fetch --from-stdin -q >/dev/null
is "$(sql "SELECT status FROM message WHERE ref = 'ref-6'")" simulated "a simulated message stays simulated"

# bad input: nothing changes, the line is named
sum=$(store_sum)
printf '%s\n' '{"ref":"ref-5","type":1}' '{"ref":"ref-5","type":"x"}' >bad.ndjson
run_in bad.ndjson carnet-sms-fetch --from-stdin
is "$status" 65 "a bad type: exit 65"
is "$err" "carnet-sms-fetch: <stdin>:2: invalid type 'x'" "the message names the line"
is "$out" "" "no event printed"
is "$(store_sum)" "$sum" "and the store is unchanged (the good first line too)"
printf 'kind,ref\nparcel,ref-5\n' >bad.csv
run_in bad.csv carnet-sms-fetch --from-stdin
is "$status,$err" "65,carnet-sms-fetch: <stdin>:2: unknown kind 'parcel' (receipt or reply)" "an unknown kind: exit 65"


# CSV in, JSON out
printf 'ref,status,time\nref-5,delivered,2026-11-22T09:00:00+01:00\n' >r3.csv
run_in r3.csv carnet-sms-fetch --from-stdin --format json
is "$out" '{"kind":"receipt","time":"2026-11-22T08:00:00Z","campaign":1,"message":"ref-5","number":"+33600000005","status":"delivered","text":null}' \
	"CSV input, NDJSON output; the time's offset is applied"

# --- replies ------------------------------------------------------------------
cat >m1.ndjson <<'EOF'
{"kind":"reply","number":"06 00 00 00 01","text":"Oui, dispo lundi"}
{"kind":"reply","number":"+33600000007","text":"Qui est-ce ?"}
EOF
run_in m1.ndjson carnet-sms-fetch --from-stdin
is "$out" "kind,time,campaign,message,number,status,text
reply,2026-11-22T08:00:00Z,1,ref-1,+33600000001,reply,\"Oui, dispo lundi\"
reply,2026-11-22T08:00:00Z,,,+33600000007,unsolicited,Qui est-ce ?" \
	"a reply within the window is attached (number normalised); a stranger's is unsolicited"
# 49 hours after the send: outside the default 48-hour window
CARNET_NOW=$((T0 - 3600 + 49 * 3600)) run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"+33600000002","text":"trop tard"}'
is "$out" "kind,time,campaign,message,number,status,text
reply,2026-11-24T08:00:00Z,,,+33600000002,unsolicited,trop tard" "a reply after 48 hours is unsolicited"
CARNET_NOW=$((T0 - 3600 + 47 * 3600)) run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"+33600000002","text":"juste"}'
like "$out" 'ref-2,\+33600000002,reply,juste' "one after 47 hours is attached"
# the template of message 5 handles replies for 2 hours only
CARNET_NOW=$((T0 + 3600 + 60)) run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"+33600000005","text":"ok"}'
like "$out" ',,,\+33600000005,unsolicited,ok' "the template's reply handling (hours:2) overrides the window"
is "$(sql "SELECT count(*), sum(message_id IS NULL) FROM reply")" "5,3" "five replies stored, three unsolicited"

# --- STOP and START -------------------------------------------------------------
n=10
for text in 'STOP' 'stop' 'Stop.' ' STOP SMS ' 'Stop sms!' 'ARRET' 'Arrêt' 'arrêt !!' 'STOPSMS'; do
	n=$((n + 1))
	printf '{"kind":"reply","number":"+336000000%s","text":"%s"}\n' "$n" "$text"
done >stops.ndjson
run_in stops.ndjson carnet-sms-fetch --from-stdin --format ndjson
is "$(printf '%s\n' "$out" | jq -r '[.kind, .status] | join(" ")' | sort | uniq -c | sed 's/^ *//')" "9 optout STOP" \
	"nine STOP variants: nine opt-outs"
is "$(sql "SELECT count(*) FROM blacklist WHERE reason = 'STOP' AND source = 'sms-fetch'")" 9 "nine STOP entries in the blacklist"
run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"+33600000001","text":"Stop appeler le soir svp"}'
like "$out" 'reply,"?Stop appeler' "a sentence that starts with Stop is a reply, not an opt-out"
is "$(sql "SELECT count(*) FROM blacklist WHERE address = '+33600000001'")" 0 "and blacklists nothing"

run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"+33600000011","text":"Start"}'
like "$out" '^optin,.*,\+33600000011,lifted,Start$' "START from a STOP number: optin, lifted"
is "$(sql "SELECT count(*) FROM blacklist WHERE address = '+33600000011'")" 0 "the STOP entry is gone"
carnet-blacklist add +33600000020 --reason NPAI >/dev/null
run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"+33600000020","text":"START"}'
like "$out" '^optin,.*,\+33600000020,kept,START$' "START from an NPAI number: kept"
is "$(sql "SELECT reason FROM blacklist WHERE address = '+33600000020'")" NPAI "the NPAI entry stays"

# --- NPAI after 3 permanent failures in a row ---------------------------------------
sql "INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, created_at, sent_at) VALUES
  ('n-1', 1, 1, '+33600000030', 'x', 'gsm7', 1, 'sent', $T0, $T0),
  ('n-2', 1, 1, '+33600000030', 'x', 'gsm7', 1, 'sent', $T0, $T0),
  ('n-3', 1, 1, '+33600000030', 'x', 'gsm7', 1, 'sent', $T0, $T0),
  ('n-4', 1, 1, '+33600000030', 'x', 'gsm7', 1, 'sent', $T0, $T0);"
printf '%s\n' '{"ref":"n-1","type":2}' '{"ref":"n-2","type":1}' '{"ref":"n-3","type":16}' >n1.ndjson
carnet-sms-fetch --from-stdin <n1.ndjson >/dev/null
is "$(sql "SELECT count(*) FROM blacklist WHERE address = '+33600000030'")" 0 "a failure, a delivery, a failure: not NPAI"
sql "INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, created_at, sent_at) VALUES ('n-5', 1, 1, '+33600000030', 'x', 'gsm7', 1, 'sent', $T0, $T0);"
printf '%s\n' '{"ref":"n-4","type":34}' '{"ref":"n-5","type":2}' >n2.ndjson
run_in n2.ndjson carnet-sms-fetch --from-stdin
like "$out" 'optout,2026-11-22T08:00:00Z,1,n-5,\+33600000030,NPAI,' "three failures in a row since the last delivery: optout NPAI"
is "$(sql "SELECT reason, source FROM blacklist WHERE address = '+33600000030'")" "NPAI,sms-fetch" "the number is blacklisted as NPAI"

# --- a closed campaign holds what comes late; --campaign applies it -------------------
sql "UPDATE campaign SET status = 'closed', closed_at = $T0 WHERE id = 1;
INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
  status, created_at, sent_at) VALUES ('h-1', 1, 1, '+33600000040', 'x', 'gsm7', 1, 'sent', $T0, $T0);"
run carnet-sms-fetch --from-stdin <<<'{"ref":"h-1","type":1}'
is "$status,$out" "0," "a receipt for a closed campaign: no event"
like "$err" "held \(carnet-sms-fetch --campaign 1 applies it\)" "a note says it is held and how to apply it"
is "$(sql "SELECT status FROM message WHERE ref = 'h-1'")" sent "the message is unchanged"
run carnet-sms-fetch --from-stdin -q <<<'{"kind":"reply","number":"+33600000040","text":"vu"}'
is "$out" "" "a reply to the closed campaign: held, no event"
run carnet-sms-fetch --campaign 1
is "$status" 0 "--campaign 1: exit 0"
is "$out" "kind,time,campaign,message,number,status,text
receipt,2026-11-22T08:00:00Z,1,h-1,+33600000040,delivered,
reply,2026-11-22T08:00:00Z,1,h-1,+33600000040,reply,vu" "--campaign applies the held receipt and reply"
is "$(sql "SELECT status FROM message WHERE ref = 'h-1'")" delivered "the message is delivered now"
run carnet-sms-fetch --campaign 1
is "$out" "" "a second --campaign run finds nothing more"
run carnet-sms-fetch --campaign 99
is "$status" 66 "--campaign of an unknown campaign: exit 66"

# --- closing --------------------------------------------------------------------------
sql "INSERT INTO campaign(uuid, folder_id, name, status, created_at, sent_at, close_at) VALUES
  ('c-2', 1, 'due', 'sent', $T0 - 80 * 3600, $T0 - 80 * 3600, $T0 - 8 * 3600),
  ('c-3', 1, 'open', 'sent', $T0, $T0, $T0 + 72 * 3600),
  ('c-4', 1, 'draft', 'draft', $T0 - 90 * 3600, NULL, NULL);"
run carnet-sms-fetch --close-due --format ndjson
is "$out" '{"kind":"closed","time":"2026-11-22T08:00:00Z","campaign":2,"message":null,"number":null,"status":"closed","text":null}' \
	"--close-due closes the campaign whose close date passed, and only it"
is "$(sql "SELECT id, status, coalesce(closed_at, '-') FROM campaign ORDER BY id" | tr '\n' ' ')" \
	"1,closed,1795334400 2,closed,1795334400 3,sent,- 4,draft,- " "statuses after closing"
CARNET_NOW=$((T0 + 73 * 3600)) run carnet-sms-fetch
like "$out" '^closed,2026-11-25T09:00:00Z,3,,,closed,$' "the cron run (no option) closes what is due too"

# --- the lock -----------------------------------------------------------------------------
# the holder keeps the lock until the file "release" appears
flock "$STORE.fetch-lock" sh -c 'while [ ! -e release ]; do sleep 0.05; done' &
lockpid=$!
for _ in $(seq 100); do flock -n "$STORE.fetch-lock" true || break; sleep 0.05; done
run carnet-sms-fetch
is "$status" 0 "a second run while the lock is held: exit 0"
is "$err" "carnet-sms-fetch: another carnet-sms-fetch is running; nothing done (--wait waits for it)" "with a note"
carnet-sms-fetch --wait -q >wait.out 2>&1 &
waitpid=$!
sleep 1
still=$(kill -0 "$waitpid" 2>/dev/null && echo waiting || echo ended)
touch release
wait "$waitpid"
is "$?,$still" "0,waiting" "--wait waits while the lock is held, then runs (exit 0)"
wait "$lockpid"

# --- bounds ---------------------------------------------------------------------------
# the bounds (man page): a ref of 64 bytes at most, of letters, digits and
# "-_.:", a reply of 10,000 bytes at most from a phone number; a CSV header
# must name a known column
r64=$(printf 'Ab0-_.:%.0s' $(seq 9))z
run carnet-sms-fetch --from-stdin -q <<<"{\"ref\":\"$r64\",\"type\":1}"
is "$status,$(sql "SELECT count(*) FROM receipt WHERE ref = '$r64' AND message_id IS NULL")" "0,1" \
	"a well-formed ref of 64 bytes that no message holds: stored, not applied"
sum=$(store_sum)
run carnet-sms-fetch --from-stdin <<<"{\"ref\":\"${r64}z\",\"type\":1}"
is "$status,$err" "65,carnet-sms-fetch: <stdin>:1: receipt: ref too long (65 bytes, at most 64)" "65 bytes: exit 65"
run carnet-sms-fetch --from-stdin <<<'{"ref":"ref 5","type":1}'
is "$status,$err" "65,carnet-sms-fetch: <stdin>:1: receipt: invalid ref 'ref 5' (a carnet reference: letters, digits, '-', '_', '.', ':')" \
	"a ref with a space: exit 65"
t10k=$(head -c 10000 /dev/zero | tr '\0' y)
run carnet-sms-fetch --from-stdin <<<"{\"kind\":\"reply\",\"number\":\"+33600000009\",\"text\":\"${t10k}y\"}"
is "$status,$err" "65,carnet-sms-fetch: <stdin>:1: reply from +33600000009: text too long (10001 bytes, at most 10000)" \
	"a reply of 10,001 bytes: exit 65"
run carnet-sms-fetch --from-stdin <<<'{"kind":"reply","number":"ACME","text":"hi"}'
like "$status,$err" "^65,carnet-sms-fetch: <stdin>:1: reply: invalid phone 'ACME'" "a sender that is not a phone number: exit 65"
printf 'receipt,delivered\nref-5,1\n' >nohead.csv
run_in nohead.csv carnet-sms-fetch --from-stdin
is "$status,$err" "65,carnet-sms-fetch: <stdin>:1: no kind, ref, number or text column in the CSV header (known: kind, time, ref, message, provider_id, type, status, reason, number, from, to, text)" \
	"a CSV header without a known column: exit 65"
is "$(store_sum)" "$sum" "none of them changed the store"
run carnet-sms-fetch --from-stdin -q <<<"{\"kind\":\"reply\",\"number\":\"+33600000009\",\"text\":\"$t10k\"}"
is "$status,$(sql "SELECT length(body) FROM reply WHERE phone = '+33600000009'")" "0,10000" "a reply of 10,000 bytes is stored"
done_testing
