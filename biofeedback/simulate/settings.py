"""What to simulate: the configuration of a simulated session and its validation.

:class:`SimulationConfig` holds one or two :class:`PersonConfig`, the pacer schedule
(:class:`PacedSegment`) and the coupling of the two people (:class:`CouplingConfig`);
:meth:`SimulationConfig.validate` names the first bad field. The model these settings drive is
described in :mod:`biofeedback.simulate.physiology`, the strap delivery in
:mod:`biofeedback.simulate.delivery`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "OTHER_RESPONSES",
    "ROLES",
    "ActivationEpisode",
    "CouplingConfig",
    "PacedSegment",
    "PersonConfig",
    "SimulationConfig",
    "jsonable",
]

#: Roles the simulator accepts.
ROLES = ("therapist", "client", "solo")

#: What the other person's heart rate does during an activation episode.
OTHER_RESPONSES = ("steady", "rose")


@dataclass(frozen=True)
class PersonConfig:
    """One simulated person and their strap.

    Attributes
    ----------
    role : str
        ``"therapist"``, ``"client"`` or ``"solo"``.
    mean_hr_bpm : float
        Mean heart rate, beats per minute (30-200).
    hrv_scale : float
        Multiplies every variability component (RSA, Mayer, VLF, jitter); 1.0 is a typical
        resting adult (SDNN about 50 ms, RMSSD about 30 ms at 70 bpm).
    breathing_rate_bpm : float
        Spontaneous breathing rate, breaths per minute (6-30).
    breathing_wander_bpm : float
        Standard deviation of the slow wander of the spontaneous rate, breaths per minute.
    resonance_bpm : float
        The person's resonance breathing rate, breaths per minute (4-8).
    arousal_sd_bpm : float
        Standard deviation of the slow arousal-driven heart-rate fluctuations, beats per minute.
    ectopic_per_min : float
        Rate of randomly placed ectopic beats, per minute.
    ectopic_times_s : tuple of float
        Ectopic beats at (the beat nearest to) these session times, in addition.
    missed_per_min : float
        Rate of randomly placed missed beats, per minute.
    missed_times_s : tuple of float
        Missed beats at (the beat nearest to) these times, in addition.
    dropouts : tuple of (start_s, end_s)
        Strap drop-outs: no notifications between the two times.
    contact : bool or None
        Contact field of the notifications: ``None`` sends flags 0x10 like a Polar H10,
        ``True`` 0x16 like a Polar H7.
    baroreflex_share : float
        Share (0-1) of the RSA at the resonance rate that comes from a sharp baroreflex
        resonance with its own phase response
        (:func:`biofeedback.simulate.physiology.rsa_response`); 0, the default, keeps the broad
        in-phase resonance curve alone.
    baroreflex_width_bpm : float
        Half-width of that sharp resonance, breaths per minute (0.2-5).
    """

    role: str
    mean_hr_bpm: float = 70.0
    hrv_scale: float = 1.0
    breathing_rate_bpm: float = 14.0
    breathing_wander_bpm: float = 1.0
    resonance_bpm: float = 6.0
    arousal_sd_bpm: float = 3.0
    ectopic_per_min: float = 0.0
    ectopic_times_s: tuple[float, ...] = ()
    missed_per_min: float = 0.0
    missed_times_s: tuple[float, ...] = ()
    dropouts: tuple[tuple[float, float], ...] = ()
    contact: bool | None = None
    baroreflex_share: float = 0.0
    baroreflex_width_bpm: float = 0.8


@dataclass(frozen=True)
class PacedSegment:
    """A stretch with the on-screen pacer on.

    Attributes
    ----------
    start_s, end_s : float
        Session times the pacer switches on and off.
    rate_bpm : float
        Pacer rate, breaths per minute.
    followers : tuple of str or None
        Roles that follow the pacer; ``None`` means everyone.
    transition_s : float
        Time a person takes to lock on to the pacer (and to return to spontaneous breathing
        after it), seconds; the RSA is steady from ``start_s + transition_s`` to ``end_s``.
    """

    start_s: float
    end_s: float
    rate_bpm: float = 6.0
    followers: tuple[str, ...] | None = None
    transition_s: float = 15.0


@dataclass(frozen=True)
class CouplingConfig:
    """Coupling of the two people's slow heart-rate fluctuations.

    Attributes
    ----------
    strength : float
        0 (independent) to 1 (the follower's arousal driver is the leader's, delayed).
    lag_s : float
        Delay of the follower behind the leader, seconds (>= 0).
    leader : str
        ``"therapist"`` or ``"client"``.
    windows : tuple of (start_s, end_s) or None
        When the coupling is on; ``None`` means the whole session.
    """

    strength: float = 0.0
    lag_s: float = 0.0
    leader: str = "client"
    windows: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class ActivationEpisode:
    """A rise of one person's heart rate and its settling (a co-regulation moment).

    The added heart rate climbs as a raised cosine from ``start_s`` to ``start_s + rise_s``
    (the peak) and then decays exponentially with time constant ``settle_tau_s``
    (:func:`biofeedback.simulate.physiology.episode_bpm`).

    Attributes
    ----------
    person : str
        Whose heart rate rises.
    start_s : float
        Start of the rise, session seconds.
    rise_bpm : float
        Height of the rise, beats/min (1-60).
    rise_s : float
        Time from the start to the peak, seconds (2-120).
    settle_tau_s : float
        Time constant of the return, seconds (2-300).
    other : str
        ``"steady"``: the other person's heart rate goes on as before; ``"rose"``: it rises
        too, by ``other_rise_bpm`` (``None``: the same amount), ``other_delay_s`` later, with
        the same shape. Ignored (must be ``"steady"``) for one person.
    other_rise_bpm : float or None
    other_delay_s : float
        Seconds after ``start_s`` the other person's rise starts (0-120).
    """

    person: str
    start_s: float
    rise_bpm: float = 18.0
    rise_s: float = 20.0
    settle_tau_s: float = 30.0
    other: str = "steady"
    other_rise_bpm: float | None = None
    other_delay_s: float = 10.0


@dataclass(frozen=True)
class SimulationConfig:
    """A whole simulated session.

    Attributes
    ----------
    people : tuple of PersonConfig
        One (role ``solo`` or any single role) or two (``therapist`` and ``client``).
    duration_s : float
        Session length, seconds.
    seed : int
        Seed of ``numpy.random.default_rng``.
    pacing : tuple of PacedSegment
        Pacer schedule (non-overlapping).
    coupling : CouplingConfig
    notify_interval_s : float
        Nominal time between a strap's notifications.
    latency_s : (float, float)
        Uniform range of the delivery latency.
    late_bursts_per_min : float
        Rate of held-back bursts per strap, per minute.
    episodes : tuple of ActivationEpisode
        Heart-rate rises and their settling.
    assessment : bool
        The pacer segments are the steps of a resonance-frequency assessment: ``assessment``
        events mark each step, the rest after it and the end
        (:class:`biofeedback.beats.EventKind`), and the pacer is switched off at the end of every
        step (each step starts a fresh cycle).
    """

    people: tuple[PersonConfig, ...]
    duration_s: float = 600.0
    seed: int = 0
    pacing: tuple[PacedSegment, ...] = ()
    coupling: CouplingConfig = field(default_factory=CouplingConfig)
    notify_interval_s: float = 1.0
    latency_s: tuple[float, float] = (0.005, 0.040)
    late_bursts_per_min: float = 0.2
    episodes: tuple[ActivationEpisode, ...] = ()
    assessment: bool = False

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(p.role for p in self.people)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (tuples become lists).

        The assessment fields are left out while they are off (``assessment`` false, a
        person's ``baroreflex_share`` 0), so sessions simulated without them keep the stored
        settings they had before these options existed (the sample files compare equal).
        """
        d = jsonable(dataclasses.asdict(self))
        if not self.assessment:
            del d["assessment"]
        for person in d["people"]:
            if not person["baroreflex_share"]:
                del person["baroreflex_share"], person["baroreflex_width_bpm"]
        return d

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        if not 1 <= len(self.people) <= 2:
            raise ValueError("a simulation needs one or two people")
        roles = self.roles
        if len(set(roles)) != len(roles):
            raise ValueError(f"roles must differ, got {roles}")
        for r in roles:
            if r not in ROLES:
                raise ValueError(f"role must be one of {ROLES}, not {r!r}")
        if len(roles) == 2 and set(roles) != {"therapist", "client"}:
            raise ValueError("a two-person simulation has roles 'therapist' and 'client'")
        if not (self.duration_s > 0 and math.isfinite(self.duration_s)):
            raise ValueError(f"duration must be positive, not {self.duration_s}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, not {self.seed}")
        for p in self.people:
            _check_range(f"{p.role}: mean heart rate", p.mean_hr_bpm, 30, 200)
            _check_range(f"{p.role}: hrv scale", p.hrv_scale, 0, 5)
            _check_range(f"{p.role}: breathing rate", p.breathing_rate_bpm, 6, 30)
            _check_range(f"{p.role}: breathing wander", p.breathing_wander_bpm, 0, 5)
            _check_range(f"{p.role}: resonance rate", p.resonance_bpm, 3, 10)
            _check_range(f"{p.role}: arousal sd", p.arousal_sd_bpm, 0, 20)
            _check_range(f"{p.role}: ectopic beats per minute", p.ectopic_per_min, 0, 20)
            _check_range(f"{p.role}: missed beats per minute", p.missed_per_min, 0, 20)
            _check_range(f"{p.role}: baroreflex share", p.baroreflex_share, 0, 1)
            _check_range(f"{p.role}: baroreflex width", p.baroreflex_width_bpm, 0.2, 5)
            for a, b in p.dropouts:
                if not 0 <= a < b <= self.duration_s:
                    raise ValueError(f"{p.role}: drop-out ({a}, {b}) is not inside the session")
        last_end = -math.inf
        for seg in sorted(self.pacing, key=lambda s: s.start_s):
            if not 0 <= seg.start_s < seg.end_s <= self.duration_s:
                raise ValueError(
                    f"pacer segment ({seg.start_s}, {seg.end_s}) is not inside the session"
                )
            if seg.start_s < last_end:
                raise ValueError("pacer segments overlap")
            last_end = seg.end_s
            _check_range("pacer rate", seg.rate_bpm, 3, 30)
        if self.assessment and not self.pacing:
            raise ValueError("an assessment needs at least one paced step")
        c = self.coupling
        _check_range("coupling strength", c.strength, 0, 1)
        _check_range("coupling lag", c.lag_s, 0, 30)
        if c.leader not in ("therapist", "client"):
            raise ValueError(f"leader must be 'therapist' or 'client', not {c.leader!r}")
        if c.strength > 0 and len(roles) != 2:
            raise ValueError("coupling needs two people")
        _check_range("latency", self.latency_s[0], 0, 1)
        if self.latency_s[1] < self.latency_s[0]:
            raise ValueError("latency range is reversed")
        _check_range("notification interval", self.notify_interval_s, 0.1, 5)
        _check_range("late bursts per minute", self.late_bursts_per_min, 0, 10)
        for ep in self.episodes:
            if ep.person not in roles:
                raise ValueError(f"episode person {ep.person!r} is not one of {roles}")
            if not 0 <= ep.start_s < self.duration_s:
                raise ValueError(f"episode start {ep.start_s} is not inside the session")
            _check_range("episode rise (beats/min)", ep.rise_bpm, 1, 60)
            _check_range("episode rise time (s)", ep.rise_s, 2, 120)
            _check_range("episode settle time constant (s)", ep.settle_tau_s, 2, 300)
            if ep.other not in OTHER_RESPONSES:
                raise ValueError(
                    f"episode other must be one of {OTHER_RESPONSES}, not {ep.other!r}"
                )
            if ep.other == "rose":
                if len(roles) != 2:
                    raise ValueError("an episode where the other rises too needs two people")
                _check_range("episode other's delay (s)", ep.other_delay_s, 0, 120)
                if ep.other_rise_bpm is not None:
                    _check_range("episode other's rise (beats/min)", ep.other_rise_bpm, 1, 60)


def _check_range(name: str, v: float, lo: float, hi: float) -> None:
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {v}")


def jsonable(x: Any) -> Any:
    """JSON-serialisable copy: mappings with string keys, tuples as lists, NumPy scalars as
    Python numbers."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x
