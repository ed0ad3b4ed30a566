#!/usr/bin/env bash
# carnet-quota check: the quota arithmetic (segments x recipients, the
# seed's 2 x 4 = 8; per send and per month, in SMS and in recipients;
# limits reached exactly; every limit gone over reported), which quota
# applies (folder beats common, user beats default; specific, forbidden,
# unlimited, default), block and warn modes, the warning threshold, an
# unknown user, the monthly scope (a folder or every folder), months
# apart, and that a check changes nothing.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

carnet-quota set --default --per-send-sms 200 --per-month-sms 5000 >/dev/null

# --- the seed's example: a 2-SMS text to 4 recipients counts 8 ------------------
run carnet-quota check --user JK --segments 2 --recipients 4
is "$status" 0 "check --segments 2 --recipients 4 exits 0"
is "$out" "ok: 8 SMS to 4 recipients for user JK in folder default in 2026-11 (quota: default quota, common to all folders; user JK is not in the store)" \
	"it counts 2 x 4 = 8 SMS"
is "$err" "carnet-quota: user 'JK' is not in the store: the default quota applies" \
	"an unknown user gets the default quota, and stderr says so"
run carnet-quota check --user JK --segments 2 --recipients 4 --format json
is "$(printf '%s' "$out" | jq -c '[.sms, .recipients, .status, .allowed, .warn, .known_user]')" \
	'[8,4,"ok",true,false,false]' "the JSON says sms 8, ok"
is "$(sql "SELECT count(*) FROM user WHERE name = 'JK'")" 0 "check does not create the user"

# --- per-send SMS: the limit itself fits, one more does not ------------------------
run carnet-quota check --user JK --sms 200 --recipients 100
is "$status" 0 "200 SMS with a per-send limit of 200: ok"
run carnet-quota check --user JK --sms 201 --recipients 100 -q
is "$status" 1 "201 SMS: exit 1"
is "$out" "" "nothing on stdout"
is "$err" "carnet-quota: over the per-send SMS quota of user JK in folder default: 201 > 200 (by 1)" \
	"stderr: which limit, the numbers, and by how much"

# --- per-month SMS, from the ledger (rows written with record --force: they
# are bigger than the per-send limit) ---------------------------------------
carnet-quota record --user JK --sms 4000 --recipients 900 --force >/dev/null
carnet-quota record --user JK --sms 996 --recipients 100 --force >/dev/null
carnet-quota record --user JK --sms 3000 --recipients 50 --month 2026-10 --force >/dev/null
is "$(sql "SELECT month, sms, recipients FROM usage ORDER BY id")" \
	"$(printf '%s\n' 2026-11,4000,900 2026-11,996,100 2026-10,3000,50)" \
	"three ledger rows, two months"
run carnet-quota check --user JK --sms 4 --recipients 1
is "$status" 0 "4,996 + 4 = 5,000: exactly the monthly limit, ok (last month's 3,000 not counted)"
run carnet-quota check --user JK --sms 8 --recipients 4
is "$status" 1 "4,996 + 8 > 5,000: exit 1"
is "$err" "carnet-quota: over the monthly SMS quota of user JK in all folders: 4,996 + 8 > 5,000 (by 4)" \
	"the brief's message (a common quota counts every folder)"
run carnet-quota check --user JK --sms 8 --recipients 4 --format json
is "$status" 1 "with --format json: still exit 1"
is "$(printf '%s' "$out" | jq -c '[.status, .allowed, .used_sms, .used_recipients, .per_month_sms, .reason, .over]')" \
	'["over",false,4996,1000,5000,"over the monthly SMS quota of user JK in all folders: 4,996 + 8 > 5,000 (by 4)",[{"limit":"per_month_sms","max":5000,"used":4996,"asked":8,"by":4}]]' \
	"and the JSON has the verdict, the usage, the limit and the overrun"
run carnet-quota check --user JK --sms 8 --recipients 4 --month 2026-10
is "$status,$out" "0,ok: 8 SMS to 4 recipients for user JK in folder default in 2026-10 (quota: default quota, common to all folders)" \
	"--month 2026-10: that month's 3,000 leave room"
CARNET_NOW=1796083200 run carnet-quota check --user JK --sms 4000 --recipients 1	# 2026-12-01T00:00:00Z
is "$status" 1 "a new month (clock on 2026-12-01): the per-send limit still applies"
CARNET_NOW=1796083200 run carnet-quota check --user JK --sms 200 --recipients 1
is "$status" 0 "and the monthly usage starts again from zero"

# --- every limit gone over is reported ------------------------------------------------
run carnet-quota check --user JK --sms 300 --recipients 10
is "$status" 1 "300 SMS: over two limits"
is "$err" "carnet-quota: over the per-send SMS quota of user JK in folder default: 300 > 200 (by 100)
carnet-quota: over the monthly SMS quota of user JK in all folders: 4,996 + 300 > 5,000 (by 296)" \
	"one line per limit, in order"

