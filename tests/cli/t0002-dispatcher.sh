#!/usr/bin/env bash
# carnet TOOL runs carnet-TOOL; carnet help lists the installed tools.
. "$(dirname "$0")/../lib.sh"

run carnet help
is "$status" 0 "carnet help exits 0"
like "$out" 'contacts +import, export' "carnet help lists carnet-contacts"
like "$out" 'sms-send +render, check and send SMS' "and carnet-sms-send, installed beside it"
mkdir -p "$T/only"
# the binaries themselves (under check-valgrind, CARNET_BIN holds scripts
# that run them from ../bin)
bin=$CARNET_BIN/../bin
[ -x "$bin/carnet" ] || bin=$CARNET_BIN
cp "$bin/carnet" "$bin/carnet-contacts" "$T/only/"
run env PATH="/usr/bin:/bin" "$T/only/carnet" help
like "$out" 'contacts +import, export' "a carnet with only carnet-contacts beside it lists it"
unlike "$out" 'sms-send' "and not the tools that are not installed"

run carnet
is "$status" 64 "carnet without a tool exits 64"

run carnet version
is "$out" "carnet 0.1.0" "carnet version"

carnet-contacts import --list l "$T/x.csv" 2>/dev/null
printf 'email\na@b.fr\n' >"$T/a.csv"
run carnet contacts import --list clients --format json "$T/a.csv"
is "$status" 0 "carnet contacts import runs carnet-contacts import"
like "$out" '"inserted":1' "and passes its arguments"
run carnet contacts ls
like "$out" 'default,clients,1,' "carnet contacts ls lists the imported list"

run carnet no-such-tool
is "$status" 64 "an unknown tool exits 64"
like "$err" "'no-such-tool' is not a carnet tool" "and says so"

run carnet ../bin/sh
is "$status" 64 "a path is not a tool"

run carnet help contacts
is "$status" 0 "carnet help contacts exits 0"
like "$out" 'usage: carnet-contacts' "carnet help contacts shows carnet-contacts --help"

# found on PATH when not beside the dispatcher
mkdir -p "$T/bin1" "$T/bin2"
cp "$CARNET_BIN/carnet" "$T/bin1/"
printf '#!/bin/sh\necho "hello from carnet-hello: $*"\n' >"$T/bin2/carnet-hello"
chmod +x "$T/bin2/carnet-hello"
run env PATH="$T/bin2:/usr/bin:/bin" "$T/bin1/carnet" hello a b
is "$out" "hello from carnet-hello: a b" "a tool on PATH is found"
done_testing
