"""Synthetic paced-breathing RR series for the RSA and coherence tests."""

from __future__ import annotations

import numpy as np


def paced_rr(
    amp_ms: float = 50.0,
    rate_bpm: float = 6.0,
    duration_s: float = 60.0,
    noise_ms: float = 5.0,
    phase_deg: float = 0.0,
    t0_s: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Beats with ``RR(t) = 900 + A sin(2 pi f (t - t0) + phase)`` at the beat ``t`` ending it.

    Beat times come from integrating: ``t[k+1] = t[k] + RR(t[k+1]) / 1000``, solved by fixed-
    point iteration; then Gaussian noise of ``noise_ms`` is added to the RR values.
    """
    rng = np.random.default_rng(seed)
    f = rate_bpm / 60.0
    ph = np.radians(phase_deg)
    times = [0.0]
    while times[-1] < duration_s:
        tn = times[-1] + 0.9
        for _ in range(30):
            tn = times[-1] + (900.0 + amp_ms * np.sin(2 * np.pi * f * (tn - t0_s) + ph)) / 1000.0
        times.append(tn)
    t = np.array(times[1:])
    rr = np.diff(np.array(times)) * 1000.0 + rng.normal(0.0, noise_ms, t.size)
    return t, rr
