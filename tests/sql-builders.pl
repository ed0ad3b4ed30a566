#!/usr/bin/perl
# tests/sql-builders.pl - lists the places in C files that build SQL text
# at run time: a printf-like call (snprintf, sqlite3_mprintf, cn_buf_addf,
# ...) whose format holds an SQL keyword and a conversion, and an append
# of something other than a string literal to a buffer named like "sql".
# One line per place: "FILE FUNCTION WHAT".  t0932 compares them with the
# reviewed list in tests/data/sql-builders.txt, where every builder is
# said to take constants only (values always go through bound parameters).
use strict;
use warnings;

my $kw = qr/\b(?:SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|CREATE|DROP|ALTER|ATTACH|VACUUM|WHERE|FROM)\b/;
my %seen;
for my $file (@ARGV) {
	open my $fh, '<', $file or die "$file: $!\n";
	my $src = do { local $/; <$fh> };
	close $fh;
	(my $short = $file) =~ s{.*/(lib|cmd)/}{$1/};
	# the function a position is in: the last "name(" at a line start
	my @funcs;
	while ($src =~ /^([A-Za-z_]\w*)\(/mg) {
		push @funcs, [pos($src), $1];
	}
	my $func_at = sub {
		my ($p) = @_;
		my $f = '(top)';
		for (@funcs) { last if $_->[0] > $p; $f = $_->[1]; }
		return $f;
	};
	# printf-like calls: the statement up to its ';'
	while ($src =~ /\b(snprintf|sqlite3_v?mprintf|sqlite3_snprintf|cn_buf_addf|asprintf|cn_err_set)\s*\(([^;]*);/g) {
		my ($fn, $args, $p) = ($1, $2, $-[0]);
		next if $fn eq "cn_err_set";	# messages, not SQL
		my $lits = join '', $args =~ /"((?:[^"\\]|\\.)*)"/g;
		my ($dst) = $args =~ /^\s*&?\s*([\w.>-]+)/;
		next unless ($lits =~ $kw && $lits =~ /%[-0-9.]*[a-zA-Z]/) ||
		    ($fn ne 'cn_buf_addf' && defined $dst && $dst =~ /sql|pragma|where/i);
		my $k = sprintf '%s %s %s', $short, $func_at->($p), $fn;
		print "$k\n" unless $seen{$k}++;
	}
	# appends of a variable to an SQL buffer
	while ($src =~ /\b(cn_buf_add[sf]?)\s*\(\s*&?\s*([A-Za-z_][\w.>-]*)\s*,\s*([^"\s][^;]*);/g) {
		my ($fn, $buf, $arg, $p) = ($1, $2, $3, $-[0]);
		next unless $buf =~ /sql/i;
		my $k = sprintf '%s %s %s', $short, $func_at->($p), "$fn(sql, ...)";
		print "$k\n" unless $seen{$k}++;
	}
}
