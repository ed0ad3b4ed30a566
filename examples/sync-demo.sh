#!/usr/bin/env bash
# sync-demo.sh - two machines and one server: the office's store and a
# laptop's store sync through a CouchDB-compatible server.  The office
# imports a list; the laptop gets it, blacklists a number and corrects a
# name; the office gets those; both edit the same contact and the conflict
# waits for a person (policy ask); status and devices at the end.
#
# The server: $COUCHDB_URL if set (a database carnet-demo-PID is made and
# removed on it), else a PouchDB Server started in memory on a free port
# of 127.0.0.1 (make deps installs it into .deps/node) and stopped at the
# end.  Without either, it says so and exits 0.  The stores live in
# demo/sync/ (office.db, laptop.db).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${CARNET_BIN:-$root/build/bin}
export PATH="$bin:$PATH"
dir=$root/demo/sync
rm -rf "$dir" && mkdir -p "$dir"
unset CARNET_STORE CARNET_CONFIG CARNET_SYNC_PASSWORD

if [ -t 1 ]; then b=$(printf '\033[1m'); n=$(printf '\033[0m'); else b= n=; fi
# on MACHINE CMD...: runs a carnet command on that machine's store
on() {
	local m=$1
	shift
	printf '\n%s[%s]$ %s%s\n' "$b" "$m" "$*" "$n"
	"$@" --store "$dir/$m.db" --config "$dir/$m.yaml"
	echo "[exit $?]"
}

pid=
db=carnet-demo-$$
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
	elif [ -n "${COUCHDB_URL:-}" ]; then
		curl -fsS -X DELETE "${COUCHDB_URL%/}/$db" >/dev/null 2>&1
	fi
}
trap cleanup EXIT

if [ -n "${COUCHDB_URL:-}" ]; then
	url=${COUCHDB_URL%/}
else
	if ! r=$("$root/tests/pouchdb-server.sh" "$dir/couch"); then
		echo "sync demo skipped: no server (set COUCHDB_URL, or run make deps for pouchdb-server)"
		exit 0
	fi
	url=${r% *}
	pid=${r#* }
fi

for m in office laptop; do
	printf 'folder: agence-lyon\nbackup:\n  enabled: false\nsync:\n  url: %s\n  database: %s\n  device: %s\n  conflict_policy: ask\n' \
		"$url" "$db" "$m" >"$dir/$m.yaml"
	chmod 600 "$dir/$m.yaml"
done

echo
echo "carnet sync demo: two stores (office, laptop), one server: $url/$db"
map='E-mail=email,Mobile=phone,Prénom=first_name,Nom=last_name'
on office carnet-contacts import --list clients --map "$map" "$here/clients.csv"
on office carnet-sync status --pending --format table
on office carnet-sync --dry-run --format table
on office carnet-sync
on laptop carnet-sync --format table
on laptop carnet-contacts export --list clients --format table

echo
echo "On the laptop: a STOP arrives by hand, and a name is corrected."
on laptop carnet-blacklist add +33612345678 --reason STOP
printf 'email,first_name\nalice.martin@example.fr,Alicia\n' >"$dir/fix.csv"
on laptop carnet-contacts import --list clients --mode update "$dir/fix.csv"
on laptop carnet-sync
on office carnet-sync --format table
on office carnet-blacklist ls --format table

echo
echo "Both machines change the same contact before syncing: a conflict, kept"
echo "for a person to decide (sync.conflict_policy: ask)."
printf 'email,first_name\nalice.martin@example.fr,Alice-Office\n' >"$dir/o.csv"
printf 'email,first_name\nalice.martin@example.fr,Alice-Laptop\n' >"$dir/l.csv"
on office carnet-contacts import --list clients --mode update "$dir/o.csv"
on laptop carnet-contacts import --list clients --mode update "$dir/l.csv"
on office carnet-sync
on laptop carnet-sync
# conflicts JQ: the laptop's conflicts, the two first names side by side
conflicts() {
	printf '\n%s[laptop]$ carnet-sync conflicts %s--format ndjson | jq -c %s%s\n' \
		"$b" "$1" "'$2'" "$n"
	carnet-sync --store "$dir/laptop.db" --config "$dir/laptop.yaml" \
		conflicts $1 --format ndjson | jq -c "$2"
}
conflicts "" '{id, kind, local: .local.first_name, remote: .remote.first_name}'
id=$(carnet-sync --store "$dir/laptop.db" --config "$dir/laptop.yaml" conflicts --format ndjson | jq -r .id | head -n 1)
on laptop carnet-sync conflicts --take remote "$id"
conflicts "--resolved " '{id, resolution, local: .local.first_name, remote: .remote.first_name}'
on laptop carnet-sync status --pending --format table
on office carnet-sync devices --format table

echo
echo "Both stores hold the same clients:"
for m in office laptop; do
	echo "$m: $(carnet-contacts --store "$dir/$m.db" --config "$dir/$m.yaml" export --list clients --format ndjson |
		jq -r '.first_name' | sort | paste -sd, -)"
done
