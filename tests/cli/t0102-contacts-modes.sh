#!/usr/bin/env bash
# Import modes (add, update, upsert, replace) with their exact counts and
# their effect on the list, the other lists and the contacts; the key
# (email, phone, id, with an export/import round trip by id); empty cells
# with and without --clear-empty.
. "$(dirname "$0")/../lib.sh"
backups_off
export CARNET_NOW=1795334400

# The base: L = a, b, c; O = c, d (c is shared).
printf 'email,first_name,city\na@x.fr,Ann,Lyon\nb@x.fr,Bob,Paris\nc@x.fr,Cid,Nice\n' >"$T/L.csv"
printf 'email,first_name\nc@x.fr,Cid\nd@x.fr,Dan\n' >"$T/O.csv"
carnet-contacts import -q --list L "$T/L.csv" >/dev/null
carnet-contacts import -q --list O "$T/O.csv" >/dev/null
store_save "$T/base.db"
base_o=$(export_noid O)

cat >"$T/new.csv" <<'EOF'
email,first_name,city
a@x.fr,Ann,Lyon
b@x.fr,Bobby,
d@x.fr,Dan2,Metz
e@x.fr,Eve,Caen
EOF
# a@ is a member, unchanged; b@ a member with a new first name (and an
# empty city, which keeps Paris); d@ a contact of list O only; e@ new.

# --- add ---------------------------------------------------------------------------
run carnet-contacts import --list L --mode add "$T/new.csv"
is "$status" 0 "add exits 0"
is "$out" "L: 4 rows: 2 inserted, 0 updated, 0 unchanged, 2 skipped, 0 rejected, 0 removed" \
	"add: members are skipped, the others inserted"
want=$(cat <<'EOF'
email,phone,first_name,last_name,city
a@x.fr,,Ann,,Lyon
b@x.fr,,Bob,,Paris
c@x.fr,,Cid,,Nice
d@x.fr,,Dan,,
e@x.fr,,Eve,,Caen
EOF
)
is "$(export_noid L)" "$want" "add: members unchanged, d@ joins as it is, e@ is new"
is "$(sql_raw "SELECT first_name, attrs IS NULL FROM contact WHERE email = 'd@x.fr'")" "Dan|1" \
	"add never changes an existing contact"
is "$(export_noid O)" "$base_o" "add leaves the other list alone"

# --- update --------------------------------------------------------------------------
store_restore "$T/base.db"
run carnet-contacts import --list L --mode update "$T/new.csv"
is "$status" 0 "update exits 0"
is "$out" "L: 4 rows: 0 inserted, 1 updated, 1 unchanged, 2 skipped, 0 rejected, 0 removed" \
	"update: members updated or unchanged, the others skipped"
want=$(cat <<'EOF'
email,phone,first_name,last_name,city
a@x.fr,,Ann,,Lyon
b@x.fr,,Bobby,,Paris
c@x.fr,,Cid,,Nice
EOF
)
is "$(export_noid L)" "$want" "update: the list is not enlarged; an empty cell keeps the value"
is "$(sql "SELECT count(*) FROM contact WHERE email = 'e@x.fr'")" 0 "update creates no contact"
is "$(sql_raw "SELECT first_name FROM contact WHERE email = 'd@x.fr'")" "Dan" \
	"update does not touch a contact outside the list"
before=$(store_sum)
run carnet-contacts import --list nope --mode update "$T/new.csv"
is "$status" 66 "update into a missing list exits 66"
like "$err" "no list 'nope' in folder 'default'" "and names the list"
is "$out" "" "and prints no summary"
is "$(store_sum)" "$before" "and changes nothing"
run carnet-contacts import --list L --folder elsewhere --mode update "$T/new.csv"
is "$status" 66 "update into a list of a missing folder exits 66"
is "$(sql "SELECT count(*) FROM folder WHERE name = 'elsewhere'")" 0 "and creates no folder"

# --- upsert ---------------------------------------------------------------------------
store_restore "$T/base.db"
run carnet-contacts import --list L "$T/new.csv"
is "$status" 0 "upsert (the default) exits 0"
is "$out" "L: 4 rows: 2 inserted, 1 updated, 1 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"upsert: refresh and add"
want=$(cat <<'EOF'
email,phone,first_name,last_name,city
a@x.fr,,Ann,,Lyon
b@x.fr,,Bobby,,Paris
c@x.fr,,Cid,,Nice
d@x.fr,,Dan2,,Metz
e@x.fr,,Eve,,Caen
EOF
)
is "$(export_noid L)" "$want" "upsert: members refreshed, d@ updated and added, e@ added"
is "$(export_noid O | grep '^d@')" "d@x.fr,,Dan2," "the contact is shared: list O sees d@'s new name"
run carnet-contacts import --list L "$T/new.csv"
is "$out" "L: 4 rows: 0 inserted, 0 updated, 4 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"upsert again: everything unchanged"

