"""Concise terminal status lines for a live session (a consumer of :class:`LiveSnapshot`).

:class:`StatusLines` pulls snapshots (it never touches the worker thread) and prints one line
per connection-state change and, every ``every_s`` seconds, one line per role with heart rate,
beat count and last RR. A richer terminal view or the dashboard replaces it by pulling the
same snapshots.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from biofeedback.beats import Event, EventKind, SourceItem
from biofeedback.live import LiveSnapshot, RoleStatus

__all__ = ["StatusLines"]


class StatusLines:
    """Print state changes and periodic per-role summaries.

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
        self._states: dict[str, tuple[str, str]] = {}
        self._next_summary: float | None = None

    def feed(self, item: SourceItem) -> None:
        """Print a connection-state change as it happens (items from
        :meth:`~biofeedback.live.LiveSession.subscribe`); other items are ignored."""
        if isinstance(item, Event) and item.kind == EventKind.STATE and item.role is not None:
            state = str(item.data.get("state"))
            self._state_line(item.t_s, item.role, state, str(item.data.get("reason", "")))

    def update(self, snap: LiveSnapshot) -> None:
        """Print what changed since the last call (call it a few times a second)."""
        for role, st in snap.roles.items():
            if st.reason:  # an empty reason is the placeholder before the first state event
                self._state_line(snap.t_s, role, st.state, st.reason)
        now = self._clock()
        if self._next_summary is None:
            self._next_summary = now + self.every_s
        elif now >= self._next_summary:
            self._next_summary = now + self.every_s
            for role, st in snap.roles.items():
                self._print(f"[{snap.t_s:7.1f} s] {role}: {summary(st)}")

    def _state_line(self, t_s: float, role: str, state: str, reason: str) -> None:
        if self._states.get(role) != (state, reason):
            self._states[role] = (state, reason)
            self._print(f"[{t_s:7.1f} s] {role}: {state}" + (f" ({reason})" if reason else ""))

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


def summary(st: RoleStatus) -> str:
    """One status line for a role: HR (beats/min), beats, last RR (ms) and problem counts."""
    hr = "--" if st.hr_bpm is None else f"{st.hr_bpm:d}"
    rr = "--" if st.last_rr_ms is None else f"{st.last_rr_ms:.0f} ms"
    extra = []
    if st.gaps:
        extra.append(f"{st.gaps} gap{'s' if st.gaps != 1 else ''}")
    if st.malformed:
        extra.append(f"{st.malformed} malformed")
    tail = f", {', '.join(extra)}" if extra else ""
    return f"HR {hr} bpm, {st.beats} beats, last RR {rr}{tail}"
