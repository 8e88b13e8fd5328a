"""The therapist-client synchrony panel: the live value against its chance band.

Drawn from a snapshot's synchrony history (one reading a second over the whole session):

* the in-phase strength (Fisher z) as a neutral grey-blue line, the chance band (5th-95th
  percentile over time-offset pairings) as a grey fill behind it;
* readings above their band marked, in-phase (circles) and anti-phase (triangles down) kept
  apart;
* stretches where both people follow the pacer shaded and labelled "both following the pacer"
  (shared breathing, not synchrony between them);
* stretches without a valid reading (a gap or too many artifacts in either person, no band
  yet) greyed;
* under the plot the plain-words sentence of :func:`hrv.synchrony.describe`, lag and leader
  only when the reading is above its band, and the line "A reflective aid, not a diagnosis."

No red or green anywhere: more synchrony is not better or worse.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPainterPath
from PySide6.QtWidgets import QFrame, QGraphicsPathItem, QLabel, QVBoxLayout

from hrv.synchrony import describe
from ui.series import true_runs
from ui.theme import Theme
from ui.time_axis import SessionClockAxis, label_overhang_px
from ui.trace import BandsItem, style_plot

__all__ = ["AID_LINE", "PACER_LABEL", "SynchronyPanel", "band_path"]

AID_LINE = "A reflective aid, not a diagnosis."
PACER_LABEL = "both following the pacer"


#: Above this many readings the band is drawn from bins (min of low, max of high per bin):
#: a plot a few hundred pixels wide cannot show more, and the path stays cheap at 90 minutes.
BAND_MAX_POINTS = 1200


def thin_band(
    t: np.ndarray, low: np.ndarray, high: np.ndarray, max_points: int = BAND_MAX_POINTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At most ``max_points`` bins: first time, lowest low and highest high of each bin
    (``nan`` where a bin holds no band, so gaps in the band stay gaps)."""
    n = t.size
    if n <= max_points:
        return t, low, high
    k = -(-n // max_points)  # readings per bin
    pad = (-n) % k

    def binned(a: np.ndarray) -> np.ndarray:
        return np.concatenate((a, np.full(pad, np.nan))).reshape(-1, k)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan bins give nan, as wanted
        return binned(t)[:, 0], np.nanmin(binned(low), axis=1), np.nanmax(binned(high), axis=1)


def band_path(t: np.ndarray, low: np.ndarray, high: np.ndarray) -> QPainterPath:
    """Closed polygons between ``low`` and ``high`` over each run of finite values."""
    t, low, high = thin_band(t, low, high)
    path = QPainterPath()
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(t)
    for a, b in true_runs(np.arange(t.size, dtype=float), ok):
        i0, i1 = int(a + 0.5), int(b - 0.5) + 1
        if i1 - i0 < 2:
            continue
        xs = np.concatenate((t[i0:i1], t[i0:i1][::-1]))
        ys = np.concatenate((low[i0:i1], high[i0:i1][::-1]))
        poly = pg.arrayToQPath(xs, ys, connect="all")
        poly.closeSubpath()
        path.addPath(poly)
    return path


class SynchronyPanel(QFrame):
    """Synchrony over the session with its chance band (see the module docstring)."""

    Y_RANGE = (-0.2, 1.6)

    def __init__(self, theme: Theme, font_pt: float) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.title = QLabel("Heart-rate synchrony, therapist and client")
        self.title.setObjectName("title")
        self.plot = pg.PlotWidget(axisItems={"bottom": SessionClockAxis()})
        pi = self.plot.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        pi.setLabel("left", "strength (z)")
        pi.setLabel("bottom", "session time")
        self.invalid = BandsItem(QColor())
        self.paced = BandsItem(QColor())
        for item, z in ((self.invalid, -20), (self.paced, -19)):
            pi.addItem(item, ignoreBounds=True)
            item.setZValue(z)
        self.band = QGraphicsPathItem()
        self.band.setPen(pg.mkPen(None))
        pi.addItem(self.band, ignoreBounds=True)
        self.band.setZValue(-5)
        self.curve = pg.PlotDataItem(connect="finite")
        pi.addItem(self.curve)
        self.in_phase = pg.ScatterPlotItem(symbol="o", size=7)
        self.anti_phase = pg.ScatterPlotItem(symbol="t", size=8)
        pi.addItem(self.in_phase)
        pi.addItem(self.anti_phase)
        self.pacer_text = pg.TextItem(PACER_LABEL, anchor=(0, 0))
        pi.addItem(self.pacer_text, ignoreBounds=True)
        self.pacer_text.hide()
        self.hint = pg.TextItem(
            "no reading yet: the chance band needs about two minutes of both heart rates",
            anchor=(0, 0.5),
        )
        pi.addItem(self.hint, ignoreBounds=True)
        legend = QLabel(
            "line: in-phase strength · grey fill: its chance band · ○ in-phase above chance · "
            "▽ (bottom row) anti-phase above chance · grey stretches: no reading yet or a gap "
            "or too many artifacts"
        )
        legend.setProperty("muted", True)
        legend.setWordWrap(True)
        self.legend = legend
        self.words = QLabel("Waiting for about two minutes of both people's heart rates.")
        self.words.setWordWrap(True)
        self.aid = QLabel(AID_LINE)
        self.aid.setObjectName("aid")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 1)
        lay.addWidget(legend)
        lay.addWidget(self.words)
        lay.addWidget(self.aid)
        self._version = -1
        self._x_end = -1.0
        self.apply_theme(theme, font_pt)

    def apply_theme(self, theme: Theme, font_pt: float) -> None:
        self.theme = theme
        self.plot.setBackground(theme.panel)
        pi = self.plot.getPlotItem()
        style_plot(pi, theme, font_pt)
        # Room right of the plot for the last clock label ("1:30:00") to be shown whole.
        font = QFont()
        font.setPointSizeF(font_pt * 0.9)
        overhang = label_overhang_px(font, "0:00:00")
        pi.getAxis("bottom").setStyle(hideOverlappingLabels=overhang)
        pi.layout.setContentsMargins(1, 1, overhang, 1)
        self.curve.setPen(pg.mkPen(theme.sync_line, width=2))
        for item, color, alpha in (
            (self.invalid, theme.invalid, theme.invalid_alpha),
            (self.paced, theme.pacer_driven, theme.pacer_driven_alpha),
        ):
            c = QColor(color)
            c.setAlpha(alpha)
            item.set_color(c)
        band = QColor(theme.band)
        band.setAlpha(theme.band_alpha)
        self.band.setBrush(band)
        self.in_phase.setPen(pg.mkPen(theme.sync_line, width=1.5))
        self.in_phase.setBrush(pg.mkBrush(None))
        self.anti_phase.setPen(pg.mkPen(theme.sync_line, width=1.5))
        self.anti_phase.setBrush(pg.mkBrush(None))
        self.pacer_text.setColor(theme.foreground)
        self.hint.setColor(theme.foreground)
        self._version = -1

    def update_synchrony(self, history: Any, live: Any, now_s: float) -> None:
        """Redraw from a synchrony history and the latest reading.

        The history only grows (one reading a second), so it is redrawn only when it has new
        rows; between them only the x range follows the session clock.
        """
        x_end = max(now_s, 60.0)
        # Move the x range only by whole pixels of the plot.
        px_s = x_end / max(self.plot.getPlotItem().getViewBox().width(), 1.0)
        if abs(x_end - self._x_end) >= px_s:
            self._x_end = x_end
            self.plot.setXRange(0.0, x_end, padding=0.01)
        n = len(history.t_s)
        if n == self._version:
            return
        self._version = n
        t = np.asarray(history.t_s, dtype=float)
        if not t.size:
            self.curve.setData([], [])
            return
        value = np.asarray(history.value, dtype=float)
        low = np.asarray(history.band_low, dtype=float)
        high = np.asarray(history.band_high, dtype=float)
        y0, y1 = self.Y_RANGE
        top = np.nanmax(np.concatenate((value, high, [y1 - 0.1])))
        y1 = max(y1, 0.5 * math.ceil((top + 0.1) / 0.5))
        self.plot.setYRange(y0, y1, padding=0.03)
        valid = np.asarray(history.valid, dtype=bool)
        paced = np.asarray(history.pacer_driven, dtype=bool)
        # Plot readings at the end of the window they describe (before the first window
        # exists, at the update time less the usual delay); greyed where not valid.
        t_update = np.asarray(history.t_s, dtype=float)
        end = np.asarray(history.window_end_s, dtype=float)
        lag = np.nanmedian(t_update - end) if np.isfinite(end).any() else 6.0
        x = np.where(np.isfinite(end), end, t_update - lag)
        shown = np.where(valid & ~paced, value, np.nan)
        # At most about one min/max pair per pixel (pyqtgraph's "peak" method; a bin holding a
        # gap becomes a gap): 5,400 readings at 90 minutes would otherwise cost ~3 ms to draw.
        width_px = max(int(self.plot.getPlotItem().getViewBox().width()), 100)
        self.curve.setDownsampling(ds=max(1, -(-t.size // width_px)), method="peak")
        self.curve.setData(x, np.where(valid, value, np.nan), connect="finite")
        self.band.setPath(band_path(x, low, high))
        phase = np.asarray(history.phase, dtype=object)
        above = np.isfinite(shown)
        ip = above & (phase == "in-phase")
        ap = above & (phase == "anti-phase")
        self.in_phase.setData(x[ip], value[ip])
        # Anti-phase readings have their own strength (not on this line): a row of marks.
        self.anti_phase.setData(x[ap], np.full(int(ap.sum()), y0 + 0.06 * (y1 - y0)))
        self.hint.setVisible(not valid.any())
        self.hint.setPos(0.02 * max(self._x_end, 60.0), 0.5 * (y0 + y1))
        # Stretches from the regular update times, shifted to where their windows end.
        # Updates come with the first beat of each second: up to ~2 s apart at slow heart rates.
        self.invalid.set_spans(true_runs(t_update, ~valid, max_gap_s=2.5) - lag, y0, y1)
        runs = true_runs(t_update, paced & valid, max_gap_s=2.5) - lag
        self.paced.set_spans(runs, y0, y1)
        if len(runs):
            a = float(runs[int(np.argmax(runs[:, 1] - runs[:, 0]))][0])
            # The label starts at its stretch, unless it would run past the right edge (a
            # stretch that has just begun): then it ends at the edge, whole.
            right = self._x_end * 1.01
            vb = self.plot.getPlotItem().getViewBox()
            width = self.pacer_text.boundingRect().width() * right / max(vb.width(), 1.0)
            if a + width > right:
                self.pacer_text.setAnchor((1, 0))
                self.pacer_text.setPos(right, y1)
            else:
                self.pacer_text.setAnchor((0, 0))
                self.pacer_text.setPos(a, y1)
            self.pacer_text.show()
        else:
            self.pacer_text.hide()
        self.words.setText(self._sentence(live))

    @staticmethod
    def _sentence(live: Any) -> str:
        if live is None:
            return "Waiting for both people's heart rates."
        if live.pacer_driven:
            return (
                "Both are following the pacer: their heart rhythms move with the same breathing, "
                "which is not read as synchrony between them."
            )
        text = describe(live)
        if live.band is not None and math.isfinite(live.value):
            lo, hi = live.band
            text += f" (strength {live.value:.2f}; chance band {lo:.2f} to {hi:.2f})"
        return text
