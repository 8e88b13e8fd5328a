"""Windowed cross-lagged correlation of two HR grids and Boker peak picking (the time course).

For a window of ``w`` samples starting at grid index ``a`` and a lag of ``k`` samples,
``r(k) = corr(T[a:a+w], C[a-k:a-k+w])`` after removing a least-squares line from each slice,
using only sample pairs where both are present (:mod:`hrv.synchrony.kernel`); Fisher
``z = atanh(r)``. Defaults (:class:`~hrv.synchrony.params.SynchronyParams`): window 30 s, lags
+-5 s, step 1 s (Boker, Xu, Rotondo & King 2002, Psychol Methods 7(3):338-355,
doi:10.1037/1082-989X.7.3.338). Positive lag = client leads. The therapist window is fixed and
the client window slides, so a window whose therapist slice ends at ``e`` uses client data up
to ``e + max_lag_s``.

Peak picking (Boker et al. 2002): per window, the in-phase peak is the interior local maximum of
``r`` with ``r > 0`` nearest to lag 0 and the anti-phase peak is the interior local minimum with
``r < 0`` nearest to lag 0 (ties: the stronger). They are kept apart; a window without such a
peak gets ``nan`` for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .kernel import lag_samples, paired_z
from .params import SynchronyParams, resolve_params

__all__ = ["WindowedSync", "peak_strength", "pick_peaks", "windowed_cross_correlation"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowedSync:
    """Windowed cross-lagged correlation of two HR grids (Boker et al. 2002).

    Attributes
    ----------
    t_s : ndarray
        End time (s) of each therapist window (the client slices reach ``max_lag_s`` further).
    lags_s : ndarray
        Lags (s); positive = client leads.
    z : ndarray
        Fisher z, shape ``(n_windows, n_lags)``; a row is all ``nan`` for a skipped window.
    z0 : ndarray
        z at lag 0 per window.
    in_phase_z, in_phase_lag_s : ndarray
        Boker peak (positive r) nearest lag 0 per window, ``nan`` where none.
    anti_phase_z, anti_phase_lag_s : ndarray
        Trough (negative r) nearest lag 0 per window, ``nan`` where none.
    n_windows, n_skipped : int
        Windows computed and windows skipped for missing data.
    """

    t_s: FloatArray
    lags_s: FloatArray
    z: FloatArray
    z0: FloatArray
    in_phase_z: FloatArray
    in_phase_lag_s: FloatArray
    anti_phase_z: FloatArray
    anti_phase_lag_s: FloatArray
    n_windows: int
    n_skipped: int


def pick_peaks(
    z: FloatArray, lags_s: FloatArray, half_width: int = 1, min_fraction: float = 0.5
) -> tuple[FloatArray, ...]:
    """Boker peak picking: interior extremum of each sign nearest lag 0 (ties: the stronger).

    A lag is an in-phase peak when ``r > 0`` there and no lag within ``half_width`` lags on
    either side is larger (Boker et al. 2002 search a neighbourhood so that small wiggles on a
    slope are not taken for peaks); the first and last lag never qualify (the true peak may lie
    beyond the range). Our addition: a peak must reach ``min_fraction`` of the window's largest
    ``z`` of that sign, so a noise bump near lag 0 does not hide a clear peak a few seconds
    out. Anti-phase troughs: the same on ``-r``.
    """
    nw, nl = z.shape
    h = max(1, int(half_width))
    out = []
    for sign in (1.0, -1.0):
        zz = sign * z
        pad = np.full((nw, nl + 2 * h), -np.inf)
        pad[:, h : h + nl] = np.where(np.isfinite(zz), zz, -np.inf)
        neigh = np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1, axis=1).max(axis=2)
        top = np.max(np.where(np.isfinite(zz), zz, -np.inf), axis=1, keepdims=True)
        peak = (zz >= neigh) & (zz > 0) & (zz >= min_fraction * top)
        peak[:, 0] = False
        peak[:, -1] = False
        peak &= np.isfinite(zz)
        # Key: distance from lag 0 first, then strength (larger |z| wins a tie).
        key = np.abs(lags_s)[None, :] * 1e6 - np.where(np.isfinite(zz), zz, 0.0)
        key = np.where(peak, key, np.inf)
        best = np.argmin(key, axis=1)
        has = np.isfinite(key[np.arange(nw), best])
        out.append(np.where(has, z[np.arange(nw), best], np.nan))
        out.append(np.where(has, lags_s[best], np.nan))
    return tuple(out)


def windowed_cross_correlation(
    therapist_hr: ArrayLike,
    client_hr: ArrayLike,
    *,
    t_start_s: float = 0.0,
    params: SynchronyParams | None = None,
    **overrides: Any,
) -> WindowedSync:
    """Windowed cross-lagged correlation (Boker et al. 2002) of two HR grids.

    Parameters
    ----------
    therapist_hr, client_hr : array_like
        HR grids (beats/min) from :func:`hrv.synchrony.hr_grid` on the same grid; ``nan`` =
        missing.
    t_start_s : float
        Time (s) of grid point 0.
    params : SynchronyParams, optional
        Uses ``fs_hz``, ``window_s``, ``max_lag_s``, ``step_s``, ``max_missing`` (windows with
        more missing sample pairs at any lag are skipped, their row ``nan``, never filled in)
        and ``peak_half_width_s``.
    **overrides
        Any field of :class:`SynchronyParams` (e.g. ``step_s=0.5``).

    Returns
    -------
    WindowedSync
        Empty arrays when the grids are shorter than one window plus both lag margins.
    """
    p = resolve_params(params, overrides)
    fs_hz = p.fs_hz
    x = np.asarray(therapist_hr, dtype=np.float64).ravel()
    y = np.asarray(client_hr, dtype=np.float64).ravel()
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    w = p.window_samples
    lags = lag_samples(p.max_lag_s, fs_hz)
    lmax = int(lags[-1])
    step = max(1, round(p.step_s * fs_hz))
    lags_s = lags / fs_hz
    anchors = np.arange(lmax, n - w - lmax + 1, step, dtype=np.intp)
    if anchors.size == 0:
        e = np.empty(0)
        return WindowedSync(
            t_s=e, lags_s=lags_s, z=np.empty((0, lags.size)), z0=e, in_phase_z=e,
            in_phase_lag_s=e, anti_phase_z=e, anti_phase_lag_s=e, n_windows=0, n_skipped=0,
        )  # fmt: skip
    min_count = p.min_count
    zs = []
    for chunk in np.array_split(anchors, max(1, anchors.size // 512)):
        zs.append(paired_z(x, y, chunk, chunk, lmax, w, min_count))
    z = np.concatenate(zs)
    skipped = ~np.all(np.isfinite(z), axis=1)
    z[skipped] = np.nan
    ip, ipl, ap, apl = pick_peaks(z, lags_s, round(p.peak_half_width_s * fs_hz))
    t_end = t_start_s + (anchors + w) / fs_hz
    return WindowedSync(
        t_s=t_end, lags_s=lags_s, z=z, z0=z[:, lmax], in_phase_z=ip, in_phase_lag_s=ipl,
        anti_phase_z=ap, anti_phase_lag_s=apl, n_windows=int(anchors.size),
        n_skipped=int(skipped.sum()),
    )  # fmt: skip


def peak_strength(z: FloatArray, lags_s: FloatArray, half_width: int) -> tuple[FloatArray, ...]:
    """Per row: in-phase strength and lag, anti-phase strength and lag (0 / nan without peak)."""
    ip, ipl, ap, apl = pick_peaks(z, lags_s, half_width)
    valid = np.all(np.isfinite(z), axis=1)
    s_in = np.where(valid, np.where(np.isfinite(ip), ip, 0.0), np.nan)
    s_anti = np.where(valid, np.where(np.isfinite(ap), -ap, 0.0), np.nan)
    return s_in, ipl, s_anti, apl
