# tests/badinput.sh - the driver of the bad-input corpus (tests/data/bad/),
# sourced by tests/cli/t092x-bad-input*.sh after tests/lib.sh.
#
# tests/data/bad/MANIFEST has one line per run, four or five fields
# separated by tabs:
#
#   INPUT  EXIT  REGEX  COMMAND  [TODO REASON]
#
# INPUT is a path under tests/data/bad/; COMMAND is run by the shell in
# $T with $IN set to "bad/INPUT" (bad is a link to the corpus) and the
# input on its standard input; EXIT is the exit status it must end with,
# or http:NNN for a helper that prints an HTTP status on stdout; REGEX
# (an extended regular expression, as grep -E) must match its stderr: a
# clear message, naming the file and the line where there is one.  Each
# run must also leave the store as it was: the file byte for byte, or
# else a checksum of the full dump of every table, before and after.
# A fifth field marks a known failure as TODO (reported, not counted).
#
# bad_setup builds the store every run starts from: a list L with one
# contact, a template T1, a blacklisted number, a simulated campaign.
# bad_run GLOB... runs the lines whose INPUT matches one of the globs.

BAD_DIR=$TOP/tests/data/bad
BAD_TRIED=0

# bad_sum: a checksum of the store's full contents (every table's rows,
# the schema, in one sqlite3 run)
bad_sum() { sqlite3 -batch "$STORE" .dump 2>/dev/null | sha256sum | cut -d' ' -f1; }

bad_setup() {
	ln -sfn "$BAD_DIR" "$T/bad"
	mkdir -p "$XDG_CONFIG_HOME/carnet"
	printf 'backup:\n  enabled: false\nsms:\n  driver: simulate\n' \
		>"$XDG_CONFIG_HOME/carnet/config.yaml"
	printf 'email,phone,first_name\nann@x.fr,0612345678,Ann\n' >"$T/base.csv"
	carnet-contacts import -q --list L "$T/base.csv" >/dev/null &&
		printf 'Bonjour {{first_name}}\n' |
		carnet-template add -q --title T1 >/dev/null &&
		carnet-blacklist add -q +33699999999 >/dev/null &&
		carnet-sms-send -q --to +33612345678 --text 'Hi' --campaign C1 \
			>/dev/null || { echo "Bail out! the base store"; exit 1; }
	sqlite3 "$STORE" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	cp "$STORE" "$T/base.db"
	BAD_BASE=$(bad_sum)
}

# bad_reset: the store back to the base when a run changed it
bad_reset() {
	rm -f "$STORE-wal" "$STORE-shm"
	cp "$T/base.db" "$STORE"
}

# bad_one INPUT EXIT REGEX COMMAND TODO (few forks: it runs 200 times)
bad_one() {
	local in=$1 want=$2 re=$3 cmd=$4 todo=$5 before=$BAD_BASE r got
	BAD_TRIED=$((BAD_TRIED + 1))
	[ -z "${BAD_KEEP:-}" ] || before=$(bad_sum)
	IN=bad/$in
	[ -e "$IN" ] || IN=/dev/null	# a case made by the test itself
	(eval "$cmd") <"$IN" >"$T/.out" 2>"$T/.err"
	status=$?
	out= err=
	IFS= read -r -d '' out <"$T/.out"
	IFS= read -r -d '' -n 4000 err <"$T/.err"
	out=${out%$'\n'} err=${err%$'\n'}
	case $want in
	http:*) got=http:$out ;;
	*) got=$status ;;
	esac
	r=1
	[ "$got" != "$want" ] || r=0
	_result "$r" "$in: exit $want" "$todo"
	[ "$r" = 0 ] || [ -n "$todo" ] ||
		printf '#   got: %s\n#   err: %s\n' "$got" "${err:0:300}"
	r=1
	[[ $err =~ $re ]] && r=0
	_result "$r" "$in: message /$re/" "$todo"
	[ "$r" = 0 ] || [ -n "$todo" ] || printf '#   err: %s\n' "${err:0:300}"
	# the store file byte for byte as it was (no WAL left), else the
	# same contents (a dump of every table)
	r=1
	if [ -z "${BAD_KEEP:-}" ] && [ ! -s "$STORE-wal" ] &&
		cmp -s "$STORE" "$T/base.db"; then
		r=0
	else
		[ "$(bad_sum)" != "$before" ] || r=0
		[ -n "${BAD_KEEP:-}" ] || bad_reset
	fi
	_result "$r" "$in: store unchanged" "$todo"
}

bad_run() {
	local in want re cmd todo g hit
	while IFS=$'\t' read -r in want re cmd todo; do
		case $in in '' | '#'*) continue ;; esac
		hit=
		for g in "$@"; do
			# shellcheck disable=SC2254
			case $in in $g) hit=1 ;; esac
		done
		[ -n "$hit" ] || continue
		bad_one "$in" "$want" "$re" "$cmd" "$todo"
	done <"$BAD_DIR/MANIFEST"
	echo "# bad inputs tried: $BAD_TRIED"
}
