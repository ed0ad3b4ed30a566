# tests/crash/crash.sh - the crash-consistency harness, sourced by the
# scenarios tests/crash/c*.sh after tests/lib.sh.
#
# A scenario kills a tool with SIGKILL at many points, then checks the
# store and whatever the tool writes.  A kill point is one run of the
# tool killed either
#   by count:  crash_at NAME:N CMD...   (the Nth cn_crashpoint(NAME) in
#              the library; see lib/crashpoint.c)
#   or by time: crash_after SECONDS CMD...
# followed by the scenario's checks between crash_point_begin and
# crash_point_end, which count the kill point as failed when any of its
# TAP assertions failed.  crash_report ends the scenario: it prints
#   # crash-report: SCENARIO kill_points=N failures=F
# and appends that line to $CARNET_CRASH_REPORT when it is set (make
# check and make check-slow add the lines up: tests/crash/report.sh).
#
# CARNET_CRASH=quick (the default, in make check) or full (make
# check-slow): crash_scale QUICK FULL prints the number to use.

CARNET_CRASH=${CARNET_CRASH:-quick}
_crash_points=0
_crash_fails=0
_crash_mark=0

# crash_scale QUICK FULL: QUICK or FULL by $CARNET_CRASH
crash_scale() {
	if [ "$CARNET_CRASH" = full ]; then echo "$2"; else echo "$1"; fi
}

# crash_at NAME:N CMD...: runs CMD killed at the Nth crash point NAME
# (stdout to $T/crash.out, stderr to $T/crash.err); sets $status: 137
# when it was killed, else its exit status (it ended before the point)
crash_at() {
	local pt=$1
	shift
	CARNET_TEST_CRASHPOINT=$pt "$@" >"$T/crash.out" 2>"$T/crash.err"
	status=$?
}

# crash_after SECONDS CMD...: runs CMD in the background and sends it
# SIGKILL after SECONDS; sets $status as crash_at does.  CMD must be the
# tool itself, not a shell function (as, sync_as...): the kill would
# reach the function's subshell and the tool would go on running
crash_after() {
	local d=$1 pid
	shift
	"$@" >"$T/crash.out" 2>"$T/crash.err" &
	pid=$!
	sleep "$d"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	status=$?
}

# crash_point_begin: the checks of one kill point start here
crash_point_begin() { _crash_mark=$_failed; }

# crash_point_end: the kill point is counted; failed when any assertion
# since crash_point_begin failed
crash_point_end() {
	_crash_points=$((_crash_points + 1))
	[ "$_failed" = "$_crash_mark" ] || _crash_fails=$((_crash_fails + 1))
}

# crash_report SCENARIO: the scenario's figures (a TAP comment)
crash_report() {
	local line="# crash-report: $1 kill_points=$_crash_points failures=$_crash_fails"
	echo "$line"
	[ -z "${CARNET_CRASH_REPORT:-}" ] || echo "$line" >>"$CARNET_CRASH_REPORT"
}
