#!/usr/bin/env bash
# Security (issue 9, point 6): every file carnet creates is mode 0600 and
# every directory 0700, whatever the umask (000 here): the store and its
# parent directories, the WAL and SHM files while a tool holds the store,
# backups and their directory, lock files (<store>.send-N.lock,
# <store>.fetch-lock), the rejects file, snapshots (the file and each
# member) and a store restored from one.
. "$(dirname "$0")/../lib.sh"
umask 000
S=$T/deep/er/carnet.db	# directories carnet has to create
export CARNET_STORE=$S
STORE=$S
printf 'backup:\n  enabled: true\nsms:\n  driver: simulate\n' >conf.yaml
chmod 600 conf.yaml
export CARNET_CONFIG=$T/conf.yaml
mode() { stat -c %a "$1" 2>/dev/null || echo missing; }

printf 'email,phone,first_name\nann@x.fr,0612345678,Ann\nbob@x.fr,06 12,Bob\n' >in.csv
carnet-contacts import -q --list L --rejects rej.csv in.csv >/dev/null 2>&1
is "$(mode "$S")" 600 "the store is 0600"
is "$(mode "$T/deep")" 700 "the directories made for it are 0700"
is "$(mode "$T/deep/er")" 700 "... each of them"
is "$(mode rej.csv)" 600 "the rejects file is 0600"
printf 'email,phone,first_name\nann@x.fr,0612345678,Annie\n' >in2.csv
carnet-contacts import -q --list L in2.csv >/dev/null
b=$(ls "$T/deep/er/backups/"*.gz 2>/dev/null | head -1)
ok "$([ -n "$b" ] && echo 0 || echo 1)" "an import into a list takes a backup"
is "$(mode "$T/deep/er/backups")" 700 "the backup directory is 0700"
is "$(mode "$b")" 600 "the backup file is 0600"
carnet-backup create -q --list L >/dev/null
is "$(stat -c %a "$T"/deep/er/backups/*.gz | sort -u)" 600 "every backup file is 0600"

# --- lock files -----------------------------------------------------------------------
carnet-sms-send -q --list L --text hi --simulate >/dev/null
is "$(mode "$S.send-1.lock")" 600 "the send lock <store>.send-1.lock is 0600"
carnet-sms-fetch -q >/dev/null
is "$(mode "$S.fetch-lock")" 600 "the fetch lock <store>.fetch-lock is 0600"

# --- WAL and SHM, while the receiver holds the store --------------------------------------
carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready >/dev/null 2>listen.err &
LPID=$!
trap 'kill $LPID 2>/dev/null; cd /; rm -rf "$T"' EXIT
for _ in $(seq 600); do
	[ -s ready ] && break
	sleep 0.05
done
is "$(mode "$S-wal")" 600 "the WAL file is 0600"
is "$(mode "$S-shm")" 600 "the SHM file is 0600"
kill "$LPID"
wait "$LPID"

# --- snapshots ---------------------------------------------------------------------------
carnet-backup snapshot >snap.tar.gz
is "$(mode snap.tar.gz)" 600 "the snapshot file is made 0600 (the shell created it 0666)"
is "$(tar tvzf snap.tar.gz | awk '{print $1}' | sort -u)" "-rw-------" \
	"every member of the snapshot is 0600"
carnet-restore -q --snapshot snap.tar.gz --store "$T/new/dir/carnet.db" >/dev/null
is "$(mode "$T/new/dir/carnet.db")" 600 "a store restored from a snapshot is 0600"
is "$(mode "$T/new")$(mode "$T/new/dir")" 700700 "in directories made 0700"

# --- nothing carnet made is readable by others -------------------------------------------
is "$(find "$T/deep" "$T/new" \( -type f -perm /077 -o -type d -perm /077 \) | wc -l)" 0 \
	"no file or directory under the stores is open to group or others"
done_testing
