#!/usr/bin/env bash
# tests/pouchdb-server.sh DIR - starts PouchDB Server in memory on a free
# port of 127.0.0.1, in DIR (its config.json and log go there), and
# prints "URL PID" once it answers; the server goes on running in the
# background until its caller stops it by that pid.  Used by the sync
# tests (tests/couch.sh), the sync benchmark and examples/sync-demo.sh.
#
# The server is .deps/node's pouchdb-server (make deps), else one on
# PATH.  Exit status: 0 started, 69 node or pouchdb-server missing, 70
# it did not start (DIR/stdout says why).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: pouchdb-server.sh DIR}
server=$root/.deps/node/node_modules/.bin/pouchdb-server
[ -x "$server" ] || server=$(command -v pouchdb-server || true)
command -v node >/dev/null && command -v curl >/dev/null && [ -n "$server" ] ||
	exit 69
mkdir -p "$dir"
for try in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	# a port that answers is taken
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
	(cd "$dir" && exec "$server" --in-memory --host 127.0.0.1 \
		--port "$port" --no-stdout-logs >stdout 2>&1 </dev/null) &
	pid=$!
	for i in $(seq 1 200); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
			echo "http://127.0.0.1:$port $pid"
			exit 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
done
exit 70
