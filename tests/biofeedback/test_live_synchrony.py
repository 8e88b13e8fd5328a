"""Live synchrony through the engine on the sample dyad: coupling above the band, pacer noticed."""

from __future__ import annotations

from biofeedback.engine import Engine
from biofeedback.session_reader import SessionReader
from biofeedback.sources.replay import iter_session
from hrv.synchrony import describe

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def _readings():
    engine = Engine(("therapist", "client"))
    out = []
    for item in iter_session(DYAD):
        engine.feed(item)
        s = engine.snapshot().synchrony
        if s is not None and (not out or s is not out[-1]):
            out.append(s)
    return out


def test_sample_coupling_shows_above_the_band_and_the_pacer_is_named():
    with SessionReader(DYAD) as r:
        gt = r.meta["ground_truth"]
    ((c0, _c1),) = gt["coupling"]["windows"]
    pacer = gt["pacer"][0]
    readings = _readings()
    assert len(readings) > 500  # about one a second

    def window_of(s):  # the 30 s therapist window the reading describes
        return s.window_end_s - 30.0, s.window_end_s

    coupled = [s for s in readings if window_of(s)[0] >= c0 + 5 and s.band is not None]
    paced = [
        s for s in readings if window_of(s)[0] >= pacer["start_s"] + 60 and s.t_s <= pacer["end_s"]
    ]
    assert coupled and paced
    above = [s for s in coupled if s.phase == "in-phase"]
    assert len(above) >= 0.6 * len(coupled)
    assert sum(s.leader == "client" for s in above) >= 0.7 * len(above)
    # Shared breathing is named as such, never as synchrony.
    assert all(s.pacer_driven for s in paced)
    assert all("pacer" in describe(s) for s in paced)
    # Latency is bounded: the window ends max_lag (5 s) plus at most a few beats before now.
    assert max(s.latency_s for s in readings if s.band is not None) < 12.0


def test_before_enough_history_it_says_so():
    first = _readings()[0]
    assert first.band is None and first.leader is None
    assert "not enough data yet" in describe(first).lower() or "not enough" in first.status
