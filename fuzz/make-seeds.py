#!/usr/bin/env python3
"""fuzz/make-seeds.py - (re)write the hand-made seed files of fuzz/corpus/.

Run from the repository root: python3 fuzz/make-seeds.py

Seeds come from the project's own test data (tests/fixtures/payloads,
tests/cases), the captures in fuzz/captures/ (see its README) and the
shapes each webhook provider sends (docs: webhook-protocols.md in the
shared docs).  Every file written here is named "seed-*"; files that
libFuzzer added with `make fuzz-merge` (40-hex names) are left alone.

Input formats (see each harness's header comment):
  json_push  the body as is
  form       the body as is (application/x-www-form-urlencoded)
  http_req   split prefix (fuzz/fuzz.h) + the bytes of one connection
  signature  header value, NUL, body
  msg        the packet as is
  config     the config file as is (files it names: /tmp/tailhook-fuzz-secret)
  tls        split prefix + raw bytes (flag 0x08 clear) or + application
             data sent by the harness's TLS client (flag 0x08 set); flag
             0x20 selects the RSA server, 0x40 the flaky one, 0x80 the
             plain (no TLS) transport
"""

import glob
import re
import hashlib
import hmac
import json
import os
import shutil
import struct
import urllib.parse

ROOT = os.getcwd()
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
CAPTURES = os.path.join(ROOT, "fuzz", "captures")
PAYLOADS = os.path.join(ROOT, "tests", "fixtures", "payloads")
CASES = os.path.join(ROOT, "tests", "cases")

CASE_SECRET = b"case-secret-0123456789"  # tests/cases/*/secret, fuzz_http_req.c
SIG_SECRET = b"It's a Secret to Everybody"  # fuzz_signature.c
SECRET_PATH = "/tmp/tailhook-fuzz-secret"  # fuzz.h FUZZ_SECRET_PATH

# Split-prefix flags (fuzz/fuzz.h, fuzz_http_req.c, fuzz_tls.c).
# http_req: bits 3-5 the provider code of the /hook site, 0x40 two sites.
PROVIDERS = {"github": 0, "gitea": 1, "forgejo": 2, "gitlab": 3, "bitbucket-cloud": 4,
             "bitbucket-server": 5}
GITHUB_LEGACY_ROTATED = 6  # github, legacy-sha1, second secret
GITEA_ROTATED = 7  # gitea, second secret
TWO_SITES = 0x40


def provider(code):
    return code << 3


# tls:
CLIENT = 0x08
CLOSE_NOTIFY = 0x10  # client mode
DRAIN = 0x10  # raw and plain modes
RSA = 0x20
FLAKY = 0x40
PLAIN = 0x80


def read(path):
    with open(path, "rb") as f:
        return f.read()


def clean(target):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)
    return d


def write(target, name, data):
    with open(os.path.join(CORPUS, target, "seed-" + name), "wb") as f:
        f.write(data)


def prefix(flags=0, sizes=()):
    """The split prefix: control byte, then chunk sizes (each size - 1)."""
    assert len(sizes) <= 7 and flags & 7 == 0
    return bytes([flags | len(sizes)] + [s - 1 for s in sizes])


def sign(secret, body):
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def request(path, headers, body, method="POST", version="1.1"):
    head = "%s %s HTTP/%s\r\n" % (method, path, version)
    head += "".join("%s: %s\r\n" % h for h in headers)
    head += "Content-Length: %d\r\n\r\n" % len(body) if body is not None else "\r\n"
    return head.encode() + (body or b"")


