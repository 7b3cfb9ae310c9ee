#!/usr/bin/python3
"""Replays request cases against a tailhook that is already running, and
prints what happened on each connection (for debugging by hand).

    tests/integration/tools/replay_case.py PORT CERT.pem tests/cases/C16-* ...

The daemon must be configured with the case's site.ini and secret at path
/hook; the status lines are checked as in test_cases.py, deploys are not.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import thlib  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    port, cert, dirs = int(argv[1]), Path(argv[2]), argv[3:]
    failed = 0
    for d in dirs:
        case = thlib.load_case(Path(d))
        try:
            ex = thlib.run_case_exchange(case, port, cert)
            print(f"ok   {case.name}: {ex.describe()}")
        except AssertionError as exc:
            failed += 1
            print(f"FAIL {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
