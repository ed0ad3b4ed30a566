#!/usr/bin/env bash
# bench/sms.sh - carnet-sms-send through a local Kannel against a minimal
# sendsms client, in the same run (issue 5); the SMS section of
# bench/run.sh (bench_sms), which calls it at its end.
#
# It starts the Kannel of the tests (tests/kannel.sh: bearerbox and smsbox
# on 127.0.0.1, tests/fakesmsc.pl as the SMSC, tests/http-sink.pl as the
# receiver of the delivery reports), writes BENCH_SMS_COUNT recipients
# (+3361…, a CSV with a "phone" column) and, BENCH_REPEAT times each:
#   bench/sendsms-client -c 16   the same sendsms GET requests (same
#                                parameters, coding=0 too) over 16
#                                keep-alive connections (libcurl multi),
#                                nothing else: no rendering, no store
#   carnet-sms-send --parallel 16 --config CFG --store STORE --campaign
#       bench --text 'Bench message' --yes < recipients.csv
#                                (a new store each run)
# both with delivery reports requested as carnet's Kannel driver asks for
# them (dlr-mask=31, dlr-url = sms.kannel.dlr_url?t=TOKEN&ref=REF&type=%d
# &p=%p&P=%P&ts=%T&A=%A).  The rate of a run is the messages accepted
# (HTTP 202; for carnet, the messages 'sent' in its store) divided by the
# elapsed seconds of the whole process.  Before the next run starts, the
# fake SMSC must have received every message and the sink every report
# (two per message: 8 then 1): Kannel still delivering the reports of one
# run would slow the next.  It prints the medians, carnet's rate over the
# client's, and PASS/MISS against the target: ratio >= 0.8.
#
# Environment: CARNET_BIN (default build/bin), BENCH_SMS_COUNT (10000),
# BENCH_REPEAT (3), BENCH_SENDSMS_CLIENT (the client built by make:
# $(B)/bench/sendsms-client; else compiled into bench/out/), BENCH_KEEP
# (1 keeps the work directory: Kannel's configuration and logs).
# Without Kannel (make deps installs it) or carnet-sms-send, it says so
# and measures what it can.  Exit status: 0 when it ran (a report, target
# met or not), 1 when a command failed or a message went missing, 64 on
# bad settings.

set -euo pipefail
export LC_NUMERIC=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$here/out
CARNET_BIN=${CARNET_BIN:-$root/build/bin}
N=${BENCH_SMS_COUNT:-10000}
R=${BENCH_REPEAT:-3}
BENCH_KEEP=${BENCH_KEEP:-0}
CONNS=16
TEXT='Bench message'
T_RATIO=0.8
DRAIN=120	# seconds allowed for the SMSC and the reports to catch up

die() { echo "bench/sms: $*" >&2; exit 1; }
note() { echo "bench/sms: $*" >&2; }
for v in N R; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] ||
		{ echo "bench/sms: $v must be a number >= 1, not '${!v}'" >&2; exit 64; }
done
[[ $(/usr/bin/time --version 2>&1 || true) = *GNU* ]] ||
	die "GNU time not found at /usr/bin/time (apt-get install time)"

# --- the client --------------------------------------------------------
client=${BENCH_SENDSMS_CLIENT:-}
if [[ -z $client || ! -x $client ]]; then
	mkdir -p "$out"
	client=$out/sendsms-client
	if [[ ! -x $client || $here/sendsms-client.c -nt $client ]]; then
		cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$client.tmp" \
			"$here/sendsms-client.c" -lcurl ||
			die "cannot compile bench/sendsms-client.c (libcurl4-openssl-dev)"
		mv "$client.tmp" "$client"
	fi
fi
send=$CARNET_BIN/carnet-sms-send
have_send=1
if [[ ! -x $send ]]; then
	have_send=0
	note "carnet-sms-send not built ($send): measuring the client only"
fi

mkdir -p "$out"
work=$(mktemp -d "$out/sms.XXXXXX")
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
export XDG_STATE_HOME=$work/xdg/state XDG_CACHE_HOME=$work/xdg/cache
unset CARNET_STORE CARNET_CONFIG CARNET_FOLDER CARNET_USER \
	CARNET_KANNEL_PASSWORD CARNET_CALLBACK_TOKEN || true

# --- the gateway -------------------------------------------------------
# Kannel logs warnings and errors only: its debug and info lines would cost
# as much as the work measured.
KANNEL_DIR=$work/kannel
KANNEL_LOG_LEVEL=3
# shellcheck source=../tests/kannel.sh
. "$root/tests/kannel.sh"
st=0
kannel_require || st=$?
[[ $st != 0 ]] || http_sink_start "$work/dlr.log"
[[ $st != 0 ]] || kannel_start || st=$?
if [[ $st != 0 ]]; then
	echo "sms: not measured (bearerbox/smsbox not found: make deps installs kannel)" |
		tee "$out/last-sms.txt"
	ok=1
	exit 0
fi
: >"$work/dlr.log"

awk -v n="$N" 'BEGIN { print "phone"; for (i = 1; i <= n; i++)
	printf "+3361%07d\n", i }' >recipients.csv
token=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && echo "$token" >token)
dlr_url=http://127.0.0.1:$HTTP_SINK_PORT/dlr
cfg=$work/carnet.yaml
(
	umask 077
	cat "$KANNEL_CARNET_YAML"
	printf '    dlr_url: %s\n  callback:\n    token_file: %s\n' \
		"$dlr_url" "$work/token"
) >"$cfg"

