"""Finds text the dashboard cannot show whole: labels, buttons and fields narrower or lower
than their text needs, at the window size and scale they are laid out at.

Qt's own size hints are the measure: a label without word wrap needs its ``sizeHint()`` (the
text's advance width and line height plus margins), a wrapping label needs
``heightForWidth(width)`` lines' height at its width, a button or a number field its
``sizeHint()`` width (text, padding, step buttons; a field's hint covers the longest value of
its range). A widget laid out smaller than that shows the text cut off or overlapping. The plots
(pyqtgraph items) are not widgets and are checked by looking at screenshots.

Run as a program (``python -m tests.ui.layout_check [--save DIR] [--until S] [FONT_PT ...]``),
it builds the dyad dashboard on the sample replayed to S (330) s, with worst-case words in the
person panels, at 1366x768 and the text sizes given, and prints the problems as JSON (and saves
a PNG per size with ``--save``): used under ``QT_SCALE_FACTOR``, which must be set before Qt
starts, so in a process of its own.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QLabel, QWidget

__all__ = ["check_layout", "clipped_texts", "worst_case_words"]


def _where(w: QWidget) -> str:
    text = w.text() if hasattr(w, "text") else ""
    return f"{type(w).__name__} {text!r}"[:90]


def clipped_texts(window: QWidget) -> list[str]:
    """One line per visible widget whose text does not fit the space it was given."""
    problems = []
    for w in window.findChildren(QWidget):
        if not w.isVisibleTo(window) or w.width() <= 0:
            continue
        have_w, have_h = w.width(), w.height()
        if isinstance(w, QLabel):
            if not w.text():
                continue
            if w.wordWrap():
                need_w, need_h = w.minimumSizeHint().width(), w.heightForWidth(have_w)
            else:
                need_w, need_h = w.sizeHint().width(), w.sizeHint().height()
        elif isinstance(w, (QAbstractButton, QAbstractSpinBox)):
            need_w, need_h = w.sizeHint().width(), w.minimumSizeHint().height()
        else:
            continue
        if need_w > have_w or need_h > have_h:
            problems.append(f"{_where(w)}: needs {need_w}x{need_h}, has {have_w}x{have_h}")
    return problems


def worst_case_words(snap: Any) -> Any:
    """``snap`` with the longest words a person panel shows: a strap reconnecting with battery
    and signal, unreliable values with their reason, gaps and a heart-rate rise settling."""
    from biofeedback.snapshot import CoregulationSnapshot

    people = {}
    for role, p in snap.participants.items():
        strap = dataclasses.replace(p.strap, state="reconnecting", battery_pct=100, rssi_dbm=-100)
        people[role] = dataclasses.replace(
            p,
            strap=strap,
            reliable=False,
            unreliable_reason="too many artifacts (more than 5 %)",
            gaps=12,
            hr_bpm=188.0,
            rmssd_ms=188.0,
            breathing_rate_bpm=28.8,
            coherence_ratio=18.8,
            burden_pct=88.8,
        )
    states = dict.fromkeys(people, "settling")
    return dataclasses.replace(
        snap,
        version=snap.version + 1,
        participants=people,
        coregulation=CoregulationSnapshot(states=states),
    )


def check_layout(ctl: Any, font_pts: list[float], save_dir: str | None = None) -> dict:
    """Lay the dyad dashboard of the session controller ``ctl`` out at 1366x768 with
    :func:`worst_case_words`, at each text size of ``font_pts``; per size the window's size, its
    minimum size and :func:`clipped_texts` (and a PNG per size in ``save_dir``)."""
    from PySide6.QtWidgets import QApplication

    from ui.dashboard import Dashboard

    app = QApplication.instance()
    out: dict[str, Any] = {"device_pixel_ratio": None, "sizes": {}}
    for font_pt in font_pts:
        w = Dashboard(ctl, list(ctl.source.roles), font_pt=font_pt)
        w.resize(1366, 768)
        w.show()
        now_s = ctl.session_time()
        w.show_snapshot(worst_case_words(ctl.snapshot()), ctl.events_since(0)[0], now_s)
        app.processEvents()
        out["device_pixel_ratio"] = w.devicePixelRatioF()
        out["sizes"][str(font_pt)] = {
            "window": [w.width(), w.height()],
            "minimum": [w.minimumSizeHint().width(), w.minimumSizeHint().height()],
            "clipped": clipped_texts(w),
        }
        if save_dir is not None:
            w.grab().save(f"{save_dir}/layout-{font_pt:g}pt.png")
        w.close()
        w.deleteLater()
        app.processEvents()
    return out


def _main(argv: list[str]) -> int:
    """``python -m tests.ui.layout_check [--save DIR] [--until S] [FONT_PT ...]``: JSON on
    stdout (the sample replayed to S seconds, default 330)."""
    from PySide6.QtWidgets import QApplication

    from biofeedback.session import SessionController
    from biofeedback.sources.replay import ReplaySource
    from tests.conftest import ROOT

    save_dir, until_s = None, 330.0
    while argv[:1] in (["--save"], ["--until"]):
        if argv[0] == "--save":
            save_dir = argv[1]
        else:
            until_s = float(argv[1])
        argv = argv[2:]
    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive)
    sample = ROOT / "sample_data" / "dyad_session.session"
    ctl = SessionController(ReplaySource(sample, speed=None, duration_s=until_s)).start()
    try:
        ctl.wait(120.0)
        out = check_layout(ctl, [float(a) for a in argv] or [10.0], save_dir)
    finally:
        ctl.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
