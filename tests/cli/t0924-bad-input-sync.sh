#!/usr/bin/env bash
# Bad input, part 5 (issue 9): documents on the sync server that no
# carnet wrote (tests/data/bad/sync/: invalid phone and email, a number
# for a phone, injected SQL, NUL, a 100 KB name, 3,000 levels of nesting,
# an unusable template, a null list name), put there with curl on a real
# PouchDB Server, then pulled by carnet-sync.  Each must be refused with a
# message naming the document, and leave the store's data (contacts,
# lists, members, templates, blacklist) as it was.  (These were TODO
# until lib/sync.c checked the documents it pulls; now they all count.)
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets
couch_use pouch
store_config A
store_config B
printf 'email,phone,first_name\nann@x.fr,0612345678,Ann\n' >c.csv
as A carnet-contacts import -q --list L c.csv >/dev/null
echo 'Bonjour {{first_name}}' | as A carnet-template add -q --title T1 >/dev/null
as A carnet-blacklist add -q +33611111111 >/dev/null
sync_as A
is "$status" 0 "A pushes its store"
sync_as B
is "$status" 0 "B pulls it"
is "$(sqlof B "SELECT email FROM contact")" "ann@x.fr" "B has A's contact"

# data_sum: B's data, without the sync's own bookkeeping (checkpoints)
data_sum() {
	local t
	for t in contact list member template template_user blacklist folder; do
		sqlof B "SELECT * FROM \"$t\" ORDER BY 1"
	done | sha256sum | cut -d' ' -f1
}
tried=0
for f in "$TOP"/tests/data/bad/sync/*.json; do
	name=$(basename "$f" .json)
	id=${name%%-*}:bad-${name#*-}
	tried=$((tried + 1))
	todo=	# every case holds since lib/sync.c checks pulled documents
	before=$(data_sum)
	curl -fsS -X PUT -H 'Content-Type: application/json' \
		--data-binary "@$f" "$COUCH_URL/$COUCH_DB/$id" >/dev/null
	sync_as B
	_result "$([ "$status" != 0 ] && echo 0 || echo 1)" "$name: the pull fails (exit $status)" "$todo"
	_result "$([ "$(data_sum)" = "$before" ] && echo 0 || echo 1)" "$name: B's data unchanged" "$todo"
	case $err in *"$id"* | *"$name"* | *_all_docs*) r=0 ;; *) r=1 ;; esac
	_result "$r" "$name: the message names the document or the request" "$todo"
	# the server without it again; B back to A's data
	rev=$(curl -fsSI "$COUCH_URL/$COUCH_DB/$id" | tr -d '\r' |
		sed -n 's/^[Ee][Tt][Aa][Gg]: *"\(.*\)"/\1/p')
	curl -fsS -X DELETE "$COUCH_URL/$COUCH_DB/$id?rev=$rev" >/dev/null
	sync_as B >/dev/null
done
is "$(sqlof B "SELECT email FROM contact WHERE deleted_at IS NULL" 2>/dev/null || sqlof B "SELECT email FROM contact")" \
	"ann@x.fr" "B holds A's contact at the end"
echo "# bad sync documents tried: $tried"
done_testing
