#!/usr/bin/env bash
# carnet-sync's mass-delete guard, both ways: a run that would push, or
# apply, more than sync.delete_max_percent of one kind's items as
# deletions, or more than sync.delete_max, is refused (exit 1) with a
# message that says what it held back; --force-delete goes past it; the
# store and the server are unchanged by a refused run.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets

for target in $COUCH_TARGETS; do
couch_use "$target"
store_config A
store_config B

{ echo email; for i in $(seq 1 10); do echo "big$i@example.com"; done; } >big.csv
printf 'email\nkeep1@example.com\nkeep2@example.com\n' >small.csv
as A carnet-contacts import --list big big.csv >/dev/null 2>&1
as A carnet-contacts import --list small small.csv >/dev/null 2>&1
sync_as A
sync_as B
is "$(sqlof B "SELECT count(*) FROM contact")" 12 "$target: B has the 12 contacts"

# --- push: 10 of 12 contacts deleted on A ---------------------------------------
as A carnet-contacts rm --list big >/dev/null 2>&1
sync_as A
is "$status" 1 "$target: the push guard trips: exit 1"
like "$err" "refused to push 10 deletions of contacts \(of 12; limits 50% or 1000\)" \
	"$target: and says what it refused"
like "$err" "run with --force-delete if they are meant" "$target: and how to go on"
is "$(server_kind_count contact)" 12 "$target: no contact deleted on the server"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE kind = 'contact' AND state = 'pending' AND deleted")" 10 \
	"$target: the 10 deletions stay pending on A"
sync_as B
is "$(sqlof B "SELECT count(*) FROM contact")" 12 "$target: B still has 12 contacts"

sync_as A --force-delete
is "$status" 0 "$target: --force-delete: exit 0"
like "$err" "push 10 \(10 deleted\)" "$target: the deletions go"

# --- pull: B would apply 10 deletions of its 12 contacts ---------------------------
before=$(STORE=$T/B.db store_sum)
sync_as B
is "$status" 1 "$target: the pull guard trips: exit 1"
like "$err" "refused to apply 10 deletions of contacts \(of 12; limits 50% or 1000\); nothing pulled or pushed" \
	"$target: and says what it refused"
is "$(STORE=$T/B.db store_sum)" "$before" "$target: B's store is unchanged"
sync_as B --force-delete
is "$status" 0 "$target: B with --force-delete: exit 0"
is "$(sqlof B "SELECT email FROM contact ORDER BY email" | tr '\n' ' ')" \
	"keep1@example.com keep2@example.com " "$target: B has the two contacts left"

# --- a count limit: sync.delete_max ------------------------------------------------
store_config A 'delete_max: 1' 'delete_max_percent: 100'
as A carnet-contacts rm --list small >/dev/null 2>&1
sync_as A
is "$status" 1 "$target: 2 deletions with delete_max 1: refused"
like "$err" "refused to push 2 deletions of contacts \(of 2; limits 100% or 1\)" \
	"$target: the message gives the limits"
done

done_testing
