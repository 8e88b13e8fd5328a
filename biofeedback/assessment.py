"""The resonance-frequency assessment in a recorded session: its steps read from the session's
``assessment`` and ``pacer`` events (:class:`biofeedback.beats.EventKind`), measured with
:mod:`hrv.assessment`, as the ``analyze`` contract's top-level ``assessment`` object.

Which run: a session can hold more than one assessment; the last run (from its last step with
``index`` 0) is analysed. Which person: the ``role`` named in the step events, else ``solo``,
else ``client``, else the only person. The pacer's phase reference for each step is the
inhalation onset of the cycle in force at the middle of the step
(:meth:`hrv.pacer.PacerTimeline.cycle_origin_s`), and the lung-volume peak is the end of the
pacer's in-breath (the middle of a hold after it), so steps keep their phase even when the
pacer changed rate without stopping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from biofeedback.beats import Event, EventKind
from hrv.artifacts import ArtifactResult
from hrv.assessment import AssessmentStep, assess
from hrv.pacer import PacerTimeline

__all__ = ["PlannedStep", "assessment_of", "assessment_steps", "default_plan"]

log = logging.getLogger(__name__)

#: Lehrer, Vaschillo & Vaschillo (2000): breaths/min, in this order.
DEFAULT_RATES_BPM = (6.5, 6.0, 5.5, 5.0, 4.5)
DEFAULT_STEP_S = 120.0
DEFAULT_REST_S = 30.0


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of an assessment plan: pace at ``rate_bpm`` for ``duration_s``, then rest
    ``rest_s`` (seconds; no rest after the last step)."""

    rate_bpm: float
    duration_s: float
    rest_s: float


def default_plan(
    rates_bpm: Sequence[float] = DEFAULT_RATES_BPM,
    step_s: float = DEFAULT_STEP_S,
    rest_s: float = DEFAULT_REST_S,
) -> tuple[PlannedStep, ...]:
    """The protocol's steps (rates in the given order), a rest between consecutive steps."""
    n = len(rates_bpm)
    return tuple(
        PlannedStep(float(r), float(step_s), float(rest_s) if i < n - 1 else 0.0)
        for i, r in enumerate(rates_bpm)
    )


def assessment_steps(
    events: Sequence[Event], end_s: float
) -> tuple[list[tuple[int, float, float, float]], str | None, str | None]:
    """The last assessment run's steps: ``([(index, rate_bpm, start_s, end_s)], role, how)``.

    A step ends at the next assessment event, its planned duration, or ``end_s`` (the last
    beat), whichever comes first. ``how`` is ``"completed"``, ``"cancelled"`` or
    ``"unfinished"`` (the recording stopped during the run); ``None`` with no steps.
    """
    marks = [e for e in events if e.kind == EventKind.ASSESSMENT]
    starts = [
        i for i, e in enumerate(marks) if e.data.get("state") == "step" and e.data.get("index") == 0
    ]
    if not starts:
        # No step 0 (a run whose start was not recorded): take every step there is.
        starts = [next((i for i, e in enumerate(marks) if e.data.get("state") == "step"), -1)]
        if starts[0] < 0:
            return [], None, None
    run = marks[starts[-1] :]
    steps: list[tuple[int, float, float, float]] = []
    role: str | None = None
    how = "unfinished"
    for k, e in enumerate(run):
        state = e.data.get("state")
        if state in ("end", "cancelled"):
            how = "completed" if state == "end" else "cancelled"
            break
        if state != "step":
            continue
        try:
            rate = float(e.data["rate_bpm"])
            planned = float(e.data.get("duration_s") or math.inf)
            index = int(e.data.get("index", len(steps)))
        except (KeyError, TypeError, ValueError):
            log.warning("skipped an assessment step event without a usable rate: %s", e.data)
            continue
        if k > 0 and index == 0:
            break  # a later run (should not happen: runs start at the last index 0)
        nxt = run[k + 1].t_s if k + 1 < len(run) else math.inf
        stop = min(nxt, e.t_s + planned, end_s)
        if stop > e.t_s:
            steps.append((index, rate, e.t_s, stop))
        role = role or (str(e.data["role"]) if e.data.get("role") else None)
    return steps, role, how


