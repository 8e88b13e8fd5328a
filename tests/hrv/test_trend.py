"""hrv.trend: strong slow heart-rate trends on hand-built heart-rate curves."""

from __future__ import annotations

import numpy as np
import pytest

from hrv.trend import Trend, shared_trends, slow_trends


def beats(hr_of_t, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Beat times and RR (ms) for a heart rate given as a function of time (beats/min)."""
    t, out_t, out_rr = 0.0, [], []
    while t < duration_s:
        rr = 60000.0 / hr_of_t(t)
        t += rr / 1000.0
        out_t.append(t)
        out_rr.append(rr)
    return np.array(out_t), np.array(out_rr)


def test_a_40_bpm_climb_is_found_with_its_times():
    # 70 beats/min, climbing linearly by 40 from 360 s to 540 s, breathing wiggle of 3 bpm.
    def hr(t):
        return 70 + 40 * np.clip((t - 360) / 180, 0, 1) + 3 * np.sin(2 * np.pi * t / 5)

    t, rr = beats(hr, 720)
    (tr,) = slow_trends(t, rr)
    assert tr.change_bpm == pytest.approx(40, abs=2)
    # 10 % to 90 % of a linear 180 s ramp, widened by the 60 s smoothing: about 378-522 s.
    assert 360 <= tr.start_s <= 395 and 505 <= tr.end_s <= 545
    (down,) = slow_trends(t[::-1].max() - t[::-1], rr[::-1])  # the same climb backwards
    assert down.change_bpm == pytest.approx(-40, abs=2)


def test_an_episode_sized_rise_or_a_short_step_is_not_a_trend():
    def bump(t):
        return 70 + 18 * np.exp(-(((t - 300) / 60) ** 2))  # rise 18 and settle

    assert slow_trends(*beats(bump, 600)) == []

    def jolt(t):
        return 70 + 30 * ((t > 200) & (t < 260))  # 30 bpm for one minute only

    assert slow_trends(*beats(jolt, 600)) == []
    t, rr = beats(lambda t: 70.0, 100)
    assert slow_trends(t, rr) == [] and slow_trends(t[:1], rr[:1]) == []


def test_a_gap_is_not_bridged():
    def hr(t):
        return 70 + 40 * np.clip((t - 300) / 180, 0, 1)

    t, rr = beats(hr, 700)
    assert len(slow_trends(t, rr)) == 1
    keep = (t < 370) | (t > 400)  # 30 s without beats in the middle of the climb
    assert slow_trends(t[keep], rr[keep]) == []  # two halves of about 20 bpm each


def test_shared_trends_need_the_same_direction_and_overlap():
    up = Trend(300, 500, 40)
    assert shared_trends([up], [Trend(350, 520, 35)]) == [(up, Trend(350, 520, 35))]
    assert shared_trends([up], [Trend(350, 520, -35)]) == []
    assert shared_trends([up], [Trend(480, 700, 30)]) == []  # 20 s of 200 s overlap
