#!/usr/bin/env bash
# carnet-sync when things go wrong: a server that does not answer (exit
# 75, nothing changed), refused credentials (exit 77), a sync killed with
# SIGKILL in the middle of its push and of its pull (the next run resumes:
# it sends and reads only what is left, counted with --verbose), and a
# server stopped (SIGSTOP) in the middle of a run (exit 75 after the
# timeout; a later run converges).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/couch.sh"
couch_targets

# counter NAME: the "N documents sent, M received" of the last run's summary
sent() { printf '%s\n' "$err" | sed -n 's/.*; \([0-9]*\) documents sent.*/\1/p'; }
received() { printf '%s\n' "$err" | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }

# wait_for FILE REGEX: waits (10 s at most; 120 s for tools wrapped in a
# script, far slower under make check-valgrind) until FILE matches
WAITS=200
[ "$(head -c2 "$CARNET_BIN/carnet-sync")" = '#!' ] && WAITS=2400
wait_for() {
	local i
	for i in $(seq 1 "$WAITS"); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

for target in $COUCH_TARGETS; do
couch_use "$target"
N=3000
{ echo email,first_name; for i in $(seq 1 $N); do echo "c$i@example.com,C$i"; done; } >many.csv

# --- a server that does not answer ---------------------------------------------
store_config X
sed -i 's|url: .*|url: http://127.0.0.1:9|' "$T/X.yaml"
as X carnet-contacts import --list clients many.csv >/dev/null 2>&1
before=$(STORE=$T/X.db store_sum)
sync_as X
is "$status" 75 "$target: unreachable server: exit 75 (try again later)"
like "$err" "^carnet-sync: server http://127.0.0.1:9: .*; try again later$" \
	"$target: the message names the server"
is "$(STORE=$T/X.db store_sum)" "$before" "$target: and nothing changed"

# --- killed in the middle of the push ---------------------------------------------
store_config A
as A carnet-contacts import --list clients many.csv >/dev/null 2>&1
(exec carnet-sync --store "$T/A.db" --config "$T/A.yaml" --batch 100 -v >"$T/a1.out" 2>"$T/a1.err") &
pid=$!
wait_for "$T/a1.err" "pushed 100 documents \(1000 in all\)"
ok $? "$target: the first run pushes batch after batch"
kill -9 $pid
wait $pid 2>/dev/null
synced=$(sqlof A "SELECT count(*) FROM sync_item WHERE state = 'synced'")
ok $([ "$synced" -ge 1000 ] && [ "$synced" -lt $((N + 1)) ] && echo 0 || echo 1) \
	"$target: killed midway: $synced items marked synced, not all"
sync_as A --batch 100 -v
is "$status" 0 "$target: the next run ends, exit 0"
s2=$(sent)
ok $([ -n "$s2" ] && [ "$s2" -le $((N + 1 - synced + 100)) ] && echo 0 || echo 1) \
	"$target: and sends only what was left ($s2 documents, at most $((N + 1 - synced)) + one batch)"
is "$(server_kind_count contact)" $N "$target: the server has the $N contacts"
is "$(sqlof A "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" 0 "$target: nothing pending on A"

# --- killed in the middle of the pull ---------------------------------------------
store_config B
(exec carnet-sync --store "$T/B.db" --config "$T/B.yaml" --batch 100 -v >"$T/b1.out" 2>"$T/b1.err") &
pid=$!
wait_for "$T/b1.err" "pulled 100 changes.*" && sleep 0.3
kill -9 $pid
wait $pid 2>/dev/null
got=$(sqlof B "SELECT count(*) FROM contact")
ok $([ "$got" -ge 100 ] && [ "$got" -lt $N ] && echo 0 || echo 1) \
	"$target: killed midway: B has $got contacts, whole batches only"
is "$(sqlof B "SELECT count(*) FROM sync_checkpoint")" 1 "$target: and a checkpoint"
is "$(sqlof B "SELECT count(*) FROM contact c WHERE NOT EXISTS (SELECT 1 FROM sync_item i WHERE i.kind = 'contact' AND i.uuid = c.uuid)")" 0 \
	"$target: every contact B has is recorded as synced (same transaction)"
sync_as B --batch 100 -v
is "$status" 0 "$target: B's next run ends, exit 0"
r2=$(received)
ok $([ -n "$r2" ] && [ "$r2" -le $((N + 1 - got + 100)) ] && echo 0 || echo 1) \
	"$target: it reads only what was left ($r2 documents)"
is "$(sqlof B "SELECT count(*) FROM contact")" $N "$target: B has the $N contacts"
is "$(as B carnet-contacts export --list clients | cut -d, -f2- | sort | md5sum)" \
	"$(as A carnet-contacts export --list clients | cut -d, -f2- | sort | md5sum)" \
	"$target: the same as A"

# --- the server stopped in the middle of a run --------------------------------------
if [ "$target" = pouch ]; then
	store_config C
	printf 'sms:\n  http_timeout: 2\n' >>"$T/C.yaml"
	{ echo email; for i in $(seq 1 2000); do echo "n$i@example.com"; done; } >more.csv
	as C carnet-contacts import --list more more.csv >/dev/null 2>&1
	(exec carnet-sync --store "$T/C.db" --config "$T/C.yaml" --batch 100 -v --push-only >"$T/c1.out" 2>"$T/c1.err") &
	pid=$!
	wait_for "$T/c1.err" "pushed 100 documents \(500 in all\)"
	couch_freeze
	wait $pid
	st=$?
	couch_thaw
	is "$st" 75 "$target: server stopped midway: exit 75"
	like "$(cat "$T/c1.err")" "server http://127.0.0.1:[0-9]+: .*(timed out|Timeout).*; try again later" \
		"$target: the message says it timed out"
	store_config C	# the default timeout again
	sync_as C --push-only
	is "$status" 0 "$target: a later run: exit 0"
	sync_as B
	is "$(sqlof B "SELECT count(*) FROM contact WHERE email LIKE 'n%'")" 2000 \
		"$target: and everything converges: B has C's 2000 contacts"
	is "$(sqlof C "SELECT count(*) FROM sync_item WHERE state <> 'synced'")" 0 \
		"$target: nothing pending on C"
fi

# --- refused credentials --------------------------------------------------------------
if [ "$target" = pouch ]; then
	curl -fsS -X PUT "$COUCH_URL/_config/admins/admin" -d '"s3cret"' >/dev/null
fi
store_config D 'username: admin'
printf 'email\nd@example.com\n' >d.csv
as D carnet-contacts import --list clients d.csv >/dev/null 2>&1
before=$(STORE=$T/D.db store_sum)
CARNET_SYNC_PASSWORD=wrong sync_as D
is "$status" 77 "$target: a wrong password: exit 77"
like "$err" "^carnet-sync: server http://127.0.0.1:[0-9]+ refused the credentials \(HTTP 401" \
	"$target: the message says the credentials were refused"
unlike "$err" "wrong" "$target: and does not print the password"
is "$(STORE=$T/D.db store_sum)" "$before" "$target: nothing changed"
if [ "$target" = pouch ]; then
	printf 's3cret\n' >"$T/pw"
	chmod 600 "$T/pw"
	store_config D 'username: admin' "password_file: $T/pw"
	sync_as D
	is "$status" 0 "$target: the right password from sync.password_file: exit 0"
fi
done

done_testing