# --- recipients limits ------------------------------------------------------------------
carnet-quota set --user REC --per-send-recipients 4 --per-month-recipients 10 >/dev/null
run carnet-quota check --user REC --segments 2 --recipients 4
is "$status" 0 "4 recipients with a per-send limit of 4: ok"
run carnet-quota check --user REC --segments 2 --recipients 5
is "$status,$err" "1,carnet-quota: over the per-send recipient quota of user REC in folder default: 5 > 4 (by 1)" \
	"5 recipients: over the per-send recipient quota"
carnet-quota record --user REC --segments 3 --recipients 4 >/dev/null
carnet-quota record --user REC --segments 1 --recipients 4 >/dev/null
is "$(sql "SELECT sum(sms) || '/' || sum(recipients) FROM usage u JOIN user us ON us.id = u.user_id WHERE us.name = 'REC'")" "16/8" \
	"record --segments 3 x 4 and 1 x 4: 16 SMS, 8 recipients in the ledger"
run carnet-quota check --user REC --sms 3 --recipients 3
is "$status,$err" "1,carnet-quota: over the monthly recipient quota of user REC in all folders: 8 + 3 > 10 (by 1)" \
	"8 + 3 recipients over a monthly limit of 10"
run carnet-quota check --user REC --sms 2 --recipients 2
is "$status" 0 "8 + 2 = 10 recipients: ok"

# --- a folder row beats the common one; the monthly scope follows the row ------------------
carnet-quota set --default --folder F --per-send-sms 10 --per-month-sms 20 >/dev/null
run carnet-quota check --user KIM --folder F --sms 11 --recipients 1 -q
is "$status,$err" "1,carnet-quota: over the per-send SMS quota of user KIM in folder F: 11 > 10 (by 1)" \
	"in folder F, F's default row (10) applies, not the common one (200)"
run carnet-quota check --user KIM --folder G --sms 11 --recipients 1
is "$status" 0 "in folder G, the common default row applies"
carnet-quota record --user KIM --folder G --sms 4980 --recipients 10 --force >/dev/null
run carnet-quota check --user KIM --folder F --sms 10 --recipients 1 --format json
is "$(printf '%s' "$out" | jq -c '[.status, .used_sms, .source]')" '["ok",0,"default quota of folder F"]' \
	"F's monthly usage counts F only: KIM's 4,980 in G are not in it"
carnet-quota record --user KIM --folder F --sms 15 --recipients 3 --force >/dev/null
run carnet-quota check --user KIM --folder F --sms 6 --recipients 1
is "$status,$err" "1,carnet-quota: over the monthly SMS quota of user KIM in folder F: 15 + 6 > 20 (by 1)" \
	"a folder quota's monthly message names the folder"
run carnet-quota check --user KIM --folder G --sms 6 --recipients 1
is "$status,$err" "1,carnet-quota: over the monthly SMS quota of user KIM in all folders: 4,995 + 6 > 5,000 (by 1)" \
	"the common quota counts every folder, F's 15 included"

# --- a user's own row beats the default; specific, forbidden, unlimited, default -------------
carnet-quota set --user KIM --folder F --per-send-sms 50 >/dev/null
run carnet-quota check --user KIM --folder F --sms 50 --recipients 1 --format json
is "$status" 0 "KIM's specific row in F (50) beats F's default row (10)"
is "$(printf '%s' "$out" | jq -c '[.kind, .source, .per_send_sms, .per_month_sms]')" '["specific","user KIM in folder F",50,null]' \
	"kind specific, from KIM's row, with only its own limits"
carnet-quota set --user SYLVIE --forbid >/dev/null
run carnet-quota check --user SYLVIE --folder F --sms 1 --recipients 1
is "$status,$out" "1," "a forbidden user: exit 1, nothing on stdout"
is "$err" "carnet-quota: user SYLVIE may not send SMS in folder F (forbidden: user SYLVIE, common to all folders)" \
	"stderr says the user may not send, and which row says so"
run carnet-quota check --user SYLVIE --sms 0 --recipients 0 --format json
is "$status" 1 "forbidden even for an empty send"
is "$(printf '%s' "$out" | jq -c '[.status, .kind, .mode]')" '["over","forbidden","block"]' "status over, kind forbidden"
carnet-quota set --user BOSS --unlimited >/dev/null
run carnet-quota check --user BOSS --folder F --sms 1000000 --recipients 500000
is "$status,$err" "0," "an unlimited user: any send fits, without a warning (no threshold configured)"
carnet-quota set --user KIM --folder F --default >/dev/null
run carnet-quota check --user KIM --folder F --sms 5 --recipients 1
is "$status" 0 "KIM set to default in F: 15 + 5 fits F's default row"
run carnet-quota check --user KIM --folder F --sms 11 --recipients 1 -q
is "$status,$err" "1,carnet-quota: over the per-send SMS quota of user KIM in folder F: 11 > 10 (by 1)
carnet-quota: over the monthly SMS quota of user KIM in folder F: 15 + 11 > 20 (by 6)" \
	"but 11 goes over both of its limits"

