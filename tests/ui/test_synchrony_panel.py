"""The synchrony panel drawn from a made-up history whose stretches are known by hand: gaps
and invalid stretches, the paced stretch and its label, in- and anti-phase marks, the line
thinned for long sessions without bridging a gap."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from biofeedback.snapshot import SynchronyHistory
from ui.synchrony_panel import PACER_LABEL, SynchronyPanel
from ui.theme import THEMES


def _history(n: int, gap: tuple[int, int] = (300, 320), paced: tuple[int, int] = (400, 460)):
    """Readings at t = 0..n-1 s, each describing the window ending 6 s earlier; valid from
    180 s except ``gap``; both following the pacer over ``paced``; strength 0.8 against a
    0.1-0.5 band; in-phase before 500 s, anti-phase from 500 s."""
    t = np.arange(float(n))
    valid = (t >= 180) & ~((t >= gap[0]) & (t < gap[1]))
    band = np.where(t >= 180, 1.0, np.nan)
    phase = np.where(t < 500, "in-phase", "anti-phase").astype(object)
    return SynchronyHistory(
        t_s=t,
        window_end_s=t - 6.0,
        value=np.where(t >= 180, 0.8, np.nan),
        band_low=0.1 * band,
        band_high=0.5 * band,
        lag_s=np.zeros(n),
        leader=np.full(n, None, dtype=object),
        phase=phase,
        pacer_driven=(t >= paced[0]) & (t < paced[1]),
        valid=valid,
    )


@pytest.fixture
def panel(qtbot):
    p = SynchronyPanel(THEMES["light"], 10.0)
    qtbot.addWidget(p)
    p.resize(1000, 420)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_stretches_marks_and_gaps_where_the_history_puts_them(panel) -> None:
    panel.update_synchrony(_history(600), None, 600.0)
    x, y = panel.curve.getData()
    # The line is drawn at the end of each reading's window (t - 6 s); no value where invalid.
    assert x[0] == -6.0 and x[-1] == 593.0
    assert np.isnan(y[:180]).all() and np.isnan(y[300:320]).all()
    assert np.isfinite(y[180:300]).all() and np.isfinite(y[320:]).all()
    # Grey: before 180 s and the 20 s gap; each reading covers +-0.5 s, shifted by 6 s.
    assert panel.invalid.n_spans == 2
    spans = panel.invalid._key[0]
    assert spans[0] == pytest.approx((-6.5, 173.5)) and spans[1] == pytest.approx((293.5, 313.5))
    # The paced stretch, labelled at its start.
    assert panel.paced._key[0] == (pytest.approx((393.5, 453.5)),)
    assert panel.pacer_text.isVisible() and panel.pacer_text.toPlainText() == PACER_LABEL
    assert panel.pacer_text.pos().x() == pytest.approx(393.5)
    # Above the band and not paced: in-phase marks on the line before 500 s (120 + 80 + 40
    # readings), anti-phase marks on the bottom row from 500 s (100 readings).
    assert len(panel.in_phase.data) == 240 and len(panel.anti_phase.data) == 100
    assert set(panel.in_phase.data["y"]) == {0.8}
    assert len(set(panel.anti_phase.data["y"])) == 1 and panel.anti_phase.data["y"][0] < 0
    assert not panel.hint.isVisible()


def test_a_long_session_is_drawn_thinned_without_bridging_its_gaps(panel) -> None:
    n = 5400
    # A 3 s gap, shorter than a bin of the thinned line (6 readings at this width).
    panel.update_synchrony(_history(n, gap=(3001, 3004), paced=(4000, 4060)), None, float(n))
    width = panel.plot.getPlotItem().getViewBox().width()
    shown_x, shown_y = panel.curve.curve.getData()  # what is drawn, after thinning
    assert shown_x.size <= 2 * width + 2  # one min/max pair per pixel at most
    assert shown_x.size < n / 2
    # The readings of 3001-3003 s describe windows ending 2995-2997 s: the bin holding them is
    # a gap, so no drawn segment joins a point before 2995 s to one after 2997 s.
    ok = np.isfinite(shown_y)
    joined = ok[1:] & ok[:-1]
    assert not ((shown_x[:-1] < 2995.0) & (shown_x[1:] > 2997.0) & joined).any()
    assert not (ok & (shown_x >= 2995.0) & (shown_x <= 2997.0)).any()
    # The item keeps every reading; only the drawing is thinned.
    assert panel.curve.xData.size == n
