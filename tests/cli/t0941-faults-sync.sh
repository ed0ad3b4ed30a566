#!/usr/bin/env bash
# Faults from the outside, sync side: carnet-sync through tests/faultproxy.pl
# in front of a real PouchDB Server (tests/couch.sh), two stores A and B as
# two machines.  For each fault: 5xx on _changes and _bulk_docs, a 409
# storm on _bulk_docs, 202 instead of 201, the connection cut half way
# through a _bulk_docs answer and closed without one (the batch applied on
# the server, the answer lost), a timeout, a server restarted empty: the
# documented exit status (75 try again later, 77 credentials), one request
# and no retry loop (carnet-sync leaves retrying to the next run), nothing
# lost, nothing twice on the server, no spurious conflict, and a later
# clean sync converges (A and B export the same lists, contacts,
# blacklist and templates).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
command -v jq >/dev/null || skip_all "jq is needed"
couch_targets
case " $COUCH_TARGETS " in *" pouch "*) ;; *) skip_all "PouchDB Server is needed (make deps)" ;; esac
couch_use pouch
DIRECT=$COUCH_URL	# the server itself; the stores talk to the proxy

# --- the proxy ---------------------------------------------------------------------
fp_pid=
: >ctl
: >fp.log
perl "$TOP/tests/faultproxy.pl" fp.port "$DIRECT" ctl fp.log 2>fp.stderr &
fp_pid=$!
trap 'kill "$fp_pid" 2>/dev/null; _couch_cleanup' EXIT
for _ in $(seq 1 100); do [ -s fp.port ] && break; sleep 0.05; done
COUCH_URL=http://127.0.0.1:$(cat fp.port)
store_config A
store_config B

# faults RULE...: the proxy's rules from now on, to the server $DIRECT
faults() { printf '%s\n' "upstream $DIRECT" "$@" >ctl; }
# reqs REGEX: requests since the last mark whose "METHOD path" matches
mark() { mark_at=$(wc -l <fp.log); }
reqs() { tail -n +$((mark_at + 1)) fp.log | jq -r '.method + " " + .path' | grep -Ec -- "$1"; }
# direct_count KIND: the live documents of KIND on the server itself
direct_count() {
	curl -fsS -G "$DIRECT/$COUCH_DB/_all_docs" --data-urlencode "startkey=\"$1:\"" \
		--data-urlencode "endkey=\"$1:\\ufff0\"" | jq '.rows | length'
}
# export_of NAME: the store's lists, contacts, blacklist and templates
export_of() {
	local l
	as "$1" carnet-contacts ls --format ndjson | jq -c '{folder, list, members, backup}' | sort
	for l in $(as "$1" carnet-contacts ls --format ndjson | jq -r .list | sort); do
		echo "== $l"
		as "$1" carnet-contacts export --list "$l" --format csv | sort
	done
	as "$1" carnet-blacklist ls --format csv | sort
	as "$1" carnet-template export
}
# converge: a clean sync of A then B then A; A and B must be the same
converge() {
	faults
	sync_as A
	local a=$status e=$err
	sync_as B
	local b=$status
	e="$e $err"
	sync_as A
	is "$a,$b,$status" "0,0,0" "$1: clean syncs afterwards exit 0"
	[ "$a,$b,$status" = 0,0,0 ] || echo "$e $err" | sed 's/^/# /' 
	export_of A >A.export 2>&1
	export_of B >B.export 2>&1
	is "$(diff A.export B.export && echo same)" same "$1: A and B export the same data"
	is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state <> 'synced'")/$(sqlof B "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" \
		0/0 "$1: nothing pending or in conflict on either"
}
survived=0 scenarios=0 sc_failed=0
scenario_begin() { scenarios=$((scenarios + 1)); sc_failed=$_failed; mark; }
scenario_end() {
	local r=FAILED
	[ "$_failed" = "$sc_failed" ] && r=survived && survived=$((survived + 1))
	echo "# scenario $scenarios ($1): $r"
}
# contacts N FROM: a CSV of N contacts c<FROM>... (emails), with a phone
contacts() {
	awk -v n="$1" -v f="$2" 'BEGIN { print "email,phone,first_name";
		for (i = f; i < f + n; i++) printf "c%d@example.com,+3361%07d,C%d\n", i, i, i }'
}

