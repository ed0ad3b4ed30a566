#!/usr/bin/env bash
# Bad input changes nothing: an invalid number exits 65 with the reason
# (several addresses: all or nothing), an unknown reason 64, usage errors
# 64, a busy store 75; --help and --version.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1

# q QUERY: the store, columns separated by '|', nothing quoted
q() { sqlite3 -batch -list "$STORE" "$1"; }

carnet-blacklist add -q +33611111111 >/dev/null
base=$(store_sum)

# --- invalid numbers and emails ------------------------------------------------------------------
run carnet-blacklist add '06 12'
is "$status" 65 "an invalid number exits 65"
is "$err" "carnet-blacklist: invalid phone '06 12': too short" "with the reason"
is "$out" "" "nothing on stdout"
is "$(store_sum)" "$base" "and nothing changed"

run carnet-blacklist add +33622222222 '06 12' 0633333333 '+99 1234' --reason STOP
is "$status" 65 "several addresses with invalid ones exit 65"
like "$err" "invalid phone '06 12': too short" "the first invalid one is reported"
like "$err" "invalid phone '\+99 1234'" "and the second"
is "$(printf '%s\n' "$err" | wc -l)" 2 "one line each"
is "$out" "" "nothing on stdout"
is "$(store_sum)" "$base" "all or nothing: the valid ones are not added either"

run carnet-blacklist add 'ann@'
is "$status" 65 "an invalid email exits 65"
is "$err" "carnet-blacklist: invalid email 'ann@': empty domain" "with the reason"
run carnet-blacklist add +33622222222 --note "$(printf 'caf\xe9')"
is "$status" 65 "a note that is not UTF-8 exits 65"
like "$err" "invalid UTF-8 in the note" "and says so"
run carnet-blacklist add +33622222222 --note "$(head -c 1025 /dev/zero | tr '\0' x)"
is "$status" 65 "a note over 1024 bytes exits 65"
like "$err" "note too long \(1025 bytes, at most 1024\)" "and says so"
is "$(store_sum)" "$base" "nothing changed"

# --- unknown reason and usage errors -----------------------------------------------------------------
run carnet-blacklist add +33622222222 --reason spam
is "$status" 64 "an unknown reason exits 64"
is "$err" "$(printf '%s\n' "carnet-blacklist: unknown reason 'spam' (manual, STOP, NPAI)" \
	"Try 'carnet-blacklist --help' for more information.")" "and names the reasons"
run carnet-blacklist add
is "$status" 64 "add without an address exits 64"
like "$err" "add: no address" "and says so"
run carnet-blacklist
is "$status" 64 "no command exits 64"
like "$err" "no command \(add, rm, ls, check\)" "and lists the commands"
run carnet-blacklist frobnicate
is "$status" 64 "an unknown command exits 64"
like "$err" "unknown command 'frobnicate'" "and names it"
run carnet-blacklist add +33622222222 --force
is "$status" 64 "add --force exits 64"
like "$err" "add: --force does not apply" "and says so"
run carnet-blacklist add +33622222222 --mark
is "$status" 64 "add --mark exits 64"
run carnet-blacklist add +33622222222 --bogus
is "$status" 64 "an unknown option exits 64"
like "$err" "Try 'carnet-blacklist --help'" "with the hint"
run carnet-blacklist --format xml add +33622222222
is "$status" 64 "an unknown --format exits 64"
is "$(store_sum)" "$base" "usage errors change nothing"

# --- a busy store --------------------------------------------------------------------------------------
printf 'busy_timeout_ms: 200\n' >busy.yaml
mkfifo hold
sqlite3 -cmd ".timeout 10000" "$STORE" <hold >/dev/null 2>&1 &
holder=$!
exec 3>hold
echo 'BEGIN IMMEDIATE; INSERT INTO setting(key, value) VALUES("held", "1");' >&3
# wait until the writer holds the lock
for _ in $(seq 50); do
	sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1 || break
	sleep 0.1
done
run carnet-blacklist --config busy.yaml add +33622222222
is "$status" 75 "a store held by another writer exits 75"
like "$err" "busy.*try again later" "and says to try again later"
run carnet-blacklist --config busy.yaml rm +33611111111
is "$status" 75 "rm too"
echo 'ROLLBACK;' >&3
exec 3>&-
wait "$holder"
is "$(store_sum)" "$base" "nothing changed"
run carnet-blacklist add +33622222222
is "$status" 0 "once the store is free, add works"

# --- help and version ------------------------------------------------------------------------------------
run carnet-blacklist --help
is "$status" 0 "--help exits 0"
like "$out" "^usage: carnet-blacklist" "--help shows the usage"
like "$out" "carnet-blacklist check" "with check"
run carnet-blacklist help
is "$status" 0 "help exits 0"
run carnet-blacklist --version
is "$out" "carnet-blacklist 0.1.0" "--version"
done_testing
