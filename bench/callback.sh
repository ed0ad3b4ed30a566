#!/usr/bin/env bash
# bench/callback.sh - carnet-sms-fetch --listen under 20,000 delivery
# receipt callbacks (Kannel's dlr-url format, type=1, each for its own
# message of a 20,000-message campaign) from 8 concurrent keep-alive
# connections, against the same load on a minimal libmicrohttpd server
# that answers 200 without storing (bench/callback-null.c), in the same
# run, with the same load generator (bench/callback-load.c, libcurl).
#
# Prints requests per second and p50/p99 answer times of both, the ratio
# carnet / reference (target >= 0.5) and carnet's p99 (target <= 20 ms),
# and checks that every callback was stored (20,000 receipts, 20,000
# messages delivered).
#
# Environment: CARNET_BIN (default build/bin), BENCH_CALLBACKS (20000),
# BENCH_CONNS (8), BENCH_REPEAT (3: the run with the median rate is
# kept).  Exit status: 0 when it ran (a report, targets met or not), 1 on
# a failure.
set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/out
CARNET_BIN=${CARNET_BIN:-$root/build/bin}
N=${BENCH_CALLBACKS:-20000}
C=${BENCH_CONNS:-8}
R=${BENCH_REPEAT:-3}
T_RATIO=0.5
T_P99=20

die() { echo "bench/callback: $*" >&2; exit 1; }
fetch=$CARNET_BIN/carnet-sms-fetch
[[ -x $fetch ]] || { echo "bench/callback: carnet-sms-fetch not built ($fetch)"; exit 0; }
[[ -f /usr/include/microhttpd.h ]] || die "libmicrohttpd-dev is not installed (make deps)"
command -v sqlite3 >/dev/null || die "sqlite3 not found"

mkdir -p "$out"
for p in callback-null callback-load; do
	if [[ ! -x $out/$p || $here/$p.c -nt $out/$p ]]; then
		lib=-lmicrohttpd
		[[ $p = callback-load ]] && lib=-lcurl
		cc -O2 -std=c11 -Wall -Wextra -o "$out/$p.tmp" "$here/$p.c" $lib ||
			die "cannot compile bench/$p.c"
		mv "$out/$p.tmp" "$out/$p"
	fi
done

work=$(mktemp -d "$out/callback.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data
unset CARNET_STORE CARNET_CONFIG CARNET_NOW || true
export CARNET_CALLBACK_TOKEN=bench-token

# a campaign of N messages, their refs in refs.txt
make_store() {
	rm -f store.db store.db-wal store.db-shm
	"$fetch" --store store.db --close-due >/dev/null
	sqlite3 store.db "
	INSERT INTO folder(name, created_at) VALUES('default', 0);
	INSERT INTO campaign(uuid, folder_id, name, status, created_at, sent_at, close_at)
	  VALUES('bench', 1, 'bench', 'sent', unixepoch(), unixepoch(), unixepoch() + 259200);
	WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < $N)
	INSERT INTO message(ref, campaign_id, folder_id, phone, body, encoding, segments,
	  status, created_at, sent_at)
	SELECT printf('0190bench-0000-7000-8000-%012d', n), 1, 1,
	  printf('+336%08d', n), 'Bench message', 'gsm7', 1, 'sent', unixepoch(), unixepoch()
	FROM i;"
	sqlite3 store.db "SELECT ref FROM message ORDER BY id" >refs.txt
}

# wait_port FILE: the port a server wrote
wait_port() {
	local i
	for i in $(seq 200); do [[ -s $1 ]] && { cat "$1"; return 0; }; sleep 0.05; done
	die "server did not start ($1)"
}

# load PORT: one run; prints the generator's line
load() {
	"$out/callback-load" \
		"http://127.0.0.1:$1/dlr?t=$CARNET_CALLBACK_TOKEN&type=1&p=%2B33600000000&P=ACME&ts=1795334400&A=&ref=" \
		"$N" "$C" refs.txt
}

results=$work/results
: >"$results"
for r in $(seq "$R"); do
	make_store
	rm -f null.port
	"$out/callback-null" null.port & pids+=($!)
	port=$(wait_port null.port)
	echo "null $(load "$port")" >>"$results" || die "the reference run failed"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

	rm -f fetch.port
	"$fetch" --store store.db --listen 127.0.0.1:0 --ready-file fetch.port \
		--rate 0 -q --format ndjson >events.ndjson & pids+=($!)
	port=$(wait_port fetch.port)
	line=$(load "$port") || die "carnet-sms-fetch run failed: $line"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
	stored=$(sqlite3 store.db "SELECT count(*) FROM receipt WHERE message_id IS NOT NULL")
	delivered=$(sqlite3 store.db "SELECT count(*) FROM message WHERE status = 'delivered'")
	[[ $stored = "$N" && $delivered = "$N" ]] ||
		die "stored $stored receipts and $delivered deliveries, want $N"
	echo "carnet $line" >>"$results"
done

awk -v tr="$T_RATIO" -v tp="$T_P99" -v n="$N" -v c="$C" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
{ k = $1; i = ++cnt[k]; rate[k, i] = $9; p50[k, i] = $11; p99[k, i] = $13 }
function med(k,   i, j, t, idx, m) {
	m = cnt[k]
	for (i = 1; i <= m; i++) idx[i] = i
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
		if (rate[k, idx[j]] < rate[k, idx[i]]) { t = idx[i]; idx[i] = idx[j]; idx[j] = t }
	return idx[int((m + 1) / 2)]
}
END {
	a = med("null"); b = med("carnet")
	printf "\ncallbacks: %d receipt callbacks, %d keep-alive connections (median of %d runs)\n", n, c, cnt["carnet"]
	printf "  %-34s %9s %8s %8s\n", "server", "req/s", "p50 ms", "p99 ms"
	printf "  %-34s %9.0f %8.2f %8.2f\n", "libmicrohttpd, 200, no store", rate["null", a], p50["null", a], p99["null", a]
	printf "  %-34s %9.0f %8.2f %8.2f\n", "carnet-sms-fetch --listen (stored)", rate["carnet", b], p50["carnet", b], p99["carnet", b]
	r = rate["carnet", b] / rate["null", a]
	printf "  ratio %.2f  %s >= %.1f;  p99 %.2f ms  %s <= %d ms\n", r, verdict(r >= tr), tr, p99["carnet", b], verdict(p99["carnet", b] <= tp), tp
}' "$results" | tee "$out/last-callback.txt"
