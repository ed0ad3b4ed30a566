#!/usr/bin/env bash
# carnet-sync conflicts: one contact edited on A and on B between two
# syncs, under each policy: newest (the later edit wins, whichever side
# syncs first; on pull and on push), remote, local, ask (kept open, listed
# with both versions, resolved with --take local|remote); an edit against
# a deletion; every resolution listed by conflicts --resolved.  The clock
# is fixed with CARNET_NOW so that "newest" is known.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets

# edit NAME TIME FIRST: store NAME sets ann's first name at TIME
edit() {
	printf 'email,first_name\nann@example.com,%s\n' "$3" >"$T/e.csv"
	CARNET_NOW=$2 as "$1" carnet-contacts import --list clients --mode update "$T/e.csv" >/dev/null 2>&1
}
first() { sqlof "$1" "SELECT first_name FROM contact WHERE email = 'ann@example.com'"; }

for target in $COUCH_TARGETS; do
couch_use "$target"
store_config A
store_config B

printf 'email,first_name\nann@example.com,Ann\nbob@example.com,Bob\n' >clients.csv
CARNET_NOW=1800000000 as A carnet-contacts import --list clients clients.csv >/dev/null 2>&1
CARNET_NOW=1800000000 sync_as A
CARNET_NOW=1800000000 sync_as B
is "$(first B)" Ann "$target: B has ann"

# --- newest, on pull: B's edit is later, B pulls A's older one -----------------
edit A 1800000100 FromA
edit B 1800000200 FromB
CARNET_NOW=1800000300 sync_as A
CARNET_NOW=1800000300 sync_as B --format csv
is "$status" 0 "$target: newest: B syncs, exit 0"
like "$out" "pull,contact,[0-9a-f-]+,resolved,ann@example.com" "$target: B lists the resolved conflict"
like "$err" "1 conflicts resolved, 0 open" "$target: and counts it"
is "$(first B)" FromB "$target: B's later edit stays"
CARNET_NOW=1800000300 sync_as A
is "$(first A)" FromB "$target: and reaches A"
sync_as B conflicts --resolved --format ndjson
is "$(printf '%s\n' "$out" | jq -r '[.kind, .resolution, .local.first_name, .remote.first_name] | join(",")')" \
	"contact,local,FromB,FromA" "$target: --resolved: B kept its version (local), with both versions"

# --- newest, on push (409): B pushes without pulling, A's edit is later ---------
edit B 1800000400 OldB
edit A 1800000500 NewA
CARNET_NOW=1800000600 sync_as A
CARNET_NOW=1800000600 sync_as B --push-only
is "$status" 0 "$target: newest on push: exit 0"
like "$err" "1 conflicts resolved" "$target: the server's conflict is resolved"
is "$(first B)" NewA "$target: A's later edit wins on B"
CARNET_NOW=1800000600 sync_as A
is "$(first A)" NewA "$target: and stays on A"

# --- remote: the server wins even though B's edit is later ----------------------
edit A 1800000700 ServerWins
edit B 1800000800 LocalLoses
CARNET_NOW=1800000900 sync_as A
CARNET_NOW=1800000900 sync_as B --policy remote
is "$(first B)" ServerWins "$target: --policy remote: B takes the server's version"
sync_as B status --pending --format csv
is "$(printf '%s\n' "$out" | tail -n +2)" "" "$target: nothing left pending on B"

# --- local: B's version wins even though A's edit is later -----------------------
edit B 1800001000 MineB
edit A 1800001100 TheirsA
CARNET_NOW=1800001200 sync_as A
CARNET_NOW=1800001200 sync_as B --policy local
is "$(first B)" MineB "$target: --policy local: B keeps its version"
CARNET_NOW=1800001200 sync_as A
is "$(first A)" MineB "$target: and A gets it"

# --- the same edit on both sides: no conflict ---------------------------------------
edit A 1800001210 Same
edit B 1800001220 Same
CARNET_NOW=1800001230 sync_as A
CARNET_NOW=1800001230 sync_as B
like "$err" "0 conflicts resolved, 0 open" "$target: the same edit on both sides is no conflict"
is "$(first A),$(first B)" "Same,Same" "$target: and both have it"

