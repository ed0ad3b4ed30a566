#!/usr/bin/env bash
# add: new entries (uuid, times, user, source, note, sync mark), numbers
# normalised like the contacts' ('06 12 34 56 78' and '+33 6 12 34 56 78'
# are one entry), emails, several addresses, the strength of reasons
# (manual -> NPAI -> STOP upgrades, never down), --dry-run, --format json,
# --user and --folder.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
export CARNET_NOW=1795334400	# 2026-11-22T08:00:00Z

# q QUERY: the store, columns separated by '|', nothing quoted
q() { sqlite3 -batch -list "$STORE" "$1"; }

UUID7_RE='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# --- a new entry ------------------------------------------------------------------------
run carnet-blacklist add +33612345678
is "$status" 0 "add exits 0"
is "$out" "added +33612345678 (manual)" "add says what it added, reason manual by default"
is "$err" "" "nothing on stderr"
is "$(q "SELECT address || '|' || reason || '|' || source || '|' || coalesce(note, '-') || '|' || created_at || '|' || updated_at FROM blacklist")" \
	"+33612345678|manual|operator|-|1795334400|1795334400" "the entry: reason, source, no note, times"
is "$(q "SELECT u.name FROM blacklist b JOIN user u ON u.id = b.user_id")" "tester" \
	"the acting user (\$USER) is recorded"
uuid=$(q "SELECT uuid FROM blacklist")
like "$uuid" "$UUID7_RE" "the entry has a version 7 uuid"
is "$(q "SELECT kind || '|' || uuid || '|' || state || '|' || changed_at || '|' || deleted FROM sync_item")" \
	"blacklist|$uuid|pending|1795334400|0" "the entry is marked for sync in the same transaction"

# --- normalisation: one entry whatever the spelling ------------------------------------------
run carnet-blacklist add '06 12 34 56 78'
is "$status" 0 "adding the national form exits 0"
is "$out" "unchanged +33612345678 (already manual)" "'06 12 34 56 78' is the same entry"
run carnet-blacklist add '+33 6 12 34 56 78' '0033612345678' '+33 (0)6 12 34 56 78'
is "$out" "$(printf 'unchanged +33612345678 (already manual)\n%.0s' 1 2 3)" \
	"'+33 6 12 34 56 78', '0033…' and '+33 (0)6…' too"
is "$(q "SELECT count(*) FROM blacklist")" 1 "still one entry"
is "$(q "SELECT uuid FROM sync_item")" "$uuid" "and no new sync mark"

printf 'phone\n06 98 76 54 32\n0690 12 34 56\n' >c.csv
carnet-contacts import -q --list L c.csv >/dev/null
run carnet-blacklist add '06 98 76 54 32' '0690 12 34 56'
is "$status" 0 "add two numbers exits 0"
is "$(q "SELECT count(*) FROM contact c JOIN blacklist b ON b.address = c.phone")" 2 \
	"each is stored exactly as carnet-contacts stores the same number (overseas prefix included)"
is "$out" "$(printf 'added +33698765432 (manual)\nadded +590690123456 (manual)')" \
	"one line per address, in order"

mkdir -p cfg
printf 'phone:\n  default_country: BE\n' >cfg/be.yaml
run carnet-blacklist --config cfg/be.yaml add '0470 12 34 56'
is "$out" "added +32470123456 (manual)" "the configured default country is used"

# --- email addresses ---------------------------------------------------------------------------
run carnet-blacklist add ' Ann.Martin@Example.FR '
is "$status" 0 "an email address can be blacklisted"
is "$out" "added Ann.Martin@example.fr (manual)" "trimmed, domain lower-cased like the contacts' emails"
run carnet-blacklist add ann.martin@example.fr
is "$out" "added ann.martin@example.fr (manual)" "the local part keeps its case"

# --- reasons: the stronger wins ---------------------------------------------------------------
export CARNET_NOW=1795338000	# an hour later
run carnet-blacklist add '06 12 34 56 78' --reason STOP
is "$status" 0 "STOP over manual exits 0"
is "$out" "upgraded +33612345678 (manual -> STOP)" "a STOP upgrades a manual entry"
is "$(q "SELECT reason || '|' || uuid || '|' || created_at || '|' || updated_at FROM blacklist WHERE address = '+33612345678'")" \
	"STOP|$uuid|1795334400|1795338000" "same entry and uuid, created_at kept, updated_at moved"
is "$(q "SELECT state || '|' || changed_at FROM sync_item WHERE uuid = '$uuid'")" \
	"pending|1795338000" "the upgrade is marked for sync"

