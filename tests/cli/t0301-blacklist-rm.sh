#!/usr/bin/env bash
# rm: NPAI and manual entries are lifted by an operator; a STOP entry is
# refused without --force (exit 1, only a START lifts it) and removed with
# a warning with it; an address not listed exits 66; several addresses
# are all or nothing; --dry-run; the sync marks (deleted, revision kept).
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400

# q QUERY: the store, columns separated by '|', nothing quoted
q() { sqlite3 -batch -list "$STORE" "$1"; }

carnet-blacklist add -q +33611111111 --reason NPAI >/dev/null
carnet-blacklist add -q +33622222222 >/dev/null
carnet-blacklist add -q +33633333333 --reason STOP >/dev/null
carnet-blacklist add -q stop@x.fr --reason STOP >/dev/null
carnet-blacklist add -q +33644444444 +33655555555 >/dev/null

# --- NPAI and manual: an operator may lift them -----------------------------------------
npai_uuid=$(q "SELECT uuid FROM blacklist WHERE address = '+33611111111'")
q "UPDATE sync_item SET state = 'synced', rev = '1-abc', synced_at = 1 WHERE uuid = '$npai_uuid'"
export CARNET_NOW=1795338000
run carnet-blacklist rm '06 11 11 11 11'
is "$status" 0 "rm of an NPAI entry exits 0"
is "$out" "removed +33611111111 (NPAI)" "rm says what it removed (the number is normalised)"
is "$err" "" "nothing on stderr"
is "$(q "SELECT count(*) FROM blacklist WHERE address = '+33611111111'")" 0 "the entry is gone"
is "$(q "SELECT state || '|' || deleted || '|' || changed_at || '|' || rev FROM sync_item WHERE uuid = '$npai_uuid'")" \
	"pending|1|1795338000|1-abc" "the removal is marked for sync as a deletion; the revision is kept"
run carnet-blacklist rm +33622222222
is "$out" "removed +33622222222 (manual)" "rm of a manual entry"

# --- STOP: only a START lifts it --------------------------------------------------------------
base=$(store_sum)
run carnet-blacklist rm +33633333333
is "$status" 1 "rm of a STOP entry without --force exits 1"
is "$err" "carnet-blacklist: +33633333333 opted out (STOP): only a START from that number lifts it (--force removes it anyway)" \
	"the message says only a START from that number lifts it"
is "$out" "" "nothing on stdout"
is "$(store_sum)" "$base" "the STOP entry stays, nothing changed"
run carnet-blacklist rm '+33 6 33 33 33 33' --dry-run
is "$status" 1 "--dry-run does not help: exit 1"
is "$(store_sum)" "$base" "nothing changed"

run carnet-blacklist rm +33633333333 --force --dry-run
is "$status" 0 "rm --force --dry-run of a STOP entry exits 0"
is "$out" "would remove +33633333333 (STOP)" "and says it would remove it"
is "$err" "carnet-blacklist: warning: +33633333333 opted out (STOP): would be removed because of --force" \
	"with the warning"
is "$(store_sum)" "$base" "and changes nothing"

stop_uuid=$(q "SELECT uuid FROM blacklist WHERE address = '+33633333333'")
run carnet-blacklist rm 0633333333 --force
is "$status" 0 "rm --force of a STOP entry exits 0"
is "$out" "removed +33633333333 (STOP)" "it is removed"
is "$err" "carnet-blacklist: warning: +33633333333 opted out (STOP): removed because of --force" \
	"with a warning on stderr"
is "$(q "SELECT count(*) FROM blacklist WHERE address = '+33633333333'")" 0 "the entry is gone"
is "$(q "SELECT deleted FROM sync_item WHERE uuid = '$stop_uuid'")" 1 "marked deleted for sync"

run carnet-blacklist rm -f -q stop@X.FR
is "$status" 0 "rm -f of a STOP email exits 0"
is "$err" "carnet-blacklist: warning: stop@x.fr opted out (STOP): removed because of --force" \
	"the warning is printed even with --quiet"

# --- not listed ----------------------------------------------------------------------------------
base=$(store_sum)
run carnet-blacklist rm +33699999999
is "$status" 66 "rm of an address not on the list exits 66"
is "$err" "carnet-blacklist: +33699999999 is not on the blacklist" "and says so"
is "$out" "" "nothing on stdout"
run carnet-blacklist rm +33699999999 --force
is "$status" 66 "also with --force"
is "$(store_sum)" "$base" "nothing changed"

# --- several: all or nothing ---------------------------------------------------------------------
carnet-blacklist add -q +33633333333 --reason STOP >/dev/null
base=$(store_sum)
run carnet-blacklist rm +33644444444 +33699999999 +33633333333 '06 12'
is "$status" 66 "several addresses, some bad: the first error's status (66)"
is "$err" "$(printf '%s\n' "carnet-blacklist: +33699999999 is not on the blacklist" \
	"carnet-blacklist: +33633333333 opted out (STOP): only a START from that number lifts it (--force removes it anyway)" \
	"carnet-blacklist: invalid phone '06 12': too short")" "every bad address is reported"
is "$out" "" "nothing on stdout"
is "$(store_sum)" "$base" "and nothing is removed, not even the good one"

run carnet-blacklist rm +33644444444 +33655555555 --dry-run
is "$out" "$(printf 'would remove +33644444444 (manual)\nwould remove +33655555555 (manual)')" "rm --dry-run of two"
is "$(store_sum)" "$base" "changes nothing"
run carnet-blacklist rm +33644444444 +33655555555 -n --format csv
is "$out" "$(printf 'address,action,reason,dry_run\n+33644444444,removed,manual,true\n+33655555555,removed,manual,true')" \
	"rm -n --format csv: one header, one row each"
run carnet-blacklist rm +33644444444 +33655555555 --format ndjson
is "$status" 0 "rm of two exits 0"
is "$out" "$(printf '%s\n' '{"address":"+33644444444","action":"removed","reason":"manual","dry_run":false}' \
	'{"address":"+33655555555","action":"removed","reason":"manual","dry_run":false}')" "--format ndjson"
is "$(q "SELECT group_concat(address, ' ') FROM blacklist")" "+33633333333" "only the STOP entry is left"

# --- bad input ------------------------------------------------------------------------------------
base=$(store_sum)
run carnet-blacklist rm '06 12'
is "$status" 65 "rm of an invalid number exits 65"
is "$err" "carnet-blacklist: invalid phone '06 12': too short" "with the reason"
run carnet-blacklist rm
is "$status" 64 "rm without an address exits 64"
like "$err" "rm: no address" "and says so"
run carnet-blacklist rm +33633333333 --reason STOP
is "$status" 64 "rm --reason exits 64"
like "$err" "rm: --reason does not apply" "and says the option does not apply"
is "$(store_sum)" "$base" "nothing changed"
done_testing
