#!/usr/bin/python3
"""bench/bench.py - tailhook side by side with adnanh/webhook and
nginx + gunicorn + Flask, on 127.0.0.1, the same certificate, secret and
payload for all.  Run through `make bench` (bench/bench.sh), which installs
the peers and builds tailhook and bench/'s two helpers first.

Workloads (see docs/benchmarks.md for what each measures):
  1 signed push for the configured branch, keep-alive, 16 connections (wrk)
  2 signed push for another branch (ignored)
  3 bad signature (rejected)
  4 a new TLS connection per request, full and resumed (bench-client load)
  5 RSS of all of a tool's processes: idle and at the end of workload 1
  6 10,000 idle connections, silent and dribbling (bench-client hold), then
    one valid delivery timed with curl
  7 a 30 MB body with a bad signature
  8 push-to-live of the demo Jekyll site, split into its parts

Everything this script starts is stopped in `finally`, also on SIGINT,
SIGTERM and SIGHUP; every wait is bounded.  Only 127.0.0.1 is used.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PAYLOAD = os.path.join(TOP, "tests/fixtures/payloads/github/push-10.json")
DEMO_SITE = os.path.join(TOP, "tests/demo/site")
RX_USER = "_tailhook"
SITE_USER = "tailhook-demo"
BIG_BODY = 30 * 1024 * 1024
MAX_CONNECTIONS = 12000
STARTED = []  # every Tool started and not yet stopped, for cleanup


def log(msg):
    print("bench: " + msg, flush=True)


class BenchError(Exception):
    pass


# ---- processes and memory ------------------------------------------------


def proc_table():
    """{pid: (ppid, state, rss_kb)} for every process, zombies included."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
            rss = 0
            with open("/proc/%s/status" % name) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
                        break
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after it.
        rest = stat[stat.rfind(")") + 2:].split()
        table[int(name)] = (int(rest[1]), rest[0], rss)
    return table


def descendants(roots, table=None):
    """The live (non-zombie) processes of the trees rooted at roots."""
    table = proc_table() if table is None else table
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [p for p in roots if p in table]
    while todo:
        pid = todo.pop()
        if table[pid][1] != "Z":
            out.append(pid)
        todo.extend(children.get(pid, []))
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu(roots):
    """CPU seconds (user + system) used by the trees so far, the children
    they have reaped included ({command name: seconds} and the total)."""
    table = proc_table()
    by, total = {}, 0.0
    for p in descendants(roots, table):
        try:
            with open("/proc/%d/stat" % p) as f:
                stat = f.read()
            with open("/proc/%d/comm" % p) as f:
                name = f.read().strip()
        except OSError:
            continue
        f = stat[stat.rfind(")") + 2:].split()
        secs = sum(int(x) for x in f[11:15]) / CLK_TCK  # utime stime cutime cstime
        by[name] = by.get(name, 0.0) + secs
        total += secs
    return total, by


class CpuMeter:
    """CPU used by a tool's processes and by this script's children (the
    load generator) between enter and exit."""

    def __init__(self, tool):
        self.tool = tool

    def __enter__(self):
        self.t0 = time.monotonic()
        self.server0, self.by0 = tree_cpu(self.tool.roots())
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.client0 = ru.ru_utime + ru.ru_stime
        return self

    def stop(self):
        self.wall = time.monotonic() - self.t0
        server1, by1 = tree_cpu(self.tool.roots())
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.server = server1 - self.server0
        self.client = ru.ru_utime + ru.ru_stime - self.client0
        self.by_name = {k: v - self.by0.get(k, 0.0) for k, v in by1.items() if v - self.by0.get(k, 0.0) > 0.005}

    def __exit__(self, *exc):
        pass

    def record(self, rec, count):
        """Adds CPU per request (us) and the CPU shares to a result dict."""
        rec["cpu_server_s"] = self.server
        rec["cpu_client_s"] = self.client
        rec["cpu_wall_s"] = self.wall
        rec["cpu_by_name"] = self.by_name
        rec["cpu_us_per_req"] = self.server * 1e6 / count if count else None


def tree_pss(roots):
    """(sum of Pss, sum of RssAnon) in kB: what the tool's processes cost
    beyond the library pages they share with each other and the system."""
    pss = anon = 0
    for p in descendants(roots):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Pss_Anon:"):
                        anon += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return pss, anon


def tree_rss(roots):
    """(sum of VmRSS in kB, number of live processes) of the trees."""
    total, n, _ = tree_rss_by_name(roots)
    return total, n


def tree_rss_by_name(roots):
    """As tree_rss, plus {command name: [kB, processes]}."""
    table = proc_table()
    pids = descendants(roots, table)
    by = {}
    for p in pids:
        try:
            with open("/proc/%d/comm" % p) as f:
                name = f.read().strip()
        except OSError:
            continue
        e = by.setdefault(name, [0, 0])
        e[0] += table[p][2]
        e[1] += 1
    return sum(table[p][2] for p in pids), len(pids), by


