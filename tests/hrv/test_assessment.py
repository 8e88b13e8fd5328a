"""hrv.assessment: per-step measures on synthetic beats with known amplitude and phase, the
vote, and short or unfollowed steps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrv.assessment import AssessmentStep, StepResult, assess, measure_step, suggest_rate


def beats(
    spans: list[tuple[float, float, float, float, float]],
    duration_s: float,
    *,
    noise_ms: float = 4.0,
    base_ms: float = 900.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beats whose heart period at the interval midpoint is
    ``base - A cos(2 pi f (t - start) - 2 pi pv - delay)`` inside each span
    ``(start_s, end_s, rate_bpm, A_ms, delay_deg)`` (HR peaks ``delay`` after the volume peak at
    cycle fraction ``pv = 0.5``), ``base`` elsewhere; plus white noise."""
    rng = np.random.default_rng(seed)

    def period(t: float) -> float:
        for a, b, rate, amp, delay in spans:
            if a <= t < b:
                th = 2 * np.pi * rate / 60.0 * (t - a) - np.pi - np.radians(delay)
                return base_ms - amp * math.cos(th)
        return base_ms

    times = [0.0]
    while times[-1] < duration_s:
        t_next = times[-1] + base_ms / 1000.0
        for _ in range(20):
            t_next = times[-1] + period(0.5 * (times[-1] + t_next)) / 1000.0
        times.append(t_next)
    t = np.array(times[1:])
    rr = np.diff(np.array(times)) * 1000.0 + rng.normal(0.0, noise_ms, t.size)
    return t, rr


@pytest.mark.parametrize("delay", [0.0, 30.0, -45.0])
def test_step_amplitude_phase_power_and_following(delay: float) -> None:
    t, rr = beats([(10.0, 130.0, 5.5, 60.0, delay)], 140.0)
    m = measure_step(t, rr, AssessmentStep(5.5, 10.0, 130.0, pacer_t0_s=10.0))
    assert m.rsa_amplitude_ms == pytest.approx(60.0, rel=0.05)
    # HR later than the volume peak reads negative.
    assert m.phase_deg == pytest.approx(-delay, abs=5.0)
    # A sinusoid of amplitude A has variance A^2 / 2 = 1800 ms^2; the +-0.015 Hz window holds
    # the main lobe of a 105 s record (most, not all, of it).
    assert 0.8 * 1800.0 < m.lf_peak_ms2 < 1.05 * 1800.0
    assert m.followed > 0.85
    # HR swings between 60000/960 and 60000/840 within each 10.9 s cycle: 8.93 beats/min.
    assert m.peak_to_trough_bpm == pytest.approx(60000 / 840 - 60000 / 960, rel=0.15)
    assert m.n_beats > 100


def test_phase_uses_the_pacer_volume_peak_and_origin() -> None:
    # Same beats; a pacer whose cycle starts 2.7 s later and peaks at 0.4 of the cycle:
    # the HR peak (at fraction 0.5 of the first pacer) is then 0.5 - (0.4 + 2.7 / T) cycles
    # after the volume peak, T = 60 / 6 s.
    t, rr = beats([(0.0, 130.0, 6.0, 60.0, 0.0)], 140.0)
    m = measure_step(t, rr, AssessmentStep(6.0, 0.0, 130.0, 2.7, peak_volume_fraction=0.4))
    want = -360.0 * (0.5 - 0.4 - 2.7 / 10.0)
    assert m.phase_deg == pytest.approx(want, abs=5.0)


def test_not_followed_when_the_heart_shows_another_rate() -> None:
    # Pacer at 6/min but the RR oscillates at 14/min (breathing at one's own rate).
    t, rr = beats([(0.0, 130.0, 14.0, 30.0, 0.0)], 130.0)
    m = measure_step(t, rr, AssessmentStep(6.0, 0.0, 130.0, 0.0))
    assert m.followed < 0.15
    assert m.rsa_amplitude_ms < 8.0


def test_short_step_gives_nan_not_an_error() -> None:
    t, rr = beats([], 60.0)
    m = measure_step(t, rr, AssessmentStep(6.0, 50.0, 58.0, 50.0))
    assert m.n_beats < 20
    assert math.isnan(m.rsa_amplitude_ms) and math.isnan(m.followed)
    with pytest.raises(ValueError):
        measure_step(t[:3], rr[:2], AssessmentStep(6.0, 0.0, 60.0, 0.0))


RATES = (6.5, 6.0, 5.5, 5.0, 4.5)


