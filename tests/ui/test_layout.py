"""No text cut off at 1366x768, at normal and high pixel density (see ``layout_check``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..conftest import ROOT
from .layout_check import clipped_texts


def test_the_check_sees_cut_off_text(qtbot) -> None:
    w = QWidget()
    qtbot.addWidget(w)
    lay = QVBoxLayout(w)
    lay.addWidget(QLabel("short"))
    long = QLabel("a label far too long for the sixty pixels it is given")
    long.setMinimumWidth(1)  # lets the layout squeeze it, as a crowded row does
    wrapped = QLabel("words wrap " * 12)
    wrapped.setWordWrap(True)
    lay.addWidget(long)
    lay.addWidget(wrapped)
    lay.addWidget(QPushButton("a button with a long text"))
    w.setFixedSize(60, 200)
    w.show()
    found = clipped_texts(w)
    assert len(found) == 3, found
    assert [line.split(" ")[0] for line in found] == ["QLabel", "QLabel", "QPushButton"]


def assert_fits(out: dict) -> None:
    """Every size of a :func:`check_layout` result fits 1366x768 with no text cut off."""
    for font_pt, size in out["sizes"].items():
        assert size["clipped"] == [], (font_pt, size["clipped"])
        assert size["window"] == [1366, 768], font_pt  # not pushed wider than the screen
        assert size["minimum"][0] <= 1366 and size["minimum"][1] <= 768, font_pt


# At normal density: tests/ui/test_dashboard.py, on its replayed sample.


@pytest.mark.slow
def test_no_text_is_cut_off_at_twice_the_pixel_density() -> None:
    # QT_SCALE_FACTOR is read once, when Qt starts: a process of its own. The sample to 150 s
    # (a second), with the panels' longest words; the longest synchrony sentence, which needs
    # 330 s of replay, is checked at normal density.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.layout_check", "--until", "150", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["device_pixel_ratio"] == 2.0
    assert_fits(out)


def test_a_screenshot_lays_out_the_last_frame_first(qtbot, tmp_path) -> None:
    from PySide6.QtGui import QImage

    from ui.app import _save

    w = QWidget()
    qtbot.addWidget(w)
    lay = QHBoxLayout(w)  # as the dashboard's top row: a stretching line, then buttons
    lay.addWidget(QLabel("session time 0:04:09"), 1)
    button = QPushButton("end session")
    lay.addWidget(button)
    w.resize(300, 100)
    w.show()
    qtbot.waitExposed(w)
    # What the window does when the session ends, then at once the screenshot, in one frame.
    button.setText("session ended")
    _save(w, str(tmp_path / "shot.png"))
    assert clipped_texts(w) == [] and QImage(str(tmp_path / "shot.png")).width() == 300
