"""The connect dialog with virtual straps: scan, roles, connect, remembered after a restart,
and the words for a strap that does not answer or sends no RR intervals."""

from __future__ import annotations

import os
import stat

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("bumble")

from PySide6.QtWidgets import QDialog

from biofeedback.library import read_facts
from biofeedback.sources.ble import ReconnectPolicy
from biofeedback.user_settings import UserSettings
from tests.support.bumble_backend import StrapSpec, VirtualRadio
from ui.connect_dialog import (
    ConnectDialog,
    assignment_problem,
    mode_problem,
    new_label,
    signal_words,
)
from ui.session_window import open_live_session

SHOTS = os.environ.get("WORKFLOW_SCREENSHOTS")
ADDR_A = "C1:00:00:00:00:0A"
ADDR_B = "C1:00:00:00:00:0B"
FAST = ReconnectPolicy(
    scan_timeout_s=2.0, connect_timeout_s=2.0, backoff_initial_s=0.05, backoff_max_s=0.2
)
#: 0x10: RR present; HR 59; RR 1081 ms (a Polar H10 capture, design.md s. 5).
BEATING = [{"notify": "103b5304", "after_s": 0.25, "repeat": 400}]
#: 0x00: heart rate 70 only, no RR (what many optical sensors send).
HR_ONLY = [{"notify": "0046", "after_s": 0.25, "repeat": 400}]


def _specs(**over):
    a = dict(name="Polar H10 A1", address=ADDR_A, rssi_dbm=-48, battery_pct=87, script=BEATING)
    b = dict(name="TICKR B2", address=ADDR_B, rssi_dbm=-80, battery_pct=55, script=BEATING)
    a.update(over.get("a", {}))
    b.update(over.get("b", {}))
    return [StrapSpec(**a), StrapSpec(**b)]


def _dialog(qtbot, settings, specs, tmp_path, **kw):
    opened = []

    def open_session(targets, label, mode):
        ctl = open_live_session(
            targets,
            label,
            mode,
            backend=VirtualRadio(specs).backend(),
            out=tmp_path / f"s{len(opened)}.session",
            policy=FAST,
        )
        opened.append(ctl)
        return ctl

    d = ConnectDialog(
        settings,
        open_session,
        make_backend=lambda: VirtualRadio(specs).backend(),
        scan_s=1.5,
        **kw,
    )
    qtbot.addWidget(d)
    return d, opened


def _scan(qtbot, d):
    d.start_scan()
    qtbot.waitUntil(lambda: d.scan_button.isEnabled() and bool(d.found), timeout=30000)


def _row(d, address):
    return next(i for i, s in enumerate(d.found) if s.address == address)


