#!/usr/bin/env bash
# carnet-quota record and usage: ledger rows written through the quota
# check (refused over quota, warned in warn mode, dry run), forced rows and
# negative corrections, months computed in UTC (whatever TZ says), the
# ledger's sums per month, folder and user across rows of two months, the
# filters, an unknown user (empty, exit 0), every output format, and the
# ledger staying append-only.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

ledger() { sql_raw "SELECT u.at, u.month, f.name, us.name, u.sms, u.recipients, coalesce(u.campaign_id, '-'), coalesce(u.message_id, '-') FROM usage u JOIN folder f ON f.id = u.folder_id LEFT JOIN user us ON us.id = u.user_id ORDER BY u.id"; }

carnet-quota set --default --per-send-sms 200 --per-month-sms 5000 >/dev/null

# --- record: one ledger row, through the quota check -----------------------------
run carnet-quota record --user JK --segments 2 --recipients 4
is "$status" 0 "record exits 0"
is "$out" "recorded: 8 SMS to 4 recipients for user JK in folder default in 2026-11 (quota: default quota, common to all folders)" \
	"it says what it recorded, and under which quota"
is "$err" "" "nothing on stderr (the user is created, so no note)"
is "$(ledger)" "1795334400|2026-11|default|JK|8|4|-|-" \
	"the ledger row: time, month (UTC), folder, user, 8 SMS, 4 recipients"
is "$(sql "SELECT count(*) FROM user WHERE name = 'JK'")" 1 "the user is created"

run carnet-quota record --user JK --sms 100 --recipients 50 --format json
is "$(printf '%s' "$out" | jq -c '[.status, .sms, .used_sms, .ledger_id, .dry_run]')" '["ok",100,8,2,false]' \
	"record --format json: the check's record plus ledger_id and dry_run"

# --- dry run ------------------------------------------------------------------------
before=$(store_sum)
run carnet-quota record --user NEW --folder NEWF --sms 5 --recipients 5 --dry-run
is "$status,$out" "0,would record: 5 SMS to 5 recipients for user NEW in folder NEWF in 2026-11 (quota: default quota, common to all folders)" \
	"record --dry-run says what it would record"
is "$(store_sum)" "$before" "and writes nothing (no row, no user, no folder)"
run carnet-quota record --user JK --sms 5 --recipients 5 -n --format json
is "$(printf '%s' "$out" | jq -c '[.status, .ledger_id, .dry_run]')" '["ok",null,true]' "the JSON of a dry run: no ledger id"
is "$(store_sum)" "$before" "still nothing written"

# --- over quota: nothing recorded ----------------------------------------------------
run carnet-quota record --user JK --sms 201 --recipients 1
is "$status,$out" "1," "over the per-send quota: exit 1, nothing on stdout"
is "$err" "carnet-quota: over the per-send SMS quota of user JK in folder default: 201 > 200 (by 1)" "the reason on stderr"
is "$(store_sum)" "$before" "and nothing recorded"

# --- warn mode: recorded, with a warning -------------------------------------------------
carnet-quota set --user W --per-send-sms 5 --mode warn >/dev/null
run carnet-quota record --user W --sms 8 --recipients 4
is "$status" 0 "warn mode: recorded, exit 0"
is "$err" "carnet-quota: warning: over the per-send SMS quota of user W in folder default: 8 > 5 (by 3) (warn mode: not blocked)" \
	"with the warning"
is "$(ledger | tail -n 1)" "1795334400|2026-11|default|W|8|4|-|-" "the row is in the ledger"

# --- forced rows and corrections --------------------------------------------------------
run carnet-quota record --user JK --sms 4000 --recipients 900 --force
is "$status,$out" "0,recorded 4000 SMS, 900 recipients for user JK in folder default, 2026-11 (no quota check)" \
	"--force records without a check (4,000 is over the per-send limit)"
run carnet-quota record --user JK --sms 3000 --recipients 50 --month 2026-10 --force --format json
is "$out" '{"folder":"default","user":"JK","month":"2026-10","sms":3000,"recipients":50,"ledger_id":5,"dry_run":false}' \
	"--force --month 2026-10 --format json"
run carnet-quota record --user JK --sms -8 --recipients -4 --force
is "$status,$out" "0,recorded -8 SMS, -4 recipients for user JK in folder default, 2026-11 (no quota check)" \
	"a negative correction with --force"
