#!/usr/bin/env bash
# Crash consistency of carnet-restore (RELIABILITY.md section 1): a
# 100,000-row backup (20,000 at the quick scale of make check) restored
# into the list an accidental replace left with 1,000 members, in every
# mode (replace, upsert, add, update, --into a new list, --file of the
# backup's export), killed with SIGKILL at a row count, around the backup
# the restore takes first, just before and just after the COMMIT, and at a
# delay.  After each kill: integrity_check is ok, the lists export exactly
# as before or exactly as restored, the backup records are those of that
# state and all verify, no half backup file sits under a final name; then
# the same restore run again exits 0 and gives the restored state.  And
# --snapshot into a new store, killed: the new store is absent or whole,
# never half, and a run again restores and removes the copy the kill left
# beside the store.  A run that ends before its kill point is checked as
# a completed run and not counted as a kill point.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
FP_LISTS="K K2 other"
. "$TOP/tests/crash/store.sh"
cd "$T" || exit 1
N=$(store_rows 20000 100000)

big_csv "$N" >big.csv
# the accident: K replaced by 1,000 rows, 500 of its contacts renamed and
# 500 new ones
awk 'BEGIN {
	print "email,phone,first_name,last_name,city"
	for (i = 1; i <= 500; i++)
		printf "user%06d@example.com,06%08d,Renamed%d,Renamed,NewCity\n", i * 7, i * 7, i
	for (i = 1; i <= 500; i++)
		printf "new%04d@example.com,07%08d,New%d,New,NewCity\n", i, i, i
}' >oops.csv
sed -n '1p;2,11p' big.csv >other.csv
carnet-contacts import -q --list K big.csv >/dev/null
carnet-contacts import -q --list other other.csv >/dev/null
carnet-backup create -q --list K >/dev/null
carnet-contacts import -q --list K --mode replace oops.csv >/dev/null
is "$(sql_raw "SELECT group_concat(reason || ':' || rows) FROM backup")" "manual:$N,import:$N" \
	"backup 1 (manual) and 2 (the accident's) hold the $N rows"
carnet-backup export 1 --format csv >export.csv
state_save
before_fp=$(fingerprint)
nrec0=2


# the cases: NAME ARGS (commas for spaces)
cases="replace:1,--mode,replace upsert:1,--mode,upsert add:1,--mode,add
update:1,--mode,update into:1,--into,K2
file:--file,export.csv,--list,K,--mode,replace"
declare -A after_fp summary nrec dur
for c in $cases; do
	name=${c%%:*} args=${c#*:}
	state_reset
	t0=$(date +%s%N)
	out=$(carnet-restore ${args//,/ })
	ok $? "$name: the reference run exits 0"
	dur[$name]=$((($(date +%s%N) - t0) / 1000000))
	after_fp[$name]=$(fingerprint)
	summary[$name]=$out
	nrec[$name]=$(sql 'SELECT count(*) FROM backup')
	ok "$([ "${after_fp[$name]}" != "$before_fp" ]; echo $?)" "$name: the restore changes the lists"
done
is "${nrec[replace]},${nrec[into]}" "3,2" "a restore into K takes a backup, into a new list none"

check() { # check NAME WHAT
	check_state "$2" "$before_fp" "${after_fp[$1]}" "$nrec0" "${nrec[$1]}"
}

every="at:restore.row:1 at:restore.row:$((N / 4)) at:restore.row:$((N / 2))
at:restore.row:$((N - 1)) at:restore.row:$N at:restore.commit:1
at:restore.committed:1 after:10% after:40% after:70%"
backed="at:restore.backed_up:1 at:backup.row:1 at:backup.row:999
at:backup.written:1 at:backup.renamed:1"
declare -A quick=(
	[replace]="at:restore.row:$((N / 2)) at:backup.written:1"
	[upsert]="at:restore.commit:1"
	[add]="at:restore.row:$((N - 1))"
	[update]="at:restore.committed:1"
	[into]="at:restore.row:1"
	[file]="at:restore.backed_up:1 after:40%"
)
for c in $cases; do
	name=${c%%:*} args=${c#*:}
	if [ "$CARNET_CRASH" = full ]; then
		pts=$every
		[ "$name" = into ] || pts="$pts $backed"
	else
		pts=${quick[$name]}
	fi
	check_case() { check "$name" "$1"; }
	for p in $pts; do
		kill_point "$name" "${p%%:*}" "$(crash_delay "${p#*:}" "${dur[$name]}")" \
			"${summary[$name]}" carnet-restore ${args//,/ }
	done
done

# --- a snapshot into a new store -------------------------------------------
state_reset
carnet-backup snapshot >snap.tar.gz
src_fp=$(fingerprint)
NEW=$T/new/carnet.db
# snap_state WHAT: the new store is absent (before) or whole (after)
snap_state() {
	if [ ! -e "$NEW" ]; then
		state=before
	elif [ "$(sqlite3 "$NEW" 'PRAGMA integrity_check')" = ok ] &&
		[ "$(STORE=$NEW CARNET_STORE=$NEW fingerprint)" = "$src_fp" ]; then
		state=after
	else
		state="half ($(ls -l "$NEW"))"
	fi
	like "$state" '^(before|after)$' "$1: the new store is absent or whole ($state)"
}
t0=$(date +%s%N)
run carnet-restore --snapshot snap.tar.gz --store "$NEW"
sdur=$((($(date +%s%N) - t0) / 1000000))
is "$status" 0 "the reference snapshot restore exits 0"
snap_state "the reference snapshot restore"
is "$state" after "the reference snapshot restore gives the store"
if [ "$CARNET_CRASH" = full ]; then
	pts="at:restore.snapshot:1 after:5% after:20% after:40% after:60% after:80% after:95%"
else
	pts="at:restore.snapshot:1 after:50%"
fi
for p in $pts; do
	how=${p%%:*} spec=$(crash_delay "${p#*:}" "$sdur")
	what="snapshot killed $how $spec"
	rm -rf "$T/new"
	kill_run "$how" "$spec" carnet-restore --snapshot snap.tar.gz --store "$NEW"
	if [ "$status" = 0 ]; then
		snap_state "snapshot not killed ($how $spec)"
		is "$state" after "snapshot not killed ($how $spec): the store is restored"
		continue
	fi
	crash_point_begin
	is "$status" 137 "$what: died of SIGKILL"
	snap_state "$what"
	if [ "$state" = before ]; then
		# the copy a kill left beside the store goes with the next
		# restore there, once a minute old
		find "$T/new" -name 'carnet.db.snapshot-*' -exec touch -d '2 minutes ago' {} +
		run carnet-restore --snapshot snap.tar.gz --store "$NEW"
		is "$status" 0 "$what: the restore run again exits 0"
		snap_state "$what, run again"
		is "$state" after "$what: run again, the store is restored"
		is "$(find "$T/new" -name 'carnet.db.snapshot-*' | wc -l)" 0 \
			"$what: run again, no temporary copy is left beside the store"
	fi
	crash_point_end
done

crash_report c110-restore
done_testing
