# tests/lib.sh - shared helpers for the command-line tests (TAP for prove).
#
#   . "$(dirname "$0")/../lib.sh"
#   plan 3   (or done_testing at the end)
#   run carnet-contacts ls          # sets $status, $out (stdout), $err (stderr)
#   is "$status" 0 "ls exits 0"
#
# Each test runs in its own temporary directory ($T) with a store ($STORE)
# and an empty configuration; it is removed on exit.  $TOP is the top of
# the source tree.

set -u
: "${CARNET_BIN:?set CARNET_BIN to the directory of the built tools}"
export PATH="$CARNET_BIN:$PATH"
# the top of the source tree (for examples/, man/), then work in $T: a
# test that writes a relative file writes it there, never in the tree
TOP=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/carnet-test.XXXXXX")
trap 'cd /; rm -rf "$T"' EXIT
cd "$T" || exit 1
export HOME="$T/home" XDG_DATA_HOME="$T/data" XDG_CONFIG_HOME="$T/config"
mkdir -p "$HOME"
unset CARNET_CONFIG CARNET_FOLDER CARNET_USER CARNET_BACKUP_DIR
export CARNET_STORE="$T/carnet.db"
export USER=tester
STORE=$CARNET_STORE
_n=0
_failed=0

plan() { echo "1..$1"; }
done_testing() { echo "1..$_n"; [ "$_failed" = 0 ]; }

# _result STATUS NAME [TODO-REASON]: a TAP line; a failure marked TODO
# (a known bug, said in the output) is not counted
_result() {
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2${3:+ # TODO $3}"
	else
		echo "not ok $_n - $2${3:+ # TODO $3}"
		[ -n "${3:-}" ] || _failed=$((_failed + 1))
	fi
}

# run CMD ARGS...: runs a command, keeps its stdout, stderr and status
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	status=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

# run_in FILE CMD ARGS...: the same with FILE on stdin
run_in() {
	local f=$1
	shift
	"$@" <"$f" >"$T/.out" 2>"$T/.err"
	status=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

ok() { # ok CONDITION-STATUS NAME
	_result "$1" "$2"
}

is() { # is GOT WANT NAME
	if [ "$1" = "$2" ]; then
		_result 0 "$3"
	else
		_result 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2" | sed 's/^\([^#]\)/#   \1/'
	fi
}

like() { # like GOT REGEX NAME  (grep -E)
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_result 0 "$3"
	else
		_result 1 "$3"
		printf '#   got: %s\n#   not matching: %s\n' "$1" "$2"
	fi
}

unlike() { # unlike GOT REGEX NAME
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_result 1 "$3"
		printf '#   got: %s\n#   matching: %s\n' "$1" "$2"
	else
		_result 0 "$3"
	fi
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# sql QUERY: runs a query on the test store (sqlite3, csv, no header)
sql() { sqlite3 -batch -csv "$STORE" "$1"; }

# store_sum: a checksum of every table's contents, to prove "nothing changed"
store_sum() {
	local t
	for t in $(sqlite3 "$STORE" "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"); do
		echo "== $t"
		sqlite3 -batch -csv "$STORE" "SELECT * FROM \"$t\" ORDER BY 1"
	done | sha256sum | cut -d' ' -f1
}

# file_is GOT-FILE WANT-FILE NAME: the files are byte for byte the same
# (a diff goes to the TAP comments when they are not)
file_is() {
	if cmp -s "$1" "$2"; then
		_result 0 "$3"
	else
		_result 1 "$3"
		diff -u "$2" "$1" 2>&1 | head -40 | sed 's/^/#   /'
	fi
}

# A contact id as export writes it: a UUID, lower case
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# export_noid LIST [ARGS...]: the CSV export of LIST without its first
# column (the id, which differs from store to store)
export_noid() {
	local l=$1
	shift
	carnet-contacts export --list "$l" "$@" | cut -d, -f2-
}

# store_save FILE / store_restore FILE: a copy of the store (WAL folded
# in first), and back, to run several cases from the same state
store_save() {
	sqlite3 "$STORE" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null &&
		cp "$STORE" "$1"
}
store_restore() {
	rm -f "$STORE-wal" "$STORE-shm"
	cp "$1" "$STORE"
}

# sql_raw QUERY: like sql, with columns separated by '|' and nothing
# quoted (sqlite3 -csv quotes text that is not ASCII)
sql_raw() { sqlite3 -batch -list "$STORE" "$1"; }

# backups_off: writes the default configuration file with automatic
# backups switched off, for tests whose subject is not backups (the
# summary line is then the counts alone).  Tests that write that file
# themselves start from $BACKUPS_OFF.
BACKUPS_OFF='backup:
  enabled: false'
backups_off() {
	mkdir -p "$XDG_CONFIG_HOME/carnet"
	printf '%s\n' "$BACKUPS_OFF" >"$XDG_CONFIG_HOME/carnet/config.yaml"
}
