#!/usr/bin/env bash
# Concurrent runs: a big `carnet-contacts import` into one list and
# `carnet-backup create` of another, started together in either order,
# both exit 0 with full results; two creates of one list at once give two
# sound backups; a create during an import into the same list holds the
# list as before or as after the import.  When another process holds the
# store longer than busy_timeout_ms, create, restore and prune exit 75 and
# change nothing (no record, no file).
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
# tools wrapped in a script (make check-valgrind) are far slower: smaller
# lists still make the runs overlap
if [ "$(head -c2 "$CARNET_BIN/carnet-contacts")" = '#!' ]; then
	S=500 B=3000
else
	S=5000 B=30000
fi

gen() { # gen PREFIX N
	awk -v p="$1" -v n="$2" 'BEGIN {
		print "email,phone,first_name"
		for (i = 1; i <= n; i++)
			printf "%s%06d@example.com,07%08d,%s%d\n", p, i, i, p, i
	}'
}
gen a $S >a.csv
gen b $B >big.csv
gen c $B >big2.csv
carnet-contacts import -q --list clients a.csv >/dev/null
files() { find backups -type f 2>/dev/null | wc -l; }

# --- import (another list) and create, started together ------------------------------------------
carnet-contacts import --list other big.csv >imp.out 2>imp.err &
pi=$!
sleep 0.2
carnet-backup create --list clients >cr.out 2>cr.err &
pc=$!
wait "$pi"
si=$?
wait "$pc"
sc=$?
is "$si,$sc" "0,0" "an import and a create running together both exit 0"
is "$(cat imp.out)" "other: $B rows: $B inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"the import imported every row"
like "$(cat cr.out)" "^backup 1 of list 'clients' \(folder 'default'\): $S rows, " "the backup holds every member"
is "$(cat imp.err cr.err)" "" "neither complains"

# the other order: create first, then a replace import of the other list
carnet-backup create --list other >cr2.out 2>cr2.err &
pc=$!
sleep 0.05
carnet-contacts import --list clients --mode replace big2.csv >imp2.out 2>imp2.err &
pi=$!
wait "$pc"
sc=$?
wait "$pi"
si=$?
is "$sc,$si" "0,0" "a create and then an import with a backup of its own: both exit 0"
like "$(cat cr2.out)" "^backup [23] of list 'other' \(folder 'default'\): $B rows, " "the manual backup is complete"
like "$(cat imp2.out)" "^clients: $B rows: $B inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, $S removed; backup [23] taken first$" \
	"the import took its backup and finished"
is "$(cat cr2.err imp2.err)" "" "neither complains"
run carnet-backup verify
is "$status" 0 "every backup verifies"
is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "the store is sound"

# --- two creates of one list at once -------------------------------------------------------------
carnet-backup create --list clients >x1.out 2>&1 &
p1=$!
carnet-backup create --list clients >x2.out 2>&1 &
p2=$!
wait "$p1"
s1=$?
wait "$p2"
s2=$?
is "$s1,$s2" "0,0" "two creates of one list at once both exit 0"
is "$(sql "SELECT count(*) || ',' || count(DISTINCT file) FROM backup WHERE list = 'clients' AND reason = 'manual'")" '"3,3"' \
	"and record two more backups, each with a file of its own"
run carnet-backup verify
is "$status" 0 "they verify"

# --- a create while an import changes the same list -------------------------------------------------
gen d $B >big3.csv
carnet-contacts import -q --list clients --mode replace big3.csv >/dev/null 2>&1 &
pi=$!
sleep 0.3
run carnet-backup create --list clients --format json
wait "$pi"
is "$status" 0 "a create during an import into the same list exits 0"
is "$(printf '%s' "$out" | jq -r '.rows')" "$B" "it holds the list as before or after the import ($B members either way)"
id=$(printf '%s' "$out" | jq -r .id)
is "$(carnet-backup export "$id" | sed 1d | cut -d, -f2 | cut -c1 | sort -u | tr -d '\n')" \
	"$(carnet-backup export "$id" | sed -n 2p | cut -d, -f2 | cut -c1)" "and only one of the two: no mix of rows"

# --- the store busy longer than busy_timeout_ms: exit 75, nothing changes ---------------------------
printf 'busy_timeout_ms: 200\n' >busy.yaml
chmod 600 busy.yaml
before=$(store_sum)
nf=$(files)
mkfifo lock.fifo
sqlite3 -cmd ".timeout 10000" "$STORE" <lock.fifo >lock.out 2>&1 &
sq=$!
exec 7>lock.fifo
echo 'BEGIN IMMEDIATE;' >&7
for _ in $(seq 100); do
	sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1 || break
	sleep 0.05
done
ok "$(! sqlite3 -cmd '.timeout 0' "$STORE" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; echo $?)" \
	"another process holds the write lock"
run carnet-backup --config busy.yaml create --list other
is "$status" 75 "create while the store is busy exits 75"
like "$err" "busy" "and says the store is busy"
is "$out" "" "and prints no backup line"
is "$(files)" "$nf" "and leaves no file behind"
run carnet-restore --config busy.yaml 1 --mode replace
is "$status" 75 "restore while the store is busy exits 75"
run carnet-backup --config busy.yaml prune --days 0 --force
is "$status" 75 "prune while the store is busy exits 75"
is "$(files)" "$nf" "and removes no file"
echo 'ROLLBACK;' >&7
exec 7>&-
wait "$sq"
is "$(store_sum)" "$before" "nothing was changed"
run carnet-backup --config busy.yaml create --list other
is "$status" 0 "once the store is free, create works"
done_testing
