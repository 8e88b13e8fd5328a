"""The ``coregulation`` object of ``analyze --json``: activation-and-settling episodes of one or
two people (:mod:`hrv.episodes`) as a reflective aid, not a diagnosis.

``{"reference": "baseline" | "rolling", "episodes": [{"person", "start_s", "peak_s", "end_s",
"rise_bpm", "settle_s", "other", "summary"}]}``; ``end_s`` and ``settle_s`` are ``null`` when an
episode did not settle in the record, ``other`` is ``null`` for one person, and the list is
empty when there are none (design.md s. 8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hrv.artifacts import ArtifactResult
from hrv.episode_records import PersonBeats, find_coregulation
from hrv.episode_words import describe_episode

if TYPE_CHECKING:
    from biofeedback.analysis import SessionInput

__all__ = ["NOT_A_DIAGNOSIS", "coregulation_of"]

#: Said beside every episode list, on screen and in tables.
NOT_A_DIAGNOSIS = "a reflective aid, not a diagnosis"

_PEOPLE = (("therapist", "client"), ("solo",), ("client",), ("therapist",))


def coregulation_of(
    data: SessionInput, found: Mapping[str, ArtifactResult | None]
) -> dict[str, Any]:
    """Episodes of the session's therapist and client (or its one person).

    Artifact-flagged beats (``found``: :func:`biofeedback.analysis.detect_artifacts` per role)
    and recording gaps are left out; the session's resting baseline
    (:meth:`SessionInput.baseline_stretch`) is the reference when it has one.
    """
    roles = next((p for p in _PEOPLE if set(p) <= set(data.series)), ())
    people: dict[str, PersonBeats] = {}
    for role in roles:
        s = data.series[role]
        res = found.get(role)
        flagged = np.asarray(res.flags > 0) if res is not None else None
        after_gap = np.zeros(s.t_s.size, dtype=bool)
        after_gap[s.breaks[s.breaks < s.t_s.size]] = True
        people[role] = PersonBeats(s.t_s, s.rr_ms, flagged, after_gap)
    if not people:
        return {"reference": "rolling", "episodes": []}
    reference, episodes = find_coregulation(people, baseline=data.baseline_stretch())
    return {
        "reference": reference,
        "episodes": [e.contract() | {"summary": describe_episode(e)} for e in episodes],
    }
