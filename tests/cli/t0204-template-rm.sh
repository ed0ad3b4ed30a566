#!/usr/bin/env bash
# carnet-template rm: by id, title and UUID; --dry-run; the users list goes
# with the template; the sync mark says deleted; unknown ids; --format.
. "$(dirname "$0")/../lib.sh"
export CARNET_NOW=1795334400
export TZ=UTC

tsql() { sqlite3 -batch -list "$STORE" "$1"; }
add() {
	printf '%s' "$1" >"$T/body"
	shift
	carnet-template add "$@" <"$T/body" >/dev/null
}

add 'Un' --title 'Relance mission' --context temp-worker
add 'Deux' --title Perso --scope users --users jk,sylvie
add 'Trois' --title Trois
uuid2=$(sql "SELECT uuid FROM template WHERE id = 2")

before=$(store_sum)
run carnet-template rm 1 --dry-run
is "$status" 0 "rm --dry-run exits 0"
is "$out" "would remove template 1 'Relance mission'" "it says what it would remove"
is "$(store_sum)" "$before" "and changes nothing"

export CARNET_NOW=1795338000
run carnet-template rm 'Relance mission'
is "$status" 0 "rm by title exits 0"
is "$out" "removed template 1 'Relance mission'" "it says what it removed"
is "$err" "" "and nothing on stderr"
is "$(sql "SELECT count(*) FROM template WHERE id = 1")" 0 "the template is gone"
is "$(tsql "SELECT deleted, state, changed_at FROM sync_item WHERE kind = 'template' AND uuid NOT IN (SELECT uuid FROM template)")" \
	"1|pending|1795338000" "its sync mark says deleted, pending"

run carnet-template rm "$uuid2" --format json
is "$status" 0 "rm by UUID exits 0"
is "$(printf '%s' "$out" | jq -c '[.id, .title, .dry_run, .uuid == "'"$uuid2"'"]')" '[2,"Perso",false,true]' \
	"rm --format json: one object"
is "$(sql "SELECT count(*) FROM template_user")" 0 "the users list went with the template"
is "$(sql "SELECT count(*) FROM sync_item WHERE deleted = 1")" 2 "two deletions are marked for sync"

before=$(store_sum)
run carnet-template rm 1
is "$status" 66 "rm of a removed id exits 66"
is "$err" "carnet-template: no template '1'" "and says so"
run carnet-template rm Nope
is "$status" 66 "rm of an unknown title exits 66"
run carnet-template rm
is "$status" 64 "rm without an id exits 64"
run carnet-template rm 3 4
is "$status" 64 "rm with two ids exits 64"
is "$(store_sum)" "$before" "none of these changed the store"
run carnet template rm 3
is "$out" "removed template 3 'Trois'" "carnet template rm works through the dispatcher"
is "$(sql "SELECT count(*) FROM template")" 0 "no template is left"
done_testing
