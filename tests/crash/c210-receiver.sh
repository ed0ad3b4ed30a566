#!/usr/bin/env bash
# c210-receiver: carnet-sms-fetch --listen receiving a stream of callbacks
# (Kannel's delivery reports, types 8 and 1, and MOs, from 4 clients at
# once over keep-alive connections), killed with SIGKILL at the receiver's
# points (lib/fetch-listen.c: listen.stored, a batch committed before its
# 200s; listen.answered, a 200 sent) at several counts, and by time, then
# started again.  The clients do what Kannel does: a callback not answered
# 200 is sent again, to the next receiver.  After each kill:
# integrity_check ok; every callback answered 200 is in the store exactly
# once (a receipt: one row for its ref and type; an MO: one reply for its
# id); none is there twice, answered or not (one stored, then sent again
# because its 200 never left, is not applied a second time).  At the end
# every callback is in the store exactly once, and every message moved
# to delivered.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/crash/crash.sh"
command -v perl >/dev/null || skip_all "perl is needed"
perl -MHTTP::Tiny -e 1 2>/dev/null || skip_all "perl's HTTP::Tiny is needed"
command -v carnet-sms-fetch >/dev/null || skip_all "carnet-sms-fetch is not built"
backups_off

export CARNET_CALLBACK_TOKEN=crash-c210-token
M=$(crash_scale 200 1500)	# messages; each gets 2 receipts and 1 MO
S=4				# client streams

# --- the messages: sent through the http driver to tests/httpgw.pl ----------------
gw_pid=
echo '200 {"id":"gw-{n}"}' >script
perl "$TOP/tests/httpgw.pl" port script gw.log &
gw_pid=$!
LPID=
_c210_stop() {
	[ -z "$gw_pid" ] || kill "$gw_pid" 2>/dev/null
	[ -z "$LPID" ] || kill -KILL "$LPID" 2>/dev/null
	wait 2>/dev/null
}
trap '_c210_stop; cd /; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || skip_all "tests/httpgw.pl did not start"
cat >gw.yaml <<EOF
backup:
  enabled: false
sms:
  driver: http
  http:
    url: http://127.0.0.1:$(cat port)/send
    body: 'to={{to}}&text={{text}}'
    id_path: id
EOF
awk -v n="$M" 'BEGIN { print "phone"; for (i = 0; i < n; i++) printf "+3366%07d\n", i }' >m.csv
run carnet-sms-send --config gw.yaml --campaign c210 --yes --text 'Mission demain ?' <m.csv
is "$status,$(sql "SELECT count(*) FROM message WHERE status = 'sent'")" "0,$M" "$M messages sent"
kill "$gw_pid" 2>/dev/null
wait "$gw_pid" 2>/dev/null
gw_pid=

# --- the callbacks: S streams, each a file of "KEY TARGET" lines --------------------
# KEY is what the store must hold once: r:REF:TYPE (a receipt), m:ID (an MO)
now=$(date +%s)
sql_raw "SELECT ref, phone FROM message ORDER BY id" | awk -F'|' -v tok="$CARNET_CALLBACK_TOKEN" \
	-v now="$now" -v s="$S" '{
	ph = $2; sub(/^\+/, "%2B", ph)
	out = "stream" (NR % s)
	printf "r:%s:8 /dlr?t=%s&ref=%s&type=8&p=%s&P=%%2B33600000000&ts=%d&A=ACK%%2F\n", $1, tok, $1, ph, now >out
	printf "r:%s:1 /dlr?t=%s&ref=%s&type=1&p=%s&P=%%2B33600000000&ts=%d&A=\n", $1, tok, $1, ph, now + 1 >out
	printf "m:mo-%06d /mo?t=%s&from=%s&to=%%2B33600000000&text=Oui+dispo+%d&time=%d&id=mo-%06d&coding=0&charset=UTF-8\n", NR, tok, ph, NR, now + 2, NR >out
}'
total=$((M * 3))
for i in $(seq 0 $((S - 1))); do echo 0 >"pos$i"; : >"answered$i"; done

# client I PORT: sends stream I from its position, one callback at a
# time on a keep-alive connection; a 200 appends the key to answered$I
# and moves the position on; anything else (the receiver gone, a 503)
# stops the client: that callback is sent again by the next one
cat >client.pl <<'EOF'
use strict;
use warnings;
use HTTP::Tiny;
my ($i, $port) = @ARGV;
open(my $s, '<', "stream$i") or die;
my @l = <$s>;
chomp @l;
open(my $pf, '<', "pos$i") or die;
my $pos = <$pf> + 0;
close $pf;
open(my $af, '>>', "answered$i") or die;
$af->autoflush(1);
my $h = HTTP::Tiny->new(keep_alive => 1, timeout => 10);
while ($pos < @l) {
	my ($key, $target) = split / /, $l[$pos], 2;
	my $r = $h->get("http://127.0.0.1:$port$target");
	last unless $r->{status} == 200;
	print $af "$key\n";
	$pos++;
	open($pf, '>', "pos$i.tmp") or die;
	print $pf "$pos\n";
	close $pf;
	rename "pos$i.tmp", "pos$i";
}
EOF

