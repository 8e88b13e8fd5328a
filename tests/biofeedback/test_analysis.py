"""``analyze``: the Kubios recipe, artifact correction, and RSA from the session's pacer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from biofeedback.analysis import analyze, load_input
from biofeedback.cli import main
from biofeedback.session_reader import SessionReader

from ..conftest import ROOT
from .test_cli import SYNC_KEYS

NSRDB_TXT = ROOT / "sample_data" / "nsrdb_series_1_rr.txt"
DYAD = ROOT / "sample_data" / "dyad_session.session"

# Kubios HRV Premium 3.1.0 on NSRDB series 1 (shared/data/README.md): no detrending, no
# artifact correction, 4 Hz cubic interpolation, Welch 300 s windows, 50 % overlap.
KUBIOS = {
    "mean_rr_ms": 768.4383,
    "sdnn_ms": 85.3572,
    "mean_hr_bpm": 78.0804,
    "rmssd_ms": 60.5235,
    "pnn50_pct": 28.5714,
    "sd1_ms": 42.8011,
    "sd2_ms": 112.8494,
}
KUBIOS_LF, KUBIOS_HF = 2776.5983, 1606.9120


def test_analyze_without_correction_reproduces_kubios(capsys):
    assert main(["analyze", str(NSRDB_TXT), "--artifact-correction", "none", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["participants"]["solo"]
    for key, value in KUBIOS.items():
        assert m[key] == pytest.approx(value, abs=1e-3), key
    assert m["lf_ms2"] == pytest.approx(KUBIOS_LF, rel=0.03)
    assert m["hf_ms2"] == pytest.approx(KUBIOS_HF, rel=0.03)
    assert m["artifacts"]["corrected"] is False


def test_correction_brings_rmssd_back_after_inserted_artifacts(tmp_path, capsys):
    clean = np.loadtxt(NSRDB_TXT)[:1200]
    dirty = clean.copy()
    for k in range(60, 1200, 150):  # premature beat + compensatory pause, same total time
        dirty[k] -= 300
        dirty[k + 1] += 300
    f = tmp_path / "dirty.txt"
    f.write_text("\n".join(f"{v:g}" for v in dirty))
    clean_rmssd = np.sqrt(np.mean(np.diff(clean) ** 2))
    assert main(["analyze", str(f), "--json"]) == 0
    auto = json.loads(capsys.readouterr().out)["participants"]["solo"]
    assert main(["analyze", str(f), "--json", "--artifact-correction", "none"]) == 0
    none = json.loads(capsys.readouterr().out)["participants"]["solo"]
    assert none["rmssd_ms"] > 1.2 * clean_rmssd
    assert auto["rmssd_ms"] == pytest.approx(clean_rmssd, rel=0.10)
    assert auto["artifacts"]["ectopic"] >= 14  # 8 pairs, both intervals of each flagged
    assert auto["artifacts"]["corrected"] is True


def test_rsa_is_measured_over_the_paced_stretch_of_the_sample():
    result = analyze(load_input([str(DYAD)]))
    with SessionReader(DYAD) as r:
        truth = r.meta["ground_truth"]["participants"]
    for role in ("therapist", "client"):
        rsa = result["participants"][role]["rsa"]
        paced = [s for s in truth[role]["segments"] if s["breathing"] == "paced"]
        assert rsa["pace_bpm"] == 6.0
        assert rsa["amplitude_ms"] == pytest.approx(paced[0]["rsa_amplitude_ms"], rel=0.05)
        assert rsa["breathing_rate_est_bpm"] == pytest.approx(6.0, abs=0.5)


def test_pace_option_overrides_the_session(capsys):
    assert main(["analyze", str(DYAD), "--json", "--pace-bpm", "12"]) == 0
    rsa = json.loads(capsys.readouterr().out)["participants"]["client"]["rsa"]
    assert rsa["pace_bpm"] == 12.0
    assert rsa["window"] == "whole record"


def test_dyad_synchrony_by_stretch_on_the_sample():
    result = analyze(load_input([str(DYAD)]))
    sync = result["synchrony"]
    with SessionReader(DYAD) as r:
        gt = r.meta["ground_truth"]
    ((c0, c1),) = gt["coupling"]["windows"]
    stretches = {(round(s["start_s"]), s["pacer_bpm"]): s for s in sync["stretches"]}
    paced = stretches[(gt["pacer"][0]["start_s"], 6.0)]
    assert paced["pacer_driven"] is True
    assert "pacer" in paced["summary"] and "synchrony" not in paced["summary"].lower()
    coupled = next(s for s in sync["stretches"] if s["start_s"] <= c0 and s["end_s"] >= c1 - 1)
    assert coupled["p_value"] < 0.05
    assert coupled["leader"] == gt["coupling"]["leader"] == "client"
    assert abs(coupled["peak_lag_s"] - gt["coupling"]["lag_s"]) < 1.0
    assert "precede" in coupled["summary"] and "chance" in coupled["summary"]
    assert set(sync) >= SYNC_KEYS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spontaneous_breathing_rate_estimate(tmp_path, capsys, seed):
    out = tmp_path / "solo.session"
    assert (
        main(["simulate", "--out", str(out), "--minutes", "5", "--seed", str(seed), "--solo"]) == 0
    )
    capsys.readouterr()
    with SessionReader(out) as r:
        (seg,) = r.meta["ground_truth"]["participants"]["solo"]["segments"]
    result = analyze(load_input([str(out)]))
    est = result["participants"]["solo"]["rsa"]["breathing_rate_est_bpm"]
    assert est == pytest.approx(seg["breathing_rate_bpm"], abs=1.5)


def test_baseline_stretch_from_events() -> None:
    import numpy as np

    from biofeedback.analysis import RoleSeries, SessionInput
    from biofeedback.beats import Event, EventKind

    rr = np.full(200, 1000.0)
    series = {"solo": RoleSeries("solo", np.cumsum(rr) / 1000.0, rr)}

    def stretch(*events: Event) -> tuple[float, float] | None:
        return SessionInput("x", series, events).baseline_stretch()

    start = Event(10.0, EventKind.BASELINE, None, {"state": "start", "duration_s": 180})
    assert stretch() is None
    assert stretch(start, Event(190.0, EventKind.BASELINE, None, {"state": "end"})) == (10.0, 190.0)
    # Cut short by the end of the recording: runs to the last beat (200 s).
    assert stretch(start) == (10.0, 200.0)
    assert stretch(start, Event(12.0, EventKind.BASELINE, None, {"state": "skipped"})) is None
