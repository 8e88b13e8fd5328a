"""From what an RR file holds to an :class:`~biofeedback.formats.RRSeries`: units, absurd
values, beat times, recording gaps and clock times, the same way for every format.

Rules
-----
* **Absurd intervals** (below :data:`~biofeedback.beats.MIN_RR_MS` = 50 ms or above
  :data:`~biofeedback.beats.MAX_RR_MS` = 6 s, the limits the strap decoder uses) never become
  beats: they are left out, counted in ``n_rejected``, and the next beat starts a new
  stretch (a recording gap), so no successive difference spans them and nothing splits them.
* **Beat times given** (a ``time_s`` column, an XDF stream's sample times): a jump between two
  beats longer than the later interval plus :data:`GAP_TOLERANCE_S` is a recording gap.
* **Arrival times given** (the phone's clock when a notification came, as Polar Sensor Logger
  and OpenHRV write): beat times are cumulative RR anchored on arrival, exactly like the live
  decoder (:class:`biofeedback.beats.BeatTimer`): the first beats end at their arrival time,
  later ones follow by their intervals; when the cumulative time falls more than
  :data:`MAX_LAG_S` behind the clock, beats were lost, so a gap starts and the times are
  anchored on arrival again; when it runs more than :data:`MAX_LEAD_S` ahead, it is anchored
  again without a gap.
* **No times**: the cumulative sum of the intervals, starting at the first interval.
* **Units** for files whose values may be in seconds (:func:`to_milliseconds`): the median
  decides; a value absurd in that unit but plausible in the other means the file mixes units,
  which is refused with the line, rather than guessed.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from biofeedback.beats import MAX_RR_MS, MIN_RR_MS
from biofeedback.formats import RRFileError, RRSeries

__all__ = [
    "GAP_TOLERANCE_S",
    "MAX_LAG_S",
    "MAX_LEAD_S",
    "build_series",
    "parse_clock",
    "to_milliseconds",
]

log = logging.getLogger(__name__)

#: A jump between beat times longer than the interval plus this (s) is a recording gap.
GAP_TOLERANCE_S = 0.5
#: Cumulative beat time this far behind the arrival clock (s) means beats were lost (a gap).
MAX_LAG_S = 5.0
#: Cumulative beat time this far ahead of the arrival clock (s) re-anchors on arrival.
MAX_LEAD_S = 1.0


def parse_clock(text: str) -> float | None:
    """Seconds since 1970 of an ISO 8601 date-time (``2026-04-24T14:10:16.752``, ``Z`` or
    ``+02:00`` allowed, a space instead of ``T`` too); ``None`` if it is not one.

    Times without a zone are taken as they stand (as if UTC): two files written by phones
    in the same time zone then align; a file with a zone and one without do not.
    """
    s = text.strip()
    if len(s) < 10 or not s[:4].isdigit():
        return None
    try:
        d = _dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.UTC)
    return d.timestamp()


def to_milliseconds(
    values: ArrayLike, lines: Sequence[int], name: str
) -> tuple[NDArray[np.float64], str]:
    """Intervals in ms from values in ms or s, and the unit found (``"ms"`` or ``"s"``).

    The median decides the unit (below 10: seconds). One value of 12 among seconds is then
    12 s (absurd, left out later), not 12 ms among seconds read as milliseconds.

    Raises
    ------
    RRFileError
        A value that is absurd in the file's unit but a plausible interval in the other one
        (``0.85`` among ``800``-style values): the file mixes seconds and milliseconds.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v, "ms"
    unit = "s" if float(np.median(v)) < 10.0 else "ms"
    ms = v * 1000.0 if unit == "s" else v.copy()
    other = v if unit == "s" else v * 1000.0
    bad = ((ms < MIN_RR_MS) | (ms > MAX_RR_MS)) & (other >= MIN_RR_MS) & (other <= MAX_RR_MS)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        this, that = ("seconds", "milliseconds") if unit == "ms" else ("milliseconds", "seconds")
        raise RRFileError(
            f"{name}, line {lines[k]}: {v[k]:g} looks like {this} among values in {that}; "
            "the file mixes units: convert it to one unit"
        )
    return ms, unit


