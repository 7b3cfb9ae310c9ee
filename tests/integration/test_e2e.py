"""End-to-end tests of tailhook: the real daemon, a real TLS client, a real
bare git repository playing GitHub, the real build and rsync.

Each test builds its own World (see thlib.World) and starts its own daemon
through the `th` fixture, which stops it with SIGTERM at the end and fails
the test if it does not exit 0.
"""

from __future__ import annotations

import os
import pwd
import ssl
import time

import pytest

import thlib
from thlib import build_request, delivery_of, push_payload, send_push, send_request

# How long to watch for a deploy that must not happen.
NO_DEPLOY_WAIT = 2.0
# How long a deploy-start may take to follow a 202.
START_WAIT = 5.0


def deploy_ok(world: thlib.World, daemon: thlib.Daemon, sha: str) -> thlib.Event:
    """Pushes nothing; sends a signed push of `sha` and waits for a
    successful deploy of it.  Returns the deploy-done event."""
    mark = daemon.log.mark()
    resp = send_push(world, daemon, sha)
    assert resp.status == 202, f"push of {sha}: {resp}"
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-done", f"deploy of {sha} failed: {end.raw}"
    assert end.get("commit") == sha, end.raw
    assert world.target_file("index.html") == world.file_at(sha, "index.html")
    return end


def deploy_triggers(daemon: thlib.Daemon, site: str, since: int) -> list[thlib.Event]:
    """deploy-start and deploy-queued events of `site` since `since`."""
    return [ev for ev in daemon.log.events(since, role="deployer", site=site)
            if ev.get("event") in ("deploy-start", "deploy-queued")]


# -- 1. a valid push deploys --------------------------------------------------


