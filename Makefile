# flashsize - flash-usage analyzer and size-budget CI for MicroPython firmware.
#
#   make demo     install what is missing, build, generate samples, analyze them
#   make test     install what is missing, run the whole suite (plain + ASan/UBSan)
#   make bench    time `flashsize analyze` against `size -A` and `nm -S`
#
# The library is every analyzer/*/*.c except the tool's own files
# (analyzer/cli/: main.c, cli*.c, cmd_*.c), which are a client of it; every
# tests/unit/test_*.c becomes one cmocka test program.

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2
SAN     ?=
PREFIX  ?= /usr/local
# The libraries, as pkg-config names, and their Debian packages: both from the
# one package list, scripts/deps.txt (also read by scripts/install-deps.sh,
# the Dockerfile, action.yml and the workflows).  Each package is asked for
# separately, so that one missing .pc file cannot empty the others' flags.
DEPS     := scripts/deps.txt
PKG_DEBS := $(shell awk '!/^\#/ && NF >= 3 && $$3 !~ /^cmd:/ { print $$3 ":" $$1 }' $(DEPS))
comma    := ,
PKGS     := $(foreach d,$(PKG_DEBS),$(firstword $(subst :, ,$(d))))

# The library's layers, in the order of the flow (scripts/check-includes.sh).
LAYERS   := read analyze store report
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS   ?= $(OPT) -g
CFLAGS   += -std=c11 $(WARN) $(SAN) -MMD -MP
CPPFLAGS += -D_GNU_SOURCE $(addprefix -Ianalyzer/,$(LAYERS) cli) $(foreach p,$(PKGS),$(shell pkg-config --cflags $(p) 2>/dev/null))
LDFLAGS  += $(SAN)
LDLIBS   += $(foreach p,$(PKGS),$(shell pkg-config --libs $(p) 2>/dev/null)) -lm

