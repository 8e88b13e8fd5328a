"""Timing of :mod:`hrv.synchrony` against plain-loop baselines measured in the same run.

``run()`` returns one dict per case: ``name``, ``ours_s``, ``baseline_name``, ``baseline_s``,
``ratio`` (baseline / ours) and ``note``. Cases:

- ``offline_50min_1000surr``: :func:`hrv.synchrony.synchrony` on a 50-minute synthetic dyad with
  1000 derangement surrogates (plus 200 circular shifts). Target: under 30 s. Baseline: the same
  all-pairs segment table computed pair by pair, lag by lag, with ``scipy.signal.detrend`` and
  ``np.corrcoef``, timed on a sample of pairs and scaled to all ``K(K-1)+K`` pairs.
- ``live_update_90min``: :meth:`hrv.synchrony.LiveSynchrony.update` once a second through a
  90-minute session; ``ours_s`` is the mean update time over the last 10 minutes, the note gives
  the first-10-minutes mean and the worst update (flat = no growth with session length; target
  under 20 ms). Baseline: the current window plus the same offset pairings with a loop over lags
  and ``np.corrcoef``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.signal import detrend, lfilter

from hrv.synchrony import LiveSynchrony, hr_grid, synchrony


def _ou(n: int, dt: float, tau: float, rng: np.random.Generator) -> np.ndarray:
    a = np.exp(-dt / tau)
    e = rng.standard_normal(n) * np.sqrt(1 - a * a)
    return lfilter([1.0], [1.0, -a], e)


def _dyad(minutes: float, seed: int, coupling: float = 0.5, lag_s: float = 3.0):
    """Two beat series (t_s, rr_ms): shared OU arousal, client leading by ``lag_s``."""
    rng = np.random.default_rng(seed)
    dt = 0.1
    n = int(minutes * 60 / dt)
    shared = _ou(n + 100, dt, 8.0, rng)
    out = []
    for delay in (round(lag_s / dt), 0):  # therapist follows, client leads
        drv = shared[100 - delay : 100 - delay + n]
        sig = np.sqrt(coupling) * drv + np.sqrt(1 - coupling) * _ou(n, dt, 8.0, rng)
        t = np.arange(n) * dt
        hr = 70 + 4 * sig + 2 * np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 6.3))
        cum = np.cumsum(hr / 60 * dt)
        beats = np.interp(np.arange(1, int(cum[-1])), cum, t + dt)
        out.append((beats[1:], np.diff(beats) * 1000))
    return out


def _lagged_r_loop(x: np.ndarray, y: np.ndarray, ax: int, ay: int, w: int, lmax: int) -> list:
    row = []
    for k in range(-lmax, lmax + 1):
        xs = detrend(x[ax : ax + w])
        ys = detrend(y[ay - k : ay - k + w])
        row.append(np.arctanh(np.corrcoef(xs, ys)[0, 1]))
    return row


def _offline() -> dict:
    (tt, rt), (tc, rc) = _dyad(50, seed=1)
    t0 = time.perf_counter()
    res = synchrony(tt, rt, tc, rc, n_surrogates=1000, n_circular=200)
    ours = time.perf_counter() - t0
    fs, w, lmax = 2.0, 60, 10
    end = max(tt[-1], tc[-1])
    x, y = hr_grid(tt, rt, fs_hz=fs, t_end_s=end), hr_grid(tc, rc, fs_hz=fs, t_end_s=end)
    anchors = np.arange(lmax, x.size - w - lmax + 1, w)
    k = anchors.size
    rng = np.random.default_rng(0)
    sample = 300
    pairs = rng.integers(1, k - 1, size=(sample, 2))  # interior: no nan at the ends
    t0 = time.perf_counter()
    for i, j in pairs:
        _lagged_r_loop(x, y, anchors[i], anchors[j], w, lmax)
    per_pair = (time.perf_counter() - t0) / sample
    base = per_pair * k * k
    return {
        "name": "offline_50min_1000surr",
        "ours_s": ours,
        "baseline_name": "loop over pairs and lags, scipy detrend + np.corrcoef (all-pairs table)",
        "baseline_s": base,
        "ratio": base / ours,
        "note": (
            f"{k} segments, {k * (k - 1)} surrogate pairs, {res.n_surrogates} derangements, "
            f"{res.n_circular} circular shifts; baseline timed on {sample} pairs and scaled to "
            f"{k * k}; target ours < 30 s; p={res.p_value:.3g}"
        ),
    }


def _live() -> dict:
    minutes = 90
    (tt, rt), (tc, rc) = _dyad(minutes, seed=2)
    live = LiveSynchrony()
    times = []
    i = j = 0
    for now in range(1, minutes * 60):
        while i < tt.size and tt[i] <= now:
            live.add_beat("therapist", tt[i], rt[i])
            i += 1
        while j < tc.size and tc[j] <= now:
            live.add_beat("client", tc[j], rc[j])
            j += 1
        t0 = time.perf_counter()
        live.update(float(now))
        times.append(time.perf_counter() - t0)
    arr = np.asarray(times)
    first, mid, last = arr[60:660].mean(), arr[1500:2100].mean(), arr[-600:].mean()
    # Baseline: the same work as one update (current window + 100 offset pairings) with loops.
    end = max(tt[-1], tc[-1])
    x, y = hr_grid(tt, rt, t_end_s=end), hr_grid(tc, rc, t_end_s=end)
    a = x.size - 60 - 10 - 20
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        _lagged_r_loop(x, y, a, a, 60, 10)
        for off in np.linspace(120, 2000, 50).astype(int):
            _lagged_r_loop(x, y, a, a - off, 60, 10)
            _lagged_r_loop(x, y, a - off, a, 60, 10)
    base = (time.perf_counter() - t0) / reps
    return {
        "name": "live_update_90min",
        "ours_s": float(last),
        "baseline_name": "loop over lags with np.corrcoef, current window + 100 offset pairings",
        "baseline_s": base,
        "ratio": base / float(last),
        "note": (
            f"mean update min 1-11 {first * 1e3:.2f} ms (history and band still growing), "
            f"min 25-35 {mid * 1e3:.2f} ms, last 10 min {last * 1e3:.2f} ms, "
            f"p99 {np.percentile(arr, 99) * 1e3:.2f} ms, "
            f"worst {arr.max() * 1e3:.2f} ms over {arr.size} updates; target < 20 ms, flat"
        ),
    }


def run() -> list[dict]:
    """Run both cases and return their rows."""
    return [_offline(), _live()]
