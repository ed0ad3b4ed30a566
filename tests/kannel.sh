# tests/kannel.sh - a real Kannel (bearerbox + smsbox, Debian package
# "kannel") on 127.0.0.1 for the command-line tests and the benchmark,
# with tests/fakesmsc.pl playing the SMSC.
#
#   . "$(dirname "$0")/../lib.sh"
#   . "$TOP/tests/kannel.sh"          # after lib.sh, which cd-s to $T
#   KANNEL_MO_URL=http://127.0.0.1:$port/mo kannel_start   # optional MO URL
#   carnet-sms-send --config "$T/kannel/carnet.yaml" --to +33612345678 ...
#   fakesmsc_wait 1 && jq -r .text "$FAKESMSC_LOG"
#
# kannel_start skips the whole test file (1..0 # SKIP) when bearerbox or
# smsbox is missing, else picks free ports on 127.0.0.1, writes the
# configuration into $KANNEL_DIR ($T/kannel), starts bearerbox, the fake
# SMSC and smsbox, waits (bounded) until sendsms answers, and exports:
#
#   KANNEL_SENDSMS_URL    http://127.0.0.1:PORT/cgi-bin/sendsms
#   KANNEL_USER           the sendsms-user: carnet
#   KANNEL_PASSWORD_FILE  its random password, in a 0600 file
#   KANNEL_ADMIN_URL      http://127.0.0.1:PORT (status.txt?password=...)
#   KANNEL_ADMIN_PASSWORD its password
#   KANNEL_SENDER         the sendsms-user's default-sender: the "from" of
#                         a request without one
#   FAKESMSC_LOG          the MTs the fake SMSC received, one JSON per line
#                         (see tests/fakesmsc.pl for the fields)
#   FAKESMSC_MO_LOG       the MOs it sent to Kannel, one JSON per line
#   KANNEL_CARNET_YAML    $KANNEL_DIR/carnet.yaml: sms.driver kannel, with
#                         sms.kannel.url, username and password_file, mode
#                         0600, for --config (tests may append to it: the
#                         sms.kannel block is last, at 4 spaces)
#
# Settings, read by kannel_start:
#   KANNEL_MO_URL         the sms-service get-url: MOs go there.  Used as
#                         it is when it holds a Kannel escape (%p, %a...),
#                         else "from=%p&to=%P&text=%a&time=%T&id=%I&coding=%c
#                         &charset=%C&udh=%u" is appended after "?" or "&".
#                         Unset: MOs are accepted and answered by nothing.
#   KANNEL_MAX_MESSAGES   the sendsms-user's max-messages (parts), default 10
#   KANNEL_MO_RECODE      1: smsbox's mo-recode (UCS-2 MOs reach get-url as
#                         UTF-8 when they can); default: Kannel's default, off
#   KANNEL_LOG_LEVEL      Kannel's log-level in the log files, default 1
#                         (0 debug ... 4 panic)
#   KANNEL_KEEP_LOGS      1: kannel_stop copies $KANNEL_DIR (configuration
#                         and logs) to a directory it names on stderr; it
#                         always does when a test failed ($_failed > 0)
#
# Functions:
#   kannel_require        the skip alone (kannel_start calls it)
#   kannel_start          as above
#   kannel_stop           stops everything, by pid; also run on EXIT, INT,
#                         TERM, and by a watchdog if the test shell dies
#                         without running it (kill -9)
#   kannel_stop_smsbox, kannel_start_smsbox
#                         the gateway down, then back: sendsms refuses
#                         connections meanwhile
#   fakesmsc_stop, fakesmsc_start
#                         the SMSC link down, then back: sendsms answers
#                         "3: Queued", the messages go out on reconnection
#   fakesmsc_mo FROM TO TEXT
#                         an MO (UCS-2 when TEXT is not plain GSM 03.38)
#   fakesmsc_count        MTs received (a part of a long message counts one)
#   fakesmsc_wait N [S]   waits until N MTs (default 10 s)
#   fakesmsc_messages     the MTs, the parts of each long message joined:
#                         one JSON per message (from, to, coding, text, parts)
#   kannel_status         bearerbox's status.txt
#   http_sink_start LOG [STATUS]
#                         a receiver for get-url and dlr-url
#                         (tests/http-sink.pl: each request line to LOG;
#                         sets HTTP_SINK_PORT), before kannel_start or after
# It works under set -euo pipefail too (bench/sms.sh uses it).
#
# What Kannel 1.4.5 does, as measured with the Debian binary:
#
# sendsms answers (HTTP status, then the body as it is, without newline):
#   202 "0: Accepted for delivery"
#   202 "3: Queued for later delivery"       (the SMSC is not connected; the
#                                             message goes out when it is)
#   403 "Authorization failed for sendsms"   (wrong user or password)
#   400 "Missing receiver number, rejected"
#   400 "Number(s) has/have been denied by white- and/or black-lists."
#                                            (e.g. to=abc: not sendsms-chars)
#   400 "Sender missing and no global set, rejected"  (no "from", and neither
#                                             global-sender nor default-sender:
#                                             this rig sets default-sender)
#   400 "Coding field misformed, rejected"   (coding=7)
#   smsbox stopped: the connection is refused (curl exit 7)
# A UTF-8 text with ê/ô sent without coding=2 reaches the SMSC as 7-bit with
# "?" in their place (and ç as Ç); with charset=UTF-8&coding=2 it arrives as
# UCS-2, intact.  A text longer than one SMS arrives as parts with a UDH
# 05 00 03 REF TOTAL SEQ (needs concatenation = true, set here); Kannel cuts
# it silently after max-messages parts.  A sender ("from") with a space
# arrives as is, which breaks the line protocol (carnet's sender rules
# forbid it).
#
# Delivery reports with the fake SMSC (smsc_fake.c): for a sendsms request
# with dlr-mask and dlr-url, bearerbox calls dlr-url (through smsbox) with
#   type 8  (%d = 8, SMSC accepted; %A = "ACK/") when the mask has bit 8,
#           as the line is written to the fake SMSC, and
#   type 1  (%d = 1, delivered; %A empty, %F a fresh UUID) right after it,
#           when the mask has bit 1 (masks 2, 4 or 16 alone give nothing:
#           the fake SMSC only ever reports success).
# So dlr-mask=31 gives exactly two callbacks per message, 8 and 1, in no
# guaranteed order (they travel as two separate HTTP requests); a long
# message gives one pair for the whole message, not one per part.  Never
# 2 (failed), 4 (buffered) or 16 (rejected): not even while the SMSC is
# disconnected (the request is "3: Queued", and 8 and 1 come when it
# reconnects).  In a report, %p is the handset (the MT's "to") and %P the
# sender (the MT's "from"); %T is the time in Unix seconds, %I a UUID.
#
# MOs (fakesmsc_mo) reach get-url with %p the handset, %P the number it
# wrote to, %a the text, %c the coding (0 for 7-bit, 2 for UCS-2) and %C
# the charset: a 7-bit MO comes as UTF-8 (charset UTF-8), a UCS-2 one as
# URL-encoded UTF-16BE bytes (charset UTF-16BE) unless KANNEL_MO_RECODE=1.
# (An smsbox global-sender would replace %P, the number the MO was written
# to, by itself: the rig sets the sendsms-user's default-sender instead.)
# The sms-service has max-messages 0: its answer never becomes an MT.

