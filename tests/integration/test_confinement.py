"""Confinement of both processes, proved through the real daemon.

SECURITY.md names these tests.  Tests that need root (users, chroot) are
skipped with a reason when run as an ordinary user; CI runs as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import struct
import time
from pathlib import Path

import pytest

import thlib
from thlib import build_request, push_payload, send_push

needs_root = pytest.mark.skipif(not thlib.IS_ROOT, reason="needs root (users, chroot): "
                                "skipped as an ordinary user")

START_WAIT = 5.0
MSG_FMT = "<IHH41s87s"  # struct th_msg on x86_64 (host order)
MAGIC = 0x74686B31


def receiver_pid(daemon: thlib.Daemon, since: int | None = None) -> int:
    ev = daemon.wait_event(thlib.START_TIMEOUT, since=since, role="receiver", event="ready")
    return int(ev.get("pid"))


def proc_status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


# -- the receiver's sandbox, seen from /proc --------------------------------


def test_receiver_proc_state(th):
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    st = proc_status(pid)
    assert st["Seccomp"] == "2", st
    assert st["NoNewPrivs"] == "1", st
    if not thlib.IS_ROOT:
        pytest.skip("uid, capabilities and chroot need root: skipped as an ordinary user")
    pw = pwd.getpwnam(world.receiver_user)
    assert pw.pw_uid != 0
    assert st["Uid"].split() == [str(pw.pw_uid)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(pw.pw_gid)] * 4, st["Gid"]
    assert st["Groups"] == "", st["Groups"]
    assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, st
    assert int(st["CapInh"], 16) == 0, st
    assert os.readlink(f"/proc/{pid}/root") == str(world.chroot)
    assert os.listdir(world.chroot) == []


def test_receiver_is_a_separate_image(th):
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    assert pid != daemon.proc.pid
    exe = os.readlink(f"/proc/{pid}/exe")
    assert exe == str(thlib.tailhook_bin().parent / "tailhook-receiver"), exe


def test_receiver_fds(th):
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    # One live connection, so that connection fds are seen too.
    with thlib.TLSClient(daemon.port, world.cert):
        time.sleep(0.2)
        fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}")
               for fd in os.listdir(f"/proc/{pid}/fd")}
    extra = {fd: target for fd, target in fds.items() if fd > 2}
    assert not [t for t in extra.values() if t.startswith("/memfd:")], \
        f"the setup memfd is still open: {fds}"
    assert extra.get(3, "").startswith("socket:"), fds
    assert extra.get(5, "").startswith("socket:"), fds
    pipes = []
    for fd, target in extra.items():
        # libevent's epoll backend keeps one internal pipe pair for signals.
        if target.startswith("pipe:"):
            pipes.append(fd)
            continue
        assert target.startswith("socket:") or target == "anon_inode:[eventpoll]", (
            f"fd {fd} -> {target}: the receiver may hold only sockets, its event "
            f"loop and libevent's pipe")
    assert len(pipes) <= 2, fds
    sockets = [fd for fd, t in extra.items() if t.startswith("socket:")]
    # socketpair + 1 listener + the connection above
    assert len(sockets) == 3, fds


def test_allowed_set_is_enough(th):
    """Every size class, keep-alive and close, many requests: the filter
    never kills the receiver."""
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    secret = world.site.secret
    sha = "1" * 40
    bodies = [push_payload("refs/heads/other", sha)]
    for size in (200 * 1024, 5 * 1024 * 1024):
        pad = b"x" * size
        bodies.append(b'{"ref":"refs/heads/other","after":"' + sha.encode() +
                      b'","deleted":false,"pad":"' + pad + b'"}')
    with thlib.TLSClient(daemon.port, world.cert, timeout=30) as client:
        for _ in range(3):
            for body in bodies:
                client.send(build_request(world.site.path, body, secret=secret))
                resp, _ = client.read_final()
                assert resp is not None and resp.status == 200, resp
                assert resp.header("connection") == "keep-alive"
    for i in range(40):
        extra = [("Connection", "close")] if i % 2 else []
        resp, _ = thlib.send_request(daemon.port, world.cert, build_request(
            world.site.path, bodies[0], secret=secret, extra_headers=extra))
        assert resp.status == 200, resp
    assert receiver_pid(daemon) == pid
    assert not daemon.log.events(role="deployer", event="receiver-exit")
    assert proc_status(pid)["State"][0] in "SR"


# -- the receiver is restarted whatever kills it ---------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSYS])
@pytest.mark.parametrize("when", ["idle", "mid-request"])
def test_receiver_restart_after_kill(th, sig, when):
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    client = None
    if when == "mid-request":
        client = thlib.TLSClient(daemon.port, world.cert)
        client.send(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        time.sleep(0.2)
    mark = daemon.log.mark()
    killed_at = time.monotonic()
    os.kill(pid, sig)
    exit_ev = daemon.wait_event(START_WAIT, since=mark, role="deployer",
                                event="receiver-exit")
    assert exit_ev.get("status") == f"signal {signal.Signals(sig).name[3:]}", exit_ev.raw
    new_pid = receiver_pid(daemon, since=mark)
    assert new_pid != pid
    assert time.monotonic() - killed_at < 1.0, "the first restart must come within a second"
    if client is not None:
        assert client.read_response(timeout=5) is None  # the old connection just ends
        client.close()
    sha = world.commit("after the receiver was killed")
    world.push()
    mark = daemon.log.mark()
    resp = send_push(world, daemon, sha)
    assert resp.status == 202, resp
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-done" and end.get("commit") == sha, end.raw


def test_repeated_crashes_back_off(th):
    world = th.world()
    daemon = th.start(world)
    delays = []
    pid = receiver_pid(daemon)
    for _ in range(3):
        mark = daemon.log.mark()
        os.kill(pid, signal.SIGKILL)
        ev = daemon.wait_event(START_WAIT, since=mark, role="deployer", event="receiver-exit")
        delays.append(int(ev.get("restart_in_ms")))
        pid = receiver_pid(daemon, since=mark)
    assert not daemon.log.events(role="deployer", event="protocol-violation")
    assert delays[0] <= 1000, delays
    assert delays[0] < delays[1] < delays[2], delays


# -- the deployer's end of the socketpair, driven by a fake receiver -------

FAKE_RECEIVER = """#!/usr/bin/python3
# Stands in for tailhook-receiver: forwards every datagram it gets on a
# control socket, unchanged, to the deployer's socketpair (fd 3).
import os, socket, sys
ctl = {ctl!r}
sp = socket.socket(fileno=3)
try:
    os.unlink(ctl)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
