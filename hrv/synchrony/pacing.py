"""Pacer effects: when two people breathe to one rhythm, and taking that rhythm out.

Two people breathing to one pacer share a strong oscillation at the pacer frequency and
correlate with no coupling at all. When a pacer runs, each person's RR is fitted with
``c0 + a sin(2 pi f t) + b cos(2 pi f t)`` on beat times (``pacer_fit_window_s`` windows, with
:func:`hrv.rsa.rsa_at_rate`); both fits strong (amplitude ``sqrt(a^2 + b^2) >=
pacer_min_amplitude_ms`` and ``R^2 >= pacer_min_r2``) marks the window *pacer-driven*.
Offline, the pacer's fundamental and first harmonic are also regressed out of each person's HR
grid in blocks of one window before correlating, so what is tested is synchrony beyond the
shared pacer.

**Shared rhythm without a pacer.** Two people can breathe to one rhythm from any source (an
external pacer, a guided recording). Per window, each person's best-fitting slow sine
(:func:`hrv.rsa.dominant_slow_sine`, 3-9/min) is found; both strong (``shared_min_amplitude_ms``,
``shared_min_r2``) at rates within ``shared_max_diff_bpm`` marks the window as a *shared
rhythm* at the mean of the two rates. Offline, when such windows make up most of the stretch,
that rhythm is regressed out like a pacer's (single windows are left alone: coupled slow
heart-rate changes near 3-4/min can look the same for a minute).

A pacer schedule is a sequence of ``(t_s, rate_bpm)`` changes in time order (breaths/min,
0 = off).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from hrv.pacer_schedule import pacer_rate_at
from hrv.rsa import dominant_slow_sine, rsa_at_rate

from .params import DEFAULT_PARAMS, SynchronyParams

__all__ = [
    "beats_between",
    "pacer_driven_segments",
    "pacer_strong",
    "remove_pacer",
    "shared_rhythm_segments",
    "shared_schedule",
]

FloatArray = NDArray[np.float64]


def pacer_strong(
    t_s: FloatArray,
    rr_ms: FloatArray,
    f_hz: float,
    min_amplitude_ms: float = DEFAULT_PARAMS.pacer_min_amplitude_ms,
    min_r2: float = DEFAULT_PARAMS.pacer_min_r2,
) -> bool:
    """Whether these beats follow a sine at ``f_hz`` (Hz) strongly.

    Both thresholds must be met by :func:`hrv.rsa.rsa_at_rate` at ``f_hz``: amplitude (ms) and
    explained share of RR variance. Non-finite or non-positive intervals are left out; too few
    beats (under 4, or under half a cycle) give ``False``.
    """
    ok = np.isfinite(t_s) & np.isfinite(rr_ms) & (rr_ms > 0)
    fit = rsa_at_rate(t_s[ok], rr_ms[ok], f_hz * 60.0)
    return bool(fit.amplitude_ms >= min_amplitude_ms and fit.r_squared >= min_r2)


def beats_between(
    t: FloatArray, rr: FloatArray, ok: NDArray[np.bool_], lo: float, hi: float
) -> tuple[FloatArray, FloatArray]:
    """Beats with ``lo <= t < hi`` (s) whose ``ok`` flag is set (``t`` sorted)."""
    i0, i1 = np.searchsorted(t, [lo, hi])
    sel = ok[i0:i1]
    return t[i0:i1][sel], rr[i0:i1][sel]


def remove_pacer(
    hr: FloatArray,
    fs_hz: float,
    t_start_s: float,
    schedule: Sequence[tuple[float, float]],
    block_s: float,
) -> FloatArray:
    """Regress the pacer's fundamental and first harmonic out of an HR grid (pacer on only).

    Parameters
    ----------
    hr : ndarray
        HR grid (beats/min), ``nan`` = missing; grid point ``i`` at ``t_start_s + i / fs_hz``.
    fs_hz, t_start_s : float
        Grid rate (Hz) and time of grid point 0 (s).
    schedule : sequence of (t_s, rate_bpm)
        Pacer changes.
    block_s : float
        Block length (s); each block gets its own fit of mean, slope and the four sinusoids,
        and only the sinusoids are subtracted. Blocks with fewer than 8 present samples are
        left as they are.

    Returns
    -------
    ndarray
        A new grid; missing samples stay missing.
    """
    out = hr.copy()
    n = hr.size
    g = t_start_s + np.arange(n) / fs_hz
    bounds = [(float(ts), float(r)) for ts, r in schedule]
    for i, (ts, rate) in enumerate(bounds):
        if rate <= 0:
            continue
        te = bounds[i + 1][0] if i + 1 < len(bounds) else math.inf
        lo = max(0, math.ceil((ts - t_start_s) * fs_hz - 1e-9))
        hi = n if te == math.inf else min(n, math.ceil((te - t_start_s) * fs_hz - 1e-9))
        f = rate / 60.0
        blen = max(4, round(block_s * fs_hz))
        for b0 in range(lo, hi, blen):
            b1 = min(hi, b0 + blen)
            seg = out[b0:b1]
            ok = np.isfinite(seg)
            if ok.sum() < 8:
                continue
            tt = g[b0:b1]
            ph = 2.0 * math.pi * f * tt
            osc = np.column_stack([np.sin(ph), np.cos(ph), np.sin(2 * ph), np.cos(2 * ph)])
            u = tt - tt.mean()
            design = np.column_stack([np.ones_like(tt), u, osc])
            coef, *_ = np.linalg.lstsq(design[ok], seg[ok], rcond=None)
            out[b0:b1] = seg - osc @ coef[2:]
    return out


def pacer_driven_segments(
    mids_s: FloatArray,
    schedule: Sequence[tuple[float, float]],
    therapist: tuple[FloatArray, FloatArray, NDArray[np.bool_]],
    client: tuple[FloatArray, FloatArray, NDArray[np.bool_]],
    params: SynchronyParams = DEFAULT_PARAMS,
) -> NDArray[np.bool_]:
    """Per segment: did both people follow the pacer in force at its middle?

    Parameters
    ----------
    mids_s : ndarray
        Segment middles (s).
    schedule : sequence of (t_s, rate_bpm)
        Pacer changes (empty: no segment is pacer-driven).
    therapist, client : (t_s, rr_ms, ok)
        Beat times (s), RR (ms) and a per-beat usable flag (``False`` for artifacts).
    params : SynchronyParams
        ``pacer_fit_window_s`` (centred on the middle), ``pacer_min_amplitude_ms``,
        ``pacer_min_r2``.

    Returns
    -------
    ndarray of bool
        ``True`` where the pacer was on and both fits at its rate were strong.
    """
    flags = np.zeros(mids_s.size, dtype=bool)
    half = params.pacer_fit_window_s / 2
    for q, mid in enumerate(mids_s):
        rate = pacer_rate_at(schedule, float(mid))
        if rate <= 0:
            continue
        f = rate / 60.0
        flags[q] = all(
            pacer_strong(
                *beats_between(t, rr, ok, mid - half, mid + half),
                f,
                params.pacer_min_amplitude_ms,
                params.pacer_min_r2,
            )
            for t, rr, ok in (therapist, client)
        )
    return flags


def shared_rhythm_segments(
    mids_s: FloatArray,
    therapist: tuple[FloatArray, FloatArray, NDArray[np.bool_]],
    client: tuple[FloatArray, FloatArray, NDArray[np.bool_]],
    params: SynchronyParams = DEFAULT_PARAMS,
) -> FloatArray:
    """Per segment: the slow rhythm both people's RR followed strongly, detected from the beats.

    Parameters
    ----------
    mids_s : ndarray
        Segment middles (s); each fit uses ``pacer_fit_window_s`` of beats centred there.
    therapist, client : (t_s, rr_ms, ok)
        Beat times (s), RR (ms) and a per-beat usable flag (``False`` for artifacts).
    params : SynchronyParams
        ``shared_band_bpm``, ``shared_min_amplitude_ms``, ``shared_min_r2``,
        ``shared_max_diff_bpm``.

    Returns
    -------
    ndarray
        The shared rate (breaths/min, mean of the two people's) per segment; ``nan`` where
        the two did not share one strong slow rhythm.
    """
    out = np.full(mids_s.size, np.nan)
    half = params.pacer_fit_window_s / 2
    p = params
    for q, mid in enumerate(mids_s):
        fits = []
        for t, rr, ok in (therapist, client):
            tw, rw = beats_between(t, rr, ok, mid - half, mid + half)
            good = np.isfinite(tw) & np.isfinite(rw) & (rw > 0)
            fit = dominant_slow_sine(tw[good], rw[good], p.shared_band_bpm)
            if not fit.strong(p.shared_min_amplitude_ms, p.shared_min_r2):
                break
            fits.append(fit.rate_bpm)
        if len(fits) == 2 and abs(fits[0] - fits[1]) <= p.shared_max_diff_bpm + 1e-9:
            out[q] = 0.5 * (fits[0] + fits[1])
    return out


def shared_schedule(
    starts_s: FloatArray, ends_s: FloatArray, rates_bpm: FloatArray
) -> list[tuple[float, float]]:
    """A pacer-like schedule ``(t_s, rate_bpm)`` from per-segment shared rates (``nan``: off)."""
    out: list[tuple[float, float]] = []
    for a, b, r in zip(starts_s.tolist(), ends_s.tolist(), rates_bpm.tolist(), strict=True):
        if math.isfinite(r):
            out += [(a, r), (b, 0.0)]
    return out
