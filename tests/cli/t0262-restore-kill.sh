#!/usr/bin/env bash
# A restore is one transaction: `carnet-restore ID --mode replace` of a
# 100,000-row backup into the list an accidental replace left with one
# member, killed with SIGKILL at growing delays, always leaves a sound
# store whose list is exactly as before the restore or exactly as restored,
# and no backup record without its file; the files of the backups taken by
# the killed runs are orphans, which prune removes once a day old.  Then a
# normal run completes and gives the list back exactly.
# CARNET_KILL_ROWS changes the number of rows (default 100000, 10000 when
# the tools are wrapped in a script, as under make check-valgrind).
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
if [ "$(head -c2 "$CARNET_BIN/carnet-restore")" = '#!' ]; then
	N=${CARNET_KILL_ROWS:-10000}
else
	N=${CARNET_KILL_ROWS:-100000}
fi

awk -v n="$N" 'BEGIN {
	print "email,phone,first_name,last_name,city"
	for (i = 1; i <= n; i++)
		printf "user%06d@example.com,06%08d,First%d,\"Last, %d\",City%d\n", i, i, i, i, i % 100
}' >big.csv
carnet-contacts import -q --list K big.csv >/dev/null
carnet-contacts export --list K | sha256sum >after.sum	# what the restore must give back
printf 'email,first_name\nzoe@example.fr,Zoé\n' >oops.csv
run carnet-contacts import --list K --mode replace oops.csv
is "$out" "K: 1 rows: 1 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, $N removed; backup 1 taken first" \
	"the accident: a replace left one member, backup 1 holds $N"
carnet-contacts export --list K | sha256sum >before.sum
nrec=$(sql "SELECT count(*) FROM backup")

# check_state WHAT: sets $state to before / after / in between
check_state() {
	local what=$1 members sum
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$what: integrity_check is ok"
	members=$(sql "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'K'")
	sum=$(carnet-contacts export --list K | sha256sum)
	if [ "$members" = 1 ] && [ "$sum" = "$(cat before.sum)" ]; then
		state=before
	elif [ "$members" = "$N" ] && [ "$sum" = "$(cat after.sum)" ]; then
		state=after
	else
		state="in between ($members members)"
	fi
	like "$state" '^(before|after)$' "$what: the list is exactly before or after the restore ($state)"
	is "$(carnet-backup verify -q >/dev/null; echo $?)" 0 "$what: every backup record has its sound file"
}

killed=0
for d in 0.2 0.7 1.5; do
	carnet-restore 1 --mode replace >run.out 2>run.err &
	pid=$!
	sleep "$d"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	if [ "$st" = 0 ]; then
		# a machine fast enough to finish before the delay
		check_state "not killed after ${d}s"
		is "$state" after "a run that exits 0 leaves the list restored"
		nrec=$((nrec + 1))
		restored=1
		break
	fi
	is "$st" 137 "killed after ${d}s: the restore died of SIGKILL"
	killed=$((killed + 1))
	check_state "killed after ${d}s"
	if [ "$state" = after ]; then
		# the kill came after the commit: the restore is whole, and so
		# is the backup it took first
		nrec=$((nrec + 1))
		is "$(sql "SELECT count(*) FROM backup")" "$nrec" \
			"killed after ${d}s, after the commit: the restore's backup is kept"
		restored=1
		break
	fi
	is "$(sql "SELECT count(*) FROM backup")" "$nrec" "killed after ${d}s: no backup record was kept"
done
ok "$([ "$killed" -ge 1 ]; echo $?)" "$killed restores were killed midway"

# the backup files of the killed runs are orphans: prune removes them
# once they are a day old, and keeps the recorded ones
known=$(sql "SELECT file FROM backup")
for f in backups/*; do
	grep -qxF "$PWD/$f" <<<"$known" || touch -d '2 days ago' "$f"
done
run carnet-backup prune --days 365
is "$status" 0 "prune exits 0"
is "$(find backups -type f | wc -l)" "$nrec" "the orphan files of the killed restores are gone, the recorded kept"

# a normal run: the full counts, or none when a kill came after the commit
run carnet-restore 1 --mode replace
is "$status" 0 "after the kills, a normal restore exits 0"
if [ "${restored:-0}" = 1 ]; then
	is "$out" "backup 1 into list 'K' (folder 'default'): 0 added, 0 updated, $N unchanged, 0 removed, 0 skipped, 0 rejected" \
		"and prints the counts of a list already restored"
else
	is "$out" "backup 1 into list 'K' (folder 'default'): $N added, 0 updated, 0 unchanged, 1 removed, 0 skipped, 0 rejected; backup $((nrec + 1)) taken first" \
		"and prints the full counts"
fi
is "$err" "" "and nothing on stderr"
check_state "the normal run"
is "$state" after "the normal run gives the list back exactly"
done_testing
