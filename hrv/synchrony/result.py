"""What the offline synchrony test returns (:func:`hrv.synchrony.synchrony`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hrv.json_values import json_safe

__all__ = ["DirectionStats", "SharedRhythm", "SynchronyResult"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectionStats:
    """Statistics restricted to one lead direction (lags of one sign); ``effect_size`` is SUSY's."""

    z_mean: float
    effect_size: float
    surrogate_z: float
    p_value: float


@dataclass(frozen=True, slots=True)
class SharedRhythm:
    """How much of a stretch both people followed one breathing rhythm.

    Attributes
    ----------
    pacer_fraction : float
        Share of usable segments where both followed the running pacer (0 without a pacer).
    shared_fraction : float
        Share of the other usable segments where both people's RR followed one strong slow
        rhythm found in the beats (:func:`hrv.synchrony.pacing.shared_rhythm_segments`).
    shared_rate_bpm : float
        Median rate (breaths/min) of that rhythm; ``nan`` when none was found.
    """

    pacer_fraction: float = 0.0
    shared_fraction: float = 0.0
    shared_rate_bpm: float = math.nan

    @property
    def pacer_driven(self) -> bool:
        """Both followed the pacer, or one found rhythm, in at least half of the segments."""
        return bool(self.pacer_fraction >= 0.5 or self.shared_fraction >= 0.5)

    @property
    def source(self) -> str | None:
        """``"pacer"`` or ``"shared rhythm"`` (the larger share) when pacer-driven, else None."""
        if not self.pacer_driven:
            return None
        return "pacer" if self.pacer_fraction >= self.shared_fraction else "shared rhythm"


