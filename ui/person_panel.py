"""One person's numbers beside the trace: heart rate, RMSSD and its trend, RSA, strap state.

Values the engine marks unreliable keep their number but get a "?" and a line saying why
(too few beats, window too short, too many artifacts). Words describe what the signals show,
never what a person has.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
)

from biofeedback.terminal import RISE_STATE_WORDS
from ui.theme import Theme, role_style

__all__ = ["PersonPanel", "rmssd_trend", "strap_words"]

#: How far back the RMSSD trend compares (s) and the change that counts as a trend.
TREND_LOOKBACK_S = 60.0
TREND_MIN_CHANGE = 0.10
SPARK_WINDOW_S = 300.0


def _fmt(v: float, fmt: str = ".0f") -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:{fmt}}"


def _big(number: str, rest: str, font_pt: float) -> str:
    """A big number followed by its unit (and mark) in the window's ordinary size, so that
    five columns of values fit two people side by side at 1366 pixels (rich text)."""
    return f'{number}<span style="font-size:{font_pt:.1f}pt; font-weight:normal">{rest}</span>'


def rmssd_trend(t_s: np.ndarray, rmssd_ms: np.ndarray, now_s: float) -> str:
    """``"rising"``, ``"falling"``, ``"steady"`` or ``""``: RMSSD now against a minute ago.

    Compares the mean of the last 15 s of the once-a-second RMSSD with the mean of the 15 s
    ending :data:`TREND_LOOKBACK_S` earlier; a change of at least 10 % is a trend. Empty when
    either stretch has no value.
    """
    t = np.asarray(t_s, dtype=float)
    v = np.asarray(rmssd_ms, dtype=float)
    now = v[(t > now_s - 15.0) & (t <= now_s)]
    then = v[(t > now_s - TREND_LOOKBACK_S - 15.0) & (t <= now_s - TREND_LOOKBACK_S)]
    now, then = now[np.isfinite(now)], then[np.isfinite(then)]
    if not now.size or not then.size or np.mean(then) <= 0:
        return ""
    change = np.mean(now) / np.mean(then) - 1.0
    if change >= TREND_MIN_CHANGE:
        return "rising"
    if change <= -TREND_MIN_CHANGE:
        return "falling"
    return "steady"


_ARROWS = {"rising": "↗ rising", "falling": "↘ falling", "steady": "→ steady", "": ""}


def strap_words(strap: Any) -> str:
    """Strap state with battery and signal when known, e.g. ``connected · battery 80 %``."""
    parts = [str(getattr(strap, "state", "") or "unknown")]
    reason = getattr(strap, "reason", "")
    if reason and parts[0] == "lost":  # the other states' reasons are in the events list
        parts[0] += f" ({reason})"
    battery = getattr(strap, "battery_pct", None)
    if battery is not None:
        parts.append(f"battery {battery} %")
    rssi = getattr(strap, "rssi_dbm", None)
    if rssi is not None:
        parts.append(f"signal {rssi} dBm")
    return " · ".join(parts)


class PersonPanel(QFrame):
    """Numbers of one person (see the module docstring)."""

    def __init__(self, role: str, theme: Theme, font_pt: float) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.role = role
        self.title = QLabel()
        self.title.setObjectName("title")
        self.strap = QLabel("waiting for data")
        self.strap.setProperty("muted", True)
        self.strap.setWordWrap(True)
        self.strap.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.strap.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.values: dict[str, QLabel] = {}
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.strap, 1)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(0)
        names = [
            ("hr", "heart rate"),
            ("rmssd", "RMSSD 60 s"),
            ("rsa", "RSA at pacer"),
            ("coherence", "coherence"),
            ("artifacts", "artifacts"),
        ]
        self.captions: dict[str, QLabel] = {}
        for col, (key, caption) in enumerate(names):
            cap = QLabel(caption)
            cap.setProperty("muted", True)
            val = QLabel("–")
            val.setObjectName("bignum" if key in ("hr", "rmssd") else "")
            if key in ("hr", "rmssd"):
                val.setTextFormat(Qt.TextFormat.RichText)
            grid.addWidget(cap, 0, col)
            grid.addWidget(val, 1, col)
            self.captions[key] = cap
            self.values[key] = val
        self.trend = QLabel("")
        self.trend.setProperty("muted", True)
        grid.addWidget(self.trend, 2, 1)
        self.spark = pg.PlotWidget()
        self.spark.setFixedHeight(34)
        self.spark.hideAxis("left")
        self.spark.hideAxis("bottom")
        self.spark.setMouseEnabled(x=False, y=False)
        self.spark.getPlotItem().setMenuEnabled(False)
        self.spark.getPlotItem().hideButtons()
        self.spark_curve = pg.PlotDataItem(connect="finite")
        self.spark.addItem(self.spark_curve)
        grid.addWidget(self.spark, 2, 2, 1, 3)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addLayout(grid)
        lay.addWidget(self.note)
        self._version = -1
        self._spark_rows = -1
        self.font_pt = font_pt
        self.apply_theme(theme, font_pt)

    def _spark_range(self, t: np.ndarray, v: np.ndarray) -> None:
        """Fit the sparkline's view to its data now, as autorange would (pyqtgraph's autorange
        runs while painting, and then the plot is painted a second time)."""
        ok = np.isfinite(v)
        if not ok.any():
            return
        lo, hi = float(v[ok].min()), float(v[ok].max())
        pad = max(0.05 * (hi - lo), 0.5)
        self.spark.setRange(
            xRange=(float(t[0]), max(float(t[-1]), float(t[0]) + 1.0)),
            yRange=(lo - pad, hi + pad),
            padding=0,
        )
        # Apply the new range now: pyqtgraph would do it at the start of the next paint,
        # and moving the drawing there makes Qt paint the plot a second time.
        self.spark.getPlotItem().getViewBox().prepareForPaint()

    def apply_theme(self, theme: Theme, font_pt: float) -> None:
        style = role_style(theme, self.role)
        self.font_pt = font_pt
        self._version = -1  # the values' units follow the new size at the next frame
        line = "——" if style.dash.name == "SolidLine" else "– –"
        self.title.setText(
            f'<span style="color:{style.color}">{style.glyph} {line}</span> {style.label}'
        )
        self.spark.setBackground(theme.panel)
        self.spark_curve.setPen(pg.mkPen(style.color, width=1.5, style=style.dash))

    def update_person(
        self, version: int, p: Any, now_s: float, paced: bool, rise_state: str | None = None
    ) -> None:
        """Show participant snapshot ``p`` (only when ``version`` changed).

        ``rise_state`` is the person's heart-rate rise state from the snapshot's co-regulation
        part (``rising``, ``settling``, ``settled`` or ``None``), shown in words.
        """
        if version == self._version:
            return
        self._version = version
        mark = "" if p.reliable else " ?"
        self.values["hr"].setText(_big(_fmt(p.hr_bpm), " /min", self.font_pt))
        self.values["rmssd"].setText(_big(_fmt(p.rmssd_ms), f" ms{mark}", self.font_pt))
        if paced:
            self.captions["rsa"].setText("RSA at pacer")
            self.values["rsa"].setText(f"{_fmt(p.rsa_amplitude_ms)} ms{mark}")
        else:
            self.captions["rsa"].setText("breathing (est.)")
            self.values["rsa"].setText(f"{_fmt(p.breathing_rate_bpm, '.1f')} /min{mark}")
        self.values["coherence"].setText(f"{_fmt(p.coherence_ratio, '.1f')}{mark}")
        self.values["artifacts"].setText(f"{_fmt(p.burden_pct, '.1f')} %")
        series = getattr(p, "series", None)
        if series is not None and len(series.t_s):
            self.trend.setText(_ARROWS[rmssd_trend(series.t_s, series.rmssd_ms, now_s)])
            if len(series.t_s) != self._spark_rows:  # a new row once a second
                self._spark_rows = len(series.t_s)
                keep = series.t_s >= now_s - SPARK_WINDOW_S
                t, v = series.t_s[keep], series.rmssd_ms[keep]
                self.spark_curve.setData(t, v, connect="finite")
                self._spark_range(t, v)
        strap = getattr(p, "strap", None)
        self.strap.setText(strap_words(strap) if strap is not None else str(p.connection))
        notes = []
        if rise_state is not None:
            notes.append(f"heart rate {RISE_STATE_WORDS.get(rise_state, rise_state)}")
        if not p.reliable:
            notes.append(f"? unreliable: {p.unreliable_reason or 'too little data'}")
        if p.gaps:
            notes.append(f"{p.gaps} gap{'s' if p.gaps > 1 else ''} in the recording")
        self.note.setText(" · ".join(notes))
