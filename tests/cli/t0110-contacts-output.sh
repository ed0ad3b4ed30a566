#!/usr/bin/env bash
# Output discipline: a write error on stdout or on the rejects file exits
# 73 with a message (a full disk is not success); the progress line shows
# only when stderr is a terminal and -q is not given; data goes to stdout
# only, and stderr stays empty on success; the first 20 rejects only.
. "$(dirname "$0")/../lib.sh"
backups_off
cd "$T" || exit 1

printf 'email,first_name\na@x.fr,Ann\nb@x.fr,Bob\n' >ab.csv
carnet-contacts import -q --list L ab.csv >/dev/null

# --- write errors on standard output ---------------------------------------------------------------
for fmt in csv json ndjson table; do
	run sh -c "carnet-contacts export --list L --format $fmt >/dev/full"
	is "$status" 73 "export --format $fmt to /dev/full exits 73"
	like "$err" "write error" "and says 'write error'"
done
run sh -c 'carnet-contacts ls >/dev/full'
is "$status" 73 "ls to /dev/full exits 73"
like "$err" "write error" "and says 'write error'"
run sh -c 'carnet-contacts rm --list L --dry-run >/dev/full'
is "$status" 73 "rm --dry-run to /dev/full exits 73"
run sh -c 'carnet-contacts import --list L --format json ab.csv >/dev/full'
is "$status" 73 "an import whose summary cannot be written exits 73"
like "$err" "write error" "and says 'write error'"
run sh -c 'carnet-contacts --help >/dev/full'
is "$status" 73 "--help to /dev/full exits 73"

# --- the rejects file cannot be written ---------------------------------------------------------
printf 'email,first_name\nc@x.fr,Cid\nbad,X\n' >bad.csv
base=$(store_sum)
touch notadir
run carnet-contacts import --list L --rejects notadir/rejects.csv bad.csv
is "$status" 73 "--rejects under a file that is not a directory exits 73"
like "$err" "notadir/rejects.csv: cannot create" "and names the rejects file"
is "$out" "" "no summary"
is "$(store_sum)" "$base" "nothing is imported"
mkdir ro
chmod 555 ro
if [ "$(id -u)" != 0 ]; then
	run carnet-contacts import --list L --rejects ro/rejects.csv bad.csv
	is "$status" 73 "--rejects into a read-only directory exits 73"
	like "$err" "ro/rejects.csv: cannot create: Permission denied" "and says why"
	is "$(store_sum)" "$base" "nothing is imported"
else
	ok 0 "# SKIP --rejects into a read-only directory: root can write anywhere"
fi
run carnet-contacts import --list L --rejects /dev/full bad.csv
# a rejects file that cannot be written: lost rejects are worse than
# rejects, so 73 wins over 65
is "$status" 73 "--rejects /dev/full (opened, but the rejects are lost) exits 73"
like "$err" "/dev/full: write error" "and says 'write error'"

# --- progress: only on a terminal ----------------------------------------------------------------
awk 'BEGIN { print "email,phone"; for (i = 1; i <= 20000; i++) printf "p%05d@x.fr,06%08d\n", i, i }' >big.csv
run carnet-contacts import --list P big.csv
is "$status" 0 "a 20,000-row import exits 0"
is "$err" "" "stderr is not a terminal: no progress line, stderr empty"
is "$out" "P: 20000 rows: 20000 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
	"stdout has the summary only"
run sh -c 'carnet-contacts export --list P | head -c 1 >/dev/null'
is "$err" "" "a reader that stops early (a closed pipe) is not reported as a write error"
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	# stderr on a pseudo-terminal (script(1)); stdout to a file
	script -qec "carnet-contacts import --list P2 big.csv >tty.out" tty.log >/dev/null 2>&1
	like "$(tr '\r' '\n' <tty.log)" '^importing \[[#.]+\] +[0-9]+% [0-9]+ rows' \
		"stderr a terminal: the progress line shows (control for the test above)"
	is "$(cat tty.out)" "P2: 20000 rows: 20000 inserted, 0 updated, 0 unchanged, 0 skipped, 0 rejected, 0 removed" \
		"and stdout still has the summary only"
	script -qec "carnet-contacts import -q --list P3 big.csv >tty.out" tty.log >/dev/null 2>&1
	unlike "$(cat tty.log)" 'importing' "a terminal with -q: no progress line"
else
	ok 0 "# SKIP script(1) is not available: no pseudo-terminal"
fi

# --- stdout for data, stderr empty on success ----------------------------------------------------
printf 'email,first_name\nq@x.fr,Q\n' >q.csv
for q in "" -q --quiet; do
	run carnet-contacts import $q --list Q q.csv
	is "$status,$err" "0," "a clean import ${q:-without -q}: exit 0, stderr empty"
	like "$out" "^Q: 1 rows: " "and the summary on stdout"
done
run carnet-contacts export --list Q
is "$err" "" "export: stderr empty"
run carnet-contacts ls
is "$err" "" "ls: stderr empty"
run carnet-contacts rm --list Q
is "$err" "" "rm: stderr empty"
run carnet-contacts --help
is "$status" 0 "--help exits 0"
like "$out" "^usage: carnet-contacts" "--help goes to stdout"
is "$err" "" "and nothing to stderr"
run carnet-contacts --version
like "$out" "^carnet-contacts [0-9]+\.[0-9]+" "--version goes to stdout"
run carnet-contacts import --mode nope --list L ab.csv
is "$out" "" "a usage error prints nothing on stdout"
like "$err" "unknown mode" "and its message on stderr"

# --- rejects on stderr: the first 20, then a count ---------------------------------------------------
awk 'BEGIN { print "email"; for (i = 1; i <= 25; i++) printf "bad%02d\n", i }' >bad25.csv
run carnet-contacts import --list R bad25.csv
is "$status" 65 "25 rejected rows exit 65"
is "$(printf '%s\n' "$err" | grep -c 'invalid email')" 20 "the first 20 are reported one by one"
is "$(printf '%s\n' "$err" | tail -1)" "carnet-contacts: bad25.csv: 5 more rejected rows (use --rejects FILE to keep them)" \
	"then the number of the others"
is "$out" "R: 25 rows: 0 inserted, 0 updated, 0 unchanged, 0 skipped, 25 rejected, 0 removed" \
	"the summary is on stdout"
run carnet-contacts import --list R --rejects r.csv bad25.csv
like "$(printf '%s\n' "$err" | tail -1)" "5 more rejected rows \(see the rejects file\)" "with --rejects, it points to the file"
is "$(sed 1d r.csv | wc -l)" 25 "which has all 25"
run carnet-contacts import -q --list R bad25.csv
is "$status" 65 "with -q, rejected rows still exit 65"
is "$err" "" "but stderr is empty"
done_testing