# the first data: 200 contacts on A, a blacklist entry, a template; B synced
contacts 200 1 >c1.csv
as A carnet-contacts import --list clients c1.csv >/dev/null 2>&1
as A carnet-blacklist add +33699999999 --reason STOP >/dev/null 2>&1
echo 'Bonjour {{first_name}}' | as A carnet-template add --title Relance >/dev/null 2>&1

# --- 5xx on _changes: 75, nothing changed -----------------------------------------------
scenario_begin
faults 'GET _changes 500 body={"error":"internal","reason":"boom"}'
export_of A >before.export 2>&1
sync_as A
is "$status" 75 "500 on _changes: exit 75"
like "$err" "HTTP 500.*try again later" "the message says try again later"
export_of A >after.export 2>&1
is "$(diff before.export after.export && echo same)/$(sqlof A "SELECT count(*) FROM sync_checkpoint")" same/0 \
	"the data as it was, no checkpoint"
is "$(reqs _changes)" 1 "one request: no retry loop (the next run retries)"
faults 'GET _changes 503 retry-after=1'
sync_as A
is "$status" 75 "503 on _changes: exit 75"
scenario_end "5xx on _changes"

# --- 5xx on _bulk_docs: 75; the next run pushes it all ------------------------------------
scenario_begin
faults 'POST _bulk_docs 503'
sync_as A --batch 50
is "$status" 75 "503 on _bulk_docs: exit 75"
is "$(reqs _bulk_docs)" 1 "one _bulk_docs, not retried in the run"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state = 'synced'")" 0 "nothing marked synced"
faults 'POST _bulk_docs 500 skip=2 count=1'
sync_as A --batch 50
is "$status" 75 "the third batch answered 500: exit 75"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state = 'synced'")" 100 \
	"the two batches the server took are marked synced, no more"
converge "after 5xx"
is "$(direct_count contact)" 200 "the server has the 200 contacts, once each"
scenario_end "5xx on _bulk_docs"

# --- 202 instead of 201: accepted -------------------------------------------------------
scenario_begin
contacts 20 1001 >c2.csv
as A carnet-contacts import --list leads c2.csv >/dev/null 2>&1
faults 'POST _bulk_docs 202 forward'
sync_as A
is "$status" 0 "202 on _bulk_docs: exit 0"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" 0 "every item synced"
converge "after 202"
scenario_end "202 on _bulk_docs"

# --- a 409 storm: every document refused as a conflict ------------------------------------
scenario_begin
contacts 30 2001 >c3.csv
as A carnet-contacts import --list leads c3.csv >/dev/null 2>&1
printf 'email,first_name\nc1@example.com,Un\nc2@example.com,Deux\n' >e3.csv
as A carnet-contacts import --list clients --mode update e3.csv >/dev/null 2>&1
faults 'POST _bulk_docs conflicts'
sync_as A
st=$status
ok "$([ "$(reqs _bulk_docs)" -le 3 ]; echo $?)" \
	"a bounded number of _bulk_docs requests: $(reqs _bulk_docs) (3 rounds at most, no endless loop)"
is "$st" 75 "every document refused as a conflict: exit 75 (try again later)"
like "$err" "conflict" "the message says the server refused them as conflicts"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state = 'pending'")" 32 \
	"the 30 new contacts and the 2 edits stay pending, nothing lost"
converge "after a 409 storm"
is "$(direct_count contact)" 250 "the server has the 250 contacts, once each"
scenario_end "409 storm"

# --- the answer cut half way: the batch applied, the answer lost ---------------------------
scenario_begin
contacts 40 3001 >c4.csv
as A carnet-contacts import --list clients c4.csv >/dev/null 2>&1
faults 'POST _bulk_docs drop-mid count=1'
sync_as A --batch 1000
is "$status" 75 "_bulk_docs answer cut half way: exit 75"
is "$(direct_count contact)" 290 "(the server applied the batch)"
mark
sync_as A -v
is "$status" 0 "the next run: exit 0"
like "$err" " 0 open" "no conflict left open (the server's versions are the same)"
converge "after a cut answer"
is "$(direct_count contact)" 290 "nothing twice on the server (290 contacts)"
scenario_end "drop-mid on _bulk_docs"

