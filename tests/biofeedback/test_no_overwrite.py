"""Nothing is overwritten or half-written without being asked (issue 14, item 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

from biofeedback.cli import main
from biofeedback.session_reader import SessionReader

ROOT = Path(__file__).resolve().parents[2]
DYAD = ROOT / "sample_data" / "dyad_session.session"
SOLO = ROOT / "sample_data" / "solo_paced.session"


def test_simulate_refuses_a_simulated_session_and_its_replayed_copy(tmp_path, capsys):
    sim = tmp_path / "sim.session"
    shutil.copyfile(SOLO, sim)  # metadata says it came from the simulator
    copy = tmp_path / "copy.session"
    assert main(["replay", str(SOLO), "--speed", "max", "--quiet", "--record", str(copy)]) == 0
    capsys.readouterr()
    for path in (sim, copy):
        before = path.read_bytes()
        assert main(["simulate", "--out", str(path), "--minutes", "1"]) == 2
        err = capsys.readouterr().err
        assert "file exists" in err and "--overwrite" in err and err.count("\n") == 1
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.session", "sim.session"]


def test_simulate_overwrite_replaces_only_at_the_end(tmp_path, capsys):
    path = tmp_path / "s.session"
    shutil.copyfile(SOLO, path)
    assert main(["simulate", "--out", str(path), "--minutes", "1", "--overwrite"]) == 0
    with SessionReader(path) as r:
        assert r.roles == ("therapist", "client") and r.duration_s < 61
    assert [p.name for p in tmp_path.iterdir()] == ["s.session"]  # no partial file left


def test_replay_record_refuses_an_existing_file(tmp_path, capsys):
    out = tmp_path / "out.session"
    out.write_text("keep me")
    argv = ["replay", str(SOLO), "--speed", "max", "--quiet", "--record", str(out)]
    assert main(argv) == 2
    assert "file exists" in capsys.readouterr().err
    assert out.read_text() == "keep me"


def test_export_rr_txt_checks_every_output_before_writing_any(tmp_path, capsys):
    out = tmp_path / "rr.txt"
    second = tmp_path / "rr_client.txt"
    second.write_text("keep me")
    assert main(["export", str(DYAD), "--format", "rr-txt", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(second) in err and "nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rr_client.txt"]
    assert second.read_text() == "keep me"
