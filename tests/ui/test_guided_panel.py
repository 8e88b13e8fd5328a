"""The guided panel in the window: baseline countdown and the assessment at max speed against
a simulated person, found again by analyze; screenshots."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("PySide6")

from biofeedback.analysis import analyze, load_input
from biofeedback.assessment import default_plan
from biofeedback.session import SessionController
from biofeedback.user_settings import UserSettings
from ui.guided_panel import GuidedPanel, parse_rates

from ..following_person import LEAD_S, FollowingPerson, assessment_person

SHOTS = os.environ.get("WORKFLOW_SCREENSHOTS")


def test_parse_rates():
    assert parse_rates("6.5, 6 5.5") == (6.5, 6.0, 5.5)
    with pytest.raises(ValueError, match="outside 3-10"):
        parse_rates("6, 12")
    with pytest.raises(ValueError, match="not a rate"):
        parse_rates("6, x")


@pytest.mark.slow
@pytest.mark.parametrize("resonance", [4.5])  # 5.5 runs through the dashboard
def test_assessment_in_the_window_at_max_speed(qtbot, tmp_path, resonance):
    plan = default_plan(step_s=120.0, rest_s=30.0)
    path = tmp_path / "guided.session"
    ctl = SessionController(FollowingPerson(assessment_person(resonance, plan)), record_to=path)
    settings = UserSettings(tmp_path / "settings.json")
    panel = GuidedPanel(ctl, settings, label=lambda: "C-17", baseline_s=LEAD_S)
    qtbot.addWidget(panel)
    panel.resize(460, 640)
    panel.show()
    # Scheduled on the session clock before the (max-speed) session starts.
    panel.start_baseline(at_s=0.0)
    panel.start_assessment(at_s=LEAD_S)
    assert "starts in 1:00" in panel.status.text()
    with ctl:
        qtbot.waitUntil(lambda: panel.result is not None, timeout=120000)
        ctl.wait(30.0)
    r = panel.result
    assert r["suggested_bpm"] == resonance, r["reason"]
    assert panel.table.rowCount() == 5
    assert panel.suggestion.text() == f"Suggested rate: {resonance:g} breaths/min"
    row = [panel.table.item(i, 0).text() for i in range(5)].index(f"▶ {resonance:.1f}")
    assert [s["rate_bpm"] for s in r["steps"]][row] == resonance
    qtbot.wait(100)
    if SHOTS:
        panel.grab().save(os.path.join(SHOTS, f"assessment-result-{resonance:g}.png"))
    # The file says the same.
    data = load_input([str(path)])
    assert analyze(data)["assessment"] == r
    start, end = data.baseline_stretch()
    assert start < 1.5 and end == pytest.approx(LEAD_S, abs=1.5)
    panel.use_rate.click()
    assert settings.resonance_rate("C-17") == resonance
    assert UserSettings(tmp_path / "settings.json").resonance_rate("C-17") == resonance
