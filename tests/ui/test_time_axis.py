"""The time axes: traces read "minutes before now" on an axis that never moves; the synchrony
panel reads the session clock."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QPointF

from hrv.pacer import PacerSettings, PacerTimeline
from ui.theme import THEMES
from ui.time_axis import SessionClockAxis, before_now_text, before_now_ticks
from ui.trace import HeartRateTrace


def test_before_now_labels_read_as_minutes_and_seconds() -> None:
    assert [before_now_text(t) for t in (0.0, -15.0, -90.0, -300.0, 4.8)] == [
        "now",
        "−0:15",
        "−1:30",
        "−5:00",
        "+0:05",
    ]
    major, minor = before_now_ticks(120.0)
    assert major == [(0, "now"), (-30, "−0:30"), (-60, "−1:00"), (-90, "−1:30"), (-120, "−2:00")]
    assert [x for x, _ in minor] == [-15.0, -45.0, -75.0, -105.0]
    # One label a minute on the 5-minute trace, every 15 s on the 1-minute one.
    assert [x for x, _ in before_now_ticks(300.0)[0]] == [0, -60, -120, -180, -240, -300]
    assert [x for x, _ in before_now_ticks(60.0)[0]] == [0, -15, -30, -45, -60]


def test_session_clock_axis_steps_by_whole_minutes_and_labels_like_the_events(qtbot) -> None:
    axis = SessionClockAxis(min_label_px=70.0)
    # 90 minutes on 600 px: at most ~8.6 labels, so 15-minute steps (10 minutes would be 9).
    assert axis.tickSpacing(0.0, 5400.0, 600.0)[0] == (900.0, 0.0)
    # 7 minutes on 600 px: one label a minute.
    assert axis.tickSpacing(0.0, 420.0, 600.0)[0] == (60.0, 0.0)
    assert axis.tickStrings([0.0, 300.0, 3600.0, 5400.0], 1.0, 900.0) == [
        "00:00",
        "05:00",
        "1:00:00",
        "1:30:00",
    ]


def test_trace_scrolls_its_drawing_and_keeps_its_axes(qtbot) -> None:
    trace = HeartRateTrace("client", THEMES["light"], 10.0, window_s=60.0)
    qtbot.addWidget(trace)
    trace.resize(600, 300)
    trace.show()
    tl = PacerTimeline().changed(0.0, PacerSettings(6.0))
    t = np.arange(0.0, 200.0)
    trace.update_beats(1, t, np.full(t.size, 70.0), np.zeros(t.size, np.int8), t < 0, 150.0)
    trace.scroll(150.0, tl)
    trace.grab()
    vb = trace.getPlotItem().getViewBox()
    axis = trace.getPlotItem().getAxis("bottom")
    picture, view = axis.picture, vb.viewRange()
    assert picture is not None and view[0] == pytest.approx([-60.0, 4.8])
    # The beat at 140 s is drawn 10 s before now; 10 s later, 20 s before now.
    assert trace.curve.mapToParent(QPointF(140.0, 70.0)).x() == pytest.approx(-10.0)
    trace.scroll(160.0, tl)
    trace.grab()
    assert trace.curve.mapToParent(QPointF(140.0, 70.0)).x() == pytest.approx(-20.0)
    assert trace.artifacts.pos().x() == trace.shading.pos().x() == -160.0
    # The in-breath shading moved with the line: 6/min, half the cycle in, from 0 s inhales
    # at 100-105 s, 110-115 s, ..., 160-164.8 s in the view: a minute before now to 4.8 s on.
    rect = trace.shading.mapRectToParent(trace.shading.path().boundingRect())
    assert rect.left() == pytest.approx(-60.0) and rect.right() == pytest.approx(4.8)
    # The axes did not move, so their drawing was not regenerated.
    assert vb.viewRange() == view and axis.picture is picture


def test_two_traces_take_turns_to_move(qtbot) -> None:
    """Each trace moves once per pixel step; with phases 0 and 0.5 never in the same frame."""
    traces = []
    for k, role in enumerate(("therapist", "client")):
        trace = HeartRateTrace(role, THEMES["light"], 10.0, window_s=120.0)
        qtbot.addWidget(trace)
        trace.resize(600, 300)
        trace.show()
        trace.scroll_phase = k / 2
        traces.append(trace)
    step_s = 1.08 * 120.0 / traces[0].getPlotItem().getViewBox().width()
    moved = np.zeros((2, 250), bool)
    for f in range(250):  # 10 s at 25 frames a second
        now = 100.0 + f / 25
        for k, trace in enumerate(traces):
            before = trace.now_s
            trace.scroll(now, None)
            moved[k, f] = trace.now_s != before
    assert not (moved[0, 1:] & moved[1, 1:]).any()  # frame 0 places both
    for k in range(2):
        assert abs(moved[k, 1:].sum() - 10.0 / step_s) <= 1.5
