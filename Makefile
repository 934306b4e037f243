# wpay: see README.md.
#   make              build bin/wpay and bin/wpay-<program>
#   make check        build and run every test; ends with "N passed, N failed, N skipped"
#   make check-pg     the same tests with PostgreSQL as the ledger, on a throwaway cluster
#   make SANITIZE=1 check   the same under ASan+UBSan
#   make demo         a whole purchase loop on a throwaway ledger
#                     (DB=postgresql://... : on that empty PostgreSQL database)
#   make install      PREFIX, BINDIR, MANDIR, DESTDIR as usual; BASH_COMPLETION_DIR
#   make lint         mandoc -Tlint and clang-format
#   make bench        figures against zbarimg, ZXingReader and qrencode

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# bash-completion's directory when it is installed, else under PREFIX.
BASH_COMPLETION_DIR ?= $(or $(shell $(PKG_CONFIG) --variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
PKG_CONFIG ?= pkg-config
# The project's shared test data (EMV vectors, QR photos), beside the clone.
SHARED ?= $(abspath $(CURDIR)/../shared)
CFLAGS ?= -O2 -g
CLANG_FORMAT ?= clang-format

ifeq ($(FUZZ),1)
# libFuzzer targets (make fuzz): clang, with the library instrumented.
O := build/fuzz
BIN := $(O)/bin
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),1)
O := build/san
BIN := $(O)/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
O := build/rel
BIN := bin
SANFLAGS :=
endif
# Programs built with the settable test clock (WPAY_NOW); only the tests run them.
TBIN := $(O)/tbin

WPAY_CFLAGS := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wformat=2 -D_DEFAULT_SOURCE -DWPAY_VERSION='"$(VERSION)"' -Ilib -I$(O) $(SANFLAGS)

# pkg-config runs when a recipe needs it, after the build check (deps-build.ok
# below) has named, or as root installed, what was missing.
PKGS := jansson sqlite3 libpq libcrypto libqrencode libpng zbar libjpeg libcurl dbus-1 zlib
DEP_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
LIBS_init = jansson sqlite3 libcrypto
LIBS_bind = jansson sqlite3 libcrypto
LIBS_check = jansson sqlite3 libcrypto
LIBS_mkqr = jansson sqlite3 libcrypto libqrencode libpng
LDLIBS_mkqr = -lpthread
# wpay-scanqr is run once per photo by scripts, so its start counts: its
# libraries are linked in, and a start loads 12 shared objects, not 26
# (libzbar.so brings X11 and v4l), 3.6 ms instead of 7.2. Debian's libzbar.a
# still calls libdbus (for zbar's own processor, which wpay never starts).
STATIC_scanqr = zbar libjpeg libpng jansson sqlite3 libcrypto
LIBS_scanqr = dbus-1 zlib
LDLIBS_scanqr = -lm -ldl -pthread
LIBS_order = jansson sqlite3 libcrypto
LIBS_pay = jansson sqlite3 libcrypto
LIBS_refund = jansson sqlite3 libcrypto
LIBS_settle = jansson sqlite3 libcrypto
LIBS_bill = jansson sqlite3 libcrypto
LIBS_notify = jansson sqlite3 libcrypto libcurl
LIBS_fmt = jansson sqlite3 libcrypto

