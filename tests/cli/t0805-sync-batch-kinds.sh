#!/usr/bin/env bash
# carnet-sync's push reads the pending items in batches ordered by kind and
# uuid; a batch that begins among the contacts and goes on into the lists
# and the templates pushes every one of them (a bug bound the last key
# read in place while the query ran: "list" written over "contact" kept
# the old length, so the second list of such a batch was skipped and
# never pushed, though the run said all was done; found by
# tests/crash/c220-sync.sh).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets
couch_use pouch
store_config A
store_config B

awk 'BEGIN { print "email,first_name"; for (i = 0; i < 150; i++) printf "c%03d@example.com,P%d\n", i, i }' >c.csv
as A carnet-contacts import --list clients c.csv >/dev/null 2>&1
printf 'email\nz@example.com\n' | as A carnet-contacts import --list leads >/dev/null 2>&1
for i in 1 2 3; do echo "Bonjour $i" | as A carnet-template add --title "M$i" >/dev/null 2>&1; done

for b in 100 151 152; do
	sync_as A --push-only --batch $b
	is "$status" 0 "--batch $b: the push ends"
	is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" 0 \
		"--batch $b: every item synced"
	is "$(server_kind_count list),$(server_kind_count contact),$(server_kind_count template)" "2,151,3" \
		"--batch $b: the server has both lists, every contact and every template"
	# again from nothing on the next round
	sqlite3 "$T/A.db" "UPDATE sync_item SET state = 'pending', changed_at = changed_at + 1"
done
sync_as B --pull-only
is "$(sqlof B "SELECT name FROM list ORDER BY 1" | tr '\n' ' ')" "clients leads " "B pulls both lists"

done_testing
