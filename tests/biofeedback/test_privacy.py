"""Privacy: what the program writes is readable by the user alone, the folders it creates are
private (the parents of the sessions folder too), and reading commands open no network
socket (issue 14, item 7). The demo without ``--lsl`` is checked with the LSL tests."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
from pathlib import Path

import pytest

from biofeedback.cli import main
from biofeedback.paths import sessions_dir, user_data_dir

ROOT = Path(__file__).resolve().parents[2]
SOLO = ROOT / "sample_data" / "solo_paced.session"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def open_umask():
    """A umask that hides nothing: modes must come from the program, not the umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_sessions_folder_and_every_folder_created_above_it_are_private(tmp_path, open_umask):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    d = sessions_dir({"HOME": str(home)}, "linux")
    assert d == home / ".local" / "share" / "coregulation-monitor" / "sessions"
    for folder in (d, d.parent, d.parent.parent, d.parent.parent.parent):
        assert _mode(folder) == 0o700, folder
    assert _mode(home) == 0o755  # not ours: left alone


def test_an_existing_program_folder_is_made_private(tmp_path, open_umask):
    xdg = tmp_path / "xdg"
    app = user_data_dir({"XDG_DATA_HOME": str(xdg)}, "linux")
    (app / "sessions").mkdir(parents=True, mode=0o755)
    xdg.chmod(0o755)
    d = sessions_dir({"XDG_DATA_HOME": str(xdg)}, "linux")
    assert _mode(d) == 0o700 and _mode(app) == 0o700
    assert _mode(xdg) == 0o755  # the user's own XDG folder existed: left alone


@pytest.mark.slow
def test_every_file_the_commands_write_is_private(tmp_path, open_umask, capsys):
    sim = tmp_path / "new" / "folder" / "sim.session"
    assert main(["simulate", "--out", str(sim), "--minutes", "1", "--solo"]) == 0
    assert _mode(sim) == 0o600
    assert _mode(sim.parent) == 0o700 and _mode(sim.parent.parent) == 0o700
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    copy = out / "copy.session"
    assert main(["replay", str(SOLO), "--speed", "max", "--quiet", "--record", str(copy)]) == 0
    assert main(["export", str(sim), "--format", "csv", "--out", str(out / "b.csv")]) == 0
    assert main(["export", str(sim), "--format", "rr-txt", "--out", str(out / "rr.txt")]) == 0
    assert main(["report", str(sim), "--out", str(out / "report.html")]) == 0
    damaged = out / "cut.session"
    damaged.write_bytes(sim.read_bytes()[: sim.stat().st_size * 3 // 4])
    damaged.chmod(0o600)
    assert main(["recover", str(damaged), "--out", str(out / "rec.session")]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "b.csv",
        "copy.session",
        "cut.session",
        "rec.session",
        "report.html",
        "rr.txt",
    ]
    for p in out.iterdir():
        assert _mode(p) == 0o600, p
    capsys.readouterr()


class _InternetSockets:
    """Records internet sockets (IPv4/IPv6) created while active; local socket pairs (asyncio's
    self-pipe) are not network access."""

    installed = False
    active: list[tuple[int, int]] | None = None

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.active is not None and event == "socket.__new__":
            family = args[1]
            if family in (socket.AF_INET, socket.AF_INET6):
                cls.active.append((family, args[2]))


@pytest.fixture
def internet_sockets():
    if not _InternetSockets.installed:  # audit hooks cannot be removed: install one, gate it
        sys.addaudithook(_InternetSockets.hook)
        _InternetSockets.installed = True
    _InternetSockets.active = []
    try:
        yield _InternetSockets.active
    finally:
        _InternetSockets.active = None


def test_the_hook_sees_an_internet_socket(internet_sockets):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.close()
    assert internet_sockets == [(socket.AF_INET, socket.SOCK_DGRAM)]


def test_reading_commands_open_no_network_socket(tmp_path, internet_sockets, capsys, open_umask):
    session = tmp_path / "s.session"
    shutil.copyfile(SOLO, session)
    for argv in (
        ["replay", str(session), "--speed", "max", "--quiet"],
        ["replay", str(session), "--speed", "max", "--no-ui", "--duration", "5"],
        ["analyze", str(session), "--json"],
        ["report", str(session), "--out", str(tmp_path / "r.html")],
        ["sessions", "--data-dir", str(tmp_path), "--json"],
    ):
        assert main(argv) == 0, argv
        assert internet_sockets == [], argv
    capsys.readouterr()
    # The session list's cache of headline numbers is private too.
    assert _mode(tmp_path / ".library-index.json") == 0o600
