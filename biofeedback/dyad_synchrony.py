"""The two-person part of ``analyze``: synchrony over the session, its pacer stretches and its
resting baseline, and the slow heart-rate trends the two people shared.

:func:`synchrony_of` builds the contract's ``synchrony`` object from a :class:`SessionInput`
(see :func:`hrv.synchrony.synchrony` for the statistics); :func:`dyad_trend_notes` the words
for shared trends. Both are I/O-free assembly around :mod:`hrv`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hrv.artifacts import ArtifactResult
from hrv.synchrony import describe as describe_synchrony
from hrv.synchrony import synchrony
from hrv.trend import Trend, shared_trends

if TYPE_CHECKING:
    from biofeedback.analysis import RoleSeries, SessionInput

__all__ = ["clock_text", "dyad_trend_notes", "synchrony_of"]


def clock_text(t_s: float) -> str:
    """``m:ss`` of a session time in seconds (minutes may exceed 59)."""
    t = max(0, round(t_s))
    return f"{t // 60:d}:{t % 60:02d}"


def _artifact_mask(s: RoleSeries, found: ArtifactResult | None) -> NDArray[np.bool_]:
    if found is None:
        return np.zeros(s.rr_ms.size, dtype=bool)
    return np.asarray(found.flags > 0)


def _sync_part(
    t: RoleSeries,
    c: RoleSeries,
    masks: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    gaps: list[tuple[float, float]],
    pacer: list[tuple[float, float]],
    span: tuple[float, float] | None = None,
    n_surrogates: int = 1000,
    exclude: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One synchrony test: the whole input, or ``span`` only, or everything but ``exclude``."""

    def sel(s: RoleSeries) -> NDArray[np.bool_]:
        keep = np.ones(s.t_s.size, bool)
        if span is not None:
            keep &= (s.t_s > span[0]) & (s.t_s <= span[1])
        if exclude is not None:
            keep &= (s.t_s <= exclude[0]) | (s.t_s > exclude[1])
        return keep

    sel_t, sel_c = sel(t), sel(c)
    if exclude is not None:
        gaps = [*gaps, exclude]
    result = synchrony(
        t.t_s[sel_t],
        t.rr_ms[sel_t],
        c.t_s[sel_c],
        c.rr_ms[sel_c],
        therapist_artifact=masks[0][sel_t],
        client_artifact=masks[1][sel_c],
        gaps=gaps,
        pacer=pacer,
        n_surrogates=n_surrogates,
        seed=0,
    )
    out = dict(result.contract())
    out["summary"] = describe_synchrony(result)
    return out


def synchrony_of(
    data: SessionInput,
    *,
    found: Mapping[str, ArtifactResult | None],
    n_surrogates: int = 1000,
    pace_bpm: float | None = None,
) -> dict[str, Any]:
    """The contract's ``synchrony`` object for a therapist-client input.

    The whole session is tested (SUSY segment shuffling plus a circular-shift check, see
    :func:`hrv.synchrony.synchrony`); when the session has pacer changes, each stretch between
    them (at least 2 minutes long) is tested on its own too and listed under ``stretches``, so
    a paced stretch reads "both following the pacer" apart from the rest. Artifact-flagged
    beats and recording gaps are left out. ``found`` holds
    :func:`biofeedback.analysis.detect_artifacts` results per role. ``pace_bpm``
    (``--pace-bpm``) takes the whole record as paced at that rate instead of the session's
    pacer events (no stretches then).
    """
    t, c = data.series["therapist"], data.series["client"]
    masks = (_artifact_mask(t, found["therapist"]), _artifact_mask(c, found["client"]))
    gaps = data.gap_intervals()
    pacer = data.pacer_changes()
    if pace_bpm is not None:
        starts = [float(s.t_s[0] - s.rr_ms[0] / 1000.0) for s in (t, c) if s.t_s.size]
        pacer = [(min(starts, default=0.0), float(pace_bpm))]
    whole = _sync_part(t, c, masks, gaps, pacer, None, n_surrogates)
    stretches = []
    if pacer and pace_bpm is None:
        end = max(float(t.t_s[-1]) if t.t_s.size else 0.0, float(c.t_s[-1]) if c.t_s.size else 0.0)
        cuts = sorted({0.0, *(a for a, _ in pacer if 0.0 < a < end), end})
        for a, b in itertools.pairwise(cuts):
            if b - a < 120.0:
                continue
            part = _sync_part(t, c, masks, gaps, pacer, (a, b), n_surrogates)
            rates = [r for ts, r in pacer if ts <= a + 1e-9]
            rate = rates[-1] if rates else 0.0
            stretches.append({"start_s": a, "end_s": b, "pacer_bpm": rate or None, **part})
    whole["stretches"] = stretches
    whole["baseline"] = _baseline_part(data, t, c, masks, gaps, pacer, n_surrogates)
    return whole


