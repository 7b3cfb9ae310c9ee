#!/bin/sh
# tests/run-unit.sh [BUILD] - run every BUILD/tests/test_* cmocka binary
# from the repository root and count the results.
#
# Counts come from cmocka's summary lines ("[  PASSED  ] N test(s).",
# "[  FAILED  ] N test(s)", "[  SKIPPED ] N test(s)"); a binary that exits
# non-zero without reporting a failed test (a crash, a failing setup, a
# timeout) counts as one failure.  Prints "unit: N passed, N failed, N
# skipped"; when TAILHOOK_COUNTS names a file, also writes "P F S" to it
# (tests/run-all.sh adds the numbers up).  Exits 1 if anything failed.
set -u

build=${1:-build}
cd "$(dirname "$0")/.." || exit 1

# Seconds one test binary may run before it counts as failed.
unit_timeout=${TAILHOOK_UNIT_TIMEOUT:-300}

out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT INT TERM

# sum_of REGEX FILE: the sum of the numbers captured by sed REGEX in FILE.
sum_of() {
	sed -n "s/$1/\\1/p" "$2" | {
		total=0
		while read -r n; do total=$((total + n)); done
		echo "$total"
	}
}

passed=0
failed=0
skipped=0
binaries=0
for t in "$build"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	binaries=$((binaries + 1))
	echo "--- $t"
	CMOCKA_MESSAGE_OUTPUT=stdout timeout "$unit_timeout" "./$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sum_of '^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*' "$out")
	f=$(sum_of '^\[  FAILED  \] \([0-9][0-9]*\) test(s).*' "$out")
	s=$(sum_of '^\[  SKIPPED \] \([0-9][0-9]*\) test(s).*' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		if [ "$rc" -eq 124 ]; then
			echo "unit: $t timed out after ${unit_timeout}s"
		else
			echo "unit: $t exited with status $rc without a cmocka failure report"
		fi
		f=1
	fi
	echo "unit: $t: $p passed, $f failed, $s skipped"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done

[ "$binaries" -eq 0 ] && echo "unit: no test binaries in $build/tests"
echo "unit: $passed passed, $failed failed, $skipped skipped"
if [ -n "${TAILHOOK_COUNTS:-}" ]; then
	echo "$passed $failed $skipped" >"$TAILHOOK_COUNTS"
fi
[ "$failed" -eq 0 ]
