"""After the session ends the dashboard says so everywhere: each person's strap reads "ended"
(from the snapshot) and the pacer column no longer offers to start the pacer."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from biofeedback.session import SessionController
from biofeedback.sources.replay import ReplaySource
from ui.dashboard import Dashboard

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def test_a_replay_at_its_end_shows_ended_straps_and_no_pacer_offer(qtbot):
    # The sample's pacer runs from 30 s on: on when this replay ends at 45 s.
    ctl = SessionController(ReplaySource(DYAD, speed=None, duration_s=45.0)).start()
    w = Dashboard(ctl, list(ctl.source.roles), title="dyad")
    qtbot.addWidget(w)
    try:
        assert "starts it" in w.pacer.off_hint  # the offer while the session runs
        assert ctl.wait(20.0)
        w.refresh()
        assert "session ended" in w.windowTitle()
        assert {r: p.strap.text().split(" · ")[0] for r, p in w.panels.items()} == {
            "therapist": "ended",
            "client": "ended",
        }
        assert w.pacer.off_hint == "the session has ended"
        # The pacer stopped with the session: off, "start pacer" (disabled), the hint shown.
        w.refresh()
        assert not w.pacer_running() and w.pacer.state()[2] is None
        assert w.start_button.text() == "start pacer" and not w.start_button.isEnabled()
    finally:
        w.close()
        ctl.stop()