# --- closed without an answer after the server applied it (a kept-alive connection) --------
scenario_begin
contacts 10 4001 >c5.csv
as A carnet-contacts import --list clients c5.csv >/dev/null 2>&1
faults 'POST _bulk_docs close forward count=1'
sync_as A
st=$status
# libcurl sends the request again on a new connection when a reused one
# closed without an answer: harmless here, the revisions make it a
# conflict with the same data
ok "$(case $st in 0 | 75) echo 0 ;; *) echo 1 ;; esac)" \
	"_bulk_docs applied, the connection closed: exit $st ($(reqs _bulk_docs) requests)"
like "$err" " 0 open|try again later" "no conflict left open"
converge "after a lost answer"
is "$(direct_count contact)" 300 "nothing twice on the server (300 contacts)"
scenario_end "close after forwarding _bulk_docs"

# --- _changes cut half way, and a timeout: 75, then resumed ------------------------------
scenario_begin
contacts 10 5001 >c6.csv
as A carnet-contacts import --list clients c6.csv >/dev/null 2>&1
sync_as A
faults 'GET _changes drop-mid count=1'
export_of B >before.export 2>&1
cp0=$(sqlof B "SELECT since FROM sync_checkpoint")
sync_as B
is "$status" 75 "_changes cut half way: exit 75"
export_of B >after.export 2>&1
is "$(diff before.export after.export && echo same)/$(sqlof B "SELECT since FROM sync_checkpoint")" "same/$cp0" \
	"B's data and checkpoint as they were"
faults 'GET _changes timeout'
printf 'sms:\n  http_timeout: 2\n' >>"$T/B.yaml"
start=$(date +%s)
sync_as B
is "$status" 75 "a server that does not answer: exit 75"
like "$err" "[Tt]ime(d)? ?out" "the message says it timed out"
ok "$([ $(($(date +%s) - start)) -le 6 ]; echo $?)" "after the timeout (sms.http_timeout 2)"
store_config B
converge "after a cut pull and a timeout"
scenario_end "drop-mid and timeout on _changes"

# --- credentials refused: 77, nothing changed --------------------------------------------------
scenario_begin
contacts 3 7001 >c8.csv
as A carnet-contacts import --list clients c8.csv >/dev/null 2>&1
export_of A >before.export 2>&1
faults 'GET _changes 401 body={"error":"unauthorized","reason":"Name or password is incorrect."}'
sync_as A
is "$status" 77 "401: exit 77"
like "$err" "refused the credentials \(HTTP 401: Name or password is incorrect" "saying so, with the server's reason"
faults 'POST _bulk_docs 403 body={"error":"forbidden","reason":"not an admin"}'
sync_as A
is "$status" 77 "403 on _bulk_docs: exit 77"
export_of A >after.export 2>&1
is "$(diff before.export after.export && echo same)/$(sqlof A "SELECT count(*) FROM sync_item WHERE state = 'pending'")" same/3 \
	"the data as it was, the 3 new contacts still pending"
# an account that may not write the database's epoch still syncs
faults 'GET _local/carnet-epoch 404' 'PUT _local/carnet-epoch 403 body={"error":"forbidden","reason":"read only"}'
store_config D
sync_as D --pull-only
is "$status,$(sqlof D "SELECT count(*) FROM contact")" "0,$(sqlof B "SELECT count(*) FROM contact")" \
	"the epoch refused (403): a pull-only sync still runs, exit 0"
converge "after refused credentials"
scenario_end "401/403 credentials"

# --- a seeded storm of every fault, both machines syncing through it -----------------------------
scenario_begin
contacts 60 8001 >c9.csv
as A carnet-contacts import --list storm c9.csv >/dev/null 2>&1
printf 'email,first_name\nc8001@example.com,Orage\nc1@example.com,Premier\n' >e9.csv
as A carnet-contacts import --list storm --mode update e9.csv >/dev/null 2>&1
contacts 20 9001 >c10.csv
as B carnet-contacts import --list other c10.csv >/dev/null 2>&1
as B carnet-blacklist add +33688888888 --reason STOP >/dev/null 2>&1
faults 'POST _bulk_docs drop-mid p=0.15' 'POST _bulk_docs close forward p=0.1' \
	'POST _bulk_docs conflicts p=0.1' '* . 503 p=0.08' 'GET _changes drop-mid p=0.08' \
	'* . slow=100 p=0.2'
