"""The physiological model: a continuous heart period per person, and beats drawn from it.

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
  **A sharp baroreflex resonance** (``baroreflex_share`` ``k`` > 0, used for the simulated
  resonance-frequency assessment): the paced RSA is ``|H(f)|`` with phase ``arg H(f)``, where
  ``H(f) = A_res [(1 - k) B(f) + k / (1 + i (f - f_res) / w)]``, ``B`` the broad curve above
  (in phase) and ``w`` = ``baroreflex_width_bpm`` / 60 Hz. The second term is a resonant loop:
  largest at ``f_res``, with heart rate in phase with lung volume there and drifting behind it
  above the resonance (ahead below), as Vaschillo et al. 2002 describe for the baroreflex
  (doi:10.1023/A:1014587304314). With ``k = 0.6`` and ``w = 0.8``/min a step 0.5/min from the
  resonance shows about 13 % less RSA and a phase about 20 degrees off; 2/min away, half the
  RSA. ``k = 0`` (the default) is the broad curve alone, in phase at every rate.
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

"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback import gatt
from biofeedback.simulate.settings import (
    ActivationEpisode,
    PacedSegment,
    PersonConfig,
    SimulationConfig,
)
from hrv.episodes import EpisodeParams

__all__ = [
    "BEAT_JITTER_SD_MS",
    "FS_HZ",
    "SETTLED_WITHIN_BPM",
    "PersonSignal",
    "arousal_drivers",
    "band_noise",
    "beats_from_signal",
    "episode_bpm",
    "episode_truth",
    "insert_artifacts",
    "person_signal",
    "ramp_weight",
    "rsa_amplitude_ms",
    "rsa_response",
]

FS_HZ = 20.0  # grid for the continuous modulations
RR_UNITS_PER_S = gatt.RR_UNITS_PER_S
_RES_HALF_WIDTH_HZ = 0.0387  # A(0.25 Hz) = A_res / 4 for a resonance at 0.1 Hz
_A_RES_MS = 100.0
_MAYER_MS = 15.0
_VLF_SD_MS = 20.0
BEAT_JITTER_SD_MS = 6.0
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


#: The ground truth's settle time: when an episode's added heart rate has decayed to this.
SETTLED_WITHIN_BPM = 5.0


def _rises(ep: ActivationEpisode, roles: Sequence[str]) -> list[tuple[str, float, float]]:
    """(person, start_s, rise_bpm) of an episode's rises: its person's, and the other's."""
    out = [(ep.person, float(ep.start_s), float(ep.rise_bpm))]
    if ep.other == "rose":
        other = next(r for r in roles if r != ep.person)
        amount = ep.other_rise_bpm if ep.other_rise_bpm is not None else ep.rise_bpm
        out.append((other, float(ep.start_s + ep.other_delay_s), float(amount)))
    return out


def episode_bpm(
    t: NDArray[np.float64], episodes: Sequence[ActivationEpisode], role: str, roles: Sequence[str]
) -> NDArray[np.float64]:
    """Heart rate added by activation episodes to ``role`` on the grid ``t``, beats/min.

    Each rise climbs as a raised cosine over ``rise_s`` to its height ``h`` and then decays as
    ``h * exp(-(t - peak) / settle_tau_s)`` (a first-order return, the usual description of
    heart-rate recovery, e.g. Imai et al. 1994, doi:10.1016/0735-1097(94)90305-0).
    """
    out = np.zeros_like(t)
    for ep in episodes:
        for person, start, height in _rises(ep, roles):
            if person != role:
                continue
            peak = start + ep.rise_s
            up = (t >= start) & (t < peak)
            out[up] += height * 0.5 * (1.0 - np.cos(np.pi * (t[up] - start) / ep.rise_s))
            down = t >= peak
            out[down] += height * np.exp(-(t[down] - peak) / ep.settle_tau_s)
    return out


