"""The request cases in tests/cases, played through the real daemon.

Each case folder says what a client sends over one TLS connection and what
must happen (see tests/cases/README.md).  Cases with the same site.ini and
secret share one daemon (the module-wide `case_pool`); before each case the
pool waits until the daemon has no deploy running or queued, so the deploy
lines after the case's log mark are the case's own.
"""

from __future__ import annotations

import time

import pytest

import thlib

# A deploy must start within this many seconds of the request...
DEPLOY_YES_WAIT = 5.0
# ...and a case that must not deploy is watched this long.
DEPLOY_NO_WAIT = 1.5


@pytest.mark.parametrize("case_dir", thlib.case_dirs(), ids=lambda p: p.name)
def test_case(case_dir, case_pool, request):
    case = thlib.load_case(case_dir)
    # Provider dialects (issue 5) are built; anything else a case needs is not.
    needs = [n for n in case.needs if n != "dialects"]
    if needs:
        pytest.skip(f"needs {', '.join(needs)}")

    world, daemon = case_pool.get(case, fresh=case.deploy == "yes")
    site = world.site.name
    mark = daemon.log.mark()
    thlib.note_log(request.node, case.name, daemon.log, mark)

    thlib.run_case_exchange(case, daemon.port, world.cert)

    if case.deploy == "yes":
        daemon.wait_event(DEPLOY_YES_WAIT, since=mark, role="deployer",
                          event="deploy-start", site=site)
        # Whether it succeeds does not matter here, but it must end, and
        # the daemon must survive it.
        daemon.wait_deploy_end(site, since=mark)
    elif case.deploy == "no":
        time.sleep(DEPLOY_NO_WAIT)
        triggered = [ev.raw for ev in daemon.log.events(mark, role="deployer", site=site)
                     if ev.get("event") in ("deploy-start", "deploy-queued")]
        assert not triggered, f"{case.name} must not deploy, but: {triggered}"
    daemon.assert_alive()


def test_case_folders_are_present():
    """The copy of the shared cases is here and every folder parses."""
    dirs = thlib.case_dirs()
    assert dirs, f"no case folders in {thlib.CASES_DIR}"
    for path in dirs:
        case = thlib.load_case(path)
        thlib.case_site_config(case)
