#!/usr/bin/perl
# tests/httpgw.pl - a scriptable HTTP gateway for the sending tests: it
# answers each request by the next line of a script, logs every request,
# and serves on 127.0.0.1 (port 0: any free port, written to PORTFILE).
#
#   perl tests/httpgw.pl PORTFILE SCRIPT LOG &
#
# SCRIPT lines are consumed one per request (the last one repeats):
#   200 {"id":"abc"}          status and body
#   503 retry=2 busy          status, a Retry-After header, body
#   sleep=3 200 late          wait 3 s before answering
#   close                     close the connection without an answer
# Placeholders in a body: {n} the request's number since the script
# last changed.  LOG gets one JSON line
# per request: n, method, path, query, auth, body.
use strict;
use warnings;
use IO::Socket::INET;

my ($portfile, $script, $log) = @ARGV;
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
				 Listen => 64, ReuseAddr => 1, Proto => 'tcp')
	or die "listen: $!";
open(my $pf, '>', "$portfile.tmp") or die;
print $pf $srv->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile;
$SIG{TERM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';

my $n = 0;
sub jstr {
	my $s = shift // '';
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/\n/\\n/g;
	$s =~ s/\r/\\r/g;
	$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge;
	return "\"$s\"";
}
# the script's lines are counted from its last change
my ($k, $seen) = (0, '');
sub next_line {
	local $/ = "\n";
	open(my $f, '<', $script) or return "200 ok";
	my @l = grep { /\S/ } <$f>;
	close $f;
	chomp @l;
	my $now = join("\n", @l);
	($k, $seen) = (0, $now) if $now ne $seen;
	$k++;
	return @l ? ($k <= @l ? $l[$k - 1] : $l[-1]) : "200 ok";
}

while (my $c = $srv->accept) {
	# one request per connection is enough for the tests; keep-alive
	# clients reconnect
	local $/ = "\r\n";
	my $req = <$c>;
	next unless defined $req;
	my ($method, $target) = split / /, $req;
	my (%h, $line);
	while (defined($line = <$c>) && $line ne "\r\n") {
		$line =~ s/\r\n$//;
		my ($k, $v) = split /:\s*/, $line, 2;
		$h{lc $k} = $v;
	}
	my $body = '';
	read($c, $body, $h{'content-length'}) if $h{'content-length'};
	$n++;
	my ($path, $query) = split /\?/, $target, 2;
	if (open(my $lf, '>>', $log)) {
		printf $lf "{\"n\":%d,\"method\":%s,\"path\":%s,\"query\":%s,\"auth\":%s,\"body\":%s}\n",
			$n, jstr($method), jstr($path), jstr($query // ''),
			jstr($h{authorization} // ''), jstr($body);
		close $lf;
	}
	my $s = next_line();
	if ($s =~ s/^sleep=(\d+(?:\.\d+)?)\s*//) {
		select(undef, undef, undef, $1);
	}
	if ($s =~ /^close/) {
		close $c;
		next;
	}
	my ($status, $rest) = split / /, $s, 2;
	$rest //= '';
	my $extra = '';
	if ($rest =~ s/^retry=(\d+)\s*//) {
		$extra .= "Retry-After: $1\r\n";
	}
	$rest =~ s/\{n\}/$k/g;
	print $c "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
		. "Content-Length: " . length($rest) . "\r\n$extra"
		. "Connection: close\r\n\r\n$rest";
	close $c;
}
