"""hrv.pacer: hand-computed stage timings, shape continuity across changes, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hrv.pacer import PacerSettings, PacerTimeline, event_data

DT_S = 1e-3  # dense sampling step for the continuity checks


def max_slope_per_s(*all_settings: PacerSettings) -> float:
    """Steepest volume slope: pi / (2 D) for the shortest breathing stage D (module docstring)."""
    shortest = min(min(s.inhale_s, s.exhale_s) for s in all_settings)
    return math.pi / (2.0 * shortest)


def test_stage_timings_hand_computed() -> None:
    # 6/min: cycle 10 s including holds of 1 s (full) and 2 s (empty); 7 s of breathing,
    # inhale share 0.4 -> in 2.8 s, out 4.2 s. Switched on at 5 s:
    # in [5, 7.8), hold_in [7.8, 8.8), out [8.8, 13.0), hold_out [13.0, 15.0), in again at 15.
    s = PacerSettings(6.0, inhale_share=0.4, hold_after_inhale_s=1.0, hold_after_exhale_s=2.0)
    assert (s.cycle_s, s.breathing_s) == (10.0, 7.0)
    assert s.inhale_s == pytest.approx(2.8) and s.exhale_s == pytest.approx(4.2)
    tl = PacerTimeline().changed(5.0, s)
    eps = 1e-6
    expected = [
        (5.0, "in"),
        (7.8 - eps, "in"),
        (7.8 + eps, "hold_in"),
        (8.8 - eps, "hold_in"),
        (8.8 + eps, "out"),
        (13.0 - eps, "out"),
        (13.0 + eps, "hold_out"),
        (15.0 - eps, "hold_out"),
        (15.0 + eps, "in"),
        (25.0 + 3.0, "hold_in"),  # one cycle later, 3 s in
    ]
    times = np.array([t for t, _ in expected])
    assert list(tl.stage(times)) == [name for _, name in expected]
    assert tl.stage(4.9) is None
    # Volume: raised cosine per stage; a quarter into the inhale (0.7 s) is (1 - cos(pi/4)) / 2.
    v = tl.volume(np.array([5.0, 5.7, 6.4, 8.3, 8.8 + 2.1, 14.0, 15.0]))
    np.testing.assert_allclose(
        v, [0.0, (1 - math.cos(math.pi / 4)) / 2, 0.5, 1.0, 0.5, 0.0, 0.0], atol=1e-12
    )
    assert math.isnan(tl.volume(4.0))
    np.testing.assert_allclose(
        tl.phase_cycles(np.array([5.0, 10.0, 15.0, 27.5])), [0, 0.5, 1, 2.25]
    )
    assert tl.stage_progress(6.4) == pytest.approx(0.5)


def test_rate_change_mid_inhale_keeps_volume_continuous() -> None:
    a = PacerSettings(6.0)  # inhale 0-5 s
    b = PacerSettings(9.5)
    t_c = 3.3  # progress 0.66 through the inhale
    tl = PacerTimeline().changed(0.0, a).changed(t_c, b)
    t = np.arange(t_c - 2.0, t_c + 2.0, DT_S)
    v = tl.volume(t)
    step = np.abs(np.diff(v))
    # Bound by hand: steepest slope pi / (2 * 60/9.5/2) = 0.497/s, so at most 0.50e-3 per step.
    assert step.max() <= max_slope_per_s(a, b) * DT_S * 1.001
    # Still breathing in right after the change, at the same volume: no reversal, no jump.
    k = np.searchsorted(t, t_c)
    assert np.all(np.diff(v[k - 50 : k + 50]) > 0)
    assert tl.stage(t_c + 1e-9) == "in"
    assert tl.volume(t_c) == pytest.approx(0.5 * (1 - math.cos(math.pi * 0.66)), abs=1e-12)
    # Without holds a pure rate change leaves the cycle count itself continuous.
    p = tl.phase_cycles(t)
    assert np.abs(np.diff(p)).max() <= 9.5 / 60 * DT_S * 1.001


def test_ratio_and_hold_changes_mid_breath_keep_volume_continuous() -> None:
    a = PacerSettings(5.0, inhale_share=0.5, hold_after_inhale_s=2.0, hold_after_exhale_s=1.0)
    b = PacerSettings(8.0, inhale_share=0.3)
    c = PacerSettings(4.0, inhale_share=0.7, hold_after_exhale_s=4.0)
    # a: cycle 12 s, breathing 9 s -> in [0, 4.5), hold [4.5, 6.5), out [6.5, 11), hold [11, 12)
    # Change to b in mid-exhale (t = 8 s, x = 1/3): b's cycle 7.5 s, out from fraction 0.3,
    # remapped u' = 0.3 + 0.7 / 3 = 0.533; b's exhale then lasts until 8 + 0.467 * 7.5 = 11.5 s.
    # Change to c at 10 s (u = 0.8, in b's exhale).
    tl = PacerTimeline().changed(0.0, a).changed(8.0, b).changed(10.0, c)
    t = np.arange(0.0, 40.0, DT_S)
    v = tl.volume(t)
    assert np.abs(np.diff(v)).max() <= max_slope_per_s(a, b, c) * DT_S * 1.001
    # A naive cycle count that ignored the ratio change would jump: a's fraction 8/12 = 0.667
    # falls in b's exhale (0.3 .. 1) at x = 0.52, volume 0.46 instead of 0.75.
    assert tl.volume(8.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 3)), abs=1e-12)
    assert tl.phase_cycles(10.0 - 1e-9) == pytest.approx(0.8)
    # c: cycle 15 s, in 7.7 s, out 3.3 s -> out spans fractions 7.7/15 .. 11/15; b's x = 5/7.
    assert tl.phase_cycles(10.0) == pytest.approx(7.7 / 15 + 5 / 7 * 3.3 / 15)
    for t_c in (8.0, 10.0):
        assert tl.stage(t_c - 1e-6) == tl.stage(t_c + 1e-6) == "out"
        assert tl.volume(t_c + 1e-3) < tl.volume(t_c) < tl.volume(t_c - 1e-3)


def test_change_during_a_hold_that_the_new_settings_drop() -> None:
    a = PacerSettings(6.0, hold_after_inhale_s=3.0, hold_after_exhale_s=3.0)
    # a: in [0, 2), hold_in [2, 5), out [5, 7), hold_out [7, 10)
    b = PacerSettings(6.0)
    tl = PacerTimeline().changed(0.0, a).changed(3.0, b)
    assert tl.volume(3.0) == 1.0  # full lungs, then straight into breathing out
    assert tl.stage(3.0) == "out"
    assert tl.volume(3.5) < 1.0
    tl2 = PacerTimeline().changed(0.0, a).changed(8.0, b)
    assert tl2.volume(8.0) == 0.0 and tl2.stage(8.0) == "in"
    assert tl2.phase_cycles(8.0) == pytest.approx(1.0)  # next cycle begins; never counts back
    t = np.arange(0.0, 20.0, DT_S)
    for line in (tl, tl2):
        assert np.abs(np.diff(line.volume(t))).max() <= max_slope_per_s(a, b) * DT_S * 1.001


rates = st.integers(30, 100).map(lambda k: k / 10)
shares = st.floats(0.3, 0.7)
holds = st.floats(0.0, 5.0)


@st.composite
def pacer_settings(draw: st.DrawFn) -> PacerSettings:
    rate, share, h1, h2 = draw(rates), draw(shares), draw(holds), draw(holds)
    try:
        return PacerSettings(rate, share, h1, h2)
    except ValueError:  # holds leaving too little time to breathe: drop the holds
        return PacerSettings(rate, share)


@settings(max_examples=150, deadline=None)
@given(a=pacer_settings(), b=pacer_settings(), t_c=st.floats(0.1, 60.0))
# A change exactly on the in/out boundary with no hold between (found by hypothesis).
@example(a=PacerSettings(3.0), b=PacerSettings(3.0), t_c=30.0)
def test_any_change_keeps_volume_and_direction(a: PacerSettings, b: PacerSettings, t_c: float):
    tl = PacerTimeline().changed(0.0, a).changed(t_c, b)
    eps = 1e-4
    before, at, after = tl.volume(np.array([t_c - eps, t_c, t_c + eps]))
    bound = max_slope_per_s(a, b) * eps * 1.001 + 1e-12
    assert abs(at - before) <= bound and abs(after - at) <= bound
    # Direction: rising stays rising, falling stays falling (holds may end into either).
    order = ["in", "hold_in", "out", "hold_out"]
    s0, s1 = tl.stage(t_c - eps), tl.stage(t_c + eps)
    i0, i1 = order.index(s0), order.index(s1)
    # The next stage, or the one after it when the change lands on a boundary and the hold
    # between them lasts 0 s in the settings in force there.
    skipped = order[(i0 + 1) % 4]
    hold_s = {
        "hold_in": (a.hold_after_inhale_s, b.hold_after_inhale_s),
        "hold_out": (a.hold_after_exhale_s, b.hold_after_exhale_s),
    }
    assert (
        s1 == s0
        or i1 == (i0 + 1) % 4
        or (i1 == (i0 + 2) % 4 and skipped in hold_s and min(hold_s[skipped]) == 0.0)
    )


def test_cycle_origin_is_the_rsa_reference_time() -> None:
    tl = PacerTimeline().changed(2.0, PacerSettings(6.0)).changed(7.0, PacerSettings(5.0, 0.4))
    t0 = tl.cycle_origin_s(9.0)
    t = np.linspace(7.0, 30.0, 50)
    frac = (t - t0) * 5.0 / 60.0
    np.testing.assert_allclose(np.mod(frac, 1.0), np.mod(tl.phase_cycles(t), 1.0), atol=1e-9)
    assert tl.cycle_origin_s(3.0) == pytest.approx(2.0)
    assert math.isnan(tl.cycle_origin_s(1.0))


def test_off_and_on_again() -> None:
    s = PacerSettings(6.0)
    tl = PacerTimeline().changed(10.0, s).changed(20.0, None).changed(33.0, s)
    assert math.isnan(tl.rate_bpm_at(5.0)) and tl.settings_at(5.0) is None
    np.testing.assert_array_equal(
        tl.rate_bpm_at(np.array([10.0, 19.9, 25.0, 40.0])), [6.0, 6.0, np.nan, 6.0]
    )
    assert tl.settings_at(25.0) is None and tl.stage(25.0) is None
    assert math.isnan(tl.volume(25.0)) and math.isnan(tl.phase_cycles(25.0))
    # Switching on again starts a fresh inhale at the switch-on time.
    assert tl.phase_cycles(33.0) == 0.0 and tl.stage(33.0) == "in"
    assert tl.settings_at(33.0) is s
    assert PacerTimeline().stage(np.array([1.0, 2.0])).tolist() == [None, None]
    assert np.isnan(PacerTimeline().volume(np.array([1.0]))).all()


def test_changes_in_time_order_and_equal_times() -> None:
    tl = PacerTimeline().changed(5.0, PacerSettings(6.0))
    with pytest.raises(ValueError, match="time order"):
        tl.changed(4.0, None)
    same = tl.changed(5.0, PacerSettings(4.0))
    assert same.settings_at(5.0) == PacerSettings(4.0)
    assert tl.settings_at(5.0) == PacerSettings(6.0)  # the original is unchanged


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate_bpm": 2.9}, "3-10 breaths per minute"),
        ({"rate_bpm": 10.1}, "3-10 breaths per minute"),
        ({"rate_bpm": 5.55}, "steps of 0.1"),
        ({"rate_bpm": math.nan}, "finite"),
        ({"rate_bpm": 6.0, "inhale_share": 0.25}, "inhale share"),
        ({"rate_bpm": 6.0, "inhale_share": 0.71}, "inhale share"),
        ({"rate_bpm": 6.0, "hold_after_inhale_s": -0.5}, "hold after inhale"),
        ({"rate_bpm": 6.0, "hold_after_exhale_s": 5.5}, "hold after exhale"),
        # 10/min: 6 s cycle, holds 2.5 + 2.5 leave 1 s: 0.5 s in, 0.5 s out.
        ({"rate_bpm": 10.0, "hold_after_inhale_s": 2.5, "hold_after_exhale_s": 2.5}, "to breathe"),
    ],
)
def test_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PacerSettings(**kwargs)


def test_rate_grid_and_recorded_rates() -> None:
    assert PacerSettings(6.1).rate_bpm == 6.1
    assert PacerSettings(5.499999999).rate_bpm == 5.5
    # 10/min with holds 2 + 2: 2 s of breathing, 1 s in and 1 s out: just enough.
    assert PacerSettings(10.0, 0.5, 2.0, 2.0).inhale_s == pytest.approx(1.0)
    with pytest.raises(ValueError):
        PacerSettings(12.0)
    assert PacerSettings(12.0, strict=False).rate_bpm == 12.0  # the simulator paces up to 30


def test_event_dicts() -> None:
    s = PacerSettings(5.5, 0.4, 1.0, 0.5)
    assert PacerSettings.from_dict(s.to_dict()) == s
    assert event_data(s) == {
        "rate_bpm": 5.5,
        "inhale_share": 0.4,
        "hold_after_inhale_s": 1.0,
        "hold_after_exhale_s": 0.5,
    }
    assert event_data(None) == {"rate_bpm": 0.0}
    assert PacerSettings.from_dict({"rate_bpm": 6}) == PacerSettings(6.0, 0.5, 0.0, 0.0)
    assert PacerSettings.from_dict({"rate_bpm": 0.0}) is None
    assert PacerSettings.from_dict({}) is None
    with pytest.raises(ValueError, match="not a set of numbers"):
        PacerSettings.from_dict({"rate_bpm": "fast"})
    with pytest.raises(ValueError):
        PacerSettings.from_dict({"rate_bpm": 12.0})
    assert PacerSettings.from_dict({"rate_bpm": 12.0}, strict=False) == PacerSettings(
        12.0, strict=False
    )
    tl = PacerTimeline.from_events([(120.0, {"rate_bpm": 6.0}), (300.0, {"rate_bpm": 0.0})])
    assert tl.rate_bpm_at(200.0) == 6.0 and math.isnan(tl.rate_bpm_at(300.0))
