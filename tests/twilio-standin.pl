#!/usr/bin/perl
# tests/twilio-standin.pl - a local stand-in for Twilio's REST API, for
# the pull test of carnet-sms-fetch: it serves recorded pages of the
# message list (GET /2010-04-01/Accounts/{sid}/Messages.json) in the
# format Twilio documents, on 127.0.0.1.
#
#   twilio-standin.pl DIR SID TOKEN PORTFILE
#
# DIR holds the recorded answers: first.json for the first page, and
# PAGETOKEN.json for a request whose query has PageToken=PAGETOKEN (the
# next_page_uri of the previous page).  The request must carry HTTP Basic
# credentials SID:TOKEN (else 401, Twilio's error JSON) and name account
# SID (else 404).  If DIR/status exists, its first line is the HTTP status
# to answer instead (e.g. 503).  Each request line is appended to
# DIR/requests.log.  The port (chosen by the system) is written to
# PORTFILE once listening.  Stops on SIGTERM.
use strict;
use warnings;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);

my ($dir, $sid, $token, $portfile) = @ARGV;
die "usage: $0 DIR SID TOKEN PORTFILE\n" unless defined $portfile;

my $srv = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
	Listen => 16, ReuseAddr => 1) or die "listen: $!\n";
open(my $pf, '>', "$portfile.tmp") or die "$portfile: $!\n";
print $pf $srv->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die "$portfile: $!\n";
$SIG{TERM} = sub { exit 0 };

my $auth = 'Basic ' . encode_base64("$sid:$token", '');

sub answer {
	my ($c, $code, $body) = @_;
	my %text = (200 => 'OK', 401 => 'Unauthorized', 404 => 'Not Found',
		    429 => 'Too Many Requests', 500 => 'Internal Server Error',
		    503 => 'Service Unavailable');
	print $c "HTTP/1.1 $code " . ($text{$code} // 'Status') . "\r\n",
	    "Content-Type: application/json; charset=utf-8\r\n",
	    "Content-Length: " . length($body) . "\r\n",
	    "Connection: close\r\n\r\n", $body;
}

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or return undef;
	local $/;
	my $s = <$fh>;
	return $s;
}

while (my $c = $srv->accept) {
	my $line = <$c>;
	next unless defined $line;
	$line =~ s/\r?\n$//;
	my %h;
	while (my $l = <$c>) {
		$l =~ s/\r?\n$//;
		last if $l eq '';
		$h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*)$/;
	}
	if (open(my $log, '>>', "$dir/requests.log")) {
		print $log "$line\n";
		close $log;
	}
	my ($method, $target) = split / /, $line;
	my ($path, $query) = split /\?/, $target, 2;
	$query //= '';
	my $forced = slurp("$dir/status");
	if (defined $forced) {
		($forced) = $forced =~ /(\d+)/;
		answer($c, $forced, qq({"code": 20500, "message": "stand-in status $forced", "status": $forced}));
	} elsif (($h{authorization} // '') ne $auth) {
		answer($c, 401, '{"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.", "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}');
	} elsif ($method ne 'GET' || $path ne "/2010-04-01/Accounts/$sid/Messages.json") {
		answer($c, 404, '{"code": 20404, "message": "The requested resource was not found", "status": 404}');
	} else {
		my ($pt) = $query =~ /(?:^|&)PageToken=([A-Za-z0-9_-]+)/;
		my $body = slurp("$dir/" . (defined $pt ? "$pt.json" : 'first.json'));
		if (defined $body) {
			answer($c, 200, $body);
		} else {
			answer($c, 404, '{"code": 20404, "message": "no such page", "status": 404}');
		}
	}
	close $c;
}