def protocol(amps: list[float], delays: list[float], seed: int = 0):
    spans, steps, t = [], [], 30.0
    for rate, amp, delay in zip(RATES, amps, delays, strict=True):
        spans.append((t, t + 120.0, rate, amp, delay))
        steps.append(AssessmentStep(rate, t, t + 120.0, t))
        t += 150.0
    tb, rr = beats(spans, t, seed=seed)
    return tb, rr, steps


@pytest.mark.parametrize("seed", [0, 1])
def test_all_criteria_agree_on_the_resonant_step(seed: int) -> None:
    amps = [60.0, 75.0, 95.0, 80.0, 62.0]
    delays = [-40.0, -20.0, 2.0, 22.0, 41.0]
    tb, rr, steps = protocol(amps, delays, seed)
    res = assess(tb, rr, steps)
    assert res.suggested_bpm == 5.5
    assert res.runner_up_bpm == 5.0  # the next largest amplitude (80 ms)
    # Phase is reported (closest to 0 at 5.5 here) but does not vote.
    assert res.criteria == dict.fromkeys(
        ("rsa_amplitude_ms", "peak_to_trough_bpm", "lf_peak_ms2", "phase_deg"), 5.5
    )
    assert "3 of 3 criteria" in res.reason and "runner-up 5 breaths/min" in res.reason
    got = [s.rsa_amplitude_ms for s in res.steps]
    assert got == pytest.approx(amps, rel=0.06)


def test_unfollowed_step_is_left_out_even_with_large_swings() -> None:
    # Step 6.0 shows a big oscillation at 14/min instead of the pacer rate.
    amps = [60.0, 75.0, 85.0, 70.0, 62.0]
    delays = [-40.0, -20.0, 2.0, 22.0, 41.0]
    tb, rr, steps = protocol(amps, delays)
    spans = [
        (s.start_s, s.end_s, s.rate_bpm, a, d) for s, a, d in zip(steps, amps, delays, strict=True)
    ]
    spans[1] = (spans[1][0], spans[1][1], 14.0, 120.0, 0.0)
    tb, rr = beats(spans, steps[-1].end_s + 30.0)
    res = assess(tb, rr, steps)
    assert res.steps[1].followed < 0.5
    assert res.suggested_bpm == 5.5
    assert "6/min left out" in res.reason


def _step(rate: float, amp: float, ptt: float, lf: float, phase: float, followed=0.9):
    return StepResult(rate, 0.0, 120.0, 120, amp, ptt, lf, phase, followed)


def test_vote_majority_then_amplitude_and_phase_does_not_vote() -> None:
    steps = [
        _step(6.0, 90.0, 15.0, 4000.0, 30.0),  # amplitude, LF peak
        _step(5.5, 85.0, 16.0, 3500.0, 3.0),  # peak-to-trough; phase closest to 0
        _step(5.0, 70.0, 12.0, 2500.0, 40.0),
    ]
    suggested, runner_up, criteria, reason = suggest_rate(steps)
    assert (suggested, runner_up) == (6.0, 5.5)
    assert criteria["phase_deg"] == 5.5 and criteria["rsa_amplitude_ms"] == 6.0
    assert "(2 of 3 criteria)" in reason
    assert "largest peak-to-trough heart rate at 5.5/min (16.0 beats/min)" in reason
    assert "closest in phase with the pacer at 5.5/min (+3°; shown, not counted" in reason
    assert "(6 % lower)" in reason  # 85 vs 90 ms


def test_three_way_split_goes_to_the_larger_amplitude() -> None:
    steps = [
        _step(6.0, 80.0, 17.0, 3000.0, 0.0),  # peak-to-trough
        _step(5.5, 90.0, 15.0, 3500.0, 20.0),  # amplitude
        _step(5.0, 85.0, 14.0, 4200.0, 40.0),  # LF peak
    ]
    suggested, runner_up, _criteria, reason = suggest_rate(steps)
    assert (suggested, runner_up) == (5.5, 5.0)
    assert "(1 of 3 criteria)" in reason


def test_no_suggestion_without_two_followed_steps() -> None:
    steps = [_step(6.0, 90.0, 15.0, 4000.0, 3.0), _step(5.5, 95.0, 16.0, 4500.0, 1.0, 0.2)]
    suggested, runner_up, criteria, reason = suggest_rate(steps)
    assert math.isnan(suggested) and math.isnan(runner_up) and criteria == {}
    assert reason.startswith("No suggestion") and "5.5/min left out" in reason
    assert math.isnan(assess([], [], []).suggested_bpm)
