"""Concise status lines for a live session in a log or pipe (when no terminal shows the table).

:class:`StatusLines` reads what the session controller gives every front end: the events
since its last call (every strap state change becomes one line) and the snapshot (every
``every_s`` seconds, one line per person with heart rate, beat count and last RR).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from biofeedback.beats import Event, EventKind
from biofeedback.snapshot import ParticipantSnapshot, Snapshot

__all__ = ["StatusLines", "summary"]


class StatusLines:
    """Print state changes and periodic per-person summaries.

    Parameters
    ----------
    stream : text file
        Where to print (standard output by default).
    every_s : float
        Seconds of wall time between summary lines.
    clock : callable
        Wall clock in seconds (tests may pass their own).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.every_s = every_s
        self._clock = clock
        self._next_summary: float | None = None

    def update(self, snap: Snapshot, events: Iterable[Event] = ()) -> None:
        """Print the state changes among ``events`` and, when due, a summary per person."""
        for e in events:
            if e.kind == EventKind.STATE and e.role is not None:
                reason = str(e.data.get("reason", ""))
                line = f"{e.role}: {e.data.get('state')}" + (f" ({reason})" if reason else "")
                self._print(f"[{e.t_s:7.1f} s] {line}")
        now = self._clock()
        if self._next_summary is None:
            self._next_summary = now + self.every_s
        elif now >= self._next_summary:
            self._next_summary = now + self.every_s
            for role, p in snap.participants.items():
                self._print(f"[{snap.t_s:7.1f} s] {role}: {summary(p)}")

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


def summary(p: ParticipantSnapshot) -> str:
    """One status line for a person: HR (beats/min, the snapshot's robust current rate:
    median of the last 5 regular intervals), beats, last RR (ms) and problem counts."""
    hr = "--" if math.isnan(p.hr_bpm) else f"{p.hr_bpm:.0f}"
    rr = "--" if math.isnan(p.last_rr_ms) else f"{p.last_rr_ms:.0f} ms"
    extra = []
    if p.gaps:
        extra.append(f"{p.gaps} gap{'s' if p.gaps != 1 else ''}")
    if p.strap.malformed:
        extra.append(f"{p.strap.malformed} malformed")
    tail = f", {', '.join(extra)}" if extra else ""
    return f"HR {hr} bpm, {p.n_beats} beats, last RR {rr}{tail}"
