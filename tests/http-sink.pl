#!/usr/bin/perl
# tests/http-sink.pl - a small HTTP server on 127.0.0.1 that records the
# request line of every request and answers each with an empty 200: the
# receiver of Kannel's get-url (MOs) and dlr-url (delivery reports) in the
# tests and the SMS benchmark.
#
#   http-sink.pl --port-file FILE [--log FILE] [--status CODE]
#
# It listens on a free port of 127.0.0.1 and writes that port to
# --port-file (renamed into place, so a reader never sees half of it),
# then appends "METHOD TARGET" of each request to --log, one per line,
# written before the answer is sent.  Connections are kept alive (HTTP/1.1,
# or HTTP/1.0 with "Connection: keep-alive") and served together, so the
# benchmark's thousands of callbacks cost little.  Request bodies are read
# (Content-Length) and dropped.  --status answers another code (e.g. 500).
# SIGTERM or SIGINT: exits 0.

use strict;
use warnings;
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Getopt::Long qw(GetOptions);
use IO::Select;
use IO::Socket::INET;

my %o = (status => 200);
GetOptions(\%o, 'port-file=s', 'log=s', 'status=i')
	&& defined $o{'port-file'}
	or die "usage: http-sink.pl --port-file FILE [--log FILE] [--status CODE]\n";

my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	Listen => 128, ReuseAddr => 1) or die "http-sink: listen: $!\n";
$l->blocking(0);
my $log;
if (defined $o{log}) {
	open $log, '>>', $o{log} or die "http-sink: $o{log}: $!\n";
}
open my $pf, '>', "$o{'port-file'}.tmp" or die "http-sink: $o{'port-file'}: $!\n";
print $pf $l->sockport, "\n";
close $pf;
rename "$o{'port-file'}.tmp", $o{'port-file'} or die "http-sink: rename: $!\n";

my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
$SIG{PIPE} = 'IGNORE';
my %reason = (200 => 'OK', 400 => 'Bad Request', 403 => 'Forbidden',
	404 => 'Not Found', 500 => 'Internal Server Error',
	503 => 'Service Unavailable');
my $answer = sprintf "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n",
	$o{status}, $reason{$o{status}} // 'Status';

my $sel = IO::Select->new($l);
my %in;		# fd => bytes read, not yet parsed
while (!$stop) {
	for my $fh ($sel->can_read(0.5)) {
		if ($fh == $l) {
			while (my $c = $l->accept) {
				$c->blocking(0);
				$sel->add($c);
				$in{fileno $c} = '';
			}
			next;
		}
		my $fd = fileno $fh;
		my $n = sysread $fh, $in{$fd}, 65536, length $in{$fd};
		next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
		my $close = !$n;
		my ($lines, $out) = ('', '');
		# every complete request in the buffer
		while (!$close && $in{$fd} =~ /\r?\n\r?\n/) {
			my $end = $+[0];
			my $head = substr $in{$fd}, 0, $end;
			my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
			$len //= 0;
			last if length($in{$fd}) < $end + $len;
			substr($in{$fd}, 0, $end + $len) = '';
			my ($method, $target, $version) =
				$head =~ /^(\S+) (\S+)(?: HTTP\/(\d\.\d))?/;
			$method //= '?';
			$target //= '?';
			$version //= '1.0';
			$lines .= "$method $target\n";
			my $keep = $version eq '1.1'
				? $head !~ /^Connection:\s*close/mi
				: $head =~ /^Connection:\s*keep-alive/mi;
			$out .= $answer . ($keep ? "\r\n" : "Connection: close\r\n\r\n");
			$close = !$keep;
		}
		if (length $lines && $log) {
			syswrite $log, $lines;
		}
		if (length $out) {
			$fh->blocking(1);
			my $off = 0;
			while ($off < length $out) {
				my $w = syswrite $fh, $out, length($out) - $off, $off;
				last unless $w;
				$off += $w;
			}
			$fh->blocking(0);
		}
		if ($close) {
			$sel->remove($fh);
			delete $in{$fd};
			close $fh;
		}
	}
}
exit 0;
