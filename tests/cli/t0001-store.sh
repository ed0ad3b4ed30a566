#!/usr/bin/env bash
# The store: created on first use with its parent directories, mode 0600,
# WAL, schema version 2 (v1 + migrations) with every entity; a newer schema is refused.
. "$(dirname "$0")/../lib.sh"

export CARNET_STORE="$T/deep/er/carnet.db"
STORE=$CARNET_STORE
run carnet-contacts ls
is "$status" 0 "ls on a new store exits 0"
is "$out" "folder,list,members,backup,created,updated" "ls of an empty store prints the CSV header only"
ok "$([ -f "$STORE" ]; echo $?)" "the store and its parent directories are created"
is "$(stat -c %a "$STORE")" 600 "the store file is mode 0600"
is "$(stat -c %a "$T/deep/er")" 700 "a created parent directory is mode 0700"
is "$(sqlite3 "$STORE" 'PRAGMA journal_mode')" wal "the store is in WAL mode"
is "$(sqlite3 "$STORE" 'PRAGMA user_version')" 4 "schema version is 4"
tables=$(sqlite3 "$STORE" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type='table' ORDER BY name)")
for t in folder user contact list member blacklist template campaign message receipt reply quota usage backup sync_item sync_checkpoint sync_conflict sync_device; do
	like " $tables " " $t " "the schema has table $t"
done
is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "integrity_check is ok"

# the usage ledger is append-only
sqlite3 "$STORE" "INSERT INTO folder(name, created_at) VALUES('f', 0); INSERT INTO usage(at, month, folder_id, sms, recipients) VALUES(0, '2026-11', 1, 2, 1)"
run sqlite3 "$STORE" "UPDATE usage SET sms = 0"
like "$err" 'append-only' "the usage ledger refuses updates"
is "$(sqlite3 "$STORE" 'SELECT sms FROM usage')" 2 "the ledger row is unchanged"

# a second open does not migrate again and keeps the data
run carnet-contacts ls --folder f
is "$status" 0 "reopening the store works"
is "$(sqlite3 "$STORE" 'SELECT count(*) FROM usage')" 1 "reopening keeps the data"

# a store from a newer carnet is refused, unchanged
sqlite3 "$STORE" 'PRAGMA user_version = 99'
run carnet-contacts ls
is "$status" 78 "a newer schema version exits 78"
like "$err" 'schema version 99 is newer' "and says why"
is "$(sqlite3 "$STORE" 'PRAGMA user_version')" 99 "and leaves the store alone"

# not a database
echo "hello, this is not sqlite" >"$T/junk.db"
run carnet-contacts --store "$T/junk.db" ls
ok "$([ "$status" -ne 0 ]; echo $?)" "a file that is not a store is refused"
like "$err" "junk.db" "the message names the file"

# a store in a directory that cannot be created
run carnet-contacts --store /proc/nope/carnet.db ls
is "$status" 73 "an uncreatable store path exits 73"
done_testing
