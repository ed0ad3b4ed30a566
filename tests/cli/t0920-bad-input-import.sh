#!/usr/bin/env bash
# Bad input, part 1 (issue 9): the corpus in tests/data/bad/ (MANIFEST)
# for the importers: malformed CSV, invalid UTF-8, NUL bytes, byte order
# marks in the middle, UTF-16, JSON with deep nesting and huge numbers,
# phone numbers of every wrong shape (carnet-contacts import,
# carnet-sms-send, carnet-blacklist add); then a single field of 100 MB,
# made here (not in the repository).  Each: the documented exit status,
# a message naming the file and line, the store unchanged.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/badinput.sh"
bad_setup

bad_run 'csv/*' 'json/*' 'phone/*'

# --- one field of 100 MB: refused at the field limit, memory bounded -------------
{
	printf 'email,note\nbig@x.fr,'
	head -c 100000000 /dev/zero | tr '\0' x
	printf '\n'
} >big.csv
run carnet-contacts import --list L big.csv
is "$status" 65 "a 100 MB field: exit 65"
is "$err" "carnet-contacts: big.csv:2: field 'note' too long (100000000 bytes, at most 65536)" \
	"the message names the file, the line, the field and the limit"
is "$(bad_sum)" "$BAD_BASE" "and the store is unchanged"
{
	printf '{"email":"big@x.fr","first_name":"'
	head -c 100000000 /dev/zero | tr '\0' x
	printf '"}\n'
} >big.json
rm big.csv
run carnet-contacts import --list L big.json
is "$status,$err" "65,carnet-contacts: big.json:1: field 'first_name' too long (100000000 bytes, at most 65536)" \
	"the same field in JSON: exit 65, file, line and field named"
is "$(bad_sum)" "$BAD_BASE" "the store is unchanged"
run_in big.json carnet-sms-fetch --from-stdin
is "$status" 65 "as a callback on stdin: exit 65"
like "$err" "^carnet-sms-fetch: <stdin>:1: " "the message names the input and the line"
is "$(bad_sum)" "$BAD_BASE" "the store is unchanged"
rm big.json
done_testing
