#!/usr/bin/env bash
# carnet-quota set, show and rm: the default quota, user rows (specific,
# forbidden, unlimited, default), folder and common scopes, limits kept
# or removed ('none'), modes (option, kept, quota.mode for new rows),
# dry runs, users and folders created, the rows as stored, every output
# format, the effective quota of a user and where it comes from.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

rows() { sql_raw "SELECT coalesce(f.name, '*'), coalesce(u.name, '*'), q.kind, q.mode, coalesce(q.per_send_sms, '-'), coalesce(q.per_send_recipients, '-'), coalesce(q.per_month_sms, '-'), coalesce(q.per_month_recipients, '-') FROM quota q LEFT JOIN folder f ON f.id = q.folder_id LEFT JOIN user u ON u.id = q.user_id ORDER BY q.id"; }

# --- the issue's first example -----------------------------------------------
run carnet-quota set --default --per-send-sms 200 --per-month-sms 5000
is "$status" 0 "set --default exits 0"
is "$out" "set the default quota, common to all folders: per send 200 SMS; per month 5,000 SMS; block" \
	"it prints the row as stored"
is "$err" "" "and nothing on stderr"
is "$(rows)" "*|*|default|block|200|-|5000|-" \
	"the store holds one common default row (folder and user NULL)"
is "$(sql "SELECT updated_at FROM quota")" 1795334400 "updated_at is the (fixed) clock"

# setting it again changes nothing
run carnet-quota set --default --per-send-sms 200
is "$out" "unchanged the default quota, common to all folders: per send 200 SMS; per month 5,000 SMS; block" \
	"the same limit again: unchanged, the other limit kept"
is "$(sql "SELECT count(*) FROM quota")" 1 "still one row: no duplicate common row"

# --- a user's own limits in one folder ----------------------------------------
run carnet-quota set --user JK --folder JESSICA --specific --per-send-sms 4 \
	--per-send-recipients 6 --per-month-sms 10 --per-month-recipients 15
is "$status" 0 "set --user --folder --specific exits 0"
is "$out" "set the quota of user JK in folder JESSICA: per send 4 SMS and 6 recipients; per month 10 SMS and 15 recipients; block" \
	"it says whose quota, where, and all four limits"
is "$(sql "SELECT name FROM user ORDER BY id")" JK "the user is created"
is "$(sql "SELECT name FROM folder ORDER BY id")" JESSICA "the folder is created"
is "$(rows | sed -n 2p)" "JESSICA|JK|specific|block|4|6|10|15" "the row holds the four limits"

# limits merge: one given, the others kept; 'none' removes one
run carnet-quota set --user JK --folder JESSICA --per-month-sms 12 --per-send-recipients none --mode warn
is "$out" "set the quota of user JK in folder JESSICA: per send 4 SMS; per month 12 SMS and 15 recipients; warn" \
	"a limit changed, one removed with 'none', the others kept, the mode changed"
is "$(rows | sed -n 2p)" "JESSICA|JK|specific|warn|4|-|12|15" "as stored"
run carnet-quota set --user JK --folder JESSICA --per-send-sms 5
is "$(rows | sed -n 2p)" "JESSICA|JK|specific|warn|5|-|12|15" "without --mode the row keeps its mode"

# --- forbidden, unlimited, default ---------------------------------------------
run carnet-quota set --user SYLVIE --forbid
is "$status,$out" "0,set the quota of user SYLVIE, common to all folders: forbidden" \
	"--forbid without --folder is the user's common row"
run carnet-quota set --user BOSS --unlimited --common
is "$status,$out" "0,set the quota of user BOSS, common to all folders: unlimited" \
	"--unlimited --common"
run carnet-quota set --user JK --folder OTHER --default
is "$status,$out" "0,set the quota of user JK in folder OTHER: the default quota" \
	"--user --default: the user follows the default quota"
is "$(rows | sed -n '3,5p')" "$(printf '%s\n' '*|SYLVIE|forbidden|block|-|-|-|-' '*|BOSS|unlimited|block|-|-|-|-' 'OTHER|JK|default|block|-|-|-|-')" \
	"forbidden, unlimited and default rows hold no limits"

# switching a specific row to unlimited drops its limits; back to specific
# starts from nothing
run carnet-quota set --user JK --folder JESSICA --unlimited
is "$(rows | sed -n 2p)" "JESSICA|JK|unlimited|block|-|-|-|-" "specific -> unlimited drops the limits"
run carnet-quota set --user JK --folder JESSICA --per-month-sms 10
is "$out" "set the quota of user JK in folder JESSICA: per month 10 SMS; block" \
	"limits make it specific again, with only the limit given (mode: block, the configuration's)"