def provider_requests():
    """name -> (one delivery with the headers its host sends, signed for /hook; provider code)."""
    gh = read(os.path.join(PAYLOADS, "github", "push-2.json"))
    gh = gh.replace(b'"refs/heads/master"', b'"refs/heads/main"')
    # Deploy main, not master, so that the seeds reach the 202 path.
    bbc_main = read(os.path.join(PAYLOADS, "bitbucket-cloud", "repo_push-2.json"))
    bbc_main = bbc_main.replace(b'"master"', b'"main"')
    bbs_main = read(os.path.join(PAYLOADS, "bitbucket-server", "refs_changed-2.json"))
    bbs_main = bbs_main.replace(b"refs/heads/master", b"refs/heads/main")
    ping = read(os.path.join(PAYLOADS, "github", "ping-1.json"))
    gitea = read(os.path.join(PAYLOADS, "gitea", "push-2.json"))
    gitlab = read(os.path.join(PAYLOADS, "gitlab", "push-1.json"))
    bbc = read(os.path.join(PAYLOADS, "bitbucket-cloud", "repo_push-2.json"))
    bbs = read(os.path.join(PAYLOADS, "bitbucket-server", "refs_changed-2.json"))
    uuid = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    out = {}
    out["github-push"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("Accept", "*/*"),
        ("User-Agent", "GitHub-Hookshot/044aadd"),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", uuid),
        ("X-GitHub-Hook-ID", "292430182"),
        ("X-GitHub-Hook-Installation-Target-ID", "79929171"),
        ("X-GitHub-Hook-Installation-Target-Type", "repository"),
        ("X-Hub-Signature", "sha1=" + hmac.new(CASE_SECRET, gh, hashlib.sha1).hexdigest()),
        ("X-Hub-Signature-256", "sha256=" + sign(CASE_SECRET, gh)),
        ("Content-Type", "application/json"),
    ], gh)
    out["github-ping"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("User-Agent", "GitHub-Hookshot/044aadd"),
        ("X-GitHub-Event", "ping"),
        ("X-GitHub-Delivery", uuid),
        ("X-Hub-Signature-256", "sha256=" + sign(CASE_SECRET, ping)),
        ("Content-Type", "application/json"),
    ], ping)
    out["gitea-push"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("User-Agent", "Go-http-client/1.1"),
        ("Content-Type", "application/json"),
        ("X-GitHub-Delivery", uuid),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Event-Type", "push"),
        ("X-Gitea-Delivery", uuid),
        ("X-Gitea-Event", "push"),
        ("X-Gitea-Event-Type", "push"),
        ("X-Gitea-Signature", sign(CASE_SECRET, gitea)),
        ("X-Gogs-Delivery", uuid),
        ("X-Gogs-Event", "push"),
        ("X-Gogs-Event-Type", "push"),
        ("X-Gogs-Signature", sign(CASE_SECRET, gitea)),
        ("X-Hub-Signature", "sha1=" + hmac.new(CASE_SECRET, gitea, hashlib.sha1).hexdigest()),
        ("X-Hub-Signature-256", "sha256=" + sign(CASE_SECRET, gitea)),
        ("Accept-Encoding", "gzip"),
    ], gitea)
    out["gitlab-push"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("User-Agent", "GitLab/17.4.0"),
        ("Content-Type", "application/json"),
        ("X-Gitlab-Event", "Push Hook"),
        ("X-Gitlab-Instance", "https://gitlab.example.org"),
        ("X-Gitlab-Webhook-UUID", "2a8f5a3e-3f0b-4a1e-9a8c-0c1d2e3f4a5b"),
        ("X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954e"),
        ("Idempotency-Key", "f5e5f430-f57b-4e6e-9fac-d9128cd7232f"),
        ("X-Gitlab-Token", CASE_SECRET.decode()),
        ("Accept-Encoding", "gzip;q=1.0,deflate;q=0.6,identity;q=0.3"),
        ("Accept", "*/*"),
    ], gitlab)
    out["bitbucket-cloud-push"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("User-Agent", "Bitbucket-Webhooks/2.0"),
        ("Content-Type", "application/json"),
        ("X-Event-Key", "repo:push"),
        ("X-Hook-UUID", "{cdb2e5a9-6b1a-4a2c-9a7e-2d3c4b5a6978}"),
        ("X-Request-UUID", "5b5b0c4e-6a4f-4c4e-8f1d-8a3b2c1d0e9f"),
        ("X-Attempt-Number", "1"),
        ("X-Hub-Signature", "sha256=" + sign(CASE_SECRET, bbc)),
    ], bbc)
    out["bitbucket-server-refs-changed"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("Content-Type", "application/json; charset=UTF-8"),
        ("X-Event-Key", "repo:refs_changed"),
        ("X-Request-Id", "d4a8c3b2-1e0f-4a5b-9c8d-7e6f5a4b3c2d"),
        ("X-Hub-Signature", "sha256=" + sign(CASE_SECRET, bbs)),
        ("Authorization", "Basic dGFpbGhvb2s6c2VjcmV0"),
    ], bbs)
    out["bitbucket-server-diagnostics-ping"] = request("/hook", [
        ("Host", "hooks.example.org"),
        ("Content-Type", "application/json; charset=UTF-8"),
        ("X-Event-Key", "diagnostics:ping"),
        ("X-Request-Id", "d4a8c3b2-1e0f-4a5b-9c8d-7e6f5a4b3c2e"),
    ], b'{"test": true}')
    codes = {"github-push": 0, "github-ping": 0, "gitea-push": 1, "gitlab-push": 3,
             "bitbucket-cloud-push": 4, "bitbucket-server-refs-changed": 5,
             "bitbucket-server-diagnostics-ping": 5}
    res = {name: (data, codes[name]) for name, data in out.items()}
    # Forgejo sends Gitea's set plus its own names; it signs the same way.
    forgejo = out["gitea-push"].replace(b"X-Gitea-Event:", b"X-Forgejo-Event:").replace(
        b"X-Gitea-Signature:", b"X-Forgejo-Signature:").replace(
        b"X-Gitea-Delivery:", b"X-Forgejo-Delivery:")
    res["forgejo-push"] = (forgejo, 2)
    # Gitea's form delivery signs the decoded payload field.
    form = b"payload=" + urllib.parse.quote_from_bytes(gitea).encode()
    res["gitea-form"] = (request("/hook", [
        ("Host", "h"), ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Gitea-Event", "push"), ("X-Gitea-Delivery", uuid),
        ("X-Gitea-Signature", sign(CASE_SECRET, gitea))], form), 1)
    # GitHub's form delivery signs the form bytes as sent.
    ghform = b"payload=" + urllib.parse.quote_from_bytes(gh).encode()
    res["github-form"] = (request("/hook", [
        ("Host", "h"), ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-GitHub-Event", "push"), ("X-GitHub-Delivery", uuid),
        ("X-Hub-Signature-256", "sha256=" + sign(CASE_SECRET, ghform))], ghform), 0)
    # A site that accepts GitHub's legacy SHA-1 header only (and rotates its secret).
    res["github-legacy-sha1"] = (request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", uuid),
        ("X-Hub-Signature", "sha1=" + hmac.new(CASE_SECRET, gh, hashlib.sha1).hexdigest())],
        gh), GITHUB_LEGACY_ROTATED)
    res["gitea-rotated"] = (out["gitea-push"], GITEA_ROTATED)
    # Bitbucket pushes to the configured branch, and the same delivery twice (dedupe).
    cloud = request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-Event-Key", "repo:push"),
        ("X-Request-UUID", "5b5b0c4e-6a4f-4c4e-8f1d-8a3b2c1d0e9f"),
        ("X-Hub-Signature", "sha256=" + sign(CASE_SECRET, bbc_main))], bbc_main)
    res["bitbucket-cloud-main-twice"] = (cloud * 2, 4)
    server = request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"),
        ("X-Event-Key", "repo:refs_changed"), ("X-Request-Id", "d4a8c3b2"),
        ("X-Hub-Signature", "sha256=" + sign(CASE_SECRET, bbs_main))], bbs_main)
    res["bitbucket-server-main-twice"] = (server * 2, 5)
    # Autosign placeholders (fuzz_http_req.c): the harness signs whatever
    # body the fuzzer made, so mutations get past authentication.
    for name in ("github-push", "gitea-push", "bitbucket-cloud-main-twice",
                 "bitbucket-server-main-twice", "github-legacy-sha1", "github-form"):
        data, code = res[name]
        data = re.sub(rb"(X-Hub-Signature-256: sha256=)[0-9a-f]{64}", rb"\1" + b"x" * 64, data)
        data = re.sub(rb"(X-Hub-Signature: sha256=)[0-9a-f]{64}", rb"\1" + b"x" * 64, data)
        data = re.sub(rb"(X-Hub-Signature: sha1=)[0-9a-f]{40}", rb"\1" + b"x" * 40, data)
        data = re.sub(rb"(X-Gitea-Signature: )[0-9a-f]{64}", rb"\1" + b"x" * 64, data)
        res["autosign-" + name] = (data, code)
    # Bitbucket Cloud: two changes in one push (the best verdict wins).
    two = json.loads(bbc_main)
    other = json.loads(json.dumps(two["push"]["changes"][0]))
    other["new"]["name"] = "feature"
    two["push"]["changes"].insert(0, other)
    body = json.dumps(two).encode()
    res["autosign-bitbucket-cloud-two-changes"] = (request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-Event-Key", "repo:push"),
        ("X-Hub-Signature", "sha256=" + "x" * 64)], body), 4)
    # Gitea's "Test delivery": a push whose before equals after.
    test = re.sub(rb'"before": "[0-9a-f]{40}"', b'"before": "4522cbcefc20728a5b72b3a86af35e608622c514"',
                  gitea).replace(b"refs/heads/master", b"refs/heads/main")
    res["autosign-gitea-test-delivery"] = (request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-Gitea-Event", "push"),
        ("X-Gitea-Signature", "x" * 64)], test), 1)
    return res


