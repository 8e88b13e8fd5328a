"""hrv.spectral against Kubios HRV 3.1.0 (NSRDB series 1) and analytic sinusoids."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrv.spectral import (
    band_power,
    beat_times_s,
    frequency_domain,
    lomb_psd,
    resample_rr,
    smoothness_priors_detrend,
    welch_psd,
)

# Kubios HRV Premium 3.1.0, FFT spectrum, no detrending (nsrdb/kubios_3.1.0_series_1_summary.txt).
KUBIOS = {"vlf": 2725.9687, "lf": 2776.5983, "hf": 1606.9120}


def test_kubios_series_1_welch(series_1: np.ndarray) -> None:
    fd = frequency_domain(series_1)
    assert fd.n_segments == 22 and fd.segment_s == pytest.approx(300.0)
    # Measured: VLF -0.07 %, LF +0.02 %, HF +0.04 %.
    assert fd.hf_ms2 == pytest.approx(KUBIOS["hf"], rel=1e-3)
    assert fd.lf_ms2 == pytest.approx(KUBIOS["lf"], rel=3e-3)
    assert fd.vlf_ms2 == pytest.approx(KUBIOS["vlf"], rel=3e-3)
    assert fd.lf_hf == pytest.approx(1.7279, rel=3e-3)
    assert fd.lf_nu == pytest.approx(63.2982, abs=0.2)
    # Kubios peaks: VLF 0.000, LF 0.040, HF 0.160 Hz.
    assert fd.vlf_peak_hz == pytest.approx(0.0, abs=1e-9)
    assert fd.lf_peak_hz == pytest.approx(0.04, abs=1e-9)
    assert fd.hf_peak_hz == pytest.approx(0.16, abs=1e-9)


def test_time_axis_offset_does_not_matter(series_1: np.ndarray) -> None:
    t = beat_times_s(series_1)
    a = frequency_domain(series_1, t)
    b = frequency_domain(series_1, t - t[0])
    assert a.hf_ms2 == pytest.approx(b.hf_ms2, rel=1e-12)


def _regular_sine(n: int, amp: float, f: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(1, n + 1) * 1.0
    return t, 1000.0 + amp * np.sin(2 * np.pi * f * t)


def test_welch_sine_power_is_variance() -> None:
    # A 20 ms sinusoid at 0.1 Hz has variance 20^2 / 2 = 200 ms^2, all inside LF.
    t, rr = _regular_sine(900, 20.0, 0.1)
    fd = frequency_domain(rr, t)
    assert fd.lf_ms2 == pytest.approx(200.0, rel=0.01)
    assert fd.hf_ms2 < 1.0
    assert fd.lf_peak_hz == pytest.approx(0.1, abs=1 / 300)


def test_lomb_scaling_parseval() -> None:
    # Sinusoid: the scaled Lomb-Scargle peak integrates to A^2 / 2.
    t, rr = _regular_sine(600, 20.0, 0.1)
    assert band_power(lomb_psd(t, rr), 0.05, 0.15) == pytest.approx(200.0, rel=0.01)
    # White noise sampled at 1 Hz: the PSD up to 0.5 Hz (Nyquist) integrates to the variance.
    rng = np.random.default_rng(3)
    rr = 900.0 + 25.0 * rng.standard_normal(800)
    sp = lomb_psd(np.arange(1, 801) * 1.0, rr)
    assert np.trapezoid(sp.psd_ms2_hz, sp.freqs_hz) == pytest.approx(rr.var(), rel=0.05)


def test_lomb_on_uneven_beats_matches_welch_on_sine() -> None:
    # Uneven beat times from an RR series that is itself the sinusoid.
    rr = 900.0 + 30.0 * np.sin(2 * np.pi * 0.25 * np.arange(400) * 0.9)
    t = beat_times_s(rr)
    w = frequency_domain(rr, t)
    lo = frequency_domain(rr, t, method="lomb")
    assert lo.hf_ms2 == pytest.approx(w.hf_ms2, rel=0.05)
    assert lo.hf_peak_hz == pytest.approx(w.hf_peak_hz, abs=0.005)


def test_detrending_removes_slow_trend_keeps_hf() -> None:
    t, rr = _regular_sine(600, 20.0, 0.25)
    trend = 0.2 * t  # 120 ms ramp over 10 min
    plain = frequency_domain(rr + trend, t)
    det = frequency_domain(rr + trend, t, detrend=True)
    assert det.vlf_ms2 < 0.05 * plain.vlf_ms2
    assert det.hf_ms2 == pytest.approx(plain.hf_ms2, rel=0.02)


def test_smoothness_priors_matches_dense_formula() -> None:
    rng = np.random.default_rng(0)
    for n in (3, 4, 5, 40):
        x = rng.standard_normal(n)
        d2 = np.diff(np.eye(n), 2, axis=0)
        expected = x - np.linalg.solve(np.eye(n) + 10.0**2 * d2.T @ d2, x)
        np.testing.assert_allclose(smoothness_priors_detrend(x, 10.0), expected, atol=1e-12)


def test_resample_grid_and_values() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.5])
    rr = 2.0 * t + 100.0  # linear: the spline reproduces it exactly
    grid, x = resample_rr(t, rr, 4.0)
    assert grid[0] == 1.0 and grid[-1] == 5.5 and grid.size == 19
    np.testing.assert_allclose(x, 2.0 * grid + 100.0)


def test_short_windows_give_nan() -> None:
    fd = frequency_domain([800.0, 810.0, 790.0])
    assert fd.n_beats == 3 and fd.n_segments == 0
    assert math.isnan(fd.lf_ms2) and math.isnan(fd.hf_ms2) and math.isnan(fd.lf_hf)
    assert welch_psd(None, []).n_segments == 0
    # 20 s: HF is reported, LF (needs 25 s) and VLF (300 s) are not.
    fd = frequency_domain(np.full(25, 800.0) + np.arange(25) % 2)
    assert math.isnan(fd.lf_ms2) and math.isnan(fd.vlf_ms2) and np.isfinite(fd.hf_ms2)


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError):
        frequency_domain([800.0, np.inf, 800.0, 800.0, 800.0])
    with pytest.raises(ValueError):
        frequency_domain([800.0] * 5, [0.0, 1.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        frequency_domain([800.0] * 5, method="ar")  # type: ignore[arg-type]
