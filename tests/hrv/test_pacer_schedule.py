"""The pacer schedule: rate in force at a time, and the stretches with the pacer on."""

from __future__ import annotations

from hrv.pacer_schedule import paced_stretches, pacer_rate_at


def test_pacer_rate_schedule():
    sched = [(30.0, 6.0), (150.0, 0.0), (300.0, 5.5)]
    assert pacer_rate_at(sched, 10) == 0.0  # before the first change
    assert pacer_rate_at(sched, 30) == 6.0  # a change applies from its own time on
    assert pacer_rate_at(sched, 60) == 6.0
    assert pacer_rate_at(sched, 200) == 0.0
    assert pacer_rate_at(sched, 400) == 5.5
    assert pacer_rate_at([], 10) == 0.0


def test_paced_stretches_leave_out_off_and_empty_stretches():
    sched = [(30.0, 6.0), (150.0, 0.0), (300.0, 5.5), (300.0, 5.0), (400.0, 6.0)]
    assert paced_stretches(sched, 600.0) == [
        (30.0, 150.0, 6.0),
        (300.0, 400.0, 5.0),
        (400.0, 600.0, 6.0),
    ]
    assert paced_stretches(sched, 400.0) == [(30.0, 150.0, 6.0), (300.0, 400.0, 5.0)]
    assert paced_stretches([], 100.0) == []
