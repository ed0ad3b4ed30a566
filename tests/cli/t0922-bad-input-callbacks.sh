#!/usr/bin/env bash
# Bad input, part 3 (issue 9): receipts and replies read by
# carnet-sms-fetch --from-stdin, and callbacks sent with curl to
# carnet-sms-fetch --listen (tests/data/bad/ MANIFEST): injected SQL,
# oversized parameters, missing or wrong tokens, bad numbers, types,
# times and charsets.  Each: the documented exit status or HTTP answer,
# a clear message, the store unchanged.
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || skip_all "curl is not installed (make deps)"
. "$TOP/tests/badinput.sh"
bad_setup

bad_run 'callback/*'

# --- the receiver, with a token -------------------------------------------------
printf 's3cr&t+token\n' >cb.token
chmod 600 cb.token
TOK='s3cr%26t%2Btoken'
carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready --format ndjson \
	--token-file cb.token >events.out 2>events.err &
LPID=$!
trap 'kill $LPID 2>/dev/null; cd /; rm -rf "$T"' EXIT
for _ in $(seq 600); do	# 30 s at most (valgrind is slow)
	[ -s ready ] && break
	sleep 0.05
done
PORT=$(cat ready 2>/dev/null)
[ -n "$PORT" ] || { echo "Bail out! the receiver did not start: $(cat events.err)"; exit 1; }

# listen_req FILE: the file's query string (GET; a POST body for *.post)
# with the token unless the name starts with notoken-; prints the HTTP
# status on stdout, the answer on stderr
listen_req() {
	local q url=http://127.0.0.1:$PORT/cb code
	q=$(cat "$1")
	rm -f "$T/.body"
	case $1 in
	*/notoken-*) ;;
	*) url="$url?t=$TOK" ;;
	esac
	case $1 in
	*.post) code=$(curl -s -o "$T/.body" -w '%{http_code}' --data-binary "@$1" "$url") ;;
	*/notoken-*) code=$(curl -s -o "$T/.body" -w '%{http_code}' "$url?$q") ;;
	*) code=$(curl -s -o "$T/.body" -w '%{http_code}' "$url&$q") ;;
	esac
	echo "$code"
	cat "$T/.body" >&2 2>/dev/null
	return 0
}
BAD_KEEP=1	# the receiver holds the store: compare, never copy over it
bad_run 'listen/*'
kill "$LPID"
wait "$LPID"
is "$?" 0 "the receiver stops cleanly after the bad requests"
done_testing
