#!/usr/bin/env bash
# Crash consistency of carnet-contacts import (RELIABILITY.md section 1):
# a 100,000-row file (2,000 under make check-valgrind) imported into a
# list of 1,000 members in every mode (add, update, upsert, replace,
# upsert --atomic, and replace and upsert with automatic backups on),
# killed with SIGKILL at a row count (early, middle, end), just before and
# just after the COMMIT, right after the automatic backup, inside that
# backup, and at a delay.  After each kill: integrity_check is ok, the
# list exports exactly as before or exactly as after the import (sha256 of
# export_noid), the other list and the number of contacts match that
# state, every recorded backup verifies, a backup file under its final
# name is a whole gzip stream; then the same import run again exits 0 and
# gives the "after" state.  A run that ends before its kill point is
# checked as a completed run and not counted as a kill point.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
. "$TOP/tests/crash/store.sh"
cd "$T" || exit 1
N=$(store_rows 100000 100000)

big_csv "$N" >big.csv
# K: 500 contacts of the file (other names) and 500 that it does not
# hold; "other" shares ten of those, which a replace must leave there
awk 'BEGIN {
	print "email,phone,first_name,last_name,city"
	for (i = 1; i <= 500; i++)
		printf "user%06d@example.com,06%08d,Old%d,Older,OldCity\n", i, i, i
	for (i = 1; i <= 500; i++)
		printf "old%04d@example.com,07%08d,Gone%d,Gone,GoneCity\n", i, i, i
}' >before.csv
sed -n '1p;502,511p' before.csv >other.csv

mkdir -p "$XDG_CONFIG_HOME/carnet"
cfg_on=$XDG_CONFIG_HOME/carnet/on.yaml
printf 'backup:\n  enabled: true\n  dir: %s\n' "$T/backups" >"$cfg_on"
backups_off
carnet-contacts import -q --list K before.csv >/dev/null
carnet-contacts import -q --list other other.csv >/dev/null
state_save

before_fp=$(fingerprint)

# the cases: NAME MODE-ARGS BACKUPS(on/off); the reference run of each
# gives its "after" fingerprint and summary
cases="add:--mode=add:off update:--mode=update:off upsert:--mode=upsert:off
replace:--mode=replace:off atomic:--mode=upsert,--atomic:off
replace-bk:--mode=replace:on upsert-bk:--mode=upsert:on"
declare -A after_fp summary dur
for c in $cases; do
	IFS=: read -r name args bk <<<"$c"
	state_reset
	cfg=()
	[ "$bk" = on ] && cfg=(--config "$cfg_on")
	t0=$(date +%s%N)
	out=$(carnet-contacts import "${cfg[@]}" --list K ${args//,/ } big.csv)
	ok $? "$name: the reference run exits 0"
	dur[$name]=$((($(date +%s%N) - t0) / 1000000))
	after_fp[$name]=$(fingerprint)
	summary[$name]=$out
done
isnt_before() { [ "${after_fp[$1]}" != "$before_fp" ]; }
for c in $cases; do
	IFS=: read -r name args bk <<<"$c"
	ok "$(isnt_before "$name"; echo $?)" "$name: the import changes the list"
done
like "${summary[replace-bk]}" '; backup 1 taken first$' "replace with backups on takes backup 1"

# check NAME BK WHAT: check_state for case NAME (BK: backups on/off)
check() {
	local n=0
	[ "$2" = on ] && n=1
	check_state "$3" "$before_fp" "${after_fp[$1]}" 0 "$n"
}

# the kill points: quick, a spread over the cases; full, all of them in
# every case.  after:P% is P percent of the case's reference run.
every="at:import.row:1 at:import.row:$((N / 4)) at:import.row:$((N / 2))
at:import.row:$((N - 1)) at:import.row:$N at:import.commit:1
at:import.committed:1 after:10% after:35% after:60% after:85%"
declare -A quick=(
	[add]="at:import.row:1 after:50%"
	[update]="at:import.row:$((N / 2))"
	[upsert]="at:import.row:$((N - 1))"
	[replace]="at:import.commit:1 after:25%"
	[atomic]="at:import.committed:1"
	[replace-bk]="at:import.backed_up:1 at:import.row:$((N * 3 / 10)) at:backup.row:700"
	[upsert-bk]="at:import.committed:1 after:75%"
)
for c in $cases; do
	IFS=: read -r name args bk <<<"$c"
	if [ "$CARNET_CRASH" = full ]; then
		pts=$every
		[ "$bk" = on ] && pts="$pts at:import.backed_up:1 at:backup.row:1 at:backup.row:999 at:backup.written:1 at:backup.renamed:1"
	else
		pts=${quick[$name]}
	fi
	cfg=()
	[ "$bk" = on ] && cfg=(--config "$cfg_on")
	check_case() { check "$name" "$bk" "$1"; }
	for p in $pts; do
		kill_point "$name" "${p%%:*}" "$(crash_delay "${p#*:}" "${dur[$name]}")" \
			"${summary[$name]}" carnet-contacts import "${cfg[@]}" --list K ${args//,/ } big.csv
	done
done

crash_report c100-import
done_testing
