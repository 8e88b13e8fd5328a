"""The shown current heart rate does not jump at a premature beat (snapshot ``hr_bpm``)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from rich.console import Console

from biofeedback.beats import Beat
from biofeedback.engine import Engine
from biofeedback.participant import current_hr_bpm
from biofeedback.session_reader import SessionReader
from biofeedback.sources.replay import iter_session
from biofeedback.status_view import summary
from biofeedback.terminal import render_snapshot
from hrv.artifacts import classify_intervals

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def _feed(rr_ms: list[float], role: str = "solo") -> list[float]:
    """Feed beats with these intervals; the shown heart rate after each one."""
    engine = Engine((role,))
    t, shown = 0.0, []
    for k, rr in enumerate(rr_ms):
        t += rr / 1000.0
        engine.feed(Beat(t, rr, role, k, k))
        shown.append(engine.snapshot().participants[role].hr_bpm)
    return shown


def test_a_premature_beat_and_its_pause_leave_the_shown_rate_alone():
    # 75 beats/min, then a 500 ms premature beat and its 1100 ms compensating pause: 60000/RR
    # would read 120 and then 54.5; the median of the last five intervals stays 800 ms.
    shown = _feed([800.0] * 10 + [500.0, 1100.0] + [800.0] * 5)
    assert shown == pytest.approx([75.0] * 17, abs=1e-12)


def test_a_steady_change_of_rate_shows_two_beats_late():
    # 800 ms down to 600 ms in 20 ms steps (75 -> 100 beats/min): the median of the last five
    # of a steady ramp is the interval two beats back.
    ramp = [800.0 - 20.0 * k for k in range(1, 11)]
    shown = _feed([800.0] * 10 + ramp)
    want = [60000.0 / rr for rr in ([800.0] * 2 + ramp)[:10]]
    assert shown[10:] == pytest.approx(want, abs=1e-9)


def test_flagged_and_old_intervals_are_left_out():
    rr = np.array([800.0, 500.0, 1100.0, 810.0])
    # flagged (1) left out; not yet classified (-1) kept: median of 800 and 810.
    flags = np.array([0, 1, 1, -1], dtype=np.int8)
    assert current_hr_bpm(rr, flags) == pytest.approx(60000.0 / 805.0)
    assert math.isnan(current_hr_bpm(rr, np.ones(4, dtype=np.int8)))
    assert math.isnan(current_hr_bpm(rr[:0], flags[:0]))
    # A beat 20 s after the others (a drop-out): only the last 15 s count.
    shown = _feed([800.0] * 10 + [20000.0, 700.0])
    assert shown[-1] == pytest.approx(60000.0 / 10350.0)  # median of 20000 and 700: honest


def test_sample_premature_and_missed_beats_never_show_as_a_jump():
    """At every premature (and the one missed) beat of the bundled sample, by its ground
    truth: the shown heart rate stays inside the range of the beat-by-beat rates of the
    regular beats within 8 s (the breathing swing), where 60000 / RR leaves it by 20 or more."""
    truth = SessionReader(DYAD).meta["ground_truth"]["participants"]
    engine = Engine(("therapist", "client"))
    rows: dict[str, list[tuple[float, float, float]]] = {"therapist": [], "client": []}
    for item in iter_session(DYAD):
        engine.feed(item)
        if isinstance(item, Beat):
            p = engine.snapshot().participants[item.role]
            rows[item.role].append((item.t_s, item.rr_ms, p.hr_bpm))
    checked = 0
    for role, person in truth.items():
        t, rr, shown = np.array(rows[role]).T
        regular = classify_intervals(rr, causal=True) == 0
        for te in person["ectopic_beats_s"] + person["missed_beats_s"]:
            # The premature beat and its pause themselves are out even where the causal check
            # let one through (beat times carry the strap's timing offset: 0 to 0.6 s late).
            k = int(np.searchsorted(t, te - 0.2))
            own = np.zeros(t.size, bool)
            own[k : k + 2] = True
            rates = 60000.0 / rr[(np.abs(t - te) < 8.0) & regular & ~own]
            lo, hi = rates.min(), rates.max()
            # Stored beat times carry the strap's timing offset (under 0.6 s here).
            around = (t > te - 1.0) & (t < te + 8.0)
            raw = 60000.0 / rr[around]
            assert raw.min() < lo - 20.0 or raw.max() > hi + 20.0, (role, te)  # it is there
            assert lo <= shown[around].min() and shown[around].max() <= hi, (role, te)
            checked += 1
        # Over the whole session the shown rate moves by under 8 beats/min from one beat to
        # the next (the breathing swing), never by the 30-60 of a premature beat.
        assert np.max(np.abs(np.diff(shown))) < 8.0, role
        assert np.max(np.abs(np.diff(60000.0 / rr))) > 30.0, role
    assert checked == 6


def test_terminal_shows_the_robust_rate_at_the_premature_beat():
    engine = Engine(("solo",))
    t = 0.0
    for k, rr in enumerate([800.0] * 10 + [500.0]):  # stop right at the premature beat
        t += rr / 1000.0
        engine.feed(Beat(t, rr, "solo", k, k))
    snap = engine.snapshot()
    console = Console(file=io.StringIO(), width=200)
    console.print(render_snapshot(snap, "test"))
    row = next(line for line in console.file.getvalue().splitlines() if line.startswith(" solo "))
    assert " 75 " in row and "120" not in row and " 500 " in row  # HR 75, last RR 500 ms
    assert "HR 75 bpm" in summary(snap.participants["solo"])
