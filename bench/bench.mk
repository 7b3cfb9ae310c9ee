# bench/bench.mk - the benchmark against adnanh/webhook and nginx + gunicorn
# + Flask (issue 7), included at the end of the top Makefile.
#
#   make bench        as root: installs the peers from Debian (no service
#                     is started), builds, runs all eight workloads against
#                     every tool (about 25 minutes) and writes
#                     docs/benchmarks.md.  BENCH_ARGS passes options to
#                     bench/bench.py, e.g. BENCH_ARGS="--runs 5".
#   make bench-smoke  builds bench/ and runs tailhook alone for about a
#                     second per workload (no peers, no jekyll); fails if
#                     an answer is wrong.  Part of `make check`.
#   make bench-build  only bench-client and bench-mark.

BENCH_ARGS ?=

.PHONY: bench bench-smoke bench-build

bench-build: $(BUILD)/bench/bench-client $(BUILD)/bench/bench-mark

$(BUILD)/bench/bench-client: bench/bench-client.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_ALL) -lssl -lcrypto

$(BUILD)/bench/bench-mark: bench/bench-mark.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_ALL)

bench:
	@sh bench/bench.sh deps
	@$(MAKE) --no-print-directory all bench-build
	@sh bench/bench.sh run $(BUILD) $(BENCH_ARGS)

bench-smoke: all bench-build
	@sh bench/bench.sh smoke $(BUILD)