PROGRAMS := $(filter-out wpay,$(patsubst cmd/%.c,%,$(wildcard cmd/*.c)))
LIB_SRC := $(filter-out lib/clock.c,$(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:lib/%.c=$(O)/lib/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/unit/%)
# Helpers the bats tests run (tests/unit/*.c without test_): built, not run as tests.
UNIT_HELPERS := $(patsubst tests/unit/%.c,$(O)/unit/%,$(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))

BINS := $(BIN)/wpay $(PROGRAMS:%=$(BIN)/wpay-%)
TBINS := $(TBIN)/wpay $(PROGRAMS:%=$(TBIN)/wpay-%)

all: $(BINS)

# What each kind of target needs (.ci/install-deps): the build only the
# compiler and the libraries' pkg-config modules, check the test tools,
# bench the tools it measures against. `make deps` checks everything.
DEPS = @CC='$(CC)' PKG_CONFIG='$(PKG_CONFIG)' PKGS='$(PKGS)' CLANG_FORMAT='$(CLANG_FORMAT)' sh .ci/install-deps
deps:
	$(DEPS) all
DEPS_BUILD = $(DEPS) build $(if $(and $(or $(filter 1,$(SANITIZE)),$(filter 1,$(FUZZ))),$(findstring clang,$(CC))),fuzz)
deps-build:
	$(DEPS_BUILD)
# Checked before the first compile in a build directory (make clean checks
# again); what is already built (make install after make) needs no check.
$(O)/deps-build.ok:
	$(DEPS_BUILD)
	@mkdir -p $(@D) && touch $@
deps-test:
	$(DEPS) test
deps-bench:
	$(DEPS) bench
deps-lint:
	$(DEPS) lint
deps-demo:
	$(DEPS) demo
deps-fuzz:
	$(DEPS) build fuzz
deps-pg:
	$(DEPS) test pg

$(O)/lib/%.o: lib/%.c | $(O)/deps-build.ok
	@mkdir -p $(@D)
	$(CC) $(WPAY_CFLAGS) $(DEP_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/cmd/%.o: cmd/%.c | $(O)/deps-build.ok
	@mkdir -p $(@D)
	$(CC) $(WPAY_CFLAGS) $(DEP_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/lib/clock.o: lib/clock.c | $(O)/deps-build.ok
	@mkdir -p $(@D)
	$(CC) $(WPAY_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/lib/clock-test.o: lib/clock.c | $(O)/deps-build.ok
	@mkdir -p $(@D)
	$(CC) $(WPAY_CFLAGS) $(CFLAGS) -DWPAY_TEST_CLOCK -MMD -MP -c -o $@ $<

# The BIN table is data; it becomes a C initialiser at build time.
$(O)/bins.inc: lib/bins.tsv
	@mkdir -p $(@D)
	awk -F '\t' '!/^#/ && NF == 4 { printf "{\"%s\", \"%s\", \"%s\", \"%s\"},\n", $$1, $$2, $$3, $$4 }' $< > $@.tmp
	mv $@.tmp $@
$(O)/lib/card.o: $(O)/bins.inc
# The built-in networks table, as a C string.
$(O)/networks.inc: lib/networks.tsv
	@mkdir -p $(@D)
	sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/\\t/g; s/^/"/; s/$$/\\n"/' $< > $@.tmp
	mv $@.tmp $@
$(O)/lib/networks.o: $(O)/networks.inc
# The scheme rules, as a C string.
$(O)/schemes.inc: lib/schemes.tsv
	@mkdir -p $(@D)
	sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/\\t/g; s/^/"/; s/$$/\\n"/' $< > $@.tmp
	mv $@.tmp $@
$(O)/lib/schemes.o: $(O)/schemes.inc

$(O)/libwpay.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/wpay $(TBIN)/wpay: $(O)/cmd/wpay.o $(O)/libwpay.a
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libwpay.a

# A program's STATIC_ modules are linked in, its LIBS_ ones shared.
link_static := -Wl,-Bstatic
link_shared := -Wl,-Bdynamic
link_libs = $(if $(STATIC_$*),$(link_static) $$($(PKG_CONFIG) --libs $(STATIC_$*)) $(link_shared)) \
	$$($(PKG_CONFIG) --libs $(LIBS_$*)) $(LDLIBS_$*)

$(BIN)/wpay-%: $(O)/cmd/%.o $(O)/lib/clock.o $(O)/libwpay.a
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/clock.o $(O)/libwpay.a $(link_libs)

$(TBIN)/wpay-%: $(O)/cmd/%.o $(O)/lib/clock-test.o $(O)/libwpay.a
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/lib/clock-test.o $(O)/libwpay.a $(link_libs)

$(O)/unit/%: tests/unit/%.c tests/unit/unit.h $(O)/lib/clock-test.o $(O)/libwpay.a | $(O)/deps-build.ok
	@mkdir -p $(@D)
	$(CC) $(WPAY_CFLAGS) $(DEP_CFLAGS) $(CFLAGS) -o $@ $< $(O)/lib/clock-test.o $(O)/libwpay.a \
		$$($(PKG_CONFIG) --libs $(PKGS))

check: deps-test $(BINS) $(TBINS) $(UNIT_BIN) $(UNIT_HELPERS)
	@WPAY_TEST_BIN=$(CURDIR)/$(TBIN) WPAY_REAL_BIN=$(CURDIR)/$(BIN) WPAY_UNIT_BIN=$(CURDIR)/$(O)/unit WPAY_SHARED=$(SHARED) WPAY_VECTORS=$(SHARED)/vectors \
		sh tests/run

# The same tests on PostgreSQL: tests/run starts a throwaway cluster (a
# temporary directory, a Unix socket in it, no TCP) and removes it at the end.
check-pg: deps-pg $(BINS) $(TBINS) $(UNIT_BIN) $(UNIT_HELPERS)
	@WPAY_TEST_BACKEND=pg WPAY_TEST_BIN=$(CURDIR)/$(TBIN) WPAY_REAL_BIN=$(CURDIR)/$(BIN) WPAY_UNIT_BIN=$(CURDIR)/$(O)/unit WPAY_SHARED=$(SHARED) WPAY_VECTORS=$(SHARED)/vectors \
		sh tests/run

# The demo steps the clock to the next day's settlement: the test build.
# Fuzz every parser of outside input for FUZZ_SECONDS each, from the seeds
# in fuzz/corpus/<target>; what it learns is kept in build/fuzz/corpus.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory FUZZ=1 CC=clang fuzz-run

$(O)/fuzz/%: fuzz/%.c $(O)/lib/clock-test.o $(O)/libwpay.a
	@mkdir -p $(@D)
	$(CC) $(WPAY_CFLAGS) $(DEP_CFLAGS) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(O)/lib/clock-test.o $(O)/libwpay.a $$($(PKG_CONFIG) --libs $(PKGS))

fuzz-run: $(FUZZ_TARGETS:%=$(O)/fuzz/%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(O)/corpus/$$t fuzz/corpus/$$t; \
		$(O)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(O)/$$t- $(O)/corpus/$$t fuzz/corpus/$$t \
			>$(O)/$$t.log 2>&1 || { tail -40 $(O)/$$t.log; echo "fuzz $$t: FAILED, see $(O)/$$t.log"; exit 1; }; \
		echo "fuzz $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(O)/$$t.log) runs in $(FUZZ_SECONDS) s, no crash"; \
	done

demo: deps-demo $(TBINS)
	@WPAY_DEMO_DB='$(DB)' sh tests/demo.sh $(CURDIR)/$(TBIN)

# Figures against the tools a user would otherwise pick (not tests: see bench/).
# The photo figures need the shared corpus; without it they are skipped, and said so.
bench: deps-bench $(BINS)
	@$(MAKE) --no-print-directory bench-scan
	@python3 bench/charset.py $(BIN)/wpay-scanqr
	@sh bench/mkqr.sh $(BIN) 10000
	@sh bench/pay.sh $(BIN) 100000 5000
	@sh bench/cpm.sh $(BIN) 2000
	@sh bench/payload.sh $(BIN) 5000
	@sh bench/settle.sh $(BIN) 1000000 10000
	@sh bench/preview.sh $(BIN) 1000000 10000
	@sh bench/queue.sh $(BIN) 1000000 1000
	@sh bench/fmt.sh $(BIN) 100000

bench-scan:
	@if [ -d "$(SHARED)/corpus/qr-images" ]; then python3 bench/scan.py "$(SHARED)/corpus/qr-images" $(BIN)/wpay-scanqr; \
	else echo "bench: no QR photo corpus at $(SHARED)/corpus/qr-images (set SHARED=...): scan figures skipped"; fi

lint: deps-lint
	mandoc -Tlint -W warning man/*.1 man/*.7
	$(CLANG_FORMAT) --dry-run --Werror cmd/*.c lib/*.c lib/*.h tests/unit/*.c tests/unit/*.h fuzz/*.c
	@# util.h brings banned.h, which must follow every system header.
	@for f in cmd/*.c lib/*.c; do \
		[ "$$(grep '^#include' $$f | grep -v '\.inc"' | tail -n 1)" = '#include "util.h"' ] || \
			{ echo "$$f: #include \"util.h\" must be the last include (see lib/util.h)"; exit 1; }; \
	done

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7
	install -d $(DESTDIR)$(BASH_COMPLETION_DIR) && install -m 644 completion/wpay.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/wpay && for p in $(PROGRAMS); do ln -sf wpay $(DESTDIR)$(BASH_COMPLETION_DIR)/wpay-$$p; done

clean:
	rm -rf build bin

.PHONY: all deps deps-build deps-test deps-bench deps-lint deps-demo deps-fuzz deps-pg check check-pg demo bench bench-scan lint install clean fuzz fuzz-run
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