class Sampler:
    """Samples a tool's total RSS every `interval` s in a thread."""

    def __init__(self, tool, interval):
        self.tool, self.interval = tool, interval
        self.peak = self.last = self.nprocs_peak = 0
        self.last_by_name = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss, n, self.last_by_name = tree_rss_by_name(self.tool.roots())
            self.last = rss
            self.peak = max(self.peak, rss)
            self.nprocs_peak = max(self.nprocs_peak, n)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def stop_tree(proc, sig, grace):
    """Sends sig to proc, waits up to grace s, then kills its whole tree."""
    if proc is None:
        return
    pids = descendants([proc.pid])
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            log("pid %d did not stop within %gs: killing its tree" % (proc.pid, grace))
    # Whatever is left of the tree (also children that outlived their
    # parent's clean exit): freeze it first so that nothing forks meanwhile.
    pids = set(pids) | set(descendants([proc.pid]))
    for s in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, s)
            except (ProcessLookupError, PermissionError):
                pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise BenchError("process %d exited (status %s) before listening" % (proc.pid, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError("nothing listens on port %d after %ds" % (port, timeout))


def run(cmd, timeout=120, check=True, **kw):
    return subprocess.run(cmd, check=check, timeout=timeout, **kw)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---- the shared material: certificate, secret, repositories, payloads ------


class Env:
    def __init__(self, args):
        self.args = args
        self.deliveries = 0
        self.root = os.geteuid() == 0
        self.t = tempfile.mkdtemp(prefix="tailhook-bench.")
        os.chmod(self.t, 0o755)
        self.bin = os.path.join(self.t, "bin")
        os.makedirs(self.bin)
        for exe in ("bench-mark", "bench-client"):
            shutil.copy(os.path.join(args.bench_bin, exe), self.bin)
        shutil.copy(os.path.join(HERE, "peers/deploy.sh"), self.bin)
        self.mark = os.path.join(self.bin, "bench-mark")
        self.client = os.path.join(self.bin, "bench-client")
        self.counts = os.path.join(self.t, "counts")
        os.makedirs(self.counts)
        os.chmod(self.counts, 0o1777)
        if self.root:
            self.rx_user, self.site_user = RX_USER, SITE_USER
            for u in (self.rx_user, self.site_user):
                try:
                    pwd.getpwnam(u)
                except KeyError:
                    run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", u])
                    log("created system user %s" % u)
        else:
            self.rx_user = self.site_user = pwd.getpwuid(os.geteuid()).pw_name
        self.site_uid = pwd.getpwnam(self.site_user).pw_uid
        self.make_tls()
        self.make_repos()
        self.make_payloads()

    def path(self, *parts):
        return os.path.join(self.t, *parts)

    def chown_site(self, path):
        if self.root:
            run(["chown", "-R", "%s:" % self.site_user, path])

    def make_tls(self):
        self.cert, self.key = self.path("cert.pem"), self.path("key.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-days", "2", "-keyout", self.key, "-out", self.cert],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(self.key, 0o600)
        os.chmod(self.cert, 0o644)
        self.secret = os.urandom(32).hex()
        self.secret_file = self.path("secret")
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, self.secret.encode())
        os.close(fd)

    def git(self, *args, cwd=None):
        env = dict(os.environ, HOME=self.t, GIT_CONFIG_GLOBAL=self.path("gitconfig"),
                   GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="tailhook bench",
                   GIT_AUTHOR_EMAIL="bench@example.invalid", GIT_COMMITTER_NAME="tailhook bench",
                   GIT_COMMITTER_EMAIL="bench@example.invalid", GIT_TERMINAL_PROMPT="0")
        out = run(["git"] + list(args), cwd=cwd, env=env, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, text=True)
        return out.stdout.strip()

    def make_repos(self):
        with open(self.path("gitconfig"), "w") as f:
            f.write("[safe]\n\tdirectory = *\n[init]\n\tdefaultBranch = main\n"
                    "[advice]\n\tdetachedHead = false\n")
        self.repos = {}
        # "fast": a prebuilt page (public/), whose build is bench-mark count.
        # "site": the demo's Jekyll site (tests/demo/site) for workload 8.
        for kind in ("fast", "site"):
            bare, work = self.path("remote-%s.git" % kind), self.path("work-%s" % kind)
            self.git("init", "--quiet", "--bare", bare)
            self.git("init", "--quiet", "-b", "main", work)
            if kind == "fast":
                os.makedirs(os.path.join(work, "public"))
                with open(os.path.join(work, "public/index.html"), "w") as f:
                    f.write("<p id=\"deploy-status\">bench 0</p>\n")
            else:
                shutil.copytree(DEMO_SITE, work, dirs_exist_ok=True)
                with open(os.path.join(work, ".gitignore"), "w") as f:
                    f.write("/_site/\n/.jekyll-cache/\n")
            self.git("add", "--all", cwd=work)
            self.git("commit", "--quiet", "-m", "bench: %s site" % kind, cwd=work)
            self.git("push", "--quiet", bare, "main", cwd=work)
            self.chown_site(bare)
            self.repos[kind] = (bare, work)
        self.fast_sha = self.git("rev-parse", "HEAD", cwd=self.repos["fast"][1])
        self.pushes = 0

    def push_change(self, kind):
        """Commits a visible change to the kind's page and pushes it; returns (sha, text)."""
        bare, work = self.repos[kind]
        self.pushes += 1
        text = "Deployed by the benchmark, push %d at %.6f." % (self.pushes, time.time())
        page = os.path.join(work, "public/index.html" if kind == "fast" else "index.md")
        with open(page) as f:
            old = f.read()
        new = re.sub(r'<p id="deploy-status">.*</p>', '<p id="deploy-status">%s</p>' % text, old, count=1)
        if new == old:
            raise BenchError("%s has no deploy-status line to change" % page)
        with open(page, "w") as f:
            f.write(new)
        self.git("commit", "--quiet", "-am", "bench push %d" % self.pushes, cwd=work)
        self.git("push", "--quiet", bare, "main", cwd=work)
        self.chown_site(bare)
        return self.git("rev-parse", "HEAD", cwd=work), text

    def make_payloads(self):
        with open(PAYLOAD, "rb") as f:
            template = f.read()
        self.bodies, self.sigs = {}, {}
        for name, ref in (("match", "refs/heads/main"), ("other", "refs/heads/other")):
            self.bodies[name] = self.payload(template, ref, self.fast_sha)
        self.bodies["bad"] = self.bodies["match"]
        for name, body in self.bodies.items():
            key = self.secret.encode() if name != "bad" else b"not the secret"
            self.sigs[name] = self.sign(body, key)
        self.body_files = {}
        for name, body in self.bodies.items():
            p = self.path("body-%s.json" % name)
            with open(p, "wb") as f:
                f.write(body)
            self.body_files[name] = p
        # Workload 7: 30 MB of JSON-looking bytes with a wrong signature.
        self.big_file = self.path("body-30mb.json")
        head = b'{"ref":"refs/heads/main","pad":"'
        with open(self.big_file, "wb") as f:
            f.write(head + b"a" * (BIG_BODY - len(head) - 2) + b'"}')
        self.big_sig = "sha256=" + "0" * 64

    @staticmethod
    def payload(template, ref, after):
        """The template with its top-level ref and after replaced, bytes otherwise kept."""
        orig = json.loads(template)
        out = template
        for key, value in (("ref", ref), ("after", after)):
            pat = re.compile(rb'("%s"\s*:\s*")[^"]*(")' % key.encode())
            out, n = pat.subn(lambda m, v=value: m.group(1) + v.encode() + m.group(2), out, count=1)
            if n != 1:
                raise BenchError("payload template has no %s" % key)
        new = json.loads(out)
        if new["ref"] != ref or new["after"] != after or new["repository"] != orig["repository"]:
            raise BenchError("payload template: top-level ref/after not where expected")
        return out

    def delivery_id(self):
        """A new X-GitHub-Delivery id: every delivery has its own."""
        self.deliveries += 1
        return "bench-%d-%d" % (os.getpid(), self.deliveries)

    def sign(self, body, key=None):
        key = self.secret.encode() if key is None else key
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def cleanup(self):
        shutil.rmtree(self.t, ignore_errors=True)


# ---- the tools -------------------------------------------------------------


def fill(template, **values):
    with open(os.path.join(HERE, "peers", template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    if re.search(r"@[A-Z0-9_]+@", text):
        raise BenchError("%s: unfilled %s" % (template, re.search(r"@[A-Z0-9_]+@", text).group(0)))
    return text


class Tool:
    name = label = ""
    path = "/hook"

    def __init__(self, env):
        self.env = env
        self.work = env.path(self.name)
        os.makedirs(self.work, exist_ok=True)
        self.count_file = os.path.join(env.counts, self.name)
        self.port = None
        self.mode = None
        self.proc = None

    def url(self):
        return "https://127.0.0.1:%d%s" % (self.port, self.path)

    def count(self):
        try:
            return os.path.getsize(self.count_file)
        except OSError:
            return 0

    def command(self, mode):
        """The argv the tool runs per accepted push."""
        if mode == "fast":
            return [self.env.mark, "count", self.count_file]
        bare = self.env.repos["site"][0]
        return [os.path.join(self.env.bin, "deploy.sh"), bare, self.work]

    def target(self, mode):
        return os.path.join(self.work, "www")

    def marks(self):
        return os.path.join(self.work, "marks")

    def prepare_site(self):
        """The classic setups deploy into a checkout cloned beforehand."""
        checkout = os.path.join(self.work, "checkout")
        if not os.path.isdir(checkout):
            self.env.git("clone", "--quiet", self.env.repos["site"][0], checkout)
            os.makedirs(os.path.join(self.work, "www"), exist_ok=True)

    def start(self, mode):
        self.mode = mode
        if mode != "fast":
            self.prepare_site()
        # A start that fails halfway stops what it had started.
        STARTED.append(self)
        try:
            self._start(mode)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        try:
            self._stop()
        finally:
            if self in STARTED:
                STARTED.remove(self)

    def quiesce(self, baseline, timeout=60):
        """Waits until the tool runs no more than its baseline processes."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if tree_rss(self.roots())[1] <= baseline and self.idle_extra():
                return True
            time.sleep(0.1)
        return False

    def idle_extra(self):
        return True

    def settle(self):
        time.sleep(1)

    def popen(self, cmd, logname, **kw):
        logf = open(os.path.join(self.work, logname), "ab")
        try:
            return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                    start_new_session=True, **kw)
        finally:
            logf.close()


class Tailhook(Tool):
    name, label = "tailhook", "tailhook"

    def __init__(self, env):
        super().__init__(env)
        self.proc = None
        self.reader = None
        os.makedirs(env.path("empty"), exist_ok=True)
        os.chmod(env.path("empty"), 0o755)
        state = env.path("state")
        os.makedirs(state, exist_ok=True)
        os.chmod(state, 0o700)
        self.log = os.path.join(self.work, "tailhook.log")

    def command(self, mode):
        if mode == "fast":
            return super().command(mode)
        return [self.env.mark, "run", self.marks(), "build"] + (
            ["jekyll", "build", "--source", ".", "--destination", "_site", "--disable-disk-cache", "--quiet"]
            if mode == "site" else ["/bin/true"])

    def site_dir(self, mode):
        """Holds the checkout and the target (the live symlink and the
        releases beside it): tailhook wants it owned by the site user."""
        d = os.path.join(self.work, mode)
        if not os.path.isdir(d):
            os.makedirs(d)
            os.chmod(d, 0o755)
            self.env.chown_site(d)
        return d

    def target(self, mode):
        return os.path.join(self.site_dir(mode), "www")

    def prepare_site(self):
        # tailhook clones and creates the target itself; the build's marks
        # file is written by the site user.
        fd = os.open(self.marks(), os.O_WRONLY | os.O_CREAT, 0o666)
        os.close(fd)
        os.chmod(self.marks(), 0o666)

    def settle(self):
        # At start tailhook catches up with the remote: wait for that deploy.
        self.quiesce(2, 60)
        time.sleep(0.5)

    def config(self, mode):
        e = self.env
        kind = "fast" if mode in ("fast", "static") else "site"
        build = " ".join(self.command(mode))
        return (
            "[server]\nlisten = 127.0.0.1:0\ncertificate = %s\nkey = %s\nuser = %s\nchroot = %s\n"
            "state-dir = %s\nmax-connections = %d\n\n"
            "[site %s]\npath = %s\nprovider = github\nsecret-file = %s\nbranch = main\n"
            "remote = %s\ncheckout = %s\nbuild = %s\noutput = %s\ntarget = %s\nuser = %s\ntimeout = 300\n"
            % (e.cert, e.key, e.rx_user, e.path("empty"), e.path("state"), MAX_CONNECTIONS, mode, self.path,
               e.secret_file, e.repos[kind][0], os.path.join(self.site_dir(mode), "checkout"), build,
               "public" if kind == "fast" else "_site", self.target(mode), e.site_user))

    def _start(self, mode):
        cfg = os.path.join(self.work, "tailhook-%s.conf" % mode)
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, self.config(mode).encode())
        os.close(fd)
        with open(self.log, "wb"):
            pass
        cmd = [os.path.join(self.env.args.build, "tailhook"), "-f", cfg]
        if mode == "fast":
            # Straight to a file: no reader competes with the tools for CPU.
            self.proc = self.popen(cmd, "tailhook.log")
        else:
            # Workload 8: every line stamped with CLOCK_MONOTONIC as it is read.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            self.reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
            self.reader.start()
        end = time.monotonic() + 15
        while time.monotonic() < end:
            text = self.log_text()
            m = re.search(r"event=listen addr=127\.0\.0\.1:(\d+)", text)
            if m and "tailhook[receiver]: level=info event=ready" in text:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise BenchError("tailhook did not become ready; its log:\n" + self.log_text()[-3000:])

    def _read(self, pipe):
        with open(self.log, "ab", buffering=0) as out:
            for line in pipe:
                out.write(b"%.6f " % time.monotonic() + line)

    def log_text(self, offset=0):
        with open(self.log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_size(self):
        return os.path.getsize(self.log)

    def roots(self):
        return [self.proc.pid] if self.proc else []

    def idle_extra(self):
        text = self.log_text()
        return text.count("event=deploy-start ") == text.count("event=deploy-done ") + text.count("event=deploy-failed ")

    def _stop(self):
        # tailhook lets a running deploy finish before it exits on SIGTERM.
        stop_tree(self.proc, signal.SIGTERM, 30)
        if self.reader:
            self.reader.join(5)
        self.proc = self.reader = None


class Webhook(Tool):
    name, label, path = "webhook", "webhook", "/hooks/deploy"

    def _start(self, mode):
        cmd = self.command(mode)
        hooks = os.path.join(self.work, "hooks.json")
        with open(hooks, "w") as f:
            f.write(fill("hooks.json", COMMAND=cmd[0], ARG1=cmd[1], ARG2=cmd[2], WORKDIR=self.work,
                         SECRET=self.env.secret))
        os.chmod(hooks, 0o600)
        self.port = free_port()
        self.proc = self.popen(["webhook", "-hooks", hooks, "-ip", "127.0.0.1", "-port", str(self.port),
                                "-secure", "-cert", self.env.cert, "-key", self.env.key], "webhook.log")
        wait_port(self.port, self.proc)

    def roots(self):
        return [self.proc.pid] if self.proc else []

    def _stop(self):
        stop_tree(self.proc, signal.SIGTERM, 10)
        self.proc = None


class NginxGunicorn(Tool):
    def __init__(self, env, workers, app):
        self.name = "nginx-g%d-%s" % (workers, app)
        self.label = "nginx+gunicorn(%d)+Flask%s" % (workers, "+HMAC" if app == "hmac" else "")
        self.workers, self.app = workers, app
        self.nginx = self.gunicorn = None
        super().__init__(env)

    def _start(self, mode):
        e = self.env
        shutil.copy(os.path.join(HERE, "peers/hookapp.py"), self.work)
        gport, self.port = free_port(), free_port()
        genv = dict(os.environ, HOOK_SECRET_FILE=e.secret_file, HOOK_COMMAND=json.dumps(self.command(mode)),
                    HOOK_REF="refs/heads/main", PYTHONDONTWRITEBYTECODE="1")
        self.gunicorn = self.popen(["/usr/bin/gunicorn", "--workers", str(self.workers), "--worker-class", "sync",
                                    "--bind", "127.0.0.1:%d" % gport, "--chdir", self.work,
                                    "hookapp:%s" % self.app], "gunicorn.log", env=genv, cwd=self.work)
        wait_port(gport, self.gunicorn)
        prefix = os.path.join(self.work, "nginx")
        os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(fill("nginx.conf", USER="user www-data;" if e.root else "", PREFIX=prefix,
                         PORT=str(self.port), UPSTREAM_PORT=str(gport), CERT=e.cert, KEY=e.key))
        self.nginx = self.popen(["nginx", "-p", prefix, "-c", conf], "nginx.log")
        wait_port(self.port, self.nginx)

    def roots(self):
        return [p.pid for p in (self.nginx, self.gunicorn) if p]

    def _stop(self):
        try:
            stop_tree(self.nginx, signal.SIGTERM, 10)
        finally:
            stop_tree(self.gunicorn, signal.SIGINT, 10)
        self.nginx = self.gunicorn = None


def make_tools(env, names):
    known = {"tailhook": lambda: Tailhook(env), "webhook": lambda: Webhook(env)}
    for w in (1, 4):
        for app in ("classic", "hmac"):
            known["nginx-g%d-%s" % (w, app)] = (lambda w=w, app=app: NginxGunicorn(env, w, app))
    tools = []
    for n in names:
        if n not in known:
            raise BenchError("unknown tool %s (known: %s)" % (n, ", ".join(known)))
        tools.append(known[n]())
    return tools


# ---- clients ---------------------------------------------------------------


def curl(env, tool, body_file, sig, timeout=30):
    """One delivery with curl: (status, seconds)."""
    out = run(["curl", "-sS", "--max-time", str(timeout), "--cacert", env.cert, "-o", "/dev/null",
               "-w", "%{http_code} %{time_total}", "-H", "Content-Type: application/json",
               "-H", "User-Agent: GitHub-Hookshot/bench", "-H", "X-GitHub-Event: push",
               "-H", "X-GitHub-Delivery: " + env.delivery_id(), "-H", "X-Hub-Signature-256: " + sig, "-H", "Expect:",
               "--data-binary", "@" + body_file, tool.url()],
              timeout=timeout + 10, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    parts = out.stdout.split()
    status = int(parts[0]) if parts and parts[0].isdigit() else 0
    secs = float(parts[1]) if len(parts) > 1 else None
    return status, secs, out.stderr.strip()


def wrk(env, tool, body, seconds, conns):
    env.deliveries += 1
    e = dict(os.environ, BENCH_BODY=env.body_files[body], BENCH_SIG=env.sigs[body], BENCH_PATH=tool.path,
             BENCH_RUN="%d-%d" % (os.getpid(), env.deliveries))
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--timeout", "5s",
           "-s", os.path.join(HERE, "wrk/push.lua"), "https://127.0.0.1:%d" % tool.port]
    out = run(cmd, env=e, timeout=seconds + 60, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            secs = r["duration_us"] / 1e6
            r["rps"] = r["requests"] / secs if secs else 0
            r["ok"] = r["requests"] - r["err_status"]
            return r
    raise BenchError("wrk printed no result:\n" + out.stdout + out.stderr)


def request_file(env, tool, body):
    """A whole HTTP request with Connection: close, for bench-client load."""
    data = env.bodies[body]
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: GitHub-Hookshot/bench\r\n"
            "Content-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: bench-client\r\n"
            "X-Hub-Signature-256: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (tool.path, tool.port, env.sigs[body], len(data)))
    p = os.path.join(tool.work, "request-%s.http" % body)
    with open(p, "wb") as f:
        f.write(head.encode() + data)
    return p


def client_load(env, tool, seconds, conns, mode):
    req = request_file(env, tool, "other")
    out = run([env.client, "load", str(tool.port), req, str(seconds), str(conns), mode],
              timeout=seconds + 60, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def deliver_timed(env, tool, body, sig):
    """Workload 8's delivery: the TLS connection first, then the request is
    timed from its first byte.  Returns (status, t_send)."""
    ctx = ssl.create_default_context(cafile=env.cert)
    conn = http.client.HTTPSConnection("127.0.0.1", tool.port, context=ctx, timeout=30)
    try:
        conn.connect()
        headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/bench",
                   "X-GitHub-Event": "push", "X-GitHub-Delivery": env.delivery_id(),
                   "X-Hub-Signature-256": sig}
        t_send = time.monotonic()
        conn.request("POST", tool.path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, t_send, time.monotonic()
    finally:
        conn.close()


# ---- the workloads -----------------------------------------------------------


def check_statuses(env, tool):
    out = {}
    for body in ("match", "other", "bad"):
        out[body] = curl(env, tool, env.body_files[body], env.sigs[body])[0]
    return out


def tailhook_deploy_counts(text):
    """What the deployer did with the receiver's deploy requests, from its log.

    A request starts a deploy when none runs (deploy-start) or becomes the
    one pending (deploy-queued, replacing an older pending one: coalesced);
    a worker's exit starts the pending one (another deploy-start).  None is
    lost if every 202 reached the deployer and the last pending one started.
    """
    n202 = len(re.findall(r"event=request .*status=202 ", text))
    n503 = len(re.findall(r"event=request .*status=503 ", text))
    received = starts = done = failed = 0
    pending = False
    for m in re.finditer(r"event=(deploy-start|deploy-queued|deploy-done|deploy-failed) ", text):
        ev = m.group(1)
        if ev == "deploy-queued":
            received += 1
            pending = True
        elif ev == "deploy-start":
            starts += 1
            if pending:
                pending = False  # the pending request, started by a worker's exit
            else:
                received += 1
        elif ev == "deploy-done":
            done += 1
        else:
            failed += 1
    return {"n202": n202, "n503": n503, "received": received, "deploys": starts, "done": done,
            "failed": failed, "pending_left": pending,
            "none_lost": n202 == received and not pending and failed == 0 and done == starts}


def block_throughput(env, tool, a, rec):
    """Workloads 1-5 on one fresh instance of the tool."""
    tool.start("fast")
    try:
        tool.settle()
        rec["rss_idle_kb"], base, rec["rss_idle_by_name"] = tree_rss_by_name(tool.roots())
        rec["pss_idle_kb"], rec["pss_anon_idle_kb"] = tree_pss(tool.roots())
        rec["status"] = check_statuses(env, tool)
        tool.quiesce(base)
        wrk(env, tool, "other", 1, a.conns)  # warm-up, not measured
        count0 = tool.count()
        off = tool.log_size() if isinstance(tool, Tailhook) else 0
        with CpuMeter(tool) as cpu, Sampler(tool, 0.25) as s:
            rec["w1"] = wrk(env, tool, "match", a.duration, a.conns)
            rec["rss_w1_end_kb"], rec["rss_w1_end_by_name"] = s.last, s.last_by_name
            rec["pss_w1_end_kb"], rec["pss_anon_w1_end_kb"] = tree_pss(tool.roots())
        rec["rss_w1_peak_kb"], rec["procs_w1_peak"] = s.peak, s.nprocs_peak
        rec["quiesced_w1"] = tool.quiesce(base, timeout=a.quiesce)
        # The deploys or commands the load caused count, also those that
        # ran after it stopped.
        cpu.stop()
        cpu.record(rec["w1"], rec["w1"]["requests"])
        rec["w1_commands_run"] = tool.count() - count0
        if isinstance(tool, Tailhook):
            rec["w1_deploys"] = tailhook_deploy_counts(tool.log_text(off))
        for key, body in (("w2", "other"), ("w3", "bad")):
            with CpuMeter(tool) as cpu:
                rec[key] = wrk(env, tool, body, a.duration, a.conns)
                cpu.stop()
            cpu.record(rec[key], rec[key]["requests"])
        for mode in ("full", "resume"):
            with CpuMeter(tool) as cpu:
                rec["w4_" + mode] = client_load(env, tool, a.duration, a.conns, mode)
                cpu.stop()
            cpu.record(rec["w4_" + mode], rec["w4_" + mode]["done"])
    finally:
        tool.stop()


def block_bigbody(env, tool, a, rec):
    """Workload 7 on a fresh instance."""
    tool.start("fast")
    try:
        tool.settle()
        idle, _ = tree_rss(tool.roots())
        with Sampler(tool, 0.01) as s:
            status, secs, err = curl(env, tool, env.big_file, env.big_sig, timeout=60)
            time.sleep(0.3)
        after, _ = tree_rss(tool.roots())
        rec["w7"] = {"status": status, "seconds": secs, "curl_error": err, "rss_idle_kb": idle,
                     "rss_peak_growth_kb": max(0, s.peak - idle), "rss_kept_kb": after - idle}
    finally:
        tool.stop()


def block_idle(env, tool, a, rec, variant):
    """Workload 6 on a fresh instance: hold N idle connections, deliver once."""
    tool.start("fast")
    client = None
    try:
        tool.settle()
        idle, _ = tree_rss(tool.roots())
        client = subprocess.Popen([env.client, "hold", str(tool.port), str(a.idle_conns), variant,
                                   str(a.idle_hold), str(a.idle_open)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
        opened = read_json_line(client, a.idle_open + 30)
        if opened is None:
            raise BenchError("bench-client hold did not report: " + client.stderr.read()[-2000:])
        rss_open, _ = tree_rss(tool.roots())
        deliveries = []
        for _ in range(3):
            status, secs, err = curl(env, tool, env.body_files["match"], env.sigs["match"], timeout=10)
            deliveries.append({"status": status, "seconds": secs, "error": err})
        done = read_json_line(client, a.idle_hold + 30)
        rss_done, _ = tree_rss(tool.roots())
        rec["w6_" + variant] = {"opened": opened, "done": done, "rss_idle_kb": idle, "rss_open_kb": rss_open,
                                "rss_done_kb": rss_done, "deliveries": deliveries,
                                "kb_per_conn": (rss_open - idle) / opened["peak_open"] if opened["peak_open"] else None}
    finally:
        if client is not None:
            stop_tree(client, signal.SIGTERM, 5)
        tool.stop()


def read_json_line(proc, timeout):
    """The next JSON line of proc's stdout, or None after timeout s."""
    result = []

    def reader():
        line = proc.stdout.readline()
        if line.startswith("{"):
            result.append(json.loads(line))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    return result[0] if result else None


def read_marks(path, since_ns):
    marks = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and int(parts[1]) >= since_ns:
                    marks[parts[0]] = int(parts[1]) / 1e9
    except OSError:
        pass
    return marks


def stamped(text, pattern):
    """The CLOCK_MONOTONIC stamp of the first stamped log line matching pattern."""
    for line in text.splitlines():
        ts, _, rest = line.partition(" ")
        if re.search(pattern, rest):
            try:
                return float(ts)
            except ValueError:
                return None
    return None


def wait_live(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if text in f.read():
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.001)
    return None


def block_push_to_live(env, tool, a, rec, warm):
    """Workload 8: one push of the demo site, from the signed request to the
    new page in the web root, with each part timed."""
    mode = a.site
    kind = "fast" if mode == "static" else "site"
    tool.start(mode)
    try:
        target = tool.target(mode)
        tool.settle()
        base = tree_rss(tool.roots())[1]
        with open(PAYLOAD, "rb") as f:
            template = f.read()
        if not warm:
            # The first deploy also clones and fills the caches: not measured.
            sha, text = env.push_change(kind)
            body = env.payload(template, "refs/heads/main", sha)
            deliver_timed(env, tool, body, env.sign(body))
            if wait_live(os.path.join(target, "index.html"), text, a.deploy_timeout) is None:
                raise BenchError("%s: warm-up deploy did not go live" % tool.name)
            tool.quiesce(base, 30)
            time.sleep(0.5)
        off = tool.log_size() if isinstance(tool, Tailhook) else 0
        sha, text = env.push_change(kind)
        body = env.payload(template, "refs/heads/main", sha)
        since = time.monotonic_ns()
        status, t_send, t_resp = deliver_timed(env, tool, body, env.sign(body))
        t_live = wait_live(os.path.join(target, "index.html"), text, a.deploy_timeout)
        tool.quiesce(base, 30)  # the last log lines and marks have landed
        marks = read_marks(tool.marks(), since)
        r = {"status": status, "response_s": t_resp - t_send, "live": t_live is not None}
        if isinstance(tool, Tailhook):
            log_text = tool.log_text(off)
            t_git = stamped(log_text, r"event=deploy-start ")
            r["t_request_logged"] = rel(stamped(log_text, r"event=request .*status=202 "), t_send)
            r["t_done_logged"] = rel(stamped(log_text, r"event=deploy-done "), t_send)
        else:
            t_git = marks.get("git")
        r.update({"git_start": rel(t_git, t_send), "build_start": rel(marks.get("build-start"), t_send),
                  "build_end": rel(marks.get("build-end"), t_send), "live": rel(t_live, t_send)})
        if None not in (r["git_start"], r["build_start"], r["build_end"], r["live"]):
            r["before_git"] = r["git_start"]
            r["git"] = r["build_start"] - r["git_start"]
            r["build"] = r["build_end"] - r["build_start"]
            r["after_build"] = r["live"] - r["build_end"]
            r["overhead"] = r["before_git"] + r["after_build"]
        rec["w8"] = r
    finally:
        tool.stop()


def rel(t, t0):
    return None if t is None else t - t0


# ---- the report ------------------------------------------------------------


SPIN = "import time\nt = time.process_time()\nx = 0\nfor i in range(6000000):\n    x += i\n"


def parallel_speedup():
    """How much faster two CPU-bound processes finish than one after the
    other: 2.0 on two real cores, less on shared or hyper-threaded ones."""
    def wall(n):
        t = time.monotonic()
        ps = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(n)]
        for p in ps:
            p.wait(120)
        return time.monotonic() - t
    one = wall(1)
    two = wall(2)
    return 2 * one / two if two else None


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        deb = "?"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(), "debian": deb,
            "speedup": parallel_speedup()}


def versions(a):
    v = {}
    for pkg in ("webhook", "nginx", "gunicorn", "python3-flask", "python3", "wrk", "openssl", "libssl3",
                "libbearssl0", "libevent-core-2.1-7", "jekyll", "git", "rsync", "curl"):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, check=False)
        v[pkg] = r.stdout.strip() or "not installed"
    r = subprocess.run([os.path.join(a.build, "tailhook"), "-V"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, check=False)
    v["tailhook"] = r.stdout.strip().splitlines()[0] if r.stdout.strip() else "?"
    r = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, check=False)
    v["tailhook_git"] = r.stdout.strip() or "?"
    return v


