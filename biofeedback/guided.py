"""Guided session steps on the session clock: the resting baseline and the resonance-frequency
assessment, as small state machines that say what to record and when.

They hold no clock and no controller: a front end (the dashboard, a script) calls ``start``,
``advance(t_s)`` with the session time, ``skip``/``cancel``, and applies the returned
:class:`Action` items to its :class:`~biofeedback.session.SessionController` with
:func:`apply`. ``advance`` may be called as often or as rarely as convenient: a late call
returns every boundary that was crossed, each stamped with its planned time, so nothing is
lost when a replay runs fast. Events are those documented in
:class:`biofeedback.beats.EventKind` (``baseline``, ``assessment``, ``pacer``).

:class:`AssessmentCollector` gathers one person's beats and the session's events while an
assessment runs (add it as a controller listener) and measures the run with the same code
``analyze`` uses (:func:`biofeedback.assessment.assessment_of`), so the result shown in the
window equals the one ``analyze`` gives for the file.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from biofeedback.assessment import PlannedStep, assessment_of, default_plan
from biofeedback.beats import Beat, Event, EventKind
from hrv.json_values import json_safe

__all__ = ["Action", "AssessmentCollector", "AssessmentRun", "BaselineStep", "apply"]

log = logging.getLogger(__name__)

#: Default resting-baseline length, s (issue: 3 minutes, skippable).
BASELINE_S = 180.0


@dataclass(frozen=True)
class Action:
    """Something to record: an event of ``kind`` with ``data``; a ``pacer`` action sets the
    pacer to ``data["rate_bpm"]`` (0: off). ``t_s`` is the planned session time."""

    t_s: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def apply(controller: Any, actions: Sequence[Action], pacer_base: Any = None) -> None:
    """Apply actions to a :class:`~biofeedback.session.SessionController` in order.

    Pacer actions go through ``set_pacer`` (the controller records the pacer event and the
    engine follows it); with ``pacer_base`` (a :class:`hrv.pacer.PacerSettings`) the rate
    replaces its rate and its inhale share and holds are kept, or a 1:1 cycle when those holds
    do not fit the rate. The others go through ``add_event``. The controller stamps them with
    its session time, which is at or just after the planned time.
    """
    for a in actions:
        if a.kind != EventKind.PACER:
            controller.add_event(a.kind, a.data)
            continue
        rate = float(a.data.get("rate_bpm") or 0.0)
        if rate and pacer_base is not None:
            try:
                controller.set_pacer(dataclasses.replace(pacer_base, rate_bpm=rate))
                continue
            except ValueError:
                pass  # holds too long for this rate: a plain 1:1 cycle instead
        controller.set_pacer(rate)


class BaselineStep:
    """The resting baseline: ``duration_s`` of quiet sitting, counted down, skippable.

    States: ``"ready"`` -> ``"running"`` -> ``"done"``; or ``"skipped"`` (from ready or
    running). Events: ``baseline`` ``start`` (with the planned ``duration_s``), ``end`` (when
    the time is up or :meth:`finish` cuts it short), ``skipped``.
    """

    def __init__(self, duration_s: float = BASELINE_S) -> None:
        self._started = False
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise ValueError(
                f"baseline length must be a positive number of seconds, not {duration_s}"
            )
        self.duration_s = float(duration_s)
        self.state = "ready"
        self.start_s: float | None = None

    def start(self, t_s: float, now_s: float | None = None) -> list[Action]:
        """Begin at ``t_s``; with ``now_s`` earlier than ``t_s`` the start is only scheduled
        and :meth:`advance` records it when the session reaches ``t_s``."""
        if self.state != "ready":
            return []
        self.state, self.start_s = "running", float(t_s)
        return self.advance(float(t_s) if now_s is None else float(now_s))

    def remaining_s(self, t_s: float) -> float:
        """Seconds left (the countdown); the whole length before it starts, 0 after."""
        if self.state == "ready" or (self.state == "running" and not self._started):
            return self.duration_s
        if self.state != "running" or self.start_s is None:
            return 0.0
        return max(0.0, self.start_s + self.duration_s - t_s)

    def advance(self, t_s: float) -> list[Action]:
        out: list[Action] = []
        if self.state == "running" and self.start_s is not None:
            if not self._started and t_s >= self.start_s:
                self._started = True
                data = {"state": "start", "duration_s": self.duration_s}
                out.append(Action(self.start_s, EventKind.BASELINE, data))
            end = self.start_s + self.duration_s
            if self._started and t_s >= end:
                self.state = "done"
                out.append(Action(end, EventKind.BASELINE, {"state": "end"}))
        return out

    def finish(self, t_s: float) -> list[Action]:
        """End the running baseline now (it still counts, shorter)."""
        if self.state != "running" or not self._started:
            return []
        self.state = "done"
        return [Action(float(t_s), EventKind.BASELINE, {"state": "end"})]

    def skip(self, t_s: float) -> list[Action]:
        """No baseline for this session (also while it runs)."""
        if self.state not in ("ready", "running"):
            return []
        self.state = "skipped"
        return [Action(float(t_s), EventKind.BASELINE, {"state": "skipped"})]


@dataclass(frozen=True)
class AssessmentStatus:
    """Where an assessment run is: ``phase`` ``"ready"``, ``"scheduled"``, ``"step"``,
    ``"rest"``, ``"done"`` or ``"cancelled"``; the step ``index`` and its ``rate_bpm`` (the
    next step's during a rest); ``remaining_s`` in the current step or rest; ``n_steps``."""

    phase: str
    index: int
    rate_bpm: float
    remaining_s: float
    n_steps: int


class AssessmentRun:
    """The guided resonance-frequency assessment: the pacer at each planned rate in turn.

    Parameters
    ----------
    plan : sequence of PlannedStep
        Rates, step lengths and rests (default: :func:`biofeedback.assessment.default_plan`).
    role : str or None
        The person assessed, recorded in the step events (two-person sessions).

    Notes
    -----
    Each step sets the pacer to its rate and records ``assessment`` ``step``; a rest switches
    the pacer off and records ``rest``; after the last step the pacer goes off and ``end`` is
    recorded. With no rest the next rate follows directly (the pacer keeps its phase).
    """

    def __init__(self, plan: Sequence[PlannedStep] | None = None, role: str | None = None):
        self.plan = tuple(plan) if plan is not None else default_plan()
        if not self.plan:
            raise ValueError("an assessment needs at least one step")
        for s in self.plan:
            if not (3.0 <= s.rate_bpm <= 10.0 and s.duration_s > 0 and s.rest_s >= 0):
                raise ValueError(f"not a usable assessment step: {s}")
        self.role = role
        self.phase = "ready"
        self._bounds: list[tuple[float, str, int]] = []  # (t_s, what starts, step index)
        self._next = 0

    def start(self, t_s: float, now_s: float | None = None) -> list[Action]:
        """Begin with the first step at ``t_s`` (scheduled when ``now_s`` is earlier)."""
        if self.phase != "ready":
            return []
        t = float(t_s)
        for i, s in enumerate(self.plan):
            self._bounds.append((t, "step", i))
            t += s.duration_s
            if i + 1 < len(self.plan):
                if s.rest_s > 0:
                    self._bounds.append((t, "rest", i))
                    t += s.rest_s
            else:
                self._bounds.append((t, "end", i))
        self.phase = "scheduled"
        return self.advance(float(t_s) if now_s is None else float(now_s))

    def advance(self, t_s: float) -> list[Action]:
        """Every boundary up to ``t_s`` that has not been given out yet."""
        out: list[Action] = []
        while self._next < len(self._bounds) and self._bounds[self._next][0] <= t_s:
            t, what, i = self._bounds[self._next]
            self._next += 1
            step = self.plan[i]
            if what == "step":
                data: dict[str, Any] = {
                    "state": "step",
                    "index": i,
                    "rate_bpm": step.rate_bpm,
                    "duration_s": step.duration_s,
                }
                if self.role:
                    data["role"] = self.role
                out += [
                    Action(t, EventKind.PACER, {"rate_bpm": step.rate_bpm}),
                    Action(t, EventKind.ASSESSMENT, data),
                ]
                self.phase = "step"
            elif what == "rest":
                rest = {"state": "rest", "index": i, "duration_s": step.rest_s}
                out += [
                    Action(t, EventKind.PACER, {"rate_bpm": 0.0}),
                    Action(t, EventKind.ASSESSMENT, rest),
                ]
                self.phase = "rest"
            else:
                out += [
                    Action(t, EventKind.PACER, {"rate_bpm": 0.0}),
                    Action(t, EventKind.ASSESSMENT, {"state": "end"}),
                ]
                self.phase = "done"
        return out

    def cancel(self, t_s: float) -> list[Action]:
        """Stop the run early (pacer off, ``cancelled``); a scheduled run is just dropped."""
        if self.phase == "scheduled":
            self.phase = "cancelled"
            self._next = len(self._bounds)
            return []
        if self.phase not in ("step", "rest"):
            return []
        self.phase = "cancelled"
        self._next = len(self._bounds)
        return [
            Action(float(t_s), EventKind.PACER, {"rate_bpm": 0.0}),
            Action(float(t_s), EventKind.ASSESSMENT, {"state": "cancelled"}),
        ]

    def status(self, t_s: float) -> AssessmentStatus:
        n = len(self.plan)
        if self.phase in ("ready", "done", "cancelled") or not self._bounds:
            idx = 0 if self.phase == "ready" else n - 1
            return AssessmentStatus(self.phase, idx, self.plan[idx].rate_bpm, 0.0, n)
        if self.phase == "scheduled":
            return AssessmentStatus(
                "scheduled", 0, self.plan[0].rate_bpm, max(0.0, self._bounds[0][0] - t_s), n
            )
        k = max(0, self._next - 1)
        _t, what, i = self._bounds[k]
        nxt = self._bounds[k + 1][0] if k + 1 < len(self._bounds) else t_s
        rate = self.plan[i + 1].rate_bpm if what == "rest" else self.plan[i].rate_bpm
        return AssessmentStatus(what, i, rate, max(0.0, nxt - t_s), n)


class AssessmentCollector:
    """Collects beats of the assessed person and every event, to measure the run as
    ``analyze`` would (add :meth:`__call__` as a controller listener; it runs on the worker
    thread, :meth:`result` on any other).

    Parameters
    ----------
    role : str or None
        Whose beats; ``None`` takes the first role that delivers a beat.
    """

    def __init__(self, role: str | None = None) -> None:
        self.role = role
        self._lock = threading.Lock()
        self._t: list[float] = []
        self._rr: list[float] = []
        self._breaks: list[int] = []
        self._gap = False
        self._events: list[Event] = []
        #: Set once the run's ``end`` or ``cancelled`` event has been recorded.
        self.finished = threading.Event()

    def __call__(self, item: Any) -> None:
        with self._lock:
            if isinstance(item, Beat):
                if self.role is None:
                    self.role = item.role
                if item.role == self.role:
                    if self._gap and self._t:
                        self._breaks.append(len(self._t))
                    self._gap = False
                    self._t.append(item.t_s)
                    self._rr.append(item.rr_ms)
            elif isinstance(item, Event):
                self._events.append(item)
                if item.kind == EventKind.ASSESSMENT and item.data.get("state") in (
                    "end",
                    "cancelled",
                ):
                    self.finished.set()
                if item.kind == EventKind.GAP and item.role == self.role:
                    self._gap = True

    def result(self) -> dict[str, Any] | None:
        """The ``analyze`` contract's ``assessment`` object for what was collected (JSON-safe:
        unknown numbers ``None``), or ``None`` before any step was recorded."""
        from biofeedback.analysis import RoleSeries, SessionInput, detect_artifacts

        with self._lock:
            role = self.role or "solo"
            series = RoleSeries(
                role,
                np.asarray(self._t, dtype=np.float64),
                np.asarray(self._rr, dtype=np.float64),
                np.asarray(self._breaks, dtype=np.intp),
            )
            events = tuple(self._events)
        data = SessionInput("this session", {role: series}, events)
        return json_safe(assessment_of(data, {role: detect_artifacts(series)}))
