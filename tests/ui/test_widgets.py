"""Dashboard pieces on their own: gaps left open, in-breath shading, the pacer's drawing."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from hrv.pacer import PacerSettings, PacerTimeline
from ui.pacer_widget import PacerWidget, describe_settings
from ui.series import in_breath_spans, trace_xy, true_runs
from ui.theme import THEMES, role_style
from ui.trace import HeartRateTrace


def test_trace_xy_breaks_at_gaps_only() -> None:
    t = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 30.0])
    hr = np.array([60.0, 61, 62, 70, 71, 80])
    gap = np.array([False, False, False, True, False, True])
    x, y = trace_xy(t, hr, gap, t_min_s=1.5)
    # From the beat before 1.5 s on; a nan before each beat after a gap, x kept sorted.
    np.testing.assert_array_equal(x, [1, 2, 3, 3, 10, 11, 11, 30])
    np.testing.assert_array_equal(np.isnan(y), [0, 0, 0, 1, 0, 0, 1, 0])
    assert np.all(np.diff(x) >= 0)
    _, y2 = trace_xy(t, hr, np.zeros(6, bool))
    np.testing.assert_array_equal(y2, hr)


def test_in_breath_spans_hand_computed() -> None:
    # 6/min with a 40 % inhale: 4 s in every 10 s from 5 s. At 20 s (cycle count 1.5: a sixth
    # into the 6 s exhale) the pacer changes to 5/min 1:1 (12 s cycle, 6 s in, exhale from
    # fraction 0.5): remapped count 1 + 0.5 + 0.5/6 = 1.583, so the next cycle starts
    # (2 - 1.583) * 12 = 5 s later, at 25 s; then every 12 s until the pacer stops at 50 s.
    tl = (
        PacerTimeline()
        .changed(5.0, PacerSettings(6.0, 0.4))
        .changed(20.0, PacerSettings(5.0))
        .changed(50.0, None)
    )
    spans = in_breath_spans(tl, 0.0, 60.0)
    expected = [(5, 9), (15, 19), (25, 31), (37, 43), (49, 50)]
    np.testing.assert_allclose(spans, expected, atol=1e-9)
    np.testing.assert_allclose(in_breath_spans(tl, 7.0, 16.0), [(7, 9), (15, 16)], atol=1e-9)


def test_true_runs() -> None:
    t = np.arange(10.0)
    m = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    np.testing.assert_array_equal(true_runs(t, m), [[0.5, 2.5], [4.5, 5.5], [6.5, 9.5]])
    # A hole in time splits a run even when both samples are true.
    np.testing.assert_array_equal(
        true_runs(np.array([0, 1, 2, 10, 11.0]), np.ones(5, bool)), [[-0.5, 2.5], [9.5, 11.5]]
    )
    assert true_runs(t, np.zeros(10, bool)).shape == (0, 2)


def _line_pixels(image, x0: int, x1: int, y0: int, y1: int, color: QColor) -> int:
    """Pixels within a small distance of ``color`` in the rectangle ``[x0, x1) x [y0, y1)``."""
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    h, stride = img.height(), img.bytesPerLine()
    bgra = np.frombuffer(img.constBits(), np.uint8, count=h * stride).reshape(h, stride // 4, 4)
    box = bgra[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0), :3].astype(int)
    target = np.array([color.blue(), color.green(), color.red()])
    return int((np.abs(box - target).sum(axis=-1) < 60).sum())


def test_trace_draws_no_line_across_a_gap(qtbot) -> None:
    theme = THEMES["light"]
    trace = HeartRateTrace("therapist", theme, 10.0, window_s=120.0)
    qtbot.addWidget(trace)
    trace.resize(600, 300)
    trace.show()
    # Beats every second at 70/min, none from 60 to 90 s (a recording gap).
    t = np.concatenate((np.arange(0.0, 61.0), np.arange(90.0, 121.0)))
    hr = np.full(t.size, 70.0)
    gap = t == 90.0
    trace.update_beats(1, t, hr, np.zeros(t.size, np.int8), gap, 120.0)
    trace.scroll(120.0, None)
    qtbot.wait(20)
    x, y = trace.points
    assert np.isnan(y).sum() == 1 and x.size == t.size + 1
    image = trace.grab().toImage()
    vb = trace.getPlotItem().getViewBox()
    # The x axis is seconds before now: session time tx is drawn at tx - 120 s.
    assert vb.viewRange()[0] == pytest.approx([-120.0, 9.6])

    def at(tx: float) -> tuple[int, int]:
        p = trace.mapFromScene(vb.mapViewToScene(QPointF(tx - 120.0, 70.0)))
        return p.x(), p.y()

    color = QColor(role_style(theme, "therapist").color)
    inside_x, row = at(75.0)
    before_x, _ = at(40.0)
    assert _line_pixels(image, before_x - 2, before_x + 3, row - 5, row + 6, color) > 0
    assert _line_pixels(image, inside_x - 2, inside_x + 3, row - 5, row + 6, color) == 0


def test_trace_shades_the_in_breaths(qtbot) -> None:
    trace = HeartRateTrace("client", THEMES["dark"], 10.0, window_s=60.0)
    qtbot.addWidget(trace)
    tl = PacerTimeline().changed(0.0, PacerSettings(6.0))
    trace.update_beats(
        1,
        np.arange(0.0, 100.0),
        np.full(100, 70.0),
        np.zeros(100, np.int8),
        np.zeros(100, bool),
        100.0,
    )
    trace.scroll(100.0, tl)
    # 40-100 s at 6/min, 5 s in per 10 s cycle: six in-breaths, each 5 s, and the coming one
    # in the look-ahead (8 % of 60 s: up to 104.8 s).
    assert trace.shading.n_spans == 7
    rect = trace.shading.path().boundingRect()
    assert rect.left() == pytest.approx(40.0) and rect.right() == pytest.approx(104.8)
    # On the "before now" axis the view is the last minute and the look-ahead, fixed, and the
    # shading is moved there: 40 s is a minute before now, 104.8 s is 4.8 s ahead.
    view = trace.getPlotItem().getViewBox().viewRange()[0]
    assert view == pytest.approx([-60.0, 4.8])
    shown = trace.shading.mapRectToParent(rect)
    assert shown.left() == pytest.approx(-60.0) and shown.right() == pytest.approx(4.8)


def _fill_pixels(widget: PacerWidget) -> int:
    image = widget.grab().toImage()
    fill = QColor(widget.theme.pacer_fill)
    return _line_pixels(image, 0, image.width(), 0, image.height(), fill)


def test_pacer_circle_area_follows_the_volume(qtbot) -> None:
    now = {"t": 0.0}
    w = PacerWidget(THEMES["light"], lambda: now["t"])
    qtbot.addWidget(w)
    w.resize(300, 400)
    w.set_timeline(PacerTimeline().changed(0.0, PacerSettings(6.0)))
    w.show()
    now["t"] = 5.0  # end of the inhale: full
    full = _fill_pixels(w)
    now["t"] = 2.5  # half-way in: volume 0.5
    assert w.state()[:2] == (pytest.approx(0.5), "in")
    half = _fill_pixels(w)
    # Circle area ~ r^2 = r_max^2 (0.22^2 + (1 - 0.22^2) v): 0.524 of full at v = 0.5.
    assert half / full == pytest.approx(0.22**2 + (1 - 0.22**2) * 0.5, rel=0.05)
    now["t"] = 7.5
    assert w.state()[1] == "out"
    w.set_shape("bar")
    bar_half = _fill_pixels(w)
    now["t"] = 5.0
    assert bar_half / _fill_pixels(w) == pytest.approx(0.5, rel=0.05)


def test_pacer_repaints_only_when_the_picture_changes(qtbot) -> None:
    now = {"t": 0.0}
    w = PacerWidget(THEMES["light"], lambda: now["t"])
    qtbot.addWidget(w)
    w.resize(200, 250)
    w.show()
    w.tick()  # the first frame
    qtbot.wait(20)
    painted = w.frames_painted
    for _ in range(20):  # pacer off: nothing moves, nothing is painted
        w.tick()
        qtbot.wait(1)
    assert w.frames_painted == painted
    w.set_timeline(PacerTimeline().changed(0.0, PacerSettings(6.0)))
    for i in range(10):
        now["t"] = 1.0 + i * 0.1
        w.tick()
        qtbot.wait(1)
    assert w.frames_painted > painted


def test_settings_words() -> None:
    s = PacerSettings(5.5, 0.4, 1.0, 0.0)
    # Cycle 60 / 5.5 = 10.91 s, minus the 1 s hold: 9.91 s, 40 % in (3.96 s), 60 % out (5.95 s).
    assert describe_settings(s) == "5.5 breaths/min · in 4.0 s, out 5.9 s · hold 1 s full"
    assert describe_settings(None) == "pacer off"


def test_band_thinned_to_bin_extremes() -> None:
    from ui.synchrony_panel import thin_band

    t = np.arange(3000.0)
    low = np.sin(t / 7.0)
    low[:30] = np.nan  # no band yet at the start
    high = low + 1.0
    bt, bl, bh = thin_band(t, low, high, max_points=1000)
    assert bt.size == 1000 and np.array_equal(bt, t[::3])
    np.testing.assert_array_equal(bl[10:], np.min(low[30:].reshape(-1, 3), axis=1))
    np.testing.assert_array_equal(bh[10:], np.max(high[30:].reshape(-1, 3), axis=1))
    assert np.isnan(bl[:10]).all() and np.isnan(bh[:10]).all()
    short = thin_band(t[:50], low[:50], high[:50])
    assert short[0].size == 50


def test_pacer_repaints_only_its_shape_within_a_stage(qtbot) -> None:
    """Between stage changes only the circle moves: the words under it are not repainted."""
    now = {"t": 0.5}
    rects = []

    class Recording(PacerWidget):
        def paintEvent(self, event) -> None:
            rects.append(event.rect())
            super().paintEvent(event)

    w = Recording(THEMES["light"], lambda: now["t"])
    qtbot.addWidget(w)
    w.resize(200, 300)
    w.set_timeline(PacerTimeline().changed(0.0, PacerSettings(6.0)))  # in 0-5 s, out 5-10 s
    w.show()
    qtbot.waitExposed(w)
    w.tick()
    qtbot.waitUntil(lambda: bool(rects))
    shape = w._shape_rect
    rects.clear()
    now["t"] = 2.0  # still breathing in, the circle is larger
    w.tick()
    qtbot.waitUntil(lambda: bool(rects))
    assert all(shape.contains(r) for r in rects) and shape.height() < w.height() - 40
    rects.clear()
    now["t"] = 6.0  # breathing out: the word changes, the whole widget is repainted
    w.tick()
    qtbot.waitUntil(lambda: bool(rects))
    assert any(r == w.rect() for r in rects)