def get(rec, *keys):
    for k in keys:
        if not isinstance(rec, dict) or k not in rec or rec[k] is None:
            return None
        rec = rec[k]
    return rec


def med(results, tool, *keys):
    return median([get(r, *keys) for r in results[tool]])


def fmt(x, unit="", digits=0):
    if x is None:
        return "–"
    if isinstance(x, float) and digits == 0 and abs(x) < 10 and x != int(x):
        digits = 1
    return ("{:,.%df}" % digits).format(x) + unit


def mb(kb):
    return None if kb is None else kb / 1024


def ms(s):
    return None if s is None else s * 1000


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def report(a, tools, results, meta):
    names = [t.name for t in tools]
    labels = {t.name: t.label for t in tools}
    hdr = ["workload"] + [labels[n] for n in names]
    L = []
    w = L.append
    w("# Benchmarks")
    w("")
    w("Generated by `make bench` (bench/bench.sh → bench/bench.py) on %s, in %s. "
      "Do not edit by hand: the tables are rewritten by every run; the analysis at the end is "
      "bench/analysis.md." % (meta["date"], meta["elapsed"]))
    w("")
    w("%s (git %s) against adnanh/webhook and nginx → gunicorn → Flask, all on 127.0.0.1 with the "
      "same ECDSA P-256 certificate, the same secret and the same ~10 KB GitHub push payload "
      "(tests/fixtures/payloads/github/push-10.json, %d bytes with `ref` and `after` replaced). "
      "Medians of %d run(s); the tools are interleaved (each run starts each tool afresh, in a rotating "
      "order) so that drift on the shared machine hits all of them."
      % (meta["versions"]["tailhook"], meta["versions"]["tailhook_git"], meta["payload_bytes"], a.runs))
    w("")
    w("## Workloads 1–4: throughput and latency")
    w("")
    w("Workloads 1–3: wrk, %d keep-alive connections (2 threads), %d s per run, each request a new delivery "
      "(its own X-GitHub-Delivery id). Workload 4: bench-client, %d connections, each request on a new TLS "
      "connection (`Connection: close`), with the other-branch payload so that no deploy runs; *full* never "
      "offers a session, *resumed* offers the session its previous connection got (a TLS 1.2 session id "
      "or a TLS 1.3 ticket). The load generators run on the same %s cores as the servers, so requests/s "
      "is shared with them; *server CPU per request* is not: it is the CPU time (user + system) of all "
      "of the tool's processes divided by the requests answered, and for workload 1 it includes the "
      "deploys or commands the load caused, until the last of them ended."
      % (a.conns, a.duration, a.conns, meta["machine"]["cores"]))
    w("")
    rows = []
    for key, title in (("w1", "1. signed push, configured branch"), ("w2", "2. signed push, other branch (ignored)"),
                       ("w3", "3. bad signature (rejected)")):
        rows.append([title + ": requests/s"] + [fmt(med(results, n, key, "rps")) for n in names])
        rows.append(["   p50 / p99 latency"] + ["%s / %s" % (fmt(ms(div(med(results, n, key, "p50_us"), 1e6)), " ms", 2),
                                                    fmt(ms(div(med(results, n, key, "p99_us"), 1e6)), " ms", 2))
                                                   for n in names])
        rows.append(["   server CPU per request"] + [fmt(med(results, n, key, "cpu_us_per_req"), " µs") for n in names])
        rows.append(["   … by process (with the children it reaped)"] + [cpu_by_name_of(results, n, key) for n in names])
        rows.append(["   status (curl)"] + [status_of(results, n, key) for n in names])
    for key, title in (("w4_full", "4. new TLS connection per request, full handshake: conn/s"),
                       ("w4_resume", "4b. new TLS connection per request, resumed session offered: conn/s")):
        rows.append([title] + [fmt(med(results, n, key, "rate")) for n in names])
        rows.append(["   p50 / p99 latency"] + ["%s / %s" % (fmt(ms(div(med(results, n, key, "p50_us"), 1e6)), " ms", 1),
                                                    fmt(ms(div(med(results, n, key, "p99_us"), 1e6)), " ms", 1))
                                                   for n in names])
        rows.append(["   server CPU per connection"] + [fmt(med(results, n, key, "cpu_us_per_req"), " µs") for n in names])
        rows.append(["   resumed / done"] + ["%s / %s" % (fmt(med(results, n, key, "resumed")),
                                                          fmt(med(results, n, key, "done"))) for n in names])
    rows.append(["   TLS negotiated"] + [tls_of(results, n) for n in names])
    w(table(hdr, rows))
    w("")
    w("Workload 1, what became of the accepted pushes (medians): answered 2xx by the tool → commands "
      "(`bench-mark count`, a /bin/true that counts its runs) actually run after the load stopped.")
    w("")
    rows = [["2xx answers"] + [fmt(med(results, n, "w1", "ok")) for n in names],
            ["commands / builds run"] + [fmt(med(results, n, "w1_commands_run")) for n in names],
            ["processes at the peak"] + [fmt(med(results, n, "procs_w1_peak")) for n in names]]
    if "tailhook" in names:
        d = [get(r, "w1_deploys") for r in results["tailhook"]]
        rows.append(["tailhook: 202s → deploy requests received → deploys run (coalesced); none lost?"] +
                    ["; ".join("%d → %d → %d, %s" % (x["n202"], x["received"], x["deploys"],
                                                      "none lost" if x["none_lost"] else "LOST OR FAILED")
                               for x in d if x) if n == "tailhook" else "" for n in names])
    w(table(["workload 1"] + [labels[n] for n in names], rows))
    w("")
    w("## Workload 5: memory")
    w("")
    w("RSS is the sum of VmRSS (/proc/PID/status) over all of the tool's processes, children included, "
      "sampled every 250 ms; *end of workload 1* is the last sample before wrk stopped. VmRSS counts the "
      "pages of shared libraries (libc above all) once per process; PSS (/proc/PID/smaps_rollup) divides "
      "them among the processes that share them, system-wide, and is what the tool adds to the machine.")
    w("")
    rows = [["idle, after start"] + [fmt(mb(med(results, n, "rss_idle_kb")), " MB", 1) for n in names],
            ["end of workload 1"] + [fmt(mb(med(results, n, "rss_w1_end_kb")), " MB", 1) for n in names],
            ["peak during workload 1"] + [fmt(mb(med(results, n, "rss_w1_peak_kb")), " MB", 1) for n in names],
            ["PSS idle → end of workload 1"] + ["%s → %s" % (fmt(mb(med(results, n, "pss_idle_kb")), " MB", 1),
                                                             fmt(mb(med(results, n, "pss_w1_end_kb")), " MB", 1))
                                                  for n in names],
            ["of which anonymous (heap, stacks)"] + ["%s → %s" % (fmt(mb(med(results, n, "pss_anon_idle_kb")), " MB", 1),
                                                                  fmt(mb(med(results, n, "pss_anon_w1_end_kb")), " MB", 1))
                                                       for n in names],
            ["idle, by process (one run)"] + [by_name_of(results, n, "rss_idle") for n in names],
            ["end of workload 1, by process"] + [by_name_of(results, n, "rss_w1_end") for n in names]]
    w(table(hdr, rows))
    w("")
    if any(get(r, "w6_silent") or get(r, "w6_dribble") for n in names for r in results[n]):
        w6_names = [n for n in names if any(get(r, "w6_silent") for r in results[n])]
        w("## Workload 6: %s idle connections, then one valid delivery" % fmt(a.idle_conns))
        w("")
        w("`bench-client hold`: *silent* connections open TCP and never send a byte; *dribble* connections "
          "complete the TLS handshake and then send an HTTP request head that never ends, one byte every 5 s. "
          "With them open, one matching signed delivery is sent 3 times with curl (a new TLS connection "
          "each). Closed = closed by the server within %d s after all were open; lifetime = from open to "
          "the server's close. Connections are set up 256 at a time; where that takes longer than a "
          "server's deadline, the first are shed before the last are open, and *RSS growth per "
          "connection* (RSS with them open minus idle, over the most that were open at once) also "
          "counts memory the server kept from the ones it had already closed." % a.idle_hold)
        w("")
        rows = []
        for v in ("silent", "dribble"):
            rows.append(["%s: set up in" % v] + [fmt(div(med(results, n, "w6_" + v, "opened", "open_ms"), 1000), " s", 1)
                                                  for n in w6_names])
            rows.append(["   open when all were set up / shed already / failed"] +
                        ["%s / %s / %s" % (fmt(med(results, n, "w6_" + v, "opened", "open")),
                                           fmt(med(results, n, "w6_" + v, "opened", "closed_by_server")),
                                           fmt(med(results, n, "w6_" + v, "opened", "failed")))
                         for n in w6_names])
            rows.append(["   RSS idle → with them open → at the end"] +
                        ["%s → %s → %s" % (fmt(mb(med(results, n, "w6_" + v, "rss_idle_kb")), " MB", 1),
                                           fmt(mb(med(results, n, "w6_" + v, "rss_open_kb")), " MB", 1),
                                           fmt(mb(med(results, n, "w6_" + v, "rss_done_kb")), " MB", 1))
                         for n in w6_names])
            rows.append(["   RSS growth per connection (most open at once)"] + [fmt(med(results, n, "w6_" + v, "kb_per_conn"), " kB", 1)
                                                          for n in w6_names])
            rows.append(["   delivery: status, time (median of 3)"] + [delivery_of(results, n, v) for n in w6_names])
            rows.append(["   closed by the server after %d s" % a.idle_hold] +
                        [fmt(med(results, n, "w6_" + v, "done", "closed_by_server")) for n in w6_names])
            rows.append(["   lifetime of closed ones: min / median / max"] +
                        ["%s / %s / %s" % tuple(fmt(div(med(results, n, "w6_" + v, "done", k), 1000), " s", 1)
                                                for k in ("life_min_ms", "life_p50_ms", "life_max_ms"))
                         if med(results, n, "w6_" + v, "done", "closed_by_server") else "none closed"
                         for n in w6_names])
        w(table(["workload 6"] + [labels[n] for n in w6_names], rows))
        w("")
    w("## Workload 7: a 30 MB body with a bad signature")
    w("")
    w("One curl upload of %d bytes with `X-Hub-Signature-256: sha256=000…`, RSS sampled every 10 ms." % BIG_BODY)
    w("")
    rows = [["status"] + [",".join(sorted(set(str(get(r, "w7", "status")) for r in results[n]))) for n in names],
            ["time to answer"] + [fmt(ms(med(results, n, "w7", "seconds")), " ms") for n in names],
            ["peak RSS growth"] + [fmt(mb(med(results, n, "w7", "rss_peak_growth_kb")), " MB", 1) for n in names],
            ["RSS kept afterwards"] + [fmt(mb(med(results, n, "w7", "rss_kept_kb")), " MB", 1) for n in names]]
    w(table(hdr, rows))
    w("")
    w("## Workload 8: push-to-live of the demo Jekyll site")
    w("")
    w("A new commit of tests/demo/site is pushed to a local bare repository; the TLS connection is opened, "
      "then the signed push is sent and timed from its first byte until the new text is in the web root's "
      "index.html (polled every 1 ms). The peers run bench/peers/deploy.sh (the same steps: git fetch, "
      "reset, clean, jekyll build, then rsync in place into the web root); tailhook publishes with its "
      "default `publish = symlink` (rsync into a new release directory, then a symlink switch). tailhook's times come from its own log lines (event=request, "
      "event=deploy-start), stamped as they are read from a pipe; the build's start and end from "
      "`bench-mark run` around jekyll. One unmeasured deploy per tool first (clone, caches).")
    w("")
    rows = []
    for k, title in (("response_s", "response"), ("before_git", "request → git starts"), ("git", "git fetch/reset/clean"),
                     ("build", "build (jekyll)"), ("after_build", "build end → live (publish)"), ("live", "total: request → live"),
                     ("overhead", "overhead (request → git, build end → live)")):
        rows.append([title] + [fmt(ms(med(results, n, "w8", k)), " ms", 1) for n in names])
    w(table(hdr, rows))
    w("")
    w(targets_section(a, names, labels, results))
    w("")
    err = errors_section(names, labels, results)
    if err:
        w(err)
    w("## Machine and versions")
    w("")
    m, v = meta["machine"], meta["versions"]
    w("- machine: %s, %s cores, %s RAM, Linux %s, Debian %s; clients and servers on the same machine. "
      "At the end of the run two CPU-bound processes ran %s× as fast as one (2.0 on two idle independent "
      "cores; the cores of this machine are shared with other tenants, and runs of this check have ranged "
      "from 1.2× to 2.0×)." % (m["cpu"], m["cores"], m["memory"], m["kernel"], m["debian"],
                               fmt(m.get("speedup"), "", 2)))
    w("- tailhook: %s (git %s), BearSSL %s, libevent %s" % (v["tailhook"], v["tailhook_git"], v["libbearssl0"],
                                                           v["libevent-core-2.1-7"]))
    w("- webhook %s; nginx %s; gunicorn %s; python3-flask %s; python3 %s" % (
        v["webhook"], v["nginx"], v["gunicorn"], v["python3-flask"], v["python3"]))
    w("- wrk %s; OpenSSL %s (bench-client, curl); curl %s; jekyll %s; git %s; rsync %s" % (
        v["wrk"], v["libssl3"], v["curl"], v["jekyll"], v["git"], v["rsync"]))
    w("")
    w("## Exact commands")
    w("")
    w("```sh")
    w("make bench   # = sh bench/bench.sh deps: apt-get install webhook nginx gunicorn python3-flask wrk jekyll ...")
    w("             #     (no service is started); make all bench-build; then sh bench/bench.sh run build:")
    w("bench/bench.py --build build --runs %d --duration %d --conns %d --idle-conns %d --idle-hold %d"
      % (a.runs, a.duration, a.conns, a.idle_conns, a.idle_hold))
    w("")
    w("# each tool (PORT picked free; PATH /hook, webhook /hooks/deploy):")
    w("build/tailhook -f tailhook.conf   # listen 127.0.0.1:0, max-connections = %d, site build =" % MAX_CONNECTIONS)
    w("                                        #   bench-mark count FILE (workload 8: bench-mark run ... jekyll build)")
    w("webhook -hooks bench/peers/hooks.json -ip 127.0.0.1 -port PORT -secure -cert cert.pem -key key.pem")
    w("gunicorn --workers 1|4 --worker-class sync --bind 127.0.0.1:UPORT hookapp:classic|hmac  # bench/peers/hookapp.py")
    w("nginx -p PREFIX -c bench/peers/nginx.conf   # TLS on PORT, proxy_pass to UPORT")
    w("")
    w("# workloads 1-3 (BODY = matching / other-branch payload; SIG = its HMAC, or a wrong one):")
    w("BENCH_BODY=BODY BENCH_SIG=SIG BENCH_PATH=PATH wrk -t2 -c%d -d%ds --timeout 5s -s bench/wrk/push.lua https://127.0.0.1:PORT"
      % (a.conns, a.duration))
    w("# workload 4 (other-branch payload, Connection: close):")
    w("bench-client load PORT request.http %d %d full|resume" % (a.duration, a.conns))
    w("# workload 6:")
    w("bench-client hold PORT %d silent|dribble %d %d   # then 3x curl the matching payload"
      % (a.idle_conns, a.idle_hold, a.idle_open))
    w("# workload 7:")
    w("curl -sS --cacert cert.pem -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \\")
    w("     -H 'X-Hub-Signature-256: sha256=000...' --data-binary @30mb.json https://127.0.0.1:PORT/PATH")
    w("```")
    w("")
    notes = os.path.join(HERE, "analysis.md")
    if os.path.exists(notes) and not a.smoke:
        with open(notes) as f:
            w(f.read().rstrip())
            w("")
    return "\n".join(L) + "\n"