# --- replace ---------------------------------------------------------------------------
store_restore "$T/base.db"
printf 'email,first_name\na@x.fr,Ann\ne@x.fr,Eve\nd@x.fr,Dan\n' >"$T/rep.csv"
run carnet-contacts import --list L --mode replace "$T/rep.csv"
is "$status" 0 "replace exits 0"
is "$out" "L: 3 rows: 2 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 2 removed" \
	"replace: b@ and c@ removed"
is "$(export_noid L)" "$(printf '%s\n' 'email,phone,first_name,last_name,city' 'a@x.fr,,Ann,,Lyon' 'd@x.fr,,Dan,,' 'e@x.fr,,Eve,,')" \
	"replace: the list is exactly the file"
is "$(sql "SELECT count(*) FROM contact WHERE email = 'b@x.fr'")" 0 \
	"replace: a removed member in no other list is deleted"
is "$(sql_raw "SELECT first_name FROM contact WHERE email = 'c@x.fr'")" "Cid" \
	"replace: a removed member that is in another list is kept"
is "$(export_noid O)" "$base_o" "replace: the other list is unchanged"
is "$(sql "SELECT count(*) FROM member WHERE contact_id NOT IN (SELECT id FROM contact)")" 0 \
	"replace leaves no membership of a deleted contact"
is "$(sql "PRAGMA foreign_key_check")" "" "and no dangling reference"
# undo it from an export taken before (the default key, email, with ids)
store_restore "$T/base.db"
carnet-contacts export --list L >"$T/L.before"
carnet-contacts import -q --list L --mode replace "$T/rep.csv" >/dev/null
run carnet-contacts import --list L --mode replace "$T/L.before"
is "$out" "L: 3 rows: 2 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 2 removed" \
	"replace back from the old export: b@ and c@ come back, d@ and e@ go"
# b@ was deleted by the first replace: it comes back with its old id (so
# below the import's max_before) and must still become a member
is "$(export_noid L)" "$(cut -d, -f2- "$T/L.before")" "the list is as it was before both replaces"

# --- --key phone ---------------------------------------------------------------------------
store_restore "$T/base.db"
printf 'phone,first_name,email\n06 12 34 56 01,Pam,p1@x.fr\n0612345602,Pat,p2@x.fr\n' >"$T/P.csv"
carnet-contacts import -q --list P --key phone "$T/P.csv" >/dev/null
printf 'mobile,prenom\n+33 6 12 34 56 01,Pamela\n0033612345603,Neo\n0612345602,Pat\n' >"$T/P2.csv"
run carnet-contacts import --list P --key phone "$T/P2.csv"
is "$status" 0 "--key phone exits 0"
is "$out" "P: 3 rows: 1 inserted, 1 updated, 1 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"--key phone matches numbers written differently"
want=$(cat <<'EOF'
email,phone,first_name,last_name
p1@x.fr,+33612345601,Pamela,
p2@x.fr,+33612345602,Pat,
,+33612345603,Neo,
EOF
)
is "$(export_noid P)" "$want" "--key phone: the matched contact keeps its email"
# an update that would take another contact's email is rejected
printf 'phone,email\n0612345601,p2@x.fr\n0612345603,neo@x.fr\n' >"$T/P3.csv"
run carnet-contacts import --list P --key phone "$T/P3.csv"
is "$status" 65 "an email taken from another contact exits 65"
like "$err" "P3.csv:2: email 'p2@x.fr' belongs to another contact" "and says which email"
is "$(sql_raw "SELECT email FROM contact WHERE phone = '+33612345601'")" "p1@x.fr" "that contact keeps its email"
is "$(sql_raw "SELECT email FROM contact WHERE phone = '+33612345603'")" "neo@x.fr" "the valid row is applied"
# several contacts with one number: the oldest is matched
printf 'email,phone\nold@x.fr,0700000001\nyoung@x.fr,0700000001\n' >"$T/Q.csv"
carnet-contacts import -q --list Q "$T/Q.csv" >/dev/null
printf 'phone,first_name\n07 00 00 00 01,Oldest\n' >"$T/Q2.csv"
run carnet-contacts import --list Q --key phone "$T/Q2.csv"
is "$out" "Q: 1 rows: 0 inserted, 1 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"--key phone with a shared number updates one contact"
is "$(sql_raw "SELECT email || ':' || coalesce(first_name, '') FROM contact WHERE phone = '+33700000001' ORDER BY id")" \
	"$(printf '%s\n' 'old@x.fr:Oldest' 'young@x.fr:')" "the oldest contact with the number"
run carnet-contacts import --list Q --key phone "$T/L.csv"
is "$status" 65 "--key phone without a phone column exits 65"
like "$err" "no column for the key 'phone'" "and says the key column is missing"

