#!/usr/bin/perl
# tests/faultproxy.pl - a fault-injecting HTTP/1.1 proxy for the fault
# tests (t0940, t0941): it forwards each request to a real upstream
# (Kannel's smsbox, PouchDB Server) and breaks some of them on purpose.
#
#   perl tests/faultproxy.pl PORTFILE UPSTREAM CONTROL LOG &
#
# It listens on 127.0.0.1, port 0 (any free port, written to PORTFILE);
# UPSTREAM is http://HOST:PORT; SIGTERM ends it (and the connections it
# is serving).  LOG gets one JSON line per request: n (from 1, over the
# whole run), t (Unix time, ms precision, when the request was read),
# method, path, query (a password= parameter shown as "***"), rule (the
# line of CONTROL applied, "" for none), fwd (1 when the request reached
# the upstream), up (the upstream's status, 0 for none), status (what the
# client got, 0 for nothing), ms (the time until the answer, or until
# the connection was dropped).
#
# CONTROL is read again for each request, so that a test can change the
# faults while a client runs; the counts start again whenever its text
# changes.  One rule a line ('#' starts a comment):
#
#   METHOD PATH-REGEX FAULT [OPTION...]
#
# or "upstream http://HOST:PORT", which sends the requests there instead
# of UPSTREAM (a server restarted elsewhere, at the same address for the
# client).
# METHOD is GET, POST... or * (any); PATH-REGEX a Perl regex matched on
# the request target (path and query).  The first rule that matches and
# still applies is used; no rule: the request is forwarded as it is.
# Options:
#   count=N        applies to the first N requests it matches, then no more
#   skip=N         lets the first N requests it matches pass first
#   p=F            applies with probability F (0..1), drawn from a
#                  generator seeded by FAULTPROXY_SEED (default 1) and the
#                  request's number: the same run gives the same draws
#   forward        the request is forwarded first (the upstream applies
#                  it), then the fault replaces the answer
#   retry-after=N  adds a Retry-After: N header to the answer
#   body=TEXT      the answer's body (the rest of the line; \n for a
#                  newline); with a status fault
# Faults:
#   pass           forward (a rule that only counts, or stops later rules)
#   NNN            answer with status NNN (500, 503, 202, 409...): without
#                  forward, the upstream never sees the request and the
#                  body is body=TEXT (default a short text); with forward,
#                  the upstream's body comes back under status NNN
#   garbage        200 with a body of random bytes (not JSON, not Kannel)
#   timeout        never answer: hold the connection until the client
#                  gives up (with forward: the request was applied)
#   close          close the connection without an answer (with forward:
#                  "the request was applied, the answer was lost");
#                  refuse is the same
#   drop-mid       forward, then send the headers and half the body, and
#                  close (the client sees a transfer cut short)
#   slow=MS        forward, then wait MS milliseconds before answering
#   trickle=MS     forward, then send the answer 64 bytes at a time with
#                  MS milliseconds between them
#   conflicts      _bulk_docs as a 409 storm: answer 201 with a
#                  "conflict" error for every _id of the request, without
#                  forwarding
#
# Each connection gets its own process; keep-alive is kept with the
# client, the upstream gets one connection per request (Connection:
# close), its answer read by Content-Length, chunked or to the end, and
# passed back with a Content-Length.  Expect: 100-continue is answered.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Fcntl qw(:flock O_RDWR O_CREAT);
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(time sleep);
use POSIX qw(:sys_wait_h);

my ($portfile, $upstream, $control, $log) = @ARGV;
die "usage: faultproxy.pl PORTFILE UPSTREAM CONTROL LOG\n" unless defined $log;
my ($uphost, $upport) = $upstream =~ m{^http://([^/:]+):(\d+)/?$}
	or die "faultproxy: UPSTREAM must be http://HOST:PORT\n";
my $seed = $ENV{FAULTPROXY_SEED} // 1;
my $statefile = "$log.state";

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
				 Listen => 128, ReuseAddr => 1, Proto => 'tcp')
	or die "faultproxy: listen: $!\n";
{
	open(my $pf, '>', "$portfile.tmp") or die "faultproxy: $portfile: $!\n";
	print $pf $srv->sockport, "\n";
	close $pf;
	rename "$portfile.tmp", $portfile or die "faultproxy: $portfile: $!\n";
}

my %kids;
my $parent = $$;
$SIG{PIPE} = 'IGNORE';
$SIG{TERM} = sub {
	if ($$ == $parent) {
		kill 'TERM', keys %kids;
	}
	exit 0;
};
$SIG{CHLD} = sub {
	while ((my $p = waitpid(-1, WNOHANG)) > 0) { delete $kids{$p}; }
};

