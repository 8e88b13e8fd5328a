"""Real key presses from an X server into the dashboard on Qt's ``xcb`` platform.

Run as a program under an X display (``python -m tests.ui.x11_keys``, ``DISPLAY`` set,
``QT_QPA_PLATFORM`` unset or ``xcb``): it opens the dyad dashboard on the sample replaying at 1x,
waits until the window is active, then has ``xdotool`` type keys through the X server's XTEST
extension, so each key goes through the X keyboard map (``ctrl+plus`` is Shift+= on a US
layout) and Qt's xcb key handling as a user's would. It prints one JSON object: the platform,
the font and DPI Qt used, and what each group of keys did.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

__all__: list[str] = []


def _settle(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _main() -> int:
    from PySide6.QtGui import QFontInfo
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from biofeedback.session import SessionController
    from biofeedback.sources.replay import ReplaySource
    from tests.conftest import ROOT
    from ui.dashboard import Dashboard

    app = QApplication([])
    sample = ROOT / "sample_data" / "dyad_session.session"
    ctl = SessionController(ReplaySource(sample, speed=1.0)).start()
    out: dict[str, Any] = {"platform": app.platformName()}
    try:
        w = Dashboard(ctl, list(ctl.source.roles))
        w.resize(1366, 768)
        w.show()
        w.activateWindow()
        w.start_timers()
        out["active"] = QTest.qWaitForWindowActive(w, 5000)
        out["font"] = QFontInfo(w.font()).family()
        out["logical_dpi"] = w.logicalDpiX()
        out["device_pixel_ratio"] = w.devicePixelRatioF()
        out["size"] = [w.width(), w.height()]

        def keys(*names: str) -> None:
            subprocess.run(["xdotool", "key", "--delay", "30", *names], check=True, timeout=20)
            _settle(app, 0.25)

        keys("space")
        keys("Up", "Up", "Down", "Up")
        pacer = [e.data["rate_bpm"] for e in ctl.events_since(0)[0] if e.kind == "pacer"]
        out["pacer_rates"] = pacer
        out["rate_field"] = w.rate_spin.text()
        fonts = [w.font_pt]
        for key in ("ctrl+plus", "ctrl+equal", "ctrl+KP_Add", "ctrl+minus", "ctrl+KP_Subtract"):
            keys(key)
            fonts.append(w.font_pt)
        out["font_pt"] = fonts
        keys("ctrl+t")
        out["theme"] = w.theme.name
        keys("F11")
        pw = w.pacer_window
        out["pacer_window_shown"] = pw is not None and pw.isVisible()
        keys("Escape", "space")  # Esc leaves full screen; Space stops the pacer from there
        out["pacer_rates_end"] = [
            e.data["rate_bpm"] for e in ctl.events_since(0)[0] if e.kind == "pacer"
        ]
    finally:
        ctl.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
