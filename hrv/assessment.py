"""The resonance-frequency assessment: what the heart did at each paced breathing rate, and
which rate it followed most strongly.

Protocol (Lehrer, Vaschillo & Vaschillo, Appl Psychophysiol Biofeedback 25:177-191, 2000,
doi:10.1023/A:1009554825745): about 2 minutes each at 6.5, 6.0, 5.5, 5.0 and 4.5 breaths/min
with a pacer. Shaffer & Meehan (Front Neurosci 14:570400, 2020, doi:10.3389/fnins.2020.570400)
list the criteria practitioners read from such a run; this module measures four of them per
step and lets three of them vote (phase is shown only; see below).

Per step (``AssessmentStep``), over the step minus its first ``settle_s`` seconds (breathing
takes a few breaths to settle on a new rate; the same 15 s the ``analyze`` RSA leaves out):

``rsa_amplitude_ms``
    ``A`` of the least-squares fit ``rr = c0 + A sin(2 pi f (t - t0) + phi)`` at the step rate
    ``f`` (:func:`hrv.rsa.rsa_at_rate`); the RR peak-to-trough swing is about ``2 A``.
``peak_to_trough_bpm``
    Lehrer's measure: maximum minus minimum instantaneous heart rate within each complete pacer
    cycle, averaged over the cycles (:func:`hrv.rsa.peak_to_trough_hr`).
``lf_peak_ms2``
    Power at the step rate: the Lomb-Scargle spectrum of the step's RR at the beat times
    (:func:`hrv.spectral.lomb_psd`, ms^2/Hz) integrated over ``f +- 0.015 Hz``. The 0.030 Hz
    window is the one McCraty & Zayas (Front Psychol 5:1090, 2014,
    doi:10.3389/fpsyg.2014.01090) use for the coherence peak; it holds the main lobe of a
    2-minute record's spectral peak (``+- 1/T``, 0.009 Hz). A sinusoid of amplitude ``A`` gives
    about ``A^2 / 2`` (Parseval), so this is the LF peak of Lehrer's protocol measured where the
    pacer puts it. Spectra need no evenly spaced samples this way (no interpolation).
``phase_deg``
    Where the heart-rate peak falls in the pacer's breath: the phase of the pacer's lung-volume
    peak (the end of the in-breath, or the middle of a hold after it) minus the phase of the
    fitted heart-rate peak, in degrees, wrapped to (-180, 180]. 0 means heart rate peaks as the
    lungs are fullest (heart rate in phase with lung volume, which Vaschillo et al. 2002,
    doi:10.1023/A:1014587304314, describe at the resonance frequency); positive means the
    heart-rate peak comes earlier (heart rate leads the breath), negative later. For the fit
    each RR interval is placed at its midpoint ``t - rr / 2`` (the heart period over that
    interval): placing it at the beat that ends it would add half a beat of delay, about 15
    degrees at 5.5 breaths/min. This is the phase against the *pacer*: a person who breathes a
    little behind the pacer shifts it too.
``followed``
    How clearly the pacer shows in the heart rhythm, 0-1: the share of the RR power in
    0.04-0.40 Hz (the band breathing moves heart rate in, LF plus HF) that lies within
    ``+- 0.015 Hz`` of the pacer rate, from the same Lomb-Scargle spectrum. Following a slow
    pacer moves respiratory sinus arrhythmia to the pacer frequency, where it dominates that
    band; breathing at one's own rate leaves the peak elsewhere. Slow drifts below 0.04 Hz are
    left out because they do not come from breathing. The share also falls when the heart's
    response at that rate is small next to other variability, so it reads "the pacer is
    visible in the heart rhythm", not "the person breathed exactly on time". Steps under
    :data:`FOLLOWED_MIN` (half of that band's power) take no part in the suggestion.

The suggestion
--------------
Three criteria each name their best step among the followed steps: the largest RSA amplitude,
the largest peak-to-trough heart rate and the largest LF peak power. The step named by most
criteria is suggested; a tie goes to the larger RSA amplitude (the sine fit uses every beat, so
it is the least noisy of the three). The reason says which criteria agreed, what the others
named, and how close the runner-up (the next step by the same ordering) came on RSA amplitude.
With fewer than two followed steps there is no comparison and no suggestion.

**Phase is shown, not counted.** Lehrer's protocol reads phase between heart rate and a
measured breathing signal. Here the only breathing reference is the on-screen pacer, and the
beat times carry delays that do not depend on the person's resonance: a strap's beats are timed
on arrival (up to about a second late, :mod:`biofeedback.beats`), and people breathe a little
behind a pacer. One second is 27-39 degrees at 4.5-6.5 breaths/min, more than the phase moves
from one step to the next near the resonance, so "closest to 0 degrees" would point at the
wrong step. The reason names the step with the phase closest to 0 for the practitioner to weigh.

Short or bad steps never raise: under :data:`MIN_STEP_BEATS` beats or under half a breath
cycle after the settling time give ``nan`` fields and ``followed`` ``nan``; such steps are
left out of the suggestion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .rsa import peak_to_trough_hr, rsa_at_rate
from .spectral import band_power, lomb_psd

__all__ = [
    "CRITERIA",
    "FOLLOWED_MIN",
    "AssessmentResult",
    "AssessmentStep",
    "StepResult",
    "assess",
    "measure_step",
    "suggest_rate",
]

FloatArray = NDArray[np.float64]

#: Steps whose ``followed`` share is below this take no part in the suggestion.
FOLLOWED_MIN = 0.5
#: Half-width (Hz) of the window around the pacer rate for ``lf_peak_ms2`` and ``followed``.
PEAK_HALF_WIDTH_HZ = 0.015
#: The band breathing moves heart rate in (LF + HF, Task Force 1996), Hz.
BREATHING_BAND_HZ = (0.04, 0.40)
#: Default settling time at the start of each step, s.
SETTLE_S = 15.0
#: Fewest beats a step needs (after settling) to be measured.
MIN_STEP_BEATS = 20

#: The voting criteria, in the order they are reported: key, words for the reason.
CRITERIA: tuple[tuple[str, str], ...] = (
    ("rsa_amplitude_ms", "largest RSA amplitude"),
    ("peak_to_trough_bpm", "largest peak-to-trough heart rate"),
    ("lf_peak_ms2", "largest LF peak power"),
)


@dataclass(frozen=True, slots=True)
class AssessmentStep:
    """One paced step of the assessment (input).

    Attributes
    ----------
    rate_bpm : float
        Pacer rate, breaths/min.
    start_s, end_s : float
        The step on the session clock, s.
    pacer_t0_s : float
        A time (s) at which the pacer's breath cycle starts (in-breath onset, pacer phase 0);
        cycles repeat every ``60 / rate_bpm`` s from it.
    peak_volume_fraction : float
        Where in the cycle (0-1) the pacer's lung volume peaks: the end of the in-breath (0.5
        for equal in- and out-breaths without holds, 0.4 for 4:6), or the middle of a hold
        after the in-breath (:attr:`hrv.pacer.PacerSettings.boundaries` ``(c1 + c2) / 2``).
    """

    rate_bpm: float
    start_s: float
    end_s: float
    pacer_t0_s: float
    peak_volume_fraction: float = 0.5


@dataclass(frozen=True, slots=True)
class StepResult:
    """What the heart did in one step (see the module docstring for each field)."""

    rate_bpm: float
    start_s: float
    end_s: float
    n_beats: int
    rsa_amplitude_ms: float
    peak_to_trough_bpm: float
    lf_peak_ms2: float
    phase_deg: float
    followed: float


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    """Per-step results and the suggested rate.

    Attributes
    ----------
    steps : tuple of StepResult
    suggested_bpm : float
        Breaths/min; ``nan`` when there is no suggestion.
    runner_up_bpm : float
        The next step by the same ordering; ``nan`` when there is none.
    criteria : dict
        Criterion key -> the rate (breaths/min) it named; ``phase_deg`` (not voting) names the
        step with the phase closest to 0.
    reason : str
        The reasoning in plain words.
    """

    steps: tuple[StepResult, ...]
    suggested_bpm: float
    runner_up_bpm: float
    criteria: dict[str, float]
    reason: str


def _wrap_deg(x: float) -> float:
    w = (x + 180.0) % 360.0 - 180.0
    return 180.0 if w == -180.0 else w


def measure_step(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    step: AssessmentStep,
    *,
    settle_s: float = SETTLE_S,
) -> StepResult:
    """Measure one step (module docstring).

    Parameters
    ----------
    t_s, rr_ms : array_like
        The person's beat times (s, the beat ending each interval) and RR intervals (ms),
        artifacts corrected; any span (the step is cut out of them).
    step : AssessmentStep
    settle_s : float
        Seconds left out at the start of the step.

    Returns
    -------
    StepResult
        ``nan`` measures when the step holds too few beats (module docstring).

    Raises
    ------
    ValueError
        Mismatched lengths, non-finite values or non-positive RR.
    """
    t = np.asarray(t_s, dtype=np.float64)
    rr = np.asarray(rr_ms, dtype=np.float64)
    if t.ndim != 1 or t.shape != rr.shape:
        raise ValueError(f"t_s {t.shape} and rr_ms {rr.shape} must be 1-D and the same length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(rr)) and np.all(rr > 0)):
        raise ValueError("t_s and rr_ms must be finite, rr_ms positive")
    nan = math.nan
    lo = step.start_s + min(settle_s, 0.25 * (step.end_s - step.start_s))
    sel = (t > lo) & (t <= step.end_s)
    ts, rs = t[sel], rr[sel]
    n = int(ts.size)
    too_short = (
        n < MIN_STEP_BEATS or not step.rate_bpm > 0 or float(ts[-1] - ts[0]) < 30.0 / step.rate_bpm
    )
    if too_short:
        return StepResult(step.rate_bpm, step.start_s, step.end_s, n, nan, nan, nan, nan, nan)
    # Amplitude and phase: RR placed at the interval midpoints (module docstring).
    fit = rsa_at_rate(ts - rs / 2000.0, rs, step.rate_bpm, step.pacer_t0_s)
    # The fitted heart-rate wave is sin(theta + hr_phase): it peaks at theta = 90 - hr_phase;
    # lung volume peaks at theta = 360 * peak_volume_fraction.
    hr_peak_deg = 90.0 - fit.hr_phase_deg
    phase = _wrap_deg(360.0 * step.peak_volume_fraction - hr_peak_deg)
    ptt, _cycles = peak_to_trough_hr(ts, rs, step.rate_bpm, step.pacer_t0_s)
    f_hz = step.rate_bpm / 60.0
    spec = lomb_psd(ts, rs, f_max_hz=BREATHING_BAND_HZ[1] + 0.05)
    peak = band_power(spec, f_hz - PEAK_HALF_WIDTH_HZ, f_hz + PEAK_HALF_WIDTH_HZ)
    band = band_power(spec, *BREATHING_BAND_HZ)
    followed = min(1.0, peak / band) if band > 0 and math.isfinite(peak) else nan
    return StepResult(
        rate_bpm=float(step.rate_bpm),
        start_s=float(step.start_s),
        end_s=float(step.end_s),
        n_beats=n,
        rsa_amplitude_ms=fit.amplitude_ms,
        peak_to_trough_bpm=ptt,
        lf_peak_ms2=peak,
        phase_deg=phase,
        followed=followed,
    )


def _score(step: StepResult, key: str) -> float:
    """Larger is better for every criterion (phase: closeness to 0)."""
    v = getattr(step, key)
    if not math.isfinite(v):
        return -math.inf
    return -abs(v) if key == "phase_deg" else v


def _fmt_value(step: StepResult, key: str) -> str:
    v = getattr(step, key)
    if key == "rsa_amplitude_ms":
        return f"{v:.0f} ms"
    if key == "peak_to_trough_bpm":
        return f"{v:.1f} beats/min"
    if key == "lf_peak_ms2":
        return f"{v:,.0f} ms²"
    return f"{v:+.0f}°"


def suggest_rate(
    steps: tuple[StepResult, ...] | list[StepResult],
) -> tuple[float, float, dict[str, float], str]:
    """The suggested rate from measured steps (module docstring, "The suggestion").

    Returns
    -------
    (suggested_bpm, runner_up_bpm, criteria, reason)
        ``nan`` rates and an explaining reason when fewer than two steps were followed.
    """
    nan = math.nan
    usable = [
        s
        for s in steps
        if math.isfinite(s.followed)
        and s.followed >= FOLLOWED_MIN
        and math.isfinite(s.rsa_amplitude_ms)
    ]
    left_out = [s for s in steps if s not in usable]
    notes = []
    for s in left_out:
        if math.isfinite(s.followed):
            notes.append(
                f"{s.rate_bpm:g}/min left out: the pacer showed weakly in the heart rhythm "
                f"({100 * s.followed:.0f} % of the breathing-band power at the pacer rate)"
            )
        else:
            notes.append(f"{s.rate_bpm:g}/min left out: too few beats to measure")
    if len(usable) < 2:
        why = "fewer than two steps where the pacer showed clearly in the heart rhythm"
        return nan, nan, {}, "; ".join([f"No suggestion: {why}", *notes]) + "."
    criteria: dict[str, float] = {}
    votes: dict[int, list[str]] = {i: [] for i in range(len(usable))}
    for key, _words in CRITERIA:
        scores = [_score(s, key) for s in usable]
        if max(scores) == -math.inf:
            continue
        best = int(np.argmax(scores))
        criteria[key] = usable[best].rate_bpm
        votes[best].append(key)
    order = sorted(
        range(len(usable)),
        key=lambda i: (len(votes[i]), _score(usable[i], "rsa_amplitude_ms")),
        reverse=True,
    )
    win, second = usable[order[0]], usable[order[1]]
    words = dict(CRITERIA)
    agreed = votes[order[0]]
    # The winner has at least one vote: the amplitude criterion always names a usable step.
    parts = [
        f"{win.rate_bpm:g} breaths/min: "
        + ", ".join(f"{words[k]} ({_fmt_value(win, k)})" for k in agreed)
        + f" ({len(agreed)} of {len(criteria)} criteria)"
    ]
    others = [
        f"{words[k]} at {usable[i].rate_bpm:g}/min ({_fmt_value(usable[i], k)})"
        for i in order[1:]
        for k in votes[i]
    ]
    if others:
        parts.append("elsewhere: " + ", ".join(others))
    phases = [_score(s, "phase_deg") for s in usable]
    if max(phases) > -math.inf:
        near = usable[int(np.argmax(phases))]
        criteria["phase_deg"] = near.rate_bpm
        parts.append(
            f"heart rate closest in phase with the pacer at {near.rate_bpm:g}/min "
            f"({_fmt_value(near, 'phase_deg')}; shown, not counted: strap and breathing delays "
            "shift it)"
        )
    gap = 100.0 * (1.0 - second.rsa_amplitude_ms / win.rsa_amplitude_ms)
    parts.append(
        f"runner-up {second.rate_bpm:g} breaths/min with RSA amplitude "
        f"{second.rsa_amplitude_ms:.0f} ms ({abs(gap):.0f} % {'lower' if gap >= 0 else 'higher'})"
    )
    reason = "; ".join(parts + notes) + "."
    return win.rate_bpm, second.rate_bpm, criteria, reason


def assess(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    steps: tuple[AssessmentStep, ...] | list[AssessmentStep],
    *,
    settle_s: float = SETTLE_S,
) -> AssessmentResult:
    """Measure every step and suggest a rate (module docstring).

    Parameters
    ----------
    t_s, rr_ms : array_like
        One person's beat times (s) and RR intervals (ms), artifacts corrected.
    steps : sequence of AssessmentStep
        The assessment's paced steps, in order.
    settle_s : float
        Seconds left out at the start of each step.

    Returns
    -------
    AssessmentResult
        With no steps, or too few usable ones, ``suggested_bpm`` is ``nan`` and the reason
        says why.
    """
    measured = tuple(measure_step(t_s, rr_ms, s, settle_s=settle_s) for s in steps)
    suggested, runner_up, criteria, reason = suggest_rate(measured)
    return AssessmentResult(measured, suggested, runner_up, criteria, reason)
