"""Provider dialects through the real daemon over TLS (issue 5).

Every payload in tests/fixtures/payloads/ is sent with the headers its
provider sends and a correct secret, and must get the answer the
manifest's notes imply: a push or creation of the configured branch
deploys (202 and a deploy-start), a tag, a deletion, another event or a
test delivery is answered 200 without a deploy, and a ping is 200.  The
same bodies with a wrong or missing secret never deploy, in any dialect.
Then the rest of the issue's list: forms, rotation, legacy SHA-1,
redeliveries and the HTTP edge cases real senders produce.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

import thlib

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
SECRET = b"provider-secret 0123456789"
WRONG = b"provider-secret 012345678X"
# How long a deploy-start may take to follow a 202...
START_WAIT = 5.0
# ...and how long a group of deliveries that must not deploy is watched.
NO_DEPLOY_WAIT = 1.0


def hex_hmac(secret: bytes, body: bytes, algo=hashlib.sha256) -> str:
    return hmac.new(secret, body, algo).hexdigest()


def auth_headers(provider: str, secret: bytes | None, signed: bytes) -> list[tuple[str, str]]:
    """What each host sends to authenticate; nothing when secret is None
    (Gitea's unsigned hooks still send the header, empty)."""
    if provider == "github":
        if secret is None:
            return []
        return [("X-Hub-Signature", "sha1=" + hex_hmac(secret, signed, hashlib.sha1)),
                ("X-Hub-Signature-256", "sha256=" + hex_hmac(secret, signed))]
    if provider in ("gitea", "forgejo"):
        mac = "" if secret is None else hex_hmac(secret, signed)
        hdrs = [("X-Gitea-Signature", mac), ("X-Gogs-Signature", mac),
                ("X-Hub-Signature-256", "sha256=" + mac)]
        if provider == "forgejo":
            hdrs.append(("X-Forgejo-Signature", mac))
        return hdrs
    if provider == "gitlab":
        return [] if secret is None else [("X-Gitlab-Token", secret.decode())]
    # Bitbucket Cloud and Server: GitHub's SHA-1 header name, SHA-256 inside
    return [] if secret is None else [("X-Hub-Signature", "sha256=" + hex_hmac(secret, signed))]


def event_headers(provider: str, event: str, delivery: str) -> list[tuple[str, str]]:
    """The event and delivery headers each host sends, with its User-Agent."""
    if provider == "github":
        return [("User-Agent", "GitHub-Hookshot/044aadd"), ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", delivery), ("X-GitHub-Hook-ID", "1")]
    if provider in ("gitea", "forgejo"):
        hdrs = [("X-Gitea-Event", event), ("X-Gitea-Event-Type", event),
                ("X-Gitea-Delivery", delivery), ("X-Gogs-Event", event),
                ("X-Gogs-Delivery", delivery), ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", delivery)]
        if provider == "forgejo":
            hdrs += [("X-Forgejo-Event", event), ("X-Forgejo-Event-Type", event),
                     ("X-Forgejo-Delivery", delivery)]
        return hdrs
    if provider == "gitlab":
        return [("User-Agent", "GitLab/17.5.0"), ("X-Gitlab-Event", event),
                ("X-Gitlab-Instance", "https://gitlab.example"),
                ("X-Gitlab-Event-UUID", delivery), ("Idempotency-Key", delivery)]
    if provider == "bitbucket-cloud":
        return [("User-Agent", "Bitbucket-Webhooks/2.0"), ("X-Event-Key", event),
                ("X-Hook-UUID", "{" + str(uuid.uuid4()) + "}"),
                ("X-Request-UUID", delivery), ("X-Attempt-Number", "1")]
    return [("X-Event-Key", event), ("X-Request-Id", delivery)]


def delivery_request(provider: str, body: bytes, event: str, *, secret: bytes | None = SECRET,
                     content_type: str = "application/json", signed: bytes | None = None,
                     delivery: str | None = None, path: str = "/hook",
                     extra: list[tuple[str, str]] | None = None) -> bytes:
    """Raw request bytes of one delivery as `provider` sends it."""
    delivery = delivery or str(uuid.uuid4())
    headers = [("Host", "127.0.0.1"), ("Content-Type", content_type)]
    headers += event_headers(provider, event, delivery)
    headers += auth_headers(provider, secret, body if signed is None else signed)
    headers += extra or []
    headers.append(("Content-Length", str(len(body))))
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode() + b"\r\n" + body


@dataclasses.dataclass(frozen=True)
class Delivery:
    provider: str
    file: str  # under tests/fixtures/payloads/
    event: str
    branch: str  # the site's branch for this delivery
    expect: str  # "deploy", "ignore" or "ping"
    why: str  # what the manifest says about the file

    def body(self) -> bytes:
        return (FIXTURES / self.file).read_bytes()


def gh(file, event, branch, expect, why):
    return Delivery("github", "github/" + file, event, branch, expect, why)


def gitea_like(provider):
    return [
        Delivery(provider, "gitea/push-1.json", "push", "master", "deploy", "first push"),
        Delivery(provider, "gitea/push-2.json", "push", "master", "deploy", "branch push"),
        Delivery(provider, "gitea/create-1.json", "create", "master", "ignore", "tag created"),
        Delivery(provider, "gitea/delete-1.json", "delete", "master", "ignore",
                 "branch deleted"),
    ]


def bbc(file, branch, expect, why):
    return Delivery("bitbucket-cloud", "bitbucket-cloud/" + file, "repo:push", branch, expect,
                    why)


def bbs(file, branch, expect, why):
    return Delivery("bitbucket-server", "bitbucket-server/" + file, "repo:refs_changed", branch,
                    expect, why)


DELIVERIES = [
    gh("push-1.json", "push", "master", "deploy", "plain branch push"),
    gh("push-2.json", "push", "master", "deploy", "plain branch push"),
    gh("push-3.json", "push", "master", "ignore", "tag push"),
    gh("push-4.json", "push", "feature-branch", "deploy", "branch creation"),
    gh("push-5.json", "push", "feature-branch", "ignore", "branch deletion"),
    gh("push-6.json", "push", "master", "ignore", "tag deletion"),
    gh("push-7.json", "push", "master", "ignore", "organization repo, tag deletion"),
    gh("push-8.json", "push", "master", "deploy", "new branch with a commit"),
    gh("push-9.json", "push", "master", "deploy", "legacy shape, tab-indented"),
    gh("push-10.json", "push", "temp", "deploy", "force push"),
    gh("push-11.json", "push", "changes", "deploy", "50 commits, 45 KB"),
    gh("ping-1.json", "ping", "master", "ping", "repository hook ping"),
    gh("ping-2.json", "ping", "master", "ping", "organization hook ping"),
    gh("ping-3.json", "ping", "master", "ping", "GitHub App ping"),
    gh("pull_request-1.json", "pull_request", "master", "ignore", "PR opened"),
    gh("pull_request-2.json", "pull_request", "master", "ignore", "PR synchronize"),
    gh("pull_request-3.json", "pull_request", "master", "ignore", "PR opened"),
    *gitea_like("gitea"),
    *gitea_like("forgejo"),
    Delivery("gitlab", "gitlab/push-1.json", "Push Hook", "master", "deploy", "docs example"),
    Delivery("gitlab", "gitlab/push-2.json", "Push Hook", "master", "deploy", "ordinary push"),
    Delivery("gitlab", "gitlab/push-3.json", "Push Hook", "feature", "ignore", "branch deletion"),
    Delivery("gitlab", "gitlab/tag_push-1.json", "Tag Push Hook", "master", "ignore", "tag push"),
    Delivery("gitlab", "gitlab/tag_push-2.json", "Tag Push Hook", "master", "ignore",
             "tag creation"),
    bbc("repo_push-1.json", "name-of-branch", "deploy", "docs example"),
    bbc("repo_push-2.json", "master", "deploy", "branch updated"),
    bbc("repo_push-3.json", "develop", "deploy", "branch created"),
    bbc("repo_push-4.json", "develop", "ignore", "branch deleted"),
    bbc("repo_push-5.json", "feature/x", "ignore", "tag created (named like a branch)"),
    bbs("refs_changed-1.json", "feature/wip", "ignore", "branch deletion"),
    bbs("refs_changed-2.json", "master", "deploy", "branch update"),
    bbs("refs_changed-3.json", "trangineni/devtfvars-1685475548410", "deploy",
        "real delivery, branch with '/'"),
    bbs("refs_changed-4.json", "develop", "ignore", "branch deletion"),
    bbs("refs_changed-5.json", "master", "ignore", "tag creation"),
]

STATUS = {"deploy": 202, "ignore": 200, "ping": 200}


def test_every_fixture_is_covered():
    """A payload added to the corpus must get a row here."""
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*")
             if p.is_file() and p.name != "MANIFEST.md"}
    covered = {d.file for d in DELIVERIES} | {"bitbucket-cloud/legacy_post_service-1.form"}
    assert files == covered


def deploy_triggers(daemon: thlib.Daemon, site: str, since: int) -> list[thlib.Event]:
    return [ev for ev in daemon.log.events(since, role="deployer", site=site)
            if ev.get("event") in ("deploy-start", "deploy-queued")]


def start(th, provider: str, branch: str, extra=()) -> tuple[thlib.World, thlib.Daemon]:
    world = th.world(provider=provider, branch=branch, secret=SECRET)
    if extra:
        world.write_config(world.config_text(extra))
    return world, th.start(world)


def send(daemon: thlib.Daemon, world: thlib.World, request: bytes) -> thlib.Response:
    resp, _ = thlib.send_request(daemon.port, world.cert, request)
    return resp


def expect_deploy(daemon, world, request, what):
    """202, then a deploy of the site that starts and ends."""
    mark = daemon.log.mark()
    resp = send(daemon, world, request)
    assert resp.status == 202, f"{what}: {resp} {resp.body!r}"
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="deploy-start",
                      site=world.site.name)
    daemon.wait_deploy_end(world.site.name, since=mark)


def groups():
    out: dict[tuple[str, str], list[Delivery]] = {}
    for d in DELIVERIES:
        out.setdefault((d.provider, d.branch), []).append(d)
    return out


@pytest.mark.parametrize("provider,branch", sorted(groups()), ids=lambda v: str(v))
def test_fixtures_with_real_headers(th, provider, branch):
    """Each payload, signed as its host signs it, gets the manifest's answer;
    the same body with a wrong secret or none gets 401 and never deploys."""
    world, daemon = start(th, provider, branch)
    for d in groups()[(provider, branch)]:
        body = d.body()
        bad_mark = daemon.log.mark()
        for secret in (WRONG, None):
            resp = send(daemon, world, delivery_request(provider, body, d.event, secret=secret))
            assert resp.status == 401, f"{d.file} with secret {secret!r}: {resp}"
        request = delivery_request(provider, body, d.event)
        if d.expect == "deploy":
            expect_deploy(daemon, world, request, f"{d.file} ({d.why})")
        else:
            resp = send(daemon, world, request)
            assert resp.status == STATUS[d.expect], f"{d.file} ({d.why}): {resp} {resp.body!r}"
            if d.expect == "ping":
                assert resp.body == b"ping\n"
        triggers = [ev for ev in deploy_triggers(daemon, world.site.name, bad_mark)]
        assert len(triggers) == (1 if d.expect == "deploy" else 0), (d.file, triggers)
    mark = daemon.log.mark()
    time.sleep(NO_DEPLOY_WAIT)
    assert not deploy_triggers(daemon, world.site.name, mark)


# -- forms --------------------------------------------------------------------


def form_of(body: bytes) -> bytes:
    return urllib.parse.urlencode({"payload": body.decode()}).encode()


FORM = "application/x-www-form-urlencoded"


def test_github_form_signs_the_form_bytes(th):
    world, daemon = start(th, "github", "master")
    body = form_of((FIXTURES / "github/push-1.json").read_bytes())
    expect_deploy(daemon, world, delivery_request("github", body, "push", content_type=FORM),
                  "github form")
    inner = (FIXTURES / "github/push-1.json").read_bytes()
    resp = send(daemon, world, delivery_request("github", body, "push", content_type=FORM,
                                                signed=inner))
    assert resp.status == 401


@pytest.mark.parametrize("provider", ["gitea", "forgejo"])
def test_gitea_form_signs_the_payload_field(th, provider):
    """Gitea's deliver.go signs the JSON it puts in the payload field."""
    world, daemon = start(th, provider, "master")
    inner = (FIXTURES / "gitea/push-2.json").read_bytes()
    body = form_of(inner)
    expect_deploy(daemon, world, delivery_request(provider, body, "push", content_type=FORM,
                                                  signed=inner), f"{provider} form")
    resp = send(daemon, world, delivery_request(provider, body, "push", content_type=FORM))
    assert resp.status == 401


@pytest.mark.parametrize("provider", ["gitlab", "bitbucket-cloud", "bitbucket-server"])
def test_json_only_providers_refuse_forms(th, provider):
    world, daemon = start(th, provider, "master")
    legacy = (FIXTURES / "bitbucket-cloud/legacy_post_service-1.form").read_bytes()
    mark = daemon.log.mark()
    resp = send(daemon, world, delivery_request(provider, legacy, "repo:push",
                                                content_type=FORM))
    assert resp.status == 415
    assert not deploy_triggers(daemon, world.site.name, mark)


# -- the provider is the config's, whatever the request claims ------------------


PROVIDERS = ["github", "gitea", "forgejo", "gitlab", "bitbucket-cloud", "bitbucket-server"]
# Senders whose deliveries legitimately carry another dialect's
# authentication: Gitea adds GitHub's headers, Forgejo adds Gitea's and
# GitHub's, and both Bitbuckets sign alike (those are then read with the
# site's own event names: another host's event is ignored, never deployed).
CARRIES = {"gitea": {"github"}, "forgejo": {"gitea", "github"},
           "bitbucket-cloud": {"bitbucket-server"}, "bitbucket-server": {"bitbucket-cloud"}}


@pytest.mark.parametrize("site_provider", PROVIDERS)
def test_other_hosts_headers_never_authenticate(th, site_provider):
    """A site gets correctly signed deliveries in every other host's
    dialect: none authenticates (401), except where the sender really does
    send the site's own headers, and nothing deploys."""
    # push-1 pushes master: even an authenticated delivery must not deploy "main"
    world, daemon = start(th, site_provider, "main")
    body = (FIXTURES / "github/push-1.json").read_bytes()
    mark = daemon.log.mark()
    for sender in PROVIDERS:
        if sender == site_provider:
            continue
        resp = send(daemon, world, delivery_request(sender, body, "push"))
        if site_provider in CARRIES.get(sender, ()):
            assert resp.status == 200, (sender, resp)
        else:
            assert resp.status == 401, (sender, resp)
    time.sleep(NO_DEPLOY_WAIT)
    assert not deploy_triggers(daemon, world.site.name, mark)


# -- rotation, legacy SHA-1, test deliveries, redeliveries ----------------------


def test_two_secrets_during_rotation(th):
    world = th.world(provider="gitlab", branch="master", secret=SECRET)
    second = world.base / "secret.next"
    second.write_bytes(b"the-next-token\n")
    second.chmod(0o600)
    world.write_config(world.config_text([f"secret-file = {second}"]))
    daemon = th.start(world)
    body = (FIXTURES / "gitlab/push-2.json").read_bytes()
    expect_deploy(daemon, world, delivery_request("gitlab", body, "Push Hook"), "old token")
    expect_deploy(daemon, world, delivery_request("gitlab", body, "Push Hook",
                                                  secret=b"the-next-token"), "new token")
    resp = send(daemon, world, delivery_request("gitlab", body, "Push Hook", secret=WRONG))
    assert resp.status == 401


def legacy_only(body: bytes, secret: bytes) -> bytes:
    """A GitHub-compatible sender with only the SHA-1 header."""
    request = delivery_request("github", body, "push", secret=None,
                               extra=[("X-Hub-Signature",
                                       "sha1=" + hex_hmac(secret, body, hashlib.sha1))])
    return request


def test_legacy_sha1_only_when_opted_in(th):
    body = (FIXTURES / "github/push-9.json").read_bytes()
    world, daemon = start(th, "github", "master")
    assert send(daemon, world, legacy_only(body, SECRET)).status == 401
    world2, daemon2 = start(th, "github", "master", ["legacy-sha1 = yes"])
    expect_deploy(daemon2, world2, legacy_only(body, SECRET), "legacy sha1")
    assert send(daemon2, world2, legacy_only(body, WRONG)).status == 401


def test_gitea_test_delivery_does_not_deploy(th):
    """What Gitea's "Test delivery" button sends: a push with before == after."""
    world, daemon = start(th, "gitea", "master")
    zero = "0" * 40
    body = (b'{"ref": "refs/heads/master", "before": "%s", "after": "%s", '
            b'"commits": [{"id": "%s", "message": "This is a fake commit for webhook push '
            b'test"}]}' % (zero.encode(), zero.encode(), zero.encode()))
    mark = daemon.log.mark()
    resp = send(daemon, world, delivery_request("gitea", body, "push"))
    assert resp.status == 200 and resp.body == b"test delivery ignored\n", resp
    time.sleep(NO_DEPLOY_WAIT)
    assert not deploy_triggers(daemon, world.site.name, mark)


@pytest.mark.parametrize("provider,file,event", [
    ("github", "github/push-1.json", "push"),
    ("gitlab", "gitlab/push-1.json", "Push Hook"),
    ("bitbucket-cloud", "bitbucket-cloud/repo_push-2.json", "repo:push"),
    ("bitbucket-server", "bitbucket-server/refs_changed-2.json", "repo:refs_changed"),
])
def test_redelivery_is_a_duplicate(th, provider, file, event):
    """The same delivery id and commit again: 200 duplicate, no second
    deploy.  A new id for the same commit (Gitea's replay) deploys."""
    world, daemon = start(th, provider, "master")
    body = (FIXTURES / file).read_bytes()
    delivery = str(uuid.uuid4())
    request = delivery_request(provider, body, event, delivery=delivery)
    expect_deploy(daemon, world, request, "first delivery")
    mark = daemon.log.mark()
    resp = send(daemon, world, request)
    assert resp.status == 200 and resp.body == b"duplicate delivery ignored\n", resp
    time.sleep(NO_DEPLOY_WAIT)
    assert not deploy_triggers(daemon, world.site.name, mark)
    expect_deploy(daemon, world, delivery_request(provider, body, event), "new delivery id")


# -- HTTP edge cases from real senders, in a non-GitHub dialect ------------------


def test_head_split_across_many_tls_records(th):
    world, daemon = start(th, "gitlab", "master")
    request = delivery_request("gitlab", (FIXTURES / "gitlab/push-1.json").read_bytes(),
                               "Push Hook")
    head, _, body = request.partition(b"\r\n\r\n")
    mark = daemon.log.mark()
    with thlib.TLSClient(daemon.port, world.cert) as client:
        for i in range(len(head)):
            client.send(head[i:i + 1])  # one TLS record per byte
        client.send(b"\r\n\r\n" + body)
        resp, _ = client.read_final()
    assert resp is not None and resp.status == 202, resp
    daemon.wait_event(START_WAIT, since=mark, role="deployer", event="deploy-start",
                      site=world.site.name)
    daemon.wait_deploy_end(world.site.name, since=mark)


def test_body_exactly_at_and_one_byte_over_the_cap(th):
    body = (FIXTURES / "bitbucket-cloud/repo_push-2.json").read_bytes()
    world = th.world(provider="bitbucket-cloud", branch="master", secret=SECRET,
                     max_body=len(body))
    daemon = th.start(world)
    expect_deploy(daemon, world, delivery_request("bitbucket-cloud", body, "repo:push"),
                  "body at the cap")
    over = body + b" "
    mark = daemon.log.mark()
    with thlib.TLSClient(daemon.port, world.cert) as client:
        request = delivery_request("bitbucket-cloud", over, "repo:push")
        client.send(request.partition(b"\r\n\r\n")[0] + b"\r\n\r\n")  # the head only
        resp, _ = client.read_final()
    assert resp is not None and resp.status == 413, resp
    assert not deploy_triggers(daemon, world.site.name, mark)


def test_signed_invalid_json_is_400(th):
    world, daemon = start(th, "bitbucket-server", "master")
    body = b'{"changes": [{"refId": "refs/heads/master", "toHash": "' + b"1" * 40 + b'"},]}'
    mark = daemon.log.mark()
    resp = send(daemon, world, delivery_request("bitbucket-server", body, "repo:refs_changed"))
    assert resp.status == 400, resp
    time.sleep(NO_DEPLOY_WAIT)
    assert not deploy_triggers(daemon, world.site.name, mark)
