#!/usr/bin/env bash
# Every option in a tool's --help is in its man page and the other way
# round; every man page is clean under mandoc -Tlint; --help has examples.
. "$(dirname "$0")/../lib.sh"
root=$TOP

command -v mandoc >/dev/null || skip_all "mandoc is not installed (make deps)"

opts() { grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }

for bin in "$CARNET_BIN"/carnet "$CARNET_BIN"/carnet-*; do
	tool=$(basename "$bin")
	page=$root/man/$tool.1
	if [ ! -f "$page" ]; then
		ok 1 "$tool has a man page (man/$tool.1)"
		continue
	fi
	ok 0 "$tool has a man page"
	run "$bin" --help
	is "$status" 0 "$tool --help exits 0"
	like "$out" 'Examples?:' "$tool --help shows examples"
	help_opts=$(printf '%s\n' "$out" | opts)
	man_opts=$(mandoc -Tutf8 "$page" | col -b | opts)
	missing=$(comm -23 <(echo "$help_opts") <(echo "$man_opts") | tr '\n' ' ')
	extra=$(comm -13 <(echo "$help_opts") <(echo "$man_opts") | tr '\n' ' ')
	is "$missing" "" "$tool: every --help option is in the man page"
	is "$extra" "" "$tool: every man page option is in --help"
	like "$(mandoc -Tutf8 "$page" | col -b)" 'EXIT STATUS' "$tool: man page has EXIT STATUS"
	like "$(mandoc -Tutf8 "$page" | col -b)" 'EXAMPLES' "$tool: man page has EXAMPLES"
done

for page in "$root"/man/*.[157]; do
	lint=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	is "$lint" "" "mandoc -Tlint is clean for $(basename "$page")"
done
done_testing
