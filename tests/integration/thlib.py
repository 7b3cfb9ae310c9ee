"""Helpers for tailhook's integration tests.

Everything here drives real things: the daemon binary, openssl for the
certificate, git for a bare repository that plays GitHub, and a TLS client
built on Python's ssl module.  All traffic stays on 127.0.0.1.

Sections:
  * paths and users        - where the daemon is, which users to configure
  * log parsing             - the daemon's "tailhook[ROLE]: key=value" lines
  * World                   - a temp dir with cert, secret, repo and config
  * Daemon                  - start, wait for events, stop with SIGTERM
  * TLS client and HTTP     - one TLS connection, raw HTTP/1.x on top
  * webhooks                - GitHub-style payloads and signatures
  * request cases           - the folders in tests/cases
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = REPO_ROOT / "tests" / "cases"

IS_ROOT = os.geteuid() == 0

# Dedicated system users, created on first use when running as root.
RECEIVER_USER = "_tailhook-test"
SITE_USER = "tailhook-site-test"

START_TIMEOUT = 10.0  # seconds for event=listen and event=ready
STOP_TIMEOUT = 10.0  # seconds for the daemon to exit after SIGTERM
DEPLOY_TIMEOUT = 40.0  # seconds for a deploy to finish (build timeout is 30)
IO_TIMEOUT = 10.0  # seconds for one network read


# ---------------------------------------------------------------------------
# paths and users
# ---------------------------------------------------------------------------


def tailhook_bin() -> Path:
    """The daemon under test: $TAILHOOK_BIN, else build/tailhook."""
    return Path(os.environ.get("TAILHOOK_BIN", REPO_ROOT / "build" / "tailhook"))


def project_version() -> str:
    """VERSION from the Makefile (what `tailhook -V` must print)."""
    text = (REPO_ROOT / "Makefile").read_text()
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", text, re.M)
    assert m, "no VERSION in the Makefile"
    return m.group(1)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_test_users() -> tuple[str, str]:
    """Returns (receiver user, site user) for the config.

    As root these are dedicated system users, created if missing.  Not as
    root, both are the current user: the daemon ignores them with a warning.
    """
    if not IS_ROOT:
        me = pwd.getpwuid(os.getuid()).pw_name
        return me, me
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    for name in (RECEIVER_USER, SITE_USER):
        if _user_exists(name):
            continue
        proc = subprocess.run(
            [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True)
        # Another run may have created it in the meantime.
        if proc.returncode != 0 and not _user_exists(name):
            raise RuntimeError(f"useradd {name} failed: {proc.stderr.strip()}")
    return RECEIVER_USER, SITE_USER


def make_base_dir(prefix: str = "tailhook-it-") -> Path:
    """A fresh directory under /tmp, mode 0755.

    Not pytest's tmp_path: that is 0700, and as root the site user must be
    able to traverse every directory on the way to the repo and the target.
    """
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    base.chmod(0o755)
    return base


def remove_tree(path: Path) -> None:
    if os.environ.get("TAILHOOK_KEEP"):
        return
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------
# log parsing
# ---------------------------------------------------------------------------

_LINE_RE = re.compile(r"^tailhook\[(?P<role>[a-z]+)\]: (?P<rest>.*)$")
_KV_RE = re.compile(r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


@dataclasses.dataclass(frozen=True)
class Event:
    """One parsed log line: tailhook[role]: key=value ..."""

    index: int  # line number in the log, from 0
    role: str
    fields: dict
    raw: str

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)

    def matches(self, role: str | None, want: dict) -> bool:
        if role is not None and self.role != role:
            return False
        return all(self.fields.get(k) == v for k, v in want.items())


# Logs shown in a failing test's report: (label, Log, from line).
LOGS = pytest.StashKey[list]()


def note_log(node: pytest.Item, label: str, log: "Log", since: int = 0) -> None:
    """Shows `log` (from line `since`) in the report if the test fails."""
    node.stash.setdefault(LOGS, []).append((label, log, since))


def parse_log_line(index: int, line: str) -> Event | None:
    m = _LINE_RE.match(line)
    if not m:
        return None
    fields = {}
    for key, value in _KV_RE.findall(m.group("rest")):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        fields[key] = value
    return Event(index, m.group("role"), fields, line)


class Log:
    """The daemon's stderr, appended to a file by all of its processes."""

    def __init__(self, path: Path):
        self.path = path

    def lines(self) -> list[str]:
        """Complete lines so far (a partly written last line is left out)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        text = data.decode("utf-8", "replace")
        return text.split("\n")[:-1]

    def text(self) -> str:
        try:
            return self.path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self) -> int:
        """A position: events() and wait() with since=mark see later lines."""
        return len(self.lines())

    def tail(self, n: int = 60, since: int = 0) -> str:
        lines = self.lines()[since:]
        partial = self.text().split("\n")[-1]
        if partial:
            lines.append(partial + "  <no newline>")
        if len(lines) > n:
            lines = [f"... {len(lines) - n} earlier lines ..."] + lines[-n:]
        return "\n".join(lines)

    def events(self, since: int = 0, role: str | None = None, **want: str) -> list[Event]:
        """Parsed events at or after line `since` that match role and fields.

        Field names with a dash cannot be keywords; none of the contract's
        keys has one.
        """
        out = []
        for i, line in enumerate(self.lines()):
            if i < since:
                continue
            ev = parse_log_line(i, line)
            if ev is not None and ev.matches(role, want):
                out.append(ev)
        return out

    def wait(self, timeout: float, since: int = 0, role: str | None = None,
             alive: Callable[[], bool] | None = None, **want: str) -> Event:
        """The first matching event at or after `since`; AssertionError with
        the log tail if none comes within `timeout` seconds (or if `alive`
        says the process is gone)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(since, role, **want)
            if found:
                return found[0]
            if alive is not None and not alive():
                # One last look: the line may have been written just before exit.
                found = self.events(since, role, **want)
                if found:
                    return found[0]
                raise AssertionError(
                    f"the daemon exited while waiting for {_describe(role, want)}\n"
                    f"--- log {self.path}:\n{self.tail()}")
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no {_describe(role, want)} within {timeout:g}s\n"
                    f"--- log {self.path}:\n{self.tail()}")
            time.sleep(0.05)

    def wait_count(self, count: int, timeout: float, since: int = 0,
                   role: str | None = None, **want: str) -> list[Event]:
        """Waits until at least `count` matching events exist; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(since, role, **want)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{len(found)} of {count} {_describe(role, want)} within "
                    f"{timeout:g}s\n--- log {self.path}:\n{self.tail()}")
            time.sleep(0.05)


def _describe(role: str | None, want: dict) -> str:
    parts = [f"tailhook[{role}]"] if role else []
    parts += [f"{k}={v}" for k, v in want.items()]
    return "log line " + " ".join(parts)


def deploy_end_events(log: Log, site: str, since: int = 0) -> list[Event]:
    """deploy-done and deploy-failed events of a site, in log order."""
    return [ev for ev in log.events(since, role="deployer", site=site)
            if ev.get("event") in ("deploy-done", "deploy-failed")]


def deploys_idle(log: Log, site: str) -> bool:
    """True when every deploy-start of the site has ended and no trigger is
    queued after the last start (a deploy-queued line means one more start
    will follow)."""
    starts = log.events(role="deployer", event="deploy-start", site=site)
    ends = deploy_end_events(log, site)
    queued = log.events(role="deployer", event="deploy-queued", site=site)
    if len(starts) != len(ends):
        return False
    if queued and (not starts or queued[-1].index > starts[-1].index):
        return False
    return True


# ---------------------------------------------------------------------------
# World: everything one daemon needs, in one temp directory
# ---------------------------------------------------------------------------

BUILD_SH = """\
#!/bin/sh
# Build of the test site: runs in the checkout as the site user.
set -e
# Tell the test which commit is being built (best effort).
echo "$(cat stamp)" >>{signals}/builds 2>/dev/null || true
# A file SLOW holding a number of seconds slows the build down.
if [ -f SLOW ]; then sleep "$(cat SLOW)"; fi
rm -rf out
mkdir out
cp ./*.html stamp out/
"""

FAILING_BUILD_SH = """\
#!/bin/sh
echo "this build fails on purpose" >&2
exit 1
"""

DEFAULT_SECRET = b"it-secret with spaces, =signs and ;semicolons"


@dataclasses.dataclass
class SiteConfig:
    """The [site NAME] section of a World's config."""

    name: str = "site"
    path: str = "/hook"
    provider: str = "github"
    branch: str = "main"
    secret: bytes = DEFAULT_SECRET
    secret_newline: bool = True  # write one trailing newline (ignored by tailhook)
    max_body: int = 26214400
    timeout: int = 30
    build: str = "./build.sh"
    output: str = "out"


class World:
    """A temp dir holding a certificate, a secret, a bare repo with a small
    site, a checkout parent, a target parent and a config, laid out so that
    the daemon can deploy as root (with dedicated users) or as anyone.

    Layout of `base` (mode 0755):
      tls/cert.pem, tls/key.pem (0600)     self-signed ECDSA P-256, 127.0.0.1
      secret (0600)                        the site's secret
      empty/ (root, 0755)                  the receiver's chroot
      state/ (0700)                        state-dir
      remote.git/                          the bare repo that plays GitHub
      sites/                               parent of checkout/ and www/
      signals/ (1777)                      the build appends to signals/builds
      work/                                the test's own clone, to push from
      gitconfig                            git config of the test's git only
      tailhook.conf (0600), tailhook.log
    As root, remote.git/ and sites/ belong to the site user: git refuses to
    fetch from a repository owned by someone else ("dubious ownership"), and
    the daemon creates the checkout and the target under sites/ as that
    user.  The test's own git (root) trusts the repo through
    safe.directory=* in its private gitconfig (GIT_CONFIG_GLOBAL), never
    through the system config.
    """

    def __init__(self, base: Path, site: SiteConfig | None = None):
        self.base = base
        self.site = site or SiteConfig()
        self.receiver_user, self.site_user = ensure_test_users()
        self.cert = base / "tls" / "cert.pem"
        self.key = base / "tls" / "key.pem"
        self.secret_file = base / "secret"
        self.chroot = base / "empty"
        self.state = base / "state"
        self.remote = base / "remote.git"
        self.sites = base / "sites"
        self.checkout = self.sites / "checkout"
        self.target = self.sites / "www"
        self.signals = base / "signals"
        self.work = base / "work"
        self.config = base / "tailhook.conf"
        self.log_path = base / "tailhook.log"
        self._stamp = 0

        self._make_tls()
        self.write_secret(self.site.secret, newline=self.site.secret_newline)
        self.chroot.mkdir(mode=0o755)
        self.chroot.chmod(0o755)
        self.state.mkdir(mode=0o700)
        self.sites.mkdir(mode=0o755)
        self.signals.mkdir()
        self.signals.chmod(0o1777)
        self._make_repo()
        if IS_ROOT:
            site_pw = pwd.getpwnam(self.site_user)
            for top in (self.remote, self.sites):
                chown_tree(top, site_pw.pw_uid, site_pw.pw_gid)
        self.write_config()

    # -- files --------------------------------------------------------------

    def _make_tls(self) -> None:
        (self.base / "tls").mkdir(mode=0o755)
        run(["openssl", "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-days", "30", "-keyout", str(self.key), "-out", str(self.cert)])
        self.key.chmod(0o600)
        self.cert.chmod(0o644)

    def write_secret(self, secret: bytes, newline: bool = True, mode: int = 0o600) -> None:
        self.secret_file.write_bytes(secret + (b"\n" if newline else b""))
        self.secret_file.chmod(mode)

    def config_text(self, site_extra: Iterable[str] = ()) -> str:
        s = self.site
        lines = [
            "[server]",
            "listen = 127.0.0.1:0",
            f"certificate = {self.cert}",
            f"key = {self.key}",
            f"user = {self.receiver_user}",
            f"chroot = {self.chroot}",
            f"state-dir = {self.state}",
            "",
            f"[site {s.name}]",
            f"path = {s.path}",
            f"provider = {s.provider}",
            f"secret-file = {self.secret_file}",
            f"branch = {s.branch}",
            f"remote = {self.remote}",
            f"checkout = {self.checkout}",
            f"build = {s.build}",
            f"output = {s.output}",
            f"target = {self.target}",
            f"user = {self.site_user}",
            f"timeout = {s.timeout}",
            f"max-body = {s.max_body}",
            *site_extra,
        ]
        return "\n".join(lines) + "\n"

    def write_config(self, text: str | None = None, path: Path | None = None) -> Path:
        path = path or self.config
        path.write_text(text if text is not None else self.config_text())
        path.chmod(0o600)
        return path

    # -- git ----------------------------------------------------------------

    def git_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            HOME=str(self.base),
            GIT_CONFIG_GLOBAL=str(self.base / "gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="tailhook test", GIT_AUTHOR_EMAIL="test@example.invalid",
            GIT_COMMITTER_NAME="tailhook test", GIT_COMMITTER_EMAIL="test@example.invalid",
            GIT_TERMINAL_PROMPT="0",
        )
        return env

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return run(["git", *args], cwd=cwd or self.work, env=self.git_env()).strip()

    def _make_repo(self) -> None:
        (self.base / "gitconfig").write_text(
            "[safe]\n\tdirectory = *\n[init]\n\tdefaultBranch = main\n"
            "[advice]\n\tdetachedHead = false\n")
        branch = self.site.branch
        self.git("init", "--quiet", "--bare", str(self.remote), cwd=self.base)
        self.git("symbolic-ref", "HEAD", f"refs/heads/{branch}", cwd=self.remote)
        self.git("init", "--quiet", str(self.work), cwd=self.base)
        self.git("remote", "add", "origin", str(self.remote))
        self.git("checkout", "--quiet", "-b", branch)
        self.write_files({"build.sh": BUILD_SH.format(signals=self.signals),
                          ".gitignore": "/out/\n"})
        (self.work / "build.sh").chmod(0o755)
        self.commit("initial site")
        self.push()

    def write_files(self, files: dict) -> None:
        """Writes (str or bytes) or deletes (None) files in the work tree."""
        for name, content in files.items():
            path = self.work / name
            if content is None:
                if path.exists():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                content = content.encode()
            path.write_bytes(content)

    def commit(self, message: str, files: dict | None = None,
               executable: Iterable[str] = ()) -> str:
        """Commits a new revision of the site and returns its sha.

        Each commit gets a fresh `stamp` file and an index.html naming it, so
        every revision's content differs.  `files` adds, changes or (None)
        deletes further files.
        """
        self._stamp += 1
        stamp = f"{self._stamp} {uuid.uuid4()}"
        self.write_files({
            "stamp": stamp + "\n",
            "index.html": f"<!doctype html>\n<title>{message}</title>\n<p>{stamp}</p>\n",
        })
        self.write_files(files or {})
        for name in executable:
            (self.work / name).chmod(0o755)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, branch: str | None = None) -> str:
        """Pushes the work tree's HEAD to `branch` (default: the site's);
        returns the pushed sha."""
        branch = branch or self.site.branch
        self.git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}")
        return self.git("rev-parse", "HEAD")

    def file_at(self, sha: str, name: str) -> bytes:
        return run_bytes(["git", "show", f"{sha}:{name}"], cwd=self.work, env=self.git_env())

    # -- target -------------------------------------------------------------

    def target_file(self, name: str) -> bytes | None:
        path = self.target / name
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def target_snapshot(self) -> dict:
        """{relative path: bytes} of every file in the target (empty if none)."""
        snap = {}
        if not self.target.is_dir():
            return snap
        for path in sorted(self.target.rglob("*")):
            if path.is_file() and not path.is_symlink():
                snap[str(path.relative_to(self.target))] = path.read_bytes()
        return snap

    def builds_started(self) -> list[str]:
        """Stamps of the builds that have started, in order."""
        try:
            return (self.signals / "builds").read_text().splitlines()
        except FileNotFoundError:
            return []

    # -- daemon -------------------------------------------------------------

    def start(self, config: Path | None = None, wait: bool = True) -> "Daemon":
        daemon = Daemon(config or self.config, self.log_path)
        daemon.spawn()
        if wait:
            daemon.wait_ready()
        return daemon

    def cleanup(self) -> None:
        remove_tree(self.base)


def chown_tree(top: Path, uid: int, gid: int) -> None:
    os.chown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def run(argv: list[str], **kw) -> str:
    return run_bytes(argv, **kw).decode("utf-8", "replace")


def run_bytes(argv: list[str], cwd: Path | None = None, env: dict | None = None,
              timeout: float = 60) -> bytes:
    proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {proc.returncode}:\n"
            f"{proc.stderr.decode('utf-8', 'replace')}")
    return proc.stdout


# ---------------------------------------------------------------------------
# Daemon
# ---------------------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, str] | None:
    """(ppid, starttime) of a process, or None if it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may hold spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is the state (field 3); ppid is field 4, starttime field 22.
    return int(rest[1]), rest[19]


def descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, starttime) of every live descendant of pid."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _proc_stat(int(entry))
        if st is not None:
            children.setdefault(st[0], []).append((int(entry), st[1]))
    out: set[tuple[int, str]] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child[0])
    return out


def _still_running(procs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    alive = set()
    for pid, start in procs:
        st = _proc_stat(pid)
        if st is not None and st[1] == start:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if state != "Z":
                alive.add((pid, start))
    return alive


class Daemon:
    """One `tailhook -f CONFIG` process with stderr appended to a log file."""

    def __init__(self, config: Path, log_path: Path, args: Iterable[str] = ()):
        self.config = config
        self.log = Log(log_path)
        self.args = list(args)
        self.proc: subprocess.Popen | None = None
        self.start_mark = 0
        self.port: int | None = None
        self.exit_checked = False

    def spawn(self) -> None:
        binary = tailhook_bin()
        assert binary.exists(), (
            f"{binary} does not exist (build it with `make`, or set TAILHOOK_BIN)")
        self.start_mark = self.log.mark()
        with open(self.log.path, "ab") as logf:
            # The log is opened O_APPEND and shared by the daemon's
            # processes: each line is one write, so lines never mix.
            self.proc = subprocess.Popen(
                [str(binary), *self.args, "-f", str(self.config)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                cwd="/", start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Waits for event=listen (and parses the port) and event=ready."""
        deadline = time.monotonic() + timeout
        ev = self.log.wait(timeout, since=self.start_mark, role="deployer",
                           alive=self.alive, event="listen")
        addr = ev.get("addr", "")
        m = re.fullmatch(r"127\.0\.0\.1:(\d+)", addr)
        assert m, f"event=listen with addr={addr!r}, expected 127.0.0.1:PORT: {ev.raw}"
        self.port = int(m.group(1))
        assert self.port != 0, f"the daemon logged port 0: {ev.raw}"
        self.log.wait(max(0.1, deadline - time.monotonic()), since=self.start_mark,
                      role="receiver", alive=self.alive, event="ready")
        self.wait_catch_up()

    def wait_catch_up(self, timeout: float = DEPLOY_TIMEOUT) -> None:
        """Waits until the start-up catch-up has ended for every site (it
        deploys the branch tip when it is not live yet), so that a test's
        own deploys do not mix with it."""
        def settled() -> bool:
            starts = self.log.events(self.start_mark, role="deployer",
                                     event="catch-up-start")
            ends = self.log.events(self.start_mark, role="deployer", event="catch-up-end")
            return bool(starts) and len(ends) >= len(starts)
        deadline = time.monotonic() + timeout
        while not settled():
            if not self.alive():
                raise AssertionError(
                    f"the daemon exited during the start-up catch-up\n"
                    f"--- log {self.log.path}:\n{self.log.tail(since=self.start_mark)}")
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"the start-up catch-up did not end within {timeout:g}s\n"
                    f"--- log {self.log.path}:\n{self.log.tail(since=self.start_mark)}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float) -> int | None:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """SIGTERM; asserts exit status 0 within STOP_TIMEOUT and that every
        process the daemon had started is gone too."""
        assert self.proc is not None
        if self.exit_checked:
            return
        self.exit_checked = True
        if self.proc.poll() is not None:
            raise AssertionError(
                f"the daemon had already exited with status {self.proc.returncode}\n"
                f"--- log {self.log.path}:\n{self.log.tail(since=self.start_mark)}")
        family = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(STOP_TIMEOUT)
        if rc is None:
            self.kill()
            raise AssertionError(
                f"the daemon did not exit within {STOP_TIMEOUT:g}s of SIGTERM\n"
                f"--- log {self.log.path}:\n{self.log.tail(since=self.start_mark)}")
        deadline = time.monotonic() + 5
        left = _still_running(family)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = _still_running(left)
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert rc == 0, (
            f"the daemon exited with status {rc} after SIGTERM\n"
            f"--- log {self.log.path}:\n{self.log.tail(since=self.start_mark)}")
        assert not left, (
            f"processes of the daemon still ran 5s after it exited: "
            f"{sorted(p for p, _ in left)}\n--- log:\n{self.log.tail(since=self.start_mark)}")

    def kill(self) -> None:
        """Last resort, for cleanup: SIGKILL the daemon and its processes."""
        if self.proc is None:
            return
        family = descendants(self.proc.pid) if self.proc.poll() is None else set()
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            self.proc.wait(5)
        for pid, _ in _still_running(family):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.exit_checked = True

    # -- convenience ----------------------------------------------------------

    def wait_event(self, timeout: float, since: int | None = None, role: str | None = None,
                   **want: str) -> Event:
        return self.log.wait(timeout, since=self.start_mark if since is None else since,
                             role=role, alive=self.alive, **want)

    def wait_deploy_end(self, site: str, since: int, timeout: float = DEPLOY_TIMEOUT) -> Event:
        """The first deploy-done or deploy-failed of `site` at or after `since`."""
        deadline = time.monotonic() + timeout
        while True:
            ends = deploy_end_events(self.log, site, since)
            if ends:
                return ends[0]
            if not self.alive():
                raise AssertionError(
                    f"the daemon exited during a deploy of {site}\n"
                    f"--- log:\n{self.log.tail(since=self.start_mark)}")
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no deploy-done or deploy-failed for site={site} within {timeout:g}s\n"
                    f"--- log:\n{self.log.tail(since=self.start_mark)}")
            time.sleep(0.05)

    def wait_idle(self, site: str, timeout: float = DEPLOY_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if deploys_idle(self.log, site):
                return True
            time.sleep(0.05)
        return deploys_idle(self.log, site)

    def expect_exit(self, timeout: float) -> int:
        """For daemons that must refuse to start: their exit status."""
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill()
            raise AssertionError(
                f"the daemon was still running after {timeout:g}s\n"
                f"--- log:\n{self.log.tail(since=self.start_mark)}")
        self.exit_checked = True
        return rc

    def processes(self) -> set[int]:
        """Pids of the daemon and everything it has started."""
        assert self.proc is not None
        return {self.proc.pid} | {pid for pid, _ in descendants(self.proc.pid)}

    def assert_alive(self) -> None:
        assert self.alive(), (
            f"the daemon exited with status {self.proc.returncode if self.proc else None}\n"
            f"--- log:\n{self.log.tail(since=self.start_mark)}")


def wait_until(cond: Callable[[], object], timeout: float, what: str) -> object:
    """Polls cond() until it is true; AssertionError naming `what` if not."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


def run_tailhook(*args: str, timeout: float = 15) -> subprocess.CompletedProcess:
    """Runs `tailhook ARGS` to completion (for -n and -V)."""
    binary = tailhook_bin()
    assert binary.exists(), f"{binary} does not exist (build it with `make`)"
    return subprocess.run([str(binary), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------------
# TLS client and HTTP
# ---------------------------------------------------------------------------


class ProtocolError(AssertionError):
    """The server's bytes are not a well-formed HTTP/1.x response."""


@dataclasses.dataclass
class Response:
    version: str  # "HTTP/1.1"
    status: int
    reason: str
    headers: list  # [(lower-case name, value)]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def __str__(self) -> str:
        return f"{self.version} {self.status} {self.reason}"


class TLSClient:
    """One TLS connection to 127.0.0.1, driven through memory BIOs so that
    the client can send close_notify and still read what the server sends
    afterwards (a half-close), and can see exactly how the server closes."""

    def __init__(self, port: int, cafile: Path, host: str = "127.0.0.1",
                 timeout: float = IO_TIMEOUT, context: ssl.SSLContext | None = None):
        ctx = context or client_context(cafile)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        self.buf = b""  # decrypted, not yet consumed
        self.eof = False  # no more data will come from the server
        self.close_kind = ""  # "close_notify", "eof" (no close_notify) or "reset"
        try:
            self._handshake()
        except BaseException:
            self.sock.close()
            raise

    def __enter__(self) -> "TLSClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def version(self) -> str | None:
        return self.tls.version()

    def close(self) -> None:
        self.sock.close()

    # -- transport ------------------------------------------------------------

    def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _feed(self) -> bool:
        """Moves bytes from the socket into the TLS engine; False on EOF."""
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
            self.close_kind = self.close_kind or "reset"
        if not data:
            self.incoming.write_eof()
            return False
        self.incoming.write(data)
        return True

    def _handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._feed():
                    # Let the engine report what it makes of the EOF.
                    self.tls.do_handshake()
                    raise ConnectionError("the server closed during the handshake")

    def send(self, data: bytes) -> None:
        """Sends application data; a server that has already closed makes
        this a no-op (its answer, if any, is read afterwards)."""
        view = memoryview(data)
        try:
            while view:
                n = self.tls.write(view[:16384])
                view = view[n:]
                self._flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def half_close(self) -> None:
        """Sends close_notify and keeps reading possible."""
        try:
            self.tls.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        try:
            self._flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _read_more(self, deadline: float) -> bool:
        """Appends decrypted bytes to self.buf; False once the server is done."""
        if self.eof:
            return False
        while True:
            try:
                data = self.tls.read(65536)
            except ssl.SSLWantReadError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("timed out waiting for the server")
                self.sock.settimeout(remaining)
                try:
                    self._feed()
                except socket.timeout as exc:
                    raise TimeoutError("timed out waiting for the server") from exc
                continue
            except ssl.SSLZeroReturnError:
                self.eof = True
                self.close_kind = self.close_kind or "close_notify"
                return False
            except ssl.SSLEOFError:
                self.eof = True
                self.close_kind = self.close_kind or "eof"
                return False
            except ssl.SSLError as exc:
                # e.g. application data after our close_notify in some engines
                self.eof = True
                self.close_kind = self.close_kind or f"ssl error: {exc}"
                return False
            if not data:
                self.eof = True
                self.close_kind = self.close_kind or "eof"
                return False
            self.buf += data
            return True

    # -- HTTP -----------------------------------------------------------------

    def read_response(self, timeout: float | None = None) -> Response | None:
        """Reads one response; None if the server closed before sending a
        byte of it.  Raises TimeoutError or ProtocolError."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._read_more(deadline):
                if not self.buf:
                    return None
                raise ProtocolError(f"connection closed inside a response head: {self.buf!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"(HTTP/1\.[01]) (\d{3})(?: (.*))?", lines[0])
        if not m:
            raise ProtocolError(f"bad status line {lines[0]!r}")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"bad header line {line!r}")
            headers.append((name.lower(), value.strip()))
        resp = Response(m.group(1), int(m.group(2)), m.group(3) or "", headers, b"")
        resp.body = self._read_body(resp, deadline)
        return resp

    def _read_body(self, resp: Response, deadline: float) -> bytes:
        if 100 <= resp.status < 200 or resp.status in (204, 304):
            return b""
        te = resp.header("transfer-encoding")
        if te is not None:
            if te.lower() != "chunked":
                raise ProtocolError(f"unsupported Transfer-Encoding {te!r}")
            return self._read_chunked(deadline)
        lengths = [v for k, v in resp.headers if k == "content-length"]
        if lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit():
                raise ProtocolError(f"bad Content-Length {lengths!r}")
            return self._read_exact(int(lengths[0]), deadline)
        # No framing: the body runs to the end of the connection.
        while self._read_more(deadline):
            pass
        body, self.buf = self.buf, b""
        return body

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            if not self._read_more(deadline):
                raise ProtocolError(f"connection closed after {len(self.buf)} of {n} body bytes")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_line(self, deadline: float) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._read_more(deadline):
                raise ProtocolError("connection closed inside a chunked body")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_chunked(self, deadline: float) -> bytes:
        body = b""
        while True:
            size = int(self._read_line(deadline).split(b";")[0], 16)
            if size == 0:
                while self._read_line(deadline):
                    pass  # trailers
                return body
            body += self._read_exact(size, deadline)
            if self._read_line(deadline):
                raise ProtocolError("chunk not followed by CRLF")

    def read_final(self, timeout: float | None = None) -> tuple[Response | None, list[Response]]:
        """Reads up to the next final (non-1xx) response; returns it (None
        if the server closed) and the interim responses skipped on the way."""
        interims = []
        while True:
            resp = self.read_response(timeout)
            if resp is None or resp.status >= 200:
                return resp, interims
            interims.append(resp)

    def leftover(self, wait: float) -> bytes:
        """Whatever else the server sends within `wait` seconds (stops early
        when it closes)."""
        deadline = time.monotonic() + wait
        try:
            while self._read_more(deadline):
                pass
        except TimeoutError:
            pass
        data, self.buf = self.buf, b""
        return data


def client_context(cafile: Path) -> ssl.SSLContext:
    """What a webhook sender does: verify the chain and the IP address."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cafile))
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


# ---------------------------------------------------------------------------
# webhooks
# ---------------------------------------------------------------------------


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def push_payload(ref: str, after: str, before: str = "0" * 40,
                 deleted: bool = False) -> bytes:
    """A GitHub push event body, shaped like the real thing."""
    return json.dumps({
        "ref": ref,
        "before": before,
        "after": after,
        "created": False,
        "deleted": deleted,
        "forced": False,
        "repository": {"full_name": "example/site", "default_branch": "main"},
        "pusher": {"name": "tailhook-test"},
        "head_commit": {"id": after, "message": "test"},
    }).encode()


def build_request(path: str, body: bytes, *, secret: bytes | None, event: str = "push",
                  method: str = "POST", signature: str | None = None,
                  content_type: str = "application/json",
                  extra_headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """Raw HTTP/1.1 request bytes of a GitHub-style webhook delivery.

    The signature is computed from `secret` unless `signature` is given;
    secret=None and signature=None send no signature header at all.
    """
    headers = [
        ("Host", "127.0.0.1"),
        ("User-Agent", "GitHub-Hookshot/tailhook-test"),
        ("Content-Type", content_type),
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", str(uuid.uuid4())),
    ]
    if signature is None and secret is not None:
        signature = sign(secret, body)
    if signature is not None:
        headers.append(("X-Hub-Signature-256", signature))
    headers.append(("Content-Length", str(len(body))))
    headers.extend(extra_headers)
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("latin-1") + b"\r\n" + body


def delivery_of(request: bytes) -> str:
    m = re.search(rb"\r\nX-GitHub-Delivery: ([^\r]+)\r\n", request)
    return m.group(1).decode() if m else ""


def send_request(port: int, cafile: Path, request: bytes) -> tuple[Response, str | None]:
    """Sends one request over a fresh TLS connection; returns the final
    response and the negotiated TLS version."""
    with TLSClient(port, cafile) as client:
        client.send(request)
        resp, _ = client.read_final()
        assert resp is not None, "the server closed the connection without answering"
        return resp, client.version


def send_push(world: World, daemon: Daemon, sha: str, *, branch: str | None = None,
              secret: bytes | None = None, **kw) -> Response:
    """Signs and sends a push of `sha` to refs/heads/BRANCH (default: the
    site's branch) with the world's secret (or `secret`)."""
    body = push_payload(f"refs/heads/{branch or world.site.branch}", sha)
    request = build_request(world.site.path, body,
                            secret=world.site.secret if secret is None else secret, **kw)
    assert daemon.port is not None
    resp, _ = send_request(daemon.port, world.cert, request)
    return resp


# ---------------------------------------------------------------------------
# request cases (tests/cases/*)
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    name: str
    path: Path
    site: dict  # site.ini keys
    secret: bytes
    request: bytes
    body_after_interim: bytes | None
    interim: int | None
    statuses: list  # one set of acceptable outcomes per final response ("-" = close)
    deploy: str  # "yes", "no" or "any"
    half_close: bool
    needs: list


def parse_site_ini(text: str) -> dict:
    site = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"site.ini:{n}: not key = value: {line!r}")
        site[key.strip()] = value.strip()
    return site


def parse_expect(text: str) -> dict:
    """The `expect` file: interim N / status A|B / deploy yes|no|any /
    half-close / needs X."""
    out = {"interim": None, "statuses": [], "deploy": "any", "half_close": False,
           "needs": []}
    deploy_seen = False
    for n, raw in enumerate(text.splitlines(), 1):
        words = raw.split()
        if not words:
            continue
        word, args = words[0], words[1:]
        if word == "interim" and len(args) == 1 and re.fullmatch(r"1\d\d", args[0]):
            if out["interim"] is not None or out["statuses"]:
                raise ValueError(f"expect:{n}: interim must come once, before status")
            out["interim"] = int(args[0])
        elif word == "status" and len(args) == 1:
            alts = args[0].split("|")
            if not all(re.fullmatch(r"[1-5]\d\d|-", a) for a in alts):
                raise ValueError(f"expect:{n}: bad status {args[0]!r}")
            out["statuses"].append(frozenset(alts))
        elif word == "deploy" and len(args) == 1 and args[0] in ("yes", "no", "any"):
            if deploy_seen:
                raise ValueError(f"expect:{n}: deploy given twice")
            deploy_seen = True
            out["deploy"] = args[0]
        elif word == "half-close" and not args:
            out["half_close"] = True
        elif word == "needs" and len(args) == 1:
            out["needs"].append(args[0])
        else:
            raise ValueError(f"expect:{n}: cannot parse {raw!r}")
    if not out["statuses"]:
        raise ValueError("expect: no status line")
    return out


def load_case(path: Path) -> Case:
    expect = parse_expect((path / "expect").read_text())
    after = path / "body-after-interim"
    body_after = after.read_bytes() if after.exists() else None
    if body_after is not None and expect["interim"] is None:
        raise ValueError(f"{path.name}: body-after-interim without `interim` in expect")
    return Case(
        name=path.name,
        path=path,
        site=parse_site_ini((path / "site.ini").read_text()),
        secret=(path / "secret").read_bytes(),
        request=(path / "request.http").read_bytes(),
        body_after_interim=body_after,
        interim=expect["interim"],
        statuses=expect["statuses"],
        deploy=expect["deploy"],
        half_close=expect["half_close"],
        needs=expect["needs"],
    )


def case_dirs() -> list[Path]:
    return sorted(p for p in CASES_DIR.iterdir() if p.is_dir()) if CASES_DIR.is_dir() else []


def case_site_config(case: Case, name: str = "case") -> SiteConfig:
    known = {"provider", "branch", "max-body"}
    unknown = set(case.site) - known
    if unknown:
        raise ValueError(f"{case.name}: site.ini keys this harness does not know: {unknown}")
    cfg = SiteConfig(name=name, provider=case.site.get("provider", "github"),
                     branch=case.site.get("branch", "main"), secret=case.secret,
                     secret_newline=False)
    if "max-body" in case.site:
        cfg.max_body = int(case.site["max-body"])
    return cfg


def case_config_key(case: Case) -> tuple:
    """Cases with equal keys can share one daemon."""
    return tuple(sorted(case.site.items())), case.secret


@dataclasses.dataclass
class Exchange:
    """What happened on a case's connection."""

    interim: Response | None = None
    finals: list = dataclasses.field(default_factory=list)  # Response or None (closed)
    skipped_interims: list = dataclasses.field(default_factory=list)
    leftover: bytes = b""
    close_kind: str = ""
    version: str | None = None

    def describe(self) -> str:
        parts = []
        if self.interim is not None:
            parts.append(f"interim {self.interim.status}")
        for r in self.skipped_interims:
            parts.append(f"(unrequested interim {r.status})")
        for r in self.finals:
            parts.append("closed" if r is None else f"{r.status} {r.reason}")
        if self.leftover:
            parts.append(f"then {len(self.leftover)} unexpected bytes: {self.leftover[:200]!r}")
        if self.close_kind:
            parts.append(f"[connection end: {self.close_kind}]")
        return ", ".join(parts) or "nothing"


def run_case_exchange(case: Case, port: int, cafile: Path,
                      leftover_wait: float = 0.5) -> Exchange:
    """Plays a case over one TLS connection and checks its status lines.
    Raises AssertionError (with what happened so far) on a mismatch."""
    ex = Exchange()
    with TLSClient(port, cafile) as client:
        ex.version = client.version

        def fail(msg: str) -> None:
            ex.close_kind = client.close_kind
            raise AssertionError(f"{case.name}: {msg}; exchange so far: {ex.describe()}")

        client.send(case.request)
        if case.interim is not None:
            try:
                ex.interim = client.read_response()
            except TimeoutError:
                fail(f"no interim {case.interim} response within {IO_TIMEOUT:g}s")
            if ex.interim is None or ex.interim.status != case.interim:
                got = "a close" if ex.interim is None else str(ex.interim)
                fail(f"expected interim {case.interim} before sending the body, got {got}")
            if case.body_after_interim:
                client.send(case.body_after_interim)
        if case.half_close:
            client.half_close()

        for i, allowed in enumerate(case.statuses, 1):
            try:
                resp, skipped = client.read_final()
            except TimeoutError:
                fail(f"response {i}: nothing within {IO_TIMEOUT:g}s "
                     f"(expected {'|'.join(sorted(allowed))})")
            ex.skipped_interims += skipped
            ex.finals.append(resp)
            outcome = "-" if resp is None else str(resp.status)
            if outcome not in allowed:
                what = "the connection closed" if resp is None else f"got {resp}"
                fail(f"response {i}: expected {'|'.join(sorted(allowed))}, {what}")
        ex.leftover = client.leftover(leftover_wait)
        ex.close_kind = client.close_kind
        if ex.leftover:
            fail("the server sent more than the expected responses")
    return ex
