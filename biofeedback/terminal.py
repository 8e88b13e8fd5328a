"""The live terminal view (``--no-ui``): one row per participant plus recent events.

It pulls :meth:`biofeedback.engine.Engine.snapshot` a few times a second, like the dashboard
will, and never touches the data path: a slow terminal cannot delay recording.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from biofeedback.beats import Event, EventKind
from biofeedback.coregulation import NOT_A_DIAGNOSIS
from biofeedback.snapshot import Snapshot
from hrv.episode_words import describe_episode
from hrv.pacer import PacerSettings, PacerTimeline
from hrv.synchrony import describe as describe_synchrony

__all__ = ["TerminalView", "describe_event", "render_snapshot"]


def _num(v: float, fmt: str = ".0f", unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:{fmt}}{unit}"


def clock_text(t_s: float) -> str:
    """Session time as ``mm:ss`` (``h:mm:ss`` from one hour), never negative."""
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
            f"{who}no beats from {clock_text(d.get('start_s', 0))} "
            f"to {clock_text(d.get('end_s', 0))}"
            f" ({d.get('reason', 'gap')})"
        )
    if e.kind == EventKind.PACER:
        return _describe_pacer(d)
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
    if e.kind == EventKind.BASELINE:
        state = d.get("state")
        if state == "start":
            return f"resting baseline begins ({float(d.get('duration_s') or 0) / 60:g} min)"
        return {"end": "resting baseline ends", "skipped": "resting baseline skipped"}.get(
            str(state), "resting baseline"
        )
    if e.kind == EventKind.ASSESSMENT:
        state = d.get("state")
        if state == "step":
            return (
                f"assessment step {int(d.get('index', 0)) + 1}: "
                f"{float(d.get('rate_bpm') or 0):g} breaths/min"
            )
        return {
            "rest": "assessment: rest",
            "end": "assessment complete",
            "cancelled": "assessment stopped early",
        }.get(str(state), "assessment")
    return f"{who}{e.kind}"


_GUIDE_WORDS = {
    "in": "breathe in ",
    "hold_in": "hold       ",
    "out": "breathe out",
    "hold_out": "hold       ",
}


def _describe_pacer(data: Mapping[str, Any]) -> str:
    """``pacer at 5.5 breaths/min (in 40 % of the breath, hold 1 s after in, 1.5 s after out)``."""
    try:
        settings = PacerSettings.from_dict(data, strict=False)
    except ValueError:
        return "pacer change (unreadable settings)"
    if settings is None:
        return "pacer off"
    text = f"pacer at {settings.rate_bpm:g} breaths/min"
    extra = []
    if settings.inhale_share != 0.5:
        extra.append(f"in {100 * settings.inhale_share:.0f} % of the breath")
    holds = [
        f"{h:g} s after {where}"
        for h, where in (
            (settings.hold_after_inhale_s, "in"),
            (settings.hold_after_exhale_s, "out"),
        )
        if h > 0
    ]
    if holds:
        extra.append("hold " + ", ".join(holds))
    return text + (f" ({', '.join(extra)})" if extra else "")


def breathing_guide(timeline: PacerTimeline, now_s: float, width: int = 30) -> str:
    """One line that fills while breathing in and empties while breathing out.

    Drawn from the pacer model (:class:`hrv.pacer.PacerTimeline`): the stage at ``now_s``
    (in, hold, out, hold) and the progress through it, so inhale share, holds and changes
    look exactly as the pacer defines them. Empty when the pacer is off.
    """
    stage = timeline.stage(now_s)
    if stage is None:
        return ""
    x = float(timeline.stage_progress(now_s))
    level = {"in": x, "hold_in": 1.0, "out": 1.0 - x, "hold_out": 0.0}[str(stage)]
    filled = round(level * width)
    return f"{_GUIDE_WORDS[str(stage)]}  [{'█' * filled}{'·' * (width - filled)}]"


def render_snapshot(
    snap: Snapshot, title: str = "co-regulation monitor", now_s: float | None = None
) -> Group:
    """A rich renderable of one snapshot (also used by tests).

    ``now_s`` is the current session time for the breathing guide (default: the snapshot's).
    """
    pacer = "off" if snap.pacer_bpm is None else f"{snap.pacer_bpm:g} breaths/min"
    head = Text.assemble((title, "bold"), f"   session time {clock_text(snap.t_s)}   pacer {pacer}")
    if snap.pacer_bpm is not None:
        guide = breathing_guide(snap.pacer_timeline, snap.t_s if now_s is None else now_s)
        head = Text.assemble(head, "\n", (guide, "cyan"))
    if snap.message:  # e.g. "recording stopped ...: database or disk is full"
        head = Text.assemble(head, "\n", (snap.message, "bold red"))
    table = Table(
        expand=False, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1)
    )
    paced = snap.pacer_bpm is not None
    cols = ["person", "strap", "HR", "RR", "RMSSD", "irreg."]
    cols += ["RSA"] if paced else ["breaths"]
    cols += ["coher.", "beats"]
    for col in cols:
        table.add_column(col, justify="left" if col in ("person", "strap") else "right")
    notes: list[str] = []
    for role, p in snap.participants.items():
        mark = "" if p.reliable else "?"
        if not p.reliable:
            notes.append(f"{role}: values marked ? are unreliable ({p.unreliable_reason})")
        if p.gaps:
            notes.append(f"{role}: {p.gaps} gap{'s' if p.gaps > 1 else ''} in the recording")
        table.add_row(
            role,
            p.strap.state,
            _num(p.hr_bpm),
            _num(p.last_rr_ms),
            _num(p.rmssd_ms, ".1f") + mark,
            _num(p.burden_pct, ".0f", " %"),
            _num(p.rsa_amplitude_ms, ".0f") + mark if paced else _num(p.breathing_rate_bpm, ".1f"),
            _num(p.coherence_ratio, ".1f"),
            str(p.n_beats),
        )
    legend = Text(
        "HR beats/min (median of the last 5 regular beats), last RR and RMSSD over 60 s in "
        "ms, irregular intervals in % of recent beats, "
        + ("RSA amplitude at the pacer in ms, " if paced else "breathing rate per minute, ")
        + "coherence ratio",
        style="dim",
    )
    note_text = Text("\n".join(notes), style="yellow") if notes else Text("")
    sync_text = Text("")
    if snap.synchrony is not None:
        sy = snap.synchrony
        sync_text = Text.assemble(("together: ", "bold"), describe_synchrony(sy))
        # The numbers behind the words; not while both follow the pacer, where a strength
        # above the band is the shared breathing rhythm and would read as synchrony.
        if math.isfinite(sy.value) and sy.band is not None and not sy.pacer_driven:
            sync_text.append(
                f"\n          in-phase strength {sy.value:.2f}, chance band up to {sy.band[1]:.2f}",
                style="dim",
            )
    coreg_text = _coregulation_text(snap)
    events = Table.grid()
    for e in snap.recent_events[-6:]:
        events.add_row(Text(f"{clock_text(e.t_s)}  {describe_event(e)}", style="dim"))
    return Group(head, table, legend, note_text, sync_text, coreg_text, events)


#: Words for a person's heart-rate rise state (:class:`biofeedback.snapshot.CoregulationSnapshot`).
RISE_STATE_WORDS = {
    None: "no rise so far",
    "rising": "rising",
    "settling": "settling",
    "settled": "settled again",
}


def _coregulation_text(snap: Snapshot) -> Text:
    """Each person's heart-rate rise state and the last two finished episodes, in words."""
    co = snap.coregulation
    if not co.states:
        return Text("")
    states = ", ".join(f"{role} {RISE_STATE_WORDS.get(st, st)}" for role, st in co.states.items())
    text = Text.assemble(("heart-rate rises: ", "bold"), states, (f"  ({NOT_A_DIAGNOSIS})", "dim"))
    for e in co.episodes[-2:]:
        text.append("\n          " + describe_episode(e), style="dim")
    return text


class TerminalView:
    """Shows engine snapshots in the terminal until :meth:`stop`.

    Parameters
    ----------
    engine
        Anything with ``snapshot() -> Snapshot``.
    clock : callable, optional
        Current session time (s), so the breathing guide moves smoothly between beats; without
        it the guide follows the snapshot's time.
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
        clock: Callable[[], float] | None = None,
        title: str = "co-regulation monitor",
        refresh_hz: float = 4.0,
        file: TextIO | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.title = title
        self.console = Console(file=file or sys.stdout)
        if not self.console.is_terminal:  # a log file or pipe: no need to fit 80 columns
            self.console = Console(file=file or sys.stdout, width=120)
        self._live = Live(
            self._render(),
            console=self.console,
            refresh_per_second=refresh_hz,
            get_renderable=self._render,
            transient=False,
        )

    def _render(self) -> Group:
        now = self.clock() if self.clock is not None else None
        return render_snapshot(self.engine.snapshot(), self.title, now)

    def __enter__(self) -> TerminalView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.update(self._render(), refresh=True)
        self._live.__exit__(None, None, None)
        self.console.line()
