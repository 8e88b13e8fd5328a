"""A session run from the dashboard: baseline countdown, a marker, a pacer change and the
resonance assessment at max speed against a simulated person; analyze finds all of it and
suggests the simulated resonance rate; screenshots of the countdown and the result."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from biofeedback.analysis import analyze, load_input
from biofeedback.assessment import default_plan
from biofeedback.beats import EventKind
from biofeedback.session import SessionController
from biofeedback.user_settings import UserSettings
from ui.dashboard import Dashboard
from ui.guided_panel import GuidedPanel

from ..following_person import LEAD_S, FollowingPerson, assessment_person

SHOTS = os.environ.get("WORKFLOW_SCREENSHOTS")


@pytest.mark.slow
def test_whole_session_from_the_window(qtbot, tmp_path):
    plan = default_plan(step_s=120.0, rest_s=30.0)
    source = FollowingPerson(assessment_person(5.5, plan), pause_at_s=20.0)
    path = tmp_path / "window.session"
    ctl = SessionController(source, record_to=path)
    settings = UserSettings(tmp_path / "settings.json")
    window = Dashboard(ctl, ["solo"], title="C-17 - resonance assessment")
    panel = GuidedPanel(
        ctl,
        settings,
        label=lambda: "C-17",
        pacer_base=window.settings_from_controls,
        baseline_s=LEAD_S,
    )
    window.add_side_panel(panel)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    # The baseline from the very start, the assessment after it (on the session clock).
    panel.start_baseline(at_s=0.0)
    panel.start_assessment(at_s=LEAD_S)
    with ctl:
        window.start_timers()
        qtbot.waitUntil(source.paused.is_set, timeout=40000)
        # Held at 20 s: a marker with text and a pacer change from the window's own controls.
        window.marker_text.setText("settling in")
        window.add_marker()
        window.rate_spin.setValue(5.0)
        window.toggle_pacer()  # on at 5/min
        qtbot.waitUntil(lambda: window.pacer_running(), timeout=15000)
        window.toggle_pacer()  # and off again before the assessment
        qtbot.waitUntil(lambda: not window.pacer_running(), timeout=15000)
        panel.tick()
        qtbot.wait(50)  # let the layout settle before looking
        assert panel.countdown.text() in ("0:40", "0:41")  # 60 s from 0, held near 20 s
        if SHOTS:
            window.grab().save(os.path.join(SHOTS, "baseline-countdown.png"))
        source.resume.set()
        qtbot.waitUntil(lambda: panel.result is not None, timeout=120000)
        window.refresh()
        qtbot.wait(100)
        if SHOTS:
            window.grab().save(os.path.join(SHOTS, "assessment-result.png"))
        panel.use_rate.click()
        ctl.wait(30.0)
        window.stop_timers()
    assert panel.result["suggested_bpm"] == 5.5, panel.result["reason"]
    assert settings.resonance_rate("C-17") == 5.5
    data = load_input([str(path)])
    result = analyze(data)
    assert result["assessment"] == panel.result
    assert [s["rate_bpm"] for s in result["assessment"]["steps"]] == [6.5, 6.0, 5.5, 5.0, 4.5]
    start, end = data.baseline_stretch()
    assert start < 1.5 and end == pytest.approx(LEAD_S, abs=1.5)
    markers = [e for e in data.events if e.kind == EventKind.MARKER]
    assert [m.data["text"] for m in markers] == ["settling in"]
    assert markers[0].t_s == pytest.approx(20.0, abs=1.5)
    pacer = data.pacer_changes()
    assert [r for _, r in pacer[:2]] == [5.0, 0.0]
    assert all(t == pytest.approx(20.0, abs=1.5) for t, _ in pacer[:2])
    assert [r for _, r in pacer[2:12]] == [6.5, 0.0, 6.0, 0.0, 5.5, 0.0, 5.0, 0.0, 4.5, 0.0]
    # The assessment kept the window's inhale share (40 %) for its pacer.
    step_pacer = [e for e in data.events if e.kind == EventKind.PACER and e.t_s > 30]
    assert step_pacer[0].data["inhale_share"] == pytest.approx(0.4)


def test_window_pacer_starts_at_the_rate_remembered_for_the_label(qtbot, tmp_path):
    from ui.app import add_guided_steps

    settings = UserSettings(tmp_path / "settings.json")
    settings.remember_resonance("C-17", 5.5, reason="from an earlier assessment")
    ctl = SessionController(FollowingPerson(assessment_person(5.5, default_plan())))
    window = Dashboard(ctl, ["therapist", "client"])
    qtbot.addWidget(window)
    panel = add_guided_steps(window, ctl, ["therapist", "client"], settings, "C-17")
    assert window.side_panel is panel and panel.role == "client"
    assert window.rate_spin.value() == pytest.approx(5.5)
    other = Dashboard(ctl, ["solo"])
    qtbot.addWidget(other)
    add_guided_steps(other, ctl, ["solo"], settings, "C-99")  # nothing remembered
    assert other.rate_spin.value() == pytest.approx(6.0)
