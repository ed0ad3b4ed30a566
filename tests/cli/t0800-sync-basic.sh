#!/usr/bin/env bash
# carnet-sync against a real server (PouchDB Server, and $COUCHDB_URL when
# set), three stores A, B and C as three machines: what A imports appears
# on B and C; an edit on A reaches B and C; a deletion on A disappears on
# B; blacklist entries and templates travel too; status before and after;
# --dry-run lists and changes nothing; --push-only and --pull-only; the
# devices; sync.enabled false.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets

for target in $COUCH_TARGETS; do
couch_use "$target"
for s in A B C; do store_config $s; done

printf 'email,phone,first_name,last_name,city\nann@example.com,0612345678,Ann,Lee,Lyon\nbob@example.com,,Bob,Roy,Nice\ncid@example.com,0698765432,Cid,Ho,Pau\n' >clients.csv
printf 'email,first_name\nzoe@example.com,Zoe\n' >leads.csv
as A carnet-contacts import --list clients clients.csv >/dev/null 2>&1
as A carnet-contacts import --list leads leads.csv >/dev/null 2>&1
as A carnet-blacklist add +33611111111 --reason STOP >/dev/null 2>&1
echo 'Bonjour {{first_name}}' | as A carnet-template add --title Relance >/dev/null 2>&1

# --- --dry-run: what would be pushed, nothing written -------------------------
before=$(STORE=$T/A.db store_sum)
sync_as A --dry-run --format csv
is "$status" 0 "$target: --dry-run exits 0"
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1,4 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"push,add=8 " "$target: --dry-run lists 8 documents to add"
like "$err" "would push 8 \(0 deleted\)" "$target: and says so on stderr"
is "$(STORE=$T/A.db store_sum)" "$before" "$target: --dry-run changes nothing in the store"
is "$(curl -s "$COUCH_URL/$COUCH_DB" | jq -r '.doc_count // .error')" "not_found" \
	"$target: nor on the server (no database made)"

# --- status before the first sync: everything pending -----------------------
sync_as A status --pending --format csv
is "$status" 0 "$target: status --pending exits 0"
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1,4 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"blacklist,pending=1 contact,pending=4 list,pending=2 template,pending=1 " \
	"$target: 4 contacts, 2 lists, 1 blacklist entry, 1 template pending"
like "$err" "0 synced, 8 pending \(0 deletions\), 0 in conflict; last sync: never" \
	"$target: the summary on stderr says never synced"

# --- A pushes, B and C pull ---------------------------------------------------
sync_as A
is "$status" 0 "$target: A syncs, exit 0"
is "$out" "" "$target: nothing on stdout without --format"
like "$err" "pull 0 \(0 deleted\), push 8 \(0 deleted\); 0 conflicts resolved, 0 open" \
	"$target: A pushed 8 documents"
is "$(server_count)" 9 "$target: the server holds 8 documents and A's device"
sync_as B --format csv
is "$status" 0 "$target: B syncs"
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1,4 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" \
	"pull,add=8 " "$target: B lists the 8 documents it added"
sync_as C -q
is "$status,$err" "0," "$target: C syncs quietly"
for s in B C; do
	is "$(as $s carnet-contacts export --list clients | cut -d, -f2-)" \
		"$(as A carnet-contacts export --list clients | cut -d, -f2-)" \
		"$target: $s has A's clients, same data"
	is "$(as $s carnet-contacts export --list clients | cut -d, -f1)" \
		"$(as A carnet-contacts export --list clients | cut -d, -f1)" \
		"$target: with the same ids"
	is "$(sqlof $s "SELECT address, reason FROM blacklist")" '+33611111111,STOP' \
		"$target: $s has the blacklist entry"
	is "$(sqlof $s "SELECT title, body FROM template")" 'Relance,"Bonjour {{first_name}}"' \
		"$target: $s has the template"
done
is "$(as B carnet-contacts export --list leads --format ndjson | jq -r .email)" zoe@example.com \
	"$target: the second list too"

