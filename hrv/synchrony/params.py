"""The one set of synchrony parameters shared by the offline test, the time course and live.

Every default is written once, here. Functions and classes of :mod:`hrv.synchrony` take a
:class:`SynchronyParams` (``params=``) and accept any of its fields as a keyword override:
``synchrony(..., n_surrogates=200)`` equals
``synchrony(..., params=SynchronyParams(n_surrogates=200))``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hrv.rsa import SLOW_MIN_AMPLITUDE_MS, SLOW_MIN_R2

__all__ = ["DEFAULT_PARAMS", "SynchronyParams", "resolve_params"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SynchronyParams:
    """Defaults from the psychotherapy literature (design.md section 5) plus our additions.

    Grid and correlation (offline, time course and live)
    ------------------------------------------------------
    fs_hz : float
        HR grid rate (Hz). 2 Hz is about twice the heart rate, so interpolation invents little
        between beats; it resolves lags to 0.5 s and covers the slow arousal changes (< 0.1 Hz)
        and RSA (<= 0.4 Hz) that carry HR synchrony. Cost grows with the square of the rate.
    gap_s : float
        Good beats further apart than this (s) are not interpolated between.
    window_s : float
        Window (time course, live) and segment (offline) length (s); Boker et al. 2002 use 30 s.
    max_lag_s : float
        Largest lag either way (s).
    step_s : float
        Window step of the time course (s).
    max_missing : float
        Largest fraction of missing sample pairs a window may have at any lag.
    lowpass_hz : float or None
        Cutoff (Hz) of the causal Butterworth low-pass applied to each HR grid (``None`` off):
        removes RSA at spontaneous breathing rates (>= 9 breaths/min), so two people breathing
        at similar rates with drifting phases are not read as synchrony.
    lowpass_order : int
        Order of that filter.
    lowpass_settle_s : float
        Filter output reported missing for this long (s) after every (re)start.
    peak_half_width_s : float
        A Boker peak must be the largest value within this many seconds of lag either side.

    Pacer awareness
    ---------------
    pacer_min_amplitude_ms : float
        Minimum RSA sine-fit amplitude (ms) at the pacer frequency for "following the pacer".
        Resonance breathing typically gives 40-100 ms; spontaneous LF power at one fixed
        frequency rarely holds 15 ms for a whole minute.
    pacer_min_r2 : float
        Minimum share of RR variance (R^2) the pacer sine explains in one fit window.
    pacer_fit_window_s : float
        Window (s) of beats used for one pacer fit (and one shared-rhythm fit).
    shared_band_bpm : (float, float)
        Rates (per minute) scanned for a shared slow rhythm without a pacer: from 3/min up to
        9/min, the 0.15 Hz edge above which the low-pass removes a shared rhythm anyway.
    shared_min_amplitude_ms, shared_min_r2 : float
        Both people's best sine in that band (:func:`hrv.rsa.dominant_slow_sine`) must reach
        these. Stricter than for a known pacer, since the rate is searched: simulated paced
        breathing gave ``R^2`` about 0.8 and 90-100 ms; simulated and NSRDB spontaneous
        breathing (Mayer waves near 0.1 Hz in both people) met 20 ms and 0.4 together in 0-11 %
        of windows and never in most of a record.
    shared_max_diff_bpm : float
        The two people's rates may differ by at most this (per minute).

    Offline significance (:func:`hrv.synchrony.synchrony`)
    --------------------------------------------------------
    n_surrogates : int
        Derangement surrogates for the p-value (at least 1000 recommended; 0 skips).
    n_circular : int
        Circular-shift surrogates for the second null (0 skips it).
    min_circular_shift_s : float
        Smallest circular shift (s) of the client's series (HR autocorrelation has faded).
    serial_lags : int
        Segment lags used to widen the shuffled null for serial dependence (0: off).
    min_segments : int
        Fewer usable segments than this gives an all-``nan`` result.
    alpha : float
        Significance level (for ``leader`` and the words).
    seed : int
        Seed for the surrogate draws (results are reproducible).

    Live (:class:`hrv.synchrony.LiveSynchrony`)
    ---------------------------------------------
    history_s : float
        Grid history kept per person (s).
    n_offsets : int
        Largest number of time offsets for the chance band (each used in both directions).
    min_offset_s : float
        Smallest time offset (s) between paired windows: ``window_s + max_lag_s``, so a pairing
        never shares a sample with the current window at any lag. Slow heart-rate changes are
        still correlated over 35 s; for two unrelated people that does not correlate one with
        the other, and for coupled people it can only raise the band (a stricter test). On 12
        simulated unrelated pairs (12 min each) the readings above the band were 14.4 % with
        35 s and 2.5 s steps and 14.4 % with the earlier 60 s and 5 s; the band appeared after
        103 s instead of 156 s.
    offset_step_s : float
        Spacing (s) of the offsets until ``n_offsets`` of them cover the history; later they
        spread evenly over it.
    min_offsets : int
        Fewer valid pairings than this: no band yet. With the defaults the band exists about
        110 s into a clean session (window 30 s, lag 5 s, low-pass settling 10 s, offsets from
        35 s in 2.5 s steps, each used both ways).
    """

    fs_hz: float = 2.0
    gap_s: float = 3.0
    window_s: float = 30.0
    max_lag_s: float = 5.0
    step_s: float = 1.0
    max_missing: float = 0.1
    lowpass_hz: float | None = 0.15
    lowpass_order: int = 4
    lowpass_settle_s: float = 10.0
    peak_half_width_s: float = 1.0
    pacer_min_amplitude_ms: float = 15.0
    pacer_min_r2: float = 0.3
    pacer_fit_window_s: float = 60.0
    shared_band_bpm: tuple[float, float] = (3.0, 9.0)
    shared_min_amplitude_ms: float = SLOW_MIN_AMPLITUDE_MS
    shared_min_r2: float = SLOW_MIN_R2
    shared_max_diff_bpm: float = 0.5
    n_surrogates: int = 1000
    n_circular: int = 200
    min_circular_shift_s: float = 60.0
    serial_lags: int = 2
    min_segments: int = 6
    alpha: float = 0.05
    seed: int = 0
    history_s: float = 1200.0
    n_offsets: int = 50
    min_offset_s: float = 35.0
    offset_step_s: float = 2.5
    min_offsets: int = 20

    @property
    def window_samples(self) -> int:
        """Window length in grid samples (at least 3)."""
        return max(3, round(self.window_s * self.fs_hz))

    @property
    def max_lag_samples(self) -> int:
        """Largest lag in grid samples."""
        return round(self.max_lag_s * self.fs_hz)

    @property
    def min_count(self) -> float:
        """Fewest jointly present sample pairs a window needs at every lag."""
        return (1.0 - self.max_missing) * self.window_samples


#: The defaults.
DEFAULT_PARAMS = SynchronyParams()


def resolve_params(params: SynchronyParams | None, overrides: dict[str, Any]) -> SynchronyParams:
    """``params`` (default :data:`DEFAULT_PARAMS`) with keyword ``overrides`` applied.

    Raises
    ------
    TypeError
        An override that is not a field of :class:`SynchronyParams`.
    """
    base = DEFAULT_PARAMS if params is None else params
    if not overrides:
        return base
    names = {f.name for f in dataclasses.fields(SynchronyParams)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"unknown synchrony parameter(s): {', '.join(unknown)}")
    return dataclasses.replace(base, **overrides)
