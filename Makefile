# carnet - contact lists, backups, sync and SMS campaigns from the command line
#
#   make            build libcarnet and the tools into build/
#   make demo       install what is missing, build, run the demo on a store in demo/
#   make check      build and run every test (prove, TAP)
#   make check-asan the same under AddressSanitizer and UBSan (build-asan/)
#   make check-valgrind the same with every tool and unit test under valgrind
#   make check-slow the long campaigns: crash scenarios at full scale
#   make fuzz       libFuzzer targets (clang, ASan+UBSan) for FUZZ_TIME seconds each
#   make bench      benchmarks against sqlite3 (prints ratios, see bench/RESULTS.md)
#   make deps       install the Debian packages the build and the tests need
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
PKGDIR  ?= $(LIBDIR)/pkgconfig

B       ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) -fPIC
ALL_CPPFLAGS = -D_GNU_SOURCE -Ilib $(CPPFLAGS)
LIBS    := -lsqlite3 -lcsv -lcjson -lyaml -lcurl -lmicrohttpd -lm -lz -lcrypto -lpthread
VERSION := $(shell sed -n 's/^#define CN_VERSION "\(.*\)"/\1/p' lib/carnet.h)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(B)/cmd/cli.o $(B)/cmd/sendcli.o
TOOLS   := $(patsubst cmd/%.c,%,$(wildcard cmd/carnet-*.c)) carnet
BINS    := $(addprefix $(B)/bin/,$(TOOLS))
UNIT_SRC := $(wildcard tests/unit/t-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%.t)
# the fuzz targets, replayed over their seed corpora as unit tests
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
UNIT_BIN += $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/%.t)
CLI_TESTS := $(sort $(wildcard tests/cli/t*.sh))
# the crash-consistency scenarios (tests/crash/crash.sh): a few kill
# points each in make check, hundreds in make check-slow
CRASH_TESTS := $(sort $(wildcard tests/crash/c[0-9]*.sh))
MANPAGES := $(wildcard man/*.[157])

DEB_BUILD := gcc make pkg-config libsqlite3-dev libcurl4-openssl-dev zlib1g-dev libssl-dev \
             libcjson-dev libcsv-dev libyaml-dev libmicrohttpd-dev
DEB_TEST  := sqlite3 jq perl mandoc time valgrind bsdextrautils bsdutils curl kannel libxml2-utils \
             nodejs
# the sync tests' server and the sync benchmark's replicator (npm, into a
# git-ignored directory of the project)
NODE_DEPS := .deps/node
NPM_PKGS  := pouchdb-server@4.2.0 pouchdb@9.0.0 pouchdb-adapter-memory@9.0.0

.PHONY: all demo check check-asan check-valgrind check-slow bench deps install uninstall clean lint fuzz \
        format man-lint

all: $(BINS) $(B)/libcarnet.a $(B)/libcarnet.so

$(B)/%.o: %.c lib/carnet.h $(wildcard lib/*.h cmd/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libcarnet.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libcarnet.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libcarnet.so.0 $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(B)/bin/%: $(B)/cmd/%.o $(CLI_OBJ) $(B)/libcarnet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) $(B)/libcarnet.a $(LIBS)

$(B)/tests/%.t: tests/unit/%.c tests/unit/tap.h $(B)/libcarnet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(B)/libcarnet.a $(LIBS)

$(B)/tests/fuzz-%.t: tests/fuzz/fuzz-%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) \
                     $(B)/libcarnet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -DFUZZ_NAME='"$*"' -o $@ $< tests/fuzz/replay.c \
	  $(B)/libcarnet.a $(LIBS)

$(B)/carnet.pc: Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' \
	  'libdir=$(patsubst $(PREFIX)%,$${prefix}%,$(LIBDIR))' \
	  'includedir=$(patsubst $(PREFIX)%,$${prefix}%,$(INCDIR))' '' \
	  'Name: libcarnet' \
	  'Description: contact lists, backups, sync and SMS campaigns' \
	  'Version: $(VERSION)' \
	  'Requires.private: sqlite3 libcurl libcjson yaml-0.1 libmicrohttpd' \
	  'Libs: -L$${libdir} -lcarnet' 'Libs.private: -lcsv -lz -lcrypto -lpthread -lm' \
	  'Cflags: -I$${includedir}' > $@

# make check installs Kannel (the SMS tests' gateway) through make deps when
# it is missing; where that fails, the Kannel tests say SKIP
KANNEL_DEPS = [ -x /usr/sbin/bearerbox ] || command -v bearerbox >/dev/null 2>&1 || \
  $(MAKE) --no-print-directory deps || \
  echo "check: kannel could not be installed: the Kannel tests will be skipped"

# each test file has TEST_TIMEOUT seconds at most: a hung server or test
# fails that file instead of stalling the whole run
TEST_TIMEOUT ?= 600
check: all $(UNIT_BIN)
	@$(KANNEL_DEPS)
	@rm -f $(B)/crash-report.txt
	CARNET_BIN=$(abspath $(B))/bin SANFLAGS='$(SANFLAGS)' \
	  CARNET_CRASH_REPORT=$(abspath $(B))/crash-report.txt prove \
	  --exec 'timeout -k 10 $(TEST_TIMEOUT) env' $(UNIT_BIN) $(CLI_TESTS) \
	  $(CRASH_TESTS); st=$$?; tests/crash/report.sh $(B)/crash-report.txt; exit $$st

# the long campaigns: every crash scenario at full scale (hundreds of
# kill points) and the tests that have a longer variant (CARNET_SLOW)
check-slow: all
	@$(KANNEL_DEPS)
	@rm -f $(B)/crash-report.txt
	CARNET_BIN=$(abspath $(B))/bin CARNET_CRASH=full CARNET_SLOW=1 \
	  CARNET_CRASH_REPORT=$(abspath $(B))/crash-report.txt prove \
	  --exec 'timeout -k 10 3600 env' $(CRASH_TESTS) \
	  $$(grep -l CARNET_SLOW $(CLI_TESTS) /dev/null); st=$$?; \
	  tests/crash/report.sh $(B)/crash-report.txt; exit $$st

check-asan:
	$(MAKE) B=build-asan CFLAGS='-O1 -g -fno-omit-frame-pointer' \
	  SANFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=undefined' check

# --vgdb=no: no gdbserver FIFOs in $TMPDIR, which a tool killed by a crash
# test would leave there
VALGRIND := valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full \
             --errors-for-leak-kinds=definite --show-leak-kinds=definite
check-valgrind: all $(UNIT_BIN)
	@rm -rf $(B)/vg-bin && mkdir -p $(B)/vg-bin
	@for t in $(TOOLS); do \
	  printf '#!/bin/sh\nexec $(VALGRIND) %s/%s "$$@"\n' \
	    "$(abspath $(B))/bin" $$t > $(B)/vg-bin/$$t; \
	  chmod +x $(B)/vg-bin/$$t; done
	CARNET_BIN=$(abspath $(B))/vg-bin prove --exec '$(VALGRIND)' $(UNIT_BIN)
	CARNET_BIN=$(abspath $(B))/vg-bin prove --exec env $(CLI_TESTS) $(CRASH_TESTS)

# libFuzzer targets: the library rebuilt with clang into $(B)/fuzz, each
# target run FUZZ_TIME seconds (or FUZZ_RUNS inputs) from its seed corpus
# (tests/fuzz/corpus/NAME, read only); new inputs go to $(B)/fuzz/corpus,
# crashes to $(B)/fuzz/crash-*.  make fuzz FUZZ_TARGETS='csv json'
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 30
FUZZ_RUNS  ?= -1
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/fuzz-%.c=%)
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS := -std=c11 $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_OBJ   := $(LIB_SRC:%.c=$(B)/fuzz/obj/%.o)
.SECONDARY: $(FUZZ_OBJ)

# the readers' window shrunk so that small inputs cross its boundaries
$(B)/fuzz/obj/lib/stream.o: FUZZ_DEFS := -DCHUNK=16 -DREAD_MAX=16 \
  -D"RECORD_MAX=((size_t)1024)"

$(B)/fuzz/obj/%.o: %.c lib/carnet.h $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_DEFS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
	  -c -o $@ $<

$(B)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJ)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
	  $(FUZZ_OBJ) $(LIBS)

fuzz:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || $(MAKE) --no-print-directory \
	  DEB_BUILD='$(DEB_BUILD) clang libclang-rt-dev' DEB_TEST= deps
	$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(B)/fuzz/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(B)/fuzz/corpus/$$t || exit 1; \
	  echo "fuzz: $$t, $(FUZZ_TIME) s"; \
	  $(B)/fuzz/fuzz-$$t -max_total_time=$(FUZZ_TIME) -runs=$(FUZZ_RUNS) \
	    -print_final_stats=1 -artifact_prefix=$(B)/fuzz/ \
	    $$( [ -f tests/fuzz/$$t.dict ] && echo -dict=tests/fuzz/$$t.dict ) \
	    $(B)/fuzz/corpus/$$t tests/fuzz/corpus/$$t >$(B)/fuzz/$$t.log 2>&1; \
	  st=$$?; grep -E 'number_of_executed_units|^SUMMARY' $(B)/fuzz/$$t.log; \
	  [ $$st = 0 ] || { tail -n 40 $(B)/fuzz/$$t.log; \
	    echo "fuzz: $$t failed: see $(B)/fuzz/$$t.log"; exit 1; }; \
	done

# the minimal sendsms client of the SMS benchmark (bench/sms.sh)
$(B)/bench/sendsms-client: bench/sendsms-client.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< -lcurl

bench: all $(B)/bench/sendsms-client
	CARNET_BIN=$(abspath $(B))/bin \
	  BENCH_SENDSMS_CLIENT=$(abspath $(B))/bench/sendsms-client bench/run.sh

demo: deps all
	CARNET_BIN=$(abspath $(B))/bin examples/demo.sh

# kannel (the test gateway) must not run as a system service: its postinst
# starts bearerbox and wapbox (/etc/kannel/kannel.conf, admin port 13000,
# wapbox 13002) through invoke-rc.d, so while it is installed a
# policy-rc.d denies the start, and update-rc.d disables it at boot.
deps:
	@missing=; for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  rc=; case " $$missing " in *" kannel "*) \
	    if [ ! -e /usr/sbin/policy-rc.d ]; then rc=1; \
	      printf '#!/bin/sh\nexit 101\n' | $$SUDO tee /usr/sbin/policy-rc.d >/dev/null; \
	      $$SUDO chmod 755 /usr/sbin/policy-rc.d; fi;; esac; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	  st=$$?; [ -z "$$rc" ] || $$SUDO rm -f /usr/sbin/policy-rc.d; \
	  case " $$missing " in *" kannel "*) \
	    $$SUDO update-rc.d kannel disable >/dev/null 2>&1 || true;; esac; \
	  exit $$st; \
	else echo "deps: everything is installed"; fi
	@if [ -x $(NODE_DEPS)/node_modules/.bin/pouchdb-server ] && \
	    [ -d $(NODE_DEPS)/node_modules/pouchdb-adapter-memory ]; then \
	  echo "deps: pouchdb-server is installed ($(NODE_DEPS))"; \
	else echo "installing with npm into $(NODE_DEPS): $(NPM_PKGS)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq --no-install-recommends npm; \
	  mkdir -p $(NODE_DEPS) && cd $(NODE_DEPS) && \
	  npm install --no-audit --no-fund --loglevel=error $(NPM_PKGS); fi

install: all $(B)/carnet.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) \
	  $(DESTDIR)$(PKGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/libcarnet.a $(DESTDIR)$(LIBDIR)
	install -m 755 $(B)/libcarnet.so $(DESTDIR)$(LIBDIR)/libcarnet.so.0
	ln -sf libcarnet.so.0 $(DESTDIR)$(LIBDIR)/libcarnet.so
	install -m 644 lib/carnet.h lib/carnet-*.h $(DESTDIR)$(INCDIR)
	install -m 644 $(B)/carnet.pc $(DESTDIR)$(PKGDIR)
	for m in $(MANPAGES); do \
	  s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	rm -f $(DESTDIR)$(LIBDIR)/libcarnet.* $(DESTDIR)$(INCDIR)/carnet.h \
	  $(DESTDIR)$(INCDIR)/carnet-*.h \
	  $(DESTDIR)$(PKGDIR)/carnet.pc
	for m in $(MANPAGES); do s=$${m##*.}; \
	  rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

man-lint:
	mandoc -Tlint -Wwarning $(MANPAGES)

lint:
	@! grep -nE '\b(sprintf|strcpy|strcat|gets|strtok|atoi)\(' lib/*.c cmd/*.c \
	  | grep -v snprintf || { echo 'lint: banned functions above'; exit 1; }
	@! grep -nE '\b(fprintf\(stderr|exit\(|abort\()' lib/*.c \
	  || { echo 'lint: lib/ must not print or exit'; exit 1; }

format:
	clang-format -i lib/*.c lib/*.h cmd/*.c cmd/*.h tests/unit/*.c

clean:
	rm -rf build build-asan demo
