#!/usr/bin/env bash
# bench/stats.sh - carnet-stats against hand-written SQL run by sqlite3 on
# the same store, in the same run (issue 7); the stats section of
# bench/run.sh, which calls it at its end.
#
# It fills one store with bench/gen-messages.c (STATS_MESSAGES messages
# over the 12 months 2025-11 to 2026-10, 50 users, 20 templates, replies
# and opt-outs), then times, BENCH_REPEAT times each:
#   carnet-stats --by month,user  --from 2025-11-01 --to 2026-10-31
#   sqlite3 < bench/stats-month-user.sql     (the same figures in one query)
#   carnet-stats templates        --from 2025-11-01 --to 2026-10-31
#   sqlite3 < bench/stats-templates.sql
# checks that both give the same figures (the script fails if not), and
# prints the medians, the ratios and PASS/MISS against the targets:
# ratio <= 1.5 and under 1 s each.
#
# Environment: CARNET_BIN (default build/bin), STATS_MESSAGES (1000000),
# BENCH_REPEAT (3), BENCH_SEED (1), BENCH_KEEP (1 keeps the store),
# STATS_STORE (a store filled by gen-messages before: copied, not made
# again; the generation takes 25 to 95 s).
# Exit status: 0 when everything ran (whatever the verdicts), 1 when a
# command failed or the figures disagree, 64 on bad settings.

set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/out
CARNET_BIN=${CARNET_BIN:-$root/build/bin}
STATS_MESSAGES=${STATS_MESSAGES:-1000000}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_KEEP=${BENCH_KEEP:-0}
T_RATIO=1.5
T_SECONDS=1.0
PERIOD=(--from 2025-11-01 --to 2026-10-31)

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
for v in STATS_MESSAGES BENCH_REPEAT BENCH_SEED; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] ||
		{ echo "bench: $v must be a number >= 1, not '${!v}'" >&2; exit 64; }
done
stats=$CARNET_BIN/carnet-stats
[[ -x $stats ]] || die "carnet-stats not built ($stats)"
command -v sqlite3 >/dev/null || die "sqlite3 not found (apt-get install sqlite3)"
[[ $(/usr/bin/time --version 2>&1 || true) = *GNU* ]] ||
	die "GNU time not found at /usr/bin/time (apt-get install time)"

mkdir -p "$out"
if [[ ! -x $out/gen-messages || $here/gen-messages.c -nt $out/gen-messages ]]; then
	cc -O2 -std=c11 -Wall -Wextra -o "$out/gen-messages.tmp" \
		"$here/gen-messages.c" -lsqlite3 || die "cannot compile bench/gen-messages.c"
	mv "$out/gen-messages.tmp" "$out/gen-messages"
fi
work=$(mktemp -d "$out/stats.XXXXXX")
ok=0
cleanup() {
	if [[ $BENCH_KEEP = 1 || $ok = 0 ]]; then
		note "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
cd "$work"
export XDG_CONFIG_HOME=$work/xdg/config XDG_DATA_HOME=$work/xdg/data
unset CARNET_STORE CARNET_CONFIG CARNET_FOLDER CARNET_USER CARNET_NOW || true

# the store: carnet's schema (created by carnet-stats), then the history;
# or a copy of STATS_STORE, a store gen-messages filled before
if [[ -n ${STATS_STORE:-} ]]; then
	cp "$STATS_STORE" stats.db || die "cannot copy $STATS_STORE"
	note "stats: using a copy of $STATS_STORE"
else
	"$stats" --store stats.db "${PERIOD[@]}" >/dev/null || die "cannot create the store"
	t0=$SECONDS
	"$out/gen-messages" stats.db "$STATS_MESSAGES" "$BENCH_SEED" >gen.out ||
		die "gen-messages failed"
	note "stats: $(cat gen.out) generated in $((SECONDS - t0))s," \
		"$(du -m stats.db | cut -f1) MB"
fi

timed() { # NAME CMD...: appends "elapsed user sys" to NAME.times
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$name.time" "$@" 2>"$name.err" ||
		{ cat "$name.err" >&2; die "$name failed"; }
	tail -n 1 "$name.time" >>"$name.times"
}
median() { # FILE [cpu]
	awk -v c="${2:-}" '{ print c == "cpu" ? $2 + $3 : $1 }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
			else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

cat "$work/stats.db" >/dev/null	# every run reads it warm
for ((i = 1; i <= BENCH_REPEAT; i++)); do
	timed carnet-month-user bash -c "'$stats' --store stats.db ${PERIOD[*]} \
		--by month,user --format csv > carnet-month-user.csv"
	timed ref-month-user bash -c "sqlite3 -bail -csv stats.db \
		< '$here/stats-month-user.sql' > ref-month-user.csv"
	timed carnet-templates bash -c "'$stats' --store stats.db ${PERIOD[*]} \
		templates --format csv > carnet-templates.csv"
	timed ref-templates bash -c "sqlite3 -bail -csv stats.db \
		< '$here/stats-templates.sql' > ref-templates.csv"
done

# the same figures: carnet's columns less count, the rates, rank
cut -d, -f1,2,4-8,10-12,14-16 carnet-month-user.csv | sed 1d >a.csv
tr -d '"' <ref-month-user.csv >b.csv
cmp -s a.csv b.csv || { diff a.csv b.csv | head >&2; die "month,user: carnet-stats and sqlite3 disagree"; }
cut -d, -f2,4-8,10-12,14-16 carnet-templates.csv | sed 1d >a.csv
tr -d '"' <ref-templates.csv >b.csv
cmp -s a.csv b.csv || { diff a.csv b.csv | head >&2; die "templates: carnet-stats and sqlite3 disagree"; }
note "stats: carnet-stats and sqlite3 give the same figures ($(wc -l <ref-month-user.csv) month,user rows, $(wc -l <ref-templates.csv) templates)"

printf '\n%9s  %-22s %6s %8s %8s   %-8s %8s %7s  %s\n' messages "carnet-stats" runs \
	seconds "cpu s" "" "sqlite3" ratio "targets (ratio <= $T_RATIO, < ${T_SECONDS}s)"
for m in month-user templates; do
	c=$(median "carnet-$m.times")
	cc=$(median "carnet-$m.times" cpu)
	r=$(median "ref-$m.times")
	awk -v n="$STATS_MESSAGES" -v m="$m" -v c="$c" -v cc="$cc" -v r="$r" \
		-v runs="$BENCH_REPEAT" -v tr="$T_RATIO" -v ts="$T_SECONDS" 'BEGIN {
		name = m == "month-user" ? "--by month,user" : "templates"
		ratio = r > 0 ? c / r : 0
		printf "%9s  %-22s %6d %8.2f %8.2f   vs %8.2f s %7.2f  %s %s\n", n, name,
		    runs, c, cc, r, ratio, ratio <= tr + 1e-9 ? "PASS" : "MISS",
		    c < ts ? "PASS" : "MISS" }'
done | tee "$out/last-stats.txt"
ok=1
