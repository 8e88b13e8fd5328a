"""``export``: beats as recorded, in formats other tools and our own reader take back."""

from __future__ import annotations

import csv

import pytest

from biofeedback.cli import main
from biofeedback.rrfiles import read_rr_file
from biofeedback.sources.replay import session_beats

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def test_csv_holds_every_beat_unchanged(tmp_path, capsys):
    out = tmp_path / "beats.csv"
    assert main(["export", str(DYAD), "--format", "csv", "--out", str(out)]) == 0
    beats = session_beats(DYAD)
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(len(b) for b in beats.values())
    for role, bl in beats.items():
        mine = [r for r in rows if r["role"] == role]
        assert [float(r["rr_ms"]) for r in mine] == pytest.approx([b.rr_ms for b in bl], abs=1e-6)
        assert [float(r["time_s"]) for r in mine] == pytest.approx([b.t_s for b in bl], abs=1e-6)
    # The client's strap dropped out once: exactly one beat follows a gap.
    assert sum(r["after_gap"] == "1" for r in rows if r["role"] == "client") == 1
    # The simulated ectopic beats are marked, and their values are left as recorded.
    assert any(r["artifact"] == "ectopic" for r in rows)
    assert (out.stat().st_mode & 0o777) == 0o600


def test_rr_txt_per_role_reads_back(tmp_path, capsys):
    out = tmp_path / "rr.txt"
    assert main(["export", str(DYAD), "--format", "rr-txt", "--out", str(out)]) == 0
    beats = session_beats(DYAD)
    for role in ("therapist", "client"):
        got = read_rr_file(tmp_path / f"rr_{role}.txt").rr_ms
        assert got.tolist() == [b.rr_ms for b in beats[role]]  # exact: 1/1024 s steps
    single = tmp_path / "client.txt"
    assert (
        main(["export", str(DYAD), "--format", "rr-txt", "--out", str(single), "--role", "client"])
        == 0
    )
    assert read_rr_file(single).rr_ms.size == len(beats["client"])


def test_export_never_overwrites_and_names_bad_roles(tmp_path, capsys):
    out = tmp_path / "x.csv"
    out.write_text("keep me")
    assert main(["export", str(DYAD), "--format", "csv", "--out", str(out)]) == 2
    assert out.read_text() == "keep me"
    assert "file exists" in capsys.readouterr().err
    assert (
        main(
            [
                "export",
                str(DYAD),
                "--format",
                "csv",
                "--out",
                str(tmp_path / "y.csv"),
                "--role",
                "solo",
            ]
        )
        == 2
    )
    assert "no participant 'solo'" in capsys.readouterr().err
