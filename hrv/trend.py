"""Strong slow heart-rate trends: sustained rises or falls over minutes.

A heart rate that climbs 40-50 beats/min over the last minutes of a record (walking, standing
up, a hard task) dominates every whole-record measure: SDNN and LF power grow with it, and two
people whose heart rates climb over the same minutes correlate over the record for reasons that
have nothing to do with each other. Such a trend is found and reported, never removed silently.

Method
------
1. Heart rate ``60000 / rr_ms`` at each beat, linearly interpolated onto a 1 Hz grid (not
   across gaps longer than ``max_gap_s``) and smoothed with a centred moving mean of
   ``smooth_s`` (60 s: breathing, Mayer waves and single beats average out).
2. A zigzag over the smoothed curve: a run continues while the curve does not turn back by
   more than ``reversal_bpm`` from its latest extreme; each run goes from one extreme to the
   next.
3. A run is a strong trend when it changes by at least ``min_change_bpm`` (25 beats/min) and
   the change itself (from 10 % to 90 % of it) takes at least ``min_duration_s`` (90 s): a
   climb over minutes, not a jump (the 60 s smoothing spreads any jump over about 50 s).
   Heart-rate changes around a hard moment in a session (issue 12's episodes) are typically
   10-20 beats/min, posture changes while seated less; 25 beats/min over minutes is beyond
   both.

Short or bad input never raises: fewer than two beats, or a record shorter than
``min_duration_s``, gives no trends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Trend", "shared_trends", "slow_trends"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Trend:
    """One sustained heart-rate change: from ``start_s`` to ``end_s`` (s) by ``change_bpm``.

    ``change_bpm`` is positive for a rise, negative for a fall (beats/min, smoothed curve).
    """

    start_s: float
    end_s: float
    change_bpm: float


def _smoothed_hr(
    t_s: FloatArray, rr_ms: FloatArray, smooth_s: float, max_gap_s: float
) -> tuple[FloatArray, FloatArray]:
    ok = np.isfinite(t_s) & np.isfinite(rr_ms) & (rr_ms > 0)
    t, hr = t_s[ok], 60000.0 / rr_ms[ok]
    g = np.arange(math.ceil(t[0]), math.floor(t[-1]) + 1, dtype=np.float64)
    y = np.interp(g, t, hr)
    k = np.searchsorted(t, g)
    span = t[np.clip(k, 0, t.size - 1)] - t[np.clip(k - 1, 0, t.size - 1)]
    y[span > max_gap_s] = np.nan
    m = np.isfinite(y)
    w = max(1, round(smooth_s))
    kern = np.ones(w)
    tot = np.convolve(np.where(m, y, 0.0), kern, mode="same")
    cnt = np.convolve(m.astype(np.float64), kern, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        sm = np.where(cnt >= 0.5 * w, tot / cnt, np.nan)
    return g, sm


def slow_trends(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    *,
    smooth_s: float = 60.0,
    reversal_bpm: float = 5.0,
    min_change_bpm: float = 25.0,
    min_duration_s: float = 90.0,
    max_gap_s: float = 10.0,
) -> list[Trend]:
    """Strong slow heart-rate trends of one person (see the module docstring).

    Parameters
    ----------
    t_s, rr_ms : array_like
        Beat times (s) and RR intervals (ms), artifacts corrected or left out.
    smooth_s : float
        Moving-mean length (s).
    reversal_bpm : float
        A turn back by more than this (beats/min) from the latest extreme ends a run.
    min_change_bpm, min_duration_s : float
        A run is reported from this change (beats/min) taking this long (s, 10 % to 90 %) on.
    max_gap_s : float
        Beats further apart than this are not interpolated between.

    Returns
    -------
    list of Trend
        In time order; empty when there is none.
    """
    t = np.asarray(t_s, dtype=np.float64).ravel()
    rr = np.asarray(rr_ms, dtype=np.float64).ravel()
    if t.size < 2 or not (np.nanmax(t) - np.nanmin(t) >= min_duration_s):
        return []
    g, y = _smoothed_hr(t, rr, smooth_s, max_gap_s)
    out: list[Trend] = []
    # Zigzag over each stretch without gaps.
    good = np.isfinite(y)
    edges = np.flatnonzero(np.diff(good.astype(np.int8))) + 1
    for seg in np.split(np.arange(y.size), edges):
        if seg.size < 2 or not good[seg[0]]:
            continue
        out += _zigzag(g[seg], y[seg], reversal_bpm, min_change_bpm, min_duration_s)
    return out


def _zigzag(
    g: FloatArray, y: FloatArray, reversal: float, min_change: float, min_duration: float
) -> list[Trend]:
    runs = []
    lo = hi = start = ext = 0
    direction = 0  # +1 rising, -1 falling, 0 not decided yet
    for i in range(1, y.size):
        if direction == 0:
            lo = i if y[i] < y[lo] else lo
            hi = i if y[i] > y[hi] else hi
            if y[i] - y[lo] > reversal:
                direction, start, ext = 1, lo, i
            elif y[hi] - y[i] > reversal:
                direction, start, ext = -1, hi, i
            continue
        if direction * (y[i] - y[ext]) >= 0:
            ext = i
        elif direction * (y[ext] - y[i]) > reversal:
            runs.append((start, ext))
            start, ext, direction = ext, i, -direction
    if direction != 0:
        runs.append((start, ext))
    trends = []
    for a, b in runs:
        change = float(y[b] - y[a])
        if abs(change) < min_change:
            continue
        # The change itself: from the last time the curve was within 10 % of the change of its
        # starting level to the first time it came within 10 % of its end level.
        d = np.sign(change) * (y[a : b + 1] - y[a])
        lo = a + int(np.flatnonzero(d <= 0.1 * abs(change))[-1])
        hi = max(lo, a + int(np.flatnonzero(d >= 0.9 * abs(change))[0]))
        if g[hi] - g[lo] >= min_duration:
            trends.append(Trend(float(g[lo]), float(g[hi]), change))
    return trends


def shared_trends(
    a: list[Trend], b: list[Trend], min_overlap: float = 0.5
) -> list[tuple[Trend, Trend]]:
    """Pairs of trends of two people in the same direction that overlap in time.

    Two trends are shared when they have the same sign and their overlap is at least
    ``min_overlap`` of the shorter one.
    """
    pairs = []
    for x in a:
        for y in b:
            if (x.change_bpm > 0) != (y.change_bpm > 0):
                continue
            overlap = min(x.end_s, y.end_s) - max(x.start_s, y.start_s)
            shorter = min(x.end_s - x.start_s, y.end_s - y.start_s)
            if shorter > 0 and overlap >= min_overlap * shorter:
                pairs.append((x, y))
    return pairs
