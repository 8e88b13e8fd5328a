"""Real key presses through Qt's shortcut machinery, on a shown and active dashboard.

Every press goes to the widget that has the keyboard focus (where the platform sends a real
key), through ``QTest.keyClick``: Qt first offers it to that widget as a ``ShortcutOverride``
and fires the window's shortcut only if the widget declines, exactly as with a keyboard. The
results are read where users see them (the rate field, the pacer drawn, the window state, the
font) and where the recording holds them (the session controller's events).
"""

from __future__ import annotations

import itertools
import re

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox

from biofeedback.session import SessionController
from biofeedback.sources.replay import ReplaySource
from ui.dashboard import Dashboard
from ui.keys import DASHBOARD_KEYS, PACER_WINDOW_KEYS

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"
K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def live(qtbot):
    """The dyad sample replaying at 1x (its pacer starts at 120 s: none in these tests) in a
    shown, active 1366x768 dashboard with its timers running."""
    ctl = SessionController(ReplaySource(DYAD, speed=1.0)).start()
    w = Dashboard(ctl, list(ctl.source.roles))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    w.start_timers()
    yield ctl, w
    w.close()
    ctl.stop()


def press(key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    """Press and release ``key`` where a keyboard's key would go: the focused widget, else the
    active window."""
    for _ in range(times):
        target = QApplication.focusWidget() or QApplication.activeWindow()
        QTest.keyClick(target, key, modifiers)


def pacer_events(ctl) -> list[dict]:
    return [e.data for e in ctl.events_since(0)[0] if e.kind == "pacer"]


def wait_pacer_events(qtbot, ctl, n: int) -> list[dict]:
    qtbot.waitUntil(lambda: len(pacer_events(ctl)) >= n, timeout=5000)
    got = pacer_events(ctl)
    assert len(got) == n, got
    return got


def test_pacer_keys_start_step_and_stop_within_the_limits(qtbot, live) -> None:
    ctl, w = live
    # Nothing clicked yet: the focus is where Qt put it (the history-length menu), and the
    # window's keys still act.
    assert isinstance(QApplication.focusWidget(), QComboBox)
    press(K.Key_Space)
    (started,) = wait_pacer_events(qtbot, ctl, 1)
    assert started == {
        "rate_bpm": 6.0,
        "inhale_share": 0.4,
        "hold_after_inhale_s": 0.0,
        "hold_after_exhale_s": 0.0,
    }
    qtbot.waitUntil(lambda: w.start_button.text() == "stop pacer", timeout=3000)
    press(K.Key_Up, times=3)
    press(K.Key_Down)
    rates = [e["rate_bpm"] for e in wait_pacer_events(qtbot, ctl, 5)]
    assert rates == [6.0, 6.1, 6.2, 6.3, 6.2]
    assert w.rate_spin.text() == "6.2 /min"
    # The pacer drawn is rebuilt from the recorded events, with the other settings kept.
    qtbot.waitUntil(lambda: w.pacer.state()[2] is not None and w.pacer.state()[2].rate_bpm == 6.2)
    assert w.pacer.state()[2].inhale_share == 0.4
    # Up to the limit: 6.2 -> 10.0 is 38 steps; two more presses change and record nothing.
    press(K.Key_Up, times=40)
    rates = [e["rate_bpm"] for e in wait_pacer_events(qtbot, ctl, 5 + 38)]
    assert rates[-1] == 10.0 and rates[5] == 6.3
    assert all(round(b - a, 6) == 0.1 for a, b in itertools.pairwise(rates[4:]))
    assert w.rate_spin.text() == "10.0 /min"
    # Down to 3.0: 70 steps, and two more do nothing.
    press(K.Key_Down, times=72)
    rates = [e["rate_bpm"] for e in wait_pacer_events(qtbot, ctl, 43 + 70)]
    assert rates[-1] == 3.0 and w.rate_spin.text() == "3.0 /min"
    press(K.Key_Space)
    assert wait_pacer_events(qtbot, ctl, 114)[-1]["rate_bpm"] == 0.0  # off
    qtbot.waitUntil(lambda: w.start_button.text() == "start pacer", timeout=3000)
    assert w.pacer.state()[2] is None


def test_keys_reach_the_window_from_the_pacer_fields_and_after_a_marker(qtbot, live) -> None:
    ctl, w = live
    # A click into the rate field used to swallow Space (its line edit takes every character).
    QTest.mouseClick(w.rate_spin.lineEdit(), Qt.MouseButton.LeftButton)
    assert w.rate_spin.hasFocus()
    press(K.Key_Space)
    wait_pacer_events(qtbot, ctl, 1)
    qtbot.waitUntil(w.pacer_running, timeout=3000)
    # A focused field keeps its own arrows: Up in "breathing in" steps the share, not the rate.
    QTest.mouseClick(w.share_spin.lineEdit(), Qt.MouseButton.LeftButton)
    press(K.Key_Up)
    (_, changed) = wait_pacer_events(qtbot, ctl, 2)
    assert changed["inhale_share"] == pytest.approx(0.45) and changed["rate_bpm"] == 6.0
    # Ctrl+M, type, Enter: a marker with the typed text (its space typed, not a pacer key).
    press(K.Key_M, CTRL)
    assert w.marker_text.hasFocus()
    QTest.keyClicks(w.marker_text, "topic: work")
    press(K.Key_Return)
    qtbot.waitUntil(
        lambda: (
            [e.data for e in ctl.events_since(0)[0] if e.kind == "marker"]
            == [{"text": "topic: work"}]
        ),
        timeout=5000,
    )
    assert len(pacer_events(ctl)) == 2
    # Enter left the field, so Space stops the pacer at once.
    assert not w.marker_text.hasFocus() and w.marker_text.text() == ""
    press(K.Key_Space)
    assert wait_pacer_events(qtbot, ctl, 3)[-1]["rate_bpm"] == 0.0
    # Esc leaves the field without recording anything.
    press(K.Key_M, CTRL)
    QTest.keyClicks(w.marker_text, "never mind")
    press(K.Key_Escape)
    assert not w.marker_text.hasFocus() and w.marker_text.text() == ""
    qtbot.wait(200)
    assert [e for e in ctl.events_since(0)[0] if e.kind == "marker"][1:] == []


def test_full_screen_pacer_keys(qtbot, live) -> None:
    ctl, w = live
    press(K.Key_F11)
    pw = w.pacer_window
    assert pw is not None and pw.isVisible() and pw.isFullScreen()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is pw, timeout=3000)
    # The client at the full-screen pacer starts, steps and stops it without leaving it.
    press(K.Key_Space)
    press(K.Key_Up)  # at once, before the start is back from the recording
    rates = [e["rate_bpm"] for e in wait_pacer_events(qtbot, ctl, 2)]
    assert rates == [6.0, 6.1]
    # The big pacer shows the recorded rate.
    qtbot.waitUntil(lambda: getattr(pw.pacer.state()[2], "rate_bpm", 0) == 6.1, timeout=3000)
    press(K.Key_Escape)
    qtbot.waitUntil(lambda: not pw.isFullScreen(), timeout=3000)
    press(K.Key_Escape)  # Esc only leaves full screen
    assert not pw.isFullScreen()
    press(K.Key_F)
    qtbot.waitUntil(pw.isFullScreen, timeout=3000)
    press(K.Key_F11)
    qtbot.waitUntil(lambda: not pw.isFullScreen(), timeout=3000)
    press(K.Key_Space)
    assert wait_pacer_events(qtbot, ctl, 3)[-1]["rate_bpm"] == 0.0


