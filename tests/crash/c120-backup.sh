#!/usr/bin/env bash
# Crash consistency of carnet-backup create and snapshot (RELIABILITY.md
# section 1).  create of a 100,000-member list (20,000 at the quick scale
# of make check), killed with SIGKILL at a row count of the file, once
# the file is written (before its rename), once renamed (before its
# record), before the record's COMMIT, and at a delay: the store is sound
# and unchanged, `carnet-backup ls` shows the backups there were, or those
# and the new one, never a half one, every listed backup verifies, no half
# file sits under a final name; the file a kill left unrecorded is an
# orphan that prune removes once a day old; a run again takes a sound
# backup.  snapshot, killed: the store is sound and unchanged, the half
# archive is refused by carnet-restore --snapshot (nothing restored), and
# the staging directory it leaves in $TMPDIR (a copy of the store) is
# removed by the next snapshot once a minute old.  A run that ends before
# its kill point is checked as a completed run and not counted as a kill
# point.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
. "$TOP/tests/crash/store.sh"
cd "$T" || exit 1
N=$(store_rows 20000 100000)

big_csv "$N" >big.csv
sed -n '1p;2,11p' big.csv >other.csv
carnet-contacts import -q --list K big.csv >/dev/null
carnet-contacts import -q --list other other.csv >/dev/null
carnet-backup create -q --list other >/dev/null
carnet-backup create -q --list K >/dev/null
state_save
before_fp=$(fingerprint)
sum0=$(store_sum)
nrec0=2
t0=$(date +%s%N)
carnet-backup create -q --list K >/dev/null
dur=$((($(date +%s%N) - t0) / 1000000))
state_reset

# the files under backups/ that no record names
unrecorded() {
	local f known n=0
	known=$(sql 'SELECT file FROM backup')
	for f in "$T"/backups/*; do
		[ -e "$f" ] || continue
		grep -qxF "$f" <<<"$known" || n=$((n + 1))
	done
	echo "$n"
}

# check WHAT: the store after a create killed or completed; sets $state
check() { # check WHAT [BASE]: BASE backups before (default $nrec0)
	local what=$1 base=${2:-$nrec0} nrec
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$what: integrity_check is ok"
	is "$(fingerprint)" "$before_fp" "$what: the lists are untouched"
	nrec=$(carnet-backup ls --format csv | sed 1d | wc -l)
	case $nrec in
	"$base") state=before ;;
	"$((base + 1))") state=after ;;
	*) state="$nrec backups listed" ;;
	esac
	like "$state" '^(before|after)$' "$what: ls shows the backups there were, or one more ($state)"
	backups_sound "$what"
}

every="at:backup.row:1 at:backup.row:$((N / 4)) at:backup.row:$((N / 2))
at:backup.row:$((N - 1)) at:backup.row:$N at:backup.written:1
at:backup.renamed:1 at:backup.commit:1 after:10% after:30% after:50%
after:70% after:90%"
quick="at:backup.row:1 at:backup.row:$((N / 2)) at:backup.row:$N at:backup.written:1
at:backup.renamed:1 at:backup.commit:1 after:40%"
[ "$CARNET_CRASH" = full ] && pts=$every || pts=$quick
for p in $pts; do
	how=${p%%:*} spec=$(crash_delay "${p#*:}" "$dur")
	what="create killed $how $spec"
	state_reset
	kill_run "$how" "$spec" carnet-backup create --list K
	if [ "$status" = 0 ]; then
		check "create not killed ($how $spec)"
		is "$state" after "create not killed ($how $spec): the backup is listed"
		continue
	fi
	crash_point_begin
	is "$status" 137 "$what: died of SIGKILL"
	check "$what"
	# an unrecorded file (a temporary one, or renamed before its
	# record) is an orphan: prune removes it once a day old
	find backups -type f -exec touch -d '2 days ago' {} +
	run carnet-backup prune --days 365
	is "$status" 0 "$what: prune exits 0"
	is "$(unrecorded)" 0 "$what: prune leaves no unrecorded file"
	is "$(find backups -type f | wc -l)" "$(sql 'SELECT count(*) FROM backup')" \
		"$what: and every recorded file"
	n=$(sql 'SELECT count(*) FROM backup')
	run carnet-backup create --list K
	is "$status" 0 "$what: create run again exits 0"
	check "$what, run again" "$n"
	is "$state" after "$what: run again, one more backup is listed"
	crash_point_end
done

# --- snapshot --------------------------------------------------------------
state_reset
mkdir -p tmp
export TMPDIR=$T/tmp
t0=$(date +%s%N)
carnet-backup snapshot >whole.tar.gz
sdur=$((($(date +%s%N) - t0) / 1000000))
is "$(find tmp -mindepth 1 | wc -l)" 0 "a snapshot that completes leaves nothing in \$TMPDIR"
if [ "$CARNET_CRASH" = full ]; then
	pts="at:snapshot.copied:1 after:10% after:30% after:50% after:70% after:90%"
else
	pts="at:snapshot.copied:1 after:60%"
fi
for p in $pts; do
	how=${p%%:*} spec=$(crash_delay "${p#*:}" "$sdur")
	what="snapshot killed $how $spec"
	rm -rf tmp/* new
	kill_run "$how" "$spec" carnet-backup snapshot
	rm -rf new
	if [ "$status" = 0 ]; then
		is "$(find tmp -mindepth 1 | wc -l)" 0 "snapshot not killed ($how $spec): nothing left in \$TMPDIR"
		continue
	fi
	crash_point_begin
	is "$status" 137 "$what: died of SIGKILL"
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$what: integrity_check is ok"
	is "$(store_sum)" "$sum0" "$what: the store is unchanged"
	run carnet-restore --snapshot "$T/crash.out" --store "$T/new/carnet.db"
	ok "$([ "$status" != 0 ] && [ ! -e new/carnet.db ]; echo $?)" \
		"$what: the half archive is refused, nothing restored"
	# a staging directory left behind (killed after its mkdtemp) goes
	# with the next snapshot, once a minute old
	find tmp -mindepth 1 -maxdepth 1 -exec touch -d '2 minutes ago' {} +
	carnet-backup snapshot >again.tar.gz 2>/dev/null
	is "$?" 0 "$what: snapshot run again exits 0"
	is "$(find tmp -mindepth 1 | wc -l)" 0 "$what: and removes the staging directory left in \$TMPDIR"
	run carnet-restore --snapshot again.tar.gz --store "$T/new/carnet.db"
	is "$status" 0 "$what: the snapshot run again restores"
	crash_point_end
done

crash_report c120-backup
done_testing
