"""A physiological simulator: realistic RR intervals for one or two people, delivered as strap
notifications.

What it models, per person
--------------------------
The heart period is a continuous function of time ``R(t)`` in ms (sampled on a 20 Hz grid)::

    R(t) = 60000 / (mean_hr_bpm + arousal_bpm(t)) + rsa_ms(t) + mayer_ms(t) + vlf_ms(t)

and beats are produced by cumulative RR: ``RR_k = R(t_{k-1}) + e_k`` rounded to the strap's
1/1024 s grid, ``t_k = t_{k-1} + RR_k`` (``e_k`` a small independent beat-to-beat jitter). Beat
times and RR therefore agree exactly, and the RR values are exactly what a strap sends.

* **Respiratory sinus arrhythmia** ``rsa_ms = A(f_b) * cos(2 pi phase_b(t))``: the heart
  period is shortest at the end of inhalation (heart rate in phase with lung volume, as at
  resonance; Vaschillo et al. 2002, doi:10.1023/A:1014587304314). Spontaneous breathing runs at
  ``breathing_rate_bpm`` (breaths/min) with a slow rate wander and a little breath-to-breath
  depth variation; when a person follows the pacer the phase is the pacer's (0 = start of
  inhalation at the pacer event) and the rate exact. The amplitude grows as breathing slows
  toward the resonance frequency of the baroreflex loop (about 0.1 Hz, 5.5-6.5 breaths/min):
  Lehrer, Vaschillo & Vaschillo 2000 (doi:10.1023/A:1009554825745) and Vaschillo et al. 2002
  report peak-to-trough RR of a few tens of ms during spontaneous breathing and 150-250 ms at
  resonance. We use a resonance curve ``A(f) = A_res / sqrt(1 + ((f - f_res) / 0.0387 Hz)^2)``
  with ``A_res = 100 ms * hrv_scale``: peak-to-trough 200 ms at 6/min, 72 ms at 12/min, 50 ms
  at 15/min, 38 ms at 18/min.
* **Mayer waves**: a ~0.1 Hz oscillation (frequency wanders by about 0.005 Hz, amplitude
  15 ms * hrv_scale, slowly modulated). While a person follows a pacer at 9/min or slower the
  baroreflex oscillation is entrained by breathing (Vaschillo 2002) and its power is part of the
  RSA amplitude above, so the free-running Mayer component fades out (fully at 9/min and
  below, not at all at 12/min and above).
* **Slow 1/f variability** (VLF, 0.003-0.04 Hz, standard deviation 20 ms * hrv_scale).
* **Arousal driver**: band-limited heart-rate fluctuations (flat 0.01-0.07 Hz, cosine tapers
  0.02 Hz wide, so nothing at the 0.1 Hz resonance where it would bias the paced RSA),
  standard deviation ``arousal_sd_bpm`` (3 bpm). Each person has an independent one.
  **Coupling** mixes in a shared driver ``S``:
  ``d(t) = sqrt(s) S(t - lag) + sqrt(1 - s) own(t)`` where ``s`` is the coupling strength
  inside a coupling window (0 outside, ramped over 5 s) and ``lag`` is 0 for the leader and
  ``lag_s`` (to the 0.05 s grid) for the follower. The mix keeps the driver's variance and makes the
  correlation between the two drivers, at the lag, equal to ``s``.
* **Artifacts**: ectopic beats (a premature beat at 55-75 % of the interval, then a
  compensatory pause so that the two intervals add up to the two normal ones) and missed beats
  (the strap misses an R peak: two intervals reported as one).

Strap delivery (the packetizer)
-------------------------------
Each strap notifies about once a second (its own random phase), arriving 5-40 ms later on the
session clock, with the RR of the beats since its previous notification (0-3 typically; up to
9 fit one 20-byte notification) and the rounded instantaneous heart rate of the last beat.
Occasionally (``late_bursts_per_min``) a strap holds its notifications for 2-4 s and then sends
the held RR together. A drop-out is a stretch with no notifications: the source emits
``disconnect`` at its start and ``connect`` at its end, and beats inside it are lost. Packets
get one ``seq`` counter across participants, in arrival order.

Because a receiver anchors the first beats after a (re)connect on arrival, its beat times are
the true times plus a constant offset per connected stretch (the latency plus the wait from the
last beat to the notification, 0-1 s); :attr:`Simulation.ground_truth` lists the offsets.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same configuration gives
byte-identical packets.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback import gatt
from biofeedback.beats import Event, EventKind, Packet

__all__ = [
    "ROLES",
    "CouplingConfig",
    "PacedSegment",
    "PersonBeats",
    "PersonConfig",
    "Simulation",
    "SimulationConfig",
    "rsa_amplitude_ms",
    "simulate_session",
]

#: Roles the simulator accepts.
ROLES = ("therapist", "client", "solo")

#: Version of the model; stored in the ground truth so analyses can tell models apart.
MODEL_VERSION = 1

_FS_HZ = 20.0  # grid for the continuous modulations
_RR_UNITS_PER_S = gatt.RR_UNITS_PER_S
_MAX_RR_PER_PACKET = 9  # flags + u8 HR + 9 * u16 = 20 bytes, the default ATT payload
_RES_HALF_WIDTH_HZ = 0.0387  # A(0.25 Hz) = A_res / 4 for a resonance at 0.1 Hz
_A_RES_MS = 100.0
_MAYER_MS = 15.0
_VLF_SD_MS = 20.0
_BEAT_JITTER_SD_MS = 6.0
_ENTRAIN_BELOW_BPM = 9.0
_COUPLING_RAMP_S = 5.0
_AROUSAL_BAND_HZ = (0.01, 0.07)
_AROUSAL_TAPER_HZ = 0.02


def rsa_amplitude_ms(
    breathing_rate_bpm: float, *, resonance_bpm: float = 6.0, hrv_scale: float = 1.0
) -> float:
    """RSA amplitude (half of peak-to-trough RR, ms) at a breathing rate (breaths/min).

    ``A(f) = 100 ms * hrv_scale / sqrt(1 + ((f - f_res) / 0.0387 Hz)^2)``, a resonance curve
    matched to the peak-to-trough values reported by Lehrer, Vaschillo & Vaschillo 2000
    (doi:10.1023/A:1009554825745) and Vaschillo et al. 2002 (doi:10.1023/A:1014587304314):
    about 200 ms at resonance (6/min), 40-60 ms at 15/min. Rates of 0 or below give 0.
    """
    if not breathing_rate_bpm > 0:
        return 0.0
    f = breathing_rate_bpm / 60.0
    f_res = resonance_bpm / 60.0
    return _A_RES_MS * hrv_scale / math.sqrt(1.0 + ((f - f_res) / _RES_HALF_WIDTH_HZ) ** 2)


# -- configuration --------------------------------------------------------------------------


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
    """

    people: tuple[PersonConfig, ...]
    duration_s: float = 600.0
    seed: int = 0
    pacing: tuple[PacedSegment, ...] = ()
    coupling: CouplingConfig = field(default_factory=CouplingConfig)
    notify_interval_s: float = 1.0
    latency_s: tuple[float, float] = (0.005, 0.040)
    late_bursts_per_min: float = 0.2

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(p.role for p in self.people)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (tuples become lists)."""
        return _jsonable(dataclasses.asdict(self))

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


def _check_range(name: str, v: float, lo: float, hi: float) -> None:
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {v}")


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonBeats:
    """The beats a strap measured for one person (what a perfect receiver would get).

    Attributes
    ----------
    t_s : ndarray
        True beat times on the session clock, seconds.
    rr_ms : ndarray
        RR intervals ending at each beat, ms, on the strap's 1/1024 s grid.
    label : ndarray of str
        ``"normal"``, ``"ectopic"`` (premature beat), ``"compensatory"`` (the pause after it)
        or ``"missed"`` (two intervals reported as one).
    delivered : ndarray of bool
        Whether the beat reached the receiver (false inside drop-outs and after the last
        notification).
    """

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    label: NDArray[np.str_]
    delivered: NDArray[np.bool_]


@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate_session`.

    Attributes
    ----------
    config : SimulationConfig
    packets : tuple of Packet
        Notifications in arrival order (``seq`` 0, 1, ...).
    events : tuple of Event
        Source events (``connect``, ``disconnect``, ``pacer``) in time order.
    true_beats : mapping role -> PersonBeats
    ground_truth : dict
        JSON-serialisable description of what was simulated (see :func:`simulate_session`).
    """

    config: SimulationConfig
    packets: tuple[Packet, ...]
    events: tuple[Event, ...]
    true_beats: Mapping[str, PersonBeats]
    ground_truth: dict[str, Any]

    def raw_items(self) -> list[Packet | Event]:
        """Packets and source events merged in arrival order (events first on equal times)."""
        keyed: list[tuple[float, int, int, Packet | Event]] = [
            (e.t_s, 0, i, e) for i, e in enumerate(self.events)
        ]
        keyed += [(p.t_s, 1, p.seq, p) for p in self.packets]
        keyed.sort(key=lambda k: (k[0], k[1], k[2]))
        return [k[3] for k in keyed]


