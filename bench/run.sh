#!/usr/bin/env bash
# bench/run.sh - carnet-contacts import/export against the sqlite3 shell;
# carnet-backup and carnet-restore against sqlite3 | gzip and an import.
#
# For each size in BENCH_ROWS it generates one contacts CSV (bench/gen.c),
# then times, on that same file and in the same run:
#   import  sqlite3 .import --csv into a table with a UNIQUE index on email
#           carnet-contacts import --mode upsert --key email (normalises too)
#   export  sqlite3 -csv 'SELECT * FROM contacts' > file
#           carnet-contacts export --format csv > file
#   backup  sqlite3 -csv 'SELECT * FROM contacts' | gzip -1 > file
#           carnet-backup create --list bench          (target <= 1.2)
#   restore carnet-restore ID --mode upsert, into the unchanged list and
#           into an empty one, against carnet-contacts import --mode
#           upsert of the same rows                   (target <= 1.1)
# and prints elapsed and CPU seconds (medians of the runs), peak RSS (the
# largest of the runs), the carnet/sqlite3 ratios and PASS/MISS against
# the targets of issue 2: import ratio <= 1.0, export ratio <= 1.1, peak
# RSS <= 128 MiB, and peak RSS at the largest size within 1.25x of the
# smallest.
#
# Environment:
#   CARNET_BIN    directory of carnet-contacts (default: build/bin)
#   BENCH_ROWS    sizes, default "100000 1000000"
#   BENCH_REPEAT  runs of each measurement, default 3 (the median is kept)
#   BENCH_BUDGET  seconds one size may take, default 400; when one more
#                 round of the four measurements would exceed it, no more
#                 are made and the table says how many ran (0: no limit).
#                 Three rounds at 1,000,000 rows took 2.5 to 5 minutes on
#                 the 2-CPU machine of bench/RESULTS.md.
#   BENCH_SEED    generator seed, default 1
#   BENCH_KEEP    1 keeps the work directory under bench/out/
#   BENCH_SMS     0 skips the SMS section (bench/sms.sh, which also runs
#                 alone: BENCH_SMS_COUNT, BENCH_SENDSMS_CLIENT)
#
# Each run starts from an empty database.  The page cache cannot be
# dropped without root, so the CSV is read once (cat > /dev/null) before
# each timed import: every run reads it warm.  The stores are hermetic:
# XDG_* point into the work directory and CARNET_* are unset.
#
# Exit status: 0 when everything ran, whether the targets were met or not
# (it is a report); 1 when a command failed or the sanity checks (row
# counts) disagree; 64 on bad settings.

set -euo pipefail
export LC_NUMERIC=C	# awk and sort -g read and print "1.25", not "1,25"

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/out

CARNET_BIN=${CARNET_BIN:-$root/build/bin}
BENCH_ROWS=${BENCH_ROWS:-"100000 1000000"}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_BUDGET=${BENCH_BUDGET:-400}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_KEEP=${BENCH_KEEP:-0}

MAP='E-mail=email,Mobile=phone,Prénom=first_name,Nom=last_name'
SCHEMA='CREATE TABLE contacts(email TEXT, phone TEXT, first_name TEXT,
  last_name TEXT, city TEXT, notes TEXT);
CREATE UNIQUE INDEX contacts_email ON contacts(email);'
LIST=bench

# Targets (issue 2, "Performance"; issue 3 for backup and restore).
T_IMPORT=1.0
T_EXPORT=1.1
T_BACKUP=1.2
T_RESTORE=1.1
T_RSS_MIB=128
T_GROWTH=1.25

die() { echo "bench: $*" >&2; exit 1; }
usage() { echo "bench: $*" >&2; exit 64; }
note() { echo "bench: $*" >&2; }

for v in BENCH_REPEAT BENCH_BUDGET BENCH_SEED; do
	[[ ${!v} =~ ^[0-9]+$ ]] || usage "$v must be a number, not '${!v}'"
done
[[ $BENCH_REPEAT -ge 1 ]] || usage "BENCH_REPEAT must be at least 1"
for n in $BENCH_ROWS; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || usage "BENCH_ROWS: invalid size '$n'"
done

command -v sqlite3 >/dev/null ||
	die "sqlite3 not found (apt-get install sqlite3)"
command -v cc >/dev/null || die "cc not found (apt-get install gcc)"
gnu_time=$(/usr/bin/time --version 2>&1 || true)
[[ $gnu_time = *GNU* ]] ||
	die "GNU time not found at /usr/bin/time (apt-get install time)"