KANNEL_DIR=${KANNEL_DIR:-${T:?set T (tests/lib.sh does) or KANNEL_DIR}/kannel}
_KANNEL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_kannel_pids=()		# everything kannel_start started, for kannel_stop
_kannel_bb_pid=
_kannel_sb_pid=
_kannel_fs_pid=
_kannel_wd_pid=
_kannel_kept=		# where kannel_stop copied the logs
_kannel_trapped=

# _kannel_bin NAME: the path of a Kannel binary (often in /usr/sbin, which
# a user's PATH may lack), or nothing
_kannel_bin() {
	local d
	for d in ${PATH//:/ } /usr/sbin /usr/local/sbin /sbin; do
		if [ -x "$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	return 1
}

_kannel_note() { echo "# kannel: $*" >&2; }

# _kannel_until SECONDS CMD...: runs CMD every 50 ms until it succeeds
# (status 0) or SECONDS pass (status 1)
_kannel_until() {
	local limit=$1 i=0
	shift
	while ! "$@"; do
		i=$((i + 1))
		[ $i -ge $((limit * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

_kannel_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# _kannel_fail WHAT: Kannel is installed but did not come up: a failure,
# not a skip; the logs go to stderr
_kannel_fail() {
	local f
	echo "Bail out! kannel: $*"
	for f in "$KANNEL_DIR"/*.log "$KANNEL_DIR"/*.stderr; do
		[ -s "$f" ] || continue
		echo "# --- $f" >&2
		tail -n 15 "$f" | sed 's/^/#   /' >&2
	done
	kannel_stop
	exit 1
}

_kannel_http_code() {
	curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null
}

_kannel_admin_up() {
	_kannel_alive "$_kannel_bb_pid" || _kannel_fail "bearerbox exited"
	[ "$(_kannel_http_code "$KANNEL_ADMIN_URL/status.txt?password=$KANNEL_ADMIN_PASSWORD")" = 200 ]
}

_kannel_smsc_online() {
	_kannel_alive "$_kannel_fs_pid" || _kannel_fail "fakesmsc.pl exited"
	[[ $(kannel_status 2>/dev/null) == *FAKE:*' (online'* ]]
}

_kannel_sendsms_up() {
	_kannel_alive "$_kannel_sb_pid" || _kannel_fail "smsbox exited"
	# smsbox answers once it is connected to bearerbox
	[ "$(_kannel_http_code "$KANNEL_SENDSMS_URL")" != 000 ] &&
		[[ $(kannel_status 2>/dev/null) == *smsbox:*on-line* ]]
}

_kannel_dir() {
	mkdir -p "$KANNEL_DIR" && chmod 700 "$KANNEL_DIR" &&
		touch "$KANNEL_DIR/pids"
}

# _kannel_ports N: N free TCP ports on 127.0.0.1
_kannel_ports() {
	perl -MIO::Socket::INET -e '
		my @s = map { IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			LocalPort => 0, Listen => 1, ReuseAddr => 1)
			or die "no free port: $!\n" } 1 .. $ARGV[0];
		print join(" ", map { $_->sockport } @s), "\n"' "$1"
}

_kannel_random() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }

_kannel_config() {
	local mo_url=${KANNEL_MO_URL:-} service
	if [ -n "$mo_url" ]; then
		case $mo_url in
		*%[pPaAbtTIcCu]*) ;;
		*\?*) mo_url="$mo_url&from=%p&to=%P&text=%a&time=%T&id=%I&coding=%c&charset=%C&udh=%u" ;;
		*) mo_url="$mo_url?from=%p&to=%P&text=%a&time=%T&id=%I&coding=%c&charset=%C&udh=%u" ;;
		esac
		service="get-url = \"$mo_url\""
	else
		service='text = "ok"'
	fi
	local recode=
	[ "${KANNEL_MO_RECODE:-0}" = 1 ] && recode='mo-recode = true'
	local lvl=${KANNEL_LOG_LEVEL:-1}
	(
		umask 077
		cat >"$KANNEL_DIR/kannel.conf" <<EOF
# written by tests/kannel.sh: everything on 127.0.0.1
group = core
admin-port = $KANNEL_ADMIN_PORT
admin-interface = 127.0.0.1
admin-password = "$KANNEL_ADMIN_PASSWORD"
admin-allow-ip = "127.0.0.1"
smsbox-port = $KANNEL_SMSBOX_PORT
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
box-deny-ip = "*.*.*.*"
log-file = "$KANNEL_DIR/bearerbox.log"
log-level = $lvl
access-log = "$KANNEL_DIR/bearerbox-access.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = $FAKESMSC_PORT
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $KANNEL_SMSBOX_PORT
sendsms-port = $KANNEL_SENDSMS_PORT
sendsms-interface = 127.0.0.1
log-file = "$KANNEL_DIR/smsbox.log"
log-level = $lvl
access-log = "$KANNEL_DIR/smsbox-access.log"
$recode

group = sendsms-user
username = "$KANNEL_USER"
password = "$(cat "$KANNEL_PASSWORD_FILE")"
default-sender = "$KANNEL_SENDER"
max-messages = ${KANNEL_MAX_MESSAGES:-10}
concatenation = true

group = sms-service
keyword = default
$service
max-messages = 0
omit-empty = true
EOF
		cat >"$KANNEL_CARNET_YAML" <<EOF
# written by tests/kannel.sh: carnet-sms-send --config $KANNEL_CARNET_YAML
sms:
  driver: kannel
  kannel:
    url: $KANNEL_SENDSMS_URL
    username: $KANNEL_USER
    password_file: $KANNEL_PASSWORD_FILE
EOF
	)
}

# _kannel_trap: kannel_stop on every way out of the test shell, before
# what was there (lib.sh removes $T); once
_kannel_trap() {
	[ -z "$_kannel_trapped" ] || return 0
	_kannel_trapped=1
	local old
	eval "set -- $(trap -p EXIT)"
	old=${3:-}
	# shellcheck disable=SC2064
	trap "kannel_stop; $old" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# _kannel_started PID: records a process kannel_start started
_kannel_started() {
	_kannel_pids+=("$1")
	echo "$1" >>"$KANNEL_DIR/pids"
}

# _kannel_watchdog: stops what kannel_start started (the pids in
# $KANNEL_DIR/pids) if the test shell dies without running kannel_stop
# (SIGKILL)
_kannel_watchdog() {
	local shell=$$ list=$KANNEL_DIR/pids
	(
		trap '' INT
		while kill -0 "$shell" 2>/dev/null; do
			sleep 0.5
		done
		pids=$(cat "$list" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -TERM $pids 2>/dev/null && sleep 2 &&
			kill -KILL $pids 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	_kannel_wd_pid=$!
}

# _kannel_in_use LOG: the box could not bind one of its ports (taken
# between _kannel_ports and the start: kannel_start tries other ports)
_kannel_in_use() { grep -qs 'Address already in use' "$1"; }

_kannel_bb_settled() {
	! _kannel_alive "$_kannel_bb_pid" ||
		_kannel_in_use "$KANNEL_DIR/bearerbox.log" || _kannel_admin_up
}

# _kannel_start_bearerbox: status 1 when a port was taken
_kannel_start_bearerbox() {
	: >"$KANNEL_DIR/bearerbox.log"
	# -v 4: panics only on stderr, the rest goes to the log file
	"$_kannel_bearerbox" -v 4 "$KANNEL_DIR/kannel.conf" \
		</dev/null >"$KANNEL_DIR/bearerbox.stderr" 2>&1 &
	_kannel_bb_pid=$!
	_kannel_started "$_kannel_bb_pid"
	_kannel_until 15 _kannel_bb_settled ||
		_kannel_fail "bearerbox: no answer on $KANNEL_ADMIN_URL"
	if _kannel_in_use "$KANNEL_DIR/bearerbox.log"; then
		_kannel_kill "$_kannel_bb_pid" 10
		_kannel_bb_pid=
		return 1
	fi
	_kannel_admin_up || _kannel_fail "bearerbox exited"
}

_kannel_start_fakesmsc() {
	rm -f "$KANNEL_DIR/fakesmsc.ready"
	perl "$_KANNEL_TOP/tests/fakesmsc.pl" --port "$FAKESMSC_PORT" \
		--log "$FAKESMSC_LOG" --mo-log "$FAKESMSC_MO_LOG" \
		--control "$KANNEL_DIR/fakesmsc.ctl" \
		--ready "$KANNEL_DIR/fakesmsc.ready" \
		</dev/null >>"$KANNEL_DIR/fakesmsc.stderr" 2>&1 &
	_kannel_fs_pid=$!
	_kannel_started "$_kannel_fs_pid"
	_kannel_until 15 _kannel_smsc_online ||
		_kannel_fail "the fake SMSC is not online"
}

_kannel_sb_settled() {
	! _kannel_alive "$_kannel_sb_pid" ||
		_kannel_in_use "$KANNEL_DIR/smsbox.log" || _kannel_sendsms_up
}

# _kannel_start_smsbox: status 1 when its port was taken
_kannel_start_smsbox() {
	: >"$KANNEL_DIR/smsbox.log"
	"$_kannel_smsbox" -v 4 "$KANNEL_DIR/kannel.conf" \
		</dev/null >>"$KANNEL_DIR/smsbox.stderr" 2>&1 &
	_kannel_sb_pid=$!
	_kannel_started "$_kannel_sb_pid"
	_kannel_until 15 _kannel_sb_settled ||
		_kannel_fail "smsbox: no answer on $KANNEL_SENDSMS_URL"
	if _kannel_in_use "$KANNEL_DIR/smsbox.log"; then
		_kannel_kill "$_kannel_sb_pid" 10
		_kannel_sb_pid=
		return 1
	fi
	_kannel_sendsms_up || _kannel_fail "smsbox exited"
}

# kannel_start_smsbox: starts smsbox again (after kannel_stop_smsbox) and
# waits until sendsms answers
kannel_start_smsbox() {
	_kannel_alive "$_kannel_sb_pid" && return 0
	_kannel_start_smsbox || _kannel_fail "smsbox: port $KANNEL_SENDSMS_PORT taken"
}

# _kannel_kill PID SECONDS: TERM, then KILL after SECONDS; waits for it
_kannel_kill() {
	local pid=$1 limit=$2
	[ -n "$pid" ] || return 0
	if _kannel_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		_kannel_until "$limit" eval "! kill -0 $pid 2>/dev/null" || {
			_kannel_note "pid $pid did not stop in ${limit}s: killed"
			kill -KILL "$pid" 2>/dev/null || true
		}
	fi
	wait "$pid" 2>/dev/null || true
	return 0
}

# fakesmsc_stop / fakesmsc_start: the SMSC link down, then back: sendsms
# still answers, "202 3: Queued for later delivery", and bearerbox sends
# the queued messages once the fake SMSC is connected again
fakesmsc_stop() {
	_kannel_kill "$_kannel_fs_pid" 5
	_kannel_fs_pid=
	_kannel_until 10 eval '[[ $(kannel_status 2>/dev/null) != *FAKE:*" (online"* ]]'
}
fakesmsc_start() {
	_kannel_alive "$_kannel_fs_pid" || _kannel_start_fakesmsc
}

# kannel_stop_smsbox: stops smsbox (bearerbox and the fake SMSC stay):
# sendsms then refuses connections
kannel_stop_smsbox() {
	_kannel_kill "$_kannel_sb_pid" 10
	_kannel_sb_pid=
	# the port is free again once smsbox is gone
	_kannel_until 5 eval '[ "$(_kannel_http_code "$KANNEL_SENDSMS_URL")" = 000 ]'
}

# kannel_require: skips the test file (1..0 # SKIP reason) when bearerbox,
# smsbox, curl or perl is missing; outside a test (no skip_all), says why
# and returns 2.  kannel_start calls it; a test that starts something of
# its own first (an HTTP sink) calls it before.
kannel_require() {
	_kannel_bearerbox=$(_kannel_bin bearerbox) || _kannel_bearerbox=
	_kannel_smsbox=$(_kannel_bin smsbox) || _kannel_smsbox=
	local why=
	[ -n "$_kannel_bearerbox" ] && [ -n "$_kannel_smsbox" ] ||
		why="kannel not installed (make deps installs it)"
	[ -z "$why" ] && ! command -v curl >/dev/null && why="curl not installed"
	[ -z "$why" ] && ! command -v perl >/dev/null && why="perl not installed"
	[ -z "$why" ] && return 0
	if declare -F skip_all >/dev/null; then
		skip_all "$why"
	fi
	echo "kannel: $why" >&2
	return 2
}

kannel_start() {
	kannel_require || return
	_kannel_dir || return 1
	export KANNEL_USER=carnet
	export KANNEL_SENDER=+33600000000
	export KANNEL_ADMIN_PASSWORD
	KANNEL_ADMIN_PASSWORD=$(_kannel_random)
	export KANNEL_PASSWORD_FILE=$KANNEL_DIR/password
	(umask 077 && _kannel_random >"$KANNEL_PASSWORD_FILE" &&
		echo >>"$KANNEL_PASSWORD_FILE")
	export FAKESMSC_LOG=$KANNEL_DIR/mt.ndjson
	export FAKESMSC_MO_LOG=$KANNEL_DIR/mo.ndjson
	export KANNEL_CARNET_YAML=$KANNEL_DIR/carnet.yaml
	: >"$FAKESMSC_LOG"
	: >"$FAKESMSC_MO_LOG"
	_kannel_trap
	[ -n "$_kannel_wd_pid" ] || _kannel_watchdog

	# free ports now may be taken when a box binds them (another test, a
	# client's source port): then again with others, three times at most
	local ports try=1
	while :; do
		ports=$(_kannel_ports 4) || _kannel_fail "no free ports"
		read -r KANNEL_ADMIN_PORT KANNEL_SMSBOX_PORT KANNEL_SENDSMS_PORT \
			FAKESMSC_PORT <<<"$ports"
		export KANNEL_ADMIN_PORT KANNEL_SMSBOX_PORT KANNEL_SENDSMS_PORT \
			FAKESMSC_PORT
		export KANNEL_ADMIN_URL=http://127.0.0.1:$KANNEL_ADMIN_PORT
		export KANNEL_SENDSMS_URL=http://127.0.0.1:$KANNEL_SENDSMS_PORT/cgi-bin/sendsms
		_kannel_config
		if _kannel_start_bearerbox; then
			_kannel_start_fakesmsc
			_kannel_start_smsbox && break
			_kannel_kill "$_kannel_fs_pid" 5
			_kannel_kill "$_kannel_bb_pid" 15
			_kannel_fs_pid= _kannel_bb_pid=
		fi
		[ $try -lt 3 ] || _kannel_fail "ports taken three times in a row"
		_kannel_note "a port was taken: starting again on other ports"
		try=$((try + 1))
	done
	return 0
}

# kannel_stop: stops everything kannel_start started, by pid (smsbox and
# the fake SMSC first, then bearerbox); keeps the logs when a test failed
kannel_stop() {
	_kannel_kill "$_kannel_sb_pid" 10
	_kannel_kill "$_kannel_fs_pid" 5
	_kannel_kill "$_kannel_bb_pid" 15
	local p
	for p in "${_kannel_pids[@]}"; do
		_kannel_kill "$p" 5
	done
	_kannel_pids=()
	_kannel_sb_pid= _kannel_fs_pid= _kannel_bb_pid=
	[ -f "$KANNEL_DIR/pids" ] && : >"$KANNEL_DIR/pids"
	if [ -n "$_kannel_wd_pid" ]; then
		kill "$_kannel_wd_pid" 2>/dev/null || true
		wait "$_kannel_wd_pid" 2>/dev/null || true
		_kannel_wd_pid=
	fi
	if [ -d "$KANNEL_DIR" ] && [ -z "$_kannel_kept" ] &&
		{ [ "${KANNEL_KEEP_LOGS:-0}" = 1 ] || [ "${_failed:-0}" != 0 ]; }; then
		_kannel_kept=$(mktemp -d "${TMPDIR:-/tmp}/carnet-kannel-logs.XXXXXX") &&
			cp -r "$KANNEL_DIR"/. "$_kannel_kept"/ 2>/dev/null &&
			rm -f "$_kannel_kept/fakesmsc.ctl" &&
			_kannel_note "configuration and logs kept in $_kannel_kept"
	fi
	return 0
}

# http_sink_start LOG [STATUS]: starts tests/http-sink.pl, an HTTP server
# on 127.0.0.1 that appends "METHOD TARGET" of every request to LOG and
# answers 200 (or STATUS), with keep-alive; sets HTTP_SINK_PORT and
# HTTP_SINK_PID.  For KANNEL_MO_URL and dlr-url; may come before
# kannel_start.  kannel_stop stops it too.
http_sink_start() {
	local portfile
	_kannel_dir || return 1
	_kannel_trap
	[ -n "$_kannel_wd_pid" ] || _kannel_watchdog
	portfile=$(mktemp "$KANNEL_DIR/sink-port.XXXXXX") && rm -f "$portfile"
	perl "$_KANNEL_TOP/tests/http-sink.pl" --port-file "$portfile" \
		--log "$1" ${2:+--status "$2"} </dev/null \
		>>"$KANNEL_DIR/http-sink.stderr" 2>&1 &
	HTTP_SINK_PID=$!
	_kannel_started "$HTTP_SINK_PID"
	_kannel_until 10 test -s "$portfile" ||
		_kannel_fail "tests/http-sink.pl did not start"
	HTTP_SINK_PORT=$(cat "$portfile")
	rm -f "$portfile"
}

# kannel_status: bearerbox's status page (text)
kannel_status() {
	curl -s -m 5 "$KANNEL_ADMIN_URL/status.txt?password=$KANNEL_ADMIN_PASSWORD"
}

# fakesmsc_count: the number of MTs the fake SMSC received (a part of a
# long message counts one)
fakesmsc_count() {
	local n
	n=$(wc -l <"$FAKESMSC_LOG" 2>/dev/null) || n=0
	echo $((n + 0))
}

# fakesmsc_wait N [SECONDS]: waits until the fake SMSC has received at
# least N MTs (default 10 s); status 1 and a note on stderr on timeout
fakesmsc_wait() {
	local want=$1 limit=${2:-10}
	_kannel_until "$limit" eval '[ "$(fakesmsc_count)" -ge "$want" ]' && return 0
	_kannel_note "fakesmsc_wait: $(fakesmsc_count) MTs after ${limit}s, expected $want"
	return 1
}

# fakesmsc_mo FROM TO TEXT: the fake SMSC sends an MO to Kannel (a "text"
# line when TEXT is plain GSM 03.38, "ucs2" otherwise); returns once it
# was written to bearerbox (status 1 after 10 s)
fakesmsc_mo() {
	local from=$1 to=$2 text=$3 before enc
	before=$(wc -l <"$FAKESMSC_MO_LOG")
	enc=$(printf '%s' "$text" |
		perl -0777 -pe 's/([^A-Za-z0-9_.~-])/sprintf("%%%02X", ord $1)/ge')
	timeout 10 sh -c 'printf "%s\n" "$1" >"$2"' sh "mo $from $to $enc" \
		"$KANNEL_DIR/fakesmsc.ctl" || {
		_kannel_note "fakesmsc_mo: cannot write to the fake SMSC"
		return 1
	}
	_kannel_until 10 eval '[ "$(wc -l <"$FAKESMSC_MO_LOG")" -gt "$before" ]' || {
		_kannel_note "fakesmsc_mo: the MO was not sent"
		return 1
	}
}

# fakesmsc_messages: the MTs as messages, one JSON per line in the order
# they arrived: {"n", "from", "to", "coding", "text", "parts"}; the parts
# of a long message (same from, to, UDH reference and total) are joined in
# their order
fakesmsc_messages() {
	jq -s -c '
		(map(select(.ref == null) | {n, from, to, coding, text, parts: 1})) +
		(map(select(.ref != null)) | group_by([.from, .to, .ref, .parts]) |
		 map(sort_by(.part) | {n: (map(.n) | min), from: .[0].from,
		     to: .[0].to, coding: .[0].coding,
		     text: (map(.text) | join("")), parts: length}))
		| sort_by(.n) | .[]' "$FAKESMSC_LOG"
}
