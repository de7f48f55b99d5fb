# intake: the hotline's message intake daemon (intaked) and staff tool (intake).
# GNU Make, non-recursive.  `make help` lists the targets.

PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
BUILD      ?= build

CC      ?= cc
# A build directory may carry its own flags (check-asan writes them), so a
# later `make BUILD=build-asan ...` (e.g. from the install test) keeps them.
-include $(BUILD)/flags.mk
# libpq: the store's PostgreSQL driver (daemon/store_pg.c) and `intake db`.
PKGS    := libetpan libcurl sqlite3 libconfig jansson libsystemd gnutls libpcre2-8 libseccomp libmicrohttpd libical libpq

# Debian's libetpan.pc carries a dpkg -specs= flag that silently links a
# non-PIE executable: drop it, and force PIE ourselves.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS) 2>/dev/null))
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
VERSION := 0.1.0
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -DINTAKE_VERSION=\"$(VERSION)\" $(WARN) $(HARDEN) $(CFLAGS) -Iinclude -I$(BUILD) $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro -Wl,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)
# liblinear (the triage model) has no pkg-config file.
LIBS    := $(PKG_LIBS) -llinear -lm

# Every daemon/*.c except the two mains is a library module shared by both
# programs and the tests.
MAIN_SRCS := daemon/intaked.c daemon/intake.c
LIB_SRCS  := $(filter-out $(MAIN_SRCS),$(wildcard daemon/*.c))
LIB_OBJS  := $(LIB_SRCS:daemon/%.c=$(BUILD)/%.o) $(BUILD)/sqlgen.o $(BUILD)/pgsqlgen.o $(BUILD)/lexgen.o $(BUILD)/modelgen.o
SQL_FILES := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))
PG_SQL_FILES := $(sort $(wildcard sql/pg/[0-9][0-9][0-9]_*.sql))

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60

TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/intaked $(BUILD)/intake $(if $(filter build,$(BUILD)),intaked intake)

intaked intake: %: $(BUILD)/%
	@ln -sf $(BUILD)/$@ $@

# `make V=1` shows the whole command lines.
Q := $(if $(V),,@)

$(BUILD)/%.o: daemon/%.c | $(BUILD)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The migrations are compiled in, so an installed program needs no sql/.
$(BUILD)/sqlgen.c: $(SQL_FILES) tools/sql2c.sh | $(BUILD)
	sh tools/sql2c.sh $(SQL_FILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/sqlgen.o: $(BUILD)/sqlgen.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
# And sql/pg/ (pg_migrations[]), for the PostgreSQL driver and `intake db`.
$(BUILD)/pgsqlgen.c: $(PG_SQL_FILES) tools/sql2c.sh | $(BUILD)
	SQL2C_NAME=pg_migrations sh tools/sql2c.sh $(PG_SQL_FILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/pgsqlgen.o: $(BUILD)/pgsqlgen.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The triage lexicon too: lexicon_builtin() when no file is configured.
$(BUILD)/lexgen.c: conf/triage.conf tools/file2c.sh | $(BUILD)
	sh tools/file2c.sh lexicon_builtin_text conf/triage.conf > $@.tmp && mv $@.tmp $@
$(BUILD)/lexgen.o: $(BUILD)/lexgen.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# And the triage model (conf/triage.model, `make triage-model`).
$(BUILD)/modelgen.c: conf/triage.model tools/file2c.sh | $(BUILD)
	sh tools/file2c.sh triage_model_builtin_text conf/triage.model > $@.tmp && mv $@.tmp $@
$(BUILD)/modelgen.o: $(BUILD)/modelgen.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libintake.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/intaked: $(BUILD)/intaked.o $(BUILD)/libintake.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/intake: $(BUILD)/intake.o $(BUILD)/libintake.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testlib.h tests/unit/triagelib.h tests/unit/pglib.h tests/unit/storelib.h tests/fuzz/fuzz_limits.h $(BUILD)/libintake.a | $(BUILD)/tests
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libintake.a $(LIBS) $(CHECK_LIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_limits.h $(BUILD)/libintake.a | $(BUILD)/fuzz
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libintake.a $(LIBS)

# Benchmark drivers (tests/bench/*.c), built by `make bench`.
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libintake.a | $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libintake.a $(LIBS)

$(BUILD) $(BUILD)/tests $(BUILD)/fuzz $(BUILD)/bench:
	mkdir -p $@

tests: $(TEST_BINS)

# ---- set-up ------------------------------------------------------------
deps:
	@sh tools/deps.sh

# ---- tests -------------------------------------------------------------
# The unit tests run twice: under ASan/UBSan first (issue 7: the sanitizer
# build stays in CI), then the whole suite on the normal build, whose
# "check: N passed, N failed" is the last line.
check: deps lint
	$(MAKE) asan-build
	$(ASAN_ENV) sh tests/run.sh build-asan unit
	$(MAKE) all tests
	sh tests/run.sh $(BUILD)

# The banned-function check (tools/checksrc.sh): sprintf, strcpy, strcat,
# strtok, atoi, gets and friends fail with FILE:LINE.
lint:
	sh tools/checksrc.sh

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_ENV := INTAKE_SANITIZER=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

asan-build:
	@echo "asan: sanitizer build: the parser child runs without seccomp and RLIMIT_AS (INTAKE_SANITIZER=1); valgrind and unit-filter tests skip"
	mkdir -p build-asan
	printf 'CFLAGS = -O1 -g $(ASAN_FLAGS)\nEXTRA_LDFLAGS = -fsanitize=address,undefined\n' > build-asan/flags.mk
	$(MAKE) BUILD=build-asan all tests

check-asan: deps
	$(MAKE) asan-build
	$(ASAN_ENV) sh tests/run.sh build-asan

# libFuzzer targets (clang; `make deps-fuzz` installs it).  The library is
# rebuilt in build-fuzz with coverage and ASan/UBSan.
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzz-build:
	@command -v clang >/dev/null || { echo "fuzz: clang missing: make deps-fuzz"; exit 1; }
	@echo "fuzz: build-fuzz is an ASan build: the parser child runs without seccomp and RLIMIT_AS there"
	$(MAKE) CC=clang BUILD=build-fuzz CFLAGS="$(FUZZ_CFLAGS)" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" fuzz-bins

fuzz-bins: $(FUZZ_BINS)

fuzz: fuzz-build
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

deps-fuzz:
	@sh tools/deps.sh fuzz

demo: deps
	$(MAKE) all
	sh tools/demo.sh

BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

bench: deps
	$(MAKE) all $(BENCH_BINS)
	sh tests/bench/run.sh $(BUILD)

# The model is generated from the labeled sets in tests/fixtures (one
# writer a folder), reproducibly: the same sets give the same bytes.
TRIAGE_SETS = $(sort $(dir $(wildcard tests/fixtures/*/labels.tsv)))
triage-model: all
	$(BUILD)/intake triage train -c /dev/null -o conf/triage.model $(TRIAGE_SETS:%/=%)
	$(MAKE) all

