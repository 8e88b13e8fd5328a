"""The resonance-frequency assessment offline: simulated people doing it, found by ``analyze``;
steps read from events; bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biofeedback.analysis import SessionInput, analyze, load_input
from biofeedback.assessment import assessment_steps
from biofeedback.beats import Event, EventKind
from biofeedback.cli import main
from biofeedback.session_reader import SessionReader
from biofeedback.simulate import PersonConfig, rsa_response

ROOT = Path(__file__).resolve().parents[2]
RATES = [6.5, 6.0, 5.5, 5.0, 4.5]


def _simulate(tmp_path, resonance: float, seed: int, *extra: str):
    out = tmp_path / f"a{resonance}_{seed}.session"
    argv = ["simulate", "--assessment", "--resonance-bpm", str(resonance), "--seed", str(seed)]
    assert main([*argv, "--out", str(out), *extra]) == 0
    return out


def _analyze(capsys, path) -> dict:
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("resonance", [5.5, 6.5, 4.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulated_person_gets_their_resonance_rate(tmp_path, capsys, resonance, seed):
    path = _simulate(tmp_path, resonance, seed)
    with SessionReader(path) as r:
        truth = r.meta["ground_truth"]["assessment"]
    assert truth["largest_response_bpm"]["solo"] == resonance
    a = _analyze(capsys, path)["assessment"]
    assert a["suggested_bpm"] == resonance, a["reason"]
    assert a["status"] == "completed" and a["role"] == "solo"
    # Steps from the events: 1 min lead-in, 2 min steps, 30 s rests.
    assert [s["rate_bpm"] for s in a["steps"]] == RATES
    assert [(s["start_s"], s["end_s"]) for s in a["steps"]] == [
        (60.0 + 150.0 * i, 180.0 + 150.0 * i) for i in range(5)
    ]
    best = max(a["steps"], key=lambda s: s["rsa_amplitude_ms"])
    assert best["rate_bpm"] == resonance
    # The simulated RSA amplitude at the resonance is 100 ms; 15 % covers the 2-minute noise.
    assert best["rsa_amplitude_ms"] == pytest.approx(100.0, rel=0.15)
    assert all(s["followed"] > 0.7 for s in a["steps"])
    assert set(a["criteria"]) == {
        "rsa_amplitude_ms",
        "peak_to_trough_bpm",
        "lf_peak_ms2",
        "phase_deg",
    }
    assert f"{resonance:g} breaths/min: largest RSA amplitude" in a["reason"]


def test_table_rests_of_zero_and_ground_truth_phase(tmp_path, capsys):
    # Steps back to back: the pacer restarts its cycle at each step, the simulated person too.
    path = _simulate(tmp_path, 5.5, 3, "--rest-s", "0", "--assessment-rates", "6,5.5,5")
    capsys.readouterr()
    assert main(["analyze", str(path)]) == 0
    table = capsys.readouterr().out
    assert "Resonance-frequency assessment (solo, completed)" in table
    assert "Suggested rate: 5.5 breaths/min" in table
    a = _analyze(capsys, path)["assessment"]
    assert [(s["start_s"], s["end_s"]) for s in a["steps"]] == [(60, 180), (180, 300), (300, 420)]
    assert a["suggested_bpm"] == 5.5
    with SessionReader(path) as r:
        segs = [
            s
            for s in r.meta["ground_truth"]["participants"]["solo"]["segments"]
            if s["breathing"] == "paced"
        ]
    # Above the resonance heart rate peaks after the fullest lungs (negative), below before.
    assert segs[0]["rsa_phase_deg"] < -10 and abs(segs[1]["rsa_phase_deg"]) < 1e-9
    assert segs[2]["rsa_phase_deg"] > 10
    # Measured phases keep that order (the strap's arrival timing shifts them all later).
    phases = [s["phase_deg"] for s in a["steps"]]
    assert phases[0] < phases[1] < phases[2]


def test_sessions_without_an_assessment_give_null(capsys):
    out = _analyze(capsys, ROOT / "sample_data" / "solo_paced.session")
    assert "assessment" in out and out["assessment"] is None
    out = _analyze(capsys, ROOT / "sample_data" / "nsrdb_series_1_rr.txt")
    assert out["assessment"] is None


def _ev(t, **data):
    return Event(t, EventKind.ASSESSMENT, None, data)


def test_steps_from_events_last_run_cancel_and_unfinished():
    events = [
        _ev(0.0, state="step", index=0, rate_bpm=6.5, duration_s=120.0),
        _ev(50.0, state="cancelled"),
        _ev(100.0, state="step", index=0, rate_bpm=6.0, duration_s=120.0, role="client"),
        _ev(220.0, state="rest", index=0, duration_s=30.0),
        _ev(250.0, state="step", index=1, rate_bpm=5.5, duration_s=120.0),
        _ev(300.0, state="cancelled"),
    ]
    steps, role, how = assessment_steps(events, end_s=1000.0)
    assert steps == [(0, 6.0, 100.0, 220.0), (1, 5.5, 250.0, 300.0)]
    assert (role, how) == ("client", "cancelled")
    # The recording stopped during a step: it ends with the last beat.
    steps, _, how = assessment_steps(events[2:5], end_s=280.0)
    assert steps[-1] == (1, 5.5, 250.0, 280.0) and how == "unfinished"
    # A step without a usable rate is skipped; no steps at all is "no assessment".
    steps, _, _ = assessment_steps([_ev(0.0, state="step", index=0, rate_bpm="x")], 100.0)
    assert steps == []
    assert assessment_steps([], 100.0) == ([], None, None)


def test_two_person_session_names_whose_assessment_it_is(tmp_path):
    # The sample dyad with assessment events added for the client: the client's beats are used.
    data = load_input([str(ROOT / "sample_data" / "dyad_session.session")])
    ev = [
        Event(30.0, EventKind.PACER, None, {"rate_bpm": 6.0}),
        _ev(30.0, state="step", index=0, rate_bpm=6.0, duration_s=120.0, role="client"),
        Event(150.0, EventKind.PACER, None, {"rate_bpm": 0.0}),
        _ev(150.0, state="end"),
    ]
    withevents = SessionInput(
        data.source, data.series, tuple(sorted((*data.events, *ev), key=lambda e: e.t_s)), data.meta
    )
    a = analyze(withevents)["assessment"]
    assert a["role"] == "client" and a["status"] == "completed"
    assert len(a["steps"]) == 1 and a["steps"][0]["n_beats"] > 100
    # One step is no comparison.
    assert a["suggested_bpm"] is None and a["reason"].startswith("No suggestion")


def test_response_model_keeps_the_broad_curve_without_baroreflex_share():
    p = PersonConfig("solo", resonance_bpm=5.5)
    assert rsa_response(12.0, p) == complex(rsa_response(12.0, p).real)
    sharp = PersonConfig("solo", resonance_bpm=5.5, baroreflex_share=0.6)
    assert abs(rsa_response(5.5, sharp)) == pytest.approx(100.0)
    assert abs(rsa_response(6.0, sharp)) < 0.9 * abs(rsa_response(5.5, sharp))
    assert rsa_response(6.0, sharp).imag < 0 < rsa_response(5.0, sharp).imag


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--minutes", "5"], "--minutes does not go with --assessment"),
        (["--assessment-rates", "6,x"], "--assessment-rates must be numbers"),
        (["--assessment-rates", "6,12"], "3-10 breaths per minute each"),
        (["--step-s", "10"], "--step-s must be between 30 and 600"),
        (["--resonance-bpm", "11"], "--resonance-bpm must be between 3 and 10"),
    ],
)
def test_bad_assessment_options_one_line_status_2(tmp_path, capsys, extra, words):
    argv = ["simulate", "--assessment", "--out", str(tmp_path / "x.session"), *extra]
    assert main(argv) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "x.session").exists()