def http_streams():
    """name -> (connection bytes, http_req setup flags)."""
    streams = {}
    for case in sorted(glob.glob(os.path.join(CASES, "*"))):
        name = os.path.basename(case)
        req = os.path.join(case, "request.http")
        if not os.path.exists(req):
            continue
        data = read(req)
        extra = os.path.join(case, "body-after-interim")
        if os.path.exists(extra):
            data += read(extra)
        ini = read(os.path.join(case, "site.ini")).decode()
        prov = re.search(r"provider\s*=\s*(\S+)", ini)
        flags = provider(PROVIDERS[prov.group(1)]) if prov else 0
        if "release/v1" in ini:
            flags |= TWO_SITES
        streams["case-" + name] = (data, flags)
    for cap in sorted(glob.glob(os.path.join(CAPTURES, "*.http"))):
        streams["capture-" + os.path.basename(cap)[:-5]] = (read(cap), False)
    for name, (data, code) in provider_requests().items():
        streams["provider-" + name] = (data, provider(code))
    # Shapes the cases do not cover.
    ping = b'{"zen":"x"}'
    signed_ping = request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-GitHub-Event", "ping"),
        ("X-Hub-Signature-256", "sha256=" + sign(CASE_SECRET, ping))], ping)
    streams["keep-alive-three-pings"] = (signed_ping * 3, False)
    streams["leading-empty-lines"] = (b"\r\n\r\n" + signed_ping, False)
    streams["http10-keep-alive"] = (
        signed_ping.replace(b"HTTP/1.1", b"HTTP/1.0").replace(
            b"Host: h\r\n", b"Connection: keep-alive\r\n") * 2, False)
    streams["connection-close"] = (
        signed_ping.replace(b"Host: h\r\n", b"Host: h\r\nConnection: close\r\n") * 2, False)
    streams["query-string"] = (signed_ping.replace(b"/hook ", b"/hook?x=1 "), False)
    streams["zero-length-body"] = (request("/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-GitHub-Event", "ping")],
        b""), False)
    streams["get-no-body"] = (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", False)
    streams["two-sites-small"] = (request("/small/hook", [
        ("Host", "h"), ("Content-Type", "application/json"), ("X-GitHub-Event", "push")],
        b"x" * 2000), TWO_SITES)
    streams["expect-bad"] = (b"POST /hook HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n"
                             b"Content-Length: 1\r\n\r\nx", False)
    streams["te-gzip"] = (b"POST /hook HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
                          False)
    streams["http2-preface"] = (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", False)
    streams["http-0.9"] = (b"GET /\r\n\r\n", False)
    streams["version-2.0"] = (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", False)
    streams["obs-fold"] = (b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  2\r\n\r\n", False)
    streams["bare-lf"] = (b"GET / HTTP/1.1\nHost: h\n\n", False)
    streams["content-length-overflow"] = (
        b"POST /hook HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        False)
    streams["absolute-form"] = (b"GET http://h/hook HTTP/1.1\r\nHost: h\r\n\r\n", False)
    streams["two-hosts"] = (b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", False)
    streams["many-headers"] = (b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: y\r\n" * 70 + b"\r\n",
                               False)
    streams["head-too-large"] = (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 16400, False)
    return streams


def make_json():
    clean("json_push")
    for f in sorted(glob.glob(os.path.join(PAYLOADS, "*", "*"))):
        rel = os.path.relpath(f, PAYLOADS).replace(os.sep, "-")
        write("json_push", "payload-" + rel, read(f))
    for case in sorted(glob.glob(os.path.join(CASES, "*", "request.http"))):
        data = read(case)
        body = data[data.find(b"\r\n\r\n") + 4:]
        if body.startswith(b"{"):
            write("json_push", "case-" + os.path.basename(os.path.dirname(case)), body)
    after = b'"after":"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"'
    extra = {
        "escapes": b'{"r\\u0065f":"refs/heads/m\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/",' + after +
                   b',"deleted":false}',
        "deleted-true": b'{"ref":"refs/heads/main",' + after + b',"deleted":true}',
        "uppercase-after": b'{"ref":"x","after":"8B7A3E6F0C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F"}',
        "lone-surrogate": b'{"ref":"\\ud800x",' + after + b'}',
        "nul-escape": b'{"ref":"\\u0000",' + after + b'}',
        "trailing-comma": b'{"ref":"x",' + after + b',}',
        "missing-colon": b'{"ref" "x"}',
        "ref-not-string": b'{"ref":1,' + after + b'}',
        "deleted-tru": b'{"deleted":tru}',
        "array-top": b'[{"ref":"x"}]',
        "nested-arrays": b'{"a":[1,[2,{"ref":"y"}],"z"],"ref":"x",' + after + b'}',
        "whitespace": b' \t\r\n{ "ref" : "x" , ' + after + b' }\r\n',
        "long-ref": b'{"ref":"' + b"a" * 1100 + b'"}',
        "depth-64": b'{"a":' + b"[" * 63 + b"]" * 63 + b'}',
        "depth-65": b'{"a":' + b"[" * 64 + b"]" * 64 + b'}',
        "quote-in-primitive": b'{"a":1"}',
        "empty": b"",
        "empty-object": b"{}",
    }
    for name, data in extra.items():
        write("json_push", name, data)


def make_http():
    clean("http_req")
    for name, (data, flags) in http_streams().items():
        write("http_req", name, prefix(flags) + data)
    # The same streams cut in pieces, so the split logic has seeds too.
    cuts = [("bytewise", (1,)), ("odd-splits", (3, 17, 1, 256, 64, 2, 5))]
    streams = http_streams()
    for key in ("case-C16-expect-100-continue", "case-C20-pipelined-ping-then-push",
                "capture-curl-post", "leading-empty-lines"):
        data, flags = streams[key]
        for cut, sizes in cuts:
            write("http_req", "%s-%s" % (key, cut), prefix(flags, sizes) + data)


def make_form():
    clean("form")
    push = read(os.path.join(PAYLOADS, "github", "push-1.json"))
    enc = urllib.parse.quote_from_bytes(push).encode()
    seeds = {
        "bitbucket-legacy-post-service": read(
            os.path.join(PAYLOADS, "bitbucket-cloud", "legacy_post_service-1.form")),
        "github-push-quoted": b"payload=" + enc,
        "github-push-plus": b"payload=" + urllib.parse.quote_plus(push.decode()).encode(),
        "unescaped-json": b"payload=" + push,
        "lowercase-hex": b"payload=%7b%22ref%22%3a%22x%22%7d",
        "nul-escape": b"payload=%7B%22ref%22%3A%22%00%22%7D",
        "bad-escape": b"payload=%7",
        "bad-escape-hex": b"payload=%zz",
        "empty-payload": b"payload=",
        "no-payload": b"other=1",
        "twice": b"payload=1&payload=2",
        "extra-field": b"payload={}&x=1",
        "leading-amp": b"&payload={}",
        "no-equals": b"payload",
        "escaped-name": b"p%61yload={}",
        "empty": b"",
    }
    for case in sorted(glob.glob(os.path.join(CASES, "*", "request.http"))):
        data = read(case)
        if b"x-www-form-urlencoded" in data:
            body = data[data.find(b"\r\n\r\n") + 4:]
            seeds["case-" + os.path.basename(os.path.dirname(case))] = body
    for name, data in seeds.items():
        write("form", name, data)


def make_signature():
    clean("signature")
    vectors = {
        "github-doc-vector": (b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
                              b"Hello, World!"),
        "uppercase": (b"sha256=" + sign(SIG_SECRET, b"data").upper().encode(), b"data"),
        "bare-hex": (sign(SIG_SECRET, b"{}").encode(), b"{}"),
        "sha1-prefix": (b"sha1=f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8", b"x"),
        "short": (b"sha256=111", b"data"),
        "empty-header": (b"", b"data"),
        "wrong-secret": (b"sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3",
                         b'{"foo":"bar"}'),
        "non-hex": (b"sha256=" + b"g" * 64, b""),
        "too-long": (b"sha256=" + b"0" * 65, b""),
        "prefix-case": (b"SHA256=" + b"0" * 64, b""),
    }
    push = read(os.path.join(PAYLOADS, "github", "push-1.json"))
    vectors["push-1-signed"] = (b"sha256=" + sign(SIG_SECRET, push).encode(), push)
    # The harness's second (rotation) key is "mysecret": MANIFEST vectors A2 and B.
    push9 = read(os.path.join(PAYLOADS, "github", "push-9.json"))
    vectors["sha1-vector-b"] = (b"sha1=f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8", push9)
    vectors["rotated-key-a2"] = (
        b"sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3",
        b'{"foo":"bar"}')
    vectors["token"] = (SIG_SECRET, b"")
    vectors["token-rotated"] = (b"mysecret", b"{}")
    vectors["token-too-long"] = (b"t" * 4097, b"")
    for name, (hdr, body) in vectors.items():
        write("signature", name, hdr + b"\0" + body)
    write("signature", "no-nul", b"sha256=" + b"a" * 64)


def msg(magic=0x74686b31, version=1, site=0,
        commit=b"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\0",
        delivery=b"72d3162e-cc78-11e3-81ab-4c9367dc0958\0"):
    commit = commit.ljust(41, b"\0")[:41]
    delivery = delivery.ljust(87, b"\0")[:87]
    return struct.pack("=IHH", magic, version, site) + commit + delivery


def make_msg():
    clean("msg")
    good = msg()
    seeds = {
        "valid": good,
        "valid-site-3": msg(site=3),
        "valid-dash-delivery": msg(delivery=b"-\0"),
        "valid-garbage-after-nul": msg(delivery=b"abc\0\xff\xfe"),
        "valid-86-char-delivery": msg(delivery=b"a" * 86 + b"\0"),
        "short": good[:-1],
        "long": good + b"\0",
        "empty": b"",
        "bad-magic": msg(magic=0x316b6874),
        "bad-version": msg(version=2),
        "site-out-of-range": msg(site=4),
        "site-max": msg(site=0xffff),
        "uppercase-commit": msg(commit=b"8B7A3E6F0C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F\0"),
        "commit-no-nul": msg(commit=b"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5fa"),
        "commit-short": msg(commit=b"8b7a3e6f\0"),
        "delivery-empty": msg(delivery=b"\0"),
        "delivery-no-nul": msg(delivery=b"a" * 87),
        "delivery-control": msg(delivery=b"a\nb\0"),
        "delivery-space": msg(delivery=b"a b\0"),
        # Encode direction (fuzz_msg.c): site byte, 40 commit bytes, delivery.
        "encode-valid": b"\x01" + b"8B7A3E6F0C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F" + b"id with spaces/\xff",
        "encode-long-delivery": b"\x02" + b"0" * 40 + b"x" * 200,
    }
    for name, data in seeds.items():
        write("msg", name, data)


SITE = """path = /hooks/blog
secret-file = {s}
branch = main
remote = https://example.org/blog.git
checkout = /srv/src/blog
build = jekyll build
output = _site
target = /srv/www/blog
user = blog
""".format(s=SECRET_PATH)

SERVER = """[server]
listen = 127.0.0.1:8443
certificate = {s}
key = {s}
""".format(s=SECRET_PATH)


def make_config():
    clean("config")
    full = """# a comment
[server]
listen = 0.0.0.0:443            ; repeatable
listen = [::1]:0
  certificate = {s} ; c
key: {s}
user = _tailhook
chroot = /var/lib/tailhook/empty
state-dir = /var/lib/tailhook
handshake-timeout = 5
head-timeout = 6
request-timeout = 120
idle-timeout = 45
max-connections = 1000000

  [site blog] ; first
path = /hooks/blog
provider = github
secret-file = {s}
branch = release/v1
remote = git@example.org:me/blog.git
checkout = /srv/src/blog
build = bundle exec 'jekyll build' --trace "a \\"q\\" b" c\\ d
output = .
target = /srv/www/blog
user = blog
timeout = 86400
max-body = 1073741824
; another comment
[site docs.v2_x-y]
\tpath = /hooks/docs
secret-file = {s}
branch = main
remote = /srv/git/docs.git
checkout = /srv/src/docs
build = make
output = public/html
target = /srv/www/docs
user = docs
""".format(s=SECRET_PATH)
    base = SERVER + "[site blog]\n" + SITE
    seeds = {
        "valid-minimal": base,
        "valid-full": full,
        "valid-crlf-bom": "\ufeff" + base.replace("\n", "\r\n"),
        "unknown-key": base + "colour = blue\n",
        "unknown-section": base + "[client]\n",
        "no-server": "[site blog]\n" + SITE,
        "no-site": SERVER,
        "duplicate-server": SERVER + SERVER + "[site blog]\n" + SITE,
        "duplicate-site": base + "[site blog]\n" + SITE,
        "duplicate-path": base + "[site b2]\n" + SITE,
        "duplicate-key": base + "user = x\n",
        "empty-section": SERVER + "[site blog]\n[site b]\n" + SITE,
        "missing-required": SERVER + "[site blog]\npath = /x\n",
        "bad-listen": base.replace("127.0.0.1:8443", "localhost:https"),
        "bad-listen-v6": base.replace("127.0.0.1:8443", "[::1:8443"),
        "too-many-listen": base.replace("listen = 127.0.0.1:8443\n",
                                        "listen = 127.0.0.1:1\n" * 17),
        "bad-number": base + "timeout = 12s\n",
        "number-overflow": base + "max-body = 99999999999999999999999\n",
        "relative-checkout": base.replace("/srv/src/blog", "srv/src/blog"),
        "root-target": base.replace("/srv/www/blog", "///"),
        "dotdot-output": base.replace("_site", "a/../../b"),
        "bad-branch": base.replace("branch = main", "branch = ma..in"),
        "refs-branch": base.replace("branch = main", "branch = refs/heads/main"),
        "dash-remote": base.replace("https://example.org/blog.git", "--upload-pack=x"),
        "bad-user": base.replace("user = blog", "user = -blog"),
        "unbalanced-quote": base.replace("jekyll build", "jekyll 'build"),
        "trailing-backslash": base.replace("jekyll build", "jekyll build\\"),
        "missing-secret": base.replace(SECRET_PATH, "/nonexistent/secret"),
        "empty-secret": base.replace("secret-file = " + SECRET_PATH,
                                     "secret-file = " + SECRET_PATH + "-empty"),
        "big-secret": base.replace("secret-file = " + SECRET_PATH,
                                   "secret-file = " + SECRET_PATH + "-big"),
        "crlf-secret": base.replace("secret-file = " + SECRET_PATH,
                                    "secret-file = " + SECRET_PATH + "-crlf"),
        "relative-secret": base.replace("secret-file = " + SECRET_PATH, "secret-file = s"),
        "no-listen": base.replace("listen = 127.0.0.1:8443\n", ""),
        "rotation": base.replace("secret-file = " + SECRET_PATH,
                                 "secret-file = " + SECRET_PATH + "\nsecret-file = " +
                                 SECRET_PATH + "-crlf"),
        "three-secrets": base.replace("secret-file = " + SECRET_PATH,
                                      ("secret-file = " + SECRET_PATH + "\n") * 3),
        "legacy-sha1": base + "provider = github\nlegacy-sha1 = yes\n",
        "legacy-sha1-not-github": base + "provider = gitea\nlegacy-sha1 = yes\n",
        "legacy-sha1-then-gitea": base + "legacy-sha1 = no\nprovider = gitlab\n",
        "legacy-sha1-maybe": base + "legacy-sha1 = maybe\n",
        "publish-rsync": base + "publish = rsync\nkeep = 3\nreleases = /srv/rel/blog\n",
        "publish-bad": base + "publish = ftp\n",
        "gitlab-token": base + "provider = gitlab\n",
        "gitlab-token-blanks": base.replace("secret-file = " + SECRET_PATH,
                                            "secret-file = " + SECRET_PATH + "-blank") +
        "provider = gitlab\n",
        "every-provider": SERVER + "".join(
            "[site s%d]\nprovider = %s\n" % (i, p) +
            SITE.replace("/hooks/blog", "/hooks/%d" % i)
            for i, p in enumerate(("github", "gitea", "forgejo", "gitlab", "bitbucket-cloud",
                                   "bitbucket-server"))),
        "cert-is-dir": base.replace("certificate = " + SECRET_PATH, "certificate = /tmp"),
        "nine-sites": SERVER + "".join(
            "[site s%d]\n" % i + SITE.replace("/hooks/blog", "/hooks/%d" % i)
            for i in range(9)),
        "too-many-sites": SERVER + "".join(
            "[site s%d]\n" % i + SITE.replace("/hooks/blog", "/hooks/%d" % i)
            for i in range(257)),
        "secret-is-dir": base.replace(SECRET_PATH, "/tmp"),
        "bad-provider": base + "provider = gitlab\n",
        "bad-site-name": SERVER + "[site ..]\n" + SITE,
        "site-name-tab": SERVER + "[site\tblog]\n" + SITE,
        "header-without-bracket": base + "[server\n",
        "text-after-header": SERVER + "[site x] y\n" + SITE,
        "key-outside-section": "listen = 1.2.3.4:5\n" + base,
        "no-separator": base + "just words\n",
        "empty-value": base + "timeout =\n",
        "control-char": base + "remote = a\x01b\n",
        "nul-byte": base + "remote = a\0b\n",
        "long-line": base + "remote = " + "x" * 300 + "\n",
        "continuation": base + "    indented = value\n",
        "comment-in-value": base.replace("jekyll build", "jekyll build ; not a comment"),
        "empty": "",
        "only-comments": "; x\n# y\n\n",
    }
    for name, text in seeds.items():
        data = text.encode("utf-8") if isinstance(text, str) else text
        write("config", name, data)


def tls_records():
    """Raw-mode seeds: first flights captured from real clients, and some records."""
    out = {}
    hellos = {}
    for cap in sorted(glob.glob(os.path.join(CAPTURES, "clienthello-*.bin"))):
        hellos[os.path.basename(cap)[:-4]] = read(cap)
    for name, data in hellos.items():
        out[name] = prefix() + data
        out[name + "-bytewise"] = prefix(0, (1,)) + data
    hello = hellos["clienthello-openssl-s_client-tls1_2"]
    body = hello[5:]
    # The same handshake message split over two records.
    two = (b"\x16\x03\x01" + struct.pack(">H", 40) + body[:40] +
           b"\x16\x03\x01" + struct.pack(">H", len(body) - 40) + body[40:])
    out["clienthello-two-records"] = prefix() + two
    out["clienthello-then-garbage"] = prefix() + hello + b"\x17\x03\x03\x00\x10" + b"A" * 16
    out["alert-before-hello"] = prefix() + b"\x15\x03\x03\x00\x02\x02\x28"
    out["ccs-before-hello"] = prefix() + b"\x14\x03\x03\x00\x01\x01"
    out["appdata-before-hello"] = prefix() + b"\x17\x03\x03\x00\x05hello"
    out["heartbeat"] = prefix() + b"\x18\x03\x03\x00\x03\x01\x40\x00"
    out["record-too-long"] = prefix() + b"\x16\x03\x03\x48\x01" + b"\0" * 64
    # An SSLv2-format ClientHello (old clients' compatible hello), 3 suites.
    specs = bytes.fromhex("00002f") + bytes.fromhex("000035") + bytes.fromhex("00c02f")
    v2 = b"\x01\x03\x01" + struct.pack(">HHH", len(specs), 0, 16) + specs + b"C" * 16
    out["sslv2-hello"] = prefix() + struct.pack(">H", 0x8000 | len(v2)) + v2
    out["plain-http"] = prefix() + read(os.path.join(CAPTURES, "curl-post.http"))
    return out


def make_tls():
    clean("tls")
    for name, data in tls_records().items():
        write("tls", "raw-" + name, data)
    # Client mode: the harness's TLS client sends these as application data.
    streams = http_streams()
    for key in ("case-C01-escaped-slash-ref", "case-C10-ping-event",
                "case-C16-expect-100-continue", "case-C20-pipelined-ping-then-push",
                "case-C21-http-1.0-request", "case-C22-body-over-cap",
                "case-C23-get-on-hook-path", "case-C24-unknown-path",
                "case-C28-wrong-secret", "case-C17-content-length-and-transfer-encoding",
                "keep-alive-three-pings", "connection-close", "capture-curl-post",
                "case-C12-tag-with-branch-name", "capture-curl-large-body-head",
                "zero-length-body", "head-too-large", "te-gzip", "version-2.0"):
        data, _ = streams[key]
        write("tls", "client-" + key, prefix(CLIENT) + data)
    data, _ = streams["keep-alive-three-pings"]
    write("tls", "client-close-notify-pings", prefix(CLIENT | CLOSE_NOTIFY) + data)
    data, _ = streams["case-C20-pipelined-ping-then-push"]
    write("tls", "client-split-pipelined", prefix(CLIENT, (7, 200, 1)) + data)
    write("tls", "client-nothing", prefix(CLIENT))
    write("tls", "client-nothing-close-notify", prefix(CLIENT | CLOSE_NOTIFY))
    write("tls", "client-partial-head", prefix(CLIENT) + b"POST /hook HTTP/1.1\r\nHo")
    write("tls", "client-absolute-form", prefix(CLIENT) + streams["absolute-form"][0])
    # The flaky server: the body in a later record than the head (the
    # request timer fires in between), and a deploy the deployer cannot take.
    data, _ = streams["case-C20-pipelined-ping-then-push"]
    write("tls", "flaky-client-split-pipelined", prefix(CLIENT | FLAKY, (200, 256)) + data)
    data, _ = streams["case-C01-escaped-slash-ref"]
    write("tls", "flaky-client-deploy", prefix(CLIENT | FLAKY) + data)
    # The plain transport (a Unix-socket listener behind a TLS proxy).
    for key in ("case-C20-pipelined-ping-then-push", "case-C16-expect-100-continue",
                "keep-alive-three-pings", "absolute-form", "head-too-large",
                "capture-curl-large-body-head", "case-C01-escaped-slash-ref"):
        data, _ = streams[key]
        write("tls", "plain-" + key, prefix(PLAIN) + data)
    data, _ = streams["case-C20-pipelined-ping-then-push"]
    write("tls", "plain-bytewise-pipelined", prefix(PLAIN, (1,)) + data)
    # The proxy names the client in X-Forwarded-For (the last one counts).
    ping, _ = streams["keep-alive-three-pings"]
    ping = ping[:len(ping) // 3]
    for name, xff in (("one", b"192.0.2.7"), ("chain", b"203.0.113.9, 192.0.2.7"),
                      ("trailing-comma", b"192.0.2.7,"), ("blanks", b" ,\t, "),
                      ("long", b"2001:db8::1, " * 8 + b"x" * 80),
                      ("forged", b"192.0.2.7 peer=forged")):
        write("tls", "plain-xff-" + name,
              prefix(PLAIN) + ping.replace(b"Host: h\r\n", b"Host: h\r\nX-Forwarded-For: " +
                                           xff + b"\r\n"))
    # Draining (SIGUSR1) with an idle, a half-read and a finished connection.
    write("tls", "plain-drain-idle", prefix(PLAIN | DRAIN))
    write("tls", "plain-drain-mid-head", prefix(PLAIN | DRAIN) + data[:40])
    write("tls", "plain-drain-after-ping", prefix(PLAIN | DRAIN) + ping)
    write("tls", "raw-drain-mid-handshake", prefix(DRAIN) +
          read(os.path.join(CAPTURES, "clienthello-curl.bin")))
    write("tls", "plain-flaky-split-pipelined", prefix(PLAIN | FLAKY, (100, 256)) + data)
    # The RSA server (tls_server.c's other suite list).
    data, _ = streams["case-C20-pipelined-ping-then-push"]
    write("tls", "rsa-client-pipelined", prefix(CLIENT | RSA) + data)
    write("tls", "rsa-raw-clienthello-curl",
          prefix(RSA) + read(os.path.join(CAPTURES, "clienthello-curl.bin")))


def main():
    make_json()
    make_form()
    make_http()
    make_signature()
    make_msg()
    make_config()
    make_tls()
    for t in sorted(os.listdir(CORPUS)):
        print("%-10s %d files" % (t, len(os.listdir(os.path.join(CORPUS, t)))))


if __name__ == "__main__":
    main()
