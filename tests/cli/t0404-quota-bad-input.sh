#!/usr/bin/env bash
# carnet-quota's bad inputs: unknown commands and options, options a
# command does not take, numbers that are negative, not whole or too
# large, bad months and modes, missing or conflicting options, changes
# that make no sense.  Each one exits 64 with a clear message on stderr,
# nothing on stdout, and leaves the store as it was; a usage error does not
# even create the store.  Then a bad configuration (78).
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

hint="Try 'carnet-quota --help' for more information."

# no store yet: usage errors must not create it
run carnet-quota check --sms -1 --recipients 1
is "$status" 64 "a usage error before any store exists: exit 64"
ok "$([ ! -e "$STORE" ]; echo $?)" "and the store is not created"
run carnet-quota set --user X --unlimited --per-send-sms 3
is "$status" 64 "a change that makes no sense: exit 64"
ok "$([ ! -e "$STORE" ]; echo $?)" "and the store is still not created"

carnet-quota set --default --per-send-sms 200 --per-month-sms 5000 >/dev/null
carnet-quota set --user JK --per-send-sms 50 >/dev/null
carnet-quota record --user JK --sms 8 --recipients 4 >/dev/null
before=$(store_sum)

# bad CMD-ARGS... EXPECTED-STDERR NAME: exit 64, that stderr, empty stdout
bad() {
	local want=$1 name=$2
	shift 2
	run carnet-quota "$@"
	is "$status" 64 "$name: exit 64"
	is "$err" "$want" "$name: the message"
	is "$out" "" "$name: nothing on stdout"
}

# --- commands and options ----------------------------------------------------------
bad "carnet-quota: no command (set, rm, show, usage, check, record)
$hint" "no command"
bad "carnet-quota: unknown command 'frobnicate' (set, rm, show, usage, check, record)
$hint" "an unknown command" frobnicate
# getopt names the program as it was run (a path under valgrind)
run carnet-quota check --bogus --sms 1 --recipients 1
is "$status,$out" "64," "an unknown option: exit 64, nothing on stdout"
is "${err#"${err%%carnet-quota: *}"}" "carnet-quota: unrecognized option '--bogus'
$hint" "an unknown option: the message"
run carnet-quota check --recipients 1 --sms
is "$status,$out" "64," "an option without its argument: exit 64"
is "${err#"${err%%carnet-quota: *}"}" "carnet-quota: option '--sms' requires an argument
$hint" "an option without its argument: the message"
bad "carnet-quota: check: unexpected argument 'extra'
$hint" "an extra operand" check extra --sms 1 --recipients 1
bad "carnet-quota: check: --per-send-sms does not apply
$hint" "a set option given to check" check --sms 1 --recipients 1 --per-send-sms 5
bad "carnet-quota: usage: --sms does not apply
$hint" "a check option given to usage" usage --sms 3
bad "carnet-quota: show: --dry-run does not apply
$hint" "--dry-run given to show" show --dry-run
bad "carnet-quota: check: --force does not apply
$hint" "--force given to check" check --sms 1 --recipients 1 --force
bad "carnet-quota: unknown format 'xml' (csv, json, ndjson, table)
$hint" "an unknown format" usage --format xml

# --- numbers -----------------------------------------------------------------------------
max=1000000000000
for n in -5 1.5 12abc '' ' 12' 1e3 0x10 $((max + 1)) 99999999999999999999; do
	bad "carnet-quota: --per-send-sms: invalid number '$n' (a whole number from 0 to $max, or 'none')
$hint" "limit '$n'" set --default --per-send-sms "$n"
done
bad "carnet-quota: --per-month-recipients: invalid number 'lots' (a whole number from 0 to $max, or 'none')
$hint" "a limit that is a word" set --user JK --per-month-recipients lots
bad "carnet-quota: --sms: invalid number '-8' (a whole number from 0)
$hint" "a negative --sms for check" check --sms -8 --recipients 4
bad "carnet-quota: --recipients: invalid number 'four' (a whole number from 0 to $max)
$hint" "--recipients four" check --sms 8 --recipients four
bad "carnet-quota: --segments: invalid number '-2' (a whole number from 0 to $max)
$hint" "negative --segments, even with --force" record --segments -2 --recipients 4 --force
bad "carnet-quota: --sms: invalid number '2.5' (a whole number from 0 to $max)
$hint" "--sms 2.5" record --sms 2.5 --recipients 1 --force
run carnet-quota check --segments 1000000 --recipients 10000000
is "$status,$err" "64,carnet-quota: check: --segments x --recipients is too large
$hint" "--segments x --recipients beyond the largest count: exit 64"