# -- signal generation ----------------------------------------------------------------------


def _band_noise(
    rng: np.random.Generator,
    n: int,
    fs: float,
    f_lo: float,
    f_hi: float,
    *,
    taper_hz: float,
    pink: bool = False,
) -> NDArray[np.float64]:
    """Gaussian noise with power between ``f_lo`` and ``f_hi`` (cosine tapers ``taper_hz``
    wide outside the band), white or 1/f inside it, scaled to unit standard deviation."""
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    gain = np.zeros_like(f)
    inside = (f >= f_lo) & (f <= f_hi)
    gain[inside] = 1.0
    lo_edge = (f < f_lo) & (f > f_lo - taper_hz)
    gain[lo_edge] = 0.5 * (1 + np.cos(np.pi * (f_lo - f[lo_edge]) / taper_hz))
    hi_edge = (f > f_hi) & (f < f_hi + taper_hz)
    gain[hi_edge] = 0.5 * (1 + np.cos(np.pi * (f[hi_edge] - f_hi) / taper_hz))
    if pink:
        with np.errstate(divide="ignore"):
            gain = np.where(f > 0, gain / np.sqrt(np.maximum(f, 1e-12)), 0.0)
    out = np.fft.irfft(spec * gain, n)
    sd = float(np.std(out))
    return out / sd if sd > 0 else out


