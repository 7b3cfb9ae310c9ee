#!/bin/sh
# tests/run-integration.sh [BUILD [PYTEST-ARGS...]] - run the pytest
# integration suite against BUILD/tailhook (the real daemon, real TLS, a
# real bare git repo and real rsync; see tests/integration/conftest.py).
#
# Extra arguments go to pytest, e.g. `sh tests/run-integration.sh build -k
# C16 -x`.  Prints "integration: N passed, N failed, N skipped" (from
# pytest's JUnit XML); when TAILHOOK_COUNTS names a file, also writes
# "P F S" to it.  A pytest run that ends badly without a failed test
# (collection error, usage error, nothing collected) counts as one failure.
# Exits 1 if anything failed.
set -u

build=${1:-build}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/.." || exit 1

# Debian's interpreter on purpose: a pyenv python3 may come first in PATH
# and lack pytest.
python=/usr/bin/python3

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

TAILHOOK_BIN="$PWD/$build/tailhook" "$python" -m pytest -q -p no:cacheprovider \
	--junitxml="$tmp/junit.xml" tests/integration "$@"
rc=$?

counts=$("$python" - "$tmp/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    root = None
if root is not None:
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            failed += 1
        elif "skipped" in tags:
            skipped += 1
        else:
            passed += 1
print(passed, failed, skipped)
EOF
) || counts="0 0 0"
set -- $counts
passed=$1
failed=$2
skipped=$3

if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "integration: pytest exited with status $rc without a failed test"
	failed=1
fi

echo "integration: $passed passed, $failed failed, $skipped skipped"
if [ -n "${TAILHOOK_COUNTS:-}" ]; then
	echo "$passed $failed $skipped" >"$TAILHOOK_COUNTS"
fi
[ "$failed" -eq 0 ]