triage-report: all
	sh tools/triage-report.sh
	@for d in tests/fixtures/labeled tests/fixtures/triage-*; do \
		echo; echo "== $$d"; \
		sh tools/triage-report.sh $$d | sed -n '2,3p;5p;/^crisis recall/p;/^summary/p'; \
	done
	@echo; echo "== leave one writer out (rules + a model trained without that set)"
	@sh tools/triage-lowo.sh
	@echo; echo "== plain baseline (../shared/tools/triage-baseline.py), same sets"
	@sh tools/triage-baseline.sh

# ---- install -----------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/doc/intake/examples \
	    $(DESTDIR)$(SYSCONFDIR)/intake $(DESTDIR)$(PREFIX)/lib/systemd/system \
	    $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 0755 $(BUILD)/intake $(DESTDIR)$(PREFIX)/bin/intake
	install -m 0755 $(BUILD)/intaked $(DESTDIR)$(PREFIX)/sbin/intaked
	for m in doc/*.[158]; do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	install -m 0644 conf/intake.conf conf/triage.conf conf/triage.model conf/intake.cron conf/oncall.ics $(DESTDIR)$(PREFIX)/share/doc/intake/examples/
	install -m 0644 doc/sla.md doc/interfaces.md doc/reverse-proxy.md README.md $(DESTDIR)$(PREFIX)/share/doc/intake/
	test -e $(DESTDIR)$(SYSCONFDIR)/intake/triage.conf || install -m 0644 conf/triage.conf $(DESTDIR)$(SYSCONFDIR)/intake/triage.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/intake/triage.model || install -m 0644 conf/triage.model $(DESTDIR)$(SYSCONFDIR)/intake/triage.model
	for u in systemd/*.service systemd/*.timer; do \
	    sed 's|@SBINDIR@|$(PREFIX)/sbin|g; s|@BINDIR@|$(PREFIX)/bin|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$u \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/$${u##*/}; done
	install -m 0644 systemd/intake.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/intake.conf

clean:
	rm -rf build build-asan build-fuzz intaked intake var

help:
	@echo "make            build intaked and intake"
	@echo "make deps       install missing Debian packages (apt-get)"
	@echo "make demo       deps + build + run the daemon once over a sample mailbox"
	@echo "make check      deps + lint + build + every test"
	@echo "make lint       the banned-function check (tools/checksrc.sh)"
	@echo "make check-asan the tests under AddressSanitizer/UBSan"
	@echo "make fuzz       libFuzzer targets, FUZZ_SECONDS=$(FUZZ_SECONDS) each (clang: make deps-fuzz)"
	@echo "make bench      benchmarks (figures as ratios against peers)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR="

.PHONY: lint asan-build all deps deps-fuzz fuzz fuzz-build fuzz-bins check check-asan demo bench triage-model triage-report install clean help tests intaked intake

-include $(LIB_OBJS:.o=.d) $(BUILD)/intaked.d $(BUILD)/intake.d
