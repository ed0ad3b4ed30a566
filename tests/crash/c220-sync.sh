#!/usr/bin/env bash
# c220-sync: carnet-sync between two stores A and B through a real PouchDB
# Server (tests/couch.sh), a few thousand items (contacts in lists,
# blacklist entries, templates) in small batches, killed with SIGKILL at
# every sync point (lib/sync.c: sync.push.sent, a _bulk_docs answered
# before the local revisions are committed; sync.push.committed;
# sync.pull.applied, a pull batch applied before its checkpoint and
# commit; sync.pull.committed) at several counts, and by time:
#   1. A pushes everything, killed again and again;
#   2. B pulls everything, killed again and again;
#   3. both change things (a new list each, blacklist entries, a
#      template, edits), then A and B sync in turn, killed again and again.
# After each kill: integrity_check ok on the store; no duplicate on the
# server (one document per item: the live documents of each kind are at
# most the items of that kind); the pulling store's checkpoint never
# skips a change (every live document the server lists at or before the
# checkpoint's sequence is in the store).  At the end, a few runs without
# kills converge: A and B export the same lists, contacts, blacklist and
# templates, and the server holds each item once.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
. "$TOP/tests/couch.sh"
command -v jq >/dev/null || skip_all "jq is needed"
couch_targets
couch_use pouch
store_config A
store_config B

N=$(crash_scale 2000 5000)	# contacts in A's lists
BATCH=$(crash_scale 200 100)	# documents per request

# --- A's data ------------------------------------------------------------------------
awk -v n="$N" 'BEGIN { print "email,phone,first_name,last_name,city"
	for (i = 0; i < n; i++)
		printf "c%05d@example.com,+336%08d,Prenom%d,Nom%d,Ville%d\n", i, 20000000 + i, i, i, i % 97 }' >all.csv
{ head -1 all.csv; sed -n "2,$((N / 2 + 1))p" all.csv; } >clients.csv
{ head -1 all.csv; sed -n "$((N / 2 + 2)),\$p" all.csv; } >leads.csv
as A carnet-contacts import --list clients clients.csv >/dev/null 2>&1
as A carnet-contacts import --list leads leads.csv >/dev/null 2>&1
awk 'BEGIN { print "phone"; for (i = 0; i < 100; i++) printf "+336%08d\n", 90000000 + i }' |
	as A carnet-blacklist add - --reason manual >/dev/null 2>&1
for i in $(seq 1 20); do
	echo "Bonjour {{first_name}}, message $i" | as A carnet-template add --title "Modele $i" >/dev/null 2>&1
done
is "$(sqlite3 "$T/A.db" "SELECT (SELECT count(*) FROM contact) || ' ' || (SELECT count(*) FROM list) || ' ' ||
	(SELECT count(*) FROM blacklist) || ' ' || (SELECT count(*) FROM template)")" "$N 2 100 20" \
	"A holds $N contacts, 2 lists, 100 blacklist entries, 20 templates"
# B exists before its first sync (the checks read it)
as B carnet-contacts ls >/dev/null 2>&1

# --- checks ----------------------------------------------------------------------------
# server_live KIND: live documents of a kind on the server
server_live() {
	# a run killed before it made the database (under valgrind, a kill
	# at a delay can land in the tool's start): nothing there yet
	if [ "$(curl -s -o /dev/null -w '%{http_code}' "$COUCH_URL/$COUCH_DB")" = 404 ]; then
		echo 0
		return
	fi
	server_kind_count "$1"
}

integrity() {
	is "$(sqlof "$1" 'PRAGMA integrity_check')" ok "$2: integrity_check ok on $1"
}

# no_dups WHAT: one document per item on the server: the live documents of
# each kind are at most the items of that kind A and B know of together
no_dups() {
	local k want got bad=
	for k in list contact blacklist template; do
		got=$(server_live $k)
		want=$({ sqlof A "SELECT uuid FROM sync_item WHERE kind = '$k'"
			 sqlof B "SELECT uuid FROM sync_item WHERE kind = '$k'"; } | sort -u | wc -l)
		[ "$got" -le "$want" ] || bad="$bad $k:$got>$want"
	done
	is "$bad" "" "$1: no duplicates on the server"
}

