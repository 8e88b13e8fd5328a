"""Coherence ratio of the heart rhythm (after McCraty & Zayas 2014), as an open formula.

McCraty & Zayas, Front Psychol 5:1090, 2014, doi:10.3389/fpsyg.2014.01090:

1. the last ``window_s`` (64 s) of RR, cubic-spline resampled at ``fs_hz`` (2 Hz) on the beat
   times, mean removed;
2. its power spectrum: a plain (rectangular-window) periodogram, zero-padded to a 1/2048 Hz
   grid; with a 64 s window the main lobe is +-1/64 Hz, which the 0.030 Hz peak window spans;
3. the highest peak in 0.04-0.26 Hz; peak power = the integral over
   ``[f_peak - 0.015, f_peak + 0.015]`` Hz;
4. total power = the integral over 0.0033-0.4 Hz;
5. ``ratio = peak / (total - peak)``.

This is the published "coherence ratio". The vendor's 0-16 "coherence score" is proprietary
and is not reproduced. A high ratio says the RR series is dominated by one slow, regular
oscillation (typical of slow paced breathing); it says nothing about a person's state.

Windows shorter than 90 % of ``window_s`` or with fewer than 8 beats give ``nan`` fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal
from scipy.interpolate import CubicSpline

__all__ = ["Coherence", "coherence_ratio"]

PEAK_SEARCH_HZ = (0.04, 0.26)
PEAK_WIDTH_HZ = 0.030
TOTAL_HZ = (0.0033, 0.4)


@dataclass(frozen=True, slots=True)
class Coherence:
    """Coherence ratio of one window; powers in ms^2, frequencies in Hz."""

    n_beats: int
    window_s: float
    ratio: float
    peak_hz: float
    peak_ms2: float
    total_ms2: float


def _integral(freqs: np.ndarray, psd: np.ndarray, lo: float, hi: float) -> float:
    m = (freqs >= lo) & (freqs <= hi)
    return float(np.trapezoid(psd[m], freqs[m])) if np.count_nonzero(m) >= 2 else math.nan


def coherence_ratio(
    t_s: ArrayLike, rr_ms: ArrayLike, *, window_s: float = 64.0, fs_hz: float = 2.0
) -> Coherence:
    """Coherence ratio of the last ``window_s`` seconds of an RR series.

    Parameters
    ----------
    t_s : array_like
        Beat times (s), increasing, one per interval (the beat that ends it).
    rr_ms : array_like
        RR intervals (ms), artifacts corrected.
    window_s : float
        Analysis window ending at the last beat (s).
    fs_hz : float
        Resampling rate (Hz).

    Returns
    -------
    Coherence
        ``nan`` fields when the window is too short (module docstring).

    Raises
    ------
    ValueError
        Mismatched lengths, non-finite values or non-increasing times.
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    if t.ndim != 1 or t.shape != rr.shape:
        raise ValueError(f"t_s {t.shape} and rr_ms {rr.shape} must be 1-D and the same length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(rr))) or np.any(np.diff(t) <= 0):
        raise ValueError("t_s and rr_ms must be finite and t_s strictly increasing")
    nan = math.nan
    if t.size == 0:
        return Coherence(0, window_s, nan, nan, nan, nan)
    keep = t >= t[-1] - window_s
    # Include the beat just before the window so the spline covers its start.
    first = max(int(np.argmax(keep)) - 1, 0)
    t, rr = t[first:], rr[first:]
    n = int(np.count_nonzero(t >= t[-1] - window_s))
    if n < 8 or t[-1] - t[0] < 0.9 * window_s:
        return Coherence(n, window_s, nan, nan, nan, nan)
    grid = t[-1] - window_s + np.arange(round(window_s * fs_hz)) / fs_hz
    grid = grid[grid >= t[0]]
    x = CubicSpline(t, rr)(grid)
    x = x - x.mean()
    nfft = max(int(2048 * fs_hz), x.size)
    freqs, psd = signal.periodogram(x, fs=fs_hz, window="boxcar", nfft=nfft, detrend=False)
    m = (freqs >= PEAK_SEARCH_HZ[0]) & (freqs <= PEAK_SEARCH_HZ[1])
    f_peak = float(freqs[m][int(np.argmax(psd[m]))])
    half = PEAK_WIDTH_HZ / 2.0
    peak = _integral(freqs, psd, f_peak - half, f_peak + half)
    total = _integral(freqs, psd, *TOTAL_HZ)
    rest = total - peak
    ratio = peak / rest if rest > 0 else nan
    return Coherence(n, window_s, ratio, f_peak, peak, total)