before=$(store_sum)
run carnet-quota record --user JK --month 2026-10 --sms -3001 --recipients 0 --force
is "$status" 65 "a correction below zero: exit 65"
is "$err" "carnet-quota: the usage of user JK in folder default for 2026-10 would become negative: 3,000 SMS recorded, -3,001 asked" \
	"with the month's figures"
is "$(store_sum)" "$before" "and nothing written"
run carnet-quota record --user JK --sms -8 --recipients -4
is "$status" 64 "a negative count without --force: exit 64"
is "$err" "carnet-quota: --sms: invalid number '-8' (a whole number from 0; a negative correction needs --force)
Try 'carnet-quota --help' for more information." "it says a correction needs --force"

# --- usage: sums per month, folder and user ------------------------------------------------
carnet-quota record --user ANN --folder agence-lyon --segments 3 --recipients 10 >/dev/null
carnet-quota record --user ANN --folder agence-lyon --segments 1 --recipients 7 >/dev/null
carnet-quota record --user ANN --folder agence-lyon --sms 20 --recipients 20 --month 2026-10 >/dev/null
run carnet-quota usage
is "$status" 0 "usage exits 0"
is "$out" "month,folder,user,sms,recipients
2026-11,agence-lyon,ANN,37,17
2026-11,default,JK,4100,950
2026-11,default,W,8,4" "this month, per folder and user (CSV off a terminal): sums over the ledger rows"
is "$err" "" "nothing on stderr"
run carnet-quota usage --month 2026-10
is "$out" "month,folder,user,sms,recipients
2026-10,agence-lyon,ANN,20,20
2026-10,default,JK,3000,50" "--month 2026-10: only that month's rows"
run carnet-quota usage --month all --user ANN
is "$out" "month,folder,user,sms,recipients
2026-10,agence-lyon,ANN,20,20
2026-11,agence-lyon,ANN,37,17" "--month all --user ANN: each month apart"
run carnet-quota usage --folder default --format json
is "$out" '[
{"month":"2026-11","folder":"default","user":"JK","sms":4100,"recipients":950},
{"month":"2026-11","folder":"default","user":"W","sms":8,"recipients":4}
]' "--folder default --format json: an array"
run carnet-quota usage --user JK --month all --format ndjson
is "$out" '{"month":"2026-10","folder":"default","user":"JK","sms":3000,"recipients":50}
{"month":"2026-11","folder":"default","user":"JK","sms":4100,"recipients":950}' "--format ndjson: one object per line"
run carnet-quota usage --format table
like "$out" '^month +folder +user +sms +recipients' "--format table: aligned columns"
like "$out" '2026-11 +agence-lyon +ANN +37 +17' "with the rows"
run carnet-quota usage --user NOBODY --format json
is "$status,$out,$err" "0,[]," "an unknown user: an empty result, exit 0"
run carnet-quota usage --user NOBODY
is "$status,$out" "0,month,folder,user,sms,recipients" "in CSV, the header only"
is "$(sql "SELECT count(*) FROM user WHERE name = 'NOBODY'")" 0 "and the user is not created"
run carnet-quota usage --month 2020-01 --format json
is "$status,$out" "0,[]" "a month without usage: empty"

# the usage counted by check is the same sum
run carnet-quota check --user JK --sms 1 --recipients 1 --format json
is "$(printf '%s' "$out" | jq -c '[.used_sms, .used_recipients]')" '[4100,950]' "check counts the same sums as usage"

# --- months are UTC -----------------------------------------------------------------------
CARNET_NOW=1796083199 TZ=Pacific/Kiritimati carnet-quota record --user UTC --sms 1 --recipients 1 >/dev/null
CARNET_NOW=1796083200 TZ=America/Los_Angeles carnet-quota record --user UTC --sms 2 --recipients 1 >/dev/null
is "$(sql "SELECT month || ':' || sms FROM usage u JOIN user us ON us.id = u.user_id WHERE us.name = 'UTC' ORDER BY u.id")" \
	"$(printf '%s\n' 2026-11:1 2026-12:2)" "2026-11-30T23:59:59Z is November and the next second December, whatever TZ says"
CARNET_NOW=1796083200 run carnet-quota usage --user UTC
is "$out" "month,folder,user,sms,recipients
2026-12,default,UTC,2,1" "usage defaults to the current month (UTC)"

# --- the ledger is append-only ----------------------------------------------------------------
ok "$(! sqlite3 "$STORE" "UPDATE usage SET sms = 0" 2>/dev/null; echo $?)" "the store refuses to change a ledger row"
ok "$(! sqlite3 "$STORE" "DELETE FROM usage" 2>/dev/null; echo $?)" "and to delete one"
done_testing
