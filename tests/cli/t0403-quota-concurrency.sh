#!/usr/bin/env bash
# Two sends cannot both slip under a limit: record checks the quota and
# appends to the ledger under one write lock.  Two records started
# together when only one fits: exactly one passes, in many rounds; two
# records that wait together for another process's write lock: still
# exactly one.  Checks are read-only and are not held up by a writer.  A
# lock held longer than busy_timeout_ms: exit 75, nothing recorded.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z
cd "$T" || exit 1

carnet-quota set --default --per-month-sms 10 >/dev/null

# --- two records started together, only one fits (10 rounds) -------------------------
pass=0 fail=0 rows=0
for i in $(seq 10); do
	carnet-quota record --user "U$i" --sms 6 --recipients 1 >"a$i.out" 2>"a$i.err" &
	pa=$!
	carnet-quota record --user "U$i" --sms 6 --recipients 1 >"b$i.out" 2>"b$i.err" &
	pb=$!
	wait "$pa"
	sa=$?
	wait "$pb"
	sb=$?
	case "$sa,$sb" in
	0,1 | 1,0) pass=$((pass + 1)) ;;
	*) fail=$((fail + 1)); echo "# round $i: exit $sa and $sb" ;;
	esac
	[ "$(sql "SELECT count(*) || ':' || sum(sms) FROM usage u JOIN user us ON us.id = u.user_id WHERE us.name = 'U$i'")" = 1:6 ] &&
		rows=$((rows + 1))
done
is "$pass,$fail" "10,0" "in each of 10 rounds, exactly one of two records started together exits 0, the other 1"
is "$rows" 10 "and each user's ledger holds exactly one row of 6 SMS"
like "$(cat a*.err b*.err)" "^carnet-quota: over the monthly SMS quota of user U[0-9]+ in all folders: 6 \+ 6 > 10 \(by 2\)" \
	"the one refused says why: the other's 6 SMS are counted"

# --- both wait for another process's write lock, then only one fits -------------------
hold() { # hold: another process takes the write lock (fd 7 feeds it)
	mkfifo "$T/lock.fifo" 2>/dev/null
	sqlite3 -cmd ".timeout 10000" "$STORE" <"$T/lock.fifo" >"$T/lock.out" 2>&1 &
	sq=$!
	exec 7>"$T/lock.fifo"
	echo "BEGIN IMMEDIATE; INSERT INTO setting(key, value) VALUES ('held$1', '1');" >&7
	for _ in $(seq 100); do
		sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1 || break
		sleep 0.05
	done
}
release() { # release COMMIT|ROLLBACK
	echo "$1;" >&7
	exec 7>&-
	wait "$sq"
}

hold 1
ok "$(! sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; echo $?)" \
	"another process holds the write lock"
carnet-quota record --user LOCKED --sms 6 --recipients 1 >c.out 2>c.err &
pc=$!
carnet-quota record --user LOCKED --sms 6 --recipients 1 >d.out 2>d.err &
pd=$!
sleep 1
ok "$(kill -0 "$pc" 2>/dev/null && kill -0 "$pd" 2>/dev/null; echo $?)" "both records wait while the lock is held"
# a check reads without the write lock: it answers at once
run carnet-quota check --user LOCKED --sms 6 --recipients 1
is "$status" 0 "meanwhile a check answers (read-only, not held up by the writer)"
is "$(sql "SELECT count(*) FROM usage u JOIN user us ON us.id = u.user_id WHERE us.name = 'LOCKED'")" 0 \
	"nothing recorded yet"
release COMMIT
wait "$pc"
sc=$?
wait "$pd"
sd=$?
is "$(printf '%s\n' "$sc" "$sd" | sort | tr '\n' ,)" "0,1," "once released, exactly one record exits 0 and the other 1"
is "$(sql "SELECT count(*) || ':' || sum(sms) FROM usage u JOIN user us ON us.id = u.user_id WHERE us.name = 'LOCKED'")" "1:6" \
	"and the ledger has exactly one row"
is "$(cat c.out d.out)" "recorded: 6 SMS to 1 recipient for user LOCKED in folder default in 2026-11 (quota: default quota, common to all folders)" \
	"the one that passed says so"
like "$(cat c.err d.err)" "over the monthly SMS quota of user LOCKED in all folders: 6 \+ 6 > 10 \(by 2\)" \
	"the other was refused with the first one's usage counted"
is "$(sql "SELECT value FROM setting WHERE key = 'held1'")" 1 "the other process's write is kept"

# --- a wait longer than busy_timeout_ms: exit 75, nothing changed ------------------------
mkdir -p "$XDG_CONFIG_HOME/carnet"
printf 'busy_timeout_ms: 200\n' >"$XDG_CONFIG_HOME/carnet/config.yaml"
hold 2
before_ledger=$(sql "SELECT count(*) FROM usage")
run carnet-quota record --user BUSY --sms 1 --recipients 1
is "$status" 75 "record while the store stays busy: exit 75"
like "$err" "busy" "and says the store is busy"
is "$out" "" "nothing on stdout"
run carnet-quota set --user BUSY --per-send-sms 3
is "$status" 75 "set exits 75 too"
run carnet-quota record --user BUSY --sms 1 --recipients 1 --force
is "$status" 75 "and record --force"
run carnet-quota usage --format json
is "$status" 0 "usage still reads"
release ROLLBACK
is "$(sql "SELECT count(*) FROM usage")" "$before_ledger" "nothing was recorded"
is "$(sql "SELECT count(*) FROM user WHERE name = 'BUSY'")" 0 "and no user created"
run carnet-quota record --user BUSY --sms 1 --recipients 1
is "$status" 0 "once free, the same record works"
done_testing
