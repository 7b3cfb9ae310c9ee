# fuzz/fuzz.mk - libFuzzer targets, included at the end of the top Makefile.
#
#   make fuzz            build every target and run each for FUZZ_SECONDS
#                        (default 60); fails on any crash, leak, timeout or
#                        sanitizer report.  `make -j2 fuzz` runs two at once.
#   make fuzz-smoke      the CI variant: every corpus and crash file once,
#                        then FUZZ_SMOKE_SECONDS (default 10) per target.
#   make fuzz-regress    only the corpus and crash files, once each.
#   make fuzz-coverage   line coverage of the parsers over fuzz/corpus.
#   make fuzz-merge      fold what fuzzing found into fuzz/corpus (only
#                        inputs that reach new edges: -use_counters=0).
#   make fuzz-run-NAME   one target (NAME from FUZZ_TARGETS).
#
# See docs/fuzzing.md.  Needs clang-14, libclang-rt-14-dev (libFuzzer and
# the sanitizer runtimes) and llvm-14 (llvm-profdata-14, llvm-cov-14).

FUZZ_CC            ?= clang-14
FUZZ_BUILD         ?= build-fuzz
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_PROFDATA      ?= llvm-profdata-14
FUZZ_COV           ?= llvm-cov-14
# Extra libFuzzer flags for every run, e.g. FUZZ_FLAGS=-jobs=2 or -max_len=65536.
FUZZ_FLAGS         ?=

FUZZ_TARGETS := json_push form http_req signature msg config tls

FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -DTH_VERSION='"$(VERSION)"' $(WARN) -g -O1 \
                -fno-omit-frame-pointer -Icommon -Ireceiver -Ideployer -Ifuzz
FUZZ_COVFLAG := -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping
FUZZ_LIBS    := -levent_core -lbearssl -linih -lseccomp

