#!/usr/bin/env bash
# bench/sync.sh - carnet-sync against PouchDB's own replicator and the raw
# _bulk_docs floor, on one PouchDB Server, in the same run (issue 8).
#
# One store of BENCH_SYNC_ROWS contacts (bench/gen.c, one list) is made
# once; then, for each round, on fresh databases of one in-memory PouchDB
# Server on 127.0.0.1:
#   push      carnet-sync --push-only of the whole store (first push)
#   floor     the same documents (read back from the server, without _rev)
#             posted with curl to _bulk_docs in batches of 1000, one curl
#             process reusing its connection (--next)
#   pouch-push  PouchDB's replicator (pouchdb + pouchdb-adapter-memory,
#             batch_size 1000) pushing the same documents from an
#             in-memory PouchDB (the load into it is not timed)
#   pull      carnet-sync --pull-only into an empty store (first pull)
#   pouch-pull  the replicator pulling the same database into an empty
#             in-memory PouchDB
#   incr      carnet-sync (two-way) after 1000 contacts changed
#   noop      carnet-sync (two-way) with nothing to do (median of 5)
# Targets: push <= 1.2 x floor and <= 0.5 x pouch-push; incr <= 0.25 s;
# noop <= 20 ms; peak RSS of every carnet-sync run <= 64 MiB.
#
# Environment: CARNET_BIN (build/bin), BENCH_SYNC_ROWS (100000),
# BENCH_SYNC_REPEAT (3), BENCH_KEEP (1 keeps the work directory).
# Exit status: 0 when everything ran (a report, targets met or not); 1
# when a command failed or a sanity check (document counts) disagrees; 77
# when node or pouchdb-server is missing (make deps).

set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/out
CARNET_BIN=${CARNET_BIN:-$root/build/bin}
ROWS=${BENCH_SYNC_ROWS:-100000}
REPEAT=${BENCH_SYNC_REPEAT:-3}
KEEP=${BENCH_KEEP:-0}
NODE_DIR=$root/.deps/node/node_modules

die() { echo "bench-sync: $*" >&2; exit 1; }
note() { echo "bench-sync: $*" >&2; }