# --- the default row: unlimited, then limits again -------------------------------
run carnet-quota set --default --folder JESSICA --unlimited
is "$status,$out" "0,set the default quota of folder JESSICA: unlimited" "a folder's default row, unlimited"
run carnet-quota set --default --folder JESSICA --per-send-recipients 50
is "$out" "set the default quota of folder JESSICA: per send 50 recipients; block" \
	"the folder's default row with a limit"
run carnet-quota set --default --folder JESSICA --mode warn
is "$out" "set the default quota of folder JESSICA: per send 50 recipients; warn" \
	"--mode alone changes the mode and keeps the limits"

# --- quota.mode of the configuration: the mode of new rows ------------------------
mkdir -p "$XDG_CONFIG_HOME/carnet"
printf 'quota:\n  mode: warn\n' >"$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-quota set --user ANN --per-month-sms 100
is "$out" "set the quota of user ANN, common to all folders: per month 100 SMS; warn" \
	"a new row takes quota.mode from the configuration"
run carnet-quota set --user JK --folder JESSICA --per-month-sms 11
is "$out" "set the quota of user JK in folder JESSICA: per month 11 SMS; block" \
	"an existing row keeps its own mode"
rm "$XDG_CONFIG_HOME/carnet/config.yaml"

# --- dry run: nothing written, not even the user ---------------------------------
before=$(store_sum)
run carnet-quota set --user NEWBIE --folder NEWFOLDER --per-send-sms 3 --dry-run
is "$status" 0 "set --dry-run exits 0"
is "$out" "would set the quota of user NEWBIE in folder NEWFOLDER: per send 3 SMS; block" \
	"it says what it would set"
is "$(store_sum)" "$before" "and the store is unchanged (no user, no folder, no row)"
run carnet-quota set --user JK --folder JESSICA --per-send-sms 1 -n --format json
is "$out" '{"scope":"folder","folder":"JESSICA","user":"JK","kind":"specific","mode":"block","per_send_sms":1,"per_send_recipients":null,"per_month_sms":11,"per_month_recipients":null,"updated":"2026-11-22T08:00:00Z","action":"updated","dry_run":true}' \
	"-n --format json: the row it would store, action and dry_run"
is "$(store_sum)" "$before" "still unchanged"

# --- show: every row ------------------------------------------------------------
run carnet-quota show
is "$status" 0 "show exits 0"
want='scope,folder,user,kind,mode,per_send_sms,per_send_recipients,per_month_sms,per_month_recipients,updated
common,,,default,block,200,,5000,,2026-11-22T08:00:00Z
common,,ANN,specific,warn,,,100,,2026-11-22T08:00:00Z
common,,BOSS,unlimited,,,,,,2026-11-22T08:00:00Z
common,,SYLVIE,forbidden,block,,,,,2026-11-22T08:00:00Z
folder,JESSICA,,default,warn,,50,,,2026-11-22T08:00:00Z
folder,JESSICA,JK,specific,block,,,11,,2026-11-22T08:00:00Z
folder,OTHER,JK,default,,,,,,2026-11-22T08:00:00Z'
is "$out" "$want" "show: CSV off a terminal, common rows first, the default row before users"
is "$err" "" "nothing on stderr"
run carnet-quota show --folder JESSICA --format ndjson
is "$out" '{"scope":"folder","folder":"JESSICA","user":null,"kind":"default","mode":"warn","per_send_sms":null,"per_send_recipients":50,"per_month_sms":null,"per_month_recipients":null,"updated":"2026-11-22T08:00:00Z"}
{"scope":"folder","folder":"JESSICA","user":"JK","kind":"specific","mode":"block","per_send_sms":null,"per_send_recipients":null,"per_month_sms":11,"per_month_recipients":null,"updated":"2026-11-22T08:00:00Z"}' \
	"show --folder: that folder's rows only; unset limits are null"
run carnet-quota show --common --format json
is "$(printf '%s\n' "$out" | jq -c '[.[] | .user]')" '[null,"ANN","BOSS","SYLVIE"]' \
	"show --common --format json: an array of the common rows"
run carnet-quota show --format table
like "$out" '^scope +folder +user +kind' "show --format table: aligned columns"

# --- show --user: the quota that applies and where it comes from --------------------
run carnet-quota show --user JK --folder JESSICA
is "$out" "user JK in folder JESSICA: per month 11 SMS; block (quota: user JK in folder JESSICA); used in 2026-11: 0 SMS, 0 recipients" \
	"a user's folder row"
