"""hrv.coherence: a clean 0.1 Hz rhythm is coherent, white noise is not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrv.coherence import coherence_ratio

from .synth import paced_rr


def test_clean_slow_oscillation_is_coherent() -> None:
    t, rr = paced_rr(amp_ms=50.0, rate_bpm=6.0, duration_s=120.0, noise_ms=2.0)
    c = coherence_ratio(t, rr)
    assert c.peak_hz == pytest.approx(0.1, abs=0.005)
    assert c.ratio > 5.0
    # Only the last 64 s count.
    assert c.n_beats == pytest.approx(64 / 0.9, abs=2)


def test_white_noise_is_not_coherent() -> None:
    rng = np.random.default_rng(7)
    ratios = []
    for _ in range(5):
        rr = 900.0 + 40.0 * rng.standard_normal(100)
        ratios.append(coherence_ratio(np.cumsum(rr) / 1000.0, rr).ratio)
    assert max(ratios) < 1.0


def test_short_window_gives_nan() -> None:
    rr = np.full(40, 900.0)
    c = coherence_ratio(np.cumsum(rr) / 1000.0, rr)  # 36 s < 64 s
    assert math.isnan(c.ratio) and c.n_beats == 40
    assert math.isnan(coherence_ratio([], []).ratio)