[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "BENCH_SYNC_ROWS: invalid '$ROWS'"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "BENCH_SYNC_REPEAT: invalid '$REPEAT'"
command -v node >/dev/null && [[ -x $NODE_DIR/.bin/pouchdb-server ]] &&
	[[ -d $NODE_DIR/pouchdb-adapter-memory ]] || {
	note "node, pouchdb-server or pouchdb-adapter-memory missing (make deps): no sync figures"
	exit 77
}
for t in jq curl sqlite3; do command -v $t >/dev/null || die "$t not found (make deps)"; done
sync=$CARNET_BIN/carnet-sync
contacts=$CARNET_BIN/carnet-contacts
[[ -x $sync && -x $contacts ]] || die "carnet-sync not built ($sync)"

mkdir -p "$out"
if [[ ! -x $out/gen || $here/gen.c -nt $out/gen ]]; then
	cc -O2 -std=c11 -o "$out/gen" "$here/gen.c" || die "cannot compile bench/gen.c"
fi
work=$(mktemp -d "$out/sync.XXXXXX")
pid=
cleanup() {
	[[ -z $pid ]] || kill "$pid" 2>/dev/null || true
	if [[ $KEEP = 1 ]]; then note "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"
export XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/xdg
unset CARNET_STORE CARNET_CONFIG CARNET_SYNC_PASSWORD || true

# --- the server -----------------------------------------------------------
r=$("$root/tests/pouchdb-server.sh" "$work/couch") || die "pouchdb-server did not start"
URL=${r% *}
pid=${r#* }

config() { # config NAME DB
	printf 'backup:\n  enabled: false\nsync:\n  url: %s\n  database: %s\n  device: %s\n' \
		"$URL" "$2" "$1" >"$1.yaml"
	chmod 600 "$1.yaml"
}

# timed NAME CMD...: GNU time of CMD; appends "elapsed KiB user sys" to NAME.times
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M %U %S' -o "$name.time" "$@" 2>"$name.err" ||
		{ sed 's/^/  /' "$name.err" | tail -n 5 >&2; die "$name failed: $*"; }
	tail -n 1 "$name.time" >>"$name.times"
}
median() { # median FILE [COLUMN]: of the first (or given) column
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
			else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
peak() { awk '$2 > m { m = $2 } END { printf "%.1f\n", m / 1024 }' "$@"; }
count() { curl -fsS "$URL/$1" | jq -r .doc_count; }

# --- the store (not timed) ------------------------------------------------
"$out/gen" "$ROWS" 1 >contacts.csv
config A none
"$contacts" --store seed.db --config A.yaml import --list bench \
	--map 'E-mail=email,Mobile=phone,Prénom=first_name,Nom=last_name' \
	--key email --mode upsert <contacts.csv >/dev/null 2>&1
sqlite3 seed.db 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
# the 1000 changed contacts of the incremental sync
"$contacts" --store seed.db --config A.yaml export --list bench --format ndjson >all.ndjson
{ echo email,first_name
  head -n 1000 all.ndjson | jq -r '[.email, "Changed " + .email] | @csv'; } >changed.csv

# floor_run DB: the documents posted with curl in batches of 1000, one
# process reusing its connection
floor_run() {
	local f args=()
	for f in batches/*.json; do
		args+=(-sS -o /dev/null -H 'Content-Type: application/json' \
			-X POST --data-binary "@$f" "$URL/$1/_bulk_docs" --next)
	done
	curl -fsS -X PUT "$URL/$1" >/dev/null
	timed floor curl "${args[@]}" -sS -o /dev/null "$URL/"
}

# a warm-up, not timed: the server's first big load runs slower (JIT)
cp seed.db W.db
config W warmup
"$sync" --store W.db --config W.yaml --push-only -q
rm -f W.db*

for r in $(seq 1 "$REPEAT"); do
	rm -f A.db* B.db*
	cp seed.db A.db
	config A "carnet-$r"
	config B "carnet-$r"
	# the floor and carnet take turns at going first (the server's memory
	# and the machine's load drift during a round)
	if ((r % 2 == 0)) && [[ -d batches ]]; then
		floor_run "floor-$r"
		timed push "$sync" --store A.db --config A.yaml --push-only -q
	else
		timed push "$sync" --store A.db --config A.yaml --push-only -q
	fi
	[[ $(count "carnet-$r") = $((ROWS + 2)) ]] ||
		die "push: $(count "carnet-$r") documents on the server, $((ROWS + 2)) expected"

	if [[ ! -s docs.ndjson ]]; then
		curl -fsS "$URL/carnet-$r/_all_docs?include_docs=true" |
			jq -c '.rows[].doc | select(._id | startswith("device:") | not) | del(._rev)' >docs.ndjson
		mkdir -p batches
		split -l 1000 -a 4 docs.ndjson batches/b.
		for f in batches/b.*; do
			{ printf '{"docs":['; paste -sd, "$f"; printf ']}'; } >"$f.json"
			rm "$f"
		done
	fi
	((r % 2 == 0)) && [[ $(count "floor-$r") != 0 ]] || floor_run "floor-$r"
	[[ $(count "floor-$r") = $((ROWS + 1)) ]] || die "floor: $(count "floor-$r") documents"

	curl -fsS -X PUT "$URL/pouch-$r" >/dev/null
	NODE_PATH=$NODE_DIR node "$here/sync-pouch.js" push "$URL/pouch-$r" docs.ndjson \
		>>pouch-push.times
	[[ $(count "pouch-$r") = $((ROWS + 1)) ]] || die "pouch push: $(count "pouch-$r") documents"

	timed pull "$sync" --store B.db --config B.yaml --pull-only -q
	[[ $(sqlite3 B.db 'SELECT count(*) FROM contact') = "$ROWS" ]] ||
		die "pull: $(sqlite3 B.db 'SELECT count(*) FROM contact') contacts in B"
	NODE_PATH=$NODE_DIR node "$here/sync-pouch.js" pull "$URL/carnet-$r" >>pouch-pull.times

	# the steady state: A has seen its own push come back once
	"$sync" --store A.db --config A.yaml -q
	"$contacts" --store A.db --config A.yaml import --list bench --mode update \
		<changed.csv >/dev/null 2>&1
	timed incr "$sync" --store A.db --config A.yaml -q
	[[ $(sqlite3 A.db "SELECT count(*) FROM sync_item WHERE state <> 'synced'") = 0 ]] ||
		die "incremental: items left pending"
	for i in 1 2 3 4 5; do
		timed noop "$sync" --store A.db --config A.yaml -q
	done
	# the floor of the incremental sync: the same 1000 documents updated
	# once more with curl, with their current _rev (one _bulk_docs)
	sqlite3 A.db "SELECT json_group_array('contact:' || uuid) FROM sync_item
		WHERE kind = 'contact' AND changed_at >= (SELECT max(changed_at) FROM sync_item
		WHERE kind = 'contact') LIMIT 1000" | jq -c '{keys: .}' >keys.json
	curl -fsS -H 'Content-Type: application/json' -X POST --data-binary @keys.json \
		"$URL/carnet-$r/_all_docs?include_docs=true" |
		jq -c '{docs: [.rows[].doc | .first_name = "Floor " + .email]}' >update.json
	timed floor-upd curl -fsS -o /dev/null -H 'Content-Type: application/json' \
		-X POST --data-binary @update.json "$URL/carnet-$r/_bulk_docs"
	note "round $r: push $(tail -n1 push.times | cut -d' ' -f1) s, floor $(tail -n1 floor.times | cut -d' ' -f1) s, pouch push $(tail -n1 pouch-push.times | cut -d' ' -f1) s"
done

# --- the table ------------------------------------------------------------
p=$(median push.times); f=$(median floor.times); pp=$(median pouch-push.times)
pl=$(median pull.times); ppl=$(median pouch-pull.times)
inc=$(median incr.times); nop=$(median noop.times); fu=$(median floor-upd.times)
rss=$(peak push.times pull.times incr.times noop.times)
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "MISS" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'; }
echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server:  pouchdb-server $(jq -r .version "$NODE_DIR/pouchdb-server/package.json") (in-memory), pouchdb $(jq -r .version "$NODE_DIR/pouchdb/package.json"), node $(node --version)"
echo "carnet:  $("$sync" --version), $ROWS contacts, $REPEAT rounds, medians"
printf '%-28s %9s %9s  %s\n' measurement seconds ratio target
printf '%-28s %9s\n' "floor: curl _bulk_docs" "$f"
printf '%-28s %9s\n' "pouchdb replicator push" "$pp"
printf '%-28s %9s %9s  %s <= 1.2 x floor\n' "carnet-sync first push" "$p" "$(ratio "$p" "$f")" \
	"$(verdict "$(ratio "$p" "$f")" 1.2)"
printf '%-28s %9s %9s  %s <= 0.5 x replicator\n' "  vs replicator" "" "$(ratio "$p" "$pp")" \
	"$(verdict "$(ratio "$p" "$pp")" 0.5)"
printf '%-28s %9s\n' "pouchdb replicator pull" "$ppl"
printf '%-28s %9s %9s\n' "carnet-sync first pull" "$pl" "$(ratio "$pl" "$ppl")"
printf '%-28s %9s\n' "floor: 1000 updates, curl" "$fu"
printf '%-28s %9s %9s  %s <= 0.25 s\n' "carnet-sync 1000 changed" "$inc" "$(ratio "$inc" "$fu")" "$(verdict "$inc" 0.25)"
printf '%-28s %9s %9s  %s <= 0.020 s\n' "carnet-sync no-op" "$nop" "" "$(verdict "$nop" 0.020)"
printf '%-28s %9s %9s  %s <= 64 MiB\n' "carnet-sync peak RSS (MiB)" "$rss" "" "$(verdict "$rss" 64)"