def test_valid_push_deploys_pushed_commit(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.commit("new content")
    world.push()

    mark = daemon.log.mark()
    request = build_request(world.site.path, push_payload("refs/heads/main", sha),
                            secret=world.site.secret)
    resp, version = send_request(daemon.port, world.cert, request)
    assert resp.status == 202, resp
    assert version == "TLSv1.2"

    delivery = delivery_of(request)
    logged = daemon.wait_event(START_WAIT, since=mark, role="receiver", event="request",
                               site="site", delivery=delivery)
    assert logged.get("status") == "202", logged.raw
    start = daemon.wait_event(START_WAIT, since=mark, role="deployer",
                              event="deploy-start", site="site")
    assert start.get("commit") == sha, start.raw
    assert start.get("delivery") == delivery, start.raw

    end = daemon.wait_deploy_end("site", since=mark)
    assert end.get("event") == "deploy-done", end.raw
    assert end.get("commit") == sha, end.raw
    assert end.get("result") == "ok", end.raw
    assert end.get("delivery") == delivery, end.raw
    for name in ("index.html", "stamp"):
        assert world.target_file(name) == world.file_at(sha, name), name


def test_deploys_the_branch_tip_not_the_commit_the_payload_names(th):
    world = th.world()
    daemon = th.start(world)
    older = world.commit("older")
    world.push()
    tip = world.commit("tip")
    world.push()

    mark = daemon.log.mark()
    resp = send_push(world, daemon, older)
    assert resp.status == 202, resp
    start = daemon.wait_event(START_WAIT, since=mark, role="deployer",
                              event="deploy-start", site="site")
    assert start.get("commit") == older, start.raw
    end = daemon.wait_deploy_end("site", since=mark)
    assert end.get("event") == "deploy-done", end.raw
    assert end.get("commit") == tip, end.raw
    assert world.target_file("index.html") == world.file_at(tip, "index.html")


def test_target_mirrors_output_and_drops_removed_files(th):
    world = th.world()
    daemon = th.start(world)
    first = world.commit("with extra page", files={"extra.html": "<p>extra</p>\n"})
    world.push()
    deploy_ok(world, daemon, first)
    assert world.target_file("extra.html") == b"<p>extra</p>\n"

    second = world.commit("without extra page", files={"extra.html": None})
    world.push()
    deploy_ok(world, daemon, second)
    assert world.target_file("extra.html") is None, "rsync --delete did not remove extra.html"
    assert set(world.target_snapshot()) == {"index.html", "stamp"}


# -- 2. a bad signature is refused ---------------------------------------------


def test_bad_signature_is_401_and_target_untouched(th):
    world = th.world()
    daemon = th.start(world)
    good = world.commit("deployed")
    world.push()
    deploy_ok(world, daemon, good)
    before = world.target_snapshot()

    new = world.commit("must not be deployed")
    world.push()
    body = push_payload("refs/heads/main", new)
    other_body = push_payload("refs/heads/main", good)
    attempts = {
        "wrong secret": build_request("/hook", body, secret=b"not-the-secret"),
        "signature of another body": build_request(
            "/hook", body, secret=None, signature=thlib.sign(world.site.secret, other_body)),
        "no signature header": build_request("/hook", body, secret=None),
        "empty secret": build_request("/hook", body, secret=b""),
    }
    mark = daemon.log.mark()
    for what, request in attempts.items():
        resp, _ = send_request(daemon.port, world.cert, request)
        assert resp.status == 401, f"{what}: {resp}"

    logged = daemon.log.wait_count(len(attempts), START_WAIT, since=mark, role="receiver",
                                   event="request", site="site")
    assert [ev.get("status") for ev in logged] == ["401"] * len(attempts)
    time.sleep(NO_DEPLOY_WAIT)
    assert deploy_triggers(daemon, "site", mark) == []
    assert world.target_snapshot() == before
    daemon.assert_alive()


# -- 3. another branch does not deploy ------------------------------------------


def test_push_to_another_branch_is_200_without_deploy(th):
    world = th.world()
    daemon = th.start(world)
    good = world.commit("deployed")
    world.push()
    deploy_ok(world, daemon, good)
    before = world.target_snapshot()

    feature = world.commit("feature work")
    world.push("feature")
    mark = daemon.log.mark()
    resp = send_push(world, daemon, feature, branch="feature")
    assert resp.status == 200, resp
    time.sleep(NO_DEPLOY_WAIT)
    assert deploy_triggers(daemon, "site", mark) == []
    assert world.target_snapshot() == before
    daemon.assert_alive()


# -- 4. a failing build keeps the previous site ---------------------------------


def test_failing_build_keeps_previous_site(th):
    world = th.world()
    daemon = th.start(world)
    good = world.commit("good build")
    world.push()
    deploy_ok(world, daemon, good)
    before = world.target_snapshot()

    broken = world.commit("broken build", files={"build.sh": thlib.FAILING_BUILD_SH},
                          executable=["build.sh"])
    world.push()
    mark = daemon.log.mark()
    resp = send_push(world, daemon, broken)
    assert resp.status == 202, resp
    end = daemon.wait_deploy_end("site", since=mark)
    assert end.get("event") == "deploy-failed", end.raw
    assert end.get("step") == "build", end.raw
    assert world.target_snapshot() == before
    daemon.assert_alive()

    # And the next good push deploys again.
    fixed = world.commit("fixed build",
                         files={"build.sh": thlib.BUILD_SH.format(signals=world.signals)},
                         executable=["build.sh"])
    world.push()
    deploy_ok(world, daemon, fixed)


# -- 5. pushes during a slow build coalesce --------------------------------------


def test_pushes_during_slow_build_give_two_deploys_of_newest(th):
    world = th.world()
    daemon = th.start(world)
    slow = {"SLOW": "3\n"}  # every build of these commits sleeps 3 s
    first = world.commit("slow 1", files=slow)
    world.push()

    mark = daemon.log.mark()
    resp = send_push(world, daemon, first)
    assert resp.status == 202, resp
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="deploy-start", site="site")
    # Wait until the build of the first commit runs, so that the checkout
    # surely holds it before the next pushes reach the bare repo.
    stamp = world.file_at(first, "stamp").decode().strip()
    thlib.wait_until(lambda: stamp in world.builds_started(), 15,
                     "the build of the first commit to start")

    second = world.commit("slow 2", files=slow)
    world.push()
    resp = send_push(world, daemon, second)
    assert resp.status == 202, resp
    third = world.commit("slow 3", files=slow)
    world.push()
    resp = send_push(world, daemon, third)
    assert resp.status == 202, resp
    assert thlib.deploy_end_events(daemon.log, "site", mark) == [], (
        "the first deploy ended before the other pushes were sent: "
        "this run could not test coalescing")

    daemon.log.wait_count(2, 2 * thlib.DEPLOY_TIMEOUT, since=mark, role="deployer",
                          event="deploy-done", site="site")
    time.sleep(2.5)  # a third deploy would start right after the second

    starts = daemon.log.events(mark, role="deployer", event="deploy-start", site="site")
    ends = thlib.deploy_end_events(daemon.log, "site", mark)
    assert len(starts) == 2, [ev.raw for ev in starts]
    assert [ev.get("event") for ev in ends] == ["deploy-done", "deploy-done"], [
        ev.raw for ev in ends]
    assert ends[0].get("commit") == first, ends[0].raw
    assert ends[1].get("commit") == third, ends[1].raw
    assert daemon.log.events(mark, role="deployer", event="deploy-queued", site="site"), (
        "no deploy-queued line for the pushes that arrived during the build")
    assert world.target_file("index.html") == world.file_at(third, "index.html")


