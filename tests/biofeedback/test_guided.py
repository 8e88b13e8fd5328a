"""Guided steps: the baseline countdown and the assessment run as state machines, then both
driven through the session controller against a simulated person, found again by analyze."""

from __future__ import annotations

import math

import pytest

from biofeedback.analysis import analyze, load_input
from biofeedback.assessment import PlannedStep, default_plan
from biofeedback.beats import EventKind
from biofeedback.guided import AssessmentCollector, AssessmentRun, BaselineStep, apply
from biofeedback.session import SessionController

from ..following_person import FollowingPerson, assessment_person


def _kinds(actions):
    return [(a.t_s, a.kind, a.data.get("state", a.data.get("rate_bpm"))) for a in actions]


def test_baseline_counts_down_ends_on_time_and_can_be_skipped():
    b = BaselineStep(180.0)
    assert b.remaining_s(5.0) == 180.0 and b.advance(5.0) == []
    assert _kinds(b.start(10.0)) == [(10.0, "baseline", "start")]
    assert b.start(11.0) == []  # already running
    assert b.remaining_s(70.0) == pytest.approx(120.0)
    # A late tick still ends it at the planned time.
    assert _kinds(b.advance(500.0)) == [(190.0, "baseline", "end")]
    assert b.state == "done" and b.remaining_s(500.0) == 0.0 and b.skip(501.0) == []
    s = BaselineStep(60.0)
    s.start(0.0)
    assert _kinds(s.skip(20.0)) == [(20.0, "baseline", "skipped")] and s.state == "skipped"
    f = BaselineStep(60.0)
    f.start(0.0)
    assert _kinds(f.finish(30.0)) == [(30.0, "baseline", "end")]
    with pytest.raises(ValueError):
        BaselineStep(0.0)
    # Scheduled for later: nothing until the session gets there, then start and end.
    later = BaselineStep(30.0)
    assert later.start(100.0, now_s=5.0) == [] and later.remaining_s(50.0) == 30.0
    assert later.finish(50.0) == []  # not begun yet
    assert _kinds(later.advance(200.0)) == [
        (100.0, "baseline", "start"),
        (130.0, "baseline", "end"),
    ]


def test_assessment_run_boundaries_rests_late_ticks_and_cancel():
    plan = [PlannedStep(6.0, 120.0, 30.0), PlannedStep(5.5, 120.0, 0.0), PlannedStep(5.0, 60.0, 0)]
    run = AssessmentRun(plan, role="client")
    assert _kinds(run.start(100.0)) == [(100.0, "pacer", 6.0), (100.0, "assessment", "step")]
    st = run.status(160.0)
    assert (st.phase, st.index, st.rate_bpm, st.remaining_s) == ("step", 0, 6.0, 60.0)
    # One late tick gives out everything crossed, at the planned times.
    got = _kinds(run.advance(400.0))
    assert got == [
        (220.0, "pacer", 0.0),
        (220.0, "assessment", "rest"),
        (250.0, "pacer", 5.5),
        (250.0, "assessment", "step"),
        (370.0, "pacer", 5.0),  # no rest: straight on to the next rate
        (370.0, "assessment", "step"),
    ]
    step_events = [a for a in run.start(0.0)]  # a second start does nothing
    assert step_events == []
    assert _kinds(run.cancel(410.0)) == [(410.0, "pacer", 0.0), (410.0, "assessment", "cancelled")]
    assert run.advance(1000.0) == [] and run.phase == "cancelled"
    full = AssessmentRun(default_plan())
    full.start(0.0)
    acts = full.advance(10_000.0)
    assert _kinds(acts)[-2:] == [(720.0, "pacer", 0.0), (720.0, "assessment", "end")]
    rates = [a.data["rate_bpm"] for a in acts if a.kind == "assessment" and "rate_bpm" in a.data]
    assert rates == [6.0, 5.5, 5.0, 4.5]  # 6.5 came with start()
    with pytest.raises(ValueError):
        AssessmentRun([PlannedStep(12.0, 60.0, 0.0)])
    sched = AssessmentRun([PlannedStep(6.0, 60.0, 0.0)])
    assert sched.start(50.0, now_s=10.0) == []
    st = sched.status(20.0)
    assert (st.phase, st.remaining_s) == ("scheduled", 30.0)
    assert _kinds(sched.advance(50.0)) == [(50.0, "pacer", 6.0), (50.0, "assessment", "step")]
    dropped = AssessmentRun([PlannedStep(6.0, 60.0, 0.0)])
    dropped.start(50.0, now_s=10.0)
    assert dropped.cancel(20.0) == [] and dropped.advance(500.0) == []


@pytest.mark.slow
def test_guided_session_at_max_speed_is_found_by_analyze(tmp_path):
    # Baseline 0-60 s, then the protocol with 30 s rests, then a marker; the simulated person
    # breathes with the pacer at the planned times and responds most at 5.5 breaths/min.
    plan = default_plan(step_s=120.0, rest_s=30.0)
    cfg = assessment_person(5.5, plan)
    path = tmp_path / "guided.session"
    ctl = SessionController(FollowingPerson(cfg), record_to=path)
    baseline, run, collector = BaselineStep(60.0), AssessmentRun(plan), AssessmentCollector()
    marked = []

    def drive(item):  # on the worker thread, with every item: exact at max speed
        t_s = item.t_s
        acts = baseline.start(t_s) + baseline.advance(t_s)
        if baseline.state == "done":
            acts += run.start(60.0) + run.advance(t_s)
        if run.phase == "done" and not marked:
            marked.append(t_s)
            ctl.add_marker("assessment finished")
        apply(ctl, acts)

    ctl.add_listener(collector)
    ctl.add_listener(drive)
    with ctl:  # starts it; stops and closes the file on the way out
        assert ctl.wait(60.0)
    result = analyze(load_input([str(path)]))
    a = result["assessment"]
    assert a["suggested_bpm"] == 5.5, a["reason"]
    assert a["status"] == "completed"
    starts = [s["start_s"] for s in a["steps"]]
    assert starts == pytest.approx([60.0 + 150.0 * i for i in range(5)], abs=1.5)
    # The window's own result (collected live) is the file's result.
    assert collector.result() == a
    data = load_input([str(path)])
    base = data.baseline_stretch()
    assert base is not None and base[0] < 2.0 and base[1] == pytest.approx(60.0, abs=1.5)
    markers = [e for e in data.events if e.kind == EventKind.MARKER]
    assert [m.data["text"] for m in markers] == ["assessment finished"]
    assert markers[0].t_s == pytest.approx(60.0 + 5 * 120.0 + 4 * 30.0, abs=1.5)
    pacer = data.pacer_changes()
    assert [r for _, r in pacer] == [6.5, 0.0, 6.0, 0.0, 5.5, 0.0, 5.0, 0.0, 4.5, 0.0]
    assert not math.isnan(a["steps"][2]["phase_deg"])
