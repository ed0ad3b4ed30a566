#!/usr/bin/env bash
# --dry-run, for every mode: it prints exactly the counts the real run
# then prints (with "dry run: " in front), the same exit status and the
# same rejects file, and it changes nothing in the store.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1
export CARNET_NOW=1795334400

printf 'email,first_name,city\na@x.fr,Ann,Lyon\nb@x.fr,Bob,Paris\nc@x.fr,Cid,Nice\n' >L.csv
printf 'email,first_name\nc@x.fr,Cid\nd@x.fr,Dan\n' >O.csv
carnet-contacts import -q --list L L.csv >/dev/null
carnet-contacts import -q --list O O.csv >/dev/null
store_save base.db
base0=$(store_sum)	# every store_restore gives this back

cat >new.csv <<'EOF'
email,first_name,city
a@x.fr,Ann,Lyon
b@x.fr,Bobby,
d@x.fr,Dan2,Metz
e@x.fr,Eve,Caen
EOF
cat >bad.csv <<'EOF'
email,first_name
a@x.fr,Annie
nope,X
f@x.fr,Fay
a@x.fr,Again
EOF

# dry_then_real NAME ARGS...: a dry run, then the real run, from the base
dry_then_real() {
	local name=$1 dry dry_status
	shift
	store_restore base.db
	run carnet-contacts import "$@" --dry-run --rejects dry.rej
	dry=$out dry_status=$status
	is "$(store_sum)" "$base0" "$name: --dry-run changes nothing"
	run carnet-contacts import "$@" --rejects real.rej
	real=$out real_status=$status
	is "$dry" "dry run: $real" "$name: --dry-run prints the real run's counts"
	is "$dry_status" "$real_status" "$name: --dry-run exits as the real run ($real_status)"
	file_is dry.rej real.rej "$name: --dry-run writes the same rejects file"
}

dry_then_real "add" --list L --mode add new.csv
is "$real" "L: 4 rows: 2 inserted, 0 updated, 0 unchanged, 2 skipped, 0 rejected, 0 removed" "add: the counts"
dry_then_real "update" --list L --mode update new.csv
is "$real" "L: 4 rows: 0 inserted, 1 updated, 1 unchanged, 2 skipped, 0 rejected, 0 removed" "update: the counts"
dry_then_real "upsert" --list L --mode upsert new.csv
is "$real" "L: 4 rows: 2 inserted, 1 updated, 1 unchanged, 0 skipped, 0 rejected, 0 removed" "upsert: the counts"
dry_then_real "replace" --list L --mode replace new.csv
is "$real" "L: 4 rows: 2 inserted, 1 updated, 1 unchanged, 0 skipped, 0 rejected, 1 removed" "replace: the counts"
dry_then_real "upsert into a new list" --list NEW new.csv
is "$real" "NEW: 4 rows: 4 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" "new list: the counts"
dry_then_real "upsert with rejects" --list L bad.csv
is "$real" "L: 4 rows: 1 inserted, 1 updated, 0 unchanged, 0 skipped, 2 rejected, 0 removed" "with rejects: the counts"
is "$real_status" 65 "with rejects: both exit 65"
is "$(wc -l <real.rej)" 3 "with rejects: both rejects files hold the two rows"
dry_then_real "replace with rejects" --list L --mode replace bad.csv
is "$real" "L: 4 rows: 0 inserted, 0 updated, 0 unchanged, 0 skipped, 2 rejected, 0 removed" "replace with rejects: nothing would be done"
dry_then_real "atomic with rejects" --list L --atomic bad.csv
printf 'phone,first_name\n0612345678,Pia\n06 12 34 56 78,Dup\n0712345678,Pol\n' >phones.csv
store_restore base.db
schema=$(sql "SELECT group_concat(name) FROM sqlite_master")
run carnet-contacts import --list P --key phone --dry-run phones.csv
is "$(sql "SELECT group_concat(name) FROM sqlite_master")" "$schema" "key phone: --dry-run leaves the schema as it was"
dry_then_real "key phone" --list P --key phone phones.csv
is "$real" "P: 3 rows: 2 inserted, 0 updated, 0 unchanged, 0 skipped, 1 rejected, 0 removed" "key phone: the counts"

# the JSON summary of a dry run
store_restore base.db
base=$(store_sum)
run carnet-contacts import --list L --mode replace --dry-run --format json new.csv
is "$(printf '%s' "$out" | jq -c 'del(.backup)')" '{"folder":"default","list":"L","rows":4,"inserted":2,"updated":1,"unchanged":1,"skipped":0,"rejected":0,"removed":1,"dry_run":true,"committed":false}' \
	"--dry-run --format json: dry_run true, committed false"
is "$(store_sum)" "$base" "and nothing changed"
run carnet-contacts import --list nope --mode update --dry-run new.csv
is "$status" 66 "--dry-run into a missing list in mode update exits 66 too"
run carnet-contacts import --list NEW2 -n new.csv
like "$out" "^dry run: NEW2: 4 rows: 4 inserted" "-n is --dry-run"
is "$(store_sum)" "$base" "and creates no list"
run carnet-contacts ls
unlike "$out" "NEW2" "ls does not show the list a dry run would create"
done_testing