sub jstr {
	my $s = shift // '';
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge;
	return "\"$s\"";
}

# The rules of CONTROL: a list of hashes, and the text's digest
sub rules {
	my @r;
	my $text = '';
	if (open(my $f, '<', $control)) {
		local $/;
		$text = <$f> // '';
		close $f;
	}
	my $i = 0;
	for my $line (split /\n/, $text) {
		$i++;
		$line =~ s/^\s+|\s+$//g;
		next if $line eq '' || $line =~ /^#/;
		if ($line =~ m{^upstream\s+http://([^/:]+):(\d+)/?$}) {
			($uphost, $upport) = ($1, $2);
			next;
		}
		my $body;
		$body = $1 if $line =~ s/\s*\bbody=(.*)$//;
		my ($m, $re, $fault, @opt) = split ' ', $line;
		next unless defined $fault;
		my %r = (i => $i, line => $line . (defined $body ? " body=$body" : ''),
			 method => $m, re => $re, fault => $fault);
		if (defined $body) {
			$body =~ s/\\n/\n/g;
			$r{body} = $body;
		}
		for (@opt) {
			if (/^(count|skip|p|retry-after)=(.*)$/) { $r{$1} = $2; }
			elsif ($_ eq 'forward') { $r{forward} = 1; }
		}
		push @r, \%r;
	}
	return (\@r, md5_hex($text));
}

# decide(METHOD, TARGET): the request's number and the rule that applies
# (undef for none); the counts live in a state file shared by every
# connection's process, under a lock
sub decide {
	my ($method, $target) = @_;
	sysopen(my $sf, $statefile, O_RDWR | O_CREAT, 0600)
		or die "faultproxy: $statefile: $!\n";
	flock($sf, LOCK_EX) or die "faultproxy: flock: $!\n";
	local $/;
	my $st = <$sf> // '';
	my ($n, $digest, @seen) = split /\n/, $st;
	$n ||= 0;
	$digest //= '';
	my %seen = map { split /=/, $_, 2 } @seen;
	my ($rules, $now) = rules();
	%seen = () if $now ne $digest;
	$n++;
	my $hit;
	for my $r (@$rules) {
		next unless $r->{method} eq '*' || $r->{method} eq $method;
		next unless eval { $target =~ /$r->{re}/ };
		my $k = $seen{$r->{i}} // 0;
		$seen{$r->{i}} = $k + 1;
		next if defined $r->{skip} && $k < $r->{skip};
		my $used = $seen{"u$r->{i}"} // 0;
		next if defined $r->{count} && $used >= $r->{count};
		if (defined $r->{p}) {
			# a hash, not srand: rand() right after srand of
			# nearby seeds gives nearby numbers
			my $draw = hex(substr(md5_hex("$seed:$n:$r->{i}"), 0, 8)) / 4294967296;
			next unless $draw < $r->{p};
		}
		$seen{"u$r->{i}"} = $used + 1;
		$hit = $r;
		last;
	}
	seek($sf, 0, 0);
	truncate($sf, 0);
	print $sf join("\n", $n, $now, map { "$_=$seen{$_}" } sort keys %seen), "\n";
	close $sf;
	return ($n, $hit);
}

sub logline {
	my (%e) = @_;
	my $q = $e{query} // '';
	$q =~ s/(^|&)(password=)[^&]*/$1$2***/g;
	open(my $lf, '>>', $log) or return;
	printf $lf "{\"n\":%d,\"t\":%.3f,\"method\":%s,\"path\":%s,\"query\":%s,"
		. "\"rule\":%s,\"fwd\":%d,\"up\":%d,\"status\":%d,\"ms\":%d}\n",
		$e{n}, $e{t}, jstr($e{method}), jstr($e{path}), jstr($q),
		jstr($e{rule}), $e{fwd} ? 1 : 0, $e{up} // 0, $e{status} // 0,
		int($e{ms} // 0);
	close $lf;
}

# read_headers(SOCK): the header lines up to the blank line, as a list
# of [name, value], or undef at the end of the stream
sub read_headers {
	my $s = shift;
	my @h;
	local $/ = "\n";
	while (defined(my $l = <$s>)) {
		$l =~ s/\r?\n$//;
		return \@h if $l eq '';
		my ($k, $v) = split /:\s*/, $l, 2;
		push @h, [$k, $v // ''];
	}
	return undef;
}

sub header {
	my ($h, $name) = @_;
	for (@$h) { return $_->[1] if lc $_->[0] eq lc $name; }
	return undef;
}

# read_body(SOCK, HEADERS, TO_EOF): the body, by Content-Length,
# chunked, or (answers only) to the end of the stream; undef when cut
sub read_body {
	my ($s, $h, $to_eof) = @_;
	my $te = header($h, 'Transfer-Encoding') // '';
	my $body = '';
	if ($te =~ /chunked/i) {
		local $/ = "\n";
		for (;;) {
			my $l = <$s>;
			return undef unless defined $l;
			my ($size) = $l =~ /^([0-9a-fA-F]+)/;
			return undef unless defined $size;
			$size = hex $size;
			if ($size == 0) {
				# trailers up to the blank line
				while (defined(my $t = <$s>)) { last if $t =~ /^\r?\n$/; }
				return $body;
			}
			my $chunk = '';
			while (length $chunk < $size) {
				my $r = read($s, $chunk, $size - length $chunk, length $chunk);
				return undef unless $r;
			}
			$body .= $chunk;
			<$s>;	# the CRLF after the chunk
		}
	}
	my $len = header($h, 'Content-Length');
	if (defined $len) {
		while (length $body < $len) {
			my $r = read($s, $body, $len - length $body, length $body);
			return undef unless $r;
		}
		return $body;
	}
	return '' unless $to_eof;
	local $/;
	my $rest = <$s>;
	return $body . ($rest // '');
}

# forward(METHOD, TARGET, HEADERS, BODY): the upstream's answer as
# (status, reason, headers, body), or () when it could not be had
sub forward {
	my ($method, $target, $h, $body) = @_;
	my $u = IO::Socket::INET->new(PeerAddr => $uphost, PeerPort => $upport,
				       Proto => 'tcp', Timeout => 10) or return ();
	my $req = "$method $target HTTP/1.1\r\nHost: $uphost:$upport\r\n";
	for (@$h) {
		next if $_->[0] =~ /^(host|connection|keep-alive|expect|transfer-encoding|content-length|proxy-.*|te)$/i;
		$req .= "$_->[0]: $_->[1]\r\n";
	}
	$req .= "Content-Length: " . length($body) . "\r\n"
		if length $body || $method =~ /^(POST|PUT)$/;
	$req .= "Connection: close\r\n\r\n$body";
	print $u $req;
	local $/ = "\n";
	my $sl = <$u>;
	return () unless defined $sl;
	$sl =~ s/\r?\n$//;
	my (undef, $code, $reason) = split / /, $sl, 3;
	my $rh = read_headers($u) or return ();
	my $rb = $method eq 'HEAD' || $code =~ /^(1..|204|304)$/ ? ''
		: read_body($u, $rh, 1);
	close $u;
	return () unless defined $rb;
	return ($code, $reason // '', $rh, $rb);
}

# answer(SOCK, STATUS, HEADERS, BODY, KEEP, %how): writes the answer with
# a Content-Length; how: trickle => ms, cut => 1 (half the body, no more)
sub answer {
	my ($c, $code, $h, $body, $keep, %how) = @_;
	my $out = "HTTP/1.1 $code " . ($code =~ /^2/ ? 'OK' : 'Fault') . "\r\n";
	for (@$h) {
		next if $_->[0] =~ /^(connection|keep-alive|transfer-encoding|content-length)$/i;
		$out .= "$_->[0]: $_->[1]\r\n";
	}
	$out .= "Content-Length: " . length($body) . "\r\n";
	$out .= "Connection: " . ($keep ? 'keep-alive' : 'close') . "\r\n\r\n";
	if ($how{cut}) {
		print $c $out . substr($body, 0, int(length($body) / 2));
		return;
	}
	$out .= $body;
	if ($how{trickle}) {
		$c->autoflush(1);
		while (length $out) {
			print $c substr($out, 0, 64, '');
			sleep($how{trickle} / 1000) if length $out;
		}
		return;
	}
	print $c $out;
}

# hold(SOCK): waits until the client closes (or 10 minutes, or the proxy
# is gone)
sub hold {
	my $c = shift;
	my $sel = IO::Select->new($c);
	my $end = time + 600;
	while (time < $end && getppid() == $parent) {
		if ($sel->can_read(0.5)) {
			my $buf;
			last unless sysread($c, $buf, 4096);
		}
	}
}

sub serve {
	my $c = shift;
	$c->autoflush(1);
	for (;;) {
		local $/ = "\n";
		my $rl = <$c>;
		return unless defined $rl;
		$rl =~ s/\r?\n$//;
		next if $rl eq '';
		my ($method, $target, $ver) = split / /, $rl;
		$ver //= 'HTTP/1.0';
		my $h = read_headers($c) or return;
		if ((header($h, 'Expect') // '') =~ /100-continue/i) {
			print $c "HTTP/1.1 100 Continue\r\n\r\n";
		}
		my $body = read_body($c, $h, 0);
		return unless defined $body;
		my $t0 = time;
		my $conn = lc(header($h, 'Connection') // '');
		my $keep = $ver eq 'HTTP/1.1' ? $conn ne 'close' : $conn eq 'keep-alive';
		my ($path, $query) = split /\?/, $target, 2;
		my ($n, $r) = decide($method, $target);
		my %e = (n => $n, t => $t0, method => $method, path => $path,
			 query => $query, rule => $r ? $r->{line} : '');
		my $fault = $r ? $r->{fault} : 'pass';
		my $fwd = !$r || $r->{forward} || $fault eq 'pass'
			|| $fault =~ /^(drop-mid|slow=\d+|trickle=\d+)$/;
		my @up;
		if ($fwd) {
			$e{fwd} = 1;
			@up = forward($method, $target, $h, $body);
			unless (@up) {
				# the upstream is down: so is the proxy, for the client
				$e{ms} = (time - $t0) * 1000;
				logline(%e);
				return;
			}
			$e{up} = $up[0];
		}
		my @extra;
		push @extra, ['Retry-After', $r->{'retry-after'}]
			if $r && defined $r->{'retry-after'};
		my $done = sub { $e{ms} = (time - $t0) * 1000; logline(%e); };
		if ($fault eq 'pass') {
			$e{status} = $up[0];
			answer($c, $up[0], $up[2], $up[3], $keep);
		} elsif ($fault =~ /^\d{3}$/) {
			my ($hh, $bb);
			if ($fwd) {
				($hh, $bb) = ($up[2], $up[3]);
			} else {
				$hh = [['Content-Type', 'text/plain']];
				$bb = $r->{body} // "fault $fault";
			}
			$bb = $r->{body} if defined $r->{body};
			$e{status} = $fault;
			answer($c, $fault, [@$hh, @extra], $bb, $keep);
		} elsif ($fault eq 'garbage') {
			my $g = join '', map { chr(int(rand(256))) } 1 .. 200;
			$e{status} = 200;
			answer($c, 200, [['Content-Type', 'application/json'], @extra],
			       "\x00\xff<html>$g", $keep);
		} elsif ($fault eq 'timeout') {
			$done->();
			hold($c);
			return;
		} elsif ($fault eq 'close' || $fault eq 'refuse') {
			$done->();
			return;
		} elsif ($fault eq 'drop-mid') {
			$e{status} = $up[0];
			$done->();
			answer($c, $up[0], $up[2], $up[3], 0, cut => 1);
			return;
		} elsif ($fault =~ /^slow=(\d+)$/) {
			sleep($1 / 1000);
			$e{status} = $up[0];
			answer($c, $up[0], [@{$up[2]}, @extra], $up[3], $keep);
		} elsif ($fault =~ /^trickle=(\d+)$/) {
			$e{status} = $up[0];
			answer($c, $up[0], $up[2], $up[3], $keep, trickle => $1);
		} elsif ($fault eq 'conflicts') {
			my @ids = $body =~ /"_id"\s*:\s*"((?:[^"\\]|\\.)*)"/g;
			my $b = '[' . join(',', map { "{\"id\":\"$_\",\"error\":"
				. "\"conflict\",\"reason\":\"Document update conflict.\"}" }
				@ids) . ']';
			$e{status} = 201;
			answer($c, 201, [['Content-Type', 'application/json'], @extra],
			       $b, $keep);
		} else {
			warn "faultproxy: unknown fault '$fault': forwarded\n";
			$e{status} = $up[0] // 0;
			@up ? answer($c, $up[0], $up[2], $up[3], $keep) : return;
		}
		$done->();
		return unless $keep;
	}
}

while (1) {
	my $c = $srv->accept;
	next unless $c;	# interrupted by SIGCHLD
	my $pid = fork;
	if (!defined $pid) {
		close $c;
		next;
	}
	if ($pid == 0) {
		$SIG{CHLD} = 'DEFAULT';
		$SIG{TERM} = sub { exit 0 };
		close $srv;
		serve($c);
		close $c;
		exit 0;
	}
	$kids{$pid} = 1;
	close $c;
}
