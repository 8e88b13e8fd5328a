"""The dashboard on a real session controller: build, replayed traces, gaps, pacer, soak."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from biofeedback.beats import EventKind
from biofeedback.session import SessionController
from biofeedback.session_reader import SessionReader
from biofeedback.sources.replay import ReplaySource, session_beats
from hrv.pacer import PacerSettings
from ui.dashboard import Dashboard

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"
SOLO = ROOT / "sample_data" / "solo_paced.session"


#: How much of each sample the shared replays play (s): past the dyad's paced stretch
#: (30-210 s) and its drop-out (240-260 s), with more than 5 minutes of beats in view.
PLAYED_S = 330.0


@pytest.fixture(scope="module")
def played():
    """The dyad and solo samples replayed at max speed to PLAYED_S, once for these tests."""
    ctls = {
        name: SessionController(ReplaySource(path, speed=None, duration_s=PLAYED_S)).start()
        for name, path in (("dyad", DYAD), ("solo", SOLO))
    }
    for ctl in ctls.values():
        assert ctl.wait(120.0), "replay did not finish"
    yield ctls
    for ctl in ctls.values():
        ctl.stop()


def _window(qtbot, ctl: SessionController) -> Dashboard:
    w = Dashboard(ctl, list(ctl.source.roles))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    return w


def test_window_builds_solo_and_dyad(qtbot, played) -> None:
    dyad = _window(qtbot, played["dyad"])
    assert set(dyad.traces) == {"therapist", "client"} and dyad.synchrony is not None
    solo = _window(qtbot, played["solo"])
    assert list(solo.traces) == ["solo"] and solo.synchrony is None
    for w in (dyad, solo):
        w.refresh()
        assert w.frames == 1
        assert w.events.lines(), "the recorded events are listed"
    # The solo sample paces at 6/min from 0 s: the pacer drawn comes from its recorded event.
    assert solo.timeline.settings_at(10.0) == PacerSettings(6.0)
    assert solo.pacer.state(10.0)[1] == "in"


def test_replayed_traces_hold_the_beats_and_leave_gaps_open(qtbot, played) -> None:
    w = _window(qtbot, played["dyad"])
    w.window_choice.setCurrentIndex(3)  # last 5 min
    w.refresh()
    now = w.clock()
    assert now == pytest.approx(PLAYED_S, abs=2.0)
    beats = session_beats(DYAD)
    for role, trace in w.traces.items():
        x, y = trace.points
        shown = x[np.isfinite(y)]
        # Exactly the recorded beats from the left edge to the newest one replayed, in order,
        # but those the artifact check flagged: they are marked on the line instead.
        person = played["dyad"].snapshot().participants[role]
        last = person.last_t_s
        flagged = person.beats.t_s[person.beats.artifact > 0]
        recorded = np.array([b.t_s for b in beats[role]])
        assert shown[0] <= now - 299.0 and shown[-1] == last
        expected = recorded[(recorded >= shown[0]) & (recorded <= last)]
        expected = expected[~np.isin(expected, flagged)]
        np.testing.assert_allclose(shown, expected, atol=1e-9)
        assert shown.size > 250  # 5 min at 55-80 beats/min
        mx, my = trace.artifacts.getData()
        in_view = flagged[flagged >= shown[0]]
        np.testing.assert_allclose(mx, in_view)
        np.testing.assert_allclose(my, np.interp(mx, shown, y[np.isfinite(y)]))
    # The client's drop-out (240-260 s) is in view: one break there, none for the therapist.
    x, y = w.traces["client"].points
    ok = np.isfinite(y)
    joined = ok[1:] & ok[:-1]
    assert (np.diff(x)[joined] < 3.0).all(), "no drawn segment joins beats 3 s apart"
    brk = np.flatnonzero(np.isnan(y))
    assert brk.size == 1 and 238.0 < x[brk[0] - 1] < 240.0 and 260.0 < x[brk[0] + 1] < 262.0
    assert not np.isnan(w.traces["therapist"].points[1]).any()
    # In-breath shading over the paced stretch (6/min, 30-210 s) in view.
    assert w.traces["client"].shading.n_spans >= 10


def test_pacer_changes_are_recorded_with_their_settings_and_stay_continuous(
    qtbot, tmp_path
) -> None:
    out = tmp_path / "paced.session"
    # The dyad sample's own pacer starts at 30 s: start one in the first seconds and change it
    # twice before then (at 5x the changes fall near 13 s).
    ctl = SessionController(ReplaySource(DYAD, speed=5.0), record_to=out).start()
    w = Dashboard(ctl, list(ctl.source.roles))
    qtbot.addWidget(w)
    w.start_timers()
    w.rate_spin.setValue(6.0)
    w.share_spin.setValue(40.0)
    w.hold_in_spin.setValue(1.0)
    w.toggle_pacer()
    qtbot.waitUntil(lambda: len(w.timeline.changes) == 1, timeout=5000)
    started = w.timeline.changes[0][0]
    # Change mid-breath: wait until the pacer is part-way through an inhale.
    qtbot.waitUntil(lambda: w.clock() > started + 12.0, timeout=8000)
    w.step_rate(+1)  # 6.0 -> 6.1 breaths/min, recorded at once
    w.share_spin.setValue(50.0)
    qtbot.waitUntil(lambda: len(w.timeline.changes) == 3, timeout=5000)
    w.close()
    ctl.stop()
    tl = w.timeline
    assert [s.rate_bpm for _, s in tl.changes] == [6.0, 6.1, 6.1]
    first, second = tl.changes[1][0], tl.changes[2][0]
    assert second < 30.0, "the changes fell after the sample's own pacer event"
    t = np.arange(started, second + 30.0, 1e-3)
    v = tl.volume(t)
    settings = [s for _, s in tl.changes]
    shortest = min(min(s.inhale_s, s.exhale_s) for s in settings)
    assert np.abs(np.diff(v)).max() <= math.pi / (2 * shortest) * 1e-3 * 1.001
    for t_c in (first, second):
        assert tl.stage(t_c - 1e-6) in (tl.stage(t_c + 1e-6), "hold_in", "hold_out")
    with SessionReader(out) as r:
        recorded = [e for e in r.events() if e.kind == EventKind.PACER]
    assert [PacerSettings.from_dict(e.data) for e in recorded] == settings
    assert recorded[0].data == {
        "rate_bpm": 6.0,
        "inhale_share": 0.4,
        "hold_after_inhale_s": 1.0,
        "hold_after_exhale_s": 0.0,
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc (Linux)")
def test_soak_3000_frames_memory_stays_flat(qtbot) -> None:
    from PySide6.QtWidgets import QApplication

    ctl = SessionController(ReplaySource(DYAD, speed=15.0)).start()
    w = Dashboard(ctl, list(ctl.source.roles))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    app = QApplication.instance()
    marks, clock, versions = {}, {}, set()
    for frame in range(3000):
        w.refresh()
        w.pacer.tick()
        app.processEvents()
        versions.add(w.controller.snapshot().version)
        if frame in (0, 1000, 2999):
            marks[frame], clock[frame] = _rss_mb(), w.clock()
        time.sleep(0.001)  # let the worker thread take the GIL now and then
    ctl.stop()
    w.close()
    assert w.frames == 3000
    # Live data all along: the session moved on while the frames were drawn. The 1 ms sleep
    # per frame alone makes 3000 frames last >= 3 s, i.e. >= 45 s of session at 15x; how much
    # more depends on how fast this machine renders, so no larger figure is asserted.
    assert clock[2999] - clock[0] > 30.0 and len(versions) > 150, (clock, len(versions))
    # Data grows by a few kB per session second; a leak per frame would show as megabytes.
    assert marks[2999] - marks[1000] < 12.0, marks


def test_font_size_keys_and_fit_at_1366(qtbot, played) -> None:
    from PySide6.QtGui import QFontInfo

    w = _window(qtbot, played["dyad"])
    w.refresh()
    hr = w.panels["client"].values["hr"]
    before = QFontInfo(hr.font()).pointSizeF()
    w.change_font(+2)  # what Ctrl++ does
    w.refresh()
    assert w.font_pt == 12.0
    assert QFontInfo(hr.font()).pointSizeF() == pytest.approx(before * 1.2, rel=0.1)
    # Everything still fits a 1366-pixel-wide screen at 12 pt, with real values shown.
    assert w.minimumSizeHint().width() <= 1366
    w.change_font(-100)
    assert w.font_pt == 7.0  # bounded


def test_no_text_is_cut_off_at_1366x768(qtbot, played) -> None:
    from .layout_check import check_layout
    from .test_layout import assert_fits

    # The default text size and two Ctrl++ presses, with the longest words a panel shows and
    # the sample's longest synchrony sentence (at 330 s).
    assert_fits(check_layout(played["dyad"], [10.0, 12.0]))


def test_heart_rate_rises_are_shown_in_the_panel_and_the_events(qtbot, played) -> None:
    """The live co-regulation part of the snapshot reaches the window: the person's rise state
    in words on their panel, and each finished episode once, as its sentence, in the events."""
    import dataclasses

    from biofeedback.snapshot import CoregulationSnapshot
    from hrv.episodes import Episode

    w = _window(qtbot, played["dyad"])
    snap = played["dyad"].snapshot()
    ep = Episode("client", 426.0, 450.0, 489.0, 22.0, 39.0, 80.0, "steady")
    rising = dataclasses.replace(
        snap,
        version=snap.version + 1,
        coregulation=CoregulationSnapshot(states={"client": "rising", "therapist": None}),
    )
    w.show_snapshot(rising, [], PLAYED_S)
    assert "heart rate rising" in w.panels["client"].note.text()
    assert "heart rate" not in w.panels["therapist"].note.text()
    settled = dataclasses.replace(
        snap,
        version=snap.version + 2,
        coregulation=CoregulationSnapshot(states={"client": "settled"}, episodes=(ep,)),
    )
    for _ in range(3):  # the same episode in later frames is not listed again
        w.show_snapshot(settled, [], PLAYED_S)
    assert "heart rate settled again" in w.panels["client"].note.text()
    lines = [line for line in w.events.lines() if "heart rate rose" in line]
    assert lines == [
        "07:06  The client's heart rate rose by 22 beats/min at 7:06 and settled within 39 s "
        "of its peak; the therapist's stayed steady meanwhile."
    ]
