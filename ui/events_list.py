"""The session's events as a list: markers, pacer changes, strap drop-outs and reconnects.

Fed with every event since the last frame (the controller's ``events_since`` cursor, so none is
lost however many arrive between two frames). The list keeps the newest
:data:`MAX_ROWS` rows so that a long session does not grow the window's memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QVBoxLayout

from biofeedback.terminal import clock_text, describe_event

__all__ = ["MAX_ROWS", "EventsList", "event_line"]

MAX_ROWS = 500


def event_line(e: Any) -> str:
    """``mm:ss  words`` for one event, worded as in the terminal view (pacer events name all
    their settings there)."""
    return f"{clock_text(e.t_s)}  {describe_event(e)}"


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

    def add_lines(self, lines: Iterable[str]) -> None:
        """Add finished lines of text (e.g. a heart-rate rise described in words)."""
        for line in lines:
            self.list.addItem(line)
        while self.list.count() > MAX_ROWS:
            self.list.takeItem(0)
        self.list.scrollToBottom()

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]