def test_font_theme_sound_and_end_keys(qtbot, live) -> None:
    ctl, w = live
    hr = w.panels["client"].values["hr"]  # a "bignum": 1.6 times the window's size

    def shown_pt() -> float:
        return QFontInfo(hr.font()).pointSizeF()

    assert w.font_pt == 10.0 and shown_pt() == pytest.approx(16.0, abs=0.5)
    press(K.Key_Plus, CTRL)  # Ctrl++ as Qt reports it once the layout has made the "+"
    press(K.Key_Equal, CTRL)  # the same key without Shift on a US keyboard
    press(K.Key_Plus, CTRL | Qt.KeyboardModifier.KeypadModifier)  # the keypad's +
    assert w.font_pt == 13.0 and shown_pt() == pytest.approx(20.8, abs=0.5)
    press(K.Key_Minus, CTRL, times=10)
    assert w.font_pt == 7.0 and shown_pt() == pytest.approx(11.2, abs=0.5)  # the floor
    press(K.Key_Plus, CTRL, times=20)
    assert w.font_pt == 22.0  # the ceiling
    assert w.theme.name == "light"
    press(K.Key_T, CTRL)
    assert w.theme.name == "dark" and w.theme_button.text() == "light"
    assert w.palette().window().color().lightness() < 60
    press(K.Key_T, CTRL)
    assert w.theme.name == "light"
    # Ctrl+S: on a silent device here; without the sound package the window says why.
    try:
        import miniaudio

        w.tone.backends = [miniaudio.Backend.NULL]
    except ImportError:
        miniaudio = None
    press(K.Key_S, CTRL)
    if miniaudio is None:
        assert "miniaudio" in w.message.text() and w.sound_button.text() == "sound on"
    else:
        assert w.tone.playing and w.sound_button.text() == "sound off"
        press(K.Key_S, CTRL)
        assert not w.tone.playing and w.sound_button.text() == "sound on"
    # Ctrl+E asks first (answered here without the dialog): No keeps the session going.
    asked = []
    w.confirm_end = lambda: asked.append(1) or len(asked) > 1
    press(K.Key_E, CTRL)
    assert asked == [1] and ctl.running
    press(K.Key_E, CTRL)
    qtbot.waitUntil(lambda: not ctl.running, timeout=10000)
    qtbot.waitUntil(lambda: w.end_button.text() == "session ended", timeout=5000)


def _documented_keys(markdown: str) -> set[str]:
    """Bold key names in ``markdown`` (``**Up / Down**`` gives Up and Down)."""
    keys = set()
    for bold in re.findall(r"\*\*([^*]+?)\*\*", markdown):
        keys.update(part.strip() for part in bold.split(" / "))
    return keys


def test_the_guides_name_the_real_keys() -> None:
    real = {k for seqs, _, _ in (*DASHBOARD_KEYS, *PACER_WINDOW_KEYS) for k in seqs}
    client = (ROOT / "docs" / "client.md").read_text(encoding="utf-8")
    section = client.split("Keys:", 1)[1].split("\n\n", 1)[0]
    assert _documented_keys(section) - {"Enter"} == real
    practitioner = (ROOT / "docs" / "practitioner.md").read_text(encoding="utf-8")
    for key in ("Ctrl+M", "Space", "Up", "Down", "F11"):
        assert key in practitioner
