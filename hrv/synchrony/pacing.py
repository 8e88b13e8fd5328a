"""Pacer effects: when two people breathe to one rhythm, and taking that rhythm out.

Two people breathing to one pacer share a strong oscillation at the pacer frequency and
correlate with no coupling at all. When a pacer runs, each person's RR is fitted with
``c0 + a sin(2 pi f t) + b cos(2 pi f t)`` on beat times (``pacer_fit_window_s`` windows, with
:func:`hrv.rsa.rsa_at_rate`); both fits strong (amplitude ``sqrt(a^2 + b^2) >=
pacer_min_amplitude_ms`` and ``R^2 >= pacer_min_r2``) marks the window *pacer-driven*.
Offline, the pacer's fundamental and first harmonic are also regressed out of each person's HR
grid in blocks of one window before correlating, so what is tested is synchrony beyond the
shared pacer.

A pacer schedule is a sequence of ``(t_s, rate_bpm)`` changes in time order (breaths/min,
0 = off).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from hrv.pacer_schedule import pacer_rate_at
from hrv.rsa import rsa_at_rate

from .params import DEFAULT_PARAMS, SynchronyParams

__all__ = [
    "beats_between",
    "pacer_driven_segments",
    "pacer_strong",
    "remove_pacer",
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
