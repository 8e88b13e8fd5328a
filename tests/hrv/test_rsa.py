"""hrv.rsa: synthetic paced breathing with known amplitude and phase, hand-checked cycles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrv.rsa import (
    breathing_rate_median,
    dominant_slow_sine,
    estimate_breathing_rate,
    peak_to_trough_hr,
    rsa_at_rate,
    rsa_over_paced_stretches,
)
from hrv.spectral import frequency_domain

from .synth import paced_rr


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paced_6_per_min_60_s_window(seed: int) -> None:
    t, rr = paced_rr(amp_ms=50.0, rate_bpm=6.0, duration_s=60.0, noise_ms=5.0, seed=seed)
    fit = rsa_at_rate(t, rr, 6.0)
    assert fit.amplitude_ms == pytest.approx(50.0, rel=0.05)
    assert abs(fit.phase_deg) < 15.0
    assert abs(abs(fit.hr_phase_deg) - 180.0) < 15.0
    assert fit.r_squared > 0.9
    assert fit.n_cycles == 5
    # HR swings between 60000/950 and 60000/850 bpm: 7.43; beats sample it coarsely + noise.
    assert fit.peak_to_trough_bpm == pytest.approx(60000 / 850 - 60000 / 950, rel=0.15)
    assert estimate_breathing_rate(t, rr) == pytest.approx(6.0, abs=0.5)


@pytest.mark.parametrize("phase", [-120.0, -40.0, 75.0, 160.0])
def test_phase_recovered_with_pacer_start(phase: float) -> None:
    t, rr = paced_rr(amp_ms=40.0, rate_bpm=5.5, duration_s=90.0, phase_deg=phase, t0_s=3.7)
    fit = rsa_at_rate(t, rr, 5.5, t0_s=3.7)
    diff = (fit.phase_deg - phase + 180.0) % 360.0 - 180.0
    assert abs(diff) < 15.0
    assert fit.amplitude_ms == pytest.approx(40.0, rel=0.05)


def test_peak_to_trough_hand_checked() -> None:
    # Pacer 6/min from t0 = 0: cycles [0, 10) and [10, 20), both inside beats 0..20 s.
    t = np.arange(21, dtype=float)
    rr = np.full(21, 1000.0)  # 60 bpm
    rr[3], rr[7], rr[13] = 750.0, 1200.0, 800.0  # 80, 50, 75 bpm
    mean, n = peak_to_trough_hr(t, rr, 6.0)
    assert n == 2
    assert mean == pytest.approx(((80 - 50) + (75 - 60)) / 2)


def test_breathing_rate_spontaneous_and_noise() -> None:
    t, rr = paced_rr(amp_ms=25.0, rate_bpm=15.0, duration_s=60.0, noise_ms=8.0)
    assert estimate_breathing_rate(t, rr) == pytest.approx(15.0, abs=0.5)
    rng = np.random.default_rng(4)
    rr_noise = 900.0 + 30.0 * rng.standard_normal(70)
    assert math.isnan(estimate_breathing_rate(np.cumsum(rr_noise) / 1000.0, rr_noise))


def test_hf_power_misses_slow_breathing() -> None:
    # Five minutes at 6 breaths/min: RSA of 50 ms is in LF, HF reads almost nothing.
    t, rr = paced_rr(amp_ms=50.0, rate_bpm=6.0, duration_s=300.0, noise_ms=3.0)
    fd = frequency_domain(rr, t)
    assert fd.hf_ms2 < 0.02 * fd.lf_ms2
    assert rsa_at_rate(t, rr, 6.0).amplitude_ms == pytest.approx(50.0, rel=0.05)


def test_short_window_gives_nan() -> None:
    fit = rsa_at_rate([1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0], 6.0)
    assert fit.n_beats == 3 and math.isnan(fit.amplitude_ms) and math.isnan(fit.phase_deg)
    assert math.isnan(estimate_breathing_rate([1.0, 2.0], [900.0, 910.0]))
    assert peak_to_trough_hr([1.0, 2.0], [900.0, 910.0], 6.0) == (
        pytest.approx(math.nan, nan_ok=True),
        0,
    )
    with pytest.raises(ValueError):
        rsa_at_rate([1.0, 2.0], [900.0], 6.0)


def test_rsa_over_paced_stretches_uses_the_main_rate_after_settling() -> None:
    # 6/min RSA of 45 ms from t0 = 60 s for 240 s; the pacer also ran 30 s at 5/min (shorter).
    t, rr = paced_rr(amp_ms=45.0, rate_bpm=6.0, duration_s=420.0, noise_ms=4.0, t0_s=60.0)
    schedule = [(20.0, 5.0), (50.0, 0.0), (60.0, 6.0), (300.0, 0.0)]
    paced = rsa_over_paced_stretches(t, rr, schedule)
    assert paced is not None
    assert paced.rate_bpm == 6.0 and paced.t0_s == 60.0
    assert paced.stretches == ((60.0, 300.0),)
    assert paced.fit.n_beats == np.count_nonzero((t > 75.0) & (t <= 300.0))
    assert paced.fit.amplitude_ms == pytest.approx(45.0, rel=0.05)
    assert abs(paced.fit.phase_deg) < 15.0
    assert paced.breathing_rate_bpm == pytest.approx(6.0, abs=0.3)
    assert rsa_over_paced_stretches(t, rr, []) is None
    assert rsa_over_paced_stretches(t, rr, [(60.0, 6.0), (70.0, 0.0)]) is None  # all settling


def test_breathing_rate_median_over_windows() -> None:
    t, rr = paced_rr(amp_ms=25.0, rate_bpm=12.0, duration_s=300.0, noise_ms=5.0)
    assert breathing_rate_median(t, rr) == pytest.approx(12.0, abs=0.3)
    assert math.isnan(breathing_rate_median(t[t < 50.0], rr[t < 50.0]))  # under one window


def test_dominant_slow_sine_finds_the_rate_amplitude_and_fit() -> None:
    t, rr = paced_rr(amp_ms=30.0, rate_bpm=5.3, duration_s=60.0, noise_ms=6.0, seed=3)
    fit = dominant_slow_sine(t, rr)
    assert fit.rate_bpm == pytest.approx(5.3, abs=0.15)
    assert fit.amplitude_ms == pytest.approx(30.0, rel=0.1)
    assert fit.r_squared > 0.8 and fit.strong(20.0, 0.4)
    # The same oscillation at 12/min is outside the default 3-9/min band: no strong slow sine.
    t2, rr2 = paced_rr(amp_ms=30.0, rate_bpm=12.0, duration_s=60.0, noise_ms=6.0, seed=3)
    assert not dominant_slow_sine(t2, rr2).strong(20.0, 0.4)
    rng = np.random.default_rng(5)
    noise = 900.0 + 25.0 * rng.standard_normal(70)
    assert dominant_slow_sine(np.cumsum(noise) / 1000.0, noise).r_squared < 0.3
    assert math.isnan(dominant_slow_sine(t[:5], rr[:5]).rate_bpm)
    flat = np.full(70, 900.0)
    assert math.isnan(dominant_slow_sine(np.cumsum(flat) / 1000.0, flat).r_squared)