carnet=$CARNET_BIN/carnet-contacts
have_carnet=1
if [[ ! -x $carnet ]]; then
	have_carnet=0
	note "carnet-contacts not built ($carnet): measuring sqlite3 only"
fi
backup=$CARNET_BIN/carnet-backup
restore=$CARNET_BIN/carnet-restore
have_backup=$have_carnet
if [[ ! -x $backup || ! -x $restore ]]; then
	have_backup=0
	note "carnet-backup/carnet-restore not built: no backup measurements"
fi

# --- the generator ----------------------------------------------------
mkdir -p "$out"
if [[ ! -x $out/gen || $here/gen.c -nt $out/gen ]]; then
	cc -O2 -std=c11 -Wall -Wextra -o "$out/gen.tmp" "$here/gen.c" ||
		die "cannot compile bench/gen.c"
	mv "$out/gen.tmp" "$out/gen"
fi

work=$(mktemp -d "$out/run.XXXXXX")
ok=0
cleanup() {
	if [[ $BENCH_KEEP = 1 ]]; then
		note "work directory kept: $work"
	elif [[ $ok = 1 ]]; then
		rm -rf "$work"
	else
		note "work directory kept for inspection: $work"
	fi
}
trap cleanup EXIT
cd "$work"

export XDG_CONFIG_HOME=$work/xdg/config XDG_DATA_HOME=$work/xdg/data
export XDG_STATE_HOME=$work/xdg/state XDG_CACHE_HOME=$work/xdg/cache
unset CARNET_STORE CARNET_CONFIG CARNET_FOLDER CARNET_USER || true

# --- helpers ----------------------------------------------------------

# timed NAME CMD...: runs CMD (stdin/stdout as given by the caller, stderr
# to NAME.err) under GNU time; appends "elapsed KiB user sys" to NAME.times.
timed() {
	local name=$1
	shift
	if ! /usr/bin/time -f '%e %M %U %S' -o "$name.time" "$@" 2>"$name.err"; then
		echo "bench: $name failed: $*" >&2
		sed 's/^/  /' "$name.err" | tail -n 20 >&2
		head -n 1 "$name.time" | sed 's/^/  /' >&2
		exit 1
	fi
	tail -n 1 "$name.time" >>"$name.times"
}