# --- block and warn -----------------------------------------------------------------
carnet-quota set --user W --per-send-sms 5 --per-month-sms 100 --mode warn >/dev/null
run carnet-quota check --user W --sms 8 --recipients 4
is "$status" 0 "warn mode: over the limit, exit 0"
is "$out" "ok: 8 SMS to 4 recipients for user W in folder default in 2026-11 (quota: user W, common to all folders)" \
	"the ok line on stdout"
is "$err" "carnet-quota: warning: over the per-send SMS quota of user W in folder default: 8 > 5 (by 3) (warn mode: not blocked)" \
	"and a warning on stderr"
run carnet-quota check --user W --sms 8 --recipients 4 --format json
is "$(printf '%s' "$out" | jq -c '[.status, .allowed, .warn, .threshold, .mode, .over[0].by]')" '["warn",true,true,false,"warn",3]' \
	"the JSON says warn: true"
run carnet-quota check --user W --sms 8 --recipients 4 -q
is "$status,$err" "0," "-q silences the warning"
carnet-quota set --user W --mode block >/dev/null
run carnet-quota check --user W --sms 8 --recipients 4
is "$status,$err" "1,carnet-quota: over the per-send SMS quota of user W in folder default: 8 > 5 (by 3)" \
	"the same row in block mode: exit 1"
carnet-quota set --user Z --per-month-sms 0 >/dev/null
run carnet-quota check --user Z --sms 1 --recipients 1
is "$status,$err" "1,carnet-quota: over the monthly SMS quota of user Z in all folders: 0 + 1 > 0 (by 1)" \
	"a limit of 0 allows nothing"

# --- the warning threshold, when no quota is active ---------------------------------
mkdir -p "$XDG_CONFIG_HOME/carnet"
printf 'sms:\n  warn_threshold: 100\n' >"$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-quota check --user BOSS --sms 101 --recipients 101
is "$status" 0 "above the threshold: exit 0"
is "$out" "ok: 101 SMS to 101 recipients for user BOSS in folder default in 2026-11 (quota: user BOSS, common to all folders)" \
	"the ok line"
is "$err" "carnet-quota: warning: 101 SMS: above the warning threshold of 100 SMS" \
	"a warning about the threshold (unlimited user)"
run carnet-quota check --user BOSS --sms 101 --recipients 101 --format json
is "$(printf '%s' "$out" | jq -c '[.status, .allowed, .warn, .threshold, .reason]')" \
	'["warn",true,true,true,"101 SMS: above the warning threshold of 100 SMS"]' "the JSON says warn and threshold"
run carnet-quota check --user BOSS --sms 100 --recipients 100
is "$status,$err" "0," "exactly the threshold: no warning"
run carnet-quota check --user REC --sms 150 --recipients 1
is "$status,$err" "0," "a user under a quota: the threshold does not apply"
STORE2=$T/empty.db
run carnet-quota check --store "$STORE2" --user ANY --sms 1200 --recipients 600
is "$status" 0 "a store without any quota: exit 0"
like "$err" "warning: 1,200 SMS: above the warning threshold of 100 SMS" "the threshold warns"
run carnet-quota check --store "$STORE2" --user ANY --sms 1200 --recipients 600 --format json -q
is "$(printf '%s' "$out" | jq -c '[.kind, .source, .warn, .threshold]')" '["none","no quota; user ANY is not in the store",true,true]' \
	"kind none, no quota"
rm "$XDG_CONFIG_HOME/carnet/config.yaml"

# --- a check changes nothing ------------------------------------------------------------
before=$(store_sum)
carnet-quota check --user NEW --folder NEWF --sms 1 --recipients 1 >/dev/null 2>&1
carnet-quota check --user JK --sms 9999 --recipients 1 >/dev/null 2>&1
is "$(store_sum)" "$before" "checks, allowed or not, leave the store as it was"

# --- the configured user and folder ----------------------------------------------------
CARNET_USER=W CARNET_FOLDER=F run carnet-quota check --sms 8 --recipients 4
is "$status,$err" "1,carnet-quota: over the per-send SMS quota of user W in folder F: 8 > 5 (by 3)" \
	"without --user and --folder, the configured ones"
run carnet-quota check --sms 1 --recipients 1
like "$out" "for user tester in folder default" "and without configuration, \$USER and 'default'"
done_testing
