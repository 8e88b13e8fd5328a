"""The streaming engine: equals the batch functions, flags artifacts, measures paced RSA."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from biofeedback.beats import Beat, Event, EventKind
from biofeedback.engine import Engine, EngineConfig, window_breaks
from biofeedback.session_reader import SessionReader
from biofeedback.sources.replay import iter_session
from hrv.artifacts import classify_intervals
from hrv.coherence import coherence_ratio
from hrv.pacer import PacerSettings
from hrv.rsa import SPONTANEOUS_BREATH_BAND_HZ, estimate_breathing_rate, rsa_at_rate
from hrv.time_domain import time_domain

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"
SOLO = ROOT / "sample_data" / "solo_paced.session"


def _beats_and_gaps(items, role):
    """Beat arrays of one role plus, per beat, whether it follows a recording gap."""
    beats = [i for i in items if isinstance(i, Beat) and i.role == role]
    return (
        np.array([b.t_s for b in beats]),
        np.array([b.rr_ms for b in beats]),
        np.array([b.after_gap for b in beats]),
    )


def _batch(t, rr, after_gap, cfg):
    """The batch recipe the engine promises (module docstring of biofeedback.engine)."""
    flags = classify_intervals(rr, causal=True)
    w = t > t[-1] - cfg.rmssd_window_s
    td = time_domain(rr[w], window_breaks(flags[w], after_gap[w]))
    x = t > t[-1] - cfg.extra_window_s
    extra = time_domain(rr[x], window_breaks(flags[x], after_gap[x])).rmssd_ms
    burden = 100 * np.count_nonzero(flags[w]) / np.count_nonzero(w)
    ok = flags == 0
    r = (t > t[-1] - cfg.rsa_window_s) & ok
    c = (t > t[-1] - cfg.coherence_window_s) & ok
    return {
        "rmssd_ms": td.rmssd_ms,
        "mean_hr_bpm": td.mean_hr_bpm,
        "rmssd_extra_ms": extra,
        "burden_pct": burden,
        "breathing_rate_bpm": estimate_breathing_rate(
            t[r],
            rr[r],
            band_hz=SPONTANEOUS_BREATH_BAND_HZ,  # no pacer at the end of the sample
        ),
        "coherence_ratio": coherence_ratio(t[c], rr[c], window_s=cfg.coherence_window_s).ratio,
        "n_beats": t.size,
    }


def test_streaming_equals_batch_on_the_sample_dyad():
    items = list(iter_session(DYAD))
    engine = Engine(("therapist", "client"))
    for i in items:
        engine.feed(i)
    engine.finish()
    snap = engine.snapshot()
    for role in ("therapist", "client"):
        t, rr, after_gap = _beats_and_gaps(items, role)
        want = _batch(t, rr, after_gap, engine.config)
        got = snap.participants[role]
        for key, value in want.items():
            assert getattr(got, key) == pytest.approx(value, rel=1e-9, abs=1e-9), (role, key)
    # The client's strap dropped out once in the sample; the engine saw the gap.
    assert snap.participants["client"].gaps == 1


def test_streaming_rsa_equals_batch_and_ground_truth_while_pacing():
    with SessionReader(SOLO) as r:
        truth = r.meta["ground_truth"]["participants"]["solo"]
    seg = truth["segments"][0]
    offset = truth["timing_offsets"][0]["offset_s"]
    items = [i for i in iter_session(SOLO) if i.t_s < 240.0]
    engine = Engine(("solo",))
    for i in items:
        engine.feed(i)
    got = engine.snapshot().participants["solo"]
    t, rr, _ = _beats_and_gaps(items, "solo")
    # The engine's last once-a-second update used the beats up to the last whole second.
    upto = t <= got.slow_t_s
    t, rr = t[upto], rr[upto]
    w = t > t[-1] - 60.0
    fit = rsa_at_rate(t[w], rr[w], 6.0, 0.0)
    assert got.rsa_amplitude_ms == pytest.approx(fit.amplitude_ms, rel=1e-9)
    assert got.rsa_phase_deg == pytest.approx(fit.phase_deg, rel=1e-9)
    # Against the simulator's ground truth: RR = A cos(2 pi f (t - t0)), sampled at the start
    # of each interval (one mean RR before the beat that ends it), on the strap's clock, which
    # the beat timer sees `offset` seconds late: phase 90 deg - 360 f (offset + mean RR).
    assert got.rsa_amplitude_ms == pytest.approx(seg["rsa_amplitude_ms"], rel=0.05)
    want_phase = 90.0 - 360.0 * 0.1 * (offset + rr.mean() / 1000.0)
    assert abs((got.rsa_phase_deg - want_phase + 180) % 360 - 180) < 15
    assert got.breathing_rate_bpm == pytest.approx(6.0, abs=0.5)
    assert got.reliable



def test_a_premature_beat_never_shows_as_an_rmssd_spike():
    # Steady breathing-like RR (RMSSD about 15 ms) with one premature beat and its pause at
    # beat 120: counted for even a moment, the pair (520 ms, 1080 ms) would lift the 60 s
    # RMSSD to about sqrt((280^2 + 560^2 + ...) / 75), over 70 ms.
    rng = np.random.default_rng(5)
    n = 240
    rr = 800.0 + 30.0 * np.sin(np.arange(n) / 2.0) + rng.normal(0.0, 3.0, n)
    rr[120], rr[121] = 520.0, 1080.0
    t = np.cumsum(rr) / 1000.0
    engine = Engine(("solo",))
    shown, flagged = [], []
    for k in range(n):
        engine.feed(Beat(float(t[k]), float(rr[k]), "solo", k, k))
        p = engine.snapshot().participants["solo"]
        shown.append(p.rmssd_ms)
        flagged.append(p.n_flagged)
    shown = np.array(shown)
    before = shown[80:120]
    assert np.isfinite(before).all()
    assert np.nanmax(shown[120:]) < 1.3 * before.max()
    assert max(flagged) >= 1  # the pair was seen and flagged, not simply missed

def _polar_rr(shared_data):
    path = shared_data / "polar_h10_pvc" / "polar_h10_pvc_detectPVC.csv.gz"
    rr = []
    with gzip.open(path, "rt") as fh:
        next(fh)
        for line in fh:
            v = line.rstrip("\n").split(",")[3]
            if v:
                rr.append(float(v))
    return np.array(rr)


def test_real_trigeminy_marks_feedback_unreliable(shared_data):
    rr = _polar_rr(shared_data)
    engine = Engine(("solo",))
    t = np.cumsum(rr) / 1000
    unreliable_after_first_minute = []
    for k, (ti, v) in enumerate(zip(t, rr, strict=True)):
        engine.feed(Beat(float(ti), float(v), "solo", k, k))
        if ti > 60:
            unreliable_after_first_minute.append(
                not engine.snapshot().participants["solo"].reliable
            )
    snap = engine.snapshot().participants["solo"]
    assert snap.burden_pct > 30
    assert all(unreliable_after_first_minute)
    assert "irregular" in snap.unreliable_reason


def test_memory_is_bounded_by_history():
    cfg = EngineConfig(extra_window_s=64.0, history_s=80.0)
    engine = Engine(("solo",), cfg)
    t = 0.0
    for k in range(1500):  # 20 minutes at 75 beats/min
        t += 0.8
        engine.feed(Beat(t, 800.0 + 20 * math.sin(k), "solo", k, k))
    held = engine.window_arrays("solo", 1e9)[0]
    assert held.size <= 80 / 0.8 + 1
    assert engine.snapshot().participants["solo"].n_beats == 1500


def test_short_windows_give_nan_and_a_reason_not_errors():
    engine = Engine(("solo",))
    snap = engine.snapshot().participants["solo"]
    assert math.isnan(snap.rmssd_ms) and not snap.reliable
    engine.feed(Beat(1.0, 1000.0, "solo", 0, 0))
    snap = engine.snapshot().participants["solo"]
    assert snap.n_beats == 1 and math.isnan(snap.rmssd_ms)
    assert "only 1 beats" in snap.unreliable_reason


def test_pacer_events_set_and_clear_the_rate():
    engine = Engine(("solo",))
    engine.feed(Event(5.0, EventKind.PACER, None, {"rate_bpm": 6.0}))
    assert engine.snapshot().pacer_bpm == 6.0
    engine.feed(Event(65.0, EventKind.PACER, None, {"rate_bpm": 0}))
    assert engine.snapshot().pacer_bpm is None


def test_rsa_after_a_pacer_change_mid_breath_is_fitted_against_the_continued_cycle():
    # Pacer on at 0 s at 6/min (10 s cycles); at 127.5 s, three quarters into cycle 12, the
    # rate changes to 5/min. The breathing shape continues (hrv.pacer), so the new 12 s cycles
    # start 0.75 * 12 = 9 s before the change: at 118.5 s, the RSA fit's reference from then on.
    change = Event(127.5, EventKind.PACER, None, PacerSettings(5.0).to_dict())
    items = [i for i in iter_session(SOLO) if i.t_s < 200.0]
    engine = Engine(("solo",))
    for i in items:
        if change is not None and i.t_s >= change.t_s:
            engine.feed(change)
            change = None
        engine.feed(i)
    snap = engine.snapshot()
    assert snap.pacer_bpm == 5.0 and snap.pacer == PacerSettings(5.0)
    assert snap.pacer_t0_s == pytest.approx(118.5, abs=1e-9)
    assert [t for t, _ in snap.pacer_timeline.changes] == [0.0, 127.5]
    got = snap.participants["solo"]
    t, rr, _ = _beats_and_gaps(items, "solo")
    upto = t <= got.slow_t_s
    t, rr = t[upto], rr[upto]
    w = t > t[-1] - 60.0
    fit = rsa_at_rate(t[w], rr[w], 5.0, 118.5)
    assert got.rsa_amplitude_ms == pytest.approx(fit.amplitude_ms, rel=1e-9)
    assert got.rsa_phase_deg == pytest.approx(fit.phase_deg, rel=1e-9)
    # The once-a-second series records the rate in force at each second.
    series = got.series
    assert set(series.pacer_bpm[series.t_s < 127.0]) == {6.0}
    assert set(series.pacer_bpm[series.t_s > 128.5]) == {5.0}


def test_pacer_events_of_older_recordings_and_bad_ones():
    engine = Engine(("solo",))
    engine.feed(Event(5.0, EventKind.PACER, None, {"rate_bpm": 6.0}))  # rate only: 1:1
    assert engine.snapshot().pacer == PacerSettings(6.0, 0.5, 0.0, 0.0)
    engine.feed(Event(9.0, EventKind.PACER, None, {"rate_bpm": "fast"}))  # ignored, logged
    assert engine.snapshot().pacer_bpm == 6.0
    engine.feed(Event(12.0, EventKind.PACER, None, {"rate_bpm": 0.0}))
    assert engine.snapshot().pacer is None and engine.snapshot().pacer_bpm is None
