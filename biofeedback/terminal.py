"""The live terminal view (``--no-ui``): one row per participant plus recent events.

It pulls :meth:`biofeedback.engine.Engine.snapshot` a few times a second, like the dashboard
will, and never touches the data path: a slow terminal cannot delay recording.
"""

from __future__ import annotations

import math
import sys
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from biofeedback.beats import Event, EventKind
from biofeedback.engine import Snapshot

__all__ = ["TerminalView", "describe_event", "render_snapshot"]


def _num(v: float, fmt: str = ".0f", unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:{fmt}}{unit}"


def _clock(t_s: float) -> str:
    t = max(0, int(t_s))
    return (
        f"{t // 3600:d}:{t % 3600 // 60:02d}:{t % 60:02d}"
        if t >= 3600
        else f"{t // 60:02d}:{t % 60:02d}"
    )


def describe_event(e: Event) -> str:
    """One short, plain line for an event."""
    who = f"{e.role}: " if e.role else ""
    d = e.data
    if e.kind == EventKind.GAP:
        return (
            f"{who}no beats from {_clock(d.get('start_s', 0))} to {_clock(d.get('end_s', 0))}"
            f" ({d.get('reason', 'gap')})"
        )
    if e.kind == EventKind.PACER:
        rate = float(d.get("rate_bpm") or 0)
        return f"pacer {'off' if rate <= 0 else f'at {rate:g} breaths/min'}"
    if e.kind == EventKind.MARKER:
        return f"marker: {d.get('text', '')}"
    if e.kind == EventKind.MALFORMED:
        return f"{who}skipped an unreadable notification ({d.get('error', '')})"
    if e.kind == EventKind.DISCONNECT:
        return f"{who}strap disconnected ({d.get('reason', 'no reason given')})"
    if e.kind == EventKind.CONNECT:
        return f"{who}strap connected"
    if e.kind == EventKind.STATE:
        reason = d.get("reason")
        return f"{who}{d.get('state', '?')}" + (f" ({reason})" if reason else "")
    if e.kind == EventKind.RESYNC:
        return f"{who}beat clock re-aligned by {float(d.get('shift_s', 0)):+.1f} s"
    if e.kind == EventKind.END:
        return "end of session"
    return f"{who}{e.kind}"


def render_snapshot(snap: Snapshot, title: str = "co-regulation monitor") -> Group:
    """A rich renderable of one snapshot (also used by tests)."""
    pacer = "off" if snap.pacer_bpm is None else f"{snap.pacer_bpm:g} breaths/min"
    head = Text.assemble((title, "bold"), f"   session time {_clock(snap.t_s)}   pacer {pacer}")
    table = Table(expand=False, header_style="bold")
    for col in (
        "person",
        "strap",
        "HR bpm",
        "last RR ms",
        "RMSSD 60 s ms",
        "beats",
        "gaps",
        "note",
    ):
        table.add_column(col, justify="left" if col in ("person", "strap", "note") else "right")
    for role, p in snap.participants.items():
        note = "" if p.reliable else f"settling: {p.unreliable_reason}"
        table.add_row(
            role,
            p.connection,
            _num(p.hr_bpm),
            _num(p.last_rr_ms),
            _num(p.rmssd_ms, ".1f") + ("" if p.reliable else " ?"),
            str(p.n_beats),
            str(p.gaps),
            note,
        )
    events = Table.grid()
    for e in snap.recent_events[-6:]:
        events.add_row(Text(f"{_clock(e.t_s)}  {describe_event(e)}", style="dim"))
    return Group(head, table, events)


class TerminalView:
    """Shows engine snapshots in the terminal until :meth:`stop`.

    Parameters
    ----------
    engine
        Anything with ``snapshot() -> Snapshot``.
    refresh_hz : float
        Redraws per second.
    file : text stream
        Where to draw (standard output by default). When it is not a terminal, only the final
        state is printed.
    """

    def __init__(
        self,
        engine,
        *,
        title: str = "co-regulation monitor",
        refresh_hz: float = 4.0,
        file: TextIO | None = None,
    ) -> None:
        self.engine = engine
        self.title = title
        self.console = Console(file=file or sys.stdout)
        self._live = Live(
            self._render(),
            console=self.console,
            refresh_per_second=refresh_hz,
            get_renderable=self._render,
            transient=False,
        )

    def _render(self) -> Group:
        return render_snapshot(self.engine.snapshot(), self.title)

    def __enter__(self) -> TerminalView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.update(self._render(), refresh=True)
        self._live.__exit__(None, None, None)
