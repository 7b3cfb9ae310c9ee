#!/bin/sh
# tests/run-all.sh - what `make check` runs after tests/deps.sh:
#   build   gcc (build/), clang (build-clang/), clang with ASan+UBSan (build-asan/)
#   lint    cppcheck and clang-format over the sources
#   unit    cmocka tests of the gcc build and of the sanitizer build
#   integ   pytest (tests/integration) against the gcc build and the sanitizer build
#   fuzz    make fuzz-smoke (every target briefly, every corpus file once)
#   demo    the README's `make demo`, so the quick start cannot rot
#   bench   make bench-smoke (a one-second run, so bench/ cannot rot)
#   summary one line "N passed, N failed, N skipped" over every test run
# Exits non-zero if any test failed or any step failed.  Tests of a build
# that failed are not run and count as failed steps.
set -u
cd "$(dirname "$0")/.." || exit 1

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

failed_steps=""
step_failed() { failed_steps="${failed_steps:+$failed_steps, }$1"; }
header() { printf '\n==> %s\n' "$*"; }

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

header "build with gcc: make BUILD=build CC=gcc all units"
gcc_ok=1
make BUILD=build CC=gcc all units || { gcc_ok=0; step_failed "gcc build"; }

header "build with clang: make BUILD=build-clang CC=clang all units"
make BUILD=build-clang CC=clang all units || step_failed "clang build"

header "build with clang, ASan and UBSan: make BUILD=build-asan ..."
asan_ok=1
make BUILD=build-asan CC=clang CFLAGS="-O1 -g" EXTRA_CFLAGS="$SAN" EXTRA_LDFLAGS="$SAN" \
	all units || { asan_ok=0; step_failed "sanitizer build"; }

header "lint: cppcheck and clang-format"
make --no-print-directory lint || step_failed "cppcheck"
# shellcheck disable=SC2046 # the file list is word-split on purpose
if ! clang-format --dry-run -Werror $(ls common/*.[ch] receiver/*.[ch] deployer/*.[ch] \
	tests/unit/*.c fuzz/*.c 2>/dev/null); then
	step_failed "clang-format (run: make format)"
fi

# run_tests KIND BUILD OK LABEL: one test runner over one build.
run_tests() {
	header "$4"
	if [ "$3" -ne 1 ]; then
		echo "skipped: the build failed"
		step_failed "$4 (not run)"
		return
	fi
	TAILHOOK_COUNTS="$tmp/counts-$1-$2" sh "tests/run-$1.sh" "$2" || step_failed "$4"
}

run_tests unit build "$gcc_ok" "unit tests (gcc build)"
run_tests unit build-asan "$asan_ok" "unit tests (ASan+UBSan build)"
run_tests integration build "$gcc_ok" "integration tests (gcc build)"
run_tests integration build-asan "$asan_ok" "integration tests (ASan+UBSan build)"

# The README's first command must keep working: run it as a test.
header "demo: sh tests/demo/demo.sh build"
if [ "$gcc_ok" -eq 1 ]; then
	sh tests/demo/demo.sh build >"$tmp/demo.log" 2>&1 || {
		tail -40 "$tmp/demo.log"
		step_failed "make demo"
	}
	tail -1 "$tmp/demo.log"
else
	step_failed "make demo (not run)"
fi

if make -n fuzz-smoke >/dev/null 2>&1; then
	header "fuzz smoke: make fuzz-smoke"
	make --no-print-directory fuzz-smoke || step_failed "fuzz smoke"
fi
if make -n bench-smoke >/dev/null 2>&1; then
	header "bench smoke: make bench-smoke"
	make --no-print-directory bench-smoke || step_failed "bench smoke"
fi

header "summary"
passed=0
failed=0
skipped=0
for f in "$tmp"/counts-*; do
	[ -f "$f" ] || continue
	read -r p fl s <"$f"
	passed=$((passed + p))
	failed=$((failed + fl))
	skipped=$((skipped + s))
done
[ -n "$failed_steps" ] && echo "failed steps: $failed_steps"
echo "$passed passed, $failed failed, $skipped skipped"
[ -z "$failed_steps" ] && [ "$failed" -eq 0 ]