# checkpoint_ok NAME WHAT: every live document of the server at or before
# NAME's checkpoint is in NAME's store
checkpoint_ok() {
	local since
	since=$(sqlof "$1" "SELECT since FROM sync_checkpoint" | tr -d '"')
	[ -n "$since" ] || since=0
	curl -fsS "$COUCH_URL/$COUCH_DB/_changes?since=0" 2>/dev/null |
		jq -r --argjson s "$since" '.results[] | select(.seq <= $s and (.deleted | not)) | .id' |
		grep -E '^(list|contact|blacklist|template):' | sort >seen.txt
	sqlof "$1" "SELECT kind || ':' || uuid FROM sync_item" | sort >have.txt
	is "$(comm -23 seen.txt have.txt | head -3 | tr '\n' ' ')" "" \
		"$2: $1's checkpoint ($since) skips no change ($(wc -l <seen.txt) documents before it)"
}

# kill_run NAME POINT ARGS...: one carnet-sync run of store NAME killed at
# POINT (NAME:COUNT or time:SECONDS); the checks after it
kill_run() {
	local name=$1 pt=$2 what
	shift 2
	what="$name $*, $pt"
	case $pt in
	# the tool itself, not through a shell function: crash_after kills
	# the process it started, which would be the function's subshell
	time:*) crash_after "${pt#time:}" carnet-sync --store "$T/$name.db" \
		--config "$T/$name.yaml" -v --batch "$BATCH" "$@" 2>/dev/null ;;
	*) crash_at "$pt" carnet-sync --store "$T/$name.db" \
		--config "$T/$name.yaml" -v --batch "$BATCH" "$@" 2>/dev/null ;;
	esac
	crash_point_begin
	integrity "$name" "$what"
	no_dups "$what"
	checkpoint_ok "$name" "$what"
	if [ "$status" = 137 ]; then
		crash_point_end
	else
		is "$status" 0 "$what: ended before the point (a completed run)"
		[ "$status" = 0 ] || sed 's/^/#   /' "$T/crash.err" | head -5
	fi
}

# --- 1. A pushes, killed -------------------------------------------------------------------
for pt in $(crash_scale "time:0.25 sync.push.sent:1 sync.push.committed:2 sync.push.sent:3" \
	"time:0.15 sync.push.sent:1 sync.push.committed:1 time:0.25 sync.push.sent:2 sync.push.committed:2 sync.push.sent:3 \
	 sync.push.committed:3 time:0.3 time:0.4 sync.push.sent:5 sync.push.committed:4 sync.push.sent:8"); do
	kill_run A "$pt" --push-only
done
sync_as A --push-only --batch "$BATCH"
is "$status" 0 "A's push completes"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" 0 "every item of A is synced"
for k in list contact blacklist template; do
	is "$(server_live $k)" "$(sqlof A "SELECT count(*) FROM sync_item WHERE kind = '$k' AND deleted = 0")" \
		"the server holds each $k of A once"
done

# --- 2. B pulls, killed --------------------------------------------------------------------
for pt in $(crash_scale "time:0.3 sync.pull.applied:1 sync.pull.committed:2 sync.pull.applied:3" \
	"time:0.2 sync.pull.applied:1 sync.pull.committed:1 time:0.3 sync.pull.applied:2 sync.pull.committed:2 \
	 time:0.4 sync.pull.applied:4 sync.pull.committed:5 sync.pull.applied:7 sync.pull.committed:9"); do
	kill_run B "$pt" --pull-only
done
sync_as B --pull-only --batch "$BATCH"
is "$status" 0 "B's pull completes"
for q in "SELECT count(*) FROM contact" "SELECT name FROM list ORDER BY 1" \
	"SELECT address, reason FROM blacklist ORDER BY 1" "SELECT title, body FROM template ORDER BY 1"; do
	is "$(sqlof B "$q" | md5sum)" "$(sqlof A "$q" | md5sum)" "B has what A pushed: $q"
done

# --- 3. both change things, then sync in turn, killed ----------------------------------------
awk -v n="$N" 'BEGIN { print "email,phone,first_name,city"
	for (i = 0; i < n / 5; i++) printf "a%05d@example.com,+336%08d,Nouveau%d,Paris\n", i, 30000000 + i, i }' >a-extra.csv
