"""Ending the session from the window ("end session", Ctrl+E) without closing it: the source
stops, the recording is closed cleanly, the final values stay, report and sessions work."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from biofeedback.beats import EventKind
from biofeedback.session import SessionController
from biofeedback.session_reader import SessionReader
from biofeedback.sources.replay import ReplaySource
from ui.dashboard import Dashboard

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


@pytest.mark.slow
def test_end_session_keeps_the_window_and_closes_the_recording(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    out = tmp_path / "ended.session"
    ctl = SessionController(ReplaySource(DYAD, speed=20.0), record_to=out).start()
    w = Dashboard(ctl, list(ctl.source.roles), title="dyad")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    w.start_timers()
    try:
        qtbot.waitUntil(lambda: w.clock() > 30.0, timeout=20000)
        # Ctrl+E asks first; "Cancel" leaves the session running.
        asked: list[bool] = []
        monkeypatch.setattr(w, "confirm_end", lambda: asked.append(False) or False)
        QTest.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert asked == [False]
        qtbot.wait(300)
        assert ctl.running and w.end_button.isEnabled()
        # "Yes": the session ends, the window stays.
        monkeypatch.setattr(w, "confirm_end", lambda: asked.append(True) or True)
        QTest.keyClick(w, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert asked == [False, True]
        qtbot.waitUntil(lambda: not ctl.running, timeout=15000)
        qtbot.waitUntil(lambda: "session ended" in w.windowTitle(), timeout=5000)
        assert w.isVisible()
        assert w.message.text() == "session ended; recording closed: ended.session"
        assert not w.end_button.isEnabled() and not w.marker_button.isEnabled()
        ended_at = ctl.snapshot().t_s
        assert 30.0 < ended_at < 600.0  # stopped well before the sample's end
        # The final values stay on screen and no longer move.
        hr = {r: p.values["hr"].text() for r, p in w.panels.items()}
        clock = w.clock_label.text()
        qtbot.wait(500)
        assert {r: p.values["hr"].text() for r, p in w.panels.items()} == hr
        assert w.clock_label.text() == clock and all(t != "– /min" for t in hr.values())
        # Pressing it again does nothing (already ended).
        w.end_session()
        assert asked == [False, True]
        # The recording is closed cleanly: its end event, every beat the window saw.
        assert not out.with_name(out.name + "-wal").exists()
        with SessionReader(out) as r:
            events = r.events()
            n_beats = {role: len(r.recorded_beats(role)) for role in r.roles}
        assert events[-1].kind == EventKind.END
        snap = ctl.snapshot()
        assert n_beats == {role: p.n_beats for role, p in snap.participants.items()}
        # The report of the closed recording can be written from the window.
        w.report_button.click()
        w.report_work.wait()
        report = tmp_path / "data" / "coregulation-monitor" / "reports" / "ended.html"
        assert report.exists() and "report written" in w.message.text()
        qtbot.wait(200)  # later frames do not overwrite the report's line
        assert "report written" in w.message.text()
        w.history_button.click()
        assert w.history_window is not None and w.history_window.isVisible()
        w.history_window.wait_idle()
    finally:
        w.close()
        ctl.stop()