def _ramp_weight(
    t: NDArray[np.float64], windows: Sequence[tuple[float, float]], ramp_s: float
) -> NDArray[np.float64]:
    """1 inside the windows, 0 outside, with raised-cosine ramps of ``ramp_s`` after each edge
    (on at ``start``, full at ``start + ramp_s``; fading from ``end`` to ``end + ramp_s``)."""
    w = np.zeros_like(t)
    for a, b in windows:
        on = np.clip((t - a) / ramp_s, 0.0, 1.0) if ramp_s > 0 else (t >= a).astype(float)
        off = np.clip(1.0 - (t - b) / ramp_s, 0.0, 1.0) if ramp_s > 0 else (t < b).astype(float)
        seg = 0.5 - 0.5 * np.cos(np.pi * np.minimum(on, off))
        w = np.maximum(w, seg)
    return w


@dataclass
class _PersonSignal:
    rr_ms: NDArray[np.float64]  # R(t) on the grid
    spont_rate_bpm: NDArray[np.float64]


def _person_signal(
    rng: np.random.Generator,
    p: PersonConfig,
    t: NDArray[np.float64],
    pacing: Sequence[PacedSegment],
    arousal_bpm: NDArray[np.float64],
) -> _PersonSignal:
    n = t.size
    fs = _FS_HZ
    dt = 1.0 / fs
    # Spontaneous breathing: slowly wandering rate, phase integrated from it.
    wander = _band_noise(rng, n, fs, 0.002, 0.02, taper_hz=0.01)
    spont_rate = np.clip(p.breathing_rate_bpm + p.breathing_wander_bpm * wander, 6.0, 30.0)
    phase_sp = rng.uniform(0, 1) + np.cumsum(spont_rate / 60.0) * dt
    depth = 1.0 + 0.1 * _band_noise(rng, n, fs, 0.01, 0.1, taper_hz=0.02)
    amp_sp = np.array(
        [
            rsa_amplitude_ms(r, resonance_bpm=p.resonance_bpm, hrv_scale=p.hrv_scale)
            for r in spont_rate[:: int(fs)]
        ]
    )
    amp_sp = np.interp(t, t[:: int(fs)], amp_sp)
    rsa = amp_sp * depth * np.cos(2 * np.pi * phase_sp)
    entrained = np.zeros(n)
    for seg in pacing:
        if seg.followers is not None and p.role not in seg.followers:
            continue
        w = _ramp_weight(t, [(seg.start_s, seg.end_s)], seg.transition_s)
        a = rsa_amplitude_ms(seg.rate_bpm, resonance_bpm=p.resonance_bpm, hrv_scale=p.hrv_scale)
        paced = a * np.cos(2 * np.pi * seg.rate_bpm / 60.0 * (t - seg.start_s))
        rsa = (1.0 - w) * rsa + w * paced
        ent = float(np.clip((_ENTRAIN_BELOW_BPM + 3.0 - seg.rate_bpm) / 3.0, 0.0, 1.0))
        entrained = np.maximum(entrained, w * ent)
    # Mayer waves: ~0.1 Hz with wandering frequency and amplitude.
    f_mayer = 0.1 + 0.005 * _band_noise(rng, n, fs, 0.002, 0.02, taper_hz=0.01)
    phase_m = rng.uniform(0, 1) + np.cumsum(f_mayer) * dt
    amp_m = (
        _MAYER_MS
        * p.hrv_scale
        * np.clip(1.0 + 0.3 * _band_noise(rng, n, fs, 0.003, 0.02, taper_hz=0.01), 0.2, None)
    )
    mayer = (1.0 - entrained) * amp_m * np.sin(2 * np.pi * phase_m)
    vlf = _VLF_SD_MS * p.hrv_scale * _band_noise(rng, n, fs, 0.003, 0.04, taper_hz=0.01, pink=True)
    hr = np.maximum(p.mean_hr_bpm + arousal_bpm, 25.0)
    rr = 60000.0 / hr + rsa + mayer + vlf
    return _PersonSignal(rr_ms=rr, spont_rate_bpm=spont_rate)