as A carnet-contacts import --list extra-a a-extra.csv >/dev/null 2>&1
awk -v n="$N" 'BEGIN { print "email,city"; for (i = 0; i < n / 10; i++) printf "c%05d@example.com,Edit%d\n", i, i }' >edit.csv
as A carnet-contacts import --list clients --mode update edit.csv >/dev/null 2>&1
awk 'BEGIN { print "phone"; for (i = 0; i < 30; i++) printf "+336%08d\n", 91000000 + i }' |
	as A carnet-blacklist add - --reason STOP >/dev/null 2>&1
awk -v n="$N" 'BEGIN { print "email,phone,first_name,city"
	for (i = 0; i < n / 5; i++) printf "b%05d@example.com,+336%08d,Autre%d,Lyon\n", i, 40000000 + i, i }' >b-extra.csv
as B carnet-contacts import --list extra-b b-extra.csv >/dev/null 2>&1
echo 'Rappel {{first_name}}' | as B carnet-template add --title "Modele B" >/dev/null 2>&1
# deletions of synced items: 10 blacklist entries on A, a template on B
as A carnet-blacklist rm -f $(awk 'BEGIN { for (i = 0; i < 10; i++) printf "+336%08d ", 90000000 + i }') >/dev/null 2>&1
as B carnet-template rm "Modele 2" >/dev/null 2>&1
ok $? "B removes a template"
is "$(sqlite3 "$T/A.db" "SELECT count(*) FROM blacklist") $(sqlite3 "$T/B.db" "SELECT count(*) FROM template WHERE title = 'Modele 2'")" "120 0" \
	"A removed 10 blacklist entries, B a template"

BATCH=$(crash_scale 50 25)
set -- $(crash_scale \
	"A:sync.push.sent:2 B:sync.push.committed:1 A:time:0.2 B:sync.pull.applied:2 A:sync.pull.committed:1 B:sync.push.sent:2" \
	"A:sync.push.sent:1 B:sync.push.sent:1 A:sync.push.committed:1 B:sync.push.committed:1 A:time:0.15 B:time:0.15 \
	 A:sync.push.sent:3 B:sync.pull.applied:1 A:sync.pull.applied:1 B:sync.pull.committed:1 A:sync.pull.committed:2 \
	 B:sync.push.sent:2 A:time:0.25 B:time:0.25 B:sync.pull.applied:3 A:sync.push.committed:3 B:sync.push.committed:2 \
	 A:sync.pull.applied:2 B:sync.pull.committed:2 A:time:0.4 B:time:0.4")
for spec; do
	kill_run "${spec%%:*}" "${spec#*:}"
done

# --- convergence ---------------------------------------------------------------------------
for s in A B A B; do
	sync_as $s --batch "$BATCH"
	is "$status" 0 "$s syncs to the end"
	[ "$status" = 0 ] || printf '%s\n' "$err" | head -5 | sed 's/^/#   /'
done
integrity A "the end"
integrity B "the end"
for s in A B; do
	is "$(sqlof $s "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" 0 "$s: every item synced"
done
for l in clients leads extra-a extra-b; do
	as A carnet-contacts export --list "$l" | cut -d, -f2- | sort >"A-$l.csv"
	as B carnet-contacts export --list "$l" | cut -d, -f2- | sort >"B-$l.csv"
	file_is "B-$l.csv" "A-$l.csv" "list $l: A and B export the same contacts ($(($(wc -l <"A-$l.csv") - 1)))"
done
for q in "SELECT name FROM list ORDER BY 1" "SELECT address, reason FROM blacklist ORDER BY 1" \
	"SELECT title, body FROM template ORDER BY 1"; do
	is "$(sqlof B "$q" | md5sum)" "$(sqlof A "$q" | md5sum)" "A and B agree: $q"
done
is "$(sqlof A "SELECT count(*) FROM contact")" "$((N + N / 5 + N / 5))" "A has every contact once"
is "$(sqlof B "SELECT count(*) FROM contact")" "$((N + N / 5 + N / 5))" "and so has B"
is "$(sqlof B "SELECT count(*) FROM blacklist") $(sqlof A "SELECT count(*) FROM template WHERE title = 'Modele 2'")" "120 0" \
	"the deletions reached the other side"
for k in list contact blacklist template; do
	is "$(server_live $k)" "$(sqlof A "SELECT count(*) FROM sync_item WHERE kind = '$k' AND deleted = 0")" \
		"the server holds each $k once"
done
checkpoint_ok A "the end"
checkpoint_ok B "the end"

crash_report c220-sync
done_testing
