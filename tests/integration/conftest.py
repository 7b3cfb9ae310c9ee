"""Fixtures for tailhook's integration tests.

Run with Debian's interpreter from the repository root:

    TAILHOOK_BIN=$PWD/build/tailhook /usr/bin/python3 -m pytest -q tests/integration

(or `make integration`).  TAILHOOK_KEEP=1 keeps the temp dirs under /tmp
(their paths are in the failure output).  As root, the tests create two
system users, _tailhook-test (receiver) and tailhook-site-test (site).
"""

from __future__ import annotations

import pytest

import thlib

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for label, log, since in item.stash.get(thlib.LOGS, []):
            report.sections.append((f"tailhook log: {label} ({log.path})",
                                    log.tail(200, since) or "(empty)"))


class Harness:
    """Per-test worlds and daemons; everything is stopped and removed at the
    end of the test, and a daemon that does not stop cleanly on SIGTERM
    fails the test (as an error in teardown)."""

    def __init__(self, node: pytest.Item):
        self.node = node
        self.worlds: list[thlib.World] = []
        self.daemons: list[thlib.Daemon] = []

    def world(self, **site) -> thlib.World:
        world = thlib.World(thlib.make_base_dir(), thlib.SiteConfig(**site))
        self.worlds.append(world)
        return world

    def spawn(self, world: thlib.World, config=None) -> thlib.Daemon:
        """Starts `tailhook -f` without waiting for it to be ready."""
        daemon = thlib.Daemon(config or world.config, world.log_path)
        self.daemons.append(daemon)
        daemon.spawn()
        thlib.note_log(self.node, world.site.name, daemon.log, daemon.start_mark)
        return daemon

    def start(self, world: thlib.World, config=None) -> thlib.Daemon:
        """Starts `tailhook -f` and waits for event=listen and event=ready."""
        daemon = self.spawn(world, config)
        daemon.wait_ready()
        return daemon

    def finish(self) -> list[str]:
        errors = []
        for daemon in self.daemons:
            if daemon.exit_checked or daemon.proc is None:
                continue
            try:
                daemon.stop()
            except AssertionError as exc:
                errors.append(str(exc))
            finally:
                daemon.kill()
        for world in self.worlds:
            world.cleanup()
        return errors


@pytest.fixture
def th(request):
    harness = Harness(request.node)
    yield harness
    errors = harness.finish()
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


class CasePool:
    """One daemon per distinct (site.ini, secret) of the request cases, kept
    running across the cases of a module.  Before a case gets a daemon, every deploy the
    earlier cases triggered has ended, so deploy-start lines after the case's
    log mark belong to that case."""

    IDLE_WAIT = 45.0

    def __init__(self):
        self.entries: dict[tuple, tuple[thlib.World, thlib.Daemon]] = {}
        self.start_errors: dict[tuple, str] = {}

    def get(self, case: thlib.Case, fresh: bool = False) -> tuple[thlib.World, thlib.Daemon]:
        """`fresh`: a daemon that has seen no earlier case.  The receiver
        answers a delivery id it has already deployed (with the same commit)
        as a duplicate, and the shared cases reuse one delivery id and
        commit, so a case that must deploy needs a receiver that has not
        deployed them yet."""
        key = thlib.case_config_key(case)
        if key in self.start_errors:
            pytest.fail(f"the daemon for this case's config did not start earlier:\n"
                        f"{self.start_errors[key]}", pytrace=False)
        entry = self.entries.get(key)
        if entry is not None:
            world, daemon = entry
            if daemon.alive() and daemon.wait_idle(world.site.name, self.IDLE_WAIT):
                if not fresh:
                    return world, daemon
                daemon.stop()
            # Dead, or a deploy that never ends: start afresh so that one
            # bad case does not spoil the ones after it.
            daemon.kill()
        else:
            world = thlib.World(thlib.make_base_dir("tailhook-cases-"),
                                thlib.case_site_config(case))
        daemon = thlib.Daemon(world.config, world.log_path)
        try:
            daemon.spawn()
            daemon.wait_ready()
        except AssertionError as exc:
            daemon.kill()
            self.start_errors[key] = str(exc)
            self.entries.pop(key, None)
            world.cleanup()
            raise
        self.entries[key] = (world, daemon)
        return world, daemon

    def finish(self) -> list[str]:
        errors = []
        for world, daemon in self.entries.values():
            try:
                daemon.stop()
            except AssertionError as exc:
                errors.append(f"{world.base}: {exc}")
            finally:
                daemon.kill()
            world.cleanup()
        return errors


@pytest.fixture(scope="module")
def case_pool():
    pool = CasePool()
    yield pool
    errors = pool.finish()
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)
