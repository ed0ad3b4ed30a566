#!/usr/bin/env bash
# Bad input, part 4 (issue 9): carnet-restore of damaged inputs: exported
# files (--file), whole-store snapshots (--snapshot: not gzip, truncated,
# a member changed, path traversal, a symlink; tests/data/bad/ MANIFEST),
# and backups damaged in place (truncated, emptied, a byte changed, gone).
# Each: exit 65, a message naming the backup or file, the store unchanged
# and no new store left behind.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/badinput.sh"
bad_setup

# snapshot_restore FILE: restores FILE into a new store, which a refused
# snapshot must not leave behind
snapshot_restore() {
	local r
	rm -f "$T/new.db"
	carnet-restore --snapshot "$1" --store "$T/new.db"
	r=$?
	if [ -e "$T/new.db" ] || [ -e "$T/../carnet-evil.txt" ] ||
		[ -e /tmp/carnet-evil-abs.txt ]; then
		echo "carnet-restore left a file behind" >&2
		r=99
	fi
	return $r
}
bad_run 'restore-file/*' 'snapshot/*'

# --- a backup damaged in place ------------------------------------------------------
printf 'backup:\n  enabled: true\nsms:\n  driver: simulate\n' \
	>"$XDG_CONFIG_HOME/carnet/config.yaml"
carnet-backup create -q --list L >/dev/null
sqlite3 "$STORE" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$STORE" base.db	# the runs below start from this store
BAD_BASE=$(bad_sum)
file=$(sql_raw "SELECT file FROM backup WHERE id = 1")
[ -f "$file" ] || file=$T/backups/$file	# the directory beside the store
ok "$([ -f "$file" ] && echo 0 || echo 1)" "the backup file is there"
cp "$file" orig.gz
size=$(stat -c %s orig.gz)
damage() { # damage HOW: the backup file damaged in place
	cp orig.gz "$file"
	case $1 in
	truncated) head -c $((size / 2)) orig.gz >"$file" ;;
	empty) : >"$file" ;;
	byte) printf 'Z' | dd of="$file" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null ;;
	garbage) head -c "$size" /dev/zero | tr '\0' x >"$file" ;;
	gone) rm "$file" ;;
	esac
}
for how in truncated empty byte garbage gone; do
	damage $how
	bad_one "backup ($how)" 65 "backup 1 is damaged: " 'carnet-restore 1 --mode replace' ""
done 2>/dev/null </dev/null
cp orig.gz "$file"
echo "# bad inputs tried: $BAD_TRIED"
done_testing
