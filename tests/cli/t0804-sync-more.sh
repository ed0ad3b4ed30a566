#!/usr/bin/env bash
# carnet-sync, more: campaigns and their messages travel (a simulated
# send on A appears on B); --kinds restricts what syncs; the same list and
# contacts imported on two machines before their first sync become one;
# --watch syncs again and again until SIGTERM, which ends it with exit 0;
# usage errors.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets

# wait_until CMD...: retries CMD for 15 s at most
wait_until() {
	local i
	for i in $(seq 1 150); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

for target in $COUCH_TARGETS; do
couch_use "$target"
store_config A
store_config B

# --- campaigns and messages ---------------------------------------------------
printf 'email,phone,first_name\nann@example.com,0612345678,Ann\nbob@example.com,0698765432,Bob\n' >c.csv
as A carnet-contacts import --list clients c.csv >/dev/null 2>&1
echo 'Bonjour {{first_name}}' | as A carnet-template add --title hello >/dev/null 2>&1
as A carnet-sms-send --list clients --template hello --campaign oct --simulate >/dev/null 2>&1
is "$(sqlof A "SELECT count(*) FROM message")" 2 "$target: A sent 2 simulated messages"
sync_as A --format csv
like "$out" "push,campaign,[0-9a-f-]+,add,oct" "$target: the campaign is pushed"
is "$(printf '%s\n' "$out" | grep -c ',message,')" 2 "$target: with its 2 messages"
sync_as B
is "$(sqlof B "SELECT c.name, c.status, t.title, l.name FROM campaign c JOIN template t ON t.id = c.template_id JOIN list l ON l.id = c.list_id")" \
	"oct,sent,hello,clients" "$target: B has the campaign, its template and list"
is "$(sqlof B "SELECT m.phone, m.body, m.status, c.email FROM message m JOIN contact c ON c.id = m.contact_id ORDER BY m.phone")" \
	"$(sqlof A "SELECT m.phone, m.body, m.status, c.email FROM message m JOIN contact c ON c.id = m.contact_id ORDER BY m.phone")" \
	"$target: and its messages, tied to the same contacts"

# --- --kinds ---------------------------------------------------------------------
as A carnet-blacklist add +33633333333 >/dev/null 2>&1
printf 'email\ncid@example.com\n' >cid.csv
as A carnet-contacts import --list clients cid.csv >/dev/null 2>&1
sync_as A --kinds contacts,lists --format csv
is "$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1,2,4)" "push,contact,add" \
	"$target: --kinds contacts,lists pushes the contact only"
sync_as A status --pending --format csv
like "$out" "blacklist,[0-9a-f-]+,\+33633333333,pending" "$target: the entry stays pending"
sync_as A --kinds bogus
is "$status" 64 "$target: --kinds bogus: usage error"

# --- the same list made on two machines before their first sync ------------------
store_config C
store_config D
printf 'email,first_name\nsame1@example.com,One\nsame2@example.com,Two\n' >same.csv
as C carnet-contacts import --list shared same.csv >/dev/null 2>&1
printf 'email,first_name\nsame2@example.com,Two\nsame3@example.com,Three\n' >same-d.csv
as D carnet-contacts import --list shared same-d.csv >/dev/null 2>&1
sync_as C
sync_as D
is "$status" 0 "$target: D syncs after C, both made 'shared'"
is "$(sqlof D "SELECT count(*) FROM list WHERE name LIKE 'shared%'")" 1 "$target: D has one list 'shared'"
is "$(sqlof D "SELECT uuid FROM list WHERE name = 'shared'")" \
	"$(sqlof C "SELECT uuid FROM list WHERE name = 'shared'")" "$target: with C's id"
sync_as C
is "$(as C carnet-contacts export --list shared --format ndjson | jq -r .email | sort | tr '\n' ' ')" \
	"same1@example.com same2@example.com same3@example.com " "$target: C has the three contacts"
is "$(as D carnet-contacts export --list shared --format ndjson | jq -r .email | sort | tr '\n' ' ')" \
	"same1@example.com same2@example.com same3@example.com " "$target: so has D"
is "$(sqlof D "SELECT count(*) FROM contact WHERE email = 'same2@example.com'")" 1 \
	"$target: the contact both made is one contact"
sync_as D conflicts --format csv
is "$(printf '%s\n' "$out" | tail -n +2)" "" "$target: and no conflict"

# --- --watch until SIGTERM ------------------------------------------------------------
(exec carnet-sync --store "$T/B.db" --config "$T/B.yaml" --watch 1 -v >"$T/w.out" 2>"$T/w.err") &
wpid=$!
printf 'email,first_name\ndan@example.com,Dan\n' >dan.csv
as A carnet-contacts import --list clients dan.csv >/dev/null 2>&1
as A carnet-sync -q
has_dan() { [ "$(sqlof B "SELECT count(*) FROM contact WHERE email = 'dan@example.com'")" = 1 ]; }
wait_until has_dan
ok $? "$target: --watch 1: B gets A's new contact by itself"
kill -TERM $wpid
wait $wpid
is "$?" 0 "$target: SIGTERM ends --watch with exit 0"
ok $([ "$(grep -c '^carnet-sync: pull' "$T/w.err")" -ge 2 ] && echo 0 || echo 1) \
	"$target: it ran more than once"

# --- two runs on one store never overlap --------------------------------------------
if command -v flock >/dev/null; then
	# the holder keeps the lock until the file release appears (a fixed
	# hold ended before a tool under check-valgrind reached the lock)
	rm -f "$T/release"
	flock "$T/A.db.sync-lock" sh -c "while [ ! -e '$T/release' ]; do sleep 0.05; done" &
	lpid=$!
	sleep 0.5
	sync_as A
	is "$status" 75 "$target: a second run while one holds the store: exit 75"
	like "$err" "another carnet-sync is running on this store; try again later" \
		"$target: and says so"
	touch "$T/release"
	wait $lpid
	sync_as A
	is "$status" 0 "$target: once it is done, a run goes"
fi

# --- usage ----------------------------------------------------------------------------
sync_as A --push-only --pull-only
is "$status" 64 "$target: --push-only with --pull-only: usage error"
sync_as A status --force-delete
is "$status" 64 "$target: status takes no --force-delete"
sync_as A --watch 0
is "$status" 64 "$target: --watch 0: usage error"
sync_as A frobnicate
is "$status" 64 "$target: an unknown command: usage error"
like "$err" "unknown command 'frobnicate'" "$target: named"
store_config E
sed -i '/url:/d' "$T/E.yaml"
sync_as E
is "$status" 78 "$target: no sync.url: exit 78"
like "$err" "no server: set sync.url" "$target: and says what to set"
done

done_testing
