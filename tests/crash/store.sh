# tests/crash/store.sh - checks shared by the scenarios of the tools that
# work on the store alone (c100 import, c110 restore, c120 backup, c130
# prune), sourced after tests/lib.sh and tests/crash/crash.sh.

# store_rows QUICK FULL: the rows of a scenario's big file, QUICK or FULL
# by $CARNET_CRASH, or $CARNET_KILL_ROWS (default 2000) when the tools are
# wrapped in a script (make check-valgrind: 50 times slower)
store_rows() {
	if [ "$(head -c2 "$CARNET_BIN/carnet-contacts")" = '#!' ]; then
		echo "${CARNET_KILL_ROWS:-2000}"
	else
		crash_scale "$1" "$2"
	fi
}

# big_csv N: N contacts as CSV on stdout (user000001@example.com ...)
big_csv() {
	awk -v n="$1" 'BEGIN {
		print "email,phone,first_name,last_name,city"
		for (i = 1; i <= n; i++)
			printf "user%06d@example.com,06%08d,First%d,\"Last, %d\",City%d\n", i, i, i, i, i % 100
	}'
}

# state_save / state_reset: a copy of the store and of $T/backups, and
# back (each kill point starts from the same state)
state_save() {
	store_save "$T/before.db"
	rm -rf "$T/before-backups"
	if [ -d "$T/backups" ]; then cp -a "$T/backups" "$T/before-backups"; fi
}
state_reset() {
	store_restore "$T/before.db"
	rm -rf "$T/backups"
	if [ -d "$T/before-backups" ]; then cp -a "$T/before-backups" "$T/backups"; fi
}

# FP_LISTS: the lists whose exports make the fingerprint (default K other)
FP_LISTS=${FP_LISTS:-K other}

# fingerprint: one line, the exports of $FP_LISTS (without ids; "-" for
# a list that does not exist) and the number of contacts
fingerprint() {
	local l s
	for l in $FP_LISTS; do
		if s=$(export_noid "$l" 2>/dev/null); then
			printf '%s ' "$(printf '%s\n' "$s" | sha256sum | cut -c1-16)"
		else
			printf -- '- '
		fi
	done
	sql 'SELECT count(*) FROM contact'
}

# crash_delay SPEC MS: SPEC, or when it is P% the seconds that are P
# percent of MS milliseconds (a kill point at a share of a reference run)
crash_delay() {
	case $1 in
	*%) awk -v p="${1%\%}" -v ms="$2" 'BEGIN { printf "%.3f\n", p * ms / 100000 }' ;;
	*) echo "$1" ;;
	esac
}

# kill_run HOW SPEC CMD...: CMD killed at crash point SPEC (HOW "at") or
# after SPEC seconds (HOW "after"); sets $status as crash_at does
kill_run() {
	local how=$1 spec=$2
	shift 2
	# the shell's "Killed" notice goes nowhere: the tool's own stderr
	# is in $T/crash.err
	if [ "$how" = at ]; then
		crash_at "$spec" "$@" 2>/dev/null
	else
		crash_after "$spec" "$@" 2>/dev/null
	fi
}

# backups_sound WHAT: every recorded backup verifies, and every file
# under a backup's final name in $T/backups is a whole gzip stream (a
# file no record names, left by a kill before the commit, is an orphan
# that prune removes, but never half written)
backups_sound() {
	local f bad=0
	is "$(carnet-backup verify -q >/dev/null 2>&1; echo $?)" 0 "$1: every recorded backup verifies"
	for f in "$T"/backups/*.ndjson.gz; do
		[ -e "$f" ] || continue
		gzip -t "$f" 2>/dev/null || bad=$((bad + 1))
	done
	is "$bad" 0 "$1: no half backup file under a final name"
}

# check_state WHAT BEFORE AFTER NREC-BEFORE NREC-AFTER: the store is sound,
# its fingerprint is BEFORE or AFTER, with as many backup records as that
# state has, and the backups are sound; sets $state to before, after or
# "in between (...)"
check_state() {
	local what=$1 fp nrec
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$what: integrity_check is ok"
	fp=$(fingerprint)
	if [ "$fp" = "$2" ]; then
		state=before
		nrec=$4
	elif [ "$fp" = "$3" ]; then
		state=after
		nrec=$5
	else
		state="in between ($fp)"
		nrec=?
	fi
	like "$state" '^(before|after)$' "$what: the lists are exactly before or after ($state)"
	is "$(sql 'SELECT count(*) FROM backup')" "$nrec" "$what: $nrec backup records"
	backups_sound "$what"
}

# kill_point LABEL HOW SPEC SUMMARY CMD...: one kill point.  From the
# saved state (state_reset), CMD killed at crash point SPEC (HOW "at") or
# after SPEC seconds (HOW "after"), then the scenario's check_case WHAT,
# which checks the store and sets $state (before or after); then CMD run
# again must exit 0, print SUMMARY (when the kill left the state before)
# and leave the state after.  A CMD that ends before its kill point is
# checked as a completed run (state after, SUMMARY) and not counted.
kill_point() {
	local label=$1 how=$2 spec=$3 want=$4 what last
	shift 4
	what="$label killed $how $spec"
	state_reset
	kill_run "$how" "$spec" "$@"
	if [ "$status" = 0 ]; then
		check_case "$label not killed ($how $spec)"
		is "$state" after "$label not killed ($how $spec): the run completed"
		is "$(cat "$T/crash.out")" "$want" "$label not killed ($how $spec): its summary"
		return
	fi
	crash_point_begin
	is "$status" 137 "$what: died of SIGKILL"
	check_case "$what"
	last=$state
	run "$@"
	is "$status" 0 "$what: run again, it exits 0"
	[ "$last" = after ] || is "$out" "$want" "$what: run again, it does the whole work"
	check_case "$what, run again"
	is "$state" after "$what: run again, the state is after"
	crash_point_end
}
