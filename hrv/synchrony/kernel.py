"""The correlation kernel: detrended, pairwise-complete lagged correlation from sums.

For a therapist slice ``x`` of ``w`` samples and a client slice ``y`` at lag ``k``, ``r(k)`` is
the correlation of the residuals after regressing each slice on ``[1, u]`` (``u`` the centred
sample index) over the jointly present samples, i.e. the partial correlation given time
(per-window linear detrending, Boker et al. 2002, doi:10.1037/1082-989X.7.3.338). Everything
needed is six therapist-side and three client-side product sums, so every lag of every window
pair is one matrix product; Fisher ``z = atanh(r)``.

**Sign convention (the project's contract): positive lag = client leads.** ``r(k)`` pairs the
therapist at grid index ``t`` with the client at ``t - k``. A client stretch
``y[a - lmax : a + w + lmax]`` holds every lagged slice of the therapist window at ``a``.

A window pair with fewer than ``min_count`` jointly present samples at a lag, or a flat slice,
gives ``nan`` there.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Z_CLIP",
    "all_pairs_z",
    "client_stretches",
    "fisher_z",
    "lag_samples",
    "lagged_sums",
    "paired_z",
    "r_from_sums",
    "t_side",
    "therapist_windows",
]

FloatArray = NDArray[np.float64]

#: ``|r|`` is clipped here before ``atanh`` so perfect copies give a finite z (7.25).
Z_CLIP = 0.999999


def lag_samples(max_lag_s: float, fs_hz: float) -> NDArray[np.intp]:
    """Lags in grid samples, ``-lmax .. lmax`` with ``lmax = round(max_lag_s * fs_hz)``."""
    lmax = round(max_lag_s * fs_hz)
    return np.arange(-lmax, lmax + 1, dtype=np.intp)


#: Most memory one block of :func:`all_pairs_z` product sums may take (bytes).
PAIR_SUMS_BLOCK_BYTES = 32 * 2**20


def t_side(x: FloatArray) -> FloatArray:
    """Therapist-side factors ``(..., 6, w)``: m, m x, m x^2, m u, m u x, m u^2."""
    w = x.shape[-1]
    u = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    m = np.isfinite(x).astype(np.float64)
    x0 = np.where(m > 0, x, 0.0)
    return np.stack([m, x0, x0 * x0, m * u, x0 * u, m * u * u], axis=-2)


def c_side(y: FloatArray) -> FloatArray:
    """Client-side factors ``(..., 3, w)``: m, m y, m y^2."""
    m = np.isfinite(y).astype(np.float64)
    y0 = np.where(m > 0, y, 0.0)
    return np.stack([m, y0, y0 * y0], axis=-2)


def r_from_sums(s: FloatArray, min_count: float) -> FloatArray:
    """Detrended correlation from the 6x3 product sums in the last two axes of ``s``.

    Both slices are regressed on ``[1, u]`` over the jointly present samples; ``r`` is the
    correlation of the residuals (equivalently, the partial correlation given time).
    """
    n = s[..., 0, 0]
    sx, sxx = s[..., 1, 0], s[..., 2, 0]
    su, sux, suu = s[..., 3, 0], s[..., 4, 0], s[..., 5, 0]
    sy, syy = s[..., 0, 1], s[..., 0, 2]
    sxy, suy = s[..., 1, 1], s[..., 3, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / n
        cuu = suu - su * su * inv
        cxx = sxx - sx * sx * inv
        cyy = syy - sy * sy * inv
        cxy = sxy - sx * sy * inv
        cux = sux - su * sx * inv
        cuy = suy - su * sy * inv
        dxx = cxx - cux * cux / cuu
        dyy = cyy - cuy * cuy / cuu
        dxy = cxy - cux * cuy / cuu
        r = dxy / np.sqrt(dxx * dyy)
    tiny = 1e-9 * (np.abs(cxx) + np.abs(cyy) + 1e-300)
    good = (n >= min_count) & (dxx > tiny) & (dyy > tiny) & np.isfinite(r)
    return np.where(good, np.clip(r, -1.0, 1.0), np.nan)


def fisher_z(r: FloatArray) -> FloatArray:
    """Fisher ``z = atanh(r)`` with ``|r|`` clipped at :data:`Z_CLIP`; ``nan`` stays ``nan``."""
    return np.arctanh(np.clip(r, -Z_CLIP, Z_CLIP))


def therapist_windows(x: FloatArray, anchors: NDArray[np.intp], w: int) -> FloatArray:
    """Slices ``x[a : a + w]`` as ``(len(anchors), w)``; ``nan`` outside the array."""
    idx = anchors[:, None] + np.arange(w)[None, :]
    inside = (idx >= 0) & (idx < x.size)
    return np.where(inside, x[np.clip(idx, 0, max(x.size - 1, 0))], np.nan)


def client_stretches(y: FloatArray, anchors: NDArray[np.intp], lmax: int, w: int) -> FloatArray:
    """Client stretches ``y[a - lmax : a + w + lmax]`` (every lagged slice of anchor ``a``)."""
    return therapist_windows(y, anchors - lmax, w + 2 * lmax)


def client_view(y_ext: FloatArray, w: int) -> FloatArray:
    """Client factors of every lagged slice: ``(..., 3 * L, w)``, lag-major order reversed.

    Slice ``o`` of a stretch starts ``o`` samples in, i.e. lag ``k = lmax - o``.
    """
    v = np.lib.stride_tricks.sliding_window_view(c_side(y_ext), w, axis=-1)  # (..., 3, L, w)
    return np.ascontiguousarray(v).reshape(*v.shape[:-3], -1, w)


def lagged_sums(a_side: FloatArray, y_ext: FloatArray, w: int) -> FloatArray:
    """Product sums ``(..., L, 6, 3)`` (lags ascending) for paired therapist/client data."""
    v = client_view(y_ext, w)
    s = a_side @ np.swapaxes(v, -1, -2)  # (..., 6, 3L)
    s = s.reshape(*s.shape[:-1], 3, -1)[..., ::-1]
    return np.moveaxis(s, -1, -3)


def paired_z(
    x: FloatArray,
    y: FloatArray,
    t_anchors: NDArray[np.intp],
    c_anchors: NDArray[np.intp],
    lmax: int,
    w: int,
    min_count: float,
) -> FloatArray:
    """Fisher z ``(n_pairs, n_lags)``: therapist ``t_anchors[p]`` vs client ``c_anchors[p]``."""
    a = t_side(therapist_windows(x, t_anchors, w))  # (P, 6, w)
    s = lagged_sums(a, client_stretches(y, c_anchors, lmax, w), w)
    return fisher_z(r_from_sums(s, min_count))


def all_pairs_z(
    x: FloatArray,
    y: FloatArray,
    anchors: NDArray[np.intp],
    lmax: int,
    w: int,
    min_count: float,
) -> FloatArray:
    """Fisher z ``(K, K, n_lags)`` for every therapist segment ``i`` against client segment ``j``.

    Matrix products: every sum is ``sum_w f(therapist_i) g(client_j)``. The product sums of all
    pairs take ``K * 6 * K * 3 * L`` doubles (765 MB for a 3-hour session), so therapist
    segments go through in blocks of at most :data:`PAIR_SUMS_BLOCK_BYTES`; each block's
    correlations are final before the next (same values, bounded memory).
    """
    k = anchors.size
    n_lags = 2 * lmax + 1
    a = t_side(therapist_windows(x, anchors, w)).reshape(k * 6, w)
    v = client_view(client_stretches(y, anchors, lmax, w), w).reshape(-1, w)
    out = np.empty((k, k, n_lags))
    per_row = 6 * k * 3 * n_lags * 8
    rows = max(1, PAIR_SUMS_BLOCK_BYTES // max(per_row, 1))
    for i in range(0, k, rows):
        j = min(k, i + rows)
        s = (a[6 * i : 6 * j] @ v.T).reshape(j - i, 6, k, 3, n_lags)[..., ::-1]
        out[i:j] = fisher_z(r_from_sums(s.transpose(0, 2, 4, 1, 3), min_count))
    return out
