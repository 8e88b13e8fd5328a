"""RR files as analysis input: one person or two, aligned in time, and trimmed to a stretch.

* **Gaps.** Each recording gap a reader found (:mod:`biofeedback.formats`) becomes a ``gap``
  event, exactly as in session files, so synchrony windows and co-regulation episodes never
  bridge it and no successive difference spans it.
* **Alignment.** When both people's files carry clock times, they are aligned by them: time 0
  is the earlier of the two starts. Otherwise both start at 0 (or at their ``time_s``), and
  ``--client-offset-s`` shifts the client's beats (positive: later); it applies after clock
  alignment too, to correct a clock that was off.
* **Trimming.** ``--start`` / ``--end`` keep the beats in ``(start, end]``, given in seconds
  from time 0 or as clock times (``14:05:30`` or ``2026-04-24T14:05:30``) when the input has
  them. Gaps and events are trimmed alike.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import TYPE_CHECKING

import numpy as np

from biofeedback.beats import Event, EventKind
from biofeedback.errors import UserError
from biofeedback.formats import RRSeries, describe, read_rr_people
from biofeedback.formats.series import parse_clock

if TYPE_CHECKING:
    from biofeedback.analysis import RoleSeries, SessionInput

__all__ = ["gap_events", "load_rr_input", "parse_when", "trim"]

ROLES = ("therapist", "client")


def gap_events(role: str, t_s: np.ndarray, rr_ms: np.ndarray, breaks: np.ndarray) -> list[Event]:
    """A ``gap`` event for each break: from the beat before it to the start of the interval
    that ends at the beat after it (never shorter than nothing)."""
    out = []
    for i in np.asarray(breaks, dtype=int):
        if i <= 0 or i >= t_s.size:
            continue
        start = float(t_s[i - 1])
        end = max(start, float(t_s[i] - rr_ms[i] / 1000.0))
        out.append(Event(start, EventKind.GAP, role, {"start_s": start, "end_s": end}))
    return out


def _role_series(role: str, s: RRSeries, shift_s: float = 0.0) -> RoleSeries:
    from biofeedback.analysis import RoleSeries

    return RoleSeries(role, s.t_s + shift_s, s.rr_ms, s.breaks)


def _same(a: RRSeries, b: RRSeries) -> bool:
    return a.rr_ms.size == b.rr_ms.size and bool(np.array_equal(a.rr_ms, b.rr_ms))


def _build(
    source: str,
    people: dict[str, RRSeries],
    client_offset_s: float,
) -> SessionInput:
    from biofeedback.analysis import SessionInput

    starts = {r: s.clock_start_s for r, s in people.items()}
    clocked = [v for v in starts.values() if v is not None]
    notes: list[str] = []
    origin: float | None = None
    shifts = dict.fromkeys(people, 0.0)
    if len(people) > 1 and len(clocked) == len(people):
        origin = min(clocked)
        shifts = {r: float(v) - origin for r, v in starts.items() if v is not None}
        notes.append("aligned by the files' clock times")
    elif len(people) == 1 and clocked:
        origin = clocked[0]
    elif len(people) > 1 and clocked:
        notes.append(
            "only one of the files has clock times: both start at 0; shift the client with "
            "--client-offset-s if they did not start together"
        )
    if client_offset_s:
        if "client" not in people:
            raise UserError("--client-offset-s needs a client (--client FILE)")
        shifts["client"] = shifts.get("client", 0.0) + client_offset_s
        notes.append(f"client shifted by {client_offset_s:+g} s")
    series = {r: _role_series(r, s, shifts[r]) for r, s in people.items()}
    events: list[Event] = []
    for r, rs in series.items():
        events += gap_events(r, rs.t_s, rs.rr_ms, rs.breaks)
    events.sort(key=lambda e: e.t_s)
    meta = {
        "clock_start_s": origin,
        "files": {r: describe(s) for r, s in people.items()},
        "notes": notes,
    }
    return SessionInput(source, series, tuple(events), meta)


def load_rr_input(
    inputs: list[str],
    therapist: str | None,
    client: str | None,
    *,
    fmt: str | None = None,
    role: str | None = None,
    client_offset_s: float = 0.0,
) -> SessionInput:
    """RR file(s) as a :class:`~biofeedback.analysis.SessionInput` (see module docstring).

    One file: one person (role ``solo``), or, for a file holding a therapist and a client (a
    ``role`` column), both as a dyad unless ``role`` picks one. ``--therapist A --client B``:
    two files, one person each.

    Raises
    ------
    UserError, RRFileError
        The same recording given for both people, a person missing, bad options.
    """
    if therapist or client:
        people: dict[str, RRSeries] = {}
        for r, path in (("therapist", therapist), ("client", client)):
            if path:
                got = read_rr_people(path, fmt)
                if len(got) > 1:
                    have = " and ".join(str(k) for k in got)
                    if r not in got:
                        raise UserError(
                            f"{path}: holds {len(got)} people ({have}); give it as INPUT to "
                            "read both as a dyad, or pass one person's file"
                        )
                    people[r] = got[r]
                else:
                    people[r] = next(iter(got.values()))
        if (
            therapist
            and client
            and (therapist == client or _same(people["therapist"], people["client"]))
        ):
            raise UserError(
                f"--therapist {therapist} and --client {client} hold the same recording; "
                "synchrony of a recording with itself says nothing"
            )
        source = " + ".join(str(x) for x in (therapist, client) if x)
        return _build(source, people, client_offset_s)
    path = inputs[0]
    got = read_rr_people(path, fmt)
    if role is not None:
        if role in got:
            return _build(path, {role: got[role]}, client_offset_s)
        if list(got) == [None]:
            return _build(path, {role: got[None]}, client_offset_s)
        have = ", ".join(str(k) for k in got)
        raise UserError(f"{path}: holds no person {role!r} (it holds {have})")
    if len(got) == 1:
        only = next(iter(got))
        r = only if only in (*ROLES, "solo") else "solo"
        return _build(path, {r: got[only]}, client_offset_s)
    if set(ROLES) <= set(got):
        extra = sorted(str(k) for k in got if k not in ROLES)
        if extra:
            raise UserError(
                f"{path}: holds {len(got)} people ({', '.join(str(k) for k in got)}); "
                "choose one with --role"
            )
        return _build(path, {r: got[r] for r in ROLES}, client_offset_s)
    have = " and ".join(str(k) for k in got)
    raise UserError(f"{path}: this file holds {len(got)} people ({have}): choose one with --role")


_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_when(text: str, clock_start_s: float | None, what: str) -> float:
    """Seconds from time 0 of a ``--start`` / ``--end`` value.

    Plain numbers are seconds; ``HH:MM[:SS]`` is a time of day on the day the input starts;
    an ISO date-time is taken as it stands. Clock times need an input with clock times.

    Raises
    ------
    UserError
        Not a number or time, or a clock time for an input without clock times.
    """
    s = text.strip()
    try:
        v = float(s)
    except ValueError:
        v = math.nan
    else:
        if not math.isfinite(v):
            raise UserError(f"{what} must be a finite number of seconds or a clock time, not {s!r}")
        return v
    clock: float | None
    if _TIME_OF_DAY.match(s):
        if clock_start_s is None:
            raise UserError(f"{what} {s}: this input has no clock times; give seconds instead")
        day = _dt.datetime.fromtimestamp(clock_start_s, _dt.UTC).date()
        parts = [float(x) for x in s.split(":")]
        secs = parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0.0)
        clock = _dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC).timestamp() + secs
        if clock < clock_start_s - 12 * 3600:  # a recording that ran past midnight
            clock += 86400
    else:
        clock = parse_clock(s)
        if clock is None:
            raise UserError(
                f"{what} must be seconds (e.g. 120) or a clock time (14:05:30 or "
                f"2026-04-24T14:05:30), not {s!r}"
            )
        if clock_start_s is None:
            raise UserError(f"{what} {s}: this input has no clock times; give seconds instead")
    return clock - clock_start_s


def trim(data: SessionInput, start: str | None, end: str | None) -> SessionInput:
    """``data`` cut to the beats in ``(start, end]`` (see :func:`parse_when`).

    Beats whose predecessor was cut away start a new stretch (a break), so no successive
    difference reaches outside the stretch.

    Raises
    ------
    UserError
        Bad values, an end before the start, or a stretch holding no beats.
    """
    from dataclasses import replace

    from biofeedback.analysis import RoleSeries

    if start is None and end is None:
        return data
    clock0 = data.meta.get("clock_start_s") if data.meta else None
    a = parse_when(start, clock0, "--start") if start is not None else -math.inf
    b = parse_when(end, clock0, "--end") if end is not None else math.inf
    if not b > a:
        raise UserError(f"--end ({end}) must be after --start ({start})")
    series = {}
    for r, s in data.series.items():
        keep = (s.t_s > a) & (s.t_s <= b)
        idx = np.flatnonzero(keep)
        brk = np.zeros(s.t_s.size, dtype=bool)
        brk[s.breaks] = True
        new_breaks = np.flatnonzero(brk[idx]).astype(np.intp)
        series[r] = RoleSeries(r, s.t_s[idx], s.rr_ms[idx], new_breaks[new_breaks > 0])
    if not any(s.t_s.size for s in series.values()):
        raise UserError(f"{data.source}: no beats between --start {start} and --end {end}")

    def _inside(e: Event) -> bool:
        if e.kind in (EventKind.PACER, EventKind.BASELINE):
            return True  # settings in force during the stretch
        if e.kind == EventKind.GAP and "start_s" in e.data and "end_s" in e.data:
            return float(e.data["end_s"]) >= a and float(e.data["start_s"]) <= b
        return a <= e.t_s <= b

    events = tuple(e for e in data.events if _inside(e))
    meta = dict(data.meta)
    meta["trimmed_s"] = [None if math.isinf(a) else a, None if math.isinf(b) else b]
    return replace(data, series=series, events=events, meta=meta)
