"""The terminal view: what a person sees, rendered to text."""

from __future__ import annotations

import io

from rich.console import Console

from biofeedback.engine import Engine
from biofeedback.sources.replay import iter_session
from biofeedback.terminal import breathing_guide, render_snapshot
from hrv.pacer import PacerSettings, PacerTimeline

from ..conftest import ROOT


def test_breathing_guide_follows_the_pacer_cycle():
    # 6 breaths/min: 10 s cycles from t0 = 100 s, 5 s in and 5 s out.
    pacer = PacerTimeline().changed(100.0, PacerSettings(6.0))
    assert breathing_guide(pacer, 100.0, width=10) == "breathe in   [··········]"
    assert breathing_guide(pacer, 102.5, width=10) == "breathe in   [█████·····]"
    assert breathing_guide(pacer, 105.0, width=10) == "breathe out  [██████████]"
    assert breathing_guide(pacer, 108.5, width=10) == "breathe out  [███·······]"
    assert breathing_guide(pacer, 110.0, width=10) == breathing_guide(pacer, 100.0, 10)
    assert breathing_guide(pacer, 99.0) == ""  # not on yet


def test_breathing_guide_shows_holds_and_the_inhale_share():
    # 5 breaths/min (12 s) with 1 s holds: 10 s of breathing, 40 % in: in 4 s, hold 1 s,
    # out 6 s, hold 1 s.
    pacer = PacerTimeline().changed(0.0, PacerSettings(5.0, 0.4, 1.0, 1.0))
    assert breathing_guide(pacer, 2.0, width=10) == "breathe in   [█████·····]"
    assert breathing_guide(pacer, 4.5, width=10) == "hold         [██████████]"
    assert breathing_guide(pacer, 8.0, width=10) == "breathe out  [█████·····]"
    assert breathing_guide(pacer, 11.5, width=10) == "hold         [··········]"


def _text(snap, now=None):
    console = Console(file=io.StringIO(), width=300)
    console.print(render_snapshot(snap, "test", now))
    return console.file.getvalue()


def test_view_of_the_sample_paced_stretch_and_the_end():
    engine = Engine(("therapist", "client"))
    items = list(iter_session(ROOT / "sample_data" / "dyad_session.session"))
    for item in items:
        if item.t_s > 200:
            break
        engine.feed(item)
    paced = _text(engine.snapshot(), now=202.5)
    assert "pacer 6 breaths/min" in paced and "breathe" in paced
    assert "RSA" in paced and "therapist" in paced and "client" in paced
    assert "following the pacer" in paced
    for item in items:
        if 200 < item.t_s <= 280:
            engine.feed(item)
    after_dropout = _text(engine.snapshot(), now=280.5)  # the client's strap: 240-260 s
    assert "client: 1 gap in the recording" in after_dropout
    assert "pacer off" in after_dropout
    for item in items:
        if item.t_s > 280:
            engine.feed(item)
    engine.finish()
    end = _text(engine.snapshot())
    assert "pacer off" in end and "breathe" not in end
    assert "client's heart-rate changes tended to precede" in end


def test_no_strength_numbers_while_both_follow_the_pacer():
    engine = Engine(("therapist", "client"))
    for item in iter_session(ROOT / "sample_data" / "dyad_session.session"):
        if item.t_s > 200:
            break
        engine.feed(item)
    assert engine.snapshot().synchrony.pacer_driven
    assert "strength" not in _text(engine.snapshot(), now=202.5)


def test_pacer_events_are_described_with_their_settings():
    from biofeedback.beats import Event, EventKind
    from biofeedback.terminal import describe_event

    def said(data):
        return describe_event(Event(1.0, EventKind.PACER, None, data))

    assert said(PacerSettings(5.5, 0.4, 1.0, 1.5).to_dict()) == (
        "pacer at 5.5 breaths/min (in 40 % of the breath, hold 1 s after in, 1.5 s after out)"
    )
    assert said({"rate_bpm": 6.0}) == "pacer at 6 breaths/min"  # an older recording
    assert said({"rate_bpm": 0.0}) == "pacer off"
