"""Each person's heart rate on one even grid, and the causal low-pass applied to it.

**HR grid.** Beats ``(t_s, rr_ms)`` become instantaneous heart rate ``60000 / rr_ms``
(beats/min) placed at the beat time (the end of its interval) and linearly interpolated onto an
even grid shared by both people (``fs_hz``, default 2 Hz). Artifact-flagged beats are left
out. A grid point between two consecutive good beats is ``nan`` when they are more than
``gap_s`` (3 s) apart or when it falls in an explicit gap interval, so an isolated premature
beat costs no data while a flagged stretch, a drop-out or a gap stays blank: missing data is
never interpolated across silently.

**Low-pass** (our addition, ``lowpass_hz``, default 0.15 Hz): a causal Butterworth filter on
each grid, restarted after every gap (its first ``lowpass_settle_s`` then count as missing). It
removes respiratory sinus arrhythmia at spontaneous breathing rates, so two people breathing at
similar rates are not read as synchrony. Both people get the same filter, so its delay cancels
in every lag; live and offline use the same filter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import butter, sosfilt, sosfilt_zi

from .params import DEFAULT_PARAMS

__all__ = ["LowPass", "hr_grid"]

FloatArray = NDArray[np.float64]


def _grid_length(t_end_s: float, t_start_s: float, fs_hz: float) -> int:
    if not (math.isfinite(t_end_s) and t_end_s >= t_start_s):
        return 0
    return math.floor((t_end_s - t_start_s) * fs_hz + 1e-9) + 1


def hr_grid(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    artifact: ArrayLike | None = None,
    *,
    fs_hz: float = DEFAULT_PARAMS.fs_hz,
    t_start_s: float = 0.0,
    t_end_s: float | None = None,
    gap_s: float = DEFAULT_PARAMS.gap_s,
    gaps: Iterable[tuple[float, float]] = (),
) -> FloatArray:
    """Heart rate (beats/min) of one person on an even grid, ``nan`` where data is missing.

    Parameters
    ----------
    t_s : array_like
        Beat times (s, session clock), increasing; the beat ends its RR interval.
    rr_ms : array_like
        RR intervals (ms) ending at those beats.
    artifact : array_like of bool, optional
        Per-beat artifact flags. A flagged beat is left out: the grid is interpolated between
        the good beats on either side only if they are at most ``gap_s`` apart (an isolated
        premature beat), otherwise it stays blank.
    fs_hz : float
        Grid rate (Hz); grid point ``i`` is at ``t_start_s + i / fs_hz``.
    t_start_s, t_end_s : float
        Grid span (s). ``t_end_s`` defaults to the last beat.
    gap_s : float
        Beats further apart than this (s) are not interpolated between.
    gaps : iterable of (start_s, end_s)
        Explicit stretches with no trustworthy data (e.g. strap contact lost); blanked.

    Returns
    -------
    numpy.ndarray
        HR in beats/min, ``60000 / rr_ms`` at each beat time, linearly interpolated between
        consecutive good beats; ``nan`` before the first beat, after the last, across gaps
        and wherever good beats are more than ``gap_s`` apart (flagged, non-finite or
        non-positive intervals are not good beats). Empty input gives all ``nan``.
    """
    t = np.asarray(t_s, dtype=np.float64).ravel()
    rr = np.asarray(rr_ms, dtype=np.float64).ravel()
    if t.size != rr.size:
        raise ValueError("t_s and rr_ms must have the same length")
    bad = ~np.isfinite(rr) | ~np.isfinite(t) | (rr <= 0)
    if artifact is not None:
        flags = np.asarray(artifact, dtype=bool).ravel()
        if flags.size != t.size:
            raise ValueError("artifact must have one flag per beat")
        bad = bad | flags
    if t_end_s is None:
        t_end_s = float(t[-1]) if t.size else t_start_s
    n = _grid_length(t_end_s, t_start_s, fs_hz)
    out = np.full(n, np.nan)
    if t.size < 2 or n == 0:
        return out
    # Flagged and invalid beats are left out; the grid is interpolated between the good beats
    # around them only when those are at most ``gap_s`` apart (an isolated premature beat),
    # so longer flagged stretches stay blank.
    t, rr = t[~bad], rr[~bad]
    if t.size < 2:
        return out
    hr = 60000.0 / rr
    g = t_start_s + np.arange(n) / fs_hz
    k = np.searchsorted(t, g, side="left")  # t[k-1] < g <= t[k]
    inside = (k >= 1) & (k < t.size)
    kk = k[inside]
    t0, t1 = t[kk - 1], t[kk]
    span = t1 - t0
    ok = (span > 0) & (span <= gap_s)
    frac = np.where(ok, (g[inside] - t0) / np.where(span > 0, span, 1.0), np.nan)
    vals = hr[kk - 1] + frac * (hr[kk] - hr[kk - 1])
    out[inside] = np.where(ok, vals, np.nan)
    for start, end in gaps:
        lo = max(0, math.ceil((start - t_start_s) * fs_hz - 1e-9))
        hi = min(n, math.floor((end - t_start_s) * fs_hz + 1e-9) + 1)
        if hi > lo:
            out[lo:hi] = np.nan
    return out


class LowPass:
    """Causal Butterworth low-pass run over a grid sample by sample or in chunks.

    The filter restarts at every missing sample (state set to the steady state of the first
    present value, so a run starts without a step transient) and its first ``settle_s`` of
    outputs after a restart are reported missing. Feeding a grid in any chunking gives the same
    output, so live (chunk per beat) equals batch (whole array).

    Parameters
    ----------
    fs_hz : float
        Grid rate (Hz).
    cutoff_hz : float
        -3 dB cutoff (Hz).
    settle_s : float
        Outputs reported missing (s) after every (re)start.
    order : int
        Butterworth order.
    """

    def __init__(
        self,
        fs_hz: float,
        cutoff_hz: float,
        settle_s: float = DEFAULT_PARAMS.lowpass_settle_s,
        order: int = DEFAULT_PARAMS.lowpass_order,
    ) -> None:
        self.sos = butter(order, cutoff_hz, fs=fs_hz, output="sos")
        self.zi_unit = sosfilt_zi(self.sos)
        self.settle = round(settle_s * fs_hz)
        self.zi: FloatArray | None = None
        self.count = 0

    def __call__(self, x: FloatArray) -> FloatArray:
        out = np.full(x.size, np.nan)
        ok = np.isfinite(x)
        if not ok.any():
            self.zi = None
            return out
        # Split into runs of present / missing samples.
        edges = np.flatnonzero(np.diff(ok.astype(np.int8))) + 1
        for seg in np.split(np.arange(x.size), edges):
            if not ok[seg[0]]:
                self.zi = None
                continue
            v = x[seg]
            if self.zi is None:
                self.zi = self.zi_unit * v[0]
                self.count = 0
            y, self.zi = sosfilt(self.sos, v, zi=self.zi)
            keep = np.arange(self.count, self.count + v.size) >= self.settle
            out[seg] = np.where(keep, y, np.nan)
            self.count += v.size
        return out
