#!/usr/bin/perl
# tests/fakesmsc.pl - the SMSC side of the test Kannel: a client of
# bearerbox's "smsc = fake" line protocol that records every MT it is
# given and injects MOs when told to.
#
#   fakesmsc.pl --port PORT --log MT.ndjson [--mo-log MO.ndjson]
#               [--control FIFO] [--ready FILE] [--host 127.0.0.1]
#               [--connect-timeout SECONDS]
#
# bearerbox listens on the smsc group's "port"; this script connects to it
# (retrying until --connect-timeout, 10 s by default, and again after
# bearerbox closes the connection) and reads one line per MT, as Kannel
# 1.4.5 writes them (verified against the Debian binary):
#
#   FROM TO text TEXT                  7-bit: the text itself, UTF-8, not
#                                      URL-encoded (a newline in the text
#                                      ends up as a line break: the lines
#                                      that follow and do not look like an
#                                      MT, "X NUMBER text|ucs-2|data|udh"
#                                      with 3 digits or more in NUMBER,
#                                      are joined back to it)
#   FROM TO ucs-2 URLENC               UCS-2: URL-encoded UTF-16BE
#   FROM TO data URLENC                8-bit data
#   FROM TO udh URLENC data URLENC     one part of a long message: the UDH
#                                      and the part's bytes (UTF-8 text for
#                                      7-bit, UTF-16BE for UCS-2: the line
#                                      does not say which, see "coding")
#
# Each MT becomes one line of JSON appended to --log (one write per batch,
# so the file only ever holds whole lines):
#
#   {"n":1,"time":1795343552.123,"from":"ACME","to":"+33612345678",
#    "type":"text|ucs-2|data|udh","coding":"7bit|ucs-2|8bit",
#    "text":"…UTF-8…","udh":"050003..","ref":10,"parts":2,"part":1,
#    "hex":"…data bytes…","raw":"…the line…"}
#
# udh/ref/parts/part only for parts (ref, parts and part from the
# concatenation element 00 or 08 of the UDH); hex only for 8-bit and
# parts.  The coding of a part is guessed from its bytes: UCS-2 when they
# hold a NUL byte or are not valid UTF-8 and their length is even (Kannel
# writes 7-bit text as UTF-8, which has neither), 7bit otherwise.
#
# MOs: each line written to the --control FIFO is one command:
#
#   mo FROM TO URLENC        the text (URL-encoded UTF-8), sent as a "text"
#                            line when it is plain GSM 03.38 text, else as
#                            "ucs2" (URL-encoded UTF-16BE)
#   mo-text FROM TO URLENC   forced "text"
#   mo-ucs2 FROM TO URLENC   forced "ucs2"
#   raw LINE                 LINE as it is
#
# and every MO written to bearerbox is appended to --mo-log as
# {"n":…,"time":…,"from":…,"to":…,"coding":…,"text":…,"raw":…}.
#
# SIGTERM or SIGINT: writes what it holds and exits 0.  Exits 1 when it
# cannot connect within the timeout.

use strict;
use warnings;
use Encode qw(decode encode);
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Fcntl qw(O_RDWR O_NONBLOCK);
use Getopt::Long qw(GetOptions);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(mkfifo);
use Time::HiRes qw(time sleep);

my %o = (host => '127.0.0.1', 'connect-timeout' => 10);
GetOptions(\%o, 'host=s', 'port=i', 'log=s', 'mo-log=s', 'control=s',
	'ready=s', 'connect-timeout=f')
	or die "usage: fakesmsc.pl --port PORT --log FILE [--mo-log FILE]"
	. " [--control FIFO] [--ready FILE]\n";
defined $o{port} && defined $o{log} or die "fakesmsc: --port and --log are required\n";

my $json = JSON::PP->new->utf8->canonical;
$json->allow_nonref;
my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
$SIG{PIPE} = 'IGNORE';

sub say_err { print STDERR "fakesmsc: @_\n" }

open my $log, '>>', $o{log} or die "fakesmsc: $o{log}: $!\n";
my $molog;
if (defined $o{'mo-log'}) {
	open $molog, '>>', $o{'mo-log'} or die "fakesmsc: $o{'mo-log'}: $!\n";
}

# The control FIFO, opened read-write so that it never reads EOF when a
# writer goes away.
my $ctl;
if (defined $o{control}) {
	if (!-p $o{control}) {
		mkfifo($o{control}, 0600) or die "fakesmsc: mkfifo $o{control}: $!\n";
	}
	sysopen($ctl, $o{control}, O_RDWR | O_NONBLOCK)
		or die "fakesmsc: $o{control}: $!\n";
}

