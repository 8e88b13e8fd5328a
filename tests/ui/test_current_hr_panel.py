"""The dashboard's heart-rate number is the snapshot's robust current rate."""

from __future__ import annotations

import re

from biofeedback.beats import Beat
from biofeedback.engine import Engine
from ui.person_panel import PersonPanel
from ui.theme import THEMES


def test_panel_shows_75_not_120_at_a_premature_beat(qtbot) -> None:
    engine = Engine(("client",))
    t = 0.0
    for k, rr in enumerate([800.0] * 10 + [500.0]):  # ends on a 500 ms premature beat
        t += rr / 1000.0
        engine.feed(Beat(t, rr, "client", k, k))
    panel = PersonPanel("client", THEMES["light"], 10.0)
    qtbot.addWidget(panel)
    snap = engine.snapshot()
    panel.update_person(snap.version, snap.participants["client"], t, False)
    shown = re.sub(r"<[^>]+>", "", panel.values["hr"].text())  # the unit is in smaller type
    assert shown == "75 /min"
