#!/usr/bin/env bash
# Security (issue 9, point 6): a secret never leaves the tool.  Five
# secrets (the Kannel password, the Twilio token, the callback token, the
# sync password, the HTTP driver's secret) are set three ways in turn: in
# the environment, in 0600 files named by the configuration, inline in a
# 0600 configuration.  A full run uses them against real local servers
# (tests/http-sink.pl answering 200, 401, 500, a closed port, and the
# receiver with its token), with -v where the tool has it.  Then every
# output of the run (stdout, stderr, the events, the store, backups, a
# snapshot and what it holds), and the command line of a running tool
# (/proc/PID/cmdline), are searched for each secret: none may be there.
# The gateway's log and the servers' answers show that they were used.
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || skip_all "curl is not installed (make deps)"
command -v perl >/dev/null || skip_all "perl is not installed"
export CARNET_NOW=1795334400

# sink NAME STATUS: an HTTP server answering STATUS to everything; $NAME_PORT
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; cd /; rm -rf "$T"' EXIT
sink() {
	perl "$TOP/tests/http-sink.pl" --port-file "$1.port" --log "$1.log" \
		--status "$2" 2>/dev/null &
	PIDS="$PIDS $!"
	for _ in $(seq 200); do
		[ -s "$1.port" ] && break
		sleep 0.05
	done
	eval "${1}_PORT=\$(cat $1.port)"
}
sink ok 200
sink bad 500
sink auth 401
[ -n "$ok_PORT" ] && [ -n "$bad_PORT" ] && [ -n "$auth_PORT" ] ||
	skip_all "the HTTP sink did not start"
CLOSED=1	# nothing listens on port 1 of the loopback

