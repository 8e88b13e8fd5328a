"""Activation-and-settling episodes of whole records: the live trackers of
:mod:`hrv.episodes` fed a record at once, so offline results equal the live ones.

Method, thresholds and sources: :mod:`hrv.episodes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hrv.episodes import (
    CoregulationTracker,
    Episode,
    EpisodeParams,
    EpisodeTracker,
    Reference,
    baseline_reference,
    feed_record,
)

__all__ = ["PersonBeats", "find_coregulation", "find_episodes"]


@dataclass(frozen=True)
class PersonBeats:
    """One person's beats for :func:`find_coregulation`."""

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    flagged: NDArray[np.bool_] | None = None
    after_gap: NDArray[np.bool_] | None = None


def find_episodes(
    person: str,
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    flagged: NDArray[np.bool_] | None = None,
    after_gap: NDArray[np.bool_] | None = None,
    reference: Reference | None = None,
    params: EpisodeParams | None = None,
) -> list[Episode]:
    """Episodes of one person's record (``other`` unset). Short or empty input gives ``[]``."""
    tr = EpisodeTracker(person, params, reference)
    feed_record(tr, t_s, rr_ms, flagged, after_gap)
    tr.finish()
    return list(tr.episodes)


def find_coregulation(
    people: Mapping[str, PersonBeats],
    baseline: tuple[float, float] | None = None,
    params: EpisodeParams | None = None,
) -> tuple[str, list[Episode]]:
    """Episodes of one or two people with the other's response.

    Parameters
    ----------
    people : mapping role -> PersonBeats
    baseline : (start_s, end_s), optional
        The resting-baseline stretch; used as everyone's reference when each person has at
        least 30 usable seconds in it, else the rolling reference is used for everyone.

    Returns
    -------
    reference : str
        ``"baseline"`` or ``"rolling"``.
    episodes : list of Episode
    """
    refs: dict[str, Reference] = {}
    if baseline is not None:
        for r, b in people.items():
            ref = baseline_reference(b.t_s, b.rr_ms, baseline, b.flagged, b.after_gap, params)
            if ref is None:
                refs = {}
                break
            refs[r] = ref
    tracker = CoregulationTracker(list(people), params, refs)
    for r, b in people.items():
        feed_record(tracker.trackers[r], b.t_s, b.rr_ms, b.flagged, b.after_gap)
    tracker.finish()
    return tracker.reference, tracker.episodes()
