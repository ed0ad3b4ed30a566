#!/usr/bin/env bash
# One import is one transaction: a replace of a 1,000-member list by a
# 200,000-row file, killed with SIGKILL at growing delays until a run
# completes, always leaves a sound store whose list is exactly as before
# or exactly as after, never in between.  Then a normal run completes.
# The kill points are fixed delays; a machine fast enough to finish before
# one of them ends the series with a completed run.
# CARNET_KILL_ROWS changes the size of the file (default 200000, 20000
# under valgrind).
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1
# tools wrapped in a script (make check-valgrind) are far slower: a
# smaller file still puts the kills inside the import
if [ "$(head -c2 "$CARNET_BIN/carnet-contacts")" = '#!' ]; then
	N=${CARNET_KILL_ROWS:-20000}
else
	N=${CARNET_KILL_ROWS:-200000}
fi

awk -v n="$N" 'BEGIN {
	print "email,phone,first_name,last_name,city"
	for (i = 1; i <= n; i++)
		printf "user%06d@example.com,06%08d,First%d,\"Last, %d\",City%d\n", i, i, i, i, i % 100
}' >big.csv
# what the list must export after the replace (without the id column)
awk -v n="$N" 'BEGIN {
	print "email,phone,first_name,last_name,city"
	for (i = 1; i <= n; i++)
		printf "user%06d@example.com,+336%08d,First%d,\"Last, %d\",City%d\n", i, i, i, i, i % 100
}' | sha256sum >after.sum

# Before: K holds 500 of the file's contacts (other names) and 500 that
# the replace removes; "other" shares ten of those, which must survive.
awk 'BEGIN {
	print "email,phone,first_name,last_name,city"
	for (i = 1; i <= 500; i++)
		printf "user%06d@example.com,06%08d,Old%d,Older,OldCity\n", i, i, i
	for (i = 1; i <= 500; i++)
		printf "old%04d@example.com,07%08d,Gone%d,Gone,GoneCity\n", i, i, i
}' >before.csv
sed -n '1p;502,511p' before.csv >other.csv
carnet-contacts import -q --list K before.csv >/dev/null
carnet-contacts import -q --list other other.csv >/dev/null
store_save before.db
export_noid K | sha256sum >before.sum
other_before=$(carnet-contacts export --list other)
is "$(sql "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'K'")" 1000 \
	"before: the list has 1000 members"

after_contacts=$((N + 10))
want_summary="K: $N rows: $((N - 500)) inserted, 500 updated, 0 unchanged, 0 skipped, 0 rejected, 500 removed"

# check_state WHAT: the store is sound and K is exactly before or after;
# sets $state
check_state() {
	local what=$1 members contacts sum
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$what: integrity_check is ok"
	members=$(sql "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'K'")
	contacts=$(sql "SELECT count(*) FROM contact")
	case "$members,$contacts" in
	1000,1000) state=before ;;
	"$N,$after_contacts") state=after ;;
	*) state="in between ($members members, $contacts contacts)" ;;
	esac
	like "$state" '^(before|after)$' "$what: the list is before or after ($state)"
	sum=$(export_noid K | sha256sum)
	if [ "$state" = after ]; then
		is "$sum" "$(cat after.sum)" "$what: the list exports exactly the file"
	else
		is "$sum" "$(cat before.sum)" "$what: the list exports exactly as before"
	fi
	is "$(carnet-contacts export --list other)" "$other_before" "$what: the other list is untouched"
}

# Kill points: a run that ends before its delay simply completes (a fast
# machine); then one normal run, which must complete.
killed=0 kept_before=0
for d in 0.05 0.15 0.3 0.5 0.8 1.2 1.7; do
	store_restore before.db
	carnet-contacts import --list K --mode replace big.csv >run.out 2>run.err &
	pid=$!
	sleep "$d"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	if [ "$st" = 0 ]; then
		check_state "not killed after ${d}s"
		is "$state" after "a run that exits 0 leaves the list after"
		is "$(cat run.out)" "$want_summary" "and prints its summary"
		break
	fi
	is "$st" 137 "killed after ${d}s: the import died of SIGKILL"
	killed=$((killed + 1))
	check_state "killed after ${d}s"
	[ "$state" = before ] && kept_before=$((kept_before + 1))
done
ok "$([ "$killed" -ge 1 ] && [ "$kept_before" -ge 1 ]; echo $?)" \
	"$killed kills, $kept_before of them left the list as before"

# a normal run, on the store the last kill left: before (the full
# counts) or, when the kill came after the commit, already after (every
# row unchanged)
last=$state
run carnet-contacts import --list K --mode replace big.csv
is "$status" 0 "after the kills, a normal run exits 0"
if [ "$last" = after ]; then
	is "$out" "K: $N rows: 0 inserted, 0 updated, $N unchanged, 0 skipped, 0 rejected, 0 removed" \
		"and prints the counts of a list already imported"
else
	is "$out" "$want_summary" "and prints the full counts"
fi
is "$err" "" "and nothing on stderr"
check_state "the normal run"
is "$state" after "the normal run leaves the list after"
is "$(sql "SELECT count(*) FROM contact WHERE email LIKE 'old%' AND id NOT IN (SELECT contact_id FROM member)")" 0 \
	"the removed contacts in no other list are deleted"
done_testing