def by_name_of(results, n, key):
    """The per-process RSS of the run whose total is the median one."""
    runs = [r for r in results[n] if get(r, key + "_kb") is not None and get(r, key + "_by_name")]
    if not runs:
        return "–"
    runs.sort(key=lambda r: r[key + "_kb"])
    by = runs[len(runs) // 2][key + "_by_name"]
    return "<br>".join("%s%s %s" % (display(name), " ×%d" % c if c > 1 else "", fmt(mb(kb), " MB", 1))
                       for name, (kb, c) in sorted(by.items(), key=lambda x: -x[1][0]))


def cpu_by_name_of(results, n, key):
    """Server CPU per request by command name, medians over the runs (top 3)."""
    per = {}
    for r in results[n]:
        x = get(r, key)
        count = x and (x.get("requests") or x.get("done"))
        if not x or not count or not x.get("cpu_by_name"):
            continue
        for name, secs in x["cpu_by_name"].items():
            per.setdefault(name, []).append(secs * 1e6 / count)
    top = sorted(((median(v), k) for k, v in per.items()), reverse=True)[:3]
    return "<br>".join("%s %s" % (display(k), fmt(v, " µs")) for v, k in top if v >= 1) or "–"


def display(comm):
    """/proc/PID/comm keeps 15 characters."""
    return {"tailhook-receiv": "tailhook-receiver"}.get(comm, comm)


def errors_section(names, labels, results):
    rows = [[labels[n], "run %d: %s" % (i + 1, e)] for n in names for i, r in enumerate(results[n])
            for e in r.get("errors", [])]
    if not rows:
        return ""
    return "## Failures in this run\n\n" + table(["tool", "what failed"], rows) + "\n"


def div(x, d):
    return None if x is None else x / d


def status_of(results, n, key):
    body = {"w1": "match", "w2": "other", "w3": "bad"}[key]
    return ",".join(sorted(set(str(get(r, "status", body)) for r in results[n] if get(r, "status", body))))


def tls_of(results, n):
    for r in results[n]:
        x = get(r, "w4_full")
        if x:
            return "%s %s %s" % (x.get("tls_version"), x.get("group"), x.get("cipher"))
    return "–"


def delivery_of(results, n, v):
    ds = [d for r in results[n] for d in (get(r, "w6_" + v, "deliveries") or [])]
    if not ds:
        return "–"
    statuses = ",".join(sorted(set(str(d["status"]) for d in ds)))
    return "%s, %s" % (statuses, fmt(ms(median([d["seconds"] for d in ds])), " ms", 1))


def targets_section(a, names, labels, results):
    L = ["## Targets (issue 7), measured in this run", ""]
    rows = []
    th = "tailhook"
    if th not in names:
        return "\n".join(L + ["(tailhook was not part of this run)"])
    peers_fast = [n for n in names if n.startswith("nginx")]

    def verdict(ok):
        return "met" if ok else "**missed**"

    for key, title in (("w1", "1"), ("w2", "2"), ("w3", "3")):
        t = med(results, th, key, "rps")
        for peer, want in (("webhook", 10),) + tuple((p, 20) for p in peers_fast):
            if peer not in names:
                continue
            r = ratio(t, med(results, peer, key, "rps"))
            rows.append(["workload %s: requests/s ≥ %d× %s" % (title, want, labels[peer]),
                         fmt(r, "×", 1), verdict(r is not None and r >= want) +
                         ("" if r is None or r >= want else " (by %s×)" % fmt(want / r, "", 1))])
        p99 = med(results, th, key, "p99_us")
        others = [med(results, p, key, "p99_us") for p in names if p != th]
        others = [o for o in others if o is not None]
        if p99 is not None and others:
            rows.append(["workload %s: p99 below every peer's" % title, "%s ms vs best peer %s ms"
                         % (fmt(p99 / 1000, "", 2), fmt(min(others) / 1000, "", 2)), verdict(p99 < min(others))])
    d = [get(r, "w1_deploys") for r in results[th]]
    d = [x for x in d if x]
    if d:
        rows.append(["workload 1: every 202 leads to a deploy of it or a newer one",
                     "%d of %d runs" % (sum(1 for x in d if x["none_lost"]), len(d)),
                     verdict(all(x["none_lost"] for x in d))])
    idle = mb(med(results, th, "rss_idle_kb"))
    end = mb(med(results, th, "rss_w1_end_kb"))
    rows.append(["RSS idle ≤ 4 MB", fmt(idle, " MB", 1), verdict(idle is not None and idle <= 4) +
                 ("" if idle is None or idle <= 4 else " (by %s MB)" % fmt(idle - 4, "", 1))])
    rows.append(["RSS end of workload 1 ≤ 8 MB", fmt(end, " MB", 1), verdict(end is not None and end <= 8) +
                 ("" if end is None or end <= 8 else " (by %s MB)" % fmt(end - 8, "", 1))])
    t4 = med(results, th, "w4_full", "rate")
    for peer, want in (("webhook", 3),) + tuple((p, 1) for p in peers_fast):
        if peer in names:
            r = ratio(t4, med(results, peer, "w4_full", "rate"))
            rows.append(["workload 4: new connections/s ≥ %d× %s" % (want, labels[peer]), fmt(r, "×", 2),
                         verdict(r is not None and r >= want)])
    t4r = med(results, th, "w4_resume", "rate")
    best = max([med(results, p, "w4_resume", "rate") or 0 for p in names if p != th] or [0])
    if best:
        rows.append(["workload 4, resumed sessions (no target): new connections/s vs the best peer",
                     fmt(ratio(t4r, best), "×", 2), "–"])
    tr = med(results, th, "w4_resume", "resumed")
    rows.append(["workload 4: resumed handshakes (session cache)", "%s resumed" % fmt(tr),
                 verdict(tr is not None and tr > 0)])
    for v in ("silent", "dribble"):
        o = med(results, th, "w6_" + v, "rss_open_kb")
        i = med(results, th, "w6_" + v, "rss_idle_kb")
        if o is None:
            continue
        cost = mb(o - i)
        if v == "silent":
            rows.append(["workload 6: %s silent connections cost ≤ 40 MB" % fmt(a.idle_conns), fmt(cost, " MB", 1),
                         verdict(cost <= 40 * a.idle_conns / 10000) +
                         ("" if cost <= 40 else " (by %s MB)" % fmt(cost - 40, "", 1))])
        else:
            rows.append(["workload 6 (dribble, no target): memory per connection that finished its handshake",
                         fmt(med(results, th, "w6_" + v, "kb_per_conn"), " kB", 1), "–"])
        ds = [d for r in results[th] for d in (get(r, "w6_" + v, "deliveries") or [])]
        t = median([d["seconds"] for d in ds])
        ok = ds and all(d["status"] == 202 for d in ds) and t is not None and t < 0.1
        rows.append(["workload 6 (%s): the delivery answers 202 in < 100 ms" % v,
                     delivery_of(results, th, v), verdict(ok)])
        closed = med(results, th, "w6_" + v, "done", "closed_by_server")
        opened = median([get(r, "w6_" + v, "opened", "open") + get(r, "w6_" + v, "opened", "closed_by_server")
                         for r in results[th] if get(r, "w6_" + v, "opened")])
        rows.append(["workload 6 (%s): shed by their deadline" % v, "%s of %s closed, median lifetime %s" % (
            fmt(closed), fmt(opened), fmt(div(med(results, th, "w6_" + v, "done", "life_p50_ms"), 1000), " s", 1)),
            verdict(closed is not None and opened is not None and closed >= opened)])
    st = set(get(r, "w7", "status") for r in results[th])
    g = mb(med(results, th, "w7", "rss_peak_growth_kb"))
    rows.append(["workload 7: 413 before the body is read, no RSS growth",
                 "%s, +%s" % (",".join(str(s) for s in st), fmt(g, " MB", 1)),
                 verdict(st == {413} and g is not None and g < 1)])
    o = ms(med(results, th, "w8", "overhead"))
    rows.append(["workload 8: tailhook's own overhead < 50 ms", fmt(o, " ms", 1),
                 verdict(o is not None and o < 50) + ("" if o is None or o < 50 else " (by %s ms)" % fmt(o - 50, "", 1))])
    L.append(table(["target", "measured", "verdict"], rows))
    return "\n".join(L)


# ---- main ------------------------------------------------------------------


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True, help="tailhook's build directory (tailhook, tailhook-receiver)")
    p.add_argument("--bench-bin", help="where bench-client and bench-mark are (default BUILD/bench)")
    p.add_argument("--out", default=os.path.join(TOP, "docs/benchmarks.md"))
    p.add_argument("--json", help="raw results (default BUILD/bench/results.json)")
    p.add_argument("--tools", default="tailhook,webhook,nginx-g1-classic,nginx-g1-hmac,nginx-g4-classic,nginx-g4-hmac")
    p.add_argument("--idle-tools", default="tailhook,webhook,nginx-g4-hmac",
                   help="tools for workload 6 (nginx holds the idle connections whatever the app behind it)")
    p.add_argument("--workloads", default="1,4,6,7,8", help="blocks: 1 (1-5), 6, 7, 8")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--idle-runs", type=int, default=1)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--idle-conns", type=int, default=10000)
    p.add_argument("--idle-hold", type=int, default=30)
    p.add_argument("--idle-open", type=int, default=120, help="seconds allowed to open the idle connections")
    p.add_argument("--quiesce", type=int, default=60)
    p.add_argument("--site", choices=("site", "static"), default="site",
                   help="workload 8: the demo Jekyll site, or a prebuilt page (no jekyll)")
    p.add_argument("--deploy-timeout", type=int, default=120)
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs) for a look")
    p.add_argument("--from-json", help="only write the report again from the raw results of an earlier run "
                   "(e.g. after editing bench/analysis.md)")
    p.add_argument("--smoke", action="store_true",
                   help="tailhook only, 1 s each, small numbers, no jekyll; checks the answers; ~15 s")
    a = p.parse_args()
    if a.smoke:
        a.tools, a.idle_tools, a.runs, a.idle_runs, a.duration = "tailhook", "tailhook", 1, 1, 1
        a.idle_conns, a.idle_hold, a.idle_open, a.quiesce, a.site, a.deploy_timeout = 200, 1, 10, 20, "static", 30
    a.bench_bin = a.bench_bin or os.path.join(a.build, "bench")
    a.json = a.json or os.path.join(a.build, "bench", "results%s.json" % ("-smoke" if a.smoke else ""))
    a.build = os.path.abspath(a.build)
    return a