codes=
rounds=6
[ "${CARNET_SLOW:-0}" = 1 ] && rounds=25	# make check-slow
for i in $(seq 1 $rounds); do
	# an edit on each side, now and then of the same contact
	printf 'email,first_name\nc%d@example.com,A%d\n' $((8000 + i)) "$i" >ea.csv
	printf 'email,first_name\nc%d@example.com,B%d\nc%d@example.com,B%d\n' \
		$((9000 + i)) "$i" $((8000 + i)) "$i" >eb.csv
	as A carnet-contacts import --list storm --mode update ea.csv >/dev/null 2>&1
	sync_as A --batch 20
	codes="$codes $status"
	as B carnet-contacts import --list other --mode update eb.csv >/dev/null 2>&1
	sync_as B --batch 20
	codes="$codes $status"
done
ok "$(printf '%s\n' $codes | grep -Evc '^(0|75)$' | grep -qx 0; echo $?)" \
	"every run in the storm exits 0 or 75 ($(echo $codes))"
echo "# sync storm: $(tail -n +$((mark_at + 1)) fp.log | jq -r 'select(.rule != "") | .rule | sub(" p=[0-9.]*"; "")' | sort | uniq -c | tr -s ' \n' ' ')"
converge "after the storm"
is "$(direct_count contact)" 393 "the server has the 393 contacts, once each"
is "$(sqlof A "SELECT count(*) FROM sync_conflict WHERE resolved_at IS NULL" 2>/dev/null || echo 0)" 0 "no conflict left open"
scenario_end "storm"

# --- a server restarted empty -----------------------------------------------------------------
scenario_begin
contacts 5 6001 >c7.csv
as A carnet-contacts import --list clients c7.csv >/dev/null 2>&1
sync_as A
sync_as B
export_of A >before.export 2>&1
couch_stop
r=$("$TOP/tests/pouchdb-server.sh" "$T/couch2") || { echo "Bail out! PouchDB Server did not start again"; exit 1; }
COUCH_PID=${r#* }
DIRECT=${r% *}
faults
# meanwhile, an edit on each machine
printf 'email,first_name\nc3@example.com,Trois\n' >e7.csv
as A carnet-contacts import --list clients --mode update e7.csv >/dev/null 2>&1
printf 'email,first_name\nnew@example.com,Nouveau\n' >n7.csv
as B carnet-contacts import --list clients n7.csv >/dev/null 2>&1
before=$(STORE=$T/A.db store_sum)
sync_as A --dry-run --format csv
is "$status" 0 "a dry run of A against the empty server: exit 0"
like "$err" "database was emptied or made anew since the last sync: this store's [0-9]+ items would be pushed to it again" \
	"the dry run says the server lost its data"
is "$(printf '%s\n' "$out" | grep -c '^push,contact,.*,add,')" 398 "and lists the 398 contacts it would push again"
is "$(STORE=$T/A.db store_sum)" "$before" "the dry run changed nothing in the store"
is "$(curl -s "$DIRECT/$COUCH_DB/_local/carnet-epoch" | jq -r '.epoch // .error')" not_found \
	"nor on the server (no epoch written)"
sync_as A
is "$status" 0 "A's first sync with the empty server: exit 0"
like "$err" "database was emptied or made anew since the last sync: this store's [0-9]+ items are pushed to it again" \
	"A says the server lost its data, and what it does"
is "$(direct_count contact)" 398 "A pushed its 398 contacts to the empty server again"
sync_as B
is "$status" 0 "B syncs: exit 0"
like "$err" "emptied or made anew" "B notices too"
is "$(direct_count contact)" 399 "B pushed its new contact, and nothing twice (399)"
export_of A >after.export 2>&1
is "$(diff before.export after.export | grep -c '^[<>]')" 2 "nothing lost on A (only its edit differs)"
converge "after a server restarted empty"
store_config C
sync_as C
is "$status" 0 "a third machine syncs from the new server"
export_of C >C.export 2>&1
is "$(diff A.export C.export && echo same)" same "and gets everything"
scenario_end "server restarted empty"

echo "# faults survived: $survived of $scenarios"
done_testing
