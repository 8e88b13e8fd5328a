"""``biofeedback live --pace-bpm B --duration S`` with a display and no strap named: the connect
dialog, then the dashboard, with the pacer started at B once connected and the session ended
after S seconds (the options were dropped on this path before)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("bumble")

from biofeedback import cli
from biofeedback.beats import EventKind
from biofeedback.session_reader import SessionReader
from biofeedback.user_settings import UserSettings
from tests.support.bumble_backend import StrapSpec, VirtualRadio

ADDR = "C1:00:00:00:00:0A"
#: u16 HR 75, energy 4660 kJ, RR 1000 ms (design.md s. 5), once a second: beat times then
#: follow the wall clock, so session time measures --duration.
BEATING = [{"notify": "194b0034120004", "after_s": 1.0}] * 60


@pytest.mark.slow
def test_live_window_carries_pace_bpm_and_duration(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.connect_dialog import ConnectDialog
    from ui.dashboard import Dashboard

    monkeypatch.setattr("ui.app.dashboard_unavailable", lambda screenshot=False: None)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # A rate remembered for the label: the explicit --pace-bpm wins over it.
    UserSettings().remember_resonance("C-LIVE", 5.5)
    out = tmp_path / "live.session"
    seen: dict[str, object] = {}

    def drive() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, ConnectDialog) and w.isVisible() and w.found and "dlg" not in seen:
                if not w.scan_button.isEnabled():
                    return
                seen["dlg"] = w
                row = next(r for r, s in enumerate(w.found) if s.address == ADDR)
                w.role_box(row).setCurrentIndex(3)  # solo
                w.label_box.setCurrentText("C-LIVE")
                w.connect_button.click()
            if isinstance(w, Dashboard) and w.isVisible():
                seen["dash"] = w
                if w.pacer_running():
                    seen["rate"] = w.rate_spin.value()
                if "guard" not in seen:  # never hang: close it if --duration did not
                    seen["guard"] = True
                    # Tied to the window: once it is gone the guard never fires (it would
                    # otherwise raise in whichever later test runs Qt's event loop).
                    QTimer.singleShot(30000, w, lambda w=w: (seen.update(forced=True), w.close()))

    timer = QTimer()
    timer.timeout.connect(drive)
    timer.start(100)
    spec = StrapSpec(name="Polar H10 A1", address=ADDR, rssi_dbm=-48, battery_pct=87,
                     script=BEATING)  # fmt: skip
    try:
        code = cli.main(
            ["live", "--out", str(out), "--pace-bpm", "5", "--duration", "4"],
            backend=VirtualRadio([spec]).backend(),
        )
    finally:
        timer.stop()
    assert code == 0
    assert "dash" in seen and "forced" not in seen  # --duration closed the window
    assert seen["rate"] == pytest.approx(5.0)  # the window's pacer ran at --pace-bpm
    with SessionReader(out) as r:
        events = r.events()
        beats = r.recorded_beats("solo")
    pacer = [e for e in events if e.kind == EventKind.PACER]
    connected = min(e.t_s for e in events if e.kind == EventKind.CONNECT)
    assert pacer[0].data["rate_bpm"] == 5.0 and pacer[0].t_s >= connected
    # Ended 4 s of session time after the session started (it starts at connect; one beat a
    # second; the window checks every 0.2 s and stopping takes a moment).
    assert 3.0 <= beats[-1].t_s <= 6.0 and 3 <= len(beats) <= 7