def episode_truth(
    episodes: Sequence[ActivationEpisode],
    roles: Sequence[str],
    t: NDArray[np.float64],
    slow_hr_bpm: Mapping[str, NDArray[np.float64]],
) -> list[dict[str, object]]:
    """Ground truth of every rise (the other's too when it rose), in start order.

    ``start_s``, ``rise_bpm``, ``rise_s`` and ``settle_tau_s`` are as configured. ``peak_s``,
    ``end_s`` and ``settle_s`` apply the episode definition of :mod:`hrv.episodes` (default
    :class:`~hrv.episodes.EpisodeParams`) to the person's *slow* heart rate (the model's heart
    rate before breathing, Mayer waves and beat jitter are added: ``slow_hr_bpm`` on the grid
    ``t``), at 1 s steps with the detector's moving average: the reference is the median and
    1.4826 MAD of the 300 s before the start (other rises of this person left out); ``peak_s``
    is the highest point from the start to the end; ``end_s`` the first second after the peak
    back inside the reference band with the heart rate then staying below the midway level for
    ``stay_s`` (``None`` when not in the record); ``settle_s = end_s - peak_s``. The truth thus
    includes the person's own slow fluctuations, as a measured heart rate does.
    ``decay_settle_s`` is the rise alone's decay to :data:`SETTLED_WITHIN_BPM` (``settle_tau_s *
    ln(rise_bpm / 5)``). ``other`` is ``"steady"``, ``"rose"`` or ``None`` (one person).
    """
    params = EpisodeParams()
    rises = [(ep, *r) for ep in episodes for r in _rises(ep, roles)]
    out: list[dict[str, object]] = []
    sec = np.arange(0.0, math.floor(float(t[-1])) + 1.0)
    # The detector's smoothing (centred moving average over smooth_s seconds) on the 1 s grid.
    kernel = np.ones(params.smooth_s) / params.smooth_s
    slow = {
        r: np.convolve(np.interp(sec, t, v), kernel, mode="same") for r, v in slow_hr_bpm.items()
    }
    for ep, person, start, height in rises:
        s = slow[person]
        busy = np.zeros(sec.size, dtype=bool)
        for ep2, person2, start2, _ in rises:
            if person2 == person:
                busy |= (sec >= start2) & (sec <= start2 + ep2.rise_s + 5.0 * ep2.settle_tau_s)
        look = (sec >= start - params.ref_window_s) & (sec < start) & ~busy
        ref = s[look] if look.any() else s[sec < start]
        med = float(np.median(ref))
        sigma = 1.4826 * float(np.median(np.abs(ref - med)))
        band = med + max(params.band_bpm, params.band_sd * sigma)
        onset = med + max(params.onset_bpm, params.onset_sd * sigma)
        stay_level = 0.5 * (band + onset)
        k0 = math.ceil(start)
        top = math.ceil(start + ep.rise_s)
        end: int | None = None
        k = top
        while k < sec.size:
            if s[k] <= band:
                stay = s[k : k + params.stay_s + 1]
                if stay.size > params.stay_s and np.all(stay <= stay_level):
                    end = k
                    break
            k += 1
        last = end if end is not None else sec.size - 1
        peak = k0 + int(np.argmax(s[k0 : last + 1]))
        out.append(
            {
                "person": person,
                "start_s": start,
                "peak_s": float(peak),
                "end_s": float(end) if end is not None else None,
                "rise_bpm": height,
                "rise_s": float(ep.rise_s),
                "settle_tau_s": float(ep.settle_tau_s),
                "settle_s": float(end - peak) if end is not None else None,
                "decay_settle_s": ep.settle_tau_s * math.log(max(height / SETTLED_WITHIN_BPM, 1.0)),
                "reference_bpm": med,
                "other": ep.other if len(roles) == 2 else None,
            }
        )
    return sorted(out, key=lambda d: (float(d["start_s"]), str(d["person"])))  # type: ignore[arg-type]


def rsa_response(breathing_rate_bpm: float, p: PersonConfig) -> complex:
    """Paced RSA of person ``p`` at a breathing rate: amplitude (ms) and phase as one number.

    ``H(f)`` of the module docstring: ``abs`` is the RSA amplitude (half of peak-to-trough RR,
    ms), ``angle`` the phase of the heart-rate wave against lung volume (radians; negative:
    heart rate peaks after the lungs are fullest). With ``baroreflex_share`` 0 it is the real
    number :func:`rsa_amplitude_ms`. Rates of 0 or below give 0.
    """
    broad = rsa_amplitude_ms(
        breathing_rate_bpm, resonance_bpm=p.resonance_bpm, hrv_scale=p.hrv_scale
    )
    k = p.baroreflex_share
    if k <= 0 or not breathing_rate_bpm > 0:
        return complex(broad)
    x = (breathing_rate_bpm - p.resonance_bpm) / p.baroreflex_width_bpm
    return (1.0 - k) * broad + k * _A_RES_MS * p.hrv_scale / (1.0 + 1j * x)


def arousal_drivers(
    rng: np.random.Generator, config: SimulationConfig, t: NDArray[np.float64]
) -> tuple[dict[str, NDArray[np.float64]], str, list[tuple[float, float]]]:
    """Unit-variance arousal drivers per role on the grid ``t``, with the coupling mixed in.

    Returns the drivers, the follower's role and the coupling windows (the whole session when
    none are configured). Each person has an own driver; with coupling a shared one (longer by
    the lag) is mixed in as ``sqrt(s) S(t - lag) + sqrt(1 - s) own(t)``.
    """
    fs = FS_HZ
    n = t.size
    roles = config.roles
    c = config.coupling
    dur = config.duration_s
    coupled = c.strength > 0 and len(roles) == 2
    # Arousal drivers: own per person, plus a shared one for coupling (longer by the lag).
    own = {r: band_noise(rng, n, fs, *_AROUSAL_BAND_HZ, taper_hz=_AROUSAL_TAPER_HZ) for r in roles}
    arousal: dict[str, NDArray[np.float64]] = {}
    windows = list(c.windows) if c.windows is not None else [(0.0, dur)]
    if coupled:
        lag_n = round(c.lag_s * fs)
        shared_long = band_noise(rng, n + lag_n, fs, *_AROUSAL_BAND_HZ, taper_hz=_AROUSAL_TAPER_HZ)
        s = c.strength * ramp_weight(t, windows, _COUPLING_RAMP_S)
        follower = "therapist" if c.leader == "client" else "client"
        for r in roles:
            # shared_long[lag_n + i] is S(t_i); the follower sees S(t_i - lag).
            shift = lag_n if r == c.leader else 0
            shared = shared_long[shift : shift + n]
            arousal[r] = np.sqrt(s) * shared + np.sqrt(1.0 - s) * own[r]
    else:
        follower = "therapist" if c.leader == "client" else "client"
        arousal = dict(own)
    return arousal, follower, windows