CLI_SRC  := $(wildcard analyzer/cli/*.c)
LIB_SRC  := $(wildcard $(addsuffix /*.c,$(addprefix analyzer/,$(LAYERS))))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/romtab_builtin.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The server (server/, docs/server.md) is part of the tool, not the library.
SRV_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard server/*.c))
CLI_OBJ  += $(SRV_OBJ)
CPPFLAGS += -Iserver
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libflashsize.a
CLI      := $(BUILD)/flashsize
FULL     := $(BUILD)/flashsize-full

# Two binaries (analyzer/cli/main.c): flashsize-full has every command; the
# light flashsize has the commands that need only libelf, jansson and inih
# (main.c and cmd_analyze.c compiled with FS_CORE_ONLY, linked --as-needed)
# and hands the others to flashsize-full, so that `flashsize analyze` does
# not pay for loading SQLite, Capstone, libcurl and libmicrohttpd.
CORE_VARIANT := analyzer/cli/main.c analyzer/cli/cmd_analyze.c
CORE_CMDS    := analyzer/cli/cli.c analyzer/cli/parseopt.c $(addprefix analyzer/cli/cmd_,boards.c map.c romfs.c natmod.c frozen.c rom.c)
CORE_OBJ     := $(CORE_VARIANT:analyzer/%.c=$(BUILD)/core/%.o) $(CORE_CMDS:%.c=$(BUILD)/%.o)

ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all deps libcheck samples test test-plain test-asan demo bench install clean distclean
all: $(CLI) $(FULL)

deps:
	@sh scripts/install-deps.sh

# Before anything is compiled: every library there, or one line per missing
# one naming its Debian package (instead of hundreds of undefined references).
libcheck:
	@command -v pkg-config >/dev/null 2>&1 || { echo "flashsize: pkg-config is missing: install the Debian package pkg-config (or run make deps)" >&2; exit 1; }
	@ok=1; for d in $(PKG_DEBS); do pc=$${d%%:*}; deb=$${d#*:}; \
	  pkg-config --exists "$$pc" || { echo "flashsize: library $$pc is missing (no $$pc.pc for pkg-config): install the Debian package $$deb (or run make deps)" >&2; ok=0; }; \
	done; [ $$ok -eq 1 ]

$(BUILD)/%.o: %.c | libcheck
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The ROM tables of rules/rom/, parsed at build time by the library's own
# reader (scripts/romtab-gen.c) and compiled in: a run given one of them
# takes it from the binary instead of parsing it (analyzer/read/romsyms.c).
ROM_TABLES := $(sort $(wildcard rules/rom/*.ld))
ROMTAB_GEN := $(BUILD)/romtab-gen
$(ROMTAB_GEN): scripts/romtab-gen.c analyzer/read/romsyms.c analyzer/read/util.c analyzer/read/romsyms.h | libcheck
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ scripts/romtab-gen.c analyzer/read/romsyms.c analyzer/read/util.c $(LDFLAGS) $(LDLIBS)
$(BUILD)/gen/romtab_builtin.c: $(ROMTAB_GEN) $(ROM_TABLES)
	@mkdir -p $(dir $@)
	$(ROMTAB_GEN) $(ROM_TABLES) >$@.tmp && mv $@.tmp $@
$(BUILD)/gen/romtab_builtin.o: $(BUILD)/gen/romtab_builtin.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# server/guard.c defines the two libmicrohttpd functions through which the
# library builds its own error pages; exported, they are the ones it calls
# (its answers become JSON).
MHD_EXPORT := -Wl,--export-dynamic-symbol=MHD_create_response_from_buffer \
              -Wl,--export-dynamic-symbol=MHD_queue_response
# Every program but the light flashsize links the library's libcrypto
# digests in (analyzer/read/digest.h).
WITH_DIGEST := -Wl,--undefined=fs_digest_libcrypto
$(FULL): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $(MHD_EXPORT) $(WITH_DIGEST) -o $@ $^ $(LDLIBS)

$(BUILD)/core/%.o: analyzer/%.c | libcheck
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DFS_CORE_ONLY $(CFLAGS) -c $< -o $@

# The light binary is linked statically (the archives come with the same
# -dev packages): a run of `flashsize analyze` then maps no shared library
# and resolves no symbol at start, 0.26 ms of its 1.96 ms on real
# ESP8266_GENERIC (README, "Performance").  Sanitized builds link the
# sanitizer runtimes dynamically, so they keep shared libraries.
CORE_PKGS    := libelf jansson inih zlib
CORE_LDFLAGS := $(if $(SAN),-Wl$(comma)--as-needed,-static)
CORE_LDLIBS  := $(shell pkg-config $(if $(SAN),,--static) --libs $(CORE_PKGS) 2>/dev/null) -lm
$(CLI): $(CORE_OBJ) $(LIB) | $(FULL)
	$(CC) $(LDFLAGS) $(CORE_LDFLAGS) -o $@ $(CORE_OBJ) $(LIB) $(CORE_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h tests/unit/storetest.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(WITH_DIGEST) $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

samples: deps
	@$(MAKE) --no-print-directory -C samples

# The whole suite: unit tests and CLI tests on a normal build, then again on
# an AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) build.
# First scripts/check-includes.sh: no include cycles, SQL only in the store.
test: deps samples
	@$(MAKE) --no-print-directory test-plain
	@$(MAKE) --no-print-directory test-asan

# test-build: everything the suite runs, built but not run (scripts/mutants.sh
# rebuilds a mutated copy with it).
.PHONY: test-build
test-build: $(CLI) $(FULL) $(TEST_BIN)
test-plain: test-build
	@sh scripts/check-includes.sh
	@sh tests/run.sh $(BUILD)

# The tests' ROMFS image writer (tests/tools/romfs_writer.h), used by
# tests/e2e/test_romfs.sh as $(BUILD)/tools/mkromfs.
$(BUILD)/tools/mkromfs: tests/tools/mkromfs.c tests/tools/romfs_writer.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)
test-build: $(BUILD)/tools/mkromfs

# The ESP32 test writers of tests/e2e/test_esp32part.sh: an app image from
# an ELF as esptool elf2image writes it, a binary partition table from a CSV.
$(BUILD)/tools/mkespimg: tests/tools/mkespimg.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)
$(BUILD)/tools/mkesppart: tests/tools/mkesppart.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)
test-build: $(BUILD)/tools/mkespimg $(BUILD)/tools/mkesppart

# The recording fake GitHub API (loopback only) of tests/e2e/test_bot.sh.
$(BUILD)/tools/fakegithub: tests/tools/fakegithub.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)
test-build: $(BUILD)/tools/fakegithub
$(BUILD)/tests/test_romfs: tests/tools/romfs_writer.h

# The slow clients of tests/e2e/test_server_guard.sh.
$(BUILD)/tools/slowloris: tests/tools/slowloris.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)
test-build: $(BUILD)/tools/slowloris

# The damaged inputs of tests/e2e/test_mutate.sh.
$(BUILD)/tools/mutate: tests/tools/mutate.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)
test-build: $(BUILD)/tools/mutate

# The reference graph's check against a link's relocations (tests/e2e/test_refgraph.sh).
$(BUILD)/tools/refcheck: tests/tools/refcheck.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(WITH_DIGEST) $(LIB) $(LDFLAGS) $(LDLIBS)
test-build: $(BUILD)/tools/refcheck

# Any sanitizer report (a leak too) aborts the program: status 134, which no
# test expects (flashsize exits 0, 1 or 2), so every report fails the run.
test-asan: export ASAN_OPTIONS = detect_leaks=1:abort_on_error=1
test-asan: export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1:abort_on_error=1
test-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 SAN="$(ASAN_FLAGS)" test-plain

# Mutation test (scripts/mutants.sh, tests/mutants.txt, docs/testing.md):
# every listed bug put into a copy of the tree must make a test fail.
# `make mutants` runs them all (MUTANTS="id ..." picks some); mutants-ci
# runs a fixed handful of fast ones (.ci/run).
MUTANTS_CI := regions-start-at-end esp-stripped-irom0-short budget-warn-at-threshold \
              frozen-iram-dropped diff-removed-size
.PHONY: mutants mutants-ci
mutants: samples
	@sh scripts/mutants.sh
mutants-ci: samples
	@MUTANTS="$(MUTANTS_CI)" sh scripts/mutants.sh

# Line coverage of the library and the server by the plain suite (gcovr),
# and which test produces each finding id (scripts/coverage.sh).
.PHONY: coverage
coverage: samples
	@sh scripts/coverage.sh

# Fuzzing (tests/fuzz, docs/reliability.md): the library and every
# tests/fuzz/fuzz_*.c harness built with clang's libFuzzer + ASan + UBSan
# into build-fuzz/, then each harness run for FUZZ_SECONDS by
# scripts/fuzz.sh.  (-Wno-format-nonliteral: clang's -Wformat=2 also flags
# the library's va_list wrappers, which gcc does not.)
FUZZ_SECONDS ?= 60
FUZZ_SAN := $(ASAN_FLAGS) -fsanitize=fuzzer-no-link -Wno-format-nonliteral
.PHONY: fuzz fuzz-build
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT=-O1 SAN="$(FUZZ_SAN)" fuzz-build
	@sh scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

fuzz-build: $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(WITH_DIGEST) $(LIB) $(LDFLAGS) -fsanitize=fuzzer $(LDLIBS)

# The replay test includes every harness (tests/fuzz/*.c).
$(BUILD)/tests/test_fuzz_regress: $(wildcard tests/fuzz/*.c tests/fuzz/*.h)

# fuzz_request drives the server's handlers: the server objects are linked
# in, and libmicrohttpd's header/argument lookup is wrapped so that it reads
# the fuzzed request (tests/fuzz/fuzz_request.c).  The replay test includes
# that harness, so it links the same way.
FUZZ_SRV_WRAP := -Wl,--wrap=MHD_lookup_connection_value
$(BUILD)/fuzz_request: tests/fuzz/fuzz_request.c tests/fuzz/fuzz.h $(SRV_OBJ) $(LIB)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(SRV_OBJ) $(WITH_DIGEST) $(LIB) $(LDFLAGS) -fsanitize=fuzzer $(FUZZ_SRV_WRAP) $(LDLIBS)
$(BUILD)/tests/test_fuzz_regress: tests/unit/test_fuzz_regress.c tests/unit/testutil.h $(SRV_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(SRV_OBJ) $(WITH_DIGEST) $(LIB) $(LDFLAGS) $(FUZZ_SRV_WRAP) $(LDLIBS) -lcmocka

# test_respcache tests the server's cache of history answers
# (server/respcache.c), which is not part of the library: linked in.
$(BUILD)/tests/test_respcache: tests/unit/test_respcache.c tests/unit/testutil.h $(BUILD)/server/respcache.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/server/respcache.o $(WITH_DIGEST) $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

demo: deps samples $(CLI)
	@sh scripts/demo.sh $(CLI)

# The dashboard alone on build/demo.db (docs/server.md).
.PHONY: serve-demo
serve-demo: deps samples $(CLI)
	@sh scripts/serve-demo.sh $(CLI)

bench: deps samples $(CLI)
	@sh scripts/bench.sh $(CLI)
	@sh scripts/bench-store.sh $(CLI)
	@sh scripts/bench-server.sh $(CLI) $(BUILD)/tools/seedstore
bench: $(BUILD)/tools/seedstore

# The server under wrk on a seeded database of 10k builds (scripts/bench-server.sh,
# docs/reliability.md); tests/tools/seedstore.c fills the database.
.PHONY: bench-server
bench-server: deps samples $(CLI) $(BUILD)/tools/seedstore
	@sh scripts/bench-server.sh $(CLI) $(BUILD)/tools/seedstore

$(BUILD)/tools/seedstore: tests/tools/seedstore.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(WITH_DIGEST) $(LIB) $(LDFLAGS) $(LDLIBS)

install: $(CLI) $(FULL)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/flashsize
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/flashsize
	install -m 755 $(FULL) $(DESTDIR)$(PREFIX)/bin/flashsize-full
	cp -r rules $(DESTDIR)$(PREFIX)/share/flashsize/
	cp -r web $(DESTDIR)$(PREFIX)/share/flashsize/

clean:
	rm -rf build build-asan build-cov

distclean: clean
	@$(MAKE) --no-print-directory -C samples clean

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(CORE_OBJ:.o=.d)
