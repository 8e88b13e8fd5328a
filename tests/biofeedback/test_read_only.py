"""Reading never writes: every read command leaves a session file, and anything beside it,
byte for byte as it was (issue 14, item 2; design.md, known traps).

Two situations a plain ``sqlite3.connect()`` gets wrong:

* a cleanly closed session with an unrelated ``-wal`` beside it: SQLite would replay that WAL
  into the input (once it shrank a 172 KB file to 74 KB);
* a session left by a killed writer (WAL mode, ``-wal`` and ``-shm`` beside it): its WAL must
  be read, but neither the file nor its WAL nor its shared-memory file may change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from biofeedback import gatt
from biofeedback.beats import Packet
from biofeedback.cli import main
from biofeedback.session_reader import SessionReader
from biofeedback.store import SessionWriter

ROOT = Path(__file__).resolve().parents[2]
SOLO = ROOT / "sample_data" / "solo_paced.session"


def _digests(folder: Path) -> dict[str, str]:
    """Checksums of every file in the folder except the session list's own cache."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != ".library-index.json"
    }


def _writer_leftovers(folder: Path, name: str, n_packets: int) -> Path:
    """The files a killed writer leaves: main file in WAL mode, -wal and -shm (copied while
    the writer is open, which is what SIGKILL leaves on disk)."""
    scratch = folder / "scratch"
    scratch.mkdir()
    live = scratch / "live.session"
    payload = gatt.encode(gatt.measurement(60, [1000.0]))
    w = SessionWriter(live, {"roles": ["solo"], "source": "ble"})
    for k in range(n_packets):
        w.write_packet(Packet(1.0 + k, "solo", payload, k))
    w.flush()
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(f"{live}{suffix}", f"{target}{suffix}")
    w.close()
    shutil.rmtree(scratch)
    return target


READ_COMMANDS = [
    ["analyze", "{f}"],
    ["analyze", "{f}", "--json"],
    ["replay", "{f}", "--speed", "max", "--quiet"],
    ["export", "{f}", "--format", "csv", "--out", "{out}/x.csv"],
    ["export", "{f}", "--format", "rr-txt", "--out", "{out}/x.txt"],
    ["report", "{f}", "--out", "{out}/r.html"],
    ["sessions", "--data-dir", "{dir}", "--json"],
]


@pytest.mark.parametrize("argv", READ_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_a_stray_wal_beside_a_closed_session_is_never_applied(tmp_path, capsys, argv):
    inputs = tmp_path / "in"
    inputs.mkdir()
    session = inputs / "session.session"
    shutil.copyfile(SOLO, session)
    other = _writer_leftovers(tmp_path, "other.session", 50)
    shutil.copyfile(f"{other}-wal", f"{session}-wal")  # unrelated WAL, valid frames
    before = _digests(inputs)
    outdir = tmp_path / "out"
    outdir.mkdir()
    args = [a.format(f=session, out=outdir, dir=inputs) for a in argv]
    assert main(args) == 0, capsys.readouterr().err
    assert _digests(inputs) == before  # no byte changed, no -shm created
    # And what was read is the session itself, not the stray WAL's pages.
    with SessionReader(session) as r:
        assert r.meta["source"] == "simulator"
        assert len(list(r.packets())) == 300


@pytest.mark.parametrize("argv", READ_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_a_killed_writers_file_is_read_with_its_wal_and_left_as_it_was(tmp_path, capsys, argv):
    inputs = tmp_path / "in"
    inputs.mkdir()
    session = _writer_leftovers(inputs, "killed.session", 120)
    assert {p.name for p in inputs.iterdir()} == {
        "killed.session",
        "killed.session-wal",
        "killed.session-shm",
    }
    before = _digests(inputs)
    outdir = tmp_path / "out"
    outdir.mkdir()
    args = [a.format(f=session, out=outdir, dir=inputs) for a in argv]
    assert main(args) == 0, capsys.readouterr().err
    assert _digests(inputs) == before
    with SessionReader(session) as r:
        assert [p.seq for p in r.packets()] == list(range(120))  # the WAL's rows are read
    assert _digests(inputs) == before


def test_analysis_of_a_session_with_a_stray_wal_equals_the_clean_one(tmp_path, capsys, caplog):
    clean = tmp_path / "clean.session"
    shutil.copyfile(SOLO, clean)
    assert main(["analyze", str(clean), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    other = _writer_leftovers(tmp_path, "other.session", 50)
    shutil.copyfile(f"{other}-wal", f"{clean}-wal")
    assert main(["analyze", str(clean), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["participants"] == expected["participants"]
    assert "ignoring clean.session-wal" in caplog.text


def test_a_read_only_file_in_a_read_only_folder_is_read(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    session = folder / "s.session"
    shutil.copyfile(SOLO, session)
    session.chmod(0o400)
    folder.chmod(0o500)
    try:
        assert main(["analyze", str(session), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["participants"]["solo"]["n_beats"] > 300
    finally:
        folder.chmod(0o700)
