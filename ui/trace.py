"""A person's scrolling heart-rate trace: in-breath shading, artifact marks, gaps left open.

:class:`HeartRateTrace` draws the beats of the last 1-5 minutes (one point per beat,
``60000 / RR``) from a snapshot's arrays. A recording gap is a break in the line
(:func:`ui.series.trace_xy` and ``connect="finite"``); beats the artifact check flagged are
marked with a cross; the pacer's in-breath stretches are shaded behind the line, so a user can
see the heart rate rise on the in-breath and fall on the out-breath. A dotted line marks "now";
a short stretch right of it shows the pacer's coming breaths (no data there yet).

**The x axis is time before now** (``−2:00 … −0:30  now``, minutes:seconds), fixed: the view
always spans ``[-window_s, LOOK_AHEAD * window_s]`` seconds around "now", and what scrolls is
the drawing, not the axis. The line, the marks and the shading keep their data in session
time (s) and are moved left by the session clock as a whole (``setPos(-now_s, 0)``, no data
copied or path rebuilt). This is for frame time: a moving x range makes pyqtgraph regenerate
both axes (tick values and strings) and repaint each plot twice whenever the trace moves by a
pixel, 4-5 ms per trace in software rendering; with the axes fixed they stay cached and only
the plot area repaints. The session clock itself is in the window's top row.

Work per frame is small and bounded: the line and marks are set only when the snapshot's
version changed; between versions the drawing moves only when it would move by a whole pixel.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from hrv.pacer import PacerTimeline
from ui.series import in_breath_spans, trace_xy, without_flagged
from ui.theme import Theme, role_style
from ui.time_axis import before_now_ticks, label_overhang_px

__all__ = ["WINDOW_CHOICES_S", "BandsItem", "HeartRateTrace", "style_plot"]

#: Share of the window shown ahead of "now" (the pacer's coming breaths, no data yet).
LOOK_AHEAD = 0.08
#: Share of the window of beats kept left of it (drawn outside the view, clipped).
KEEP_MARGIN = 0.25
#: Trace lengths a user can pick, seconds.
WINDOW_CHOICES_S = (60, 120, 180, 300)


def _color(hex_color: str, alpha: int = 255) -> QColor:
    c = QColor(hex_color)
    c.setAlpha(alpha)
    return c


class BandsItem(QGraphicsPathItem):
    """Vertical stretches ``[x0, x1]`` filled between two y values (data coordinates).

    Added to a plot with ``ignoreBounds=True`` so it never moves the autoscale. The path is
    rebuilt only when the stretches or the y extent change.
    """

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setBrush(QBrush(color))
        self._key: tuple = ()

    def set_color(self, color: QColor) -> None:
        self.setBrush(QBrush(color))

    def set_spans(self, spans, y0: float, y1: float) -> None:
        """Fill ``spans`` (pairs of x) from ``y0`` to ``y1``."""
        key = (tuple(map(tuple, spans)), y0, y1)
        if key == self._key:
            return
        self._key = key
        path = QPainterPath()
        for a, b in spans:
            path.addRect(QRectF(float(a), y0, float(b) - float(a), y1 - y0))
        self.setPath(path)

    @property
    def n_spans(self) -> int:
        return len(self._key[0]) if self._key else 0


def style_plot(plot: pg.PlotItem, theme: Theme, font_pt: float) -> None:
    """Axis colours and fonts of ``plot`` for ``theme`` at ``font_pt`` points."""
    font = QFont()
    font.setPointSizeF(font_pt * 0.9)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(theme.muted))
        axis.setTextPen(pg.mkPen(theme.foreground))
        axis.setStyle(tickFont=font)
        axis.label.setFont(font)
    # The first and last clock labels may reach a little past the plot's ends.
    plot.getAxis("bottom").setStyle(hideOverlappingLabels=label_overhang_px(font))
    plot.showGrid(x=False, y=False)


class HeartRateTrace(pg.PlotWidget):
    """Scrolling heart-rate trace of one person (see the module docstring).

    Parameters
    ----------
    role : str
        ``therapist``, ``client`` or ``solo``: sets colour, dash and marker.
    theme : Theme
    font_pt : float
    window_s : float
        Seconds of history shown.
    """

    def __init__(self, role: str, theme: Theme, font_pt: float, window_s: float = 120.0) -> None:
        super().__init__(background=theme.panel)
        self.role = role
        self.window_s = float(window_s)
        self.line_width = 2.2
        self._version: object = -1
        self._scrolled_to = -math.inf
        self._slot: int | None = None  # which pixel step the drawing is at; None: move it
        self._scrolled_pacer: PacerTimeline | None = None
        #: Where within a pixel step this trace moves (0-1): the dashboard gives each trace
        #: its own, so two traces never repaint in the same frame.
        self.scroll_phase = 0.0
        self._y_range = (50.0, 100.0)
        self._y_shown: tuple[float, float] | None = None
        plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        plot.setLabel("left", "heart rate (beats/min)")
        plot.setLabel("bottom", "time before now (min:s)")
        self.shading = BandsItem(QColor())
        plot.addItem(self.shading, ignoreBounds=True)
        self.shading.setZValue(-10)
        # No clipToView: update_beats already hands over only the beats in view, and the
        # drawing moves by setPos, which clipping (done on view-range changes) would not see.
        self.curve = pg.PlotDataItem(connect="finite")
        plot.addItem(self.curve)
        self.artifacts = pg.ScatterPlotItem(symbol="x", size=11)
        plot.addItem(self.artifacts)
        self.now_line = pg.InfiniteLine(pos=0.0, angle=90, movable=False)
        plot.addItem(self.now_line, ignoreBounds=True)
        self._set_x_axis()
        self.apply_theme(theme, font_pt)

    def apply_theme(self, theme: Theme, font_pt: float) -> None:
        """Recolour for ``theme`` and resize the fonts."""
        self.theme = theme
        style = role_style(theme, self.role)
        self.setBackground(theme.panel)
        style_plot(self.getPlotItem(), theme, font_pt)
        self.curve.setPen(pg.mkPen(style.color, width=self.line_width, style=style.dash))
        self.artifacts.setPen(pg.mkPen(theme.artifact, width=2))
        self.artifacts.setBrush(pg.mkBrush(theme.artifact))
        self.shading.set_color(_color(theme.in_breath, theme.in_breath_alpha))
        self.now_line.setPen(pg.mkPen(theme.muted, width=1, style=Qt.PenStyle.DotLine))

    def set_line_width(self, width: float) -> None:
        self.line_width = width
        style = role_style(self.theme, self.role)
        self.curve.setPen(pg.mkPen(style.color, width=width, style=style.dash))

    def set_window_s(self, window_s: float) -> None:
        """Show the last ``window_s`` seconds (redrawn at the next update)."""
        self.window_s = float(window_s)
        self._version = -1
        self._slot = None
        self._set_x_axis()

    def _set_x_axis(self) -> None:
        """The fixed view ``[-window_s, LOOK_AHEAD * window_s]`` s around now, with its ticks."""
        self.setXRange(-self.window_s, LOOK_AHEAD * self.window_s, padding=0)
        self.getPlotItem().getAxis("bottom").setTicks(before_now_ticks(self.window_s))

    def _set_y_range(self) -> None:
        if self._y_range != self._y_shown:  # an unchanged range would still repaint the axis
            self._y_shown = self._y_range
            self.setYRange(*self._y_range, padding=0.02)

    @property
    def now_s(self) -> float:
        """Session time (s) the drawing is placed at: x = 0 on the axis ("now")."""
        return self._scrolled_to

    def update_beats(
        self,
        version: object,
        t_s: NDArray[np.float64],
        hr_bpm: NDArray[np.float64],
        artifact: NDArray[np.int8],
        after_gap: NDArray[np.bool_],
        now_s: float,
    ) -> None:
        """Set the line and the artifact marks (only when ``version``, any change key, moved)."""
        if version == self._version:
            return
        self._version = version
        t0 = now_s - self.window_s
        # A margin left of the window: the line still reaches the left edge if the clock the
        # drawing is placed by steps back a little (a fast replay's clock slips to the data).
        t_kept, hr_kept, gap_kept, t_flag, y_flag = without_flagged(
            t_s, hr_bpm, after_gap, artifact
        )
        x, y = trace_xy(t_kept, hr_kept, gap_kept, t0 - KEEP_MARGIN * self.window_s)
        self.curve.setData(x, y, connect="finite")
        on_line = np.isfinite(y_flag)
        self.artifacts.setData(t_flag[on_line], y_flag[on_line])
        # The range follows the beats already found normal; one still being classified may be
        # a premature beat, whose spike is clipped for the second or two until it is flagged.
        art = np.asarray(artifact)
        normal = art[art <= 0] == 0  # the kept beats' classes: 0 normal, -1 not yet known
        seen = hr_kept[normal & np.isfinite(hr_kept) & (t_kept >= t0)]
        if not seen.size:
            seen = y[np.isfinite(y) & (x >= t0)]
        if seen.size:
            lo = 5.0 * math.floor((float(seen.min()) - 3.0) / 5.0)
            hi = 5.0 * math.ceil((float(seen.max()) + 3.0) / 5.0)
            y_range = (lo, max(hi, lo + 20.0))
            if y_range != self._y_range:
                self._y_range = y_range
                self._slot = None
        self._set_y_range()

    def scroll(self, now_s: float, pacer: PacerTimeline | None) -> None:
        """Place the drawing so that session time ``now_s`` is at "now" (x = 0); shade the
        in-breaths in view.

        The drawing moves in whole pixel steps of session time (a 2-minute trace 500 pixels
        wide moves a pixel every 0.26 s), when ``now_s`` enters the next step, offset by
        :attr:`scroll_phase`; the pacer changing moves it at once. The axes never change here.
        """
        width_px = max(self.getPlotItem().getViewBox().width(), 1.0)
        px_s = (1.0 + LOOK_AHEAD) * self.window_s / width_px
        slot = math.floor(now_s / px_s + self.scroll_phase)
        if slot == self._slot and pacer is self._scrolled_pacer:
            return
        self._slot, self._scrolled_to, self._scrolled_pacer = slot, now_s, pacer
        for item in (self.curve, self.artifacts, self.shading):
            item.setPos(-now_s, 0.0)
        # A short look-ahead right of the dotted "now" line shows the pacer's next breaths;
        # in the first minutes nothing is drawn left of the session's start.
        t0 = max(now_s - self.window_s, 0.0)
        t1 = now_s + LOOK_AHEAD * self.window_s
        spans = in_breath_spans(pacer, t0, t1) if pacer is not None else []
        # Quantise to 20 ms so the path is rebuilt only when a stretch visibly changes.
        spans = [(round(a, 2), round(b, 2)) for a, b in spans]
        lo, hi = self._y_range
        pad = 0.05 * (hi - lo)
        self.shading.set_spans(spans, lo - pad, hi + pad)

    @property
    def points(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The drawn line's x (session time, s; on screen at ``x - now_s``) and y (``nan`` at
        each gap), for tests."""
        x, y = self.curve.getData()
        empty = np.empty(0)
        return (empty if x is None else np.asarray(x)), (empty if y is None else np.asarray(y))