printf 'email,phone,first_name\nann@x.fr,0612345678,Ann\n' >in.csv
SECRETS=
# config DRIVER_BLOCK SECRETS_BLOCK: writes conf.yaml (0600)
config() {
	printf 'backup:\n  enabled: true\nsms:\n%s\n  callback:\n    listen: 127.0.0.1:0\n%s\nsync:\n  url: http://127.0.0.1:%s/db\n  username: alice\n%s\n' \
		"$1" "$2" "$auth_PORT" "$3" >conf.yaml
	chmod 600 conf.yaml
}
n=0
# full_run WHY: the tools that use secrets, every output kept in out/
full_run() {
	local why=$1 d
	n=$((n + 1))
	d=out/$n
	mkdir -p "$d"
	config "  driver: simulate" "$CB_EXTRA" "$SYNC_EXTRA"
	carnet-contacts import -v --list L in.csv >"$d/import.out" 2>"$d/import.err"
	# sync: refused, then a server that fails
	carnet-sync -v >"$d/sync-401.out" 2>"$d/sync-401.err"
	sed -i "s|:$auth_PORT/db|:$bad_PORT/db|" conf.yaml
	carnet-sync -v >"$d/sync-500.out" 2>"$d/sync-500.err"
	carnet-sync -v status >"$d/sync-status.out" 2>"$d/sync-status.err"
	# Kannel: accepted, refused (500), unreachable
	config "  driver: kannel
  kannel:
    url: http://127.0.0.1:$ok_PORT/cgi-bin/sendsms
    username: carnet
    dlr_url: http://127.0.0.1:13080/dlr$KANNEL_EXTRA" "$CB_EXTRA" "$SYNC_EXTRA"
	carnet-sms-send -v --to +33612345678 --text 'hi {{first_name|you}}' \
		--campaign "k$n" >"$d/send-ok.out" 2>"$d/send-ok.err"
	sed -i "s|:$ok_PORT/|:$bad_PORT/|" conf.yaml
	carnet-sms-send -v --retries 0 --to +33612345679 --text hi \
		--campaign "k$n-500" >"$d/send-500.out" 2>"$d/send-500.err"
	sed -i "s|:$bad_PORT/|:$CLOSED/|" conf.yaml
	carnet-sms-send -v --retries 0 --to +33612345670 --text hi \
		--campaign "k$n-down" >"$d/send-down.out" 2>"$d/send-down.err"
	carnet-campaign -v show "k$n-down" >"$d/campaign.out" 2>"$d/campaign.err"
	# HTTP driver: the secret in a header and the body
	config "  driver: http
  http:
    url: http://127.0.0.1:$bad_PORT/send
    headers: {X-Auth: '{{secret}}'}
    body: 'to={{to}}&key={{secret}}'" "$CB_EXTRA" "$SYNC_EXTRA"
	carnet-sms-send -v --retries 0 --to +33612345678 --text hi \
		--campaign "h$n" >"$d/http.out" 2>"$d/http.err"
	# Twilio: pulled from a server that refuses the token, and one that fails
	config "  driver: twilio
  twilio:
    base_url: http://127.0.0.1:$auth_PORT
    account_sid: AC0123456789$TWILIO_EXTRA" "$CB_EXTRA" "$SYNC_EXTRA"
	carnet-sms-fetch -v >"$d/fetch-401.out" 2>"$d/fetch-401.err"
	sed -i "s|base_url: http://127.0.0.1:$auth_PORT|base_url: http://127.0.0.1:$bad_PORT|" conf.yaml
	carnet-sms-fetch -v >"$d/fetch-500.out" 2>"$d/fetch-500.err"
	# the receiver, its token, its command line
	rm -f ready
	carnet-sms-fetch -v --listen 127.0.0.1:0 --ready-file ready $LISTEN_ARGS \
		>"$d/listen.out" 2>"$d/listen.err" &
	LPID=$!
	for _ in $(seq 600); do
		[ -s ready ] && break
		sleep 0.05
	done
	tr '\0' ' ' <"/proc/$LPID/cmdline" >"$d/listen.cmdline"
	P=$(cat ready)
	curl -s "http://127.0.0.1:$P/dlr?t=wrong&ref=x&type=1" >"$d/curl-403.out"
	curl -s "http://127.0.0.1:$P/dlr?t=$CB_TOKEN&ref=x&type=1" >"$d/curl-200.out"
	curl -s "http://127.0.0.1:$P/dlr?t=$CB_TOKEN&foo=bar" >"$d/curl-400.out"
	kill "$LPID"
	wait "$LPID"
	ok "$(grep -q "unknown message" "$d/listen.err" && echo 0 || echo 1)" \
		"$why: the receiver took a callback with the token"
	# what a run leaves behind
	carnet-backup create -q --list L >/dev/null 2>&1
	carnet-backup -v verify >"$d/verify.out" 2>"$d/verify.err"
	carnet-backup snapshot >"$d/snap.tar.gz" 2>"$d/snap.err"
	mkdir "$d/snap" && tar xzf "$d/snap.tar.gz" -C "$d/snap"
	ls "$T"/backups/*.gz >/dev/null 2>&1 ||
		echo "# $why: no backup was taken"
	for b in "$T"/backups/*.gz; do zcat "$b"; done >"$d/backups.txt" 2>&1
	sqlite3 "$STORE" .dump >"$d/store.sql"
	# the secrets were used: the gateway saw the password, the HTTP
	# gateway the secret, the sync server a request
	like "$(cat ok.log)" "password=$KANNEL_SECRET" "$why: the Kannel password reached the gateway"
	like "$(cat "$d/sync-401.err")" "credentials|refused|401" "$why: the sync server refused the password"
	for s in $KANNEL_SECRET $TWILIO_SECRET $CB_SECRET $SYNC_SECRET $HTTP_SECRET; do
		hits=$(grep -rlaF -- "$s" "$d" | sed "s|^$d/||" | tr '\n' ' ')
		is "$hits" "" "$why: ${s%%-*} secret in no output, error, backup or snapshot"
	done
}
export CARNET_CONFIG=$T/conf.yaml

# --- 1: the environment -------------------------------------------------------------------
KANNEL_SECRET=Kx-s3cret-kannel-491 TWILIO_SECRET=Tw-s3cret-twilio-772
CB_SECRET=Cb-s3cret-token-303 SYNC_SECRET=Sy-s3cret-sync-915
HTTP_SECRET=Ht-s3cret-http-628 CB_TOKEN=$CB_SECRET
export CARNET_KANNEL_PASSWORD=$KANNEL_SECRET CARNET_TWILIO_AUTH_TOKEN=$TWILIO_SECRET
export CARNET_CALLBACK_TOKEN=$CB_SECRET CARNET_SYNC_PASSWORD=$SYNC_SECRET
export CARNET_HTTP_SECRET=$HTTP_SECRET
KANNEL_EXTRA= TWILIO_EXTRA= CB_EXTRA= SYNC_EXTRA= LISTEN_ARGS=
full_run "environment"
unset CARNET_KANNEL_PASSWORD CARNET_TWILIO_AUTH_TOKEN CARNET_CALLBACK_TOKEN \
	CARNET_SYNC_PASSWORD
: >ok.log

# --- 2: files named by the configuration (0600) ----------------------------------------------
KANNEL_SECRET=Kf-s3cret-kannel-118 TWILIO_SECRET=Tf-s3cret-twilio-227
CB_SECRET=Cf-s3cret-token-336 SYNC_SECRET=Sf-s3cret-sync-445 CB_TOKEN=$CB_SECRET
HTTP_SECRET=Hf-s3cret-http-554 CARNET_HTTP_SECRET=$HTTP_SECRET
for f in KANNEL TWILIO CB SYNC; do
	v=${f}_SECRET
	printf '%s\n' "${!v}" >"$f.secret"
	chmod 600 "$f.secret"
done
KANNEL_EXTRA="
    password_file: $T/KANNEL.secret"
TWILIO_EXTRA="
    auth_token_file: $T/TWILIO.secret"
CB_EXTRA="    token_file: $T/CB.secret"
SYNC_EXTRA="  password_file: $T/SYNC.secret"
LISTEN_ARGS="--token-file $T/CB.secret"
full_run "files"
: >ok.log

# --- 3: inline in the configuration (0600) ----------------------------------------------------
KANNEL_SECRET=Ki-s3cret-kannel-663 TWILIO_SECRET=Ti-s3cret-twilio-772
CB_SECRET=Ci-s3cret-token-881 SYNC_SECRET=Si-s3cret-sync-990 CB_TOKEN=$CB_SECRET
HTTP_SECRET=Hi-s3cret-http-109 CARNET_HTTP_SECRET=$HTTP_SECRET
KANNEL_EXTRA="
    password: $KANNEL_SECRET"
TWILIO_EXTRA="
    auth_token: $TWILIO_SECRET"
CB_EXTRA="    token: $CB_SECRET"
SYNC_EXTRA="  password: $SYNC_SECRET"
LISTEN_ARGS=
full_run "inline"

# --- a password in a URL's user part (sync.url, sms.kannel.url) -------------------------------
U=Ur-s3cret-userinfo-217
printf 'sms:\n  driver: kannel\n  kannel:\n    url: http://bob:%s@127.0.0.1:%s/cgi-bin/sendsms\n    username: u\n    password: p\nsync:\n  url: http://alice:%s@127.0.0.1:%s/db\n' \
	"$U" "$bad_PORT" "$U" "$auth_PORT" >conf.yaml
mkdir -p out/url
carnet-sync -v >out/url/sync.out 2>out/url/sync.err
carnet-sms-send -v --retries 0 --to +33612345678 --text hi >out/url/send.out 2>out/url/send.err
carnet-backup snapshot >out/url/snap.tar.gz 2>out/url/snap.err
mkdir out/url/snap && tar xzf out/url/snap.tar.gz -C out/url/snap
like "$(cat out/url/sync.err)" "127\.0\.0\.1:$auth_PORT" "the sync error names the server"
is "$(grep -rlaF -- "$U" out/url | tr '\n' ' ')" "" \
	"a password in a URL is in no output, error or snapshot"
done_testing
