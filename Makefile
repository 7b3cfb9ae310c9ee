# tailhook - see README.md.  `make` builds build/tailhook and
# build/tailhook-receiver; `make check` installs what it needs (as root) and
# runs every test; `make demo` deploys a real Jekyll site from a signed push.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
VERSION := 0.1.0

WARN     = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
           -Wstrict-prototypes -Wpointer-arith -Wvla
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DTH_VERSION='"$(VERSION)"' $(WARN) $(HARDEN) \
             -Icommon -Ireceiver -Ideployer $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)

# Each binary has its own object list: the receiver links no deployer code
# and the deployer links no network parser.
COMMON_SRC   := $(sort $(wildcard common/*.c))
RECEIVER_SRC := $(sort $(filter-out receiver/main.c,$(wildcard receiver/*.c)))
DEPLOYER_SRC := $(sort $(filter-out deployer/main.c,$(wildcard deployer/*.c)))
UNIT_SRC     := $(sort $(wildcard tests/unit/test_*.c))

COMMON_OBJ   := $(COMMON_SRC:%.c=$(BUILD)/%.o)
RECEIVER_OBJ := $(RECEIVER_SRC:%.c=$(BUILD)/%.o)
DEPLOYER_OBJ := $(DEPLOYER_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIBS_RECEIVER = -levent_core -lbearssl -lseccomp
LIBS_DEPLOYER = -levent_core -linih -lbearssl

.PHONY: all check unit integration demo deps clean format lint install

all: $(BUILD)/tailhook $(BUILD)/tailhook-receiver

$(BUILD)/tailhook: $(BUILD)/deployer/main.o $(DEPLOYER_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_DEPLOYER)

$(BUILD)/tailhook-receiver: $(BUILD)/receiver/main.o $(RECEIVER_OBJ) $(COMMON_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_RECEIVER)

$(BUILD)/%.o: %.c $(wildcard common/*.h receiver/*.h deployer/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link every module except the two entry points.
$(BUILD)/tests/%: tests/unit/%.c $(RECEIVER_OBJ) $(DEPLOYER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $^ $(LDFLAGS_ALL) \
	  $(LIBS_RECEIVER) $(LIBS_DEPLOYER) -lcmocka

units: $(UNIT_BIN)

deps:
	@sh tests/deps.sh

# The whole suite: both compilers with -Werror, unit tests, integration
# tests through the real daemon, and a summary line at the end.
check:
	@sh tests/deps.sh demo
	@sh tests/run-all.sh

unit: all units
	@sh tests/run-unit.sh $(BUILD)

integration: all
	@sh tests/run-integration.sh $(BUILD)

demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh tests/demo/demo.sh $(BUILD)

format:
	clang-format -i common/*.[ch] receiver/*.[ch] deployer/*.[ch] tests/unit/*.[ch]

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr -D_GNU_SOURCE -D__linux__ -D__x86_64__ -Icommon -Ireceiver -Ideployer \
	  common receiver deployer

# make install [PREFIX=/usr/local] [DESTDIR=]: the deployer in sbin, the
# receiver in libexec/tailhook (the deployer looks there, relative to its
# own path, so no directory is compiled in), the man pages, the systemd
# units and an example config.
SBINDIR    = $(PREFIX)/sbin
LIBEXECDIR = $(PREFIX)/libexec/tailhook
MANDIR     = $(PREFIX)/share/man
DOCDIR     = $(PREFIX)/share/doc/tailhook
UNITDIR    = $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/tailhook $(DESTDIR)$(SBINDIR)/tailhook
	install -m 0755 $(BUILD)/tailhook-receiver $(DESTDIR)$(LIBEXECDIR)/tailhook-receiver
	install -m 0644 docs/man/tailhook.8 $(DESTDIR)$(MANDIR)/man8/tailhook.8
	install -m 0644 docs/man/tailhook.conf.5 $(DESTDIR)$(MANDIR)/man5/tailhook.conf.5
	install -m 0644 docs/install/tailhook.conf.example README.md docs/deployment.md $(DESTDIR)$(DOCDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' docs/install/tailhook.service.in >$(DESTDIR)$(UNITDIR)/tailhook.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tailhook.service
	install -m 0644 docs/install/tailhook.socket $(DESTDIR)$(UNITDIR)/tailhook.socket

clean:
	rm -rf build build-* 

# Fuzzing targets (fuzz, fuzz-smoke, fuzz-coverage) live with the fuzzers;
# included last so that `all` stays the default goal.
-include fuzz/fuzz.mk

# The benchmark (bench, bench-smoke): see bench/bench.mk and docs/benchmarks.md.
-include bench/bench.mk
