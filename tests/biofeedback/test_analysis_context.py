"""``analyze`` puts synchrony in context: slow trends (notes) and the resting baseline.

Issue 12 item 6: a shared slow trend is named in ``notes`` (per person and for the dyad), and a
session with a resting baseline reports synchrony on it and outside it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from biofeedback import simulate
from biofeedback.analysis import RoleSeries, SessionInput, analyze
from biofeedback.beats import Event, EventKind
from biofeedback.cli import main

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def _dyad(seed: int, coupling: simulate.CouplingConfig | None = None) -> dict[str, RoleSeries]:
    cfg = simulate.SimulationConfig(
        people=(
            simulate.PersonConfig("therapist", mean_hr_bpm=68.0),
            simulate.PersonConfig("client", mean_hr_bpm=78.0),
        ),
        duration_s=600.0,
        seed=seed,
        coupling=coupling or simulate.CouplingConfig(),
    )
    sim = simulate.simulate_session(cfg)
    out = {}
    for role in ("therapist", "client"):
        b = sim.true_beats[role]
        k = b.delivered
        out[role] = RoleSeries(role, b.t_s[k], b.rr_ms[k])
    return out


def _with_ramp(s: RoleSeries, rise_bpm: float, start_s: float, end_s: float) -> np.ndarray:
    """RR (ms) of ``s`` with heart rate raised by a linear ramp, held after ``end_s``."""
    ramp = rise_bpm * np.clip((s.t_s - start_s) / (end_s - start_s), 0.0, 1.0)
    return 60000.0 / (60000.0 / s.rr_ms + ramp)


def test_a_shared_40_bpm_ramp_is_named_per_person_and_for_the_dyad(tmp_path, capsys):
    series = _dyad(seed=11)
    files = {}
    for role, s in series.items():
        files[role] = tmp_path / f"{role}.txt"
        np.savetxt(files[role], _with_ramp(s, 40.0, 330.0, 540.0), fmt="%.2f")
    argv = ["analyze", "--therapist", str(files["therapist"]), "--client", str(files["client"])]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for role in ("therapist", "client"):
        m = result["participants"][role]
        (trend,) = m["trends"]
        assert trend["change_bpm"] == pytest.approx(40.0, abs=5.0)
        # The ramp runs 330-540 s on the beat clock of the original series; the RR file's
        # clock is the cumulative sum of the new intervals, which runs a little faster.
        assert 300 <= trend["start_s"] <= 420 and 420 <= trend["end_s"] <= 560
        (note,) = m["notes"]
        assert "heart rate rose by about" in note and "SDNN" in note
    (dyad_note,) = result["synchrony"]["notes"]
    assert dyad_note.startswith("both heart rates rose over the same minutes")
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "both: both heart rates rose over the same minutes" in table
    assert "therapist: heart rate rose by about" in table


def test_no_trend_notes_on_the_sample_dyad(capsys):
    assert main(["analyze", str(DYAD), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert all(m["notes"] == [] and m["trends"] == [] for m in result["participants"].values())
    assert result["synchrony"]["notes"] == []
    assert result["synchrony"]["baseline"] is None  # the sample has no resting baseline


def test_synchrony_relative_to_the_resting_baseline():
    # Coupled (client leads by 3 s) only after a 4-minute resting baseline.
    series = _dyad(
        seed=12,
        coupling=simulate.CouplingConfig(
            strength=0.9, lag_s=3.0, leader="client", windows=((270.0, 600.0),)
        ),
    )
    events = (
        Event(0.0, EventKind.BASELINE, None, {"state": "start"}),
        Event(240.0, EventKind.BASELINE, None, {"state": "end"}),
    )
    result = analyze(SessionInput("sim", series, events))
    base = result["synchrony"]["baseline"]
    assert (base["start_s"], base["end_s"]) == (0.0, 240.0)
    assert base["n_segments"] >= 6 and base["p_value"] >= 0.05  # nothing at rest
    assert base["rest_p_value"] < 0.05 and base["rest_effect_size"] > 0
    assert base["z_mean_difference"] == pytest.approx(base["rest_z_mean"] - base["z_mean"])
    diff = base["effect_size_difference"]
    assert diff == pytest.approx(base["rest_effect_size"] - base["effect_size"])
    assert diff > 0.5
    words = base["difference_summary"]
    assert "During the resting baseline (0:00-4:00): no more than chance" in words
    assert "outside it: more synchrony than expected by chance" in words
    assert "not a norm" in words
    skipped = (
        Event(0.0, EventKind.BASELINE, None, {"state": "start"}),
        Event(10.0, EventKind.BASELINE, None, {"state": "skipped"}),
    )
    assert analyze(SessionInput("sim", series, skipped))["synchrony"]["baseline"] is None
