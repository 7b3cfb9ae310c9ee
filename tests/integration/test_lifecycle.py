"""Never a broken site, never a lost push: atomic publish, failed steps,
catch-up after kill -9, SIGTERM, SIGHUP reload (also with a certificate
swap while a request is in flight), tailhook -t, socket activation.

Every test drives the real daemon through the `th` fixture, as in
test_e2e.py.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

import thlib
from thlib import build_request, push_payload, send_push

START_WAIT = 5.0


def deploy_ok(world: thlib.World, daemon: thlib.Daemon, sha: str) -> thlib.Event:
    mark = daemon.log.mark()
    resp = send_push(world, daemon, sha)
    assert resp.status == 202, f"push of {sha}: {resp}"
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-done", f"deploy of {sha} failed: {end.raw}"
    assert end.get("commit") == sha, end.raw
    return end


def releases_dir(world: thlib.World) -> Path:
    return Path(str(world.target) + ".releases")


def live_release(world: thlib.World) -> str:
    assert world.target.is_symlink(), f"{world.target} is not a symlink"
    return os.path.basename(os.readlink(world.target))


def read_state(world: thlib.World) -> dict:
    path = world.state / "sites" / world.site.name / "state"
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value
    return out


def receiver_pid(daemon: thlib.Daemon, since: int = 0) -> int:
    starts = daemon.log.events(since, role="deployer", event="receiver-start")
    assert starts, "no receiver-start line"
    return int(starts[-1].get("pid"))


# -- atomic publish ---------------------------------------------------------------


def test_deploy_publishes_a_release_and_switches_the_symlink(th):
    world = th.world()
    daemon = th.start(world)
    first = world.commit("first")
    world.push()
    end = deploy_ok(world, daemon, first)
    release = live_release(world)
    assert release == end.get("release"), end.raw
    assert release.endswith("-" + first[:12]), release
    assert os.readlink(world.target) == f"www.releases/{release}", "expected a relative link"
    assert world.target_file("index.html") == world.file_at(first, "index.html")
    state = read_state(world)
    assert state["commit"] == first and state["release"] == release
    assert state["last-result"] == "ok", state
    if thlib.IS_ROOT:  # the switch is done by the site user, never by root
        uid = pwd.getpwnam(world.site_user).pw_uid
        for path in (world.target, releases_dir(world), releases_dir(world) / release):
            assert path.lstat().st_uid == uid, path
    # The deploy's own log is kept beside the state.
    logs = sorted((world.state / "sites" / world.site.name / "deploys").glob("*.log"))
    assert logs and f"commit={first}" in logs[-1].read_text()


def test_keep_prunes_old_releases_but_never_the_live_one(th):
    world = th.world()
    world.write_config(world.config_text(site_extra=["keep = 2"]))
    daemon = th.start(world)
    shas = []
    for i in range(4):
        shas.append(world.commit(f"release {i}"))
        world.push()
        deploy_ok(world, daemon, shas[-1])
    names = sorted(p.name for p in releases_dir(world).iterdir())
    assert len(names) == 2, names
    assert names[-1] == live_release(world)
    assert names[-1].endswith(shas[-1][:12]) and names[0].endswith(shas[-2][:12]), names


def test_failed_build_leaves_the_old_release_served_and_is_recorded(th):
    world = th.world()
    daemon = th.start(world)
    good = world.commit("good")
    world.push()
    deploy_ok(world, daemon, good)
    live = live_release(world)
    before = world.target_snapshot()
    releases_before = sorted(p.name for p in releases_dir(world).iterdir())

    broken = world.commit("broken", files={"build.sh": thlib.FAILING_BUILD_SH},
                          executable=["build.sh"])
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, broken).status == 202
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-failed", end.raw
    assert end.get("step") == "build" and end.get("status") == "exit 1", end.raw
    assert "this build fails on purpose" in end.get("output", ""), end.raw
    assert end.get("commit") == broken and end.get("duration_ms"), end.raw
    assert live_release(world) == live
    assert world.target_snapshot() == before
    state = read_state(world)
    assert state["commit"] == good, "the live commit must stay the old one"
    assert state["last-result"] == "failed" and state["last-step"] == "build", state
    assert state["last-commit"] == broken and state["last-status"] == "exit 1", state
    assert "this build fails on purpose" in state["last-output"], state
    # No half-made release is left behind.
    assert sorted(p.name for p in releases_dir(world).iterdir()) == releases_before


def test_empty_output_never_replaces_the_live_site(th):
    world = th.world()
    daemon = th.start(world)
    good = world.commit("good")
    world.push()
    deploy_ok(world, daemon, good)
    live = live_release(world)
    empty = world.commit("builds nothing", files={
        "build.sh": "#!/bin/sh\nrm -rf out\nmkdir out\n"}, executable=["build.sh"])
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, empty).status == 202
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-failed", end.raw
    assert "empty" in end.get("status", ""), end.raw
    assert live_release(world) == live


TORN_READER = r"""
import json, os, sys, time
target, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
reads = mixed = missing = partial = 0
versions = set()
problems = []
def whole(data):
    # a file is one version line repeated: anything else is a torn file
    lines = data.split(b"\n")[:-1]
    return bool(lines) and all(l == lines[0] for l in lines)