# Every module but the two entry points, as for the unit tests.
FUZZ_PROJ_SRC := $(COMMON_SRC) $(RECEIVER_SRC) $(DEPLOYER_SRC)
FUZZ_HDRS     := $(wildcard common/*.h receiver/*.h deployer/*.h) fuzz/fuzz.h
FUZZ_OBJ      := $(FUZZ_PROJ_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_COV_OBJ  := $(FUZZ_PROJ_SRC:%.c=$(FUZZ_BUILD)/cov/obj/%.o)
FUZZ_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_COV_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/cov/fuzz_%)

# The files the coverage report is about: everything network bytes (or the
# config) reach.  tls_keys.c, log.c and the rest only serve the setup.
FUZZ_COV_FILES := receiver/http_req.c receiver/route.c receiver/signature.c \
                  receiver/json_push.c receiver/json_changes.c receiver/form.c \
                  receiver/provider.c receiver/dedupe.c receiver/conn.c \
                  receiver/conn_tls.c receiver/conn_plain.c receiver/tls_server.c \
                  common/msg.c common/provider_id.c common/hex.c deployer/config.c \
                  deployer/argv_split.c

# Per-run libFuzzer flags.  The tls target's receiver logs a line per
# request; -close_fd_mask=2 drops the target's stderr (libFuzzer and the
# sanitizers keep reporting on a duplicate of it).
FUZZ_RUN_FLAGS := -timeout=25 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_EXTRA_tls := -close_fd_mask=2

fuzz_dict = $(if $(wildcard fuzz/dict/$(1).dict),-dict=fuzz/dict/$(1).dict)
# Only directories that exist: libFuzzer refuses a missing one.
fuzz_seeds = fuzz/corpus/$(1) $(wildcard fuzz/crashes/$(1))

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-regress fuzz-coverage fuzz-merge \
        $(FUZZ_TARGETS:%=fuzz-run-%) $(FUZZ_TARGETS:%=fuzz-regress-%) \
        $(FUZZ_TARGETS:%=fuzz-merge-%)

fuzz-build: $(FUZZ_BINS)

# Keep the objects: they are only ever reached through pattern rules.
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_COV_OBJ)

$(FUZZ_BUILD)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

$(FUZZ_BUILD)/cov/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_COVFLAG) -c -o $@ $<

$(FUZZ_BUILD)/cov/fuzz_%: fuzz/fuzz_%.c $(FUZZ_COV_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_COVFLAG) -o $@ $^ $(FUZZ_LIBS)

# New inputs go to $(FUZZ_BUILD)/corpus/NAME (the first directory); the
# checked-in seeds are only read.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

# One set of rules per target.  Explicit rules, made by eval: make never
# applies pattern rules to .PHONY targets.
define fuzz_target_rules
fuzz-run-$(1): $(FUZZ_BUILD)/fuzz_$(1)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts/$(1)
	@echo "==> fuzz $(1) for $$(FUZZ_SECONDS)s"
	$(FUZZ_BUILD)/fuzz_$(1) -max_total_time=$$(FUZZ_SECONDS) $(call fuzz_dict,$(1)) \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)/ $(FUZZ_RUN_FLAGS) $(FUZZ_EXTRA_$(1)) \
	  $$(FUZZ_FLAGS) $(FUZZ_BUILD)/corpus/$(1) $(call fuzz_seeds,$(1))

fuzz-regress-$(1): $(FUZZ_BUILD)/fuzz_$(1)
	@echo "==> regress $(1): every file of $(call fuzz_seeds,$(1))"
	$(FUZZ_BUILD)/fuzz_$(1) -runs=0 $(FUZZ_RUN_FLAGS) $(FUZZ_EXTRA_$(1)) $(call fuzz_seeds,$(1))

fuzz-merge-$(1): $(FUZZ_BUILD)/fuzz_$(1)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1)
	$(FUZZ_BUILD)/fuzz_$(1) -merge=1 -use_counters=0 $(FUZZ_RUN_FLAGS) $(FUZZ_EXTRA_$(1)) \
	  fuzz/corpus/$(1) $(FUZZ_BUILD)/corpus/$(1)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target_rules,$(t))))

# -runs=0: execute every input of the given directories once, then stop.
fuzz-regress: $(FUZZ_TARGETS:%=fuzz-regress-%)

# Sequenced with a sub-make so that -j never starts fuzzing before the
# regression pass is over.
fuzz-smoke: fuzz-regress
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

fuzz-merge: $(FUZZ_TARGETS:%=fuzz-merge-%)

fuzz-coverage: $(FUZZ_COV_BINS)
	@rm -rf $(FUZZ_BUILD)/cov/prof
	@mkdir -p $(FUZZ_BUILD)/cov/prof
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "==> coverage run $$t"; \
	  LLVM_PROFILE_FILE=$(FUZZ_BUILD)/cov/prof/$$t.profraw \
	    $(FUZZ_BUILD)/cov/fuzz_$$t -runs=0 $(FUZZ_RUN_FLAGS) \
	    fuzz/corpus/$$t $$(ls -d fuzz/crashes/$$t 2>/dev/null) 2>$(FUZZ_BUILD)/cov/prof/$$t.log \
	    || { cat $(FUZZ_BUILD)/cov/prof/$$t.log; exit 1; }; \
	done
	$(FUZZ_PROFDATA) merge -sparse $(FUZZ_BUILD)/cov/prof/*.profraw \
	  -o $(FUZZ_BUILD)/cov/fuzz.profdata
	$(FUZZ_COV) report $(firstword $(FUZZ_COV_BINS)) \
	  $(addprefix -object ,$(wordlist 2,99,$(FUZZ_COV_BINS))) \
	  -instr-profile=$(FUZZ_BUILD)/cov/fuzz.profdata $(FUZZ_COV_FILES)
	@echo "Per-line detail: $(FUZZ_COV) show $(firstword $(FUZZ_COV_BINS))" \
	  "$(addprefix -object ,$(wordlist 2,99,$(FUZZ_COV_BINS)))" \
	  "-instr-profile=$(FUZZ_BUILD)/cov/fuzz.profdata FILE"

# The regression test of `make check` runs the same harness code without
# clang or libFuzzer: the harness files are compiled with -DFUZZ_NO_MAIN
# into this one test.  This explicit rule overrides the top Makefile's
# pattern rule for tests (which links only the project's modules).
FUZZ_HARNESS_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

$(BUILD)/tests/test_fuzz_regressions: tests/unit/test_fuzz_regressions.c $(FUZZ_HARNESS_SRC) \
                                      fuzz/fuzz.h $(RECEIVER_OBJ) $(DEPLOYER_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_NO_MAIN -Itests/unit -Ifuzz -o $@ $(filter %.c,$^) \
	  $(filter %.o,$^) $(LDFLAGS_ALL) $(LIBS_RECEIVER) $(LIBS_DEPLOYER) -lcmocka
