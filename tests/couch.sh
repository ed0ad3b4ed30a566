# tests/couch.sh - a CouchDB-compatible server for the sync tests.
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$TOP/tests/couch.sh"
#   couch_targets              # the servers to run against: "pouch" (PouchDB
#                              # Server, started here) and "env" when
#                              # $COUCHDB_URL is set; skips the test with the
#                              # reason when there is none
#   for target in $COUCH_TARGETS; do couch_use "$target"; ...; done
#
# couch_use sets COUCH_URL and COUCH_DB (a fresh database for this test, on
# the server the target names) and writes one configuration per store with
# store_config NAME [KEY: VALUE lines...]; sync_as NAME ARGS... runs
# carnet-sync on store NAME ($T/NAME.db, $T/NAME.yaml).
#
# PouchDB Server (npm package pouchdb-server, in-memory) is started on a
# free port of 127.0.0.1 in $T/couch by tests/pouchdb-server.sh and
# stopped by its pid when the test exits.  make deps installs it into
# .deps/node; a pouchdb-server on PATH does too.  COUCH_PID is its pid (tests that stop the server midway use
# it: couch_freeze / couch_thaw send SIGSTOP / SIGCONT).

COUCH_PID=
COUCH_TARGETS=

# couch_start: starts PouchDB Server (tests/pouchdb-server.sh); sets
# POUCH_URL and COUCH_PID.  Returns 69 when node or pouchdb-server is
# missing, 70 when it did not start.
couch_start() {
	local r
	r=$("$TOP/tests/pouchdb-server.sh" "$T/couch") || return $?
	POUCH_URL=${r% *}
	COUCH_PID=${r#* }
}

# couch_stop: stops the server (not our child: no wait; it is gone, or a
# zombie, once kill -0 fails or /proc says Z)
couch_stop() {
	local i
	[ -n "$COUCH_PID" ] || return 0
	kill -CONT "$COUCH_PID" 2>/dev/null
	kill "$COUCH_PID" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$COUCH_PID" 2>/dev/null || break
		case $(cut -d' ' -f3 "/proc/$COUCH_PID/stat" 2>/dev/null) in Z | '') break ;; esac
		sleep 0.1
	done
	COUCH_PID=
}

couch_freeze() { kill -STOP "$COUCH_PID"; }
couch_thaw() { kill -CONT "$COUCH_PID"; }

_couch_cleanup() {
	couch_stop
	if [ -n "${COUCHDB_URL:-}" ] && [ -n "${_couch_env_dbs:-}" ]; then
		for db in $_couch_env_dbs; do
			curl -fsS -X DELETE "$COUCHDB_URL/$db" >/dev/null 2>&1
		done
	fi
	cd /
	rm -rf "$T"
}
trap _couch_cleanup EXIT

couch_targets() {
	local why= rc=0
	couch_start || rc=$?
	case $rc in
	0) COUCH_TARGETS=pouch ;;
	69) why="node or pouchdb-server is not installed (make deps)" ;;
	*) why="pouchdb-server did not start: $(tail -n 1 "$T/couch/stdout" 2>/dev/null)" ;;
	esac
	if [ -n "${COUCHDB_URL:-}" ]; then
		COUCH_TARGETS="$COUCH_TARGETS env"
	fi
	[ -n "$COUCH_TARGETS" ] || skip_all "$why"
}

_couch_n=0
couch_use() {
	_couch_n=$((_couch_n + 1))
	COUCH_TARGET=$1
	COUCH_DB=carnet-test-$$-$_couch_n
	if [ "$1" = env ]; then
		COUCH_URL=${COUCHDB_URL%/}
		_couch_env_dbs="${_couch_env_dbs:-} $COUCH_DB"
	else
		COUCH_URL=$POUCH_URL
	fi
	rm -f "$T"/*.db "$T"/*.db-wal "$T"/*.db-shm "$T"/*.yaml
	echo "# against $1: $COUCH_URL/$COUCH_DB"
}

# store_config NAME [LINE...]: $T/NAME.yaml for store NAME, device NAME,
# on the current server and database; extra lines go under sync:
store_config() {
	local name=$1 line
	shift
	{
		printf 'backup:\n  enabled: false\nsync:\n'
		printf '  url: %s\n  database: %s\n  device: %s\n' \
			"$COUCH_URL" "$COUCH_DB" "$name"
		for line in "$@"; do printf '  %s\n' "$line"; done
	} >"$T/$name.yaml"
	chmod 600 "$T/$name.yaml"
}

# as NAME TOOL ARGS...: runs a carnet tool on store NAME
as() {
	local name=$1 tool=$2
	shift 2
	[ -f "$T/$name.yaml" ] || store_config "$name"
	"$tool" --store "$T/$name.db" --config "$T/$name.yaml" "$@"
}

# sync_as NAME ARGS...: run (status, out, err) carnet-sync on store NAME
sync_as() {
	local name=$1
	shift
	run as "$name" carnet-sync "$@"
}

# sqlof NAME QUERY: a query on store NAME
sqlof() { sqlite3 -batch -csv -cmd ".timeout 10000" "$T/$1.db" "$2"; }

# server_count: the documents of the current database (not deleted)
server_count() {
	curl -fsS "$COUCH_URL/$COUCH_DB" | jq -r .doc_count
}

# server_kind_count KIND: the live documents of one kind on the server
server_kind_count() {
	curl -fsS -G "$COUCH_URL/$COUCH_DB/_all_docs" \
		--data-urlencode "startkey=\"$1:\"" \
		--data-urlencode "endkey=\"$1:\\ufff0\"" | jq '.rows | length'
}
