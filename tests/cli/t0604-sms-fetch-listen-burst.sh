#!/usr/bin/env bash
# carnet-sms-fetch --listen while the store is busy: each callback waits
# for its commit on a connection of its own, so a burst of delivery
# reports (Kannel opens a connection per report it has to give) holds many
# connections at once.  600 at once, with another process holding the
# store's write lock for a few seconds: every one is answered 200 once
# the lock is gone and stored once; none is closed unanswered (the limit
# was 256 connections, and Kannel never sends a report again: found by
# tests/crash/c200-send-kannel).
. "$(dirname "$0")/../lib.sh"
command -v perl >/dev/null || skip_all "perl is needed"
backups_off
export CARNET_CALLBACK_TOKEN=burst-token
carnet-contacts ls >/dev/null 2>&1	# the store exists

carnet-sms-fetch --listen 127.0.0.1:0 --ready-file ready --quiet >listen.out 2>listen.err &
LPID=$!
trap 'kill "$LPID" 2>/dev/null; cd /; rm -rf "$T"' EXIT
for _ in $(seq 600); do [ -s ready ] && break; sleep 0.05; done
PORT=$(cat ready 2>/dev/null)
[ -n "$PORT" ] || skip_all "the receiver did not start"

# the write lock, held 4 s by another process
sqlite3 "$STORE" "BEGIN IMMEDIATE; INSERT INTO setting(key, value) VALUES('t0604', 'x');" \
	".shell sleep 4" "COMMIT;" &
SPID=$!
sleep 0.3

# 600 connections opened at once, a report sent on each, then every
# answer read: the HTTP status, or "none" when the connection was closed
perl -MIO::Socket::INET -e '
	my ($port, $n) = @ARGV;
	my @s;
	for my $i (1 .. $n) {
		my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
			Timeout => 5) or do { push @s, undef; next };
		print $c "GET /dlr?t=burst-token&ref=burst-$i&type=1&ts=1795000000 HTTP/1.1\r\n" .
			"Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
		push @s, $c;
	}
	for my $c (@s) {
		my $line = $c ? <$c> : undef;
		print defined $line && $line =~ m{^HTTP/1\.\d (\d+)} ? "$1\n" : "none\n";
	}' "$PORT" 600 >codes.txt
wait "$SPID"
is "$(sort codes.txt | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" "200=600 " \
	"600 reports at once while the store is locked: every one answered 200"
is "$(sql "SELECT count(*), count(DISTINCT ref) FROM receipt")" "600,600" "and stored once"
kill -TERM "$LPID"
wait "$LPID"
is "$?" 0 "the receiver stops on SIGTERM"

done_testing
