"""`make install` into a DESTDIR: the tree it produces, the systemd units
(checked by systemd-analyze verify), the man pages (rendered with
warnings on), and an installed daemon that finds its receiver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import thlib

UNIT_MUST_HAVE = [
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ReadWritePaths=",
    "PrivateTmp=yes",
    "CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_SYS_CHROOT CAP_NET_BIND_SERVICE",
    "Restart=on-failure",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "KillMode=mixed",
]


@pytest.fixture(scope="module")
def installed():
    dest = thlib.make_base_dir("tailhook-install-")
    build = thlib.tailhook_bin().parent
    proc = subprocess.run(
        ["make", "--no-print-directory", "-C", str(thlib.REPO_ROOT), "install",
         f"DESTDIR={dest}", "PREFIX=/usr/local", f"BUILD={build}"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield dest
    thlib.remove_tree(dest)


def test_install_tree(installed):
    root = installed / "usr" / "local"
    for rel, mode in [("sbin/tailhook", 0o755),
                      ("libexec/tailhook/tailhook-receiver", 0o755),
                      ("share/man/man8/tailhook.8", 0o644),
                      ("share/man/man5/tailhook.conf.5", 0o644),
                      ("share/doc/tailhook/tailhook.conf.example", 0o644),
                      ("share/doc/tailhook/deployment.md", 0o644),
                      ("lib/systemd/system/tailhook.service", 0o644),
                      ("lib/systemd/system/tailhook.socket", 0o644)]:
        path = root / rel
        assert path.is_file(), f"{rel} was not installed"
        assert path.stat().st_mode & 0o777 == mode, f"{rel}: mode {path.stat().st_mode:o}"
    unit = (root / "lib/systemd/system/tailhook.service").read_text()
    assert "ExecStart=/usr/local/sbin/tailhook -f /etc/tailhook/tailhook.conf" in unit
    assert "@" not in unit.replace("$MAINPID", ""), "an unsubstituted @VAR@ is left"
    for line in UNIT_MUST_HAVE:
        assert line in unit, f"the unit lacks {line!r}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze missing (tests/deps.sh installs systemd)")
def test_systemd_analyze_verify_accepts_the_units(installed):
    root = installed / "usr" / "local"
    check = installed / "verify"
    check.mkdir()
    # verify wants the ExecStart binary to exist: point it into DESTDIR.
    for name in ("tailhook.service", "tailhook.socket"):
        text = (root / "lib/systemd/system" / name).read_text()
        (check / name).write_text(text.replace("/usr/local/sbin/", f"{root}/sbin/"))
    # ... and it looks up Documentation=man:... pages: the installed ones.
    env = dict(os.environ, MANPATH=str(root / "share/man"))
    proc = subprocess.run(["systemd-analyze", "verify", str(check / "tailhook.service"),
                           str(check / "tailhook.socket")],
                          capture_output=True, text=True, timeout=120, cwd=str(check), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines()
                  if "tailhook" in line]
    assert not complaints, "\n".join(complaints)


@pytest.mark.parametrize("page", ["tailhook.8", "tailhook.conf.5"])
def test_man_page_renders_without_warnings(installed, page):
    section = page.rsplit(".", 1)[1]
    path = installed / "usr/local/share/man" / f"man{section}" / page
    groff = subprocess.run(["groff", "-ww", "-z", "-mandoc", str(path)],
                           capture_output=True, text=True, timeout=60)
    assert groff.returncode == 0 and groff.stderr == "", groff.stderr
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    man = subprocess.run(["man", "--warnings", "-l", str(path)], capture_output=True,
                         text=True, timeout=60, env=env)
    assert man.returncode == 0 and man.stderr == "", man.stderr
    assert "tailhook" in man.stdout


def test_installed_daemon_finds_its_receiver(th, installed):
    world = th.world()
    binary = installed / "usr/local/sbin/tailhook"
    daemon = thlib.Daemon(world.config, world.log_path)
    th.daemons.append(daemon)
    thlib.note_log(th.node, world.site.name, daemon.log, daemon.start_mark)
    old = os.environ.get("TAILHOOK_BIN")
    os.environ["TAILHOOK_BIN"] = str(binary)
    try:
        daemon.spawn()
    finally:
        if old is None:
            del os.environ["TAILHOOK_BIN"]
        else:
            os.environ["TAILHOOK_BIN"] = old
    daemon.wait_ready()
    daemon.stop()