def guarded(block, env, tool, a, rec, *more):
    """Runs one block; a failure is recorded and the benchmark goes on."""
    try:
        block(env, tool, a, rec, *more)
        return True
    except (BenchError, subprocess.SubprocessError, OSError, ValueError, KeyError) as e:
        msg = "%s: %s: %s" % (block.__name__, type(e).__name__, e)
        log("%s FAILED: %s" % (tool.name, msg))
        rec.setdefault("errors", []).append(msg)
        return False


def on_signal(sig, frame):
    raise SystemExit(128 + sig)


def smoke_check(results):
    r = results["tailhook"][0]
    problems = []
    if get(r, "status") != {"match": 202, "other": 200, "bad": 401}:
        problems.append("statuses %s" % get(r, "status"))
    for k in ("w1", "w2", "w3"):
        if not get(r, k, "requests"):
            problems.append("%s: no requests" % k)
    if get(r, "w3", "err_status") != get(r, "w3", "requests"):
        problems.append("w3: not every answer was an error status")
    if not get(r, "w1_deploys", "none_lost"):
        problems.append("w1: deploys %s" % get(r, "w1_deploys"))
    for k in ("w4_full", "w4_resume"):
        if not get(r, k, "done"):
            problems.append("%s: nothing done" % k)
    for v in ("silent", "dribble"):
        if not get(r, "w6_" + v, "opened", "open"):
            problems.append("w6 %s: nothing opened" % v)
        if any(d["status"] != 202 for d in get(r, "w6_" + v, "deliveries") or [{"status": 0}]):
            problems.append("w6 %s: deliveries %s" % (v, get(r, "w6_" + v, "deliveries")))
    if get(r, "w7", "status") != 413:
        problems.append("w7: %s" % get(r, "w7"))
    if get(r, "w8", "overhead") is None:
        problems.append("w8: %s" % get(r, "w8"))
    return problems