def _beats_from_signal(
    rng: np.random.Generator,
    t_grid: NDArray[np.float64],
    rr_grid: NDArray[np.float64],
    duration_s: float,
    jitter_sd_ms: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Cumulative RR: ``RR_k = R(t_{k-1}) + jitter`` on the 1/1024 s grid; beats in (0, dur]."""
    n_max = int(duration_s * 4) + 16
    jitter = rng.standard_normal(n_max) * jitter_sd_ms
    t0 = -float(rng.uniform(0.3, 1.3))
    # Times in raw 1/1024 s units since t0 keep the arithmetic exact.
    raw_list: list[int] = []
    acc = 0
    k = 0
    while True:
        t_prev = t0 + acc / _RR_UNITS_PER_S
        if t_prev >= duration_s:
            break
        rr = float(np.interp(t_prev, t_grid, rr_grid)) + float(jitter[k % n_max])
        raw = round(min(max(rr, 250.0), 2500.0) * _RR_UNITS_PER_S / 1000.0)
        acc += raw
        raw_list.append(raw)
        k += 1
    raw_arr = np.asarray(raw_list, dtype=np.int64)
    t_beats = t0 + np.cumsum(raw_arr) / _RR_UNITS_PER_S
    keep = (t_beats > 0) & (t_beats <= duration_s)
    return t_beats[keep], raw_arr[keep]


def _in_windows(x: float, windows: Sequence[tuple[float, float]], margin: float) -> bool:
    return any(a - margin <= x <= b + margin for a, b in windows)


def _insert_artifacts(
    rng: np.random.Generator,
    p: PersonConfig,
    t: NDArray[np.float64],
    raw: NDArray[np.int64],
    duration_s: float,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.str_], list[float], list[float]]:
    """Place ectopic and missed beats; returns new times, raw RR, labels and the times."""
    n = t.size
    label = np.array(["normal"] * n, dtype="<U12")
    taken = np.zeros(n, dtype=bool)

    def usable(k: int) -> bool:
        return (
            3 <= k < n - 3
            and not taken[max(0, k - 3) : k + 4].any()
            and not _in_windows(float(t[k]), p.dropouts, 3.0)
        )

    def choose(times: Sequence[float], per_min: float) -> list[int]:
        chosen: list[int] = []
        for want in times:
            k = int(np.argmin(np.abs(t - want)))
            if usable(k):
                chosen.append(k)
                taken[k] = True
        n_random = int(rng.poisson(per_min * duration_s / 60.0)) if per_min > 0 else 0
        for _ in range(n_random):
            for _attempt in range(20):
                k = int(rng.integers(3, max(4, n - 3)))
                if usable(k):
                    chosen.append(k)
                    taken[k] = True
                    break
        return chosen

    ectopic = choose(p.ectopic_times_s, p.ectopic_per_min)
    missed = choose(p.missed_times_s, p.missed_per_min)
    raw = raw.copy()
    t = t.copy()
    for k in ectopic:
        frac = float(rng.uniform(0.55, 0.75))
        pre = round(raw[k] * frac)
        raw[k + 1] = raw[k] + raw[k + 1] - pre
        raw[k] = pre
        t[k] = t[k - 1] + pre / _RR_UNITS_PER_S
        label[k] = "ectopic"
        label[k + 1] = "compensatory"
    drop = np.zeros(n, dtype=bool)
    missed_times: list[float] = []
    for k in missed:
        raw[k + 1] = raw[k] + raw[k + 1]
        drop[k] = True
        label[k + 1] = "missed"
        missed_times.append(float(t[k + 1]))
    ectopic_times = sorted(float(t[k]) for k in ectopic)
    keep = ~drop
    return t[keep], raw[keep], label[keep], ectopic_times, sorted(missed_times)


# -- packetizer -----------------------------------------------------------------------------


@dataclass
class _Notification:
    t_s: float
    role: str
    payload: bytes


def _packetize(
    rng: np.random.Generator,
    cfg: SimulationConfig,
    p: PersonConfig,
    t_beats: NDArray[np.float64],
    raw: NDArray[np.int64],
) -> tuple[list[_Notification], NDArray[np.bool_], list[dict[str, float]], list[dict[str, float]]]:
    """Notifications of one strap, the delivered mask, bursts and timing offsets."""
    interval = cfg.notify_interval_s
    lat_lo, lat_hi = cfg.latency_s
    dur = cfg.duration_s
    n_beats = t_beats.size
    delivered = np.zeros(n_beats, dtype=bool)
    out: list[_Notification] = []
    bursts: list[dict[str, float]] = []
    offsets: list[dict[str, float]] = []
    p_burst = cfg.late_bursts_per_min * interval / 60.0
    dropouts = sorted(p.dropouts)
    schedule_t = float(rng.uniform(0.05, interval))
    sent_until = 0.0  # beats after this time are not yet sent
    cursor = 0  # first beat index not yet sent (or skipped)
    hr_field = round(p.mean_hr_bpm)
    need_anchor = True
    last_arrival = -math.inf

    def emit(t_arr: float, upto: float) -> None:
        nonlocal cursor, hr_field, need_anchor, last_arrival
        # Skip beats lost before the current connection.
        while cursor < n_beats and t_beats[cursor] <= sent_until:
            cursor += 1
        idx = []
        while cursor < n_beats and t_beats[cursor] <= upto:
            idx.append(cursor)
            cursor += 1
        chunks = [idx[i : i + _MAX_RR_PER_PACKET] for i in range(0, len(idx), _MAX_RR_PER_PACKET)]
        if not chunks:
            chunks = [[]]
        for j, chunk in enumerate(chunks):
            rr = [float(raw[i]) * 1000.0 / _RR_UNITS_PER_S for i in chunk]
            if rr:
                hr_field = round(60000.0 / rr[-1])
            arr = max(t_arr + 0.002 * j, last_arrival + 1e-3)
            payload = gatt.encode(gatt.measurement(hr_field, rr, contact=p.contact))
            out.append(_Notification(arr, p.role, payload))
            last_arrival = arr
            if chunk:
                delivered[chunk] = True
                if need_anchor:
                    offsets.append(
                        {
                            "connected_s": sent_until,
                            "from_s": arr,
                            "offset_s": arr - float(t_beats[chunk[-1]]),
                        }
                    )
                    need_anchor = False

    while schedule_t <= dur:
        drop = next(((a, b) for a, b in dropouts if a <= schedule_t < b), None)
        if drop is not None:
            # The strap is gone: beats until it is back are lost; the timer re-anchors.
            while schedule_t < drop[1]:
                schedule_t += interval
            sent_until = drop[1]
            need_anchor = True
            continue
        latency = float(rng.uniform(lat_lo, lat_hi))
        if p_burst > 0 and rng.uniform() < p_burst:
            delay = float(rng.uniform(2.0, 4.0))
            release = schedule_t + delay
            if release < dur and not any(
                a - interval <= release and schedule_t <= b + interval for a, b in dropouts
            ):
                emit(release + latency, release)
                sent_until = release
                bursts.append({"t_s": schedule_t, "delay_s": delay})
                while schedule_t <= release:
                    schedule_t += interval
                continue
        emit(schedule_t + latency, schedule_t)
        sent_until = schedule_t
        schedule_t += interval
    return out, delivered, bursts, offsets


# -- the session ----------------------------------------------------------------------------


def simulate_session(config: SimulationConfig) -> Simulation:
    """Simulate a session (see the module docstring for the model).

    Parameters
    ----------
    config : SimulationConfig

    Returns
    -------
    Simulation
        ``ground_truth`` holds ``model_version``, ``seed``, ``duration_s``, ``config`` (the
        full configuration), ``pacer`` (segments with ``start_s``, ``end_s``, ``rate_bpm``),
        ``coupling`` (``strength``, ``lag_s``, ``leader``, ``follower``, ``windows``,
        ``sign_convention``), and per role in ``participants``: ``mean_hr_bpm`` (configured),
        ``mean_hr_bpm_actual`` (60000 / mean RR of all beats), ``n_beats``,
        ``n_beats_delivered``, ``segments`` (each with ``start_s``, ``end_s``, ``breathing``
        ``"spontaneous"`` or ``"paced"``, ``breathing_rate_bpm``, ``rsa_amplitude_ms``,
        ``rsa_peak_to_trough_ms`` and for paced ones ``steady_from_s``), ``ectopic_beats_s``,
        ``missed_beats_s``, ``dropouts``, ``late_bursts`` (``t_s`` the held notification was
        due, ``delay_s``) and ``timing_offsets``: per connected stretch, ``connected_s`` (its
        start: 0 or a drop-out's end; it holds the beats after that time), ``from_s`` (arrival
        of its first beats) and ``offset_s`` (receiver beat time minus true beat time).

    Raises
    ------
    ValueError
        An invalid configuration (the message names the field).
    """
    config.validate()
    rng = np.random.default_rng(config.seed)
    dur = config.duration_s
    fs = _FS_HZ
    margin = 5.0
    t = np.arange(-margin, dur + margin, 1.0 / fs)
    n = t.size
    roles = config.roles
    c = config.coupling
    coupled = c.strength > 0 and len(roles) == 2

    # Arousal drivers: own per person, plus a shared one for coupling (longer by the lag).
    own = {r: _band_noise(rng, n, fs, *_AROUSAL_BAND_HZ, taper_hz=_AROUSAL_TAPER_HZ) for r in roles}
    arousal: dict[str, NDArray[np.float64]] = {}
    windows = list(c.windows) if c.windows is not None else [(0.0, dur)]
    if coupled:
        lag_n = round(c.lag_s * fs)
        shared_long = _band_noise(rng, n + lag_n, fs, *_AROUSAL_BAND_HZ, taper_hz=_AROUSAL_TAPER_HZ)
        s = c.strength * _ramp_weight(t, windows, _COUPLING_RAMP_S)
        follower = "therapist" if c.leader == "client" else "client"
        for r in roles:
            # shared_long[lag_n + i] is S(t_i); the follower sees S(t_i - lag).
            shift = lag_n if r == c.leader else 0
            shared = shared_long[shift : shift + n]
            arousal[r] = np.sqrt(s) * shared + np.sqrt(1.0 - s) * own[r]
    else:
        follower = "therapist" if c.leader == "client" else "client"
        arousal = dict(own)

    beats: dict[str, PersonBeats] = {}
    notes: list[_Notification] = []
    participants: dict[str, Any] = {}
    events: list[Event] = []
    for p in config.people:
        sig = _person_signal(rng, p, t, config.pacing, p.arousal_sd_bpm * arousal[p.role])
        tb, raw = _beats_from_signal(rng, t, sig.rr_ms, dur, _BEAT_JITTER_SD_MS * p.hrv_scale)
        tb, raw, label, ectopic_t, missed_t = _insert_artifacts(rng, p, tb, raw, dur)
        pn, delivered, bursts, offsets = _packetize(rng, config, p, tb, raw)
        notes += pn
        rr_ms = raw.astype(np.float64) * 1000.0 / _RR_UNITS_PER_S
        beats[p.role] = PersonBeats(t_s=tb, rr_ms=rr_ms, label=label, delivered=delivered)
        events.append(Event(0.0, EventKind.CONNECT, p.role, {"device": "simulated strap"}))
        for a, b in p.dropouts:
            events.append(
                Event(
                    float(a), EventKind.DISCONNECT, p.role, {"reason": "simulated strap drop-out"}
                )
            )
            events.append(Event(float(b), EventKind.CONNECT, p.role, {"device": "simulated strap"}))
        participants[p.role] = {
            "mean_hr_bpm": p.mean_hr_bpm,
            "mean_hr_bpm_actual": 60000.0 / float(np.mean(rr_ms)) if rr_ms.size else None,
            "hrv_scale": p.hrv_scale,
            "resonance_bpm": p.resonance_bpm,
            "n_beats": int(tb.size),
            "n_beats_delivered": int(delivered.sum()),
            "segments": _segments(config, p, sig.spont_rate_bpm, t),
            "ectopic_beats_s": ectopic_t,
            "missed_beats_s": missed_t,
            "dropouts": [{"start_s": float(a), "end_s": float(b)} for a, b in p.dropouts],
            "late_bursts": bursts,
            "timing_offsets": offsets,
        }

    for seg in sorted(config.pacing, key=lambda s: s.start_s):
        events.append(
            Event(float(seg.start_s), EventKind.PACER, None, {"rate_bpm": float(seg.rate_bpm)})
        )
        if not any(o.start_s == seg.end_s for o in config.pacing):
            events.append(Event(float(seg.end_s), EventKind.PACER, None, {"rate_bpm": 0.0}))
    order = {r: i for i, r in enumerate(roles)}
    # On equal times: strap events (disconnects first) before session-wide ones (the pacer).
    events.sort(
        key=lambda e: (
            e.t_s,
            e.role is None,
            e.kind != EventKind.DISCONNECT,
            order.get(e.role or "", 0),
        )
    )
    notes.sort(key=lambda x: (x.t_s, order[x.role]))
    packets = tuple(Packet(x.t_s, x.role, x.payload, i) for i, x in enumerate(notes))

    ground_truth: dict[str, Any] = {
        "model_version": MODEL_VERSION,
        "seed": config.seed,
        "duration_s": float(dur),
        "roles": list(roles),
        "pacer": [
            {
                "start_s": float(s.start_s),
                "end_s": float(s.end_s),
                "rate_bpm": float(s.rate_bpm),
                "followers": list(s.followers) if s.followers is not None else list(roles),
            }
            for s in sorted(config.pacing, key=lambda s: s.start_s)
        ],
        "coupling": {
            "strength": float(c.strength) if coupled else 0.0,
            "lag_s": float(c.lag_s),
            "leader": c.leader if coupled else None,
            "follower": follower if coupled else None,
            "windows": [[float(a), float(b)] for a, b in windows] if coupled else [],
            "sign_convention": "the follower's slow heart-rate changes repeat the leader's "
            "lag_s seconds later",
        },
        "participants": participants,
        "config": config.to_dict(),
    }
    return Simulation(
        config=config,
        packets=packets,
        events=tuple(events),
        true_beats=beats,
        ground_truth=_jsonable(ground_truth),
    )


def _segments(
    cfg: SimulationConfig, p: PersonConfig, spont_rate: NDArray[np.float64], t: NDArray[np.float64]
) -> list[dict[str, Any]]:
    """Breathing segments of one person with their RSA amplitude."""
    paced = sorted(
        (s for s in cfg.pacing if s.followers is None or p.role in s.followers),
        key=lambda s: s.start_s,
    )
    out: list[dict[str, Any]] = []
    edge = 0.0

    def spontaneous(a: float, b: float) -> None:
        if b <= a:
            return
        sel = (t >= a) & (t < b)
        rate = float(np.mean(spont_rate[sel])) if sel.any() else p.breathing_rate_bpm
        amp = rsa_amplitude_ms(rate, resonance_bpm=p.resonance_bpm, hrv_scale=p.hrv_scale)
        out.append(
            {
                "start_s": float(a),
                "end_s": float(b),
                "breathing": "spontaneous",
                "breathing_rate_bpm": round(rate, 3),
                "rsa_amplitude_ms": round(amp, 3),
                "rsa_peak_to_trough_ms": round(2 * amp, 3),
            }
        )

    for s in paced:
        spontaneous(edge, s.start_s)
        amp = rsa_amplitude_ms(s.rate_bpm, resonance_bpm=p.resonance_bpm, hrv_scale=p.hrv_scale)
        out.append(
            {
                "start_s": float(s.start_s),
                "end_s": float(s.end_s),
                "breathing": "paced",
                "breathing_rate_bpm": float(s.rate_bpm),
                "rsa_amplitude_ms": round(amp, 3),
                "rsa_peak_to_trough_ms": round(2 * amp, 3),
                "steady_from_s": float(s.start_s + s.transition_s),
                "rsa_phase": "RR shortest at the end of each inhalation (pacer phase 0.5)",
            }
        )
        edge = s.end_s
    spontaneous(edge, cfg.duration_s)
    return out
