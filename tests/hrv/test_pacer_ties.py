"""Pacer changes at one instant: the later one is in force, offline and live alike.

A pacer switched on and off again while the session clock stands still (a paused replay, two
clicks within one tick) records two changes with one time. :mod:`hrv.pacer_schedule` and
:class:`hrv.pacer.PacerTimeline` take the later; synchrony must not reorder them by rate.
"""

from __future__ import annotations

from hrv.pacer import PacerSettings, PacerTimeline
from hrv.pacer_schedule import pacer_rate_at
from hrv.synchrony import LiveSynchrony, synchrony

from .test_synchrony import feed_live, make_dyad


def test_the_later_change_at_one_time_is_in_force() -> None:
    tl = PacerTimeline().changed(10.0, PacerSettings(6.0)).changed(10.0, None)
    assert tl.rate_changes() == [(10.0, 6.0), (10.0, 0.0)]
    assert pacer_rate_at(tl.rate_changes(), 20.0) == 0.0
    assert tl.settings_at(20.0) is None


def test_offline_synchrony_keeps_a_pacer_switched_off_at_once_off() -> None:
    # Both breathe at 6/min; the pacer was switched on and off at 0 s, so it never ran: the
    # shared rhythm is found in the beats, not credited to the pacer.
    (tt, rt), (tc, rc) = make_dyad(seed=6, minutes=8, pace_bpm=6.0)
    res = synchrony(tt, rt, tc, rc, pacer=[(0.0, 6.0), (0.0, 0.0)], n_circular=0)
    assert res.contract()["pacer_driven_by"] != "pacer"
    on = synchrony(tt, rt, tc, rc, pacer=[(0.0, 0.0), (0.0, 6.0)], n_circular=0)
    assert on.contract()["pacer_driven_by"] == "pacer"


def test_live_synchrony_keeps_a_pacer_switched_off_at_once_off() -> None:
    (tt, rt), (tc, rc) = make_dyad(seed=9, minutes=4, pace_bpm=6.0)
    live = LiveSynchrony(pacer=[(0.0, 6.0)])
    feed_live(live, tt, rt, tc, rc, 230, start_s=200)
    live.set_pacer(225.0, 6.0)
    live.set_pacer(225.0, 0.0)  # the later change: off
    assert not live.update(229.0).pacer_driven
