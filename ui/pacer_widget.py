"""The breathing pacer on screen: a circle or a bar that fills on the in-breath.

:class:`PacerWidget` draws the target lung volume of :mod:`hrv.pacer` at the session time its
clock gives: a circle whose area grows with the volume, or a bar that fills from the bottom,
with the word of the current stage ("breathe in", "hold", "breathe out") and the settings
underneath. It paints only itself, on the window's refresh timer, and a frame that would look
the same as the last one is skipped; while only the volume moves (within a stage) just the
shape's rectangle is repainted, not the words, so a running pacer costs one small repaint per
frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hrv.pacer import PacerSettings, PacerTimeline
from ui.theme import Theme

__all__ = ["STAGE_WORDS", "PacerWidget", "describe_settings"]

#: Words shown for each stage of :mod:`hrv.pacer`.
STAGE_WORDS = {"in": "breathe in", "hold_in": "hold", "out": "breathe out", "hold_out": "hold"}

#: Smallest share of the widget the circle keeps when the lungs are "empty".
_MIN_RADIUS = 0.22


def describe_settings(s: PacerSettings | None) -> str:
    """One line: rate, in:out split and holds (``pacer off`` when off)."""
    if s is None:
        return "pacer off"
    text = f"{s.rate_bpm:.1f} breaths/min · in {s.inhale_s:.1f} s, out {s.exhale_s:.1f} s"
    holds = []
    if s.hold_after_inhale_s:
        holds.append(f"hold {s.hold_after_inhale_s:g} s full")
    if s.hold_after_exhale_s:
        holds.append(f"hold {s.hold_after_exhale_s:g} s empty")
    return text + (" · " + ", ".join(holds) if holds else "")


class PacerWidget(QWidget):
    """Circle or bar pacer (see the module docstring).

    Parameters
    ----------
    theme : Theme
    clock : callable
        Returns the session time now, seconds.
    large : bool
        Bigger words for the full-screen pacer window.
    """

    def __init__(self, theme: Theme, clock: Callable[[], float], large: bool = False) -> None:
        super().__init__()
        self.theme = theme
        self.clock = clock
        self.large = large
        self.off_hint = "" if large else "Space or “start pacer” starts it"
        self.shape = "circle"
        self.timeline = PacerTimeline()
        self.font_pt = 11.0
        self.frames_painted = 0
        self._last_key: tuple | None = None
        self._last_volume: int | None = None
        self._ticked: tuple[float, tuple] = (math.nan, (math.nan, None, None))
        self._shape_rect: QRect | None = None  # where the shape was last drawn (None: not yet)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(150, 150))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def set_off_hint(self, text: str) -> None:
        """The words shown while the pacer is off (e.g. once the session has ended)."""
        self.off_hint = text
        self._last_key = None
        self.update()

    def set_timeline(self, timeline: PacerTimeline) -> None:
        self.timeline = timeline
        self._last_key = None
        self._ticked = (math.nan, (math.nan, None, None))

    def set_shape(self, shape: str) -> None:
        """``"circle"`` or ``"bar"``."""
        if shape not in ("circle", "bar"):
            raise ValueError(f"pacer shape is circle or bar, not {shape!r}")
        self.shape = shape
        self._last_key = None
        self.update()

    def apply_theme(self, theme: Theme, font_pt: float) -> None:
        self.theme = theme
        self.font_pt = font_pt
        self._last_key = None
        self.update()

    def state(self, now_s: float | None = None) -> tuple[float, str | None, PacerSettings | None]:
        """Volume (0..1, ``nan`` off), stage and settings at ``now_s`` (default: the clock)."""
        t = self.clock() if now_s is None else now_s
        settings = self.timeline.settings_at(t)
        if settings is None:  # off: the volume and stage would cost ~0.5 ms for nothing
            return math.nan, None, None
        return (
            float(self.timeline.volume(t)),
            self.timeline.stage(t),  # type: ignore[return-value]
            settings,
        )

    def tick(self) -> None:
        """Repaint if what is drawn changed since the last frame (called at refresh rate)."""
        now = self.clock()
        v, stage, settings = state = self.state(now)
        self._ticked = (now, state)  # what this frame's paint draws (see paintEvent)
        volume = None if math.isnan(v) else round(v * 400)
        key = (stage, settings, self.size().toTuple())
        if key != self._last_key or self._shape_rect is None:
            self._last_key, self._last_volume = key, volume
            self.update()
        elif volume != self._last_volume:  # same words: repaint only the shape
            self._last_volume = volume
            self.update(self._shape_rect)

    # -- drawing -------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        # The state the last tick computed, if the clock has not moved on since (a paint
        # asked for by the tick); else the state now.
        now = self.clock()
        ticked_at, ticked = self._ticked
        v, stage, settings = ticked if abs(now - ticked_at) < 0.005 else self.state(now)
        self.frames_painted += 1
        th = self.theme
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.fillRect(self.rect(), QColor(th.panel))
        w, h = self.width(), self.height()
        scale = 2.4 if self.large else 1.0
        word_font = QFont(self.font())
        word_font.setPointSizeF(self.font_pt * 1.5 * scale)
        word_font.setBold(True)
        small = QFont(self.font())
        small.setPointSizeF(self.font_pt * 0.9 * (1.6 if self.large else 1.0))
        word_h = QFontMetrics(word_font).height() + 4
        info = describe_settings(settings) if settings is not None else self.off_hint
        small_fm = QFontMetrics(small)
        if small_fm.horizontalAdvance(info) > w - 4:  # too wide: one setting per line
            info = info.replace(" · ", "\n")
        lines = sum(
            max(1, math.ceil(small_fm.horizontalAdvance(line) / max(w - 4, 1)))
            for line in info.split("\n")
        )
        info_h = max(lines, 2) * small_fm.height() + 2
        # The shape is square (circle) or tall (bar); the words sit right under it and the
        # whole block is centred vertically.
        room_h = max(h - word_h - info_h - 12, 20)
        side = min(w - 16, room_h)
        shape_h = side if self.shape == "circle" else room_h
        top = 6 + (room_h - shape_h) / 2
        area = QRectF(8, top, w - 16, shape_h)
        self._shape_rect = area.adjusted(-3, -3, 3, 3).toAlignedRect()  # with the pen
        fill = QColor(th.pacer_fill)
        edge = QColor(th.pacer_edge)
        if settings is None or math.isnan(v):
            word = "pacer off"
            v = 0.0
            fill.setAlpha(60)
        else:
            word = STAGE_WORDS.get(stage or "", "")
        if self.shape == "circle":
            r_max = max(min(area.width(), area.height()) / 2.0, 4.0)
            c = area.center()
            p.setPen(QPen(QColor(th.muted), 1.5, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(c, r_max, r_max)
            # Area grows with the volume: radius from sqrt, from a small seed circle.
            r = r_max * math.sqrt(_MIN_RADIUS**2 + (1 - _MIN_RADIUS**2) * max(v, 0.0))
            p.setPen(QPen(edge, 2.5))
            p.setBrush(fill)
            p.drawEllipse(QPointF(c), r, r)
        else:
            bw = min(area.width() * 0.45, area.height() * 0.6)
            frame = QRectF(area.center().x() - bw / 2, area.top(), bw, area.height())
            p.setPen(QPen(QColor(th.muted), 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(frame, 6, 6)
            level = frame.height() * max(v, 0.0)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            p.drawRoundedRect(
                QRectF(frame.left(), frame.bottom() - level, frame.width(), level), 6, 6
            )
        words = QRectF(0, area.bottom() + 4, w, word_h + info_h)
        if event.rect().intersects(words.toAlignedRect()):  # not when only the shape moved
            p.setPen(QColor(th.foreground))
            p.setFont(word_font)
            p.drawText(QRectF(0, area.bottom() + 4, w, word_h), Qt.AlignmentFlag.AlignCenter, word)
            p.setFont(small)
            p.setPen(QColor(th.muted))
            p.drawText(
                QRectF(2, area.bottom() + 4 + word_h, w - 4, info_h),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                info,
            )
        p.end()