# drained WANT_MT WANT_DLR: waits until the fake SMSC holds WANT_MT
# messages and the sink WANT_DLR reports; fails after $DRAIN seconds
drained() {
	local mt=$1 dlr=$2 i=0
	while [[ $(fakesmsc_count) -lt $mt || $(wc -l <"$work/dlr.log") -lt $dlr ]]; do
		i=$((i + 1))
		if [[ $i -gt $((DRAIN * 10)) ]]; then
			note "after ${DRAIN}s: the fake SMSC holds $(fakesmsc_count)" \
				"messages (expected $mt), the sink $(wc -l <"$work/dlr.log")" \
				"reports (expected $dlr)"
			return 1
		fi
		sleep 0.1
	done
	# more than expected would be messages sent twice
	[[ $(fakesmsc_count) -eq $mt ]] ||
		{ note "the fake SMSC holds $(fakesmsc_count) messages, expected $mt"; return 1; }
}

# timed NAME CMD...: runs CMD under GNU time (stderr to NAME.err); appends
# "elapsed user sys" to NAME.time
timed() {
	local name=$1
	shift
	if ! /usr/bin/time -f '%e %U %S' -o "$name.t" "$@" 2>"$name.err"; then
		note "$name failed: $*"
		sed 's/^/  /' "$name.err" | tail -n 20 >&2
		return 1
	fi
	tail -n 1 "$name.t" >>"$name.time"
}

# rate NAME NOTE: appends "msg/s elapsed cpu" of NAME's last run to
# NAME.rates, and says it
rate() {
	tail -n 1 "$1.time" | awk -v n="$N" \
		'{ printf "%.1f %.2f %.2f\n", n / $1, $1, $2 + $3 }' >>"$1.rates"
	note "run $run: $1 $(tail -n 1 "$1.rates" | cut -d' ' -f1)/s $2"
}

mt=0 dlr=0
: >client.rates
: >carnet.rates
for ((run = 1; run <= R; run++)); do
	timed client "$client" --connections "$CONNS" --url "$KANNEL_SENDSMS_URL" \
		--user "$KANNEL_USER" --password-file "$KANNEL_PASSWORD_FILE" \
		--recipients recipients.csv --text "$TEXT" --coding 0 --dlr-mask 31 \
		--dlr-url "$dlr_url?t=$token&ref={ref}&type=%d&p=%p&P=%P&ts=%T&A=%A" \
		>client.out || die "the client failed (client.err)"
	accepted=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' client.out)
	[[ $accepted = "$N" ]] ||
		die "the client: $accepted of $N accepted ($(cat client.out))"
	mt=$((mt + N)) dlr=$((dlr + 2 * N))
	drained "$mt" "$dlr" || die "messages or reports of the client went missing"
	rate client "($(cat client.out))"

	[[ $have_send = 1 ]] || continue
	rm -f store.db store.db-wal store.db-shm
	timed carnet "$send" --parallel "$CONNS" --config "$cfg" --store store.db \
		--campaign bench --text "$TEXT" --yes --format csv \
		<recipients.csv >carnet.out ||
		die "carnet-sms-send failed (carnet.err)"
	accepted=$(sqlite3 store.db "SELECT count(*) FROM message WHERE status = 'sent'")
	[[ $accepted = "$N" ]] ||
		die "carnet-sms-send: $accepted of $N messages sent ($(tail -n 1 carnet.err))"
	mt=$((mt + N)) dlr=$((dlr + 2 * N))
	drained "$mt" "$dlr" || die "messages or reports of carnet-sms-send went missing"
	rate carnet "($(tail -n 1 carnet.err))"
done
kannel_stop

# median FILE COLUMN
median() {
	cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

{
	printf '\n%s messages to Kannel 1.4.5 (fake SMSC), dlr-mask 31, %s connections, %s runs\n' \
		"$N" "$CONNS" "$R"
	printf '%-28s %10s %9s %8s\n' "sms" "msg/s" "seconds" "cpu s"
	printf '%-28s %10s %9s %8s\n' "sendsms-client (reference)" \
		"$(median client.rates 1)" "$(median client.rates 2)" "$(median client.rates 3)"
	if [[ $have_send = 1 ]]; then
		printf '%-28s %10s %9s %8s\n' "carnet-sms-send --parallel 16" \
			"$(median carnet.rates 1)" "$(median carnet.rates 2)" \
			"$(median carnet.rates 3)"
		awk -v c="$(median carnet.rates 1)" -v r="$(median client.rates 1)" \
			-v t="$T_RATIO" 'BEGIN { x = c / r; printf "ratio carnet/client %.2f  %s >= %.1f\n",
			x, (x + 1e-9 >= t ? "PASS" : "MISS"), t }'
		# the rounds one by one (the machine's load moves both)
		paste -d' ' carnet.rates client.rates | awk '{ printf "%s%.2f",
			(NR > 1 ? ", " : "each round: "), $1 / $4 } END { print "" }'
	else
		echo "carnet-sms-send: not measured (not built: $send)"
	fi
	echo "every message reached the fake SMSC once, every report (8 and 1) reached the sink"
} | tee "$out/last-sms.txt"
ok=1