while not os.path.exists(stop):
    try:
        fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        missing += 1
        continue
    try:
        a = os.read(os.open("a.html", os.O_RDONLY, dir_fd=fd), 1 << 22)
        b = os.read(os.open("b.html", os.O_RDONLY, dir_fd=fd), 1 << 22)
    except FileNotFoundError as e:
        missing += 1
        problems.append(str(e))
        continue
    finally:
        os.close(fd)
    reads += 1
    if not whole(a) or not whole(b):
        partial += 1
    elif a != b:
        mixed += 1
        problems.append((a[:40].decode(), b[:40].decode()))
    else:
        versions.add(a[:40].decode())
    # each file on its own, through the path, must be whole too
    try:
        with open(os.path.join(target, "a.html"), "rb") as f:
            if not whole(f.read()):
                partial += 1
    except FileNotFoundError:
        missing += 1
json.dump({"reads": reads, "mixed": mixed, "missing": missing, "partial": partial,
           "versions": sorted(versions), "problems": problems[:5]}, open(out, "w"))
"""


def pair_files(tag: str) -> dict:
    # big enough that copying one takes a while: a mix would show
    line = (tag.ljust(40) + "\n").encode()
    body = line * 8000
    return {"a.html": body, "b.html": body}


def test_torn_read_checker_never_sees_a_mix(th):
    world = th.world()
    daemon = th.start(world)
    first = world.commit("v0", files=pair_files("v0"))
    world.push()
    deploy_ok(world, daemon, first)

    stop = world.base / "stop-reader"
    out = world.base / "reader.json"
    script = world.base / "reader.py"
    script.write_text(TORN_READER)
    reader = subprocess.Popen([sys.executable, str(script), str(world.target), str(stop),
                               str(out)])
    try:
        for i in range(1, 6):
            sha = world.commit(f"v{i}", files=pair_files(f"v{i}"))
            world.push()
            deploy_ok(world, daemon, sha)
    finally:
        stop.touch()
        reader.wait(30)
    result = json.loads(out.read_text())
    assert result["reads"] > 50, result
    assert result["mixed"] == 0, result
    assert result["missing"] == 0, result
    assert result["partial"] == 0, result
    assert len(result["versions"]) >= 2, f"the reader saw only one version: {result}"


def test_publish_rsync_updates_the_directory_in_place(th):
    world = th.world()
    world.write_config(world.config_text(site_extra=["publish = rsync"]))
    daemon = th.start(world)
    sha = world.commit("in place", files={"extra.html": "x\n"})
    world.push()
    end = deploy_ok(world, daemon, sha)
    assert end.get("release") == "-", end.raw
    assert world.target.is_dir() and not world.target.is_symlink()
    assert world.target_file("index.html") == world.file_at(sha, "index.html")
    assert not releases_dir(world).exists()
    sha2 = world.commit("drop extra", files={"extra.html": None})
    world.push()
    deploy_ok(world, daemon, sha2)
    assert world.target_file("extra.html") is None


def test_a_directory_target_is_taken_over_atomically(th):
    """A target that is a plain directory (publish = rsync before, or a site
    deployed by hand) becomes the symlink in one exchange; the old files
    are kept as a "legacy" release."""
    world = th.world()
    world.write_config(world.config_text(site_extra=["publish = rsync"]))
    daemon = th.start(world)
    daemon.stop()
    assert world.target.is_dir() and not world.target.is_symlink()
    world.write_config()
    daemon = th.start(world)
    sha = world.commit("now a release")
    world.push()
    deploy_ok(world, daemon, sha)
    assert world.target.is_symlink()
    names = [p.name for p in releases_dir(world).iterdir()]
    assert any(n.endswith("-legacy") for n in names), names


# -- nothing lost ---------------------------------------------------------------


def test_kill9_mid_deploy_then_restart_catches_up(th):
    world = th.world()
    daemon = th.start(world)
    slow = world.commit("slow one", files={"SLOW": "30\n"})
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, slow).status == 202
    stamp = world.file_at(slow, "stamp").decode().strip()
    thlib.wait_until(lambda: stamp in world.builds_started(), 15, "the slow build to start")
    newest = world.commit("newest", files={"SLOW": None})
    world.push()
    assert send_push(world, daemon, newest).status == 202
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="deploy-queued")

    # kill -9 both processes: no SIGTERM, no cleanup, no chance to finish.
    rx = receiver_pid(daemon)
    family = thlib.descendants(daemon.proc.pid)
    os.kill(rx, signal.SIGKILL)
    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.proc.wait(10)
    daemon.exit_checked = True
    # The worker and its build die with the deployer.
    thlib.wait_until(lambda: not thlib._still_running(
        {p for p in family if p[0] != rx}), 10, "the deploy worker to die with the deployer")
    assert read_state(world).get("commit") != newest

    # Start again; nothing is resent: catch-up alone must deploy `newest`.
    daemon2 = th.spawn(world)
    end = daemon2.wait_deploy_end(world.site.name, since=daemon2.start_mark)
    assert end.get("event") == "deploy-done", end.raw
    assert end.get("delivery") == "catch-up" and end.get("commit") == newest, end.raw
    catch = daemon2.log.events(daemon2.start_mark, role="deployer", event="catch-up")
    assert catch and catch[0].get("action") == "deploy", [e.raw for e in catch]
    assert catch[0].get("remote") == newest, catch[0].raw
    assert world.target_file("index.html") == world.file_at(newest, "index.html")
    assert not daemon2.log.events(daemon2.start_mark, role="receiver", event="request")
    daemon2.wait_ready()


def test_restart_without_news_deploys_nothing(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.git("rev-parse", "HEAD")
    assert read_state(world)["commit"] == sha  # the first start caught up
    daemon.stop()
    daemon2 = th.start(world)
    catch = daemon2.log.events(daemon2.start_mark, role="deployer", event="catch-up")
    assert catch and catch[0].get("action") == "none", [e.raw for e in catch]
    assert not daemon2.log.events(daemon2.start_mark, role="deployer", event="deploy-start")


def test_unreachable_remote_at_start_is_retried_later(th):
    world = th.world()
    hidden = world.base / "remote-away.git"
    world.remote.rename(hidden)
    daemon = th.start(world)  # the catch-up fails, the daemon runs on
    err = daemon.log.events(daemon.start_mark, role="deployer", event="catch-up",
                            result="error")
    assert err, daemon.log.tail()
    retry = daemon.wait_event(START_WAIT, role="deployer", event="catch-up-retry")
    assert retry.get("in_ms") == "30000", retry.raw
    hidden.rename(world.remote)
    sha = world.commit("remote is back")
    world.push()
    deploy_ok(world, daemon, sha)


def test_sigterm_lets_the_running_deploy_finish(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.commit("slow", files={"SLOW": "2\n"})
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, sha).status == 202
    stamp = world.file_at(sha, "stamp").decode().strip()
    thlib.wait_until(lambda: stamp in world.builds_started(), 15, "the build to start")
    daemon.stop()  # asserts exit 0 and no process left
    end = thlib.deploy_end_events(daemon.log, world.site.name, mark)
    assert end and end[0].get("event") == "deploy-done", daemon.log.tail()
    assert world.target_file("index.html") == world.file_at(sha, "index.html")


def test_second_sigterm_kills_the_step_and_the_next_start_catches_up(th):
    world = th.world()
    daemon = th.start(world)
    before = live_release(world)
    sha = world.commit("very slow", files={"SLOW": "60\n"})
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, sha).status == 202
    stamp = world.file_at(sha, "stamp").decode().strip()
    thlib.wait_until(lambda: stamp in world.builds_started(), 15, "the build to start")
    family = thlib.descendants(daemon.proc.pid)
    daemon.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert daemon.alive(), "the daemon must wait for the running deploy"
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.wait_exit(10) == 0, daemon.log.tail()
    daemon.exit_checked = True
    thlib.wait_until(lambda: not thlib._still_running(family), 5,
                     "every process of the daemon (the build's sleep included) to end")
    end = thlib.deploy_end_events(daemon.log, world.site.name, mark)
    assert end and end[0].get("event") == "deploy-failed", daemon.log.tail()
    assert "aborted" in end[0].get("status", ""), end[0].raw
    assert live_release(world) == before
    state = read_state(world)
    assert state["last-result"] == "failed" and "aborted" in state["last-status"], state

    world.commit("fast again", files={"SLOW": None})
    newest = world.push()
    daemon2 = th.start(world)  # waits for the catch-up
    assert read_state(world)["commit"] == newest
    assert world.target_file("index.html") == world.file_at(newest, "index.html")
    daemon2.stop()


# -- tailhook -t ------------------------------------------------------------------


def test_manual_trigger_asks_the_running_daemon(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.commit("manual")
    world.push()
    mark = daemon.log.mark()
    proc = thlib.run_tailhook("-f", str(world.config), "-t", world.site.name, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "deploy=started" in proc.stdout and "result=ok" in proc.stdout, proc.stdout
    assert f"commit={sha}" in proc.stdout, proc.stdout
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("delivery") == "manual" and end.get("commit") == sha, end.raw
    assert world.target_file("index.html") == world.file_at(sha, "index.html")


def test_manual_trigger_gets_its_result_through_a_graceful_stop(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.commit("slow manual", files={"SLOW": "2\n"})
    world.push()
    client = subprocess.Popen([str(thlib.tailhook_bin()), "-f", str(world.config), "-t",
                               world.site.name], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    stamp = world.file_at(sha, "stamp").decode().strip()
    thlib.wait_until(lambda: stamp in world.builds_started(), 15, "the build to start")
    daemon.stop()  # SIGTERM while the manual deploy runs: it finishes
    out, err = client.communicate(timeout=30)
    assert client.returncode == 0, out + err
    assert "result=ok" in out and f"commit={sha}" in out, out


def test_manual_trigger_reports_a_failure(th):
    world = th.world()
    daemon = th.start(world)
    world.commit("broken", files={"build.sh": thlib.FAILING_BUILD_SH}, executable=["build.sh"])
    world.push()
    proc = thlib.run_tailhook("-f", str(world.config), "-t", world.site.name, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "result=failed" in proc.stdout and "step=build" in proc.stdout, proc.stdout
    daemon.assert_alive()


def test_manual_trigger_without_a_daemon_deploys_once(th):
    world = th.world()
    sha = world.commit("no daemon")
    world.push()
    proc = thlib.run_tailhook("-f", str(world.config), "-t", world.site.name, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no daemon running" in proc.stdout and "result=ok" in proc.stdout, proc.stdout
    assert world.target_file("index.html") == world.file_at(sha, "index.html")
    assert read_state(world)["commit"] == sha
    bad = thlib.run_tailhook("-f", str(world.config), "-t", "no-such-site")
    assert bad.returncode == 1 and "no [site no-such-site]" in bad.stderr, bad.stderr


def test_control_socket_takes_one_fixed_request_from_its_own_uid(th):
    world = th.world()
    daemon = th.start(world)
    path = world.state / "control.sock"
    assert path.stat().st_mode & 0o777 == 0o600
    mark = daemon.log.mark()
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(str(path))
        s.send(b"deploy site please")  # not the 72-byte request
        s.settimeout(5)
        assert s.recv(600) == b"", "a malformed request must just be dropped"
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="control-refused")
    assert not daemon.log.events(mark, role="deployer", event="deploy-start")
    if thlib.IS_ROOT:
        # Another user cannot even reach it: state-dir is root's, mode 0700.
        uid = pwd.getpwnam(world.site_user).pw_uid
        probe = subprocess.run(
            [sys.executable, "-c",
             "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
             "try: s.connect(sys.argv[1])\nexcept PermissionError: sys.exit(3)\n",
             str(path)], user=uid, capture_output=True, text=True, timeout=30)
        assert probe.returncode == 3, probe.stderr
    daemon.assert_alive()


# -- reload -------------------------------------------------------------------------


def test_invalid_config_on_reload_keeps_the_old_one(th):
    world = th.world()
    daemon = th.start(world)
    good_text = world.config.read_text()
    bad_text = world.config_text(site_extra=["colour = blue"])
    line = bad_text.splitlines().index("colour = blue") + 1
    world.write_config(bad_text)
    mark = daemon.log.mark()
    daemon.proc.send_signal(signal.SIGHUP)
    ev = daemon.wait_event(START_WAIT, since=mark, role="deployer", event="reload",
                           result="failed")
    assert f"{world.config}:{line}:" in ev.get("error", ""), ev.raw
    assert "colour" in ev.get("error", ""), ev.raw
    assert not daemon.log.events(mark, role="deployer", event="receiver-start")
    # The old config still serves and deploys.
    sha = world.commit("after a bad reload")
    world.push()
    deploy_ok(world, daemon, sha)

    # A valid change then takes effect: the hook moves to a new path.
    world.write_config(good_text.replace("path = /hook\n", "path = /moved\n"))
    mark = daemon.log.mark()
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="reload", result="ok")
    daemon.wait_event(START_WAIT, since=mark, role="receiver", event="ready")
    sha2 = world.commit("via the moved hook")
    world.push()
    body = push_payload("refs/heads/main", sha2)
    old = build_request("/hook", body, secret=world.site.secret)
    resp, _ = thlib.send_request(daemon.port, world.cert, old)
    assert resp.status == 404, resp
    mark = daemon.log.mark()
    new = build_request("/moved", body, secret=world.site.secret)
    resp, _ = thlib.send_request(daemon.port, world.cert, new)
    assert resp.status == 202, resp
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("commit") == sha2, end.raw


def test_reload_opens_a_new_listener_and_keeps_the_old_one(th):
    world = th.world()
    daemon = th.start(world)
    with socket.socket() as probe:  # a free port for the new line
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    text = world.config_text().replace(
        "listen = 127.0.0.1:0\n", f"listen = 127.0.0.1:0\nlisten = 127.0.0.1:{free}\n", 1)
    world.write_config(text)
    mark = daemon.log.mark()
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="reload", result="ok")
    # The unchanged first line keeps its socket; the second is new.
    opened = daemon.log.events(mark, role="deployer", event="listen")
    assert len(opened) == 1, [e.raw for e in opened]
    new_port = int(opened[0].get("addr").rsplit(":", 1)[1])
    assert new_port == free
    daemon.wait_event(START_WAIT, since=mark, role="receiver", event="ready")
    for port in (daemon.port, new_port):
        sha = world.commit(f"via port {port}")
        world.push()
        body = push_payload("refs/heads/main", sha)
        request = build_request(world.site.path, body, secret=world.site.secret)
        m = daemon.log.mark()
        resp, _ = thlib.send_request(port, world.cert, request)
        assert resp.status == 202, (port, resp)
        end = daemon.wait_deploy_end(world.site.name, since=m)
        assert end.get("commit") == sha, end.raw


def new_certificate(world: thlib.World, cn: str) -> tuple[Path, Path]:
    cert, key = world.base / "tls" / f"{cn}.pem", world.base / "tls" / f"{cn}.key"
    thlib.run(["openssl", "req", "-x509", "-newkey", "ec",
               "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-subj", f"/CN={cn}", "-addext", "subjectAltName=IP:127.0.0.1",
               "-days", "30", "-keyout", str(key), "-out", str(cert)])
    key.chmod(0o600)
    return cert, key


def served_certificate(port: int) -> bytes:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.getpeercert(binary_form=True)


def pem_to_der(path: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def test_sighup_certificate_swap_while_a_slow_request_is_in_flight(th):
    world = th.world()
    daemon = th.start(world)
    old_der = pem_to_der(world.cert)
    assert served_certificate(daemon.port) == old_der
    sha = world.commit("sent slowly")
    world.push()
    request = build_request(world.site.path, push_payload("refs/heads/main", sha),
                            secret=world.site.secret)
    head, body = request.split(b"\r\n\r\n", 1)
    old_cert_copy = world.base / "tls" / "old-cert.pem"
    old_cert_copy.write_bytes(world.cert.read_bytes())

    slow = thlib.TLSClient(daemon.port, old_cert_copy)
    try:
        slow.send(head + b"\r\n\r\n" + body[:10])
        # certbot renews: new files in place, then the deploy hook reloads.
        cert, key = new_certificate(world, "renewed")
        os.replace(key, world.key)
        os.replace(cert, world.cert)
        new_der = pem_to_der(world.cert)
        mark = daemon.log.mark()
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_event(START_WAIT, since=mark, role="deployer", event="reload",
                          result="ok")
        thlib.wait_until(lambda: served_certificate(daemon.port) == new_der, 10,
                         "new connections to get the new certificate")
        # The body keeps trickling in on the old receiver's connection.
        for i in range(10, len(body), max(1, len(body) // 10)):
            slow.send(body[i:i + max(1, len(body) // 10)])
            time.sleep(0.1)
        resp, _ = slow.read_final()
        assert resp is not None and resp.status == 202, resp
    finally:
        slow.close()
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("commit") == sha, end.raw
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="receiver-drained")


# -- socket activation ------------------------------------------------------------


def test_socket_activation_takes_the_listener_from_systemd(th):
    world = th.world()
    text = world.config_text().replace("listen = 127.0.0.1:0\n", "")
    world.write_config(text)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    binary = thlib.tailhook_bin()

    def as_fd3():
        os.dup2(lsock.fileno(), 3)
        os.set_inheritable(3, True)

    with open(world.log_path, "ab") as logf:
        # LISTEN_PID must be the daemon's own pid: set it in the exec'd shell.
        proc = subprocess.Popen(
            ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -f "$1"', str(binary),
             str(world.config)],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, cwd="/",
            start_new_session=True, preexec_fn=as_fd3, close_fds=False)
    lsock.close()
    daemon = thlib.Daemon(world.config, world.log_path)
    daemon.proc = proc
    th.daemons.append(daemon)
    thlib.note_log(th.node, world.site.name, daemon.log, 0)
    ev = daemon.wait_event(START_WAIT, since=0, role="deployer", event="listen")
    assert ev.get("source") == "systemd" and ev.get("addr") == f"127.0.0.1:{port}", ev.raw
    daemon.port = port
    daemon.wait_event(START_WAIT, since=0, role="receiver", event="ready")
    daemon.wait_catch_up()
    sha = world.commit("activated")
    world.push()
    deploy_ok(world, daemon, sha)


def test_no_listen_and_no_activation_is_refused(th):
    world = th.world()
    world.write_config(world.config_text().replace("listen = 127.0.0.1:0\n", ""))
    daemon = th.spawn(world)
    assert daemon.expect_exit(10) == 1
    assert "no 'listen'" in daemon.log.text()


# -- the secret -----------------------------------------------------------------------


def test_the_secret_never_appears_in_logs_or_state(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.commit("secret check")
    world.push()
    deploy_ok(world, daemon, sha)
    bad = world.config_text(site_extra=["colour = blue"])
    world.write_config(bad)
    mark = daemon.log.mark()
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="reload", result="failed")
    secret = world.site.secret
    assert secret not in world.log_path.read_bytes()
    for path in world.state.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
