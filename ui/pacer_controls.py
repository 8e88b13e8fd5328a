"""The dashboard's pacer column: the pacer drawn, its four settings and its buttons.

:class:`PacerControls` only builds and reads the controls; what they do (record a pacer change,
open the full-screen pacer, the sound) is the window's to connect
(:class:`ui.dashboard.Dashboard`). The settings fields are :class:`ui.keys.PacerSpinBox`, so
the window's Space key works while one of them has the focus.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from hrv.pacer import HOLD_RANGE_S, INHALE_SHARE_RANGE, RATE_RANGE_BPM, PacerSettings
from ui.keys import PacerSpinBox
from ui.pacer_widget import PacerWidget
from ui.theme import Theme

__all__ = ["PacerControls"]


def _spin(lo: float, hi: float, step: float, value: float, suffix: str, decimals: int):
    s = PacerSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(decimals)
    s.setValue(value)
    s.setSuffix(suffix)
    s.setKeyboardTracking(False)  # a typed value counts once Enter or the focus leaves
    return s


class PacerControls(QFrame):
    """The column (see the module docstring).

    Parameters
    ----------
    theme : Theme
    clock : callable
        Session time now, s (for the pacer drawn).
    min_width_px : int
        The column is at least this wide, wider when its fields need it at a larger text size.
    """

    def __init__(self, theme: Theme, clock: Callable[[], float], min_width_px: int) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.setMinimumWidth(min_width_px)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        title = QLabel("Breathing pacer")
        title.setObjectName("title")
        lay.addWidget(title)
        self.pacer = PacerWidget(theme, clock)
        lay.addWidget(self.pacer, 1)
        self.rate_spin = _spin(*RATE_RANGE_BPM, 0.1, 6.0, " /min", 1)
        lo, hi = INHALE_SHARE_RANGE
        self.share_spin = _spin(lo * 100, hi * 100, 5.0, 40.0, " %", 0)
        self.hold_in_spin = _spin(*HOLD_RANGE_S, 0.5, 0.0, " s", 1)
        self.hold_out_spin = _spin(*HOLD_RANGE_S, 0.5, 0.0, " s", 1)
        self.spins = (self.rate_spin, self.share_spin, self.hold_in_spin, self.hold_out_spin)
        grid = QGridLayout()
        grid.setVerticalSpacing(2)
        names = ("rate", "breathing in", "hold, full", "hold, empty")
        for row, (text, w) in enumerate(zip(names, self.spins, strict=True)):
            label = QLabel(text)
            label.setProperty("muted", True)
            grid.addWidget(label, row, 0)
            grid.addWidget(w, row, 1)
        lay.addLayout(grid)
        self.start_button = QPushButton("start pacer")
        self.start_button.setToolTip("start or stop the pacer (Space)")
        self.shape_button = QPushButton("bar")
        self.full_button = QPushButton("full screen")
        self.full_button.setToolTip("the full-screen pacer for the client (F11; Esc leaves it)")
        self.sound_button = QPushButton("sound on")
        self.sound_button.setToolTip("a soft tone following the breath (Ctrl+S)")
        buttons = QGridLayout()
        buttons.addWidget(self.start_button, 0, 0)
        buttons.addWidget(self.shape_button, 0, 1)
        buttons.addWidget(self.full_button, 1, 0)
        buttons.addWidget(self.sound_button, 1, 1)
        lay.addLayout(buttons)

    def settings(self) -> PacerSettings:
        """The settings the fields show (``ValueError`` if they do not make a breath)."""
        return PacerSettings(
            round(self.rate_spin.value(), 1),
            self.share_spin.value() / 100.0,
            self.hold_in_spin.value(),
            self.hold_out_spin.value(),
        )

    def show_settings(self, settings: PacerSettings | None) -> None:
        """Make the fields show ``settings`` without emitting ``valueChanged`` (so nothing is
        sent back); ``None`` (pacer off) leaves them as they are."""
        if settings is None:
            return
        values = (
            settings.rate_bpm,
            settings.inhale_share * 100.0,
            settings.hold_after_inhale_s,
            settings.hold_after_exhale_s,
        )
        for spin, value in zip(self.spins, values, strict=True):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
