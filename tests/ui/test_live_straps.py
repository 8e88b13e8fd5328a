"""The dashboard on virtual straps: a strap going away shows "reconnecting", then "connected"."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("bumble")

from PySide6.QtWidgets import QApplication

from biofeedback.session import SessionController
from biofeedback.sources.ble import BleSource, ReconnectPolicy
from ui.dashboard import Dashboard

from ..support.bumble_backend import StrapSpec, VirtualRadio

ADDR_T = "C1:00:00:00:00:1A"
ADDR_C = "C1:00:00:00:00:1B"
BEAT = {"notify": "10482c03", "after_s": 0.2}  # HR 72, RR 792.969 ms (Polar H10 capture)
# Slow first retry so that "reconnecting" is on screen for a while before the scan starts.
POLICY = ReconnectPolicy(
    scan_timeout_s=2.0, connect_timeout_s=2.0, backoff_initial_s=0.8, backoff_max_s=1.0
)


@pytest.mark.slow
def test_strap_going_away_shows_reconnecting_then_connected(qtbot) -> None:
    radio = VirtualRadio(
        [
            StrapSpec(name="T", address=ADDR_T, script=[BEAT] * 30, battery_pct=77),
            StrapSpec(
                name="C",
                address=ADDR_C,
                script=[BEAT] * 5 + [{"drop": True, "after_s": 0.1, "away_s": 1.0}] + [BEAT] * 8,
            ),
        ]
    )
    source = BleSource(
        {"therapist": ADDR_T, "client": ADDR_C}, backend=radio.backend(), policy=POLICY
    )
    ctl = SessionController(source).start()
    w = Dashboard(ctl, ["therapist", "client"])
    qtbot.addWidget(w)
    w.show()
    app = QApplication.instance()
    seen: list[str] = []
    deadline = time.monotonic() + 25.0
    try:
        while time.monotonic() < deadline:
            w.refresh()
            app.processEvents()
            text = w.panels["client"].strap.text()
            if not seen or seen[-1] != text:
                seen.append(text)
            if any(s.startswith("reconnecting") for s in seen) and text.startswith("connected"):
                break
            time.sleep(0.02)
    finally:
        ctl.stop()
        w.close()
    states = [s.split(" ")[0] for s in seen]
    assert "reconnecting" in states, seen
    back = states.index("reconnecting")
    assert "connected" in states[:back], seen
    assert states[-1] == "connected", seen
    assert "battery 77 %" in w.panels["therapist"].strap.text()
    lines = "\n".join(w.events.lines())
    assert "client: strap disconnected" in lines and lines.count("client: strap connected") == 2


@pytest.mark.slow
def test_live_command_opens_the_dashboard_for_a_screenshot(tmp_path, capsys) -> None:
    from PySide6.QtGui import QImage

    from biofeedback.cli import main

    radio = VirtualRadio([StrapSpec(name="S", address=ADDR_T, script=[BEAT] * 40)])
    shot, out = tmp_path / "live.png", tmp_path / "live.session"
    argv = ["live", "--client", ADDR_T, "--out", str(out), "--pace-bpm", "6"]
    argv += ["--duration", "4", "--screenshot", str(shot)]
    assert main(argv, backend=radio.backend()) == 0
    assert QImage(str(shot)).width() == 1366
    assert out.exists() and "client:" in capsys.readouterr().out
