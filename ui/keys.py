"""The dashboard's keyboard: which keys do what, and fields that leave those keys alone.

:data:`DASHBOARD_KEYS` is the one list the window builds its shortcuts from (and the guides
name, ``tests/ui/test_keys.py`` checks both). Qt offers every key press to the widget with the
keyboard focus first (a ``ShortcutOverride`` event): a text field that accepts it keeps the key
and the window's shortcut never fires. That is right for the marker field (Space types a space)
but wrong for the pacer's number fields, whose line edit also claims Space, so after a click
into "rate" the Space key silently stopped starting the pacer. :class:`PacerSpinBox` lets Space
through to the window and keeps the arrow keys for itself while it has the focus (Up/Down step
the field the user is editing; with the focus anywhere else they step the pacer's rate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

__all__ = ["DASHBOARD_KEYS", "PACER_WINDOW_KEYS", "PacerSpinBox", "install_keys"]

#: ``(key sequences, action name, what it does)`` of the dashboard window. The action name is
#: the :class:`ui.dashboard.Dashboard` method's role, resolved there. ``Ctrl+=`` is the same key
#: as ``Ctrl++`` without Shift on keyboards where ``+`` needs Shift.
DASHBOARD_KEYS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("Up",), "rate_up", "pacer rate up by 0.1 breaths/min (at most 10)"),
    (("Down",), "rate_down", "pacer rate down by 0.1 breaths/min (at least 3)"),
    (("Space",), "toggle_pacer", "start or stop the pacer"),
    (("F11",), "full_screen", "the full-screen pacer window"),
    (("Ctrl+S",), "sound", "the pacer's soft tone on or off"),
    (("Ctrl+M",), "marker", "type a marker; Enter records it, Esc leaves the field"),
    (("Ctrl++", "Ctrl+="), "font_up", "larger text"),
    (("Ctrl+-",), "font_down", "smaller text"),
    (("Ctrl+T",), "theme", "light or dark colours"),
    (("Ctrl+E",), "end_session", "end the session (asks first); the window stays open"),
)

#: The full-screen pacer window's own keys; Up, Down and Space act there as in the dashboard,
#: so a client alone at one screen can pace without leaving full screen.
PACER_WINDOW_KEYS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("Esc",), "leave_full_screen", "leave full screen"),
    (("F", "F11"), "toggle_full_screen", "leave or return to full screen"),
    (("Up",), "rate_up", "pacer rate up by 0.1 breaths/min"),
    (("Down",), "rate_down", "pacer rate down by 0.1 breaths/min"),
    (("Space",), "toggle_pacer", "start or stop the pacer"),
)


def install_keys(
    window: QWidget,
    table: tuple[tuple[tuple[str, ...], str, str], ...],
    actions: Mapping[str, Callable[[], object]],
) -> list[QShortcut]:
    """Shortcuts on ``window`` (active while it is the active window) for the rows of
    ``table`` whose action is in ``actions``."""
    made = []
    for sequences, action, _words in table:
        if action in actions:
            for keys in sequences:
                shortcut = QShortcut(QKeySequence(keys), window)
                shortcut.activated.connect(actions[action])
                made.append(shortcut)
    return made


#: Keys a focused number field keeps (it steps its own value with them).
_FIELD_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}


class PacerSpinBox(QDoubleSpinBox):
    """A number field of the pacer that never swallows Space (see the module docstring)."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if plain == Qt.KeyboardModifier.NoModifier:
                if event.key() == Qt.Key.Key_Space:
                    event.ignore()  # not a character of a number: the window's shortcut
                    return False
                if event.key() in _FIELD_KEYS:
                    event.accept()  # this field steps its own value
                    return True
        return super().event(event)