@dataclass(frozen=True, slots=True, kw_only=True)
class SynchronyResult:
    """Offline synchrony of one dyad against segment-shuffled surrogates.

    Contract keys (design.md section 8): ``z_mean``, ``effect_size``, ``p_value``,
    ``n_surrogates``, ``peak_lag_s`` (positive: client leads), ``leader``, ``in_phase_z``,
    ``anti_phase_z``, ``pacer_driven``; :meth:`contract` returns exactly those (``None`` for
    ``nan``). Everything is ``nan`` (counts 0, leader ``"none"``) with fewer than
    ``min_segments`` usable segments.

    Attributes
    ----------
    z_mean : float
        SUSY ``Z``: mean over lags and segments of ``|z|`` for the real pairing.
    z_surrogate_mean : float
        The same over all ``K(K-1)`` mismatched segment pairs.
    effect_size : float
        How far the real mean signed z lies beyond chance, in null SDs, in the direction of
        the phase ``p_value`` tests (positive: more in-phase, or more anti-phase, synchrony than
        chance), against the stricter of the two nulls (see :mod:`hrv.synchrony.surrogates`).
        It agrees with ``p_value``: a significant result has a positive effect size, and an
        effect size at or below 0 is never significant.
    effect_size_susy : float
        SUSY's ES on ``|z|`` (denominator = SD across lags of the surrogate means); kept for
        comparison with the literature, not shown to users.
    surrogate_z : float
        ``(z_mean - mean) / sd`` of the ``|z|`` derangement surrogates.
    p_value : float
        ``max(p_segments, p_circular)`` (``p_segments`` alone when ``n_circular`` is 0).
    p_segments : float
        ``min(1, 2 min(p_in_phase, p_anti_phase))`` against ``n_surrogates`` derangements.
    p_abs, p_in_phase, p_anti_phase : float
        ``(b + 1) / (n + 1)`` for mean ``|z|`` (SUSY default), mean signed z (upper tail) and
        mean signed z (lower tail).
    surrogate_z_signed : float
        ``(Z_signed - mean) / sd`` of the signed derangement surrogates.
    n_surrogates : int
        Number of derangement surrogates.
    n_surrogate_pairs : int
        Mismatched segment pairs in the all-pairs table (``K(K-1)``).
    p_circular, n_circular : float, int
        Two-sided p of the signed statistic against circular shifts of the client's series
        (second null) and how many shifts were usable.
    z_mean_signed, effect_size_signed : float
        SUSY's ``Z(noAbs)`` and ``ES(noAbs)``.
    in_phase_z, anti_phase_z : float
        Mean of the non-negative / negative entries of the real signed lag profile.
    peak_lag_s : float
        Lag (s) where the real ``|z|`` profile most exceeds the surrogate profile, refined by a
        parabola through its neighbours. Positive: client leads.
    therapist_leads, client_leads : DirectionStats
        Statistics on lags < 0 and lags > 0.
    p_asymmetry : float
        Two-sided surrogate p for ``client_leads.z_mean - therapist_leads.z_mean``.
    leader : str
        ``"client"`` / ``"therapist"`` only if ``p_value < alpha``, ``p_asymmetry < alpha`` and
        ``peak_lag_s`` agrees in sign and is at least one grid step; else ``"none"``.
    pacer_driven : bool
        At least half of the usable segments had both people following the pacer, or one
        slow rhythm found in both people's beats (:attr:`SharedRhythm.pacer_driven`).
    pacer_fraction : float
        Share of usable segments where both followed the recorded pacer (0 without a pacer).
    shared_rhythm : SharedRhythm
        The pacer and found-rhythm shares and the found rate.
    lags_s, real_profile, surrogate_profile : ndarray
        Lags and the per-lag ``|z|`` means (real, all-pairs surrogate).
    n_segments, n_segments_skipped : int
        Usable segments and segments dropped for missing data.
    alpha : float
        Significance level used for ``leader``.
    """

    z_mean: float
    z_surrogate_mean: float
    effect_size: float
    effect_size_susy: float
    surrogate_z: float
    p_value: float
    n_surrogates: int
    n_surrogate_pairs: int
    p_circular: float
    n_circular: int
    p_segments: float
    p_abs: float
    p_in_phase: float
    p_anti_phase: float
    surrogate_z_signed: float
    z_mean_signed: float
    effect_size_signed: float
    in_phase_z: float
    anti_phase_z: float
    peak_lag_s: float
    therapist_leads: DirectionStats
    client_leads: DirectionStats
    p_asymmetry: float
    leader: str
    pacer_driven: bool
    pacer_fraction: float
    shared_rhythm: SharedRhythm = field(default_factory=SharedRhythm)
    lags_s: FloatArray = field(repr=False)
    real_profile: FloatArray = field(repr=False)
    surrogate_profile: FloatArray = field(repr=False)
    n_segments: int = 0
    n_segments_skipped: int = 0
    alpha: float = 0.05

    @classmethod
    def empty(
        cls, lags_s: FloatArray, n_skipped: int, alpha: float, shared: SharedRhythm
    ) -> SynchronyResult:
        """The all-``nan`` result (counts 0, leader ``"none"``) for too little usable data."""
        nan = math.nan
        d = DirectionStats(z_mean=nan, effect_size=nan, surrogate_z=nan, p_value=nan)
        prof = np.full(lags_s.size, nan)
        return cls(
            z_mean=nan, z_surrogate_mean=nan, effect_size=nan, effect_size_susy=nan,
            surrogate_z=nan, p_value=nan,
            n_surrogates=0, n_surrogate_pairs=0, p_circular=nan, n_circular=0, p_segments=nan,
            p_abs=nan, p_in_phase=nan, p_anti_phase=nan, surrogate_z_signed=nan,
            z_mean_signed=nan, effect_size_signed=nan, in_phase_z=nan, anti_phase_z=nan,
            peak_lag_s=nan, therapist_leads=d, client_leads=d, p_asymmetry=nan, leader="none",
            pacer_driven=shared.pacer_driven, pacer_fraction=shared.pacer_fraction,
            shared_rhythm=shared,
            lags_s=lags_s, real_profile=prof, surrogate_profile=prof.copy(), n_segments=0,
            n_segments_skipped=n_skipped, alpha=alpha,
        )  # fmt: skip

    @property
    def significant(self) -> bool:
        """``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def contract(self) -> dict[str, object]:
        """The ``synchrony`` object of ``analyze --json`` (``nan`` becomes ``None``)."""

        num = json_safe
        return {
            "z_mean": num(self.z_mean),
            "effect_size": num(self.effect_size),
            "p_value": num(self.p_value),
            "n_surrogates": int(self.n_surrogates),
            "peak_lag_s": num(self.peak_lag_s),
            "leader": self.leader,
            "in_phase_z": num(self.in_phase_z),
            "anti_phase_z": num(self.anti_phase_z),
            "pacer_driven": bool(self.pacer_driven),
            "surrogate_z": num(self.surrogate_z),
            "p_circular": num(self.p_circular),
            "p_segments": num(self.p_segments),
            "p_asymmetry": num(self.p_asymmetry),
            "therapist_leads_es": num(self.therapist_leads.effect_size),
            "client_leads_es": num(self.client_leads.effect_size),
            "n_segments": int(self.n_segments),
            "effect_size_susy": num(self.effect_size_susy),
            "z_mean_signed": num(self.z_mean_signed),
            "pacer_driven_by": self.shared_rhythm.source,
            "shared_rhythm_bpm": num(self.shared_rhythm.shared_rate_bpm)
            if self.shared_rhythm.source == "shared rhythm"
            else None,
            "shared_rhythm_fraction": num(self.shared_rhythm.shared_fraction),
        }
