"""The full-screen pacer for the client (a second screen or a projector).

Large and calm: the breathing pacer fills most of the screen, and beside it the client's own
heart-rate wave of the last minute with the in-breaths shaded, so the client can see the heart
speed up on the in-breath and slow down on the out-breath. No numbers, no synchrony. Esc, F or
F11 leave full screen (and F or F11 return to it); Up, Down and Space change and start or stop
the pacer as in the dashboard. The window can be moved to another screen before it is made full
screen.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.keys import PACER_WINDOW_KEYS, install_keys
from ui.pacer_widget import PacerWidget
from ui.theme import Theme, role_style, stylesheet
from ui.trace import HeartRateTrace

__all__ = ["PacerWindow"]


class PacerWindow(QWidget):
    """Pacer plus the heart-rate wave of ``role`` (see the module docstring)."""

    def __init__(self, role: str, theme: Theme, font_pt: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self.setWindowTitle("Breathing pacer")
        self.role = role
        self.pacer = PacerWidget(theme, clock, large=True)
        self.trace = HeartRateTrace(role, theme, font_pt, window_s=60.0)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.caption)
        right.addWidget(self.trace, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(24, 24, 24, 24)
        lay.setSpacing(24)
        lay.addWidget(self.pacer, 3)
        lay.addLayout(right, 2)
        # Its own keys; the pacer keys are the dashboard's to connect.
        own = {"leave_full_screen": self.showNormal, "toggle_full_screen": self.toggle_full_screen}
        install_keys(self, PACER_WINDOW_KEYS, own)
        self.apply_theme(theme, font_pt)

    def apply_theme(self, theme: Theme, font_pt: float) -> None:
        self.setStyleSheet(stylesheet(theme, font_pt * 1.3))
        self.pacer.apply_theme(theme, font_pt)
        self.trace.apply_theme(theme, font_pt * 1.2)
        self.trace.set_line_width(3.5)
        style = role_style(theme, self.role)
        self.caption.setText(
            f'<span style="color:{style.color}">{style.glyph}</span> Your heart rate over the '
            "last minute; shaded: breathing in"
        )

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
