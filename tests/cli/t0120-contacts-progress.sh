#!/usr/bin/env bash
# The progress bar goes to stderr only when stderr is a terminal; data and
# the summary stay on stdout either way.
. "$(dirname "$0")/../lib.sh"
command -v script >/dev/null || skip_all "script(1) is not installed (bsdutils)"

awk 'BEGIN { print "email,phone"; for (i = 1; i <= 30000; i++) printf "p%d@example.fr,06%08d\n", i, i }' >"$T/big.csv"

# on a terminal (script gives the command a pty for stdout and stderr)
script -qec "carnet-contacts import --list big $T/big.csv" /dev/null >"$T/tty.out" 2>&1
like "$(tr '\r' '\n' <"$T/tty.out")" 'importing \[#+\.*\] +[0-9]+% [0-9]+ rows' "a terminal shows a progress bar"
like "$(cat "$T/tty.out")" 'big: 30000 rows: 30000 inserted' "and the summary"

# not a terminal: no progress, stderr empty
run carnet-contacts import --list big2 "$T/big.csv"
is "$status" 0 "off a terminal the import exits 0"
is "$err" "" "off a terminal stderr stays empty"
is "$out" "big2: 30000 rows: 30000 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" "and stdout has the summary only"

# --quiet silences it on a terminal too
script -qec "carnet-contacts import --quiet --list big3 $T/big.csv" /dev/null >"$T/tty2.out" 2>&1
unlike "$(tr '\r' '\n' <"$T/tty2.out")" 'importing \[' "--quiet shows no progress on a terminal"
done_testing