# --- months ---------------------------------------------------------------------------------
for m in 2026-13 2026-00 2026-1 26-11 2026/11 2026-11-01 '' 1969-12 abcd-ef ' 2026-11'; do
	bad "carnet-quota: --month: invalid month '$m' (expected YYYY-MM)
$hint" "check --month '$m'" check --sms 1 --recipients 1 --month "$m"
done
bad "carnet-quota: --month: invalid month 'last' (expected YYYY-MM or 'all')
$hint" "usage --month last" usage --month last
bad "carnet-quota: --month: invalid month '2026-13' (expected YYYY-MM)
$hint" "record --force --month 2026-13" record --sms 1 --recipients 1 --month 2026-13 --force

# --- missing or conflicting options ----------------------------------------------------------
bad "carnet-quota: check: --recipients N and --sms N (or --segments N) are required
$hint" "check without --recipients" check --sms 8
bad "carnet-quota: record: --recipients N and --sms N (or --segments N) are required
$hint" "record without --sms" record --recipients 4
bad "carnet-quota: check: --sms and --segments cannot be combined
$hint" "--sms with --segments" check --sms 8 --segments 2 --recipients 4
bad "carnet-quota: unknown mode 'sometimes' (block, warn)
$hint" "a bad mode" set --default --mode sometimes
bad "carnet-quota: set: whose quota? give --user NAME, or --default for the default quota
$hint" "set without --user or --default" set --per-send-sms 5
bad "carnet-quota: rm: whose quota? give --user NAME, or --default for the default quota
$hint" "rm without --user or --default" rm
bad "carnet-quota: rm: --user and --default cannot be combined (remove the user's row with --user alone)
$hint" "rm --user --default" rm --user JK --default
bad "carnet-quota: set: --folder and --common cannot be combined
$hint" "--folder with --common" set --default --folder F --common --per-send-sms 1
bad "carnet-quota: set: give one of --specific, --unlimited, --forbid, --default
$hint" "two kinds" set --user JK --unlimited --forbid
bad "carnet-quota: set: give one of --specific, --unlimited, --forbid, --default
$hint" "--user --default with another kind" set --user JK --default --unlimited
bad "carnet-quota: show: --common lists the common rows; it does not go with --folder or --user
$hint" "show --common --user" show --common --user JK

# --- changes that make no sense (the library's word) ---------------------------------------------
bad "carnet-quota: --unlimited takes no limits" "--unlimited with a limit" set --user JK --unlimited --per-send-sms 3
bad "carnet-quota: --forbid takes no limits" "--forbid with a limit" set --default --forbid --per-month-sms 3
bad "carnet-quota: --default takes no limits" "--user --default with a limit" set --user JK --default --per-month-sms 3
bad "carnet-quota: --forbid always blocks: --mode warn does not apply" "--forbid --mode warn" set --user JK --forbid --mode warn
bad "carnet-quota: --mode applies to a quota with limits, not to --unlimited" "--unlimited --mode" set --user JK --unlimited --mode warn
bad "carnet-quota: --specific is for a user's quota; the default quota takes its limits as they are" \
	"--default --specific" set --default --specific --per-send-sms 3
bad "carnet-quota: nothing to set for the quota of user NEW, common to all folders: give limits, --unlimited, --forbid or --default" \
	"set --user with nothing to set" set --user NEW
bad "carnet-quota: nothing to set for the default quota of folder F: give limits, --unlimited or --forbid" \
	"set --default with nothing to set" set --default --folder F
bad "carnet-quota: the quota of user JK, common to all folders needs at least one limit (--per-send-sms, --per-send-recipients, --per-month-sms, --per-month-recipients)" \
	"removing the last limit" set --user JK --per-send-sms none
bad "carnet-quota: the quota of user NEW2 in folder F needs at least one limit (--per-send-sms, --per-send-recipients, --per-month-sms, --per-month-recipients)" \
	"--specific without limits" set --user NEW2 --folder F --specific

is "$(store_sum)" "$before" "after all of these, the store is as it was"
is "$(sql "SELECT count(*) FROM user WHERE name IN ('NEW', 'NEW2')")" 0 "no user was created by a refused set"

# --- a bad configuration ----------------------------------------------------------------------
mkdir -p "$XDG_CONFIG_HOME/carnet"
printf 'quota:\n  mode: sometimes\n' >"$XDG_CONFIG_HOME/carnet/config.yaml"
run carnet-quota set --user JK --per-send-sms 3
is "$status" 78 "a bad quota.mode in the configuration: exit 78"
like "$err" "quota.mode" "and the message names the key"
is "$(store_sum)" "$before" "nothing changed"
done_testing
