#!/bin/sh
# tests/run-all.sh - what `make check` runs after tests/deps.sh:
#   1. build with gcc   (build/)
#   2. build with clang (build-clang/)
#   3. unit tests       (build/tests/test_*, cmocka)
#   4. integration      (pytest, tests/integration, against build/tailhook)
#   5. summary: one line "N passed, N failed, N skipped" (unit + integration)
# Exits non-zero if any test failed or any step failed.  Steps 3 and 4 need
# the gcc build and are skipped (and count as failed steps) without it.
set -u
cd "$(dirname "$0")/.." || exit 1

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

failed_steps=""
step_failed() { failed_steps="${failed_steps:+$failed_steps, }$1"; }
header() { printf '\n==> %s\n' "$*"; }

header "[1/5] build with gcc: make BUILD=build CC=gcc all units"
gcc_ok=1
if ! make BUILD=build CC=gcc all units; then
	gcc_ok=0
	step_failed "gcc build"
fi

header "[2/5] build with clang: make BUILD=build-clang CC=clang all units"
if ! make BUILD=build-clang CC=clang all units; then
	step_failed "clang build"
fi

header "[3/5] unit tests: build/tests/test_*"
if [ "$gcc_ok" -eq 1 ]; then
	TAILHOOK_COUNTS="$tmp/unit" sh tests/run-unit.sh build || step_failed "unit tests"
else
	echo "skipped: the gcc build failed"
	step_failed "unit tests (not run)"
fi

header "[4/5] integration tests: pytest tests/integration"
if [ "$gcc_ok" -eq 1 ]; then
	TAILHOOK_COUNTS="$tmp/integration" sh tests/run-integration.sh build ||
		step_failed "integration tests"
else
	echo "skipped: the gcc build failed"
	step_failed "integration tests (not run)"
fi

header "[5/5] summary"
passed=0
failed=0
skipped=0
for f in "$tmp/unit" "$tmp/integration"; do
	[ -f "$f" ] || continue
	read -r p fl s <"$f"
	passed=$((passed + p))
	failed=$((failed + fl))
	skipped=$((skipped + s))
done
[ -n "$failed_steps" ] && echo "failed steps: $failed_steps"
echo "$passed passed, $failed failed, $skipped skipped"
[ -z "$failed_steps" ] && [ "$failed" -eq 0 ]