# median FILE: the median of the elapsed seconds (mean of the middle two
# when the count is even); median FILE cpu: the same for user + sys.
median() {
	awk -v c="${2:-}" '{ print c == "cpu" ? $3 + $4 : $1 }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
			else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# peak FILE: the largest RSS of the runs, in MiB.
peak() {
	awk '$2 > m { m = $2 } END { printf "%.1f\n", m / 1024 }' "$1"
}

# csv_records FILE: number of CSV records (line breaks outside quotes).
csv_records() {
	awk '{ q += gsub(/"/, "\"") } q % 2 == 0 { n++ } END { print n + 0 }' "$1"
}

warm() { cat "$csv" >/dev/null; }

ref_import() {
	rm -f ref.db ref.db-journal
	warm
	timed ref-import sqlite3 -bail ref.db "$SCHEMA" \
		".import --csv --skip 1 $csv contacts" </dev/null
	[[ ! -s ref-import.err ]] || {
		sed 's/^/  /' ref-import.err | head -n 20 >&2
		die "sqlite3 .import reported errors (above)"
	}
}

ref_export() {
	timed ref-export sqlite3 -bail -csv ref.db 'SELECT * FROM contacts' \
		</dev/null >ref.csv
}

carnet_import() {
	rm -f carnet.db carnet.db-wal carnet.db-shm carnet.db-journal
	warm
	timed carnet-import "$carnet" --store carnet.db import --list "$LIST" \
		--map "$MAP" --key email --mode upsert <"$csv" >carnet-import.out
}

carnet_export() {
	timed carnet-export "$carnet" --store carnet.db export --list "$LIST" \
		--format csv </dev/null >carnet.csv
}

# Issue 3: a backup of the list against sqlite3 -csv | gzip -1 of the same
# rows; a restore (upsert) of that backup into the unchanged list and into
# an empty list against carnet-contacts import --mode upsert of the same
# rows (the backup exported as CSV).  Automatic backups stay on: a restore
# and an import into an existing list both take one first.
ref_backup() {
	timed ref-backup bash -c "sqlite3 -bail -csv ref.db 'SELECT * FROM
		contacts' | gzip -1 > ref.csv.gz" </dev/null
}

carnet_backup() {
	rm -rf backups
	timed carnet-backup "$backup" --store carnet.db --format csv \
		create --list "$LIST" </dev/null >carnet-backup.out
	bid=$(tail -n 1 carnet-backup.out | cut -d, -f1)
	[[ $bid =~ ^[0-9]+$ ]] || die "carnet-backup create printed no id"
	"$backup" --store carnet.db export "$bid" --format csv >backup-rows.csv
}

carnet_restores() {
	timed restore-same "$restore" --store carnet.db "$bid" \
		--mode upsert </dev/null >/dev/null
	timed import-same "$carnet" --store carnet.db import --list "$LIST" \
		--mode upsert backup-rows.csv </dev/null >/dev/null
	timed restore-empty "$restore" --store carnet.db "$bid" \
		--into "empty-r$runs" --mode upsert </dev/null >/dev/null
	timed import-empty "$carnet" --store carnet.db import \
		--list "empty-i$runs" --mode upsert backup-rows.csv \
		</dev/null >/dev/null
}

# carnet_members: members of the list, read from the store with sqlite3.
carnet_members() {
	sqlite3 -bail carnet.db "SELECT count(*) FROM member m
		JOIN list l ON l.id = m.list_id WHERE l.name = '$LIST';"
}

# carnet_normalised: warns (does not fail) when the store holds phones
# that are not E.164 French mobiles or emails whose domain is not lower
# case: the import would then be doing less work than it claims.
carnet_normalised() {
	local bad
	bad=$(sqlite3 -bail -separator ' ' carnet.db "ATTACH 'ref.db' AS ref" "
		SELECT sum(phone IS NOT NULL AND phone <> '' AND phone NOT GLOB
		    '+33[67][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
		  sum(substr(email, instr(email, '@')) GLOB '*[A-Z]*'),
		  sum(phone IS NULL OR phone = ''),
		  (SELECT count(*) FROM ref.contacts WHERE phone = '')
		FROM contact;") || { note "cannot read contacts from carnet.db"; return 0; }
	local phones domains nophone csv_nophone
	read -r phones domains nophone csv_nophone <<<"$bad"
	[[ ${phones:-0} = 0 ]] ||
		note "WARNING: $phones phones in carnet.db are not E.164 (+33...)"
	[[ ${domains:-0} = 0 ]] ||
		note "WARNING: $domains emails in carnet.db keep an upper-case domain"
	note "$n rows: carnet.db: phones not E.164: ${phones:-?}," \
		"upper-case domains: ${domains:-?}," \
		"contacts without phone: ${nophone:-?} (in the CSV: ${csv_nophone:-?})"
}

results=$work/results.tsv
: >"$results"

# --- the machine ------------------------------------------------------
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo "machine: $(nproc) CPUs, ${model:-unknown model}, $mem RAM, $(uname -sr)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)" \
	"at $(date '+%Y-%m-%d %H:%M')"
echo "sqlite3: $(sqlite3 --version | cut -d' ' -f1-2)"
if [[ $have_carnet = 1 ]]; then
	version=$("$carnet" --version 2>/dev/null | head -n 1 || echo '?')
	echo "carnet:  $version ($carnet)"
fi
echo "runs:    up to $BENCH_REPEAT per measurement," \
	"${BENCH_BUDGET}s budget per size, seed $BENCH_SEED"
echo

# --- the runs ---------------------------------------------------------
for n in $BENCH_ROWS; do
	csv=$work/contacts-$n.csv
	"$out/gen" "$n" "$BENCH_SEED" >"$csv" || die "gen $n failed"
	note "$n rows: $(du -m "$csv" | cut -f1) MB of CSV"
	rm -f ./*.times
	start=$SECONDS
	runs=0
	while [[ $runs -lt $BENCH_REPEAT ]]; do
		t0=$SECONDS
		ref_import
		ref_export
		if [[ $have_carnet = 1 ]]; then
			carnet_import
			carnet_export
		fi
		if [[ $have_backup = 1 ]]; then
			ref_backup
			carnet_backup
			carnet_restores
		fi
		runs=$((runs + 1))
		round=$((SECONDS - t0))
		note "$n rows: run $runs done in ${round}s"
		if [[ $BENCH_BUDGET -gt 0 && $runs -lt $BENCH_REPEAT &&
			$((SECONDS - start + round)) -gt $BENCH_BUDGET ]]; then
			note "$n rows: another run would exceed ${BENCH_BUDGET}s, stopping at $runs"
			break
		fi
	done

	# Sanity: every tool saw and wrote every row.
	got=$(sqlite3 ref.db 'SELECT count(*) FROM contacts')
	[[ $got = "$n" ]] || die "$n rows: sqlite3 imported $got rows"
	got=$(csv_records ref.csv)
	[[ $got = "$n" ]] || die "$n rows: sqlite3 exported $got records"
	if [[ $have_carnet = 1 ]]; then
		got=$(carnet_members) || die "cannot count the members in carnet.db"
		[[ $got = "$n" ]] ||
			die "$n rows: carnet-contacts imported $got members, expected $n"
		carnet_normalised
		got=$(csv_records carnet.csv)
		if head -n 1 carnet.csv | grep -q email; then
			got=$((got - 1))	# less the header
		fi
		[[ $got = "$n" ]] ||
			die "$n rows: carnet-contacts exported $got records, expected $n"
		said=$(cat carnet-import.out carnet-import.err | grep . | tail -n 1 || true)
		note "$n rows: carnet-contacts import said: ${said:-nothing}"
	fi

	if [[ $have_backup = 1 ]]; then
		got=$(csv_records backup-rows.csv)
		[[ $((got - 1)) = "$n" ]] ||
			die "$n rows: the backup holds $((got - 1)) rows, expected $n"
		for l in "$LIST" "empty-r$((runs - 1))" "empty-i$((runs - 1))"; do
			got=$(sqlite3 carnet.db "SELECT count(*) FROM member m JOIN
				list l ON l.id = m.list_id WHERE l.name = '$l'")
			[[ $got = "$n" ]] ||
				die "$n rows: list $l has $got members, expected $n"
		done
	fi

	for m in ref-import ref-export carnet-import carnet-export \
		ref-backup carnet-backup restore-same import-same \
		restore-empty import-empty; do
		[[ -s $m.times ]] || continue
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$m" "$runs" \
			"$(median "$m.times")" "$(peak "$m.times")" \
			"$(median "$m.times" cpu)" >>"$results"
	done
done

# --- the report -------------------------------------------------------
# results.tsv: rows, measurement, runs, median seconds, peak MiB, median
# CPU seconds (user + sys).
awk -F'\t' -v ti="$T_IMPORT" -v te="$T_EXPORT" -v tr="$T_RSS_MIB" \
	-v tg="$T_GROWTH" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
$2 !~ /^(ref|carnet)-(import|export)$/ { next }
{
	n = $1; m = $2; split(m, p, "-"); tool = p[1]; op = p[2]
	sec[n, m] = $4; rss[n, m] = $5; runs[n, m] = $3; cpu[n, m] = $6
	if (!(n in seen)) { seen[n] = 1; sizes[++ns] = n }
	line[++nl] = n SUBSEP m
}
END {
	printf "%9s  %-6s  %-8s %4s %8s %8s %9s %7s  %-14s %s\n", "rows",
	    "op", "tool", "runs", "seconds", "cpu s", "peak MiB", "ratio",
	    "time target", "RSS target"
	for (i = 1; i <= nl; i++) {
		split(line[i], k, SUBSEP); n = k[1]; m = k[2]
		split(m, p, "-"); tool = (p[1] == "ref") ? "sqlite3" : "carnet"
		op = p[2]
		if (tool == "sqlite3") {
			printf "%9s  %-6s  %-8s %4s %8.2f %8.2f %9.1f\n", n, op,
			    tool, runs[n, m], sec[n, m], cpu[n, m], rss[n, m]
			continue
		}
		ref = sec[n, "ref-" op]
		t = (op == "import") ? ti : te
		if (ref > 0) {
			r = sec[n, m] / ref
			rs = sprintf("%.2f", r)
			tv = sprintf("%s <= %.1f", verdict(r <= t + 1e-9), t)
		} else {
			rs = "n/a"; tv = "n/a (ref 0s)"
		}
		printf "%9s  %-6s  %-8s %4s %8.2f %8.2f %9.1f %7s  %-14s %s <= %d\n",
		    n, op, tool, runs[n, m], sec[n, m], cpu[n, m], rss[n, m], rs,
		    tv, verdict(rss[n, m] <= tr), tr
	}
	if (ns >= 2) {
		lo = sizes[1]; hi = sizes[ns]
		for (j = 1; j <= 2; j++) {
			op = (j == 1) ? "import" : "export"
			m = "carnet-" op
			if (!((lo, m) in rss) || !((hi, m) in rss)) continue
			g = rss[hi, m] / rss[lo, m]
			printf "RSS growth %s: %s rows %.1f MiB -> %s rows " \
			    "%.1f MiB = %.2fx  %s <= %.2fx\n",
			    op, lo, rss[lo, m], hi, rss[hi, m], g,
			    verdict(g <= tg + 1e-9), tg
		}
	}
}' "$results" | tee "$out/last-results.txt"
awk -F'\t' -v tb="$T_BACKUP" -v trs="$T_RESTORE" -v tr="$T_RSS_MIB" '
function verdict(ok) { return ok ? "PASS" : "MISS" }
{ sec[$1, $2] = $4; rss[$1, $2] = $5; cpu[$1, $2] = $6; runs[$1, $2] = $3
  if (!($1 in seen)) { seen[$1] = 1; sizes[++ns] = $1 } }
function row(n, name, m, ref, t) {
	if (!((n, m) in sec) || !((n, ref) in sec)) return
	r = sec[n, ref] > 0 ? sec[n, m] / sec[n, ref] : 0
	printf "%9s  %-28s %8.2f %8.2f %9.1f   vs %8.2f s  ratio %5.2f  %s <= %.1f  %s\n",
	    n, name, sec[n, m], cpu[n, m], rss[n, m], sec[n, ref], r,
	    verdict(r <= t + 1e-9), t,
	    verdict(rss[n, m] <= tr) " RSS <= " tr
}
END {
	if (!ns) exit
	printf "\n%9s  %-28s %8s %8s %9s\n", "rows", "backup and restore",
	    "seconds", "cpu s", "peak MiB"
	for (i = 1; i <= ns; i++) {
		n = sizes[i]
		row(n, "backup create (sqlite3|gzip)", "carnet-backup",
		    "ref-backup", tb)
		row(n, "restore upsert, unchanged", "restore-same",
		    "import-same", trs)
		row(n, "restore upsert, empty list", "restore-empty",
		    "import-empty", trs)
	}
}' "$results" | tee -a "$out/last-results.txt"
if [[ $have_carnet = 0 ]]; then
	echo "carnet: not measured (carnet-contacts not built: $carnet)" |
		tee -a "$out/last-results.txt"
fi

# --- carnet-stats (issue 7) ---------------------------------------------
# bench/stats.sh: --by month,user and templates on 1,000,000 messages
# against the same figures in one sqlite3 query each; BENCH_STATS=0 skips
# it, and it runs alone as bench/stats.sh.
if [[ ${BENCH_STATS:-1} = 1 ]]; then
	CARNET_BIN=$CARNET_BIN BENCH_REPEAT=$BENCH_REPEAT BENCH_SEED=$BENCH_SEED \
		"$here/stats.sh" || die "the carnet-stats benchmark failed"
fi

# --- carnet-sms-fetch --listen (issue 6) -----------------------------------
# bench/callback.sh: 20,000 receipt callbacks over 8 keep-alive
# connections, stored, against a libmicrohttpd server that stores
# nothing; BENCH_FETCH=0 skips it, and it runs alone as bench/callback.sh.
if [[ ${BENCH_FETCH:-1} = 1 ]]; then
	CARNET_BIN=$CARNET_BIN BENCH_REPEAT=$BENCH_REPEAT \
		"$here/callback.sh" || die "the callback benchmark failed"
fi

# --- carnet-sms-send (issue 5) -------------------------------------------
# bench/sms.sh: 10,000 messages through a local Kannel (tests/kannel.sh)
# with delivery reports, carnet-sms-send --parallel 16 against
# bench/sendsms-client on 16 keep-alive connections; BENCH_SMS=0 skips
# it, and it runs alone as bench/sms.sh (BENCH_SMS_COUNT messages).
bench_sms() {
	CARNET_BIN=$CARNET_BIN BENCH_REPEAT=$BENCH_REPEAT BENCH_KEEP=$BENCH_KEEP \
		"$here/sms.sh" || die "the SMS benchmark failed"
}
if [[ ${BENCH_SMS:-1} = 1 ]]; then
	bench_sms
fi

# --- carnet-sync (issue 8) -------------------------------------------------
# bench/sync.sh: 100,000 contacts pushed and pulled through a local
# PouchDB Server against PouchDB's own replicator and curl _bulk_docs, the
# incremental and the no-op sync; BENCH_SYNC=0 skips it, and it runs alone
# as bench/sync.sh (BENCH_SYNC_ROWS, BENCH_SYNC_REPEAT).  Exit 77: node or
# pouchdb-server missing (make deps), reported and skipped.
if [[ ${BENCH_SYNC:-1} = 1 ]]; then
	st=0
	CARNET_BIN=$CARNET_BIN BENCH_KEEP=$BENCH_KEEP "$here/sync.sh" || st=$?
	[[ $st = 0 || $st = 77 ]] || die "the sync benchmark failed"
fi
ok=1