# --- ask: kept open, listed, resolved by hand --------------------------------------
store_config B 'conflict_policy: ask'
edit A 1800001300 AskA
edit B 1800001400 AskB
CARNET_NOW=1800001500 sync_as A
CARNET_NOW=1800001500 sync_as B
is "$status" 0 "$target: ask: exit 0"
like "$err" "0 conflicts resolved, 1 open" "$target: one conflict left open"
like "$err" "open conflicts wait for you: carnet-sync conflicts" "$target: and a hint"
is "$(first B)" AskB "$target: B keeps its version meanwhile"
sync_as B status --pending --format csv
like "$out" "contact,[0-9a-f-]+,ann@example.com,conflict," "$target: status says conflict"
sync_as B conflicts --format ndjson
id=$(printf '%s\n' "$out" | jq -r .id)
is "$(printf '%s\n' "$out" | jq -r '[.kind, (.resolution|tostring), .local.first_name, .remote.first_name] | join(",")')" \
	"contact,null,AskB,AskA" "$target: conflicts lists both versions"
CARNET_NOW=1800001500 sync_as B
is "$(first A),$(first B)" "AskA,AskB" "$target: an open conflict is not pushed"
sync_as B conflicts --take remote 999
is "$status" 66 "$target: --take on an unknown id: exit 66"
sync_as B conflicts --take sideways "$id"
is "$status" 64 "$target: --take sideways: usage error"
sync_as B conflicts --take remote "$id"
is "$status" 0 "$target: --take remote exits 0"
is "$(first B)" AskA "$target: B now has the server's version"
sync_as B conflicts --format csv
is "$(printf '%s\n' "$out" | tail -n +2)" "" "$target: no open conflict left"
sync_as B conflicts --resolved --format ndjson
is "$(printf '%s\n' "$out" | jq -r --argjson id "$id" 'select(.id == $id) | .resolution')" remote \
	"$target: --resolved shows how it ended"

edit A 1800001600 TakeA
edit B 1800001700 TakeB
CARNET_NOW=1800001800 sync_as A
CARNET_NOW=1800001800 sync_as B
id=$(as B carnet-sync conflicts --format ndjson | jq -r .id)
sync_as B conflicts --take local "$id"
like "$err" "the local version is kept; the next sync pushes it" "$target: --take local"
CARNET_NOW=1800001900 sync_as B
CARNET_NOW=1800001900 sync_as A
is "$(first A),$(first B)" "TakeB,TakeB" "$target: --take local then sync: A has B's version"

# --- an edit against a deletion: newest wins, nothing silently lost ---------------
store_config B
printf 'email,first_name\nann@example.com,Ann\n' >only-ann.csv
CARNET_NOW=1800002000 as A carnet-contacts import --list clients --mode replace only-ann.csv >/dev/null 2>&1
is "$(sqlof A "SELECT count(*) FROM contact WHERE email = 'bob@example.com'")" 0 "$target: A deleted bob"
printf 'email,first_name\nbob@example.com,Robert\n' >bob.csv
CARNET_NOW=1800002100 as B carnet-contacts import --list clients --mode update bob.csv >/dev/null 2>&1
CARNET_NOW=1800002200 sync_as A
CARNET_NOW=1800002200 sync_as B
like "$err" "1 conflicts resolved" "$target: edit (later) against deletion: a conflict"
is "$(sqlof B "SELECT first_name FROM contact WHERE email = 'bob@example.com'")" Robert \
	"$target: B keeps the later edit"
CARNET_NOW=1800002300 sync_as A
is "$(sqlof A "SELECT first_name FROM contact WHERE email = 'bob@example.com'")" Robert \
	"$target: and bob comes back on A"
sync_as B conflicts --resolved --format ndjson
is "$(printf '%s\n' "$out" | jq -r 'select(.remote == null) | .resolution')" local \
	"$target: logged with the remote side deleted"
done

done_testing