run carnet-quota show --user JK --folder OTHER
is "$out" "user JK in folder OTHER: per send 200 SMS; per month 5,000 SMS; block (quota: default quota, common to all folders; user JK follows the default); used in 2026-11: 0 SMS, 0 recipients" \
	"a user row of kind default falls to the common default row, and says so"
run carnet-quota show --user SYLVIE --folder JESSICA
like "$out" "^user SYLVIE in folder JESSICA: forbidden \(quota: user SYLVIE, common to all folders\)" \
	"a user's common row beats the folder's default row"
run carnet-quota show --user ZOE --folder JESSICA
is "$status" 0 "show for an unknown user exits 0"
like "$out" "^user ZOE in folder JESSICA: per send 50 recipients; warn \(quota: default quota of folder JESSICA; user ZOE is not in the store\)" \
	"an unknown user gets the folder's default row, which beats the common one"
is "$err" "carnet-quota: user 'ZOE' is not in the store: the default quota applies" \
	"and stderr says so"
is "$(sql "SELECT count(*) FROM user WHERE name = 'ZOE'")" 0 "show does not create the user"
run carnet-quota show --user ZOE --folder JESSICA -q
is "$err" "" "-q silences the note"
run carnet-quota show --user ZOE --format json
is "$out" '{"folder":"default","user":"ZOE","known_user":false,"kind":"default","mode":"block","per_send_sms":200,"per_send_recipients":null,"per_month_sms":5000,"per_month_recipients":null,"source":"default quota, common to all folders; user ZOE is not in the store","month":"2026-11","used_sms":0,"used_recipients":0}' \
	"show --user --format json, in the configured folder ('default')"
CARNET_FOLDER=JESSICA run carnet-quota show --user ANN --format json
is "$(printf '%s' "$out" | jq -c '[.folder, .kind, .mode, .per_month_sms]')" '["JESSICA","specific","warn",100]' \
	"the folder of show --user comes from CARNET_FOLDER when --folder is absent"

# --- rm ----------------------------------------------------------------------------
run carnet-quota rm --user JK --folder JESSICA --dry-run
is "$status,$out" "0,would remove the quota of user JK in folder JESSICA: per month 11 SMS; block" "rm --dry-run"
is "$(sql "SELECT count(*) FROM quota q JOIN user u ON u.id = q.user_id JOIN folder f ON f.id = q.folder_id WHERE u.name = 'JK' AND f.name = 'JESSICA'")" 1 \
	"and keeps the row"
run carnet-quota rm --user JK --folder JESSICA
is "$status,$out" "0,removed the quota of user JK in folder JESSICA: per month 11 SMS; block" "rm removes it"
is "$(sql "SELECT count(*) FROM quota q JOIN user u ON u.id = q.user_id JOIN folder f ON f.id = q.folder_id WHERE u.name = 'JK' AND f.name = 'JESSICA'")" 0 \
	"the row is gone"
run carnet-quota show --user JK --folder JESSICA --format json
is "$(printf '%s' "$out" | jq -c '[.kind, .per_send_recipients, .source]')" '["default",50,"default quota of folder JESSICA"]' \
	"JK now falls to the folder's default row"
run carnet-quota rm --user JK --folder JESSICA
is "$status" 66 "rm of a row that does not exist: exit 66"
is "$err" "carnet-quota: no such quota: the quota of user JK in folder JESSICA" "with a clear message"
run carnet-quota rm --user JK --folder JESSICA --force
is "$status,$out,$err" "0,," "rm --force: exit 0, silent"
run carnet-quota rm --default --folder JESSICA --format json
is "$out" '{"scope":"folder","folder":"JESSICA","user":null,"kind":"default","mode":"warn","per_send_sms":null,"per_send_recipients":50,"per_month_sms":null,"per_month_recipients":null,"updated":"2026-11-22T08:00:00Z","action":"removed","dry_run":false}' \
	"rm --default --folder --format json"
run carnet-quota rm --user NOBODY
is "$status" 66 "rm for an unknown user: exit 66"
is "$(sql "SELECT count(*) FROM user WHERE name = 'NOBODY'")" 0 "and the user is not created"

# --- through the dispatcher -----------------------------------------------------------
run carnet quota show --common --format csv
is "$(printf '%s\n' "$out" | sed -n 2p)" "common,,,default,block,200,,5000,,2026-11-22T08:00:00Z" \
	"carnet quota show runs carnet-quota"
done_testing
