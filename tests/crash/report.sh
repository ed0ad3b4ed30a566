#!/bin/sh
# tests/crash/report.sh FILE: adds up the crash-report lines the
# scenarios appended to FILE (tests/crash/crash.sh) and prints the figure
# of RELIABILITY.md section 1.  Exits 1 when a kill point failed.
[ -s "$1" ] || { echo "crash report: no scenario ran"; exit 0; }
awk '{
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^kill_points=/) { split($i, a, "="); p = a[2] }
		if ($i ~ /^failures=/) { split($i, b, "="); f = b[2] }
	}
	printf "crash report: %-28s %5d kill points, %d failed\n", $3, p, f
	P += p; F += f
} END {
	printf "crash report: total %d kill points, %d failed\n", P, F
	exit F > 0
}' "$1"
