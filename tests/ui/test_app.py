"""The commands with the dashboard: screenshots, no display, source errors in the window."""

from __future__ import annotations

import stat

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QImage

from biofeedback.beats import Packet
from biofeedback.cli import main
from biofeedback.session import SessionController
from biofeedback.sources import BeatSource
from ui.app import SCREENSHOT_SIZE, dashboard_unavailable
from ui.dashboard import Dashboard


def test_demo_screenshots_window_and_pacer(tmp_path, capsys) -> None:
    shot, pacer = tmp_path / "shot.png", tmp_path / "pacer.png"
    argv = ["demo", "--speed", "max", "--duration", "150", "--theme", "dark"]
    argv += ["--screenshot", str(shot), "--screenshot-pacer", str(pacer)]
    assert main(argv) == 0
    assert "150 s" in capsys.readouterr().out  # played 150 s of session time
    for path in (shot, pacer):
        image = QImage(str(path))
        assert (image.width(), image.height()) == SCREENSHOT_SIZE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # Dark theme: the corner is the dark window background, not white.
        assert image.pixelColor(2, image.height() - 2).lightness() < 60


def test_no_display_falls_back_to_the_terminal_view(capsys, monkeypatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert dashboard_unavailable() is not None
    assert main(["demo", "--speed", "max", "--duration", "20"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "no display" in line]
    assert lines == [
        "no display available (QT_QPA_PLATFORM is offscreen): showing the terminal view"
    ]


def test_screenshot_needs_the_dashboard(capsys) -> None:
    assert main(["demo", "--no-ui", "--screenshot", "x.png"]) == 2
    assert "--screenshot needs the dashboard" in capsys.readouterr().err


class _Failing(BeatSource):
    """A strap that sends two beats' worth of packets, then fails."""

    roles = ("solo",)

    async def raw(self):
        yield Packet(0.0, "solo", bytes.fromhex("10 3b 53 04"), 0)
        yield Packet(1.0, "solo", bytes.fromhex("10 3b 53 04"), 1)
        raise OSError("the strap's adapter was unplugged")


def test_a_source_error_shows_in_the_window(qtbot) -> None:
    ctl = SessionController(_Failing()).start()
    assert ctl.wait(10.0)
    w = Dashboard(ctl, ["solo"])
    qtbot.addWidget(w)
    w.refresh()
    assert "unplugged" in w.message.text()
    ctl.stop()
