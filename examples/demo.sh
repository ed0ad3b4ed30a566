#!/usr/bin/env bash
# demo.sh - the main job of carnet on a store of its own (demo/carnet.db):
# import a French CSV export with a field map, look at it, export it as
# JSON, preview a replace import, apply it, find the automatic backup it
# took, restore the list from it, and delete a list.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${CARNET_BIN:-$root/build/bin}
export PATH="$bin:$PATH"
demo=$root/demo
rm -rf "$demo" && mkdir -p "$demo"
export CARNET_STORE=$demo/carnet.db CARNET_CONFIG=$demo/config.yaml
printf 'folder: agence-lyon\nuser: demo\nphone:\n  default_country: FR\n' >"$CARNET_CONFIG"
chmod 600 "$CARNET_CONFIG"

if [ -t 1 ]; then b=$(printf '\033[1m'); n=$(printf '\033[0m'); else b= n=; fi
step() { printf '\n%s$ %s%s\n' "$b" "$*" "$n"; "$@"; echo "[exit $?]"; }
map='E-mail=email,Mobile=phone,Prénom=first_name,Nom=last_name'

echo "carnet demo: store $CARNET_STORE, folder agence-lyon"
echo "The input, a ';'-separated export from a spreadsheet (one bad phone):"
cat "$here/clients.csv"
step carnet-contacts import --list clients --map "$map" --mode upsert \
	--rejects "$demo/rejects.csv" "$here/clients.csv"
echo "The rejected row, with its line and the reason:"
cat "$demo/rejects.csv"
step carnet-contacts ls --format table
step carnet contacts export --list clients --format table
echo
echo "\$ carnet-contacts export --list clients --format ndjson | jq -c '{email, phone, Ville}'"
carnet-contacts export --list clients --format ndjson | jq -c '{email, phone, Ville}'
step carnet-contacts import --list clients --map "$map" --mode replace \
	--dry-run --format json "$here/clients-update.csv"
step carnet-contacts import --list clients --map "$map" --mode replace \
	"$here/clients-update.csv"
step carnet-contacts export --list clients --format table
echo
echo "Oops: that replace removed Bruno and David. The import took a backup first:"
step carnet-backup ls --list clients --format table
step carnet-backup verify --format table
step carnet-restore 1 --mode replace --dry-run --diff --format table
step carnet-restore 1 --mode replace
step carnet-contacts export --list clients --format table
step carnet-contacts import --list old-leads --map "$map" --mode add \
	"$here/clients-update.csv"
step carnet-contacts rm --list old-leads
step carnet-contacts ls --format table
echo
echo "SMS: a template, a preview of what each client would get, then a campaign"
echo "sent in simulation (everything but the gateway; see carnet-sms-send(1) for"
echo "Kannel, Twilio and generic HTTP gateways):"
echo "\$ echo 'Bonjour {{first_name}}, votre rendez-vous de demain est confirmé.' | carnet-template add --title rappel"
echo 'Bonjour {{first_name}}, votre rendez-vous de demain est confirmé.' |
	carnet-template add --title rappel
step carnet-sms-send --list clients --template rappel --preview --format table
step carnet-sms-send --list clients --template rappel --campaign rappel-demo \
	--simulate --format table
step carnet-campaign ls --format table
step carnet-campaign messages rappel-demo --format table
echo
echo "The store is an ordinary SQLite file:"
echo "\$ sqlite3 $CARNET_STORE 'SELECT count(*) FROM contact'"
sqlite3 "$CARNET_STORE" 'SELECT count(*) FROM contact'

# --- sync (issue 8): two stores converging through a server ------------------
echo
echo "Sync: two machines' stores and one CouchDB-compatible server"
echo "(examples/sync-demo.sh; skipped, with the reason, when no server can be started):"
CARNET_BIN=$bin "$here/sync-demo.sh"

# --- the campaign's figures (carnet-stats) -------------------------------------
echo
echo "The figures of the campaign sent above (simulated: what it would have cost):"
step carnet-stats campaign rappel-demo