# -- 6. -n and -V ---------------------------------------------------------------


def test_check_valid_config_exits_0(th):
    world = th.world()
    proc = thlib.run_tailhook("-n", "-f", str(world.config))
    assert proc.returncode == 0, f"exit {proc.returncode}; stderr:\n{proc.stderr}"


def test_check_unknown_key_exits_1_with_file_and_line(th):
    world = th.world()
    text = world.config_text(site_extra=["colour = blue"])
    line = text.splitlines().index("colour = blue") + 1
    config = world.write_config(text, world.base / "unknown-key.conf")
    proc = thlib.run_tailhook("-n", "-f", str(config))
    assert proc.returncode == 1, f"exit {proc.returncode}; stderr:\n{proc.stderr}"
    assert f"{config}:{line}:" in proc.stderr, proc.stderr
    assert "colour" in proc.stderr, proc.stderr


def test_version(th):
    proc = thlib.run_tailhook("-V")
    assert proc.returncode == 0, f"exit {proc.returncode}; stderr:\n{proc.stderr}"
    assert thlib.project_version() in proc.stdout + proc.stderr, (proc.stdout, proc.stderr)


# -- 7. a secret readable by others is refused ------------------------------------


def test_secret_readable_by_others_is_refused_at_start(th):
    world = th.world()
    world.secret_file.chmod(0o644)
    daemon = th.spawn(world)
    rc = daemon.expect_exit(thlib.START_TIMEOUT)
    log = daemon.log.text()
    assert rc != 0, f"the daemon exited 0 with a 0644 secret file:\n{log}"
    assert str(world.secret_file) in log, f"the message does not name the secret file:\n{log}"
    assert not daemon.log.events(role="deployer", event="listen"), log


# -- TLS and process hygiene ------------------------------------------------------


def test_tls13_only_client_is_refused(th):
    world = th.world()
    daemon = th.start(world)
    ctx = thlib.client_context(world.cert)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises((ssl.SSLError, ConnectionError)):
        thlib.TLSClient(daemon.port, world.cert, context=ctx).close()
    # The daemon still serves TLS 1.2 clients afterwards.
    resp = send_push(world, daemon, world.git("rev-parse", "HEAD"), branch="elsewhere")
    assert resp.status == 200, resp


def test_sigterm_stops_daemon_and_all_its_processes(th):
    world = th.world()
    daemon = th.start(world)
    assert len(daemon.processes()) >= 2, "expected the deployer and the receiver"
    daemon.stop()  # asserts exit status 0 and that no process is left


@pytest.mark.skipif(not thlib.IS_ROOT, reason="privilege separation needs root")
def test_receiver_runs_as_its_user_in_the_chroot(th):
    world = th.world()
    daemon = th.start(world)
    receiver_uid = pwd.getpwnam(world.receiver_user).pw_uid
    receivers = []
    for pid in daemon.processes():
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if os.path.basename(exe).startswith("tailhook-receiver"):
            receivers.append(pid)
    assert receivers, "no tailhook-receiver process among the daemon's processes"
    for pid in receivers:
        with open(f"/proc/{pid}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        assert {int(u) for u in uids} == {receiver_uid}, f"receiver {pid} uids {uids}"
        assert os.readlink(f"/proc/{pid}/root") == str(world.chroot)


@pytest.mark.parametrize("change, message", [
    (("output = out", "output = .git"), "must not be inside .git"),
    (("output = out", "output = ./.git/hooks"), "must not be inside .git"),
    ("target-in-checkout", "target and checkout must not be inside each other"),
])
def test_check_refuses_layouts_that_break_a_site(th, change, message):
    world = th.world()
    text = world.config_text()
    if change == "target-in-checkout":
        text = text.replace(f"target = {world.target}", f"target = {world.checkout}/live")
    else:
        text = text.replace(*change)
    world.write_config(text)
    out = thlib.run_tailhook("-n", "-f", str(world.config))
    assert out.returncode == 1 and message in out.stderr, out.stderr
    assert f"{world.config}:" in out.stderr, out.stderr


@pytest.mark.skipif(not thlib.IS_ROOT, reason="users are switched only as root")
def test_check_refuses_a_site_user_that_is_the_receiver_user(th):
    world = th.world()
    world.write_config(world.config_text().replace(f"user = {world.site_user}",
                                                   f"user = {world.receiver_user}"))
    out = thlib.run_tailhook("-n", "-f", str(world.config))
    assert out.returncode == 1 and "is the receiver's user too" in out.stderr, out.stderr