def _absurd(rr_ms: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (rr_ms < MIN_RR_MS) | (rr_ms > MAX_RR_MS)


def _from_arrivals(
    rr: NDArray[np.float64], arrival: NDArray[np.float64], starts: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Beat times anchored on arrival (see module docstring); ``starts`` marks forced breaks.

    Values sharing one arrival time came in one notification: the last of them ends at that
    time when the group is anchored.
    """
    n = rr.size
    t = np.empty(n)
    brk = starts.copy()
    i = 0
    last_t: float | None = None
    while i < n:
        j = i + 1
        while j < n and arrival[j] == arrival[i] and not starts[j]:
            j += 1
        a = float(arrival[i])
        group = rr[i:j] / 1000.0
        anchor = last_t is None or bool(starts[i])
        if not anchor:
            assert last_t is not None
            end = last_t + float(group.sum())
            if a - end > MAX_LAG_S:
                anchor = True
                brk[i] = True
            elif end - a > MAX_LEAD_S:
                anchor = True
        if anchor:
            ends = a - np.concatenate([np.cumsum(group[::-1])[::-1][1:], [0.0]])
        else:
            assert last_t is not None
            ends = last_t + np.cumsum(group)
        t[i:j] = ends
        last_t = float(ends[-1])
        i = j
    return t, brk


def build_series(
    name: str,
    rr_ms: ArrayLike,
    lines: Sequence[int],
    *,
    fmt: str,
    unit: str = "ms",
    beat_s: ArrayLike | None = None,
    arrival_s: ArrayLike | None = None,
    clock: bool = False,
    breaks_before: ArrayLike | None = None,
    notes: Sequence[str] = (),
) -> RRSeries:
    """Build one person's series (rules in the module docstring).

    Parameters
    ----------
    name : str
        The file, for messages.
    rr_ms : array_like
        Intervals in ms, in file order (units already resolved).
    lines : sequence of int
        The file line (or record number) of each interval, for messages.
    fmt : str
        The reader's ``NAME``.
    unit : str
        The unit the file's values were in.
    beat_s, arrival_s : array_like, optional
        Beat times, or arrival times, in seconds (at most one of them).
    clock : bool
        Whether those times are clock times (seconds since 1970): the series is then shifted
        to start at 0 and ``clock_start_s`` says when that was.
    breaks_before : array_like of bool, optional
        Intervals the file itself marks as following a gap (``after_gap``).

    Raises
    ------
    RRFileError
        No usable interval, or beat times that do not increase (names the line).
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    line_no = np.asarray(lines, dtype=np.int64)
    if rr.size == 0:
        raise RRFileError(f"{name}: no RR intervals in file")
    forced = (
        np.zeros(rr.size, dtype=bool)
        if breaks_before is None
        else np.asarray(breaks_before, dtype=bool).copy()
    )
    bad = _absurd(rr)
    n_rej = int(bad.sum())
    notes = list(notes)
    if n_rej:
        k = int(np.flatnonzero(bad)[0])
        note = (
            f"{n_rej} interval(s) outside {MIN_RR_MS:g}-{MAX_RR_MS:g} ms left out, each as a "
            f"recording gap (first at line {line_no[k]}: {rr[k]:g} ms)"
        )
        log.warning("%s: %s", name, note)
        notes.append(note)
        # the beat after a rejected interval (or a run of them) starts a new stretch
        forced[1:] |= bad[:-1]
    keep = ~bad
    if not keep.any():
        raise RRFileError(
            f"{name}: no usable RR intervals (all {rr.size} outside {MIN_RR_MS:g}-{MAX_RR_MS:g} ms)"
        )
    rr_k, lines_k, forced_k = rr[keep], line_no[keep], forced[keep]
    clock_start: float | None = None
    if beat_s is not None:
        t = np.asarray(beat_s, dtype=np.float64)[keep]
        if not np.all(np.isfinite(t)):
            k = int(np.flatnonzero(~np.isfinite(t))[0])
            raise RRFileError(f"{name}, line {lines_k[k]}: beat time is not a finite number")
        dt = np.diff(t)
        back = np.flatnonzero(dt <= 0)
        if back.size:
            k = int(back[0]) + 1
            raise RRFileError(
                f"{name}, line {lines_k[k]}: beat time {t[k]:.6g} does not increase "
                f"(previous {t[k - 1]:.6g}); if the file holds several people, give --role"
            )
        gap = np.zeros(rr_k.size, dtype=bool)
        gap[1:] = dt > rr_k[1:] / 1000.0 + GAP_TOLERANCE_S
        brk = forced_k | gap
    elif arrival_s is not None:
        a = np.asarray(arrival_s, dtype=np.float64)[keep]
        back = np.flatnonzero(np.diff(a) < -MAX_LEAD_S)
        if back.size:
            k = int(back[0]) + 1
            raise RRFileError(
                f"{name}, line {lines_k[k]}: time goes backwards by "
                f"{a[k - 1] - a[k]:.3g} s; the file is not in time order"
            )
        t, brk = _from_arrivals(rr_k, a, forced_k)
        # anchoring can only move a beat earlier than its arrival; keep times increasing
        if np.any(np.diff(t) <= 0):
            k = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
            t[k:] = np.maximum.accumulate(np.maximum(t[k:], t[k - 1] + 1e-6))
    else:
        t = np.cumsum(rr_k) / 1000.0
        brk = forced_k
    if clock:
        clock_start = float(t[0] - rr_k[0] / 1000.0)
        t = t - clock_start
    brk = brk.copy()
    brk[0] = False
    breaks = np.flatnonzero(brk).astype(np.intp)
    if not (math.isfinite(float(t[0])) and math.isfinite(float(t[-1]))):
        raise RRFileError(f"{name}: beat times are not finite")
    return RRSeries(
        rr_ms=rr_k,
        t_s=t,
        source=name,
        unit_guess=unit,
        breaks=breaks,
        clock_start_s=clock_start,
        format=fmt,
        n_rejected=n_rej,
        notes=tuple(notes),
    )
