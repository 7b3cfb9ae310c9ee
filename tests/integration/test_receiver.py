"""The receiver's connection handling: TLS session resumption, draining on
SIGUSR1 (what a reload relies on), deadlines and early closes."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import time

import pytest

import thlib
from thlib import build_request, push_payload

START_WAIT = 5.0


def receiver_pid(daemon: thlib.Daemon, since: int | None = None) -> int:
    ev = daemon.wait_event(thlib.START_TIMEOUT, since=since, role="receiver", event="ready")
    return int(ev.get("pid"))


def test_tls_session_resumption(th):
    world = th.world()
    daemon = th.start(world)
    ctx = thlib.client_context(world.cert)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as first:
            first.sendall(build_request(world.site.path, b"{}", secret=world.site.secret,
                                        event="ping"))
            assert b" 200 " in first.recv(4096)
            session = first.session
            assert not first.session_reused
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as second:
            assert second.session_reused, "the server did not resume the TLS session"


def test_drain_finishes_in_flight_request_then_exits(th):
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    body = push_payload("refs/heads/other", "2" * 40)
    request = build_request(world.site.path, body, secret=world.site.secret)
    ping = build_request(world.site.path, b"{}", secret=world.site.secret, event="ping")
    head_len = request.index(b"\r\n\r\n") + 4
    busy = thlib.TLSClient(daemon.port, world.cert)  # mid-request
    fresh = thlib.TLSClient(daemon.port, world.cert)  # handshake done, no request yet
    idle = thlib.TLSClient(daemon.port, world.cert)  # keep-alive, between requests
    idle.send(ping)
    resp, _ = idle.read_final()
    assert resp is not None and resp.status == 200
    busy.send(request[:head_len + 10])  # head and a little of the body
    time.sleep(0.3)
    mark = daemon.log.mark()
    os.kill(pid, signal.SIGUSR1)
    daemon.wait_event(START_WAIT, since=mark, role="receiver", event="drain")
    # The keep-alive connection between requests is closed at once...
    assert idle.read_response(timeout=5) is None
    idle.close()
    time.sleep(0.3)
    assert not daemon.log.events(mark, role="receiver", event="exit")
    # ...but a delivery that has only just connected is still answered,
    fresh.send(ping)
    resp, _ = fresh.read_final(timeout=5)
    assert resp is not None and resp.status == 200, resp
    assert resp.header("connection") == "close"
    fresh.close()
    # ...and so is the one in flight.
    busy.send(request[head_len + 10:])
    resp, _ = busy.read_final(timeout=5)
    assert resp is not None and resp.status == 200, resp
    assert resp.header("connection") == "close"
    busy.close()
    ev = daemon.wait_event(START_WAIT, since=mark, role="receiver", event="exit")
    assert "drained" in ev.raw, ev.raw
    exit_ev = daemon.wait_event(START_WAIT, since=mark, role="deployer",
                                event="receiver-exit")
    assert exit_ev.get("status") == "exit 0", exit_ev.raw
    # A replacement serves new connections.
    receiver_pid(daemon, since=mark)
    resp, _ = thlib.send_request(daemon.port, world.cert, ping)
    assert resp.status == 200, resp


def test_silent_connection_is_closed_at_handshake_deadline(th):
    world = th.world()
    world.write_config(world.config_text().replace(
        "state-dir =", "handshake-timeout = 1\nstate-dir ="))
    daemon = th.start(world)
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as s:
        start = time.monotonic()
        assert s.recv(1) == b""  # closed by the server, not by our timeout
        took = time.monotonic() - start
    assert 0.8 < took < 3.0, took


def test_client_closing_early_frees_connection(th):
    world = th.world()
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    for _ in range(20):
        c = thlib.TLSClient(daemon.port, world.cert)
        c.send(b"POST /hook HTTP/1.1\r\nHost: x\r\n")
        c.close()
    time.sleep(0.5)
    sockets = [fd for fd in os.listdir(f"/proc/{pid}/fd")
               if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")]
    assert len(sockets) == 2, sockets  # the socketpair and the listener only


def _make_rsa_chain(world: thlib.World) -> tuple:
    """A CA and an RSA leaf it signed; the leaf file is leaf + CA, like
    Let's Encrypt's fullchain.pem."""
    d = world.base / "rsa"
    d.mkdir()
    run = thlib.run
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=test CA",
         "-days", "2", "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem")])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(d / "leaf.key"), "-out", str(d / "leaf.csr")])
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", str(d / "leaf.csr"), "-CA", str(d / "ca.pem"),
         "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2",
         "-extfile", str(d / "ext"), "-out", str(d / "leaf.pem")])
    (d / "fullchain.pem").write_bytes((d / "leaf.pem").read_bytes() +
                                      (d / "ca.pem").read_bytes())
    (d / "leaf.key").chmod(0o600)
    return d / "fullchain.pem", d / "leaf.key", d / "ca.pem"


def test_rsa_key_with_full_chain(th):
    world = th.world()
    chain, key, ca = _make_rsa_chain(world)
    text = world.config_text().replace(f"certificate = {world.cert}", f"certificate = {chain}")
    world.write_config(text.replace(f"key = {world.key}", f"key = {key}"))
    daemon = th.start(world)
    # The client trusts only the CA: the server must send the whole chain.
    with thlib.TLSClient(daemon.port, ca) as client:
        assert client.version == "TLSv1.2"
        cipher = client.tls.cipher()[0]
        assert cipher.startswith("ECDHE-RSA-") and ("GCM" in cipher or "CHACHA" in cipher), \
            cipher
        client.send(build_request(world.site.path, b"{}", secret=world.site.secret,
                                  event="ping"))
        resp, _ = client.read_final()
        assert resp is not None and resp.status == 200, resp


def test_only_aead_ecdhe_suites(th):
    world = th.world()
    daemon = th.start(world)
    ctx = thlib.client_context(world.cert)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-GCM-SHA256")
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=5) as raw:
        try:
            ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        except ssl.SSLError:
            return
    raise AssertionError("a CBC or non-ECDHE suite was accepted")


def test_connection_cap_pauses_accept(th):
    world = th.world()
    world.write_config(world.config_text().replace(
        "state-dir =", "max-connections = 2\nstate-dir ="))
    daemon = th.start(world)
    held = [thlib.TLSClient(daemon.port, world.cert) for _ in range(2)]
    # The third connection waits in the kernel's backlog, unserved: its
    # ClientHello gets no answer...
    third = socket.create_connection(("127.0.0.1", daemon.port), timeout=5)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = thlib.client_context(world.cert).wrap_bio(incoming, outgoing,
                                                    server_hostname="127.0.0.1")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    third.sendall(outgoing.read())
    third.settimeout(1.0)
    with pytest.raises(socket.timeout):
        third.recv(1)
    third.close()
    # ...and once one closes, new connections are served again.
    held[0].close()
    resp, _ = thlib.send_request(daemon.port, world.cert, build_request(
        world.site.path, b"{}", secret=world.site.secret, event="ping"))
    assert resp.status == 200
    held[1].close()
    assert not daemon.log.events(role="receiver", event="accept-paused")


def test_413_reaches_a_client_that_keeps_sending(th):
    """curl without Expect: 100-continue sends a 30 MB body at once; the
    answer must still arrive as 413, not as a connection reset."""
    world = th.world()
    daemon = th.start(world)
    big = world.base / "big.json"
    with open(big, "wb") as f:
        f.write(b'{"ref":"refs/heads/main","pad":"')
        f.write(b"x" * (30 << 20))
        f.write(b'"}')
    argv = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(world.cert),
            "-H", "Expect:", "-H", "Content-Type: application/json",
            "-H", "X-GitHub-Event: push", "-H", "X-Hub-Signature-256: sha256=" + "0" * 64,
            "--data-binary", f"@{big}", f"https://127.0.0.1:{daemon.port}{world.site.path}"]
    # A reset loses the race only sometimes: try often enough to see it.
    for _ in range(20):
        out = thlib.subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert out.stdout == "413", (out.stdout, out.stderr)


def test_plain_unix_listener_behind_a_proxy(th):
    """listen = unix:PATH serves plain HTTP (the proxy did TLS), takes the
    peer from the last X-Forwarded-For entry, and deploys like TLS does."""
    world = th.world()
    sock = world.base / "http.sock"
    world.write_config(world.config_text().replace(
        "listen = 127.0.0.1:0", f"listen = 127.0.0.1:0\nlisten = unix:{sock}"))
    daemon = th.start(world)
    sha = world.commit("via the proxy")
    world.push()
    body = push_payload("refs/heads/main", sha)
    sig = thlib.sign(world.site.secret, body)
    mark = daemon.log.mark()
    out = thlib.subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", str(sock),
         "-H", "Content-Type: application/json", "-H", "X-GitHub-Event: push",
         "-H", "X-GitHub-Delivery: via-proxy-1", "-H", f"X-Hub-Signature-256: {sig}",
         "-H", "X-Forwarded-For: 203.0.113.9, 198.51.100.7",
         "--data-binary", "@-", f"http://localhost{world.site.path}"],
        input=body, capture_output=True, timeout=30)
    assert out.stdout == b"202", out
    ev = daemon.wait_event(START_WAIT, since=mark, role="receiver", event="request",
                           delivery="via-proxy-1")
    assert ev.get("peer") == "198.51.100.7", ev.raw
    end = daemon.wait_deploy_end(world.site.name, since=mark)
    assert end.get("event") == "deploy-done" and end.get("commit") == sha, end.raw
    # The same socket refuses a bad signature exactly as TLS does.
    out = thlib.subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", str(sock),
         "-H", "Content-Type: application/json", "-H", "X-GitHub-Event: push",
         "-H", "X-Hub-Signature-256: sha256=" + "0" * 64,
         "--data-binary", "@-", f"http://localhost{world.site.path}"],
        input=body, capture_output=True, timeout=30)
    assert out.stdout == b"401", out
    # A forwarded "address" that could forge log fields is not taken.
    mark = daemon.log.mark()
    out = thlib.subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", str(sock),
         "-H", "X-Forwarded-For: 1.2.3.4 status=202 site=evil",
         f"http://localhost{world.site.path}"], capture_output=True, timeout=30)
    assert out.stdout == b"405", out
    ev = daemon.wait_event(START_WAIT, since=mark, role="receiver", event="request")
    assert ev.get("peer") == "unix(bad-x-forwarded-for)" and ev.get("status") == "405", ev.raw


def test_buffered_bodies_have_a_total_cap(th):
    """Unsigned clients announcing big bodies cannot make the receiver
    buffer more than its budget (64 MiB, or the largest max-body)."""
    world = th.world(max_body=30 << 20)
    daemon = th.start(world)
    pid = receiver_pid(daemon)
    head = (f"POST {world.site.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
            f"Content-Length: {30 << 20}\r\n\r\n").encode()
    first, second = (thlib.TLSClient(daemon.port, world.cert) for _ in range(2))
    for c in (first, second):
        c.send(head + b"x" * (1 << 20))  # 2 x 30 MiB reserved: 60 of 64 MiB
    time.sleep(0.3)
    third = thlib.TLSClient(daemon.port, world.cert)
    third.send(head)
    resp, _ = third.read_final(timeout=5)
    assert resp is not None and resp.status == 503, resp
    third.close()
    rss_kb = int(receiver_status(pid)["VmRSS"].split()[0])
    assert rss_kb < 48 * 1024, rss_kb
    # Once a body is given up, its share is free again: a fourth waits for
    # its body instead of being refused.
    first.close()
    time.sleep(0.3)
    fourth = thlib.TLSClient(daemon.port, world.cert)
    fourth.send(head)
    with pytest.raises(TimeoutError):
        fourth.read_response(timeout=1)
    fourth.close()
    second.close()


def receiver_status(pid: int) -> dict:
    out = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out