run carnet-blacklist add +33612345678 --reason manual --note 'ignored'
is "$status" 0 "manual over STOP exits 0"
is "$out" "unchanged +33612345678 (already STOP)" "adding manual over STOP keeps STOP"
is "$(q "SELECT reason || '|' || coalesce(note, '-') || '|' || updated_at FROM blacklist WHERE address = '+33612345678'")" \
	"STOP|-|1795338000" "the entry is untouched, note included"
run carnet-blacklist add +33612345678 --reason npai
is "$out" "unchanged +33612345678 (already STOP)" "NPAI over STOP keeps STOP"

run carnet-blacklist add +33698765432 --reason NPAI --note 'number closed'
is "$out" "upgraded +33698765432 (manual -> NPAI)" "NPAI upgrades manual"
is "$(q "SELECT reason || '|' || note FROM blacklist WHERE address = '+33698765432'")" \
	"NPAI|number closed" "with the new note"
run carnet-blacklist add +33698765432 --reason manual
is "$out" "unchanged +33698765432 (already NPAI)" "manual over NPAI keeps NPAI"
run carnet-blacklist add +33698765432 -r stop
is "$out" "upgraded +33698765432 (NPAI -> STOP)" "STOP upgrades NPAI (-r, any case)"
is "$(q "SELECT note FROM blacklist WHERE address = '+33698765432'")" "number closed" \
	"an upgrade without --note keeps the note"
run carnet-blacklist add +33611111111 --reason undeliverable
is "$out" "added +33611111111 (NPAI)" "'undeliverable' means NPAI"

# --- --note, --user, --folder ---------------------------------------------------------------------
run carnet-blacklist add +33622222222 --note 'asked by phone, twice' --user jk --folder agence-lyon
is "$status" 0 "add with --note, --user and --folder exits 0"
is "$(q "SELECT b.note || '|' || u.name FROM blacklist b JOIN user u ON u.id = b.user_id WHERE address = '+33622222222'")" \
	"asked by phone, twice|jk" "the note and the user are recorded"
is "$(q "SELECT count(*) FROM folder WHERE name = 'agence-lyon'")" 0 \
	"--folder is accepted; the blacklist has no folder"

# --- several addresses, duplicates among them ---------------------------------------------------
run carnet-blacklist add 0633333333 +33633333333 b@x.fr --reason STOP
is "$status" 0 "several addresses exit 0"
is "$out" "$(printf 'added +33633333333 (STOP)\nunchanged +33633333333 (already STOP)\nadded b@x.fr (STOP)')" \
	"a duplicate on the command line is the same entry"

# --- --format ------------------------------------------------------------------------------------
run carnet-blacklist add +33644444444 +33612345678 --format json
is "$out" "$(printf '%s\n' '[' '{"address":"+33644444444","action":"added","reason":"manual","previous":null,"dry_run":false},' \
	'{"address":"+33612345678","action":"unchanged","reason":"STOP","previous":"STOP","dry_run":false}' ']')" \
	"--format json: an array, one object per address"
run carnet-blacklist add +33655555555 +33644444444 --reason STOP --format csv
is "$out" "$(printf 'address,action,reason,previous,dry_run\n+33655555555,added,STOP,,false\n+33644444444,upgraded,STOP,manual,false')" \
	"--format csv: one header, one row per address"
run carnet-blacklist add +33655555555 --format ndjson
is "$out" '{"address":"+33655555555","action":"unchanged","reason":"STOP","previous":"STOP","dry_run":false}' "--format ndjson"

# --- --dry-run -----------------------------------------------------------------------------------
base=$(store_sum)
run carnet-blacklist add +33666666666 +33611111111 --reason STOP --dry-run
is "$status" 0 "add --dry-run exits 0"
is "$out" "$(printf 'would add +33666666666 (STOP)\nwould upgrade +33611111111 (NPAI -> STOP)')" \
	"add --dry-run says what it would do"
is "$err" "" "and nothing on stderr"
is "$(store_sum)" "$base" "add --dry-run changes nothing (no entry, no sync mark, no user)"
run carnet-blacklist add +33666666666 -n --format ndjson --user newbie
is "$out" '{"address":"+33666666666","action":"added","reason":"manual","previous":null,"dry_run":true}' \
	"-n --format ndjson says dry_run"
is "$(store_sum)" "$base" "still nothing changed, not even the new user"

# --- the dispatcher -----------------------------------------------------------------------------
run carnet blacklist add +33677777777
is "$out" "added +33677777777 (manual)" "carnet blacklist add runs carnet-blacklist"

is "$(q "SELECT count(*) FROM blacklist b LEFT JOIN sync_item s ON s.kind = 'blacklist' AND s.uuid = b.uuid WHERE s.uuid IS NULL")" 0 \
	"every entry has its sync mark"
done_testing
