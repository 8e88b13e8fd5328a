"""``analyze`` and breathing: shared breathing found in the beats, slow breathing rates.

Issue 12 items 4 and 5, on RR files written from the simulator (its ground truth is the
breathing of each person; nothing couples the two people's heart rates).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from biofeedback import simulate
from biofeedback.cli import main

MINUTES = 10


def _write_rr(path: Path, sim: simulate.Simulation, role: str) -> str:
    b = sim.true_beats[role]
    np.savetxt(path, b.rr_ms[b.delivered], fmt="%.1f")
    return str(path)


@pytest.fixture(scope="module")
def paced_pair(tmp_path_factory) -> tuple[str, str]:
    """Two people breathing to one 6/min rhythm for 10 minutes, with no coupling at all."""
    dur = MINUTES * 60.0
    cfg = simulate.SimulationConfig(
        people=(
            simulate.PersonConfig("therapist", mean_hr_bpm=68.0),
            simulate.PersonConfig("client", mean_hr_bpm=78.0),
        ),
        duration_s=dur,
        seed=3,
        pacing=(simulate.PacedSegment(0.0, dur, 6.0),),
    )
    sim = simulate.simulate_session(cfg)
    d = tmp_path_factory.mktemp("paced")
    return _write_rr(d / "t.txt", sim, "therapist"), _write_rr(d / "c.txt", sim, "client")


def _solo_rr(tmp_path: Path, breathing_bpm: float, seed: int) -> str:
    cfg = simulate.SimulationConfig(
        people=(
            simulate.PersonConfig(
                "solo", breathing_rate_bpm=breathing_bpm, breathing_wander_bpm=0.3
            ),
        ),
        duration_s=360.0,
        seed=seed,
    )
    return _write_rr(
        tmp_path / f"solo_{breathing_bpm:g}.txt", simulate.simulate_session(cfg), "solo"
    )


def _analyze(capsys, *argv: str) -> dict:
    assert main(["analyze", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("pace", [None, "6"])
def test_same_rhythm_without_coupling_is_not_synchrony(paced_pair, capsys, pace):
    t, c = paced_pair
    extra = ["--pace-bpm", pace] if pace else []
    sync = _analyze(capsys, "--therapist", t, "--client", c, *extra)["synchrony"]
    assert sync["pacer_driven"] is True
    assert sync["p_value"] >= 0.05 and sync["leader"] == "none"
    if pace:
        # The pacer given on the command line is used: the stretch follows the pacer.
        assert sync["pacer_driven_by"] == "pacer" and "following the pacer" in sync["summary"]
        assert sync["stretches"] == []
    else:
        # Found in the beats alone.
        assert sync["pacer_driven_by"] == "shared rhythm"
        assert sync["shared_rhythm_bpm"] == pytest.approx(6.0, abs=0.3)
        assert "both breathing to the same rhythm" in sync["summary"]


def test_pace_option_searches_breathing_from_3_per_minute(paced_pair, capsys):
    t, _ = paced_pair
    rsa = _analyze(capsys, t)["participants"]["solo"]["rsa"]
    assert rsa["breathing_rate_est_bpm"] is None  # 7.2-30/min search: nothing there
    assert rsa["slow_oscillation_bpm"] == pytest.approx(6.0, abs=0.5)  # reported, with caveat
    rsa = _analyze(capsys, t, "--pace-bpm", "6")["participants"]["solo"]["rsa"]
    assert rsa["breathing_rate_est_bpm"] == pytest.approx(6.0, abs=0.5)
    assert rsa["slow_oscillation_bpm"] is None and rsa["breathing_rate_note"] is None


def test_slow_breathing_without_pacer_is_reported_with_the_caveat(tmp_path, capsys):
    slow = _analyze(capsys, _solo_rr(tmp_path, 6.0, seed=1))["participants"]["solo"]["rsa"]
    assert slow["slow_oscillation_bpm"] == pytest.approx(6.0, abs=0.5)
    assert "look alike in heart data alone" in slow["breathing_rate_note"]
    fast = _analyze(capsys, _solo_rr(tmp_path, 15.0, seed=1))["participants"]["solo"]["rsa"]
    assert fast["slow_oscillation_bpm"] is None and fast["breathing_rate_note"] is None
    assert fast["breathing_rate_est_bpm"] == pytest.approx(15.0, abs=1.0)
    assert main(["analyze", str(tmp_path / "solo_6.txt")]) == 0
    table = capsys.readouterr().out
    assert "slow oscillation" in table and "look alike in heart data alone" in table
