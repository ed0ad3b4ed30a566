#!/usr/bin/env bash
# Security (issue 9, point 6): the callback receiver (carnet-sms-fetch
# --listen, lib/fetch-listen.c) refuses requests without the token, bounds
# the size of a request (query, body, headers) and the rate, survives a
# flood of connections, and will not listen beyond the loopback without a
# token.  Each refusal stores nothing.
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || skip_all "curl is not installed (make deps)"
export CARNET_CALLBACK_TOKEN='Rx-t0ken-8841'
carnet-sms-fetch --close-due >/dev/null	# the store exists

LPID=
trap 'kill $LPID 2>/dev/null; cd /; rm -rf "$T"' EXIT
start() {
	rm -f ready
	carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready "$@" \
		>events.out 2>events.err &
	LPID=$!
	for _ in $(seq 600); do
		[ -s ready ] && break
		sleep 0.05
	done
	PORT=$(cat ready 2>/dev/null)
}
stop() { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; LPID=; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
U() { echo "http://127.0.0.1:$PORT/dlr?$1"; }

start --rate 0
ok "$([ -n "$PORT" ] && echo 0 || echo 1)" "the receiver listens"
sum=$(store_sum)

# --- the token ------------------------------------------------------------------------
is "$(code "$(U 'ref=x&type=1')")" 403 "no token: 403"
is "$(code "$(U 't=&ref=x&type=1')")" 403 "an empty token: 403"
is "$(code "$(U 't=Rx-t0ken-884&ref=x&type=1')")" 403 "a prefix of the token: 403"
is "$(code "$(U 't=Rx-t0ken-88411&ref=x&type=1')")" 403 "the token and more: 403"
is "$(code "$(U 't=rx-t0ken-8841&ref=x&type=1')")" 403 "the token in another case: 403"
is "$(code --data 't=Rx-t0ken-8841&ref=x&type=1' "http://127.0.0.1:$PORT/dlr")" 403 \
	"the token in a POST body, not the query: 403"
is "$(code -X PUT "$(U 't=Rx-t0ken-8841&ref=x&type=1')")" 405 "a PUT: 405"
is "$(store_sum)" "$sum" "nothing stored for the refused requests"

# --- size -----------------------------------------------------------------------------------
big=$(head -c 9000 /dev/zero | tr '\0' a)
is "$(code "$(U "t=Rx-t0ken-8841&ref=x&type=1&A=$big")")" 413 "a 9 KB query: 413"
head -c 1048576 /dev/zero | tr '\0' a | sed 's/^/A=/' >body.txt
is "$(code --data-binary @body.txt "$(U 't=Rx-t0ken-8841')")" 413 "a 1 MB body: 413"
hdr=$(head -c 100000 /dev/zero | tr '\0' h)
c=$(code -H "X-Big: $hdr" "$(U 't=Rx-t0ken-8841&ref=x&type=1')")
ok "$([ "$c" != 200 ] && echo 0 || echo 1)" "a 100 KB header is not served ($c)"
is "$(store_sum)" "$sum" "nothing stored for the oversized requests"
# a flood of connections (more than the limit of 256) that send nothing
fds=
for _ in $(seq 300); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && fds="$fds $fd"
done
set -- $fds
echo "# $# connections opened"
sleep 0.5
for fd in $fds; do exec {fd}>&-; done
sleep 0.5
is "$(code "$(U 't=Rx-t0ken-8841&ref=x&type=1')")" 200 \
	"after 300 idle connections and the oversized requests it still answers"
ok "$(kill -0 "$LPID" 2>/dev/null && echo 0 || echo 1)" "the receiver is still running"
stop

# --- rate ------------------------------------------------------------------------------------
# 30 requests from one curl (one connection, no process per request); the
# bucket holds 5 and refills at 5 a second, so about 5 + 5 x the burst's
# length are served, the rest get 429
start --rate 5
urls=
for i in $(seq 30); do urls="$urls $(U "t=Rx-t0ken-8841&ref=r$i&type=1")"; done
t0=$(date +%s%N)
# shellcheck disable=SC2086
curl -s -o /dev/null -w '%{http_code}\n' $urls >codes.txt
t1=$(date +%s%N)
n429=$(grep -c '^429$' codes.txt)
n200=$(grep -c '^200$' codes.txt)
most=$((5 + 5 * (t1 - t0) / 1000000000 + 1))
ok "$([ "$n429" -ge 1 ] && [ $((n200 + n429)) = 30 ] && echo 0 || echo 1)" \
	"--rate 5: a burst of 30 gets 429s ($n429 in $(((t1 - t0) / 1000000)) ms)"
ok "$([ "$n200" -ge 1 ] && [ "$n200" -le "$most" ] && echo 0 || echo 1)" \
	"and only about the rate is served ($n200, at most $most)"
stop

# --- no token: the loopback only; a token file open to others is refused ------------------------
unset CARNET_CALLBACK_TOKEN
run carnet-sms-fetch --listen '*:0' --ready-file ready2
ok "$([ "$status" != 0 ] && echo 0 || echo 1)" "beyond the loopback without a token: refused ($status)"
like "$err" "token" "the message says a token is needed"
ok "$([ ! -s ready2 ] && echo 0 || echo 1)" "and it never listened"
printf 'tok\n' >open.token
chmod 644 open.token
run carnet-sms-fetch --listen 127.0.0.1:0 --token-file open.token --ready-file ready3
is "$status" 78 "a token file readable by others: exit 78"
like "$err" "open.token" "the message names the file"
unlike "$err" "tok$" "and not the token"
done_testing
