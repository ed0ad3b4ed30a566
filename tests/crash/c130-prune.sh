#!/usr/bin/env bash
# Crash consistency of carnet-backup prune (RELIABILITY.md section 1): a
# prune of 96 old backups of 120 (four lists, --keep-last 6) and of a few
# orphan files, killed with SIGKILL at each record removed, just before
# and just after the COMMIT, at each file removed, at an orphan, and at a
# delay.  After each kill: integrity_check is ok, the records are all
# there or exactly the kept ones, every listed backup verifies and has its
# file; a file no record names is left only by a kill after the commit,
# and a run again removes it; the run again exits 0 and leaves exactly the
# kept backups and their files.  A run that ends before its kill point is
# checked as a completed run and not counted as a kill point.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
. "$TOP/tests/crash/store.sh"
cd "$T" || exit 1
now=$(date +%s)

# four lists of 200 members, 30 backups of each, one every two days from
# 90 days ago: one taken by carnet-backup create, 29 copies of its file
# and record; the files as old as their records
awk 'BEGIN {
	print "email,first_name"
	for (i = 1; i <= 200; i++) printf "user%04d@example.com,First%d\n", i, i
}' >l.csv
for l in A B C D; do
	carnet-contacts import -q --list $l l.csv >/dev/null
	CARNET_NOW=$((now - 90 * 86400)) carnet-backup create -q --list $l >/dev/null
done
{
	echo 'BEGIN;'
	for d in $(seq 88 -2 32); do
		for id in 1 2 3 4; do
			src=$(sql_raw "SELECT file FROM backup WHERE id = $id")
			dst=${src%.ndjson.gz}-$d.ndjson.gz
			cp "$src" "$dst"
			echo "INSERT INTO backup(list_id, folder, list, reason, file, rows, size, sha256, schema_version, user_id, created_at)" \
				"SELECT list_id, folder, list, reason, '$dst', rows, size, sha256, schema_version, user_id, $((now - d * 86400)) FROM backup WHERE id = $id;"
		done
	done
	echo 'COMMIT;'
} >copies.sql
# (written first: a reader closing beside the writer checkpoints and
# locks it out)
sqlite3 "$STORE" <copies.sql
while IFS='|' read -r f at; do
	touch -d "@$at" "$f"
done < <(sql_raw 'SELECT file, created_at FROM backup')
# three orphan files of this store, a week old
prefix=$(basename "$(sql_raw 'SELECT file FROM backup WHERE id = 1')" | cut -c1-8)
for i in 1 2 3; do
	cp "$(sql_raw 'SELECT file FROM backup WHERE id = 1')" \
		"backups/$prefix--default--X--20261101T00000${i}Z-import-00000$i.ndjson.gz"
done
touch -d '7 days ago' backups/*--X--*
is "$(sql 'SELECT count(*) FROM backup'),$(find backups -type f | wc -l)" 120,123 \
	"120 backups and 3 orphan files"
state_save
PRUNE="carnet-backup prune --days 30 --keep-last 6"
# the reference run
t0=$(date +%s%N)
run $PRUNE
dur=$((($(date +%s%N) - t0) / 1000000))
is "$status" 0 "the reference prune exits 0"
kept=$(sql_raw 'SELECT group_concat(id) FROM (SELECT id FROM backup ORDER BY id)')
is "$(sql 'SELECT count(*) FROM backup')" 24 "it keeps the newest 6 of each list"
is "$(carnet-backup verify -q >/dev/null 2>&1; echo $?)" 0 "they verify"
is "$(find backups -type f | wc -l)" 24 "and their files alone"
all=$(seq -s, 1 120)

# check WHAT: sets $state
check() {
	local what=$1 ids miss=0 f known orphans=0
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$what: integrity_check is ok"
	ids=$(sql_raw 'SELECT group_concat(id) FROM (SELECT id FROM backup ORDER BY id)')
	case $ids in
	"$all") state=before ;;
	"$kept") state=after ;;
	*) state="in between ($ids)" ;;
	esac
	like "$state" '^(before|after)$' "$what: the records are all there or exactly the kept ones ($state)"
	while read -r f; do
		[ -e "$f" ] || miss=$((miss + 1))
	done < <(sql_raw 'SELECT file FROM backup')
	is "$miss" 0 "$what: every listed backup has its file"
	backups_sound "$what"
	known=$(sql_raw 'SELECT file FROM backup')
	for f in "$T"/backups/*; do
		[ -e "$f" ] || continue
		grep -qxF "$f" <<<"$known" || orphans=$((orphans + 1))
	done
	orphan_files=$orphans
}

every="at:prune.row:1 at:prune.row:48 at:prune.row:96 at:prune.commit:1
at:prune.committed:1 at:prune.item:1 at:prune.item:30 at:prune.item:60
at:prune.item:96 at:prune.orphan:1 at:prune.orphan:3 after:10% after:30%
after:50% after:70% after:90%"
quick="at:prune.row:1 at:prune.row:96 at:prune.commit:1 at:prune.committed:1
at:prune.item:1 at:prune.item:60 at:prune.item:96 at:prune.orphan:2
after:50%"
[ "$CARNET_CRASH" = full ] && pts=$every || pts=$quick
for p in $pts; do
	how=${p%%:*} spec=$(crash_delay "${p#*:}" "$dur")
	what="prune killed $how $spec"
	state_reset
	kill_run "$how" "$spec" $PRUNE
	if [ "$status" = 0 ]; then
		check "prune not killed ($how $spec)"
		is "$state,$orphan_files" after,0 "prune not killed ($how $spec): the kept backups alone"
		continue
	fi
	crash_point_begin
	is "$status" 137 "$what: died of SIGKILL"
	check "$what"
	# files no record names: the three orphans while the records are
	# all there; after the commit, also the files not yet removed
	if [ "$state" = before ]; then
		is "$orphan_files" 3 "$what: before the commit, only the 3 orphans are unrecorded"
	fi
	run $PRUNE
	is "$status" 0 "$what: prune run again exits 0"
	check "$what, run again"
	is "$state,$orphan_files" after,0 "$what: run again, the kept backups alone, no file left over"
	crash_point_end
done

crash_report c130-prune
done_testing
