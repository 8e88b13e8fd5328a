"""hrv.time_domain against Kubios HRV 3.1.0 and hand-computed tiny arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrv.time_domain import time_domain


def test_kubios_series_1(series_1: np.ndarray) -> None:
    # Kubios HRV Premium 3.1.0 report on NSRDB series 1 (shared/data/nsrdb summary file).
    td = time_domain(series_1)
    assert td.n_beats == 4684
    assert td.mean_rr_ms == pytest.approx(768.4383, abs=1e-3)
    assert td.sdnn_ms == pytest.approx(85.3572, abs=1e-3)
    assert td.mean_hr_bpm == pytest.approx(78.0804, abs=1e-3)
    assert td.rmssd_ms == pytest.approx(60.5235, abs=1e-3)
    assert td.nn50 == 1338
    assert td.pnn50_pct == pytest.approx(28.5714, abs=1e-3)
    assert td.sd1_ms == pytest.approx(42.8011, abs=1e-3)
    assert td.sd2_ms == pytest.approx(112.8494, abs=1e-3)


def test_hand_computed_four_intervals() -> None:
    # rr = 800, 850, 790, 800: d = 50, -60, 10.
    td = time_domain([800.0, 850.0, 790.0, 800.0])
    assert td.mean_rr_ms == pytest.approx(810.0)
    assert td.mean_hr_bpm == pytest.approx(60000.0 / 810.0)
    # deviations -10, 40, -20, -10 -> sum of squares 2200, / 3
    assert td.sdnn_ms == pytest.approx(math.sqrt(2200.0 / 3.0))
    # sum d^2 = 2500 + 3600 + 100 = 6200, / (N - 1) = 3
    assert td.rmssd_ms == pytest.approx(math.sqrt(6200.0 / 3.0))
    # |d| > 50 strictly: only 60
    assert td.nn50 == 1
    assert td.pnn50_pct == pytest.approx(100.0 / 3.0)
    # d mean 0 -> var(d, ddof=1) = 6200 / 2 = 3100; SD1 = sqrt(3100 / 2)
    assert td.sd1_ms == pytest.approx(math.sqrt(3100.0 / 2.0))
    # (rr[:-1] + rr[1:]) / sqrt 2 = (1650, 1640, 1590) / sqrt 2; mean 1626.67;
    # deviations 23.33, 13.33, -36.67 -> sum sq = 2066.67; var = 1033.33; /2 -> 516.67
    assert td.sd2_ms == pytest.approx(math.sqrt(2066.6666667 / 2.0 / 2.0), rel=1e-8)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_short_input_gives_nan(n: int) -> None:
    td = time_domain([800.0, 900.0][:n])
    assert td.n_beats == n
    assert math.isnan(td.sd1_ms) and math.isnan(td.sd2_ms)
    if n < 2:
        assert math.isnan(td.sdnn_ms) and math.isnan(td.rmssd_ms) and math.isnan(td.pnn50_pct)
    else:
        assert td.rmssd_ms == pytest.approx(100.0)
    if n == 0:
        assert math.isnan(td.mean_rr_ms) and math.isnan(td.mean_hr_bpm)
    else:
        assert td.mean_rr_ms == pytest.approx(800.0 if n == 1 else 850.0)


def test_non_finite_rejected() -> None:
    with pytest.raises(ValueError):
        time_domain([800.0, np.nan, 810.0])