sub urldecode
{
	my $s = shift;
	$s =~ s/\+/ /g;
	$s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
	return $s;
}

sub urlencode
{
	my $s = shift;
	$s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
	return $s;
}

sub utf8_text
{
	my $bytes = shift;
	return decode('UTF-8', $bytes, Encode::FB_DEFAULT);
}

# The concatenation element of a UDH: (ref, parts, part) or ().
sub concat
{
	my @b = unpack 'C*', shift;
	my $i = 1;	# after the UDH length
	while ($i + 1 < @b) {
		my ($iei, $len) = @b[$i, $i + 1];
		if ($iei == 0 && $len == 3 && $i + 4 < @b) {
			return @b[$i + 2, $i + 3, $i + 4];
		}
		if ($iei == 8 && $len == 4 && $i + 5 < @b) {
			return ($b[$i + 2] * 256 + $b[$i + 3], @b[$i + 4, $i + 5]);
		}
		$i += 2 + $len;
	}
	return ();
}

# n goes on from the records already in the logs (a restarted fake SMSC)
sub count_lines
{
	my $n = 0;
	open my $f, '<', $_[0] or return 0;
	$n++ while <$f>;
	return $n;
}
my $mt_n = count_lines($o{log});
my $mo_n = defined $o{'mo-log'} ? count_lines($o{'mo-log'}) : 0;
my $out = '';		# records not written yet
my $pending;		# the last MT line: a continuation may follow

sub record
{
	my ($raw) = @_;
	my ($from, $to, $type, $rest) =
		$raw =~ /^(.+?) (\S+) (text|ucs-2|data|udh)(?: (.*))?\z/s;
	if (!defined $type) {
		say_err "unparsed line: $raw";
		return;
	}
	$rest //= '';
	my %r = (n => ++$mt_n, time => 0 + sprintf('%.3f', time),
		from => utf8_text($from), to => utf8_text($to), type => $type,
		raw => utf8_text($raw));
	if ($type eq 'text') {
		@r{qw(coding text)} = ('7bit', utf8_text($rest));
	} elsif ($type eq 'ucs-2') {
		@r{qw(coding text)} = ('ucs-2',
			decode('UTF-16BE', urldecode($rest), Encode::FB_DEFAULT));
	} elsif ($type eq 'data') {
		my $d = urldecode($rest);
		@r{qw(coding text hex)} = ('8bit', utf8_text($d), unpack('H*', $d));
	} else {
		my ($u, $d) = $rest =~ /^(\S*) data (.*)\z/s
			or do { say_err "unparsed udh line: $raw"; $mt_n--; return };
		$u = urldecode($u);
		$d = urldecode($d);
		$r{udh} = unpack 'H*', $u;
		$r{hex} = unpack 'H*', $d;
		my @c = concat($u);
		@r{qw(ref parts part)} = @c if @c;
		if (length($d) % 2 == 0 && ($d =~ /\0/ || !eval {
			decode('UTF-8', $d, Encode::FB_CROAK | Encode::LEAVE_SRC);
			1 })) {
			@r{qw(coding text)} = ('ucs-2',
				decode('UTF-16BE', $d, Encode::FB_DEFAULT));
		} else {
			@r{qw(coding text)} = ('7bit', utf8_text($d));
		}
	}
	$out .= $json->encode(\%r) . "\n";
}

# A line that starts a new MT (the receiver is a number of 3 digits or
# more: short codes, phone numbers);
# any other line continues the text of the one before
sub is_mt_line { $_[0] =~ /^.+? \+?[0-9]{3,} (?:text|ucs-2|data|udh)(?: |\z)/s }

sub flush_pending
{
	if (defined $pending) {
		record($pending);
		undef $pending;
	}
	if (length $out) {
		my $off = 0;
		while ($off < length $out) {
			my $w = syswrite $log, $out, length($out) - $off, $off;
			die "fakesmsc: write $o{log}: $!\n" unless defined $w;
			$off += $w;
		}
		$out = '';
	}
}

# GSM 03.38: the basic set and the extension table, as Unicode.
my $gsm = join '', map { chr } (
	0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8,
	0xF8, 0x0D, 0xC5, 0xE5, 0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0,
	0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9, 0xA4, 0xA1, 0xC4,
	0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
	0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC);
