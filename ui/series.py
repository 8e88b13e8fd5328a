"""Snapshot arrays turned into what the plots draw (pure NumPy, no Qt).

* :func:`trace_xy` breaks a heart-rate line at every recording gap: a ``nan`` goes between the
  last beat before a gap and the first after it, and the plot draws with
  ``connect="finite"``, so a gap is never bridged by a line.
* :func:`in_breath_spans` gives the pacer's inhalation stretches in a time window, exactly,
  from the pure pacer model (:mod:`hrv.pacer`).
* :func:`true_runs` gives the stretches where a per-second mask holds (synchrony greyed out,
  both people following the pacer).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from hrv.pacer import PacerTimeline

__all__ = ["in_breath_spans", "trace_xy", "true_runs", "without_flagged"]

FloatArray = NDArray[np.float64]


def trace_xy(
    t_s: FloatArray,
    hr_bpm: FloatArray,
    after_gap: NDArray[np.bool_],
    t_min_s: float = -math.inf,
) -> tuple[FloatArray, FloatArray]:
    """Beat times and heart rates from ``t_min_s`` on, with a ``nan`` before each gap.

    Parameters
    ----------
    t_s, hr_bpm : ndarray
        Beat times (s) and heart rate (beats/min), oldest first.
    after_gap : ndarray of bool
        True for the first beat after a recording gap.
    t_min_s : float
        Earliest beat time to keep (the left edge of the plot; one earlier beat is kept so
        the line reaches the edge).

    Returns
    -------
    x, y : ndarray of float64
        ``len(kept) + number of gaps inside`` points; ``y`` is ``nan`` at each break.
    """
    t = np.asarray(t_s, dtype=np.float64)
    y = np.asarray(hr_bpm, dtype=np.float64)
    gap = np.asarray(after_gap, dtype=bool)
    start = max(int(np.searchsorted(t, t_min_s)) - 1, 0)
    t, y, gap = t[start:], y[start:], gap[start:]
    breaks = np.flatnonzero(gap[1:]) + 1  # a break before beat i (never before the first kept)
    if not breaks.size:
        return t.copy(), y.copy()
    x_out = np.insert(t, breaks, np.nan)
    # The break point sits between the two beats; its x is a copy of the previous beat's time
    # so that x stays sorted for pyqtgraph's clipping.
    x_out[breaks + np.arange(breaks.size)] = t[breaks - 1]
    y_out = np.insert(y, breaks, np.nan)
    return x_out, y_out


def without_flagged(
    t_s: FloatArray,
    hr_bpm: FloatArray,
    after_gap: NDArray[np.bool_],
    artifact: NDArray[np.int8],
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_], FloatArray, FloatArray]:
    """The beats the artifact check kept, and where the flagged ones sit on their line.

    A flagged beat (``artifact > 0``: ectopic, missed, extra, a jump) is a wrong interval, not
    a heart rate: drawn as it is, one premature beat makes a spike of 40-60 beats/min that
    squeezes the whole wave. It is left out of the line, which joins its neighbours (a
    recording gap still breaks it: a gap on a removed beat moves to the next kept one), and
    its mark goes on that line at its time. Beats still being classified (``-1``) are kept.

    Returns
    -------
    t_kept, hr_kept, gap_kept : ndarray
        The kept beats, with ``after_gap`` carried over from removed beats.
    t_flag, y_flag : ndarray of float64
        Times of the flagged beats and the kept line's heart rate there (``nan`` where no kept
        beat lies on both sides).
    """
    t = np.asarray(t_s, dtype=np.float64)
    y = np.asarray(hr_bpm, dtype=np.float64)
    gap = np.asarray(after_gap, dtype=bool)
    flagged = np.asarray(artifact) > 0
    if not flagged.any():
        return t, y, gap, np.empty(0), np.empty(0)
    keep = np.flatnonzero(~flagged)
    seen = np.cumsum(gap)  # gaps up to and including each beat
    gap_kept = gap[keep].copy()
    if keep.size > 1:
        gap_kept[1:] = seen[keep[1:]] - seen[keep[:-1]] > 0
    t_kept, y_kept = t[keep], y[keep]
    t_flag = t[flagged]
    if t_kept.size >= 2:
        y_flag = np.interp(t_flag, t_kept, y_kept, left=np.nan, right=np.nan)
    else:
        y_flag = np.full(t_flag.size, np.nan)
    return t_kept, y_kept, gap_kept, t_flag, y_flag


def in_breath_spans(timeline: PacerTimeline, t0_s: float, t1_s: float) -> list[tuple[float, float]]:
    """Inhalation stretches ``(start_s, end_s)`` of the pacer that overlap ``[t0_s, t1_s]``.

    Exact, from the pacer model: within a stretch of constant settings starting at ``t_i``
    with cycle count ``p_i`` there, cycle ``k`` inhales from ``t_i + (k - p_i) T`` for
    ``I = inhale_s`` seconds (``T`` the cycle length); stretches are clipped at changes and to
    the window.
    """
    spans: list[tuple[float, float]] = []
    changes = timeline.changes
    for i, (t_i, settings) in enumerate(changes):
        seg_end = changes[i + 1][0] if i + 1 < len(changes) else math.inf
        if settings is None or seg_end <= t0_s or t_i >= t1_s or seg_end <= t_i:
            continue
        p_i = float(timeline.phase_cycles(t_i))
        cycle = settings.cycle_s
        lo, hi = max(t0_s, t_i), min(t1_s, seg_end)
        k = math.floor(p_i + (lo - t_i) / cycle)
        while True:
            start = t_i + (k - p_i) * cycle
            if start >= hi:
                break
            a, b = max(start, t_i, lo), min(start + settings.inhale_s, hi)
            if b > a:
                spans.append((a, b))
            k += 1
    return spans


def true_runs(
    t_s: FloatArray, mask: NDArray[np.bool_], step_s: float = 1.0, max_gap_s: float | None = None
) -> FloatArray:
    """Stretches ``[[start, end], ...]`` (s) where ``mask`` holds, each sample covering ``step_s``.

    A sample at ``t`` stands for ``[t - step_s / 2, t + step_s / 2)``; neighbouring true
    samples join into one stretch unless more than ``max_gap_s`` (default ``1.5 step_s``)
    apart. Returns an ``(n, 2)`` array.
    """
    t = np.asarray(t_s, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return np.empty((0, 2))
    idx = np.flatnonzero(m)
    # A new stretch starts where the previous true sample is not the neighbour in time.
    jump = np.diff(t[idx]) > (1.5 * step_s if max_gap_s is None else max_gap_s)
    apart = np.diff(idx) > 1
    new = np.concatenate(([True], jump | apart))
    starts = idx[new]
    ends = idx[np.concatenate((new[1:], [True]))]
    half = step_s / 2.0
    return np.column_stack((t[starts] - half, t[ends] + half))