left() { local n=0 i; for i in $(seq 0 $((S - 1))); do n=$((n + $(wc -l <"stream$i") - $(cat "pos$i"))); done; echo $n; }

# store_keys: every receipt and reply as a key with its count
store_keys() {
	sql_raw "SELECT 'r:' || ref || ':' || raw_type, count(*) FROM receipt GROUP BY 1
		UNION ALL SELECT 'm:' || provider_id, count(*) FROM reply GROUP BY 1" | sort
}

# check WHAT: integrity, then the store against what was answered
check() {
	is "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" ok "$1: integrity_check ok"
	store_keys >keys.txt
	cat answered* | sort >ans.txt
	is "$(awk -F'|' '$2 != 1' keys.txt | head -5 | tr '\n' ' ')" "" \
		"$1: no callback is in the store twice"
	is "$(cut -d'|' -f1 keys.txt | comm -13 - ans.txt | head -5 | tr '\n' ' ')" "" \
		"$1: every callback answered 200 ($(wc -l <ans.txt)) is in the store"
}

# receiver [POINT]: starts the receiver (armed at POINT) in a subshell
# that writes its exit status to lrc (and keeps the shell's "Killed" off
# the test's output); sets LPID (the receiver), WPID (the subshell), PORT
receiver() {
	rm -f ready lpid lrc
	(
		if [ -n "${1:-}" ]; then
			export CARNET_TEST_CRASHPOINT=$1
		fi
		carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready \
			--quiet >>listen.out 2>>listen.err &
		echo $! >lpid
		wait $!
		echo $? >lrc
	) 2>/dev/null &
	WPID=$!
	for _ in $(seq 600); do [ -s ready ] && break; sleep 0.05; done
	LPID=$(cat lpid 2>/dev/null)
	PORT=$(cat ready 2>/dev/null)
}

# receiver_wait: waits for the receiver's end; sets st, its exit status
receiver_wait() {
	wait "$WPID" 2>/dev/null
	st=$(cat lrc 2>/dev/null)
	LPID=
}

# clients: one per stream with something left; sets CPIDS
clients() {
	local i
	CPIDS=
	for i in $(seq 0 $((S - 1))); do
		perl client.pl "$i" "$PORT" &
		CPIDS="$CPIDS $!"
	done
}

points=$(crash_scale \
	"listen.stored:1 listen.answered:5 listen.stored:10 time:0.5 listen.answered:60 listen.stored:40 listen.answered:1 time:1 listen.stored:3 listen.answered:150" \
	"listen.stored:1 listen.answered:5 listen.stored:10 time:0.5 listen.answered:60 listen.stored:40 listen.answered:1 time:1 listen.stored:3 listen.answered:150 \
	 listen.stored:2 listen.stored:4 listen.stored:7 listen.stored:15 listen.stored:25 listen.stored:60 listen.stored:100 listen.stored:200 \
	 listen.answered:2 listen.answered:3 listen.answered:10 listen.answered:20 listen.answered:35 listen.answered:90 listen.answered:250 listen.answered:400 \
	 time:0.2 time:0.3 time:0.7 time:1.5 time:2 time:0.4")

for pt in $points; do
	[ "$(left)" -gt 0 ] || break
	what="$pt ($(left) of $total callbacks left)"
	case $pt in
	time:*) receiver ;;
	*) receiver "$pt" ;;
	esac
	ok "$([ -n "$PORT" ]; echo $?)" "$what: the receiver started"
	[ -n "$PORT" ] || break
	clients
	case $pt in
	time:*)
		sleep "${pt#time:}"
		kill -KILL "$LPID" 2>/dev/null
		;;
	*)
		# until the receiver dies at its point, or the clients are done
		while kill -0 "$LPID" 2>/dev/null; do
			alive=0
			for p in $CPIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
			[ $alive = 1 ] || break
			sleep 0.05
		done
		;;
	esac
	if kill -0 "$LPID" 2>/dev/null; then
		# the clients ended first: a completed run
		kill -TERM "$LPID"
	fi
	receiver_wait
	for p in $CPIDS; do wait "$p" 2>/dev/null; done
	crash_point_begin
	if [ "$st" = 137 ]; then
		check "$what, killed"
		crash_point_end
	else
		is "$st" 0 "$what: ended before the point, stopped by SIGTERM"
		check "$what, completed"
	fi
done

# --- the rest, with a receiver that is not killed ------------------------------------
receiver
clients
for p in $CPIDS; do wait "$p" 2>/dev/null; done
kill -TERM "$LPID"
receiver_wait
is "$st" 0 "the last receiver stops on SIGTERM"
is "$(left)" 0 "every callback was answered 200 in the end"
check "at the end"
is "$(wc -l <keys.txt)" "$total" "the store has the $total callbacks, each once"
is "$(sql "SELECT status, count(*) FROM message GROUP BY 1")" "delivered,$M" "every message is delivered"
is "$(sql "SELECT count(*) FROM reply WHERE campaign_id IS NOT NULL")" "$M" "every MO is a reply to the campaign"

crash_report c210-receiver
done_testing
