"""Respiratory sinus arrhythmia (RSA) at a known breathing pacer, and without one.

**At a pacer of ``rate_bpm`` breaths/min** (``f = rate_bpm / 60`` Hz) the RR values are fitted
at their beat times by least squares, without interpolation::

    rr(t) = c0 + a sin(theta) + b cos(theta),   theta = 2 pi f (t - t0)
          = c0 + A sin(theta + phi),            A = sqrt(a^2 + b^2),  phi = atan2(b, a)

* ``amplitude_ms`` is ``A``; the peak-to-trough RR swing is about ``2 A``.
* Phase convention: the pacer is described by its rate and a start time ``t0_s``; pacer phase
  0 is the start of inhalation at ``t0_s``, and the pacer reference waveform is
  ``sin(2 pi f (t - t0))`` (rising from 0 at ``t0``). ``phase_deg`` is ``phi`` in degrees,
  wrapped to (-180, 180]: the phase of the **RR** oscillation relative to that waveform;
  positive means the RR oscillation runs ahead of the pacer. Heart rate moves opposite to RR,
  so ``hr_phase_deg = phase_deg + 180`` (wrapped) is the heart-rate phase against the pacer;
  at the resonance frequency heart rate and breathing are close to in phase (Vaschillo et al.,
  Appl Psychophysiol Biofeedback 27:1-27, 2002, doi:10.1023/A:1014587304314), so
  ``hr_phase_deg`` near 0 when the breathing follows the pacer waveform.
* ``r_squared`` is the fraction of the RR variance the sinusoid explains.
* ``peak_to_trough_bpm`` is Lehrer's measure: within each complete pacer cycle
  ``[t0 + kT, t0 + (k+1)T)`` the maximum minus the minimum instantaneous heart rate
  ``60000 / rr``, averaged over the complete cycles in the window (Lehrer, Vaschillo &
  Vaschillo, Appl Psychophysiol Biofeedback 25:177-191, 2000, doi:10.1023/A:1009554825745).

**Without a pacer** use HF power (0.15-0.40 Hz, :mod:`hrv.spectral`) and the breathing rate
estimated from the dominant RR oscillation in 0.05-0.5 Hz (:func:`estimate_breathing_rate`),
and say which. HF power and Porges-Bohrer's 0.12-0.40 Hz band miss slow paced breathing:
below about 9 breaths/min (0.15 Hz) RSA moves into the LF band, so both read almost nothing
while RSA is at its largest; RMSSD also under-reads slow RSA. Measure at the pacer rate instead.

Short or bad windows never raise: fewer than 4 beats (or, for the breathing-rate estimate,
less than 20 s, fewer than 8 beats, or no clear oscillation) give ``nan`` fields.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .pacer_schedule import paced_stretches
from .spectral import welch_psd

__all__ = [
    "PacedRSA",
    "RSAFit",
    "SineFit",
    "breathing_rate_median",
    "dominant_slow_sine",
    "estimate_breathing_rate",
    "peak_to_trough_hr",
    "rsa_at_rate",
    "rsa_over_paced_stretches",
    "slow_oscillation_median",
]

FloatArray = NDArray[np.float64]

#: Search band for the breathing rate when the rate may be slow (a pacer is running).
BREATH_BAND_HZ = (0.05, 0.5)
#: Search band without a pacer (7.2-30 breaths/min). Below 0.12 Hz slow heart-rate waves
#: (Mayer waves near 0.1 Hz, slower arousal-related drifts) are usually stronger than
#: spontaneous RSA and would be read as breathing: on the sample session the wide band gave
#: 3-5 breaths/min for people breathing at 12 and 15/min, this one 11-14 and 15-17.
SPONTANEOUS_BREATH_BAND_HZ = (0.12, 0.5)
_MIN_BEATS = 4


@dataclass(frozen=True, slots=True)
class RSAFit:
    """RSA at a pacer rate (see the module docstring for every field's definition).

    ``rate_bpm`` is in breaths/min; ``n_cycles`` counts the complete pacer cycles used for
    ``peak_to_trough_bpm`` (beats/min). ``nan`` fields when the window is too short.
    """

    rate_bpm: float
    t0_s: float
    n_beats: int
    n_cycles: int
    mean_rr_ms: float
    amplitude_ms: float
    phase_deg: float
    hr_phase_deg: float
    r_squared: float
    peak_to_trough_bpm: float


def _inputs(t_s: ArrayLike, rr_ms: ArrayLike) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    if t.ndim != 1 or t.shape != rr.shape:
        raise ValueError(f"t_s {t.shape} and rr_ms {rr.shape} must be 1-D and the same length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(rr)) and np.all(rr > 0)):
        raise ValueError("t_s and rr_ms must be finite, rr_ms positive")
    return t, rr


def _wrap_deg(x: float) -> float:
    w = (x + 180.0) % 360.0 - 180.0
    return 180.0 if w == -180.0 else w


def _sine_fit(t: FloatArray, rr: FloatArray, f_hz: float, t0: float) -> tuple[float, ...]:
    """Least-squares ``c0, a, b`` and ``R^2`` of ``rr`` on ``1, sin, cos`` at ``f_hz``."""
    theta = 2.0 * np.pi * f_hz * (t - t0)
    x = np.column_stack([np.ones_like(t), np.sin(theta), np.cos(theta)])
    coef, *_ = np.linalg.lstsq(x, rr, rcond=None)
    resid = rr - x @ coef
    ss_tot = float(np.sum((rr - rr.mean()) ** 2))
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else math.nan
    return float(coef[0]), float(coef[1]), float(coef[2]), r2


def peak_to_trough_hr(
    t_s: ArrayLike, rr_ms: ArrayLike, rate_bpm: float, t0_s: float = 0.0
) -> tuple[float, int]:
    """Lehrer's peak-to-trough heart rate (beats/min) per complete pacer cycle.

    Parameters
    ----------
    t_s, rr_ms : array_like
        Beat times (s) and the RR intervals (ms) they end.
    rate_bpm : float
        Pacer rate in breaths/min (> 0).
    t0_s : float
        Pacer start time (s): cycles are ``[t0 + k T, t0 + (k + 1) T)``, ``T = 60 / rate_bpm``.

    Returns
    -------
    (mean_bpm, n_cycles)
        Mean over the cycles that lie entirely within ``[t_s[0], t_s[-1]]`` and hold at least
        two beats; ``(nan, 0)`` when there is none.
    """
    t, rr = _inputs(t_s, rr_ms)
    if t.size < 2 or not rate_bpm > 0:
        return math.nan, 0
    period = 60.0 / rate_bpm
    hr = 60000.0 / rr
    k_first = math.ceil((t[0] - t0_s) / period - 1e-9)
    k_last = math.floor((t[-1] - t0_s) / period + 1e-9) - 1
    swings = []
    for k in range(k_first, k_last + 1):
        start = t0_s + k * period
        m = (t >= start) & (t < start + period)
        if np.count_nonzero(m) >= 2:
            swings.append(float(hr[m].max() - hr[m].min()))
    if not swings:
        return math.nan, 0
    return float(np.mean(swings)), len(swings)


def rsa_at_rate(t_s: ArrayLike, rr_ms: ArrayLike, rate_bpm: float, t0_s: float = 0.0) -> RSAFit:
    """Fit the RR oscillation at a known pacer rate (usable on a 60 s window).

    Parameters
    ----------
    t_s : array_like
        Beat times (s) on the session clock, one per interval (the beat that ends it).
    rr_ms : array_like
        RR intervals (ms), artifacts corrected.
    rate_bpm : float
        Pacer rate in breaths/min.
    t0_s : float
        Pacer start (inhalation onset, phase 0) on the same clock.

    Returns
    -------
    RSAFit
        ``nan`` fields when fewer than 4 beats are given, the rate is not positive or the
        window is shorter than half a breath cycle.

    Raises
    ------
    ValueError
        Mismatched lengths, non-finite values or non-positive RR.
    """
    t, rr = _inputs(t_s, rr_ms)
    nan = math.nan
    n = int(t.size)
    if n < _MIN_BEATS or not rate_bpm > 0 or (t[-1] - t[0]) < 30.0 / rate_bpm:
        return RSAFit(float(rate_bpm), float(t0_s), n, 0, nan, nan, nan, nan, nan, nan)
    f = rate_bpm / 60.0
    _c0, a, b, r2 = _sine_fit(t, rr, f, t0_s)
    phase = _wrap_deg(math.degrees(math.atan2(b, a)))
    ptt, n_cycles = peak_to_trough_hr(t, rr, rate_bpm, t0_s)
    return RSAFit(
        rate_bpm=float(rate_bpm),
        t0_s=float(t0_s),
        n_beats=n,
        n_cycles=n_cycles,
        mean_rr_ms=float(rr.mean()),
        amplitude_ms=math.hypot(a, b),
        phase_deg=phase,
        hr_phase_deg=_wrap_deg(phase + 180.0),
        r_squared=r2,
        peak_to_trough_bpm=ptt,
    )


def estimate_breathing_rate(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    *,
    band_hz: tuple[float, float] = BREATH_BAND_HZ,
    min_peak_fraction: float = 0.3,
) -> float:
    """Breathing rate (breaths/min) from the dominant RR oscillation in 0.05-0.5 Hz.

    The RR series is cubic-spline resampled at 4 Hz (:func:`hrv.spectral.welch_psd`) and its
    Welch spectrum taken with 64 s Hann segments (one segment for shorter windows) on a
    1/300 Hz grid; the highest peak in the band is refined by a parabola through its
    neighbours. The estimate is the RSA frequency, which follows breathing when RSA is visible
    (spontaneous or paced).

    Parameters
    ----------
    t_s, rr_ms : array_like
        Beat times (s) and RR intervals (ms).
    band_hz : (float, float)
        Search band (Hz).
    min_peak_fraction : float
        The peak (+-0.015 Hz around it) must hold at least this fraction of the power in the
        band; otherwise there is no clear oscillation.

    Returns
    -------
    float
        Breaths/min, or ``nan`` when not estimable: fewer than 8 beats, under 20 s, the peak
        lies on a band edge, or no clear peak.
    """
    t, rr = _inputs(t_s, rr_ms)
    if t.size < 8 or t[-1] - t[0] < 20.0:
        return math.nan
    spec = welch_psd(t, rr, segment_s=64.0)
    if spec.n_segments == 0:
        return math.nan
    f, p = spec.freqs_hz, spec.psd_ms2_hz
    lo, hi = band_hz
    band = (f >= lo) & (f <= hi)
    idx = np.flatnonzero(band)
    i = int(idx[np.argmax(p[idx])])
    if i in (idx[0], idx[-1]):
        return math.nan
    near = band & (np.abs(f - f[i]) <= 0.015)
    if np.trapezoid(p[near], f[near]) < min_peak_fraction * np.trapezoid(p[band], f[band]):
        return math.nan
    denom = p[i - 1] - 2.0 * p[i] + p[i + 1]
    shift = 0.5 * (p[i - 1] - p[i + 1]) / denom if denom != 0 else 0.0
    df = f[1] - f[0]
    return 60.0 * float(f[i] + float(np.clip(shift, -0.5, 0.5)) * df)


def breathing_rate_median(
    t_s: FloatArray,
    rr_ms: FloatArray,
    window_s: float = 60.0,
    band_hz: tuple[float, float] = SPONTANEOUS_BREATH_BAND_HZ,
) -> float:
    """Median of the breathing-rate estimates of consecutive ``window_s`` windows (breaths/min).

    A whole record holds no single breathing rate; the median of the windows that show a clear
    RR oscillation (:func:`estimate_breathing_rate`, windows with at least 10 beats) is a robust
    summary. Without a pacer the search band starts at 7.2 breaths/min
    (:data:`SPONTANEOUS_BREATH_BAND_HZ`); over paced stretches use :data:`BREATH_BAND_HZ`.

    Returns
    -------
    float
        Breaths/min; ``nan`` when no window shows a clear oscillation or the record is shorter
        than one window.
    """
    if t_s.size < 2:
        return math.nan
    rates = []
    start = float(t_s[0])
    while start + window_s <= float(t_s[-1]) + 1e-9:
        w = (t_s > start) & (t_s <= start + window_s)
        if np.count_nonzero(w) >= 10:
            rates.append(estimate_breathing_rate(t_s[w], rr_ms[w], band_hz=band_hz))
        start += window_s
    good = [r for r in rates if math.isfinite(r)]
    return float(np.median(good)) if good else math.nan


@dataclass(frozen=True, slots=True)
class PacedRSA:
    """RSA over the stretches of a session paced at its main rate.

    Attributes
    ----------
    rate_bpm : float
        The pacer rate used longest (breaths/min).
    t0_s : float
        Start (s) of the first stretch at that rate: pacer phase 0 for the fit.
    stretches : tuple of (start_s, end_s)
        The stretches at that rate.
    settle_s : float
        Seconds left out at the start of each stretch while breathing settles.
    fit : RSAFit
        :func:`rsa_at_rate` on the beats of those stretches (after ``settle_s``).
    breathing_rate_bpm : float
        :func:`breathing_rate_median` on the same beats, searched from 3 breaths/min
        (:data:`BREATH_BAND_HZ`).
    """

    rate_bpm: float
    t0_s: float
    stretches: tuple[tuple[float, float], ...]
    settle_s: float
    fit: RSAFit
    breathing_rate_bpm: float


def rsa_over_paced_stretches(
    t_s: FloatArray,
    rr_ms: FloatArray,
    schedule: Sequence[tuple[float, float]],
    settle_s: float = 15.0,
) -> PacedRSA | None:
    """RSA at the pacer over the stretches paced at the rate used longest.

    Parameters
    ----------
    t_s, rr_ms : ndarray
        Beat times (s, session clock) and RR intervals (ms), artifacts corrected.
    schedule : sequence of (t_s, rate_bpm)
        Pacer changes in time order (breaths/min, 0 = off; :mod:`hrv.pacer_schedule`).
    settle_s : float
        Seconds left out at the start of each stretch while breathing settles.

    Returns
    -------
    PacedRSA or None
        ``None`` without a paced stretch or with fewer than 4 beats in the stretches.
    """
    if t_s.size < 1:
        return None
    stretches = paced_stretches(schedule, float(t_s[-1]))
    if not stretches:
        return None
    by_rate: dict[float, float] = {}
    for a, b, rate in stretches:
        by_rate[rate] = by_rate.get(rate, 0.0) + (b - a)
    rate = max(by_rate, key=lambda r: by_rate[r])
    mask = np.zeros(t_s.size, dtype=bool)
    used = []
    for a, b, r in stretches:
        if r == rate:
            mask |= (t_s > a + settle_s) & (t_s <= b)
            used.append((a, b))
    if np.count_nonzero(mask) < _MIN_BEATS:
        return None
    t0 = used[0][0]
    return PacedRSA(
        rate_bpm=rate,
        t0_s=t0,
        stretches=tuple(used),
        settle_s=settle_s,
        fit=rsa_at_rate(t_s[mask], rr_ms[mask], rate, t0),
        breathing_rate_bpm=breathing_rate_median(t_s[mask], rr_ms[mask], band_hz=BREATH_BAND_HZ),
    )


#: Rates scanned for a slow oscillation (breaths/min): 3/min up to the 0.15 Hz edge of LF.
SLOW_BAND_BPM = (3.0, 9.0)
#: A slow sine counts as strong (dominating a 60 s window) from this amplitude (ms) and ``R^2``
#: on: a person following a 6/min rhythm gave 80-120 ms and 0.7-0.9 (simulated), spontaneous
#: breathing at 12-15/min gave slow fits (VLF, Mayer waves) of ``R^2`` 0.1-0.5, mostly at the
#: lowest rates scanned.
SLOW_MIN_AMPLITUDE_MS = 20.0
SLOW_MIN_R2 = 0.4


@dataclass(frozen=True, slots=True)
class SineFit:
    """The best-fitting sine of an RR window: rate (breaths/min), amplitude (ms), ``R^2``."""

    rate_bpm: float
    amplitude_ms: float
    r_squared: float

    def strong(self, min_amplitude_ms: float, min_r2: float) -> bool:
        """Amplitude and explained variance both at least the given thresholds."""
        return bool(self.amplitude_ms >= min_amplitude_ms and self.r_squared >= min_r2)


def dominant_slow_sine(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    band_bpm: tuple[float, float] = SLOW_BAND_BPM,
    step_bpm: float = 0.1,
) -> SineFit:
    """The sine ``c0 + a sin + b cos`` at the rate in ``band_bpm`` that explains most RR variance.

    The fit of :func:`rsa_at_rate` is repeated at every rate from ``band_bpm[0]`` to
    ``band_bpm[1]`` in ``step_bpm`` steps (all at once, by the normal equations) and the rate
    with the largest ``R^2`` is kept. On a 60 s window a person following a 6/min pacer gives
    ``R^2`` near 0.8 and 40-100 ms; spontaneous breathing with ~0.1 Hz Mayer waves gave a median
    ``R^2`` of 0.15-0.30 (simulated sessions and NSRDB records), because those waves wander in
    rate and amplitude.

    Parameters
    ----------
    t_s, rr_ms : array_like
        Beat times (s) and RR intervals (ms) of one window, artifacts left out.
    band_bpm : (float, float)
        Rates scanned (per minute).
    step_bpm : float
        Scan step (per minute).

    Returns
    -------
    SineFit
        ``nan`` fields with fewer than 8 beats, a window shorter than one cycle of the fastest
        rate scanned, or a flat window.
    """
    t, rr = _inputs(t_s, rr_ms)
    nan = SineFit(math.nan, math.nan, math.nan)
    rates = np.round(np.arange(band_bpm[0], band_bpm[1] + step_bpm / 2, step_bpm), 9)
    if t.size < 8 or rates.size == 0 or (t[-1] - t[0]) < 60.0 / band_bpm[1]:
        return nan
    y = rr - rr.mean()
    ss_tot = float(y @ y)
    if not ss_tot > 0:
        return nan
    theta = 2.0 * np.pi * (rates[:, None] / 60.0) * (t[None, :] - t[0])
    x = np.stack([np.ones_like(theta), np.sin(theta), np.cos(theta)], axis=1)  # (F, 3, n)
    xtx = x @ np.swapaxes(x, 1, 2)
    xty = x @ y
    with np.errstate(all="ignore"):
        try:
            beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return nan
    r2 = np.einsum("fi,fi->f", beta, xty) / ss_tot
    r2 = np.where(np.isfinite(r2), r2, -np.inf)
    i = int(np.argmax(r2))
    if not math.isfinite(r2[i]):
        return nan
    return SineFit(float(rates[i]), math.hypot(beta[i, 1], beta[i, 2]), float(r2[i]))


def slow_oscillation_median(
    t_s: FloatArray,
    rr_ms: FloatArray,
    window_s: float = 60.0,
    band_bpm: tuple[float, float] = (3.0, 60.0 * SPONTANEOUS_BREATH_BAND_HZ[0]),
    min_amplitude_ms: float = SLOW_MIN_AMPLITUDE_MS,
    min_r2: float = SLOW_MIN_R2,
) -> float:
    """Rate (per minute) of a slow RR oscillation that dominates most of a record, else ``nan``.

    Below 7.2/min the breathing-rate search without a pacer (:data:`SPONTANEOUS_BREATH_BAND_HZ`)
    sees nothing, although a person may breathe that slowly on their own. Each consecutive
    ``window_s`` window gets :func:`dominant_slow_sine` over ``band_bpm``; a window counts when
    that sine is strong and its rate is not on a band edge (the true peak may lie outside).
    When at least half of the windows count, their median rate is returned. Between 3 and
    about 7 per minute breathing-driven RSA and slow heart-rate waves (the baroreflex's ~0.1 Hz
    rhythm) look alike in RR data alone, so callers must say that this may or may not be the
    breathing rate (design.md section 5).

    Returns
    -------
    float
        Per minute; ``nan`` when fewer than half of the windows (or none: record shorter than
        one window) show such an oscillation.
    """
    if t_s.size < 2:
        return math.nan
    rates, n = [], 0
    step = 0.1
    start = float(t_s[0])
    while start + window_s <= float(t_s[-1]) + 1e-9:
        w = (t_s > start) & (t_s <= start + window_s)
        n += 1
        fit = dominant_slow_sine(t_s[w], rr_ms[w], band_bpm, step)
        inside = band_bpm[0] + 1.5 * step < fit.rate_bpm < band_bpm[1] - 1.5 * step
        if fit.strong(min_amplitude_ms, min_r2) and inside:
            rates.append(fit.rate_bpm)
        start += window_s
    if n == 0 or len(rates) < 0.5 * n:
        return math.nan
    return float(np.median(rates))
