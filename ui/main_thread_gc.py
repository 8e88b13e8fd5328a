"""Cyclic garbage collected on the GUI thread only, while a window runs.

CPython's cyclic garbage collector runs in whichever thread happens to allocate when a
generation's threshold is crossed. When that is the session's worker thread and the garbage
holds Qt widgets (a closed window left in a reference cycle), Qt destroys those widgets off the
GUI thread, and with PySide6 the two threads can deadlock: the worker in a widget destructor
waiting for the GIL, the GUI thread in ``~QObject`` waiting for Qt's lock. The window freezes,
and the worker, which records the session, stops with it (seen in this project's test suite:
``~QGraphicsScene`` in the worker against ``~QObject`` on the GUI thread).

:class:`MainThreadCollector` turns automatic collection off while the dashboard runs and
collects on a timer of the GUI thread instead: the youngest generation every second, the
middle one every 10 s and all of them every minute. Reference counting, which frees almost
everything, is untouched; only cycles wait for the timer. Collection is switched back on when
the window's run ends.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["MainThreadCollector"]


class MainThreadCollector:
    """Collect cyclic garbage from a ``QTimer`` on the GUI thread, never from other threads.

    Parameters
    ----------
    parent : QObject
        Owner of the timer (the window).
    every_s : float
        Seconds between collections of the youngest generation.
    middle_every, full_every : int
        Every this many ticks, collect generation 1, respectively all generations.
    """

    def __init__(
        self, parent: Any, every_s: float = 1.0, middle_every: int = 10, full_every: int = 60
    ) -> None:
        from PySide6.QtCore import QTimer

        self._every_ms = max(1, round(every_s * 1000))
        self._middle_every = middle_every
        self._full_every = full_every
        self._ticks = 0
        self._was_enabled = gc.isenabled()
        self.timer = QTimer(parent)
        self.timer.timeout.connect(self.collect)

    def start(self) -> MainThreadCollector:
        """Switch automatic collection off and start the timer."""
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer.start(self._every_ms)
        return self

    def collect(self) -> int:
        """One tick: collect the generation due now; returns the number of objects found."""
        self._ticks += 1
        if self._ticks % self._full_every == 0:
            return gc.collect(2)
        if self._ticks % self._middle_every == 0:
            return gc.collect(1)
        return gc.collect(0)

    def stop(self) -> None:
        """Stop the timer, collect everything once here, and restore automatic collection."""
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