def _baseline_part(
    data: SessionInput,
    t: RoleSeries,
    c: RoleSeries,
    masks: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    gaps: list[tuple[float, float]],
    pacer: list[tuple[float, float]],
    n_surrogates: int,
) -> dict[str, Any] | None:
    """Synchrony on the resting baseline and outside it, and how the two differ.

    ``None`` when the session has no baseline. The baseline stretch gets the same statistics
    as a stretch; ``rest_*`` are the same test on everything outside the baseline (the
    baseline left out as a gap); ``*_difference`` is rest minus baseline. The words set each
    part against its own chance level (:func:`_baseline_words`).
    """
    stretch = data.baseline_stretch()
    if stretch is None:
        return None
    base = _sync_part(t, c, masks, gaps, pacer, stretch, n_surrogates)
    rest = _sync_part(t, c, masks, gaps, pacer, None, n_surrogates, exclude=stretch)
    out: dict[str, Any] = {"start_s": stretch[0], "end_s": stretch[1], **base}
    for key in ("z_mean", "z_mean_signed", "effect_size", "p_value", "in_phase_z", "anti_phase_z"):
        out[f"rest_{key}"] = rest.get(key)
    for key in ("z_mean", "z_mean_signed", "effect_size"):
        a, b = rest.get(key), base.get(key)
        out[f"{key}_difference"] = (
            a - b
            if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
            else None
        )
    out["difference_summary"] = _baseline_words(stretch, base, rest)
    return out


def _baseline_words(
    stretch: tuple[float, float], base: Mapping[str, Any], rest: Mapping[str, Any]
) -> str:
    """Each part against its own chance level, then the two effect sizes side by side.

    Raw correlations of two stretches are not compared directly: with 30 s windows of
    low-passed heart rate even unrelated people average a Fisher z well away from 0, and
    shorter stretches scatter more, so only "beyond chance" is comparable.
    """
    where = f"the resting baseline ({clock_text(stretch[0])}-{clock_text(stretch[1])})"

    def against_chance(part: Mapping[str, Any]) -> str | None:
        p, es = part.get("p_value"), part.get("effect_size")
        if p is None or es is None or not (math.isfinite(p) and math.isfinite(es)):
            return None
        more = "more synchrony than expected by chance" if p < 0.05 else "no more than chance"
        return f"{more} (p = {p:.2g}, effect size {es:.1f})"

    a, b = against_chance(rest), against_chance(base)
    if a is None or b is None:
        return (
            f"Not enough clean data in {where} or outside it to compare the two heart rates' "
            "synchrony with it."
        )
    return (
        f"During {where}: {b}; outside it: {a}. The baseline is these two people's own "
        "reference at rest, not a norm."
    )


def dyad_trend_notes(participants: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Words for strong slow trends the two people's heart rates shared."""

    def trends(role: str) -> list[Trend]:
        return [Trend(**x) for x in participants[role].get("trends") or []]

    notes = []
    for a, b in shared_trends(trends("therapist"), trends("client")):
        how = "rose" if a.change_bpm > 0 else "fell"
        span = f"{clock_text(min(a.start_s, b.start_s))}-{clock_text(max(a.end_s, b.end_s))}"
        notes.append(
            f"both heart rates {how} over the same minutes (therapist {a.change_bpm:+.0f}, "
            f"client {b.change_bpm:+.0f} beats/min, "
            f"{span}); a shared "
            "slow change raises whole-record correlation, SDNN and LF power and can come from "
            "shared circumstances (movement, posture, the task) as much as from each other; "
            "the windowed synchrony removes trends within each 30 s window"
        )
    return notes