sync_as A status --format csv
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f4 | sort -u)" synced \
	"$target: after the sync every item of A is synced"
like "$(printf '%s\n' "$out" | sed -n 2p)" '^blacklist,[0-9a-f-]{36},\+33611111111,synced,false,1-[0-9a-f]+,20[0-9-]+T[0-9:]+Z,20[0-9-]+T[0-9:]+Z$' \
	"$target: a row: kind, id, label, state, deleted, rev, changed_at, synced_at"

# --- an edit on A reaches B and C ----------------------------------------------
printf 'email,first_name,city\nann@example.com,Annie,Lyon\n' >edit.csv
as A carnet-contacts import --list clients --mode update edit.csv >/dev/null 2>&1
sync_as A status --pending --format csv
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1,3,4)" \
	"contact,ann@example.com,pending" \
	"$target: the edited contact is pending, nothing else"
sync_as A
like "$err" "push 1 \(0 deleted\)" "$target: A pushes the changed contact"
sync_as B
like "$err" "pull 1 \(0 deleted\), push 0" "$target: B pulls 1"
sync_as C
is "$(as C carnet-contacts export --list clients --format ndjson | jq -r 'select(.email=="ann@example.com") | .first_name')" \
	Annie "$target: C has the edit"
is "$(as B carnet-contacts export --list clients --format ndjson | jq -r 'select(.email=="ann@example.com") | .first_name')" \
	Annie "$target: B too"

# --- a no-op run ---------------------------------------------------------------
sync_as B
like "$err" "pull 0 \(0 deleted\), push 0 \(0 deleted\)" "$target: nothing new: pull 0, push 0"

# --- a deletion on A disappears on B -------------------------------------------
as A carnet-contacts rm --list leads >/dev/null 2>&1
sync_as A
like "$err" "push 2 \(2 deleted\)" "$target: A pushes the list and its contact as deletions"
sync_as B --format csv
like "$out" "pull,list,[0-9a-f-]+,delete," "$target: B deletes the list"
like "$err" "pull 2 \(2 deleted\)" "$target: B applied 2 deletions"
is "$(sqlof B "SELECT count(*) FROM list WHERE name = 'leads'")" 0 "$target: the list is gone on B"
is "$(sqlof B "SELECT count(*) FROM contact WHERE email = 'zoe@example.com'")" 0 \
	"$target: and its contact, in no other list"
is "$(sqlof B "SELECT count(*) FROM contact")" 3 "$target: the clients stay"

# --- a change on B goes back to A (two-way) ------------------------------------
as B carnet-blacklist add +33622222222 --reason manual >/dev/null 2>&1
sync_as B --push-only
like "$err" "^carnet-sync: push 1 \(0 deleted\)" "$target: --push-only pushes and says nothing of a pull"
sync_as A --push-only
is "$(sqlof A "SELECT count(*) FROM blacklist")" 1 "$target: --push-only takes nothing"
sync_as A --pull-only
like "$err" "^carnet-sync: pull 1 \(0 deleted\);" "$target: --pull-only takes B's entry"
is "$(sqlof A "SELECT address FROM blacklist ORDER BY address" | tr '\n' ' ')" \
	"+33611111111 +33622222222 " "$target: A has both entries"

# --- devices ----------------------------------------------------------------------
sync_as A devices --format csv
is "$status" 0 "$target: devices exits 0"
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f2,4 | sort | tr '\n' ' ')" \
	"A,true B,false C,false " "$target: three devices; A is this one"
like "$out" ",A,20[0-9-]+T[0-9:]+Z,true" "$target: with the last sync time"

# --- sync.enabled: false ------------------------------------------------------------
store_config D 'enabled: false'
sync_as D
is "$status" 0 "$target: sync off: exit 0"
is "$err" "carnet-sync: sync is off (sync.enabled: false); nothing done" "$target: and says so"
done

done_testing