my $gsm_re = qr/\A[ -#%-?A-Z a-z\Q$gsm\E]*\z/;

sub mo_line
{
	my ($cmd, $arg) = @_;
	return ($arg, undef, undef, 'raw', undef) if $cmd eq 'raw';
	my ($from, $to, $enc) = $arg =~ /^(\S+) (\S+) ?(.*)\z/s
		or do { say_err "bad control line: $cmd $arg"; return };
	my $text = decode('UTF-8', urldecode($enc), Encode::FB_DEFAULT);
	my $coding = $cmd eq 'mo-text' ? 'text' : $cmd eq 'mo-ucs2' ? 'ucs2'
		: ($text =~ $gsm_re && $text !~ /[\r\n]/) ? 'text' : 'ucs2';
	my $body = $coding eq 'text' ? encode('UTF-8', $text)
		: urlencode(encode('UTF-16BE', $text));
	return ("$from $to $coding $body", $from, $to, $coding, $text);
}

my $sock;
my $inbuf = '';
my $ctlbuf = '';
my @mo_queue;	# MOs waiting for a connection

sub connect_kannel
{
	my $deadline = time + $o{'connect-timeout'};
	while (!$stop) {
		my $s = IO::Socket::INET->new(PeerAddr => $o{host},
			PeerPort => $o{port}, Proto => 'tcp');
		if ($s) {
			$s->blocking(0);
			$s->autoflush(1);
			say_err "connected to $o{host}:$o{port}";
			if (defined $o{ready}) {
				open my $r, '>', $o{ready} or die "fakesmsc: $o{ready}: $!\n";
				close $r;
			}
			return $s;
		}
		if (time > $deadline) {
			say_err "cannot connect to $o{host}:$o{port}: $!";
			return;
		}
		sleep 0.05;
	}
	return;
}

sub send_mo
{
	my ($line, $from, $to, $coding, $text) = @_;
	my $data = "$line\n";
	my $off = 0;
	my $sel = IO::Select->new($sock);
	while ($off < length $data) {
		my $w = syswrite $sock, $data, length($data) - $off, $off;
		if (!defined $w) {
			if ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR) {
				$sel->can_write(1);
				next;
			}
			return 0;
		}
		$off += $w;
	}
	if ($molog) {
		my %r = (n => ++$mo_n, time => 0 + sprintf('%.3f', time),
			coding => $coding, raw => decode('UTF-8', $line, Encode::FB_DEFAULT));
		$r{from} = $from if defined $from;
		$r{to} = $to if defined $to;
		$r{text} = $text if defined $text;
		syswrite $molog, $json->encode(\%r) . "\n";
	}
	return 1;
}

$sock = connect_kannel() or exit($stop ? 0 : 1);
while (!$stop) {
	my $sel = IO::Select->new($sock);
	$sel->add($ctl) if $ctl;
	my @ready = $sel->can_read(defined $pending ? 0.02 : 0.2);
	if (!@ready) {
		flush_pending();
		next;
	}
	for my $fh (@ready) {
		if ($ctl && $fh == $ctl) {
			my $n = sysread $ctl, $ctlbuf, 65536, length $ctlbuf;
			next unless $n;
			while ($ctlbuf =~ s/^([^\n]*)\n//) {
				my $l = $1;
				next if $l =~ /^\s*\z/;
				my ($cmd, $arg) = $l =~ /^(\S+) ?(.*)\z/s;
				if ($cmd !~ /^(?:mo|mo-text|mo-ucs2|raw)\z/) {
					say_err "unknown control command: $l";
					next;
				}
				my @mo = mo_line($cmd, $arg);
				push @mo_queue, \@mo if @mo;
			}
			next;
		}
		my $n = sysread $sock, $inbuf, 65536, length $inbuf;
		next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
		if (!$n) {
			flush_pending();
			$pending = length $inbuf ? $inbuf : undef;
			$inbuf = '';
			flush_pending();
			say_err "connection closed by bearerbox, reconnecting";
			close $sock;
			$sock = connect_kannel() or exit($stop ? 0 : 1);
			last;
		}
		while ((my $i = index $inbuf, "\n") >= 0) {
			my $line = substr $inbuf, 0, $i;
			substr($inbuf, 0, $i + 1) = '';
			if (defined $pending && !is_mt_line($line)) {
				$pending .= "\n$line";
				next;
			}
			record($pending) if defined $pending;
			$pending = $line;
		}
	}
	while (@mo_queue) {
		send_mo(@{ $mo_queue[0] }) or last;
		shift @mo_queue;
	}
	# whole batches, so a reader never sees half a record
	if (length $out >= 65536) {
		my $keep = $pending;
		undef $pending;
		flush_pending();
		$pending = $keep;
	}
}
flush_pending();
exit 0;
