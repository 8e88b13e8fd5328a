"""The live engine and offline analysis read a session's pacer events by one rule.

Both build one :class:`hrv.pacer.PacerTimeline` with :meth:`~hrv.pacer.PacerTimeline.after_event`
and derive the rate-only schedule that synchrony and RSA take from it, so the rate in force
agrees at every time, also for events the pacer model refuses and for changes at one instant.
"""

from __future__ import annotations

import math

import numpy as np

from biofeedback.analysis import RoleSeries, SessionInput
from biofeedback.beats import Event, EventKind
from biofeedback.engine import Engine
from hrv.pacer_schedule import pacer_rate_at

# 0-60 s off; 60 s: 6/min; 90 s: a rate the pacer model refuses (45/min, outside 1-30):
# live leaves it out, so 6/min stays in force; 150 s: 5.5/min switched on and, at the same
# instant, off again (the later event is in force); 200 s: 5/min with holds that leave no
# time to breathe (refused); 240 s: 4.5/min.
EVENTS = (
    Event(60.0, EventKind.PACER, None, {"rate_bpm": 6.0}),
    Event(90.0, EventKind.PACER, None, {"rate_bpm": 45.0}),
    Event(150.0, EventKind.PACER, None, {"rate_bpm": 5.5}),
    Event(150.0, EventKind.PACER, None, {"rate_bpm": 0.0}),
    Event(
        200.0,
        EventKind.PACER,
        None,
        {
            "rate_bpm": 5.0,
            "hold_after_inhale_s": 5.0,
            "hold_after_exhale_s": 5.0,
            "inhale_share": 0.3,
        },
    ),
    Event(240.0, EventKind.PACER, None, {"rate_bpm": 4.5}),
)
# The rate in force by hand: off, 6, 6 (45 refused), off (5.5 then off at 150 s), off
# (the 200 s event refused), 4.5.
TIMES_S = np.array([30.0, 60.0, 120.0, 150.0, 199.0, 220.0, 240.0, 300.0])
EXPECTED_BPM = [0.0, 6.0, 6.0, 0.0, 0.0, 0.0, 4.5, 4.5]


def _offline() -> SessionInput:
    rr = np.full(300, 1000.0)
    series = {"solo": RoleSeries("solo", np.cumsum(rr) / 1000.0, rr)}
    return SessionInput("agreement", series, EVENTS)


def test_offline_rate_schedule_matches_the_live_engine() -> None:
    engine = Engine(("solo",))
    for e in EVENTS:
        engine.feed(e)
    live = engine.snapshot().pacer_timeline
    offline = _offline()

    assert offline.pacer_changes() == [(60.0, 6.0), (150.0, 5.5), (150.0, 0.0), (240.0, 4.5)]
    assert offline.pacer_changes() == live.rate_changes()
    offline_bpm = [pacer_rate_at(offline.pacer_changes(), t) for t in TIMES_S]
    live_bpm = [0.0 if math.isnan(r) else r for r in live.rate_bpm_at(TIMES_S)]
    assert offline_bpm == live_bpm == EXPECTED_BPM
    assert offline.pacer_timeline() == live


def test_both_rate_lookups_follow_one_rule() -> None:
    tl = _offline().pacer_timeline()
    sched = tl.rate_changes()
    for t in (*TIMES_S, -5.0, 1e6):
        from_timeline = float(tl.rate_bpm_at(t))
        assert pacer_rate_at(sched, t) == (0.0 if math.isnan(from_timeline) else from_timeline)