def band_noise(
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


def ramp_weight(
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
class PersonSignal:
    rr_ms: NDArray[np.float64]  # R(t) on the grid
    spont_rate_bpm: NDArray[np.float64]
    slow_hr_bpm: NDArray[np.float64]  # heart rate without breathing, Mayer waves and jitter


def person_signal(
    rng: np.random.Generator,
    p: PersonConfig,
    t: NDArray[np.float64],
    pacing: Sequence[PacedSegment],
    arousal_bpm: NDArray[np.float64],
) -> PersonSignal:
    n = t.size
    fs = FS_HZ
    dt = 1.0 / fs
    # Spontaneous breathing: slowly wandering rate, phase integrated from it.
    wander = band_noise(rng, n, fs, 0.002, 0.02, taper_hz=0.01)
    spont_rate = np.clip(p.breathing_rate_bpm + p.breathing_wander_bpm * wander, 6.0, 30.0)
    phase_sp = rng.uniform(0, 1) + np.cumsum(spont_rate / 60.0) * dt
    depth = 1.0 + 0.1 * band_noise(rng, n, fs, 0.01, 0.1, taper_hz=0.02)
    amp_sp = np.array([abs(rsa_response(r, p)) for r in spont_rate[:: int(fs)]])
    amp_sp = np.interp(t, t[:: int(fs)], amp_sp)
    rsa = amp_sp * depth * np.cos(2 * np.pi * phase_sp)
    entrained = np.zeros(n)
    for seg in pacing:
        if seg.followers is not None and p.role not in seg.followers:
            continue
        w = ramp_weight(t, [(seg.start_s, seg.end_s)], seg.transition_s)
        h = rsa_response(seg.rate_bpm, p)
        theta = 2 * np.pi * seg.rate_bpm / 60.0 * (t - seg.start_s)
        # RR longest at in-breath onset, shortest at the volume peak (phase 0.5), shifted by
        # the response's phase (0 for the broad curve alone).
        paced = abs(h) * np.cos(theta + np.angle(h)) if h.imag else h.real * np.cos(theta)
        rsa = (1.0 - w) * rsa + w * paced
        ent = float(np.clip((_ENTRAIN_BELOW_BPM + 3.0 - seg.rate_bpm) / 3.0, 0.0, 1.0))
        entrained = np.maximum(entrained, w * ent)
    # Mayer waves: ~0.1 Hz with wandering frequency and amplitude.
    f_mayer = 0.1 + 0.005 * band_noise(rng, n, fs, 0.002, 0.02, taper_hz=0.01)
    phase_m = rng.uniform(0, 1) + np.cumsum(f_mayer) * dt
    amp_m = (
        _MAYER_MS
        * p.hrv_scale
        * np.clip(1.0 + 0.3 * band_noise(rng, n, fs, 0.003, 0.02, taper_hz=0.01), 0.2, None)
    )
    mayer = (1.0 - entrained) * amp_m * np.sin(2 * np.pi * phase_m)
    vlf = _VLF_SD_MS * p.hrv_scale * band_noise(rng, n, fs, 0.003, 0.04, taper_hz=0.01, pink=True)
    hr = np.maximum(p.mean_hr_bpm + arousal_bpm, 25.0)
    rr = 60000.0 / hr + rsa + mayer + vlf
    return PersonSignal(
        rr_ms=rr, spont_rate_bpm=spont_rate, slow_hr_bpm=60000.0 / (60000.0 / hr + vlf)
    )


def beats_from_signal(
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
        t_prev = t0 + acc / RR_UNITS_PER_S
        if t_prev >= duration_s:
            break
        rr = float(np.interp(t_prev, t_grid, rr_grid)) + float(jitter[k % n_max])
        raw = round(min(max(rr, 250.0), 2500.0) * RR_UNITS_PER_S / 1000.0)
        acc += raw
        raw_list.append(raw)
        k += 1
    raw_arr = np.asarray(raw_list, dtype=np.int64)
    t_beats = t0 + np.cumsum(raw_arr) / RR_UNITS_PER_S
    keep = (t_beats > 0) & (t_beats <= duration_s)
    return t_beats[keep], raw_arr[keep]


def _in_windows(x: float, windows: Sequence[tuple[float, float]], margin: float) -> bool:
    return any(a - margin <= x <= b + margin for a, b in windows)


def insert_artifacts(
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
        t[k] = t[k - 1] + pre / RR_UNITS_PER_S
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
