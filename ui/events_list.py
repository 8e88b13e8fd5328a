"""The session's events as a list: markers, pacer changes, strap drop-outs and reconnects.

Fed with every event since the last frame (the controller's ``events_since`` cursor, so none is
lost however many arrive between two frames). The list keeps the newest
:data:`MAX_ROWS` rows so that a long session does not grow the window's memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QVBoxLayout

from biofeedback.terminal import describe_event

__all__ = ["MAX_ROWS", "EventsList", "event_line"]

MAX_ROWS = 500


def _clock(t_s: float) -> str:
    t = max(0, int(t_s))
    return (
        f"{t // 3600:d}:{t % 3600 // 60:02d}:{t % 60:02d}"
        if t >= 3600
        else f"{t // 60:02d}:{t % 60:02d}"
    )


def event_line(e: Any) -> str:
    """``mm:ss  words`` for one event; pacer events name all their settings."""
    text = describe_event(e)
    if e.kind == "pacer":
        d = e.data
        rate = float(d.get("rate_bpm") or 0.0)
        if rate > 0:
            share = float(d.get("inhale_share", 0.5))
            text = f"pacer at {rate:g} breaths/min, in {share * 100:.0f} % of the breath"
            holds = [
                f"hold {float(d[k]):g} s {word}"
                for k, word in (("hold_after_inhale_s", "full"), ("hold_after_exhale_s", "empty"))
                if float(d.get(k) or 0.0) > 0
            ]
            if holds:
                text += ", " + ", ".join(holds)
    return f"{_clock(e.t_s)}  {text}"


class EventsList(QFrame):
    """A titled list of event lines, newest at the bottom."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("panel")
        title = QLabel("Events")
        title.setObjectName("title")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(title)
        lay.addWidget(self.list, 1)
        self.n_seen = 0

    def add_events(self, events: Iterable[Any]) -> None:
        added = False
        for e in events:
            if e.kind in ("packet",):
                continue
            self.list.addItem(event_line(e))
            self.n_seen += 1
            added = True
        while self.list.count() > MAX_ROWS:
            self.list.takeItem(0)
        if added:
            self.list.scrollToBottom()

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]