@pytest.mark.slow
def test_scan_assign_connect_and_remembered_after_restart(qtbot, tmp_path):
    path = tmp_path / "config" / "settings.json"
    specs = _specs()
    d, _opened = _dialog(qtbot, UserSettings(path), specs, tmp_path)
    _scan(qtbot, d)
    # Strongest first, signal in words, battery unknown until connected.
    assert [s.address for s in d.found] == [ADDR_A, ADDR_B]
    assert d.table.item(0, 1).text() == "strong (-48 dBm)"
    assert d.table.item(1, 1).text() == "weak (-80 dBm)"
    assert d.table.item(0, 2).text() == "after connecting"
    assert not d.connect_button.isEnabled()
    d.role_box(_row(d, ADDR_A)).setCurrentIndex(2)  # client
    d.role_box(_row(d, ADDR_B)).setCurrentIndex(2)  # client twice: refused
    assert not d.connect_button.isEnabled() and "client is chosen twice" in d.status.text()
    d.role_box(_row(d, ADDR_B)).setCurrentIndex(1)  # therapist
    assert d.connect_button.isEnabled()
    # A pseudonymous label is offered; the mode follows the roles.
    assert d.label().startswith("C-") and len(d.label()) == 6
    assert d.mode() == "two-person session"
    d.label_box.setCurrentText("C-TEST")
    if SHOTS:
        d.show()
        d.grab().save(os.path.join(SHOTS, "connect-dialog.png"))
    d.connect_button.click()
    qtbot.waitUntil(lambda: d.result() == QDialog.DialogCode.Accepted, timeout=40000)
    ctl = d.controller
    snap = ctl.snapshot()
    assert {r: snap.participants[r].strap.state for r in ("client", "therapist")} == {
        "client": "connected",
        "therapist": "connected",
    }
    assert snap.participants["client"].n_beats > 0 and snap.participants["therapist"].n_beats > 0
    ctl.stop()
    facts = read_facts(ctl.path)
    assert (facts["label"], facts["mode"]) == ("C-TEST", "two-person session")
    assert stat.S_IMODE(os.stat(ctl.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    # "Restart": a new settings object and dialog read the file; the roles are preselected and
    # the batteries read at the connection are shown.
    d2, _ = _dialog(qtbot, UserSettings(path), specs, tmp_path)
    _scan(qtbot, d2)
    assert d2.role_box(_row(d2, ADDR_A)).currentData() == "client"
    assert d2.role_box(_row(d2, ADDR_B)).currentData() == "therapist"
    assert d2.table.item(_row(d2, ADDR_A), 2).text() == "87 % (last time)"
    assert d2.connect_button.isEnabled()
    assert d2.label_box.findText("C-TEST") >= 0  # labels used before are offered


@pytest.mark.slow
def test_strap_that_does_not_answer_and_strap_without_rr(qtbot, tmp_path):
    specs = _specs(a={"answers": False}, b={"script": HR_ONLY})
    d, opened = _dialog(
        qtbot, UserSettings(tmp_path / "s.json"), specs, tmp_path, no_rr_after_s=1.0
    )
    _scan(qtbot, d)
    d.role_box(_row(d, ADDR_A)).setCurrentIndex(1)  # therapist: asleep / held elsewhere
    d.role_box(_row(d, ADDR_B)).setCurrentIndex(2)  # client: heart rate only
    d.connect_button.click()
    qtbot.waitUntil(
        lambda: "did not answer" in d.status.text() and "no beat-to-beat (RR)" in d.status.text(),
        timeout=40000,
    )
    text = d.status.text()
    if SHOTS:
        d.show()
        d.grab().save(os.path.join(SHOTS, "connect-dialog-problems.png"))
    assert "Polar Flow" in text and "dual connection" in text
    assert d.result() != QDialog.DialogCode.Accepted
    d.reject()  # cancelling stops the session it opened and closes its file
    assert not opened[0].running
    assert UserSettings(tmp_path / "s.json").strap("therapist") is None


def test_words_for_roles_and_signal():
    assert assignment_problem({"a": "", "b": ""}) == "Choose who wears which strap."
    assert "one-person" in assignment_problem({"a": "solo", "b": "client"})
    assert assignment_problem({"a": "therapist", "b": "client"}) is None
    assert signal_words(-60) == "strong (-60 dBm)" and signal_words(-61) == "fair (-61 dBm)"
    assert signal_words(None) == "unknown"
    assert mode_problem("two-person session", {"solo"}) is not None
    assert mode_problem("resonance assessment", {"therapist", "client"}) is None
    assert mode_problem("solo breathing", {"therapist", "client"}) is not None
    assert new_label() != new_label()


@pytest.mark.slow
def test_live_window_from_dialog_to_dashboard(qtbot, tmp_path):
    """The product path of ``biofeedback live`` with a display: dialog, connect, dashboard
    with the guided steps; closing the window closes the recording."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.dashboard import Dashboard
    from ui.session_window import run_live_window

    specs = _specs()
    settings = UserSettings(tmp_path / "settings.json")
    settings.remember_resonance("C-LIVE", 5.5)
    out = tmp_path / "live.session"
    seen: dict[str, object] = {}

    def drive() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, ConnectDialog) and w.isVisible() and w.found and not seen.get("dlg"):
                if not w.scan_button.isEnabled():
                    return
                seen["dlg"] = w
                w.role_box(_row(w, ADDR_A)).setCurrentIndex(3)  # solo
                w.label_box.setCurrentText("C-LIVE")
                w.connect_button.click()
            if isinstance(w, Dashboard) and w.isVisible() and "dash" not in seen:
                seen["dash"] = w
                seen["rate"] = w.rate_spin.value()
                seen["panel"] = getattr(w, "side_panel", None)
                QTimer.singleShot(1500, w.close)

    timer = QTimer()
    timer.timeout.connect(drive)
    timer.start(100)
    try:
        code = run_live_window(
            settings, make_backend=lambda: VirtualRadio(specs).backend(), out=out
        )
    finally:
        timer.stop()
    assert code == 0
    assert seen["panel"] is not None and seen["rate"] == pytest.approx(5.5)
    facts = read_facts(out)
    assert (facts["label"], facts["mode"]) == ("C-LIVE", "solo breathing")
    assert facts["people"] == ["solo"]
    assert UserSettings(tmp_path / "settings.json").strap("solo")["address"] == ADDR_A


@pytest.mark.parametrize(
    "words",
    [
        "Bluetooth is turned off: turn it on and try again.",
        "This program may not use Bluetooth: allow your terminal app in System Settings > "
        "Privacy & Security > Bluetooth, then start it again.",
    ],
)
def test_bluetooth_off_or_not_allowed_is_said_in_the_dialog(qtbot, tmp_path, monkeypatch, words):
    from biofeedback.straps import BluetoothUnavailable

    async def no_bluetooth(*_a, **_k):
        raise BluetoothUnavailable(words)

    monkeypatch.setattr("ui.connect_dialog.scan", no_bluetooth)
    d, _ = _dialog(qtbot, UserSettings(tmp_path / "s.json"), _specs(), tmp_path)
    d.start_scan()
    qtbot.waitUntil(lambda: d.status.text() == words, timeout=30000)
    assert d.scan_button.isEnabled() and not d.connect_button.isEnabled()
