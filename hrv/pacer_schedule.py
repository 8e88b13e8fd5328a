"""A breathing pacer's schedule over a session: the rate in force and the paced stretches.

A schedule is a sequence of ``(t_s, rate_bpm)`` changes in time order: from ``t_s`` (s, session
clock) on, the pacer runs at ``rate_bpm`` breaths/min; a rate of 0 switches it off. An empty
schedule means no pacer.

The session's pacer is :class:`hrv.pacer.PacerTimeline` (rate, inhale share, holds); the
rate-only schedules that synchrony and RSA take are derived from it in one place,
:meth:`hrv.pacer.PacerTimeline.rate_changes`, and the rate in force at a time is looked up by
one rule, :func:`rate_in_force`, which both :func:`pacer_rate_at` and
:meth:`hrv.pacer.PacerTimeline.rate_bpm_at` use, so the live engine, offline analysis,
synchrony and RSA agree by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["paced_stretches", "pacer_rate_at", "rate_in_force"]


def rate_in_force(
    change_t_s: ArrayLike, rate_bpm: ArrayLike, t_s: ArrayLike, off: float = float("nan")
) -> NDArray[np.float64] | float:
    """The rate of the last change at or before each time: the one rule for "rate in force".

    Parameters
    ----------
    change_t_s : array_like
        Times of the changes (s), non-decreasing.
    rate_bpm : array_like
        Rate set by each change (breaths/min; whatever marks "off" is passed through as is).
    t_s : array_like
        Query times (s).
    off : float
        What a time before the first change (or a ``nan`` time) gives.

    Returns
    -------
    float or ndarray
        Scalar in, scalar out; array in, array out. Of several changes at one time the later
        in the sequence is in force from that time on.
    """
    times = np.asarray(change_t_s, dtype=float)
    rates = np.asarray(rate_bpm, dtype=float)
    t = np.asarray(t_s, dtype=float)
    i = np.searchsorted(times, t, side="right") - 1
    known = (i >= 0) & ~np.isnan(t)
    picked = rates[np.maximum(i, 0)] if rates.size else np.full(t.shape, off)
    return np.where(known, picked, off)[()]


def pacer_rate_at(schedule: Sequence[tuple[float, float]], t_s: float) -> float:
    """Pacer rate (breaths/min) in force at ``t_s`` (s); 0 when off or before the first change.

    The rule of :func:`rate_in_force` on a rate-only schedule in time order.
    """
    if not schedule:
        return 0.0
    times, rates = zip(*schedule, strict=True)
    return float(rate_in_force(times, rates, float(t_s), off=0.0))


def paced_stretches(
    schedule: Sequence[tuple[float, float]], end_s: float
) -> list[tuple[float, float, float]]:
    """``(start_s, end_s, rate_bpm)`` of each stretch with the pacer on, up to ``end_s`` (s).

    A stretch runs from one change to the next (the last one to ``end_s``); stretches with the
    pacer off or of zero length are left out.
    """
    out = []
    for k, (t, rate) in enumerate(schedule):
        stop = schedule[k + 1][0] if k + 1 < len(schedule) else end_s
        if rate > 0 and stop > t:
            out.append((t, stop, rate))
    return out