def _person(series: Mapping[str, Any], named: str | None) -> str | None:
    for role in (named, "solo", "client"):
        if role is not None and role in series:
            return role
    return next(iter(series), None) if len(series) == 1 else None


def assessment_of(
    data: Any, found: Mapping[str, ArtifactResult | None] | None = None
) -> dict[str, Any] | None:
    """The contract's ``assessment`` object, or ``None`` when the session holds none.

    Parameters
    ----------
    data : biofeedback.analysis.SessionInput
    found : mapping role -> ArtifactResult, optional
        Artifact detection already run on the series: corrected beats are analysed.

    Returns
    -------
    dict or None
        ``{"role", "status", "steps": [{"index", "rate_bpm", "start_s", "end_s", "n_beats",
        "rsa_amplitude_ms", "peak_to_trough_bpm", "lf_peak_ms2", "phase_deg", "followed"}],
        "suggested_bpm", "runner_up_bpm", "criteria", "reason"}``; unknown numbers ``nan``
        (the caller turns them into JSON ``null``).
    """
    series = data.series
    ends = [float(s.t_s[-1]) for s in series.values() if len(s.t_s)]
    end_s = max(ends) if ends else 0.0
    raw_steps, named, how = assessment_steps(data.events, end_s)
    if not raw_steps:
        return None
    role = _person(series, named)
    out: dict[str, Any] = {
        "role": role,
        "status": how,
        "steps": [],
        "suggested_bpm": math.nan,
        "runner_up_bpm": math.nan,
        "criteria": {},
        "reason": "",
    }
    if role is None:
        out["reason"] = "No suggestion: the session does not say whose assessment it is."
        return out
    s = series[role]
    t, rr = s.t_s, s.rr_ms
    res = (found or {}).get(role)
    if res is not None and res.n_flagged and res.t_s is not None:
        t, rr = res.t_s, res.rr_ms
    pacer: PacerTimeline = data.pacer_timeline()
    steps = []
    for _index, rate, a, b in raw_steps:
        mid = 0.5 * (a + b)
        settings = pacer.settings_at(mid)
        t0 = pacer.cycle_origin_s(mid)
        peak = 0.5
        if settings is not None and abs(settings.rate_bpm - rate) < 1e-6 and math.isfinite(t0):
            c = settings.boundaries
            peak = 0.5 * (c[1] + c[2])
        else:
            # No recorded pacer at the step's rate: take the step start as inhalation onset.
            log.warning("assessment step at %g/min has no pacer event at that rate", rate)
            t0 = a
        steps.append(AssessmentStep(rate, a, b, t0, peak))
    if t.size:
        result = assess(np.asarray(t), np.asarray(rr), steps)
        measured, suggested = result.steps, result.suggested_bpm
        out.update(
            suggested_bpm=suggested,
            runner_up_bpm=result.runner_up_bpm,
            criteria=dict(result.criteria),
            reason=result.reason,
        )
    else:
        measured = ()
        out["reason"] = f"No suggestion: no beats from {role}."
    out["steps"] = [
        {
            "index": idx,
            "rate_bpm": m.rate_bpm,
            "start_s": m.start_s,
            "end_s": m.end_s,
            "n_beats": m.n_beats,
            "rsa_amplitude_ms": m.rsa_amplitude_ms,
            "peak_to_trough_bpm": m.peak_to_trough_bpm,
            "lf_peak_ms2": m.lf_peak_ms2,
            "phase_deg": m.phase_deg,
            "followed": m.followed,
        }
        for (idx, *_), m in zip(raw_steps, measured, strict=False)
    ]
    if how == "cancelled":
        out["reason"] += " The run was stopped early; steps not reached are missing."
    return out
