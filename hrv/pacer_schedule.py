"""A breathing pacer's schedule over a session: the rate in force and the paced stretches.

A schedule is a sequence of ``(t_s, rate_bpm)`` changes in time order: from ``t_s`` (s, session
clock) on, the pacer runs at ``rate_bpm`` breaths/min; a rate of 0 switches it off. An empty
schedule means no pacer.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["paced_stretches", "pacer_rate_at"]


def pacer_rate_at(schedule: Sequence[tuple[float, float]], t_s: float) -> float:
    """Pacer rate (breaths/min) in force at ``t_s`` (s); 0 when off or before the first change."""
    rate = 0.0
    for ts, r in schedule:
        if ts <= t_s:
            rate = float(r)
        else:
            break
    return rate


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