class Named:
    """Stands for a Tool when the report is written from saved results."""

    def __init__(self, name, label):
        self.name, self.label = name, label


def rerender(a):
    with open(a.from_json) as f:
        saved = json.load(f)
    old = argparse.Namespace(**saved["args"])
    old.smoke = a.smoke
    tools = [Named(n, saved["labels"][n]) for n in saved["order"]]
    with open(a.out, "w") as f:
        f.write(report(old, tools, saved["results"], saved["meta"]))
    log("wrote %s from %s" % (a.out, a.from_json))
    return 0


def main():
    a = parse_args()
    if a.from_json:
        return rerender(a)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(a.idle_conns * 2 + 1000, 32768)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    t_begin = time.monotonic()
    env = None
    try:
        env = Env(a)
        tools = make_tools(env, a.tools.split(","))
        by_name = {t.name: t for t in tools}
        idle_tools = [by_name[n] for n in a.idle_tools.split(",") if n in by_name]
        results = {t.name: [{} for _ in range(a.runs)] for t in tools}
        blocks = a.workloads.split(",")
        log("work directory %s; tools: %s" % (env.t, ", ".join(t.name for t in tools)))
        for r in range(a.runs):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            if "7" in blocks:
                for t in order:
                    log("run %d/%d: workload 7 on %s" % (r + 1, a.runs, t.name))
                    guarded(block_bigbody, env, t, a, results[t.name][r])
            if "1" in blocks or "4" in blocks:
                for t in order:
                    log("run %d/%d: workloads 1-5 on %s" % (r + 1, a.runs, t.name))
                    guarded(block_throughput, env, t, a, results[t.name][r])
        if "6" in blocks:
            for r in range(a.idle_runs):
                for v in ("silent", "dribble"):
                    for t in idle_tools:
                        log("run %d/%d: workload 6 (%s, %d connections) on %s"
                            % (r + 1, a.idle_runs, v, a.idle_conns, t.name))
                        guarded(block_idle, env, t, a, results[t.name][r], v)
        if "8" in blocks:
            warm = set()
            for r in range(a.runs):
                order = tools[r % len(tools):] + tools[:r % len(tools)]
                for t in order:
                    log("run %d/%d: workload 8 on %s" % (r + 1, a.runs, t.name))
                    if guarded(block_push_to_live, env, t, a, results[t.name][r], t.name in warm):
                        warm.add(t.name)
        elapsed = time.monotonic() - t_begin
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "elapsed": "%d min %d s" % (elapsed // 60, elapsed % 60),
                "machine": machine(), "versions": versions(a), "payload_bytes": len(env.bodies["match"])}
        os.makedirs(os.path.dirname(a.json), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "args": vars(a), "results": results, "order": [t.name for t in tools],
                       "labels": {t.name: t.label for t in tools}}, f, indent=1)
        text = report(a, tools, results, meta)
        with open(a.out, "w") as f:
            f.write(text)
        log("wrote %s and %s in %s" % (a.out, a.json, meta["elapsed"]))
        if a.smoke:
            problems = smoke_check(results)
            for p in problems:
                log("smoke: FAILED: " + p)
            if problems:
                return 1
            log("smoke: OK")
        return 0
    except BenchError as e:
        log("FAILED: %s" % e)
        return 1
    finally:
        for t in list(STARTED):
            log("stopping %s" % t.name)
            try:
                t.stop()
            except Exception as e:  # keep stopping the others
                log("stopping %s: %s" % (t.name, e))
        if env is not None and not a.keep:
            env.cleanup()


if __name__ == "__main__":
    sys.exit(main())