# --- --key id: export, edit, import back ---------------------------------------------------
store_restore "$T/base.db"
carnet-contacts export --list L >"$T/L.export"
ids_before=$(cut -d, -f1 "$T/L.export")
sed -e 's/,Ann,/,Annie,/' -e 's/b@x\.fr/bob@x.fr/' "$T/L.export" >"$T/L.edited"
run carnet-contacts import --list L --key id "$T/L.edited"
is "$status" 0 "--key id exits 0"
is "$out" "L: 3 rows: 0 inserted, 2 updated, 1 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"--key id: two rows changed"
run carnet-contacts export --list L
is "$(printf '%s\n' "$out" | cut -d, -f1)" "$ids_before" "--key id: the ids do not change"
is "$(printf '%s\n' "$out" | cut -d, -f2- | sed 1d)" \
	"$(printf '%s\n' 'a@x.fr,,Annie,,Lyon' 'bob@x.fr,,Bob,,Paris' 'c@x.fr,,Cid,,Nice')" \
	"--key id: the email itself can change"
printf 'id,first_name\nnot-a-uuid,X\n' >"$T/badid.csv"
run carnet-contacts import --list L --key id "$T/badid.csv"
is "$status" 65 "an invalid id exits 65"
like "$err" "invalid id 'not-a-uuid'" "and says the id is invalid"
upper=$(sed -n 2p "$T/L.export" | cut -d, -f1 | tr a-f A-F)
printf 'id,first_name\n%s,Ann\n' "$upper" >"$T/upper.csv"
run carnet-contacts import --list L --key id "$T/upper.csv"
is "$out" "L: 1 rows: 0 inserted, 1 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"an id is matched without regard to case"

# A list deleted, then restored from its export by id: the same contacts,
# the same ids, members again.
store_restore "$T/base.db"
carnet-contacts export --list L >"$T/L.export"
carnet-contacts rm --list L >/dev/null
run carnet-contacts import --list L --key id "$T/L.export"
is "$status" 0 "an export imports back by id after rm"
is "$out" "L: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"all three are inserted"
# the re-created contacts keep their old rowids, below the import's
# max_before: they must become members all the same (not orphans)
is "$(sql "SELECT count(*) FROM member m JOIN list l ON l.id = m.list_id WHERE l.name = 'L'")" 3 \
	"the restored list has its three members"
is "$(carnet-contacts export --list L)" "$(cat "$T/L.export")" "and exports exactly as before, ids included"
is "$(sql "SELECT count(*) FROM contact WHERE id NOT IN (SELECT contact_id FROM member)")" 0 \
	"no contact is left outside every list"

# Into another store: ids from elsewhere are kept.
store_restore "$T/base.db"
carnet-contacts export --list L >"$T/L.export"
export CARNET_STORE="$T/other.db"
STORE=$CARNET_STORE
run carnet-contacts import --list L --key id "$T/L.export"
is "$out" "L: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"an export imports into another store by id"
is "$(carnet-contacts export --list L)" "$(cat "$T/L.export")" "the other store exports the same ids"
sed -e 's/,Cid,/,Cyd,/' "$T/L.export" >"$T/L.edited"
run carnet-contacts import --list L --key id "$T/L.edited"
is "$out" "L: 3 rows: 0 inserted, 1 updated, 2 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"and an edited export updates it by those ids"
export CARNET_STORE="$T/carnet.db"
STORE=$CARNET_STORE

# --- empty cells: kept by default, cleared with --clear-empty ------------------------------
store_restore "$T/base.db"
printf 'email,first_name,city\nb@x.fr,,\n' >"$T/empty.csv"
run carnet-contacts import --list L "$T/empty.csv"
is "$out" "L: 1 rows: 0 inserted, 0 updated, 1 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"empty cells keep the stored values by default"
is "$(sql_raw "SELECT first_name, json_extract(attrs, '\$.city') FROM contact WHERE email = 'b@x.fr'")" "Bob|Paris" \
	"first name and city are kept"
run carnet-contacts import --list L --clear-empty "$T/empty.csv"
is "$out" "L: 1 rows: 0 inserted, 1 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"--clear-empty: the empty cells change the contact"
is "$(sql_raw "SELECT first_name IS NULL, attrs IS NULL OR json_extract(attrs, '\$.city') IS NULL FROM contact WHERE email = 'b@x.fr'")" "1|1" \
	"--clear-empty clears the field and removes the attribute"
printf 'email,city\na@x.fr,\n' >"$T/empty2.csv"
run carnet-contacts import --list L --clear-empty "$T/empty2.csv"
is "$(sql_raw "SELECT first_name, json_extract(attrs, '\$.city') IS NULL FROM contact WHERE email = 'a@x.fr'")" "Ann|1" \
	"--clear-empty never touches a field the file does not have"
done_testing
