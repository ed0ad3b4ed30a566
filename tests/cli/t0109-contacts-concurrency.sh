#!/usr/bin/env bash
# Concurrent runs from cron are safe: two imports started together both
# succeed; an import waits (busy timeout) for another process that holds
# a write transaction, and exits 75 with the store unchanged when the
# wait is longer than busy_timeout_ms.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1

gen() { # gen PREFIX N
	awk -v p="$1" -v n="$2" 'BEGIN {
		print "email,phone,first_name"
		for (i = 1; i <= n; i++)
			printf "%s%06d@example.com,07%08d,%s%d\n", p, i, i, p, i
	}'
}
gen a 20000 >a.csv
gen b 20000 >b.csv
carnet-contacts ls >/dev/null	# the store exists before the race

# --- two imports into different lists at once --------------------------------------------------
carnet-contacts import --list A a.csv >A.out 2>A.err &
pa=$!
carnet-contacts import --list B b.csv >B.out 2>B.err &
pb=$!
wait "$pa"
sa=$?
wait "$pb"
sb=$?
is "$sa,$sb" "0,0" "two imports started together both exit 0"
is "$(cat A.out)" "A: 20000 rows: 20000 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"the first prints its full summary"
is "$(cat B.out)" "B: 20000 rows: 20000 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"the second prints its full summary"
is "$(cat A.err B.err)" "" "neither complains"
is "$(sql "SELECT l.name || ':' || count(*) FROM member m JOIN list l ON l.id = m.list_id GROUP BY l.name ORDER BY l.name")" \
	"$(printf '%s\n' A:20000 B:20000)" "both lists have all their rows"
is "$(export_noid A | sed -n '2p;20001p')" "$(printf '%s\n' 'a000001@example.com,+33700000001,a1,' 'a020000@example.com,+33700020000,a20000,')" \
	"the first list holds its own contacts"
is "$(sql "SELECT count(*) FROM contact WHERE email LIKE 'b%' AND id IN (SELECT contact_id FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'A')")" 0 \
	"and none of the other's"
is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "the store is sound"

# --- two imports into the same list at once ------------------------------------------------------
gen c 10000 >c.csv
gen d 10000 >d.csv
carnet-contacts import --list S c.csv >C.out 2>&1 &
pc=$!
carnet-contacts import --list S d.csv >D.out 2>&1 &
pd=$!
wait "$pc"
sc=$?
wait "$pd"
sd=$?
is "$sc,$sd" "0,0" "two imports into the same list both exit 0"
is "$(sql "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'S'")" 20000 \
	"the list has the rows of both"

# --- another process holds a write transaction ----------------------------------------------------
# The holder waits for the probes below (.timeout): without it, its BEGIN
# IMMEDIATE could meet a probe's and fail, leaving nothing held.
printf 'email\nwait@x.fr\n' >w.csv
mkfifo lock.fifo
sqlite3 -cmd ".timeout 10000" "$STORE" <lock.fifo >lock.out 2>&1 &
sq=$!
exec 7>lock.fifo
echo "BEGIN IMMEDIATE; INSERT INTO setting(key, value) VALUES ('held', '1');" >&7
# wait until the lock is really held
for _ in $(seq 100); do
	sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1 || break
	sleep 0.05
done
ok "$(! sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; echo $?)" \
	"another process holds the write lock"
t0=$(date +%s%N)
carnet-contacts import --list W w.csv >W.out 2>W.err &
pw=$!
sleep 1
ok "$(kill -0 "$pw" 2>/dev/null; echo $?)" "the import waits while the lock is held"
is "$(sql "SELECT count(*) FROM list WHERE name = 'W'")" 0 "and has written nothing yet"
echo 'COMMIT;' >&7
exec 7>&-
wait "$sq"
wait "$pw"
sw=$?
t1=$(date +%s%N)
is "$sw" 0 "once the lock is released, the import exits 0"
is "$(cat W.out)" "W: 1 rows: 1 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"and imports its row"
is "$(cat W.err)" "" "without a warning"
ok "$([ $(((t1 - t0) / 1000000)) -ge 1000 ]; echo $?)" "it waited for the lock (about 1 s)"
is "$(sql "SELECT value FROM setting WHERE key = 'held'")" 1 "the other process's write is kept"

# --- a wait longer than busy_timeout_ms: exit 75, nothing changed -------------------------------------
printf '%s\nbusy_timeout_ms: 200\n' "$BACKUPS_OFF" >"$XDG_CONFIG_HOME/carnet/config.yaml"
before=$(store_sum)
sqlite3 -cmd ".timeout 10000" "$STORE" <lock.fifo >lock.out 2>&1 &
sq=$!
exec 7>lock.fifo
echo 'BEGIN IMMEDIATE;' >&7
for _ in $(seq 100); do
	sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1 || break
	sleep 0.05
done
run carnet-contacts import --list X w.csv
is "$status" 75 "the store busy longer than busy_timeout_ms: exit 75"
like "$err" "busy" "and says the store is busy"
is "$out" "" "no summary"
run carnet-contacts rm --list W
is "$status" 75 "rm exits 75 too"
echo 'ROLLBACK;' >&7
exec 7>&-
wait "$sq"
is "$(store_sum)" "$before" "nothing was changed"
run carnet-contacts import --list X w.csv
is "$status" 0 "once free, the same import works"
done_testing