srv.bind(ctl)
sys.stderr.write("tailhook[receiver]: level=info event=ready fake=1 pid=%d\\n" % os.getpid())
sys.stderr.flush()
while True:
    sp.send(srv.recv(65536))
"""


class FakeReceiver:
    def __init__(self, world: thlib.World):
        bindir = world.base / "bin"
        bindir.mkdir()
        shutil.copy2(thlib.tailhook_bin(), bindir / "tailhook")
        self.ctl = world.base / "ctl.sock"
        fake = bindir / "tailhook-receiver"
        fake.write_text(FAKE_RECEIVER.format(ctl=str(self.ctl)))
        fake.chmod(0o755)
        self.binary = bindir / "tailhook"

    def send(self, packet: bytes) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(packet, str(self.ctl))
        s.close()


def message(site=0, commit=b"d" * 40, delivery=b"fake-delivery-1", magic=MAGIC, version=1,
            raw_commit=None, raw_delivery=None) -> bytes:
    c = raw_commit if raw_commit is not None else commit + b"\0"
    d = raw_delivery if raw_delivery is not None else delivery + b"\0" * (87 - len(delivery))
    return struct.pack(MSG_FMT, magic, version, site, c, d)


BAD_MESSAGES = {
    "empty": b"",
    "short": message()[:135],
    "long": message() + b"\0",
    "magic": message(magic=0x74686B32),
    "version": message(version=2),
    "site-out-of-range": message(site=1),
    "non-hex-commit": message(commit=b"g" * 40),
    "uppercase-commit": message(commit=b"D" * 40),
    "commit-unterminated": message(raw_commit=b"d" * 41),
    "delivery-unterminated": message(raw_delivery=b"a" * 87),
    "delivery-unprintable": message(delivery=b"abc\ndef"),
}


@pytest.fixture
def fake_world(th):
    world = th.world()
    fake = FakeReceiver(world)
    daemon = thlib.Daemon(world.config, world.log_path)
    th.daemons.append(daemon)
    thlib.note_log(th.node, world.site.name, daemon.log, daemon.start_mark)
    old = os.environ.get("TAILHOOK_BIN")
    os.environ["TAILHOOK_BIN"] = str(fake.binary)
    try:
        daemon.spawn()
    finally:
        if old is None:
            del os.environ["TAILHOOK_BIN"]
        else:
            os.environ["TAILHOOK_BIN"] = old
    daemon.wait_event(thlib.START_TIMEOUT, role="receiver", event="ready")
    daemon.wait_catch_up()
    return world, daemon, fake


def fake_ready_again(daemon: thlib.Daemon, since: int) -> None:
    """The replacement fake has bound its control socket (it logs ready after)."""
    daemon.wait_event(START_WAIT, since=since, role="deployer", event="receiver-start")
    daemon.wait_event(START_WAIT, since=since, role="receiver", event="ready")


@pytest.mark.parametrize("kind", sorted(BAD_MESSAGES))
def test_protocol_violations(fake_world, kind):
    world, daemon, fake = fake_world
    mark = daemon.log.mark()
    fake.send(BAD_MESSAGES[kind])
    if kind == "empty":  # reads like a closed socketpair: the receiver is ended
        daemon.wait_event(START_WAIT, since=mark, role="deployer", event="receiver-eof")
    else:
        ev = daemon.wait_event(START_WAIT, since=mark, role="deployer",
                               event="protocol-violation")
        assert ev.get("reason"), ev.raw
        daemon.wait_event(START_WAIT, since=mark, role="deployer", event="receiver-kill")
    fake_ready_again(daemon, mark)
    assert not daemon.log.events(mark, role="deployer", event="deploy-start"), \
        "a bad message started a deploy"
    # A correct message afterwards still deploys -- the real branch tip,
    # not the commit the message names.
    tip = world.git("rev-parse", "HEAD")
    good_mark = daemon.log.mark()
    fake.send(message(commit=b"d" * 40, delivery=b"after-" + kind.encode()))
    end = daemon.wait_deploy_end(world.site.name, since=good_mark)
    assert end.get("event") == "deploy-done", end.raw
    assert end.get("commit") == tip, end.raw
    assert end.get("delivery") == "after-" + kind, end.raw


def test_message_burst_collapses(fake_world):
    world, daemon, fake = fake_world
    sha = world.commit("slow", files={"SLOW": "2\n"})
    world.push()
    mark = daemon.log.mark()
    for i in range(20):
        fake.send(message(delivery=b"burst-%d" % i))
    thlib.wait_until(lambda: len(thlib.deploy_end_events(daemon.log, world.site.name,
                                                         mark)) >= 2, 30, "two deploys")
    time.sleep(1.0)
    starts = daemon.log.events(mark, role="deployer", event="deploy-start",
                               site=world.site.name)
    assert len(starts) == 2, [e.raw for e in starts]
    ends = thlib.deploy_end_events(daemon.log, world.site.name, mark)
    assert len(ends) == 2 and all(e.get("commit") == sha for e in ends), [e.raw for e in ends]
    assert starts[1].get("delivery") == "burst-19", starts[1].raw


# -- steps as the site user ---------------------------------------------------

@needs_root
def test_steps_run_as_site_user(th):
    world = th.world()
    daemon = th.start(world)
    sha = world.commit("record who builds", files={
        "build.sh": thlib.BUILD_SH.format(signals=world.signals).replace(
            "cp ./*.html stamp out/", "cp ./*.html stamp out/\nid -u > out/uid.txt\n"
            "/usr/bin/env > out/env.txt"),
    }, executable=["build.sh"])
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, sha).status == 202
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-done", end.raw
    site_pw = pwd.getpwnam(world.site_user)
    assert world.target_file("uid.txt").decode().strip() == str(site_pw.pw_uid)
    env = dict(line.split("=", 1) for line in world.target_file("env.txt").decode().split("\n")
               if "=" in line)
    env.pop("PWD", None)  # set by the shell that runs build.sh
    assert set(env) == {"PATH", "HOME", "LANG", "TAILHOOK_SITE", "TAILHOOK_COMMIT",
                        "TAILHOOK_DELIVERY"}, env
    assert env["TAILHOOK_COMMIT"] == sha and env["TAILHOOK_SITE"] == world.site.name
    for path in (world.checkout, world.target):
        assert path.stat().st_uid == site_pw.pw_uid, path


@needs_root
def test_root_site_user_is_refused(th):
    world = th.world()
    world.write_config(world.config_text().replace(f"user = {world.site_user}", "user = root"))
    daemon = th.spawn(world)
    assert daemon.expect_exit(10) == 1
    assert "must not be root" in daemon.log.text()


@needs_root
def test_target_owned_by_someone_else_is_refused(th):
    world = th.world()
    world.target.mkdir()
    os.chown(world.target, 0, 0)
    daemon = th.spawn(world)
    assert daemon.expect_exit(10) == 1
    assert f"{world.target}: must be owned by the site user" in daemon.log.text()


@needs_root
def test_missing_chroot_passes_check_and_is_created_at_start(th):
    """A fresh install: -n (the unit's ExecStartPre) passes before the
    chroot exists, and the first start creates it empty and root-owned."""
    world = th.world()
    chroot = world.base / "state" / "empty"
    world.write_config(world.config_text().replace(f"chroot = {world.chroot}",
                                                   f"chroot = {chroot}"))
    out = thlib.run_tailhook("-n", "-f", str(world.config))
    assert out.returncode == 0, out.stderr
    assert not chroot.exists(), "-n must not create anything"
    daemon = th.start(world)
    st = chroot.stat()
    assert st.st_uid == 0 and (st.st_mode & 0o777) == 0o755 and os.listdir(chroot) == []
    assert os.readlink(f"/proc/{receiver_pid(daemon)}/root") == str(chroot)


@needs_root
def test_no_process_of_a_step_outlives_it(th):
    """A build that escapes its process group with setsid still leaves
    nothing behind: the site user's processes are swept after each step."""
    world = th.world()
    daemon = th.start(world)
    marker = "4242.5"  # an unusual sleep, to find it in /proc
    build = thlib.BUILD_SH.format(signals=world.signals).replace(
        "rm -rf out", f"setsid sleep {marker} </dev/null >/dev/null 2>&1 &\nrm -rf out")
    sha = world.commit("escapes", files={"build.sh": build}, executable=["build.sh"])
    world.push()
    mark = daemon.log.mark()
    assert send_push(world, daemon, sha).status == 202
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-done", end.raw

    def leftovers():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd[:2] == [b"sleep", marker.encode()]:
                found.append(pid)
        return found
    time.sleep(0.3)
    assert leftovers() == [], "a process the build started outlived the deploy"


def test_runaway_build_output_is_capped_in_the_log(th):
    world = th.world()
    daemon = th.start(world)
    build = thlib.BUILD_SH.format(signals=world.signals).replace(
        "rm -rf out", "yes 'noise noise noise noise noise noise noise' | head -n 200000\nrm -rf out")
    sha = world.commit("noisy", files={"build.sh": build}, executable=["build.sh"])
    world.push()
    size_before = world.log_path.stat().st_size
    mark = daemon.log.mark()
    assert send_push(world, daemon, sha).status == 202
    end = daemon.wait_deploy_end(world.site.name, since=mark, timeout=60)
    assert end.get("event") == "deploy-done", end.raw
    grown = world.log_path.stat().st_size - size_before
    assert grown < 3 * (1 << 20), grown  # 200,000 lines would be ~20 MB of log
    assert "more output not logged" in daemon.log.text()
