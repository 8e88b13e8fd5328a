"""Time axes that read like a clock: "minutes before now" for the traces, the session clock for
the synchrony panel.

* :func:`before_now_ticks` labels a trace's fixed x axis, in seconds relative to now, as
  ``−2:00 −1:30 −1:00 −0:30 now`` (minutes:seconds, a true minus sign). The axis never moves
  (see :mod:`ui.trace`), so these ticks are set once per trace length.
* :class:`SessionClockAxis` labels session time in seconds the way the events list and the
  window's clock do (``05:00``, ``1:30:00``), at steps of whole minutes once the session is
  longer than a few minutes.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

from biofeedback.terminal import clock_text

__all__ = ["SessionClockAxis", "before_now_text", "before_now_ticks", "label_overhang_px"]

#: Labelled tick spacing (s) for each trace length (s): four to six labels across the plot.
_TICK_STEP_S = {60: 15, 120: 30, 180: 30, 300: 60}
#: Steps a session-clock axis picks from (s), the first that leaves room for every label.
CLOCK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def before_now_text(t_s: float) -> str:
    """``now`` for 0, ``−m:ss`` for ``t_s`` < 0 (seconds before now), ``+m:ss`` after."""
    t = round(t_s)
    if t == 0:
        return "now"
    sign = "−" if t < 0 else "+"
    t = abs(t)
    return f"{sign}{t // 60}:{t % 60:02d}"


def before_now_ticks(window_s: float) -> list[list[tuple[float, str]]]:
    """Major ticks ``[(x, text), ...]`` and minor ticks of a trace showing ``window_s`` s.

    ``x`` is in seconds relative to now (``0`` is "now", ``-60`` a minute ago); majors every
    15, 30 or 60 s from now back to ``-window_s``, minors halfway between.
    """
    step = _TICK_STEP_S.get(int(window_s), 30 if window_s <= 180 else 60)
    n = int(window_s // step + 1e-9)
    major: list[tuple[float, str]] = [(-k * step, before_now_text(-k * step)) for k in range(n + 1)]
    minor: list[tuple[float, str]] = [(-(k + 0.5) * step, "") for k in range(n)]
    return [major, minor]


def label_overhang_px(font: QFont, widest: str = "−0:00") -> int:
    """Pixels a centred tick label ``widest`` reaches past the end of its axis (for
    ``AxisItem.setStyle(hideOverlappingLabels=...)``: the first and last labels stay shown
    when they fit in that margin)."""
    return int(QFontMetricsF(font).horizontalAdvance(widest) / 2 + 2)


class SessionClockAxis(pg.AxisItem):
    """A bottom axis in session seconds, labelled ``mm:ss`` (``h:mm:ss`` from one hour).

    The step is the smallest of :data:`CLOCK_STEPS_S` that leaves about ``min_label_px``
    pixels per label; minor ticks halve it.
    """

    def __init__(self, orientation: str = "bottom", min_label_px: float = 70.0, **kw) -> None:
        super().__init__(orientation, **kw)
        self.min_label_px = min_label_px

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        span = maxVal - minVal
        if not span > 0 or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        room = max(size / self.min_label_px, 2.0)
        step = next((s for s in CLOCK_STEPS_S if span / s <= room), None)
        if step is None:
            step = CLOCK_STEPS_S[-1] * int(span / room // CLOCK_STEPS_S[-1] + 1)
        return [(float(step), 0.0), (step / 2.0, 0.0)]

    def tickStrings(self, values, scale, spacing):
        return [clock_text(v) if v >= 0 else "" for v in values]
