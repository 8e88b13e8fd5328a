"""Therapist-client heart-rate synchrony: windowed cross-lagged correlation with chance baselines.

Pipeline
--------
1. **HR grid.** Each person's beats ``(t_s, rr_ms)`` become instantaneous heart rate
   ``60000 / rr_ms`` (beats/min) placed at the beat time (the end of its interval) and linearly
   interpolated onto one even grid shared by both people, default ``fs_hz = 2`` (see
   :data:`DEFAULT_FS_HZ`). Artifact-flagged beats are left out. A grid point between two
   consecutive good beats is ``nan`` when they are more than ``gap_s`` (3 s) apart or when it
   falls in an explicit gap interval, so an isolated premature beat costs no data while a
   flagged stretch, a drop-out or a gap stays blank: missing data is never interpolated across
   silently.
2. **Low-pass** (our addition, ``lowpass_hz``, default 0.15 Hz, ``None`` disables): a causal
   4th-order Butterworth filter on each grid, restarted after every gap (its first 10 s then
   count as missing). It removes respiratory sinus arrhythmia at spontaneous breathing rates, so
   two people breathing at similar rates are not read as synchrony. Both people get the same
   filter, so its delay cancels in every lag; live and offline use the same filter.
3. **Windowed cross-lagged correlation** (Boker, Xu, Rotondo & King 2002, Psychol Methods
   7(3):338-355, doi:10.1037/1082-989X.7.3.338). For a window of ``w`` samples starting at
   grid index ``a`` and a lag of ``k`` samples, ``r(k) = corr(T[a:a+w], C[a-k:a-k+w])`` after
   removing a least-squares line from each of the two slices (per-window linear detrending),
   using only sample pairs where both are present. Fisher ``z = atanh(r)``. Defaults: window
   30 s, lags +-5 s, step 1 s.

   **Sign convention (the project's contract): positive lag = client leads.** ``r(k)`` pairs the
   therapist at time ``t`` with the client at ``t - k/fs``, so a peak at ``k > 0`` means the
   client's HR changes precede the therapist's by ``k/fs`` seconds. Negative lags: therapist
   leads. The therapist window is fixed and the client window slides, so a window whose
   therapist slice ends at ``e`` uses client data up to ``e + max_lag_s``: a live value is
   therefore at least ``max_lag_s`` old (see :class:`LiveSynchrony`).

   Peak picking (Boker et al. 2002): per window, the in-phase peak is the interior local
   maximum of ``r`` with ``r > 0`` nearest to lag 0 and the anti-phase peak is the interior local
   minimum with ``r < 0`` nearest to lag 0 (ties: the stronger). They are kept apart; a window
   without such a peak gets ``nan`` for it.
4. **Offline significance: segment shuffling** (SUSY, Tschacher & Meier 2020, Psychotherapy
   Research 30(5):617-630, doi:10.1080/10503307.2019.1612114; the formulas below follow the
   authors' R package ``SUSY``, ``susy()`` and ``as.data.frame.susy``). Both series are cut into
   ``K`` non-overlapping segments of the window length. ``z[i, j, lag]`` is computed for every
   therapist segment ``i`` against every client segment ``j`` (real pairs ``i == j``,
   surrogates ``i != j``: all ``K(K-1)`` of them). SUSY's aggregates, on ``|z|`` by default:

   - ``Z_real(lag) = mean_i |z[i, i, lag]|``, ``Z_surr(lag) = mean_{i != j} |z[i, j, lag]|``;
   - ``z_mean = mean over lags of Z_real``;
   - ``effect_size = (mean_lag Z_real - mean_lag Z_surr) / sd_lag(Z_surr)`` with ``sd`` the
     sample SD (ddof 1) **across lags of the per-lag surrogate means**. This is SUSY's ES
     exactly; note the denominator is the lag-to-lag spread of an average over thousands of
     pairs, so it is small and ES is *not* a Cohen's d or a test statistic.
   - "therapist leads" uses lags < 0 only, "client leads" lags > 0 only (SUSY's ``lead1`` /
     ``lead2`` with the therapist as first series);
   - ``in_phase_z`` / ``anti_phase_z``: mean of the non-negative / negative entries of the
     *signed* profile ``mean_i z[i, i, lag]`` (SUSY's ``meanZ(in-phase)``, ``meanZ(anti-phase)``).

   **p-value.** The real statistic is an average over ``K`` pairs, so it is compared with
   surrogates of the same kind: ``n_surrogates`` seeded random derangements ``s`` of the
   segments (no segment paired with itself), each giving ``mean_i mean_lag z[i, s(i), lag]`` from
   the all-pairs table. The test is on the *signed* z (SUSY's noAbs variant), once for in-phase
   (upper tail) and once for anti-phase (lower tail), each ``p = (b + 1) / (n + 1)`` with ``b``
   the surrogates at least as extreme (Phipson & Smyth 2010, doi:10.2202/1544-6115.1585);
   ``p_segments = min(1, 2 min(p_in, p_anti))`` (Bonferroni over the two phases). The ``|z|``
   version (SUSY's default) had a third to a half of the power on simulated dyads and is kept as
   ``p_abs``; ``surrogate_z = (Z - mean) / sd`` of its surrogates.

   Shuffled pairings are independent from segment to segment while real neighbouring segments
   are not (slow HR changes and ~0.1 Hz Mayer waves span several 30 s segments), so plain
   segment shuffling was anti-conservative on the project's simulator (10-12 % false positives
   at alpha .05 for independent people). Two remedies, both reported: the shuffled means are
   widened by Bartlett's variance-inflation factor from the lag-1 and lag-2 autocorrelation of
   the real per-segment values (``serial_lags``), and a second null, circular shifts of the
   client's whole series by at least 60 s (which keep every serial dependence), tests the same
   signed statistic (``p_circular``). **``p_value = max(p_segments, p_circular)``**, an
   intersection-union test: significant only against both nulls, valid when either one is.
   Measured on independent simulated dyads (12 min): 5.8 % of 120 seeds below .05.

   **Leader.** ``"client"`` (``"therapist"``) only if ``p_value < alpha``, the lead/lag asymmetry
   (mean signed z, sign of the stronger phase, over lags > 0 minus lags < 0) is beyond the
   derangement surrogates (two-sided ``p_asymmetry < alpha``) with a positive (negative) sign,
   and ``peak_lag_s`` agrees and is at least one grid step from 0; otherwise ``"none"``.
5. **Pacer awareness.** Two people breathing to one pacer share a strong oscillation at the
   pacer frequency and correlate with no coupling at all. When a pacer runs, each person's RR is
   fitted with ``c0 + a sin(2 pi f t) + b cos(2 pi f t)`` on beat times (60 s windows, with
   :func:`hrv.rsa.rsa_at_rate`); both fits
   strong (amplitude ``sqrt(a^2 + b^2) >= 15 ms`` and ``R^2 >= 0.3``) marks the stretch
   *pacer-driven*. Offline, the pacer's fundamental and first harmonic are also regressed out of
   each person's HR grid in 30 s blocks before correlating, so what is tested is synchrony beyond
   the shared pacer.

Short or bad input never raises: too little usable data gives ``nan`` fields with counts.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import butter, sosfilt, sosfilt_zi

from hrv.rsa import rsa_at_rate

__all__ = [
    "DEFAULT_FS_HZ",
    "PACER_MIN_AMPLITUDE_MS",
    "PACER_MIN_R2",
    "LiveSnapshot",
    "LiveSynchrony",
    "SynchronyResult",
    "WindowedSync",
    "describe",
    "hr_grid",
    "synchrony",
    "windowed_cross_correlation",
]

FloatArray = NDArray[np.float64]

#: Grid rate for HR (Hz). 2 Hz is about twice the heart rate, so interpolation invents little
#: between beats; it resolves lags to 0.5 s (enough to tell a 3 s lead from 2 or 4 s) and covers
#: the slow arousal changes (< 0.1 Hz) and RSA (<= 0.4 Hz) that carry HR synchrony; cost grows
#: with the square of the rate, so 4 Hz would cost four times as much for no new information.
DEFAULT_FS_HZ = 2.0
#: Minimum RSA sine-fit amplitude (ms) at the pacer frequency for "following the pacer". Resonance
#: breathing typically gives 40-100 ms; spontaneous LF power at one fixed frequency rarely
#: holds 15 ms for a whole minute.
PACER_MIN_AMPLITUDE_MS = 15.0
#: Minimum share of RR variance (R^2) the pacer sine explains in a 60 s window.
PACER_MIN_R2 = 0.3
#: Low-pass cutoff (Hz) applied to each HR grid before correlating (``None`` disables): removes
#: respiratory sinus arrhythmia at spontaneous breathing rates (>= 9 breaths/min), so that two
#: people breathing at similar rates with drifting phases are not read as synchrony.
DEFAULT_LOWPASS_HZ: float | None = 0.15
#: Order of that Butterworth filter.
LOWPASS_ORDER = 4
#: Window (s) of beats used for one pacer fit.
PACER_FIT_WINDOW_S = 60.0

_Z_CLIP = 0.999999  # |r| is clipped here before atanh so perfect copies give a finite z (7.25)
_ROLES = ("therapist", "client")


# --------------------------------------------------------------------------------------------
# HR grid
# --------------------------------------------------------------------------------------------


def _grid_length(t_end_s: float, t_start_s: float, fs_hz: float) -> int:
    if not (math.isfinite(t_end_s) and t_end_s >= t_start_s):
        return 0
    return math.floor((t_end_s - t_start_s) * fs_hz + 1e-9) + 1


def hr_grid(
    t_s: ArrayLike,
    rr_ms: ArrayLike,
    artifact: ArrayLike | None = None,
    *,
    fs_hz: float = DEFAULT_FS_HZ,
    t_start_s: float = 0.0,
    t_end_s: float | None = None,
    gap_s: float = 3.0,
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


class _LowPass:
    """Causal Butterworth low-pass run over a grid sample by sample or in chunks.

    The filter restarts at every missing sample (state set to the steady state of the first
    present value, so a run starts without a step transient) and its first ``settle`` outputs
    after a restart are reported missing. Feeding a grid in any chunking gives the same output,
    so live (chunk per beat) equals batch (whole array).
    """

    def __init__(self, fs_hz: float, cutoff_hz: float, settle_s: float = 10.0) -> None:
        self.sos = butter(LOWPASS_ORDER, cutoff_hz, fs=fs_hz, output="sos")
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


# --------------------------------------------------------------------------------------------
# Core: detrended, pairwise-complete lagged correlation from sufficient statistics
# --------------------------------------------------------------------------------------------


def _t_side(x: FloatArray) -> FloatArray:
    """Therapist-side factors ``(..., 6, w)``: m, m x, m x^2, m u, m u x, m u^2."""
    w = x.shape[-1]
    u = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    m = np.isfinite(x).astype(np.float64)
    x0 = np.where(m > 0, x, 0.0)
    return np.stack([m, x0, x0 * x0, m * u, x0 * u, m * u * u], axis=-2)


def _c_side(y: FloatArray) -> FloatArray:
    """Client-side factors ``(..., 3, w)``: m, m y, m y^2."""
    m = np.isfinite(y).astype(np.float64)
    y0 = np.where(m > 0, y, 0.0)
    return np.stack([m, y0, y0 * y0], axis=-2)


def _r_from_sums(s: FloatArray, min_count: float) -> FloatArray:
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


def _fisher_z(r: FloatArray) -> FloatArray:
    return np.arctanh(np.clip(r, -_Z_CLIP, _Z_CLIP))


def _therapist_windows(x: FloatArray, anchors: NDArray[np.intp], w: int) -> FloatArray:
    """Slices ``x[a : a + w]`` as ``(len(anchors), w)``; ``nan`` outside the array."""
    idx = anchors[:, None] + np.arange(w)[None, :]
    inside = (idx >= 0) & (idx < x.size)
    return np.where(inside, x[np.clip(idx, 0, max(x.size - 1, 0))], np.nan)


def _client_stretches(y: FloatArray, anchors: NDArray[np.intp], lmax: int, w: int) -> FloatArray:
    """Client stretches ``y[a - lmax : a + w + lmax]`` (every lagged slice of anchor ``a``)."""
    return _therapist_windows(y, anchors - lmax, w + 2 * lmax)


def _client_view(y_ext: FloatArray, w: int) -> FloatArray:
    """Client factors of every lagged slice: ``(..., 3 * L, w)``, lag-major order reversed.

    Slice ``o`` of a stretch starts ``o`` samples in, i.e. lag ``k = lmax - o``.
    """
    v = np.lib.stride_tricks.sliding_window_view(_c_side(y_ext), w, axis=-1)  # (..., 3, L, w)
    return np.ascontiguousarray(v).reshape(*v.shape[:-3], -1, w)


def _lagged_sums(a_side: FloatArray, y_ext: FloatArray, w: int) -> FloatArray:
    """Product sums ``(..., L, 6, 3)`` (lags ascending) for paired therapist/client data."""
    v = _client_view(y_ext, w)
    s = a_side @ np.swapaxes(v, -1, -2)  # (..., 6, 3L)
    s = s.reshape(*s.shape[:-1], 3, -1)[..., ::-1]
    return np.moveaxis(s, -1, -3)


def _paired_z(
    x: FloatArray,
    y: FloatArray,
    t_anchors: NDArray[np.intp],
    c_anchors: NDArray[np.intp],
    lmax: int,
    w: int,
    min_count: float,
) -> FloatArray:
    """Fisher z ``(n_pairs, n_lags)``: therapist ``t_anchors[p]`` vs client ``c_anchors[p]``."""
    a = _t_side(_therapist_windows(x, t_anchors, w))  # (P, 6, w)
    s = _lagged_sums(a, _client_stretches(y, c_anchors, lmax, w), w)
    return _fisher_z(_r_from_sums(s, min_count))


def _all_pairs_z(
    x: FloatArray,
    y: FloatArray,
    anchors: NDArray[np.intp],
    lmax: int,
    w: int,
    min_count: float,
) -> FloatArray:
    """Fisher z ``(K, K, n_lags)`` for every therapist segment ``i`` against client segment ``j``.

    One matrix product: every sum is ``sum_w f(therapist_i) g(client_j)``.
    """
    k = anchors.size
    a = _t_side(_therapist_windows(x, anchors, w)).reshape(k * 6, w)
    v = _client_view(_client_stretches(y, anchors, lmax, w), w).reshape(-1, w)
    s = (a @ v.T).reshape(k, 6, k, 3, 2 * lmax + 1)[..., ::-1]
    return _fisher_z(_r_from_sums(s.transpose(0, 2, 4, 1, 3), min_count))


# --------------------------------------------------------------------------------------------
# Windowed cross-lagged correlation (time course)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
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


def _pick_peaks(
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


def _lag_samples(max_lag_s: float, fs_hz: float) -> NDArray[np.intp]:
    lmax = round(max_lag_s * fs_hz)
    return np.arange(-lmax, lmax + 1, dtype=np.intp)


def windowed_cross_correlation(
    therapist_hr: ArrayLike,
    client_hr: ArrayLike,
    *,
    fs_hz: float = DEFAULT_FS_HZ,
    window_s: float = 30.0,
    max_lag_s: float = 5.0,
    step_s: float = 1.0,
    max_missing: float = 0.1,
    t_start_s: float = 0.0,
    peak_half_width_s: float = 1.0,
) -> WindowedSync:
    """Windowed cross-lagged correlation (Boker et al. 2002) of two HR grids.

    Parameters
    ----------
    therapist_hr, client_hr : array_like
        HR grids (beats/min) from :func:`hr_grid` on the same grid; ``nan`` = missing.
    fs_hz : float
        Grid rate (Hz).
    window_s, max_lag_s, step_s : float
        Window length, largest lag either way, and window step (s). Defaults 30, 5, 1.
    max_missing : float
        Largest fraction of missing sample pairs a window may have at any lag; windows with more
        are skipped (their row is ``nan``), never filled in.
    t_start_s : float
        Time (s) of grid point 0.
    peak_half_width_s : float
        A peak must be the largest value within this many seconds of lag on either side.

    Returns
    -------
    WindowedSync
        Empty arrays when the grids are shorter than one window plus both lag margins.
    """
    x = np.asarray(therapist_hr, dtype=np.float64).ravel()
    y = np.asarray(client_hr, dtype=np.float64).ravel()
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    w = max(3, round(window_s * fs_hz))
    lags = _lag_samples(max_lag_s, fs_hz)
    lmax = int(lags[-1])
    step = max(1, round(step_s * fs_hz))
    lags_s = lags / fs_hz
    anchors = np.arange(lmax, n - w - lmax + 1, step, dtype=np.intp)
    if anchors.size == 0:
        e = np.empty(0)
        return WindowedSync(e, lags_s, np.empty((0, lags.size)), e, e, e, e, e, 0, 0)
    min_count = (1.0 - max_missing) * w
    zs = []
    for chunk in np.array_split(anchors, max(1, anchors.size // 512)):
        zs.append(_paired_z(x, y, chunk, chunk, lmax, w, min_count))
    z = np.concatenate(zs)
    skipped = ~np.all(np.isfinite(z), axis=1)
    z[skipped] = np.nan
    ip, ipl, ap, apl = _pick_peaks(z, lags_s, round(peak_half_width_s * fs_hz))
    t_end = t_start_s + (anchors + w) / fs_hz
    return WindowedSync(
        t_end, lags_s, z, z[:, lmax], ip, ipl, ap, apl, int(anchors.size), int(skipped.sum())
    )


# --------------------------------------------------------------------------------------------
# Pacer awareness
# --------------------------------------------------------------------------------------------


def _pacer_strong(t_s: FloatArray, rr_ms: FloatArray, f_hz: float) -> bool:
    """Both thresholds met by :func:`hrv.rsa.rsa_at_rate` at ``f_hz`` on these beats."""
    ok = np.isfinite(t_s) & np.isfinite(rr_ms) & (rr_ms > 0)
    fit = rsa_at_rate(t_s[ok], rr_ms[ok], f_hz * 60.0)
    return bool(fit.amplitude_ms >= PACER_MIN_AMPLITUDE_MS and fit.r_squared >= PACER_MIN_R2)


def _pacer_rate_at(schedule: Sequence[tuple[float, float]], t: float) -> float:
    """Pacer rate (breaths/min) in force at ``t`` from ``(t_s, rate_bpm)`` changes; 0 = off."""
    rate = 0.0
    for ts, r in schedule:
        if ts <= t:
            rate = float(r)
        else:
            break
    return rate


def _beats_between(
    t: FloatArray, rr: FloatArray, ok: NDArray[np.bool_], lo: float, hi: float
) -> tuple[FloatArray, FloatArray]:
    i0, i1 = np.searchsorted(t, [lo, hi])
    sel = ok[i0:i1]
    return t[i0:i1][sel], rr[i0:i1][sel]


def _remove_pacer(
    hr: FloatArray,
    fs_hz: float,
    t_start_s: float,
    schedule: Sequence[tuple[float, float]],
    block_s: float,
) -> FloatArray:
    """Regress the pacer's fundamental and first harmonic out of ``hr`` in blocks (pacer on)."""
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


# --------------------------------------------------------------------------------------------
# Offline: SUSY-style segment shuffling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectionStats:
    """Statistics restricted to one lead direction (lags of one sign)."""

    z_mean: float
    effect_size: float
    surrogate_z: float
    p_value: float


@dataclass(frozen=True, slots=True)
class SynchronyResult:
    """Offline synchrony of one dyad against segment-shuffled surrogates.

    Contract keys (design.md section 8): ``z_mean``, ``effect_size``, ``p_value``,
    ``n_surrogates``, ``peak_lag_s`` (positive: client leads), ``leader``, ``in_phase_z``,
    ``anti_phase_z``, ``pacer_driven``; :meth:`contract` returns exactly those (``None`` for
    ``nan``). Everything is ``nan`` (counts 0, leader ``"none"``) with fewer than
    ``min_segments`` usable segments.

    Attributes
    ----------
    z_mean : float
        SUSY ``Z``: mean over lags and segments of ``|z|`` for the real pairing.
    z_surrogate_mean : float
        The same over all ``K(K-1)`` mismatched segment pairs.
    effect_size : float
        SUSY ES (see the module docstring; denominator = SD across lags of surrogate means).
    surrogate_z : float
        ``(z_mean - mean) / sd`` of the ``|z|`` derangement surrogates.
    p_value : float
        ``max(p_segments, p_circular)`` (``p_segments`` alone when ``n_circular`` is 0).
    p_segments : float
        ``min(1, 2 min(p_in_phase, p_anti_phase))`` against ``n_surrogates`` derangements.
    p_abs, p_in_phase, p_anti_phase : float
        ``(b + 1) / (n + 1)`` for mean ``|z|`` (SUSY default), mean signed z (upper tail) and
        mean signed z (lower tail).
    surrogate_z_signed : float
        ``(Z_signed - mean) / sd`` of the signed derangement surrogates.
    n_surrogates : int
        Number of derangement surrogates.
    n_surrogate_pairs : int
        Mismatched segment pairs in the all-pairs table (``K(K-1)``).
    p_circular, n_circular : float, int
        Two-sided p of the signed statistic against circular shifts of the client's series
        (second null) and how many shifts were usable.
    z_mean_signed, effect_size_signed : float
        SUSY's ``Z(noAbs)`` and ``ES(noAbs)``.
    in_phase_z, anti_phase_z : float
        Mean of the non-negative / negative entries of the real signed lag profile.
    peak_lag_s : float
        Lag (s) where the real ``|z|`` profile most exceeds the surrogate profile, refined by a
        parabola through its neighbours. Positive: client leads.
    therapist_leads, client_leads : DirectionStats
        Statistics on lags < 0 and lags > 0.
    p_asymmetry : float
        Two-sided surrogate p for ``client_leads.z_mean - therapist_leads.z_mean``.
    leader : str
        ``"client"`` / ``"therapist"`` only if ``p_value < alpha``, ``p_asymmetry < alpha`` and
        ``peak_lag_s`` agrees in sign and is at least one grid step; else ``"none"``.
    pacer_driven : bool
        At least half of the usable segments had both people following the pacer.
    pacer_fraction : float
        Share of usable segments that were pacer-driven (0 without a pacer).
    lags_s, real_profile, surrogate_profile : ndarray
        Lags and the per-lag ``|z|`` means (real, all-pairs surrogate).
    n_segments, n_segments_skipped : int
        Usable segments and segments dropped for missing data.
    alpha : float
        Significance level used for ``leader``.
    """

    z_mean: float
    z_surrogate_mean: float
    effect_size: float
    surrogate_z: float
    p_value: float
    n_surrogates: int
    n_surrogate_pairs: int
    p_circular: float
    n_circular: int
    p_segments: float
    p_abs: float
    p_in_phase: float
    p_anti_phase: float
    surrogate_z_signed: float
    z_mean_signed: float
    effect_size_signed: float
    in_phase_z: float
    anti_phase_z: float
    peak_lag_s: float
    therapist_leads: DirectionStats
    client_leads: DirectionStats
    p_asymmetry: float
    leader: str
    pacer_driven: bool
    pacer_fraction: float
    lags_s: FloatArray = field(repr=False)
    real_profile: FloatArray = field(repr=False)
    surrogate_profile: FloatArray = field(repr=False)
    n_segments: int = 0
    n_segments_skipped: int = 0
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        """``p_value < alpha``."""
        return bool(self.p_value < self.alpha)

    def contract(self) -> dict[str, object]:
        """The ``synchrony`` object of ``analyze --json`` (``nan`` becomes ``None``)."""

        def num(v: float) -> float | None:
            return None if not math.isfinite(v) else float(v)

        return {
            "z_mean": num(self.z_mean),
            "effect_size": num(self.effect_size),
            "p_value": num(self.p_value),
            "n_surrogates": int(self.n_surrogates),
            "peak_lag_s": num(self.peak_lag_s),
            "leader": self.leader,
            "in_phase_z": num(self.in_phase_z),
            "anti_phase_z": num(self.anti_phase_z),
            "pacer_driven": bool(self.pacer_driven),
            "surrogate_z": num(self.surrogate_z),
            "p_circular": num(self.p_circular),
            "p_segments": num(self.p_segments),
            "p_asymmetry": num(self.p_asymmetry),
            "therapist_leads_es": num(self.therapist_leads.effect_size),
            "client_leads_es": num(self.client_leads.effect_size),
            "n_segments": int(self.n_segments),
        }


def _nanmean(a: FloatArray, axis: int) -> FloatArray:
    """Mean over ``axis`` ignoring ``nan``; ``nan`` (no warning) where nothing is left."""
    ok = np.isfinite(a)
    cnt = ok.sum(axis=axis)
    tot = np.where(ok, a, 0.0).sum(axis=axis)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def _sd(v: FloatArray) -> float:
    return float(np.std(v, ddof=1)) if v.size >= 2 else math.nan


def _susy_es(real: FloatArray, surr: FloatArray) -> float:
    sd = _sd(surr)
    if not (sd > 0):
        return math.nan
    return (float(real.mean()) - float(surr.mean())) / sd


def _p_upper(real: float, surr: FloatArray) -> float:
    return (int(np.count_nonzero(surr >= real)) + 1) / (surr.size + 1)


def _derangements(k: int, n: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """``n`` uniformly random derangements of ``range(k)`` (rejection sampling), ``k >= 2``."""
    out = np.empty((n, k), dtype=np.intp)
    todo = np.arange(n)
    ar = np.arange(k)
    while todo.size:
        perms = np.argsort(rng.random((todo.size, k)), axis=1)
        ok = ~np.any(perms == ar, axis=1)
        out[todo[ok]] = perms[ok]
        todo = todo[~ok]
    return out


def _inflate(surr: FloatArray, real_per_segment: FloatArray, max_lag: int) -> FloatArray:
    """Widen surrogate means for the serial dependence of the real per-segment values.

    Shuffled pairings are independent from segment to segment, real neighbouring segments are
    not (slow HR changes and ~0.1 Hz rhythms span several segments), so the real mean varies
    more than the shuffled one. The surrogate deviations from their mean are scaled by
    ``sqrt(f)``, ``f = 1 + 2 sum_{k=1..max_lag} (1 - k / K) rho_k`` (Bartlett's variance
    inflation for a mean of ``K`` autocorrelated values), ``rho_k`` the lag-``k``
    autocorrelation of the real per-segment values; ``f`` is never below 1.
    """
    d = real_per_segment[np.isfinite(real_per_segment)]
    k = d.size
    if k < 4:
        return surr
    c = d - d.mean()
    v = float(c @ c)
    if not v > 0:
        return surr
    f = 1.0
    for lag in range(1, min(max_lag, k - 1) + 1):
        f += 2.0 * (1.0 - lag / k) * float(c[:-lag] @ c[lag:]) / v
    f = max(1.0, f)
    mu = float(surr.mean())
    return mu + (surr - mu) * math.sqrt(f)


def _block_pairings(
    k: int, block: int, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Segment pairings for ``n`` block-shuffled surrogates: ``(rows, cols)``, each ``(n, m)``.

    The ``k`` segments, read on a circle from a random start, are cut into ``nb = k // block``
    blocks of ``block`` consecutive segments; a random derangement of the blocks pairs therapist
    block ``I`` with client block ``pi(I) != I``, segment by segment in order. Every pair is a
    real segment ``i`` against a client segment ``j != i`` (SUSY's surrogate), and neighbouring
    pairs stay neighbours, so the surrogates keep the serial dependence that slow heart-rate
    changes give neighbouring segments. With ``block = 1`` this is plain segment shuffling.
    """
    block = max(1, min(block, k // 2))
    nb = k // block
    m = nb * block
    start = rng.integers(0, k, size=n)
    perm = _derangements(nb, n, rng)  # (n, nb)
    t = np.arange(m)
    rows = (start[:, None] + t[None, :]) % k
    src_block = perm[:, t // block]  # (n, m)
    cols = (start[:, None] + src_block * block + (t % block)[None, :]) % k
    return rows, cols


def _nan_result(lags_s: FloatArray, n_skipped: int, alpha: float, pacer: float) -> SynchronyResult:
    nan = math.nan
    d = DirectionStats(nan, nan, nan, nan)
    prof = np.full(lags_s.size, nan)
    return SynchronyResult(
        nan, nan, nan, nan, nan, 0, 0, nan, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan,
        d, d, nan, "none",
        bool(pacer >= 0.5), pacer, lags_s, prof, prof.copy(), 0, n_skipped, alpha,
    )  # fmt: skip


def synchrony(
    therapist_t_s: ArrayLike,
    therapist_rr_ms: ArrayLike,
    client_t_s: ArrayLike,
    client_rr_ms: ArrayLike,
    *,
    therapist_artifact: ArrayLike | None = None,
    client_artifact: ArrayLike | None = None,
    gaps: Iterable[tuple[float, float]] = (),
    pacer: Sequence[tuple[float, float]] = (),
    fs_hz: float = DEFAULT_FS_HZ,
    window_s: float = 30.0,
    max_lag_s: float = 5.0,
    max_missing: float = 0.1,
    lowpass_hz: float | None = DEFAULT_LOWPASS_HZ,
    n_surrogates: int = 1000,
    n_circular: int = 200,
    block_segments: int = 1,
    serial_lags: int = 2,
    min_segments: int = 6,
    alpha: float = 0.05,
    seed: int = 0,
) -> SynchronyResult:
    """Offline therapist-client synchrony with SUSY segment-shuffling significance.

    Parameters
    ----------
    therapist_t_s, therapist_rr_ms, client_t_s, client_rr_ms : array_like
        Each person's beat times (s, one session clock) and RR intervals (ms).
    therapist_artifact, client_artifact : array_like of bool, optional
        Per-beat artifact flags (flagged stretches are excluded, not interpolated).
    gaps : iterable of (start_s, end_s)
        Stretches excluded for both people.
    pacer : sequence of (t_s, rate_bpm)
        Pacer rate changes in breaths/min, in time order; 0 = off. Empty: no pacer.
    fs_hz, window_s, max_lag_s : float
        Grid rate (Hz), segment = window length (s), largest lag (s).
    max_missing : float
        A segment pair with more than this fraction of missing samples at any lag is dropped.
    n_surrogates : int
        Derangement surrogates for the p-value (at least 1000 recommended; 0 skips).
    n_circular : int
        Circular-shift surrogates for the second null (0 skips it; then ``p_value`` is
        ``p_segments`` alone).
    lowpass_hz : float or None
        Low-pass cutoff (Hz) applied to both HR grids before correlating; ``None`` disables.
    block_segments : int
        Shuffle blocks of this many consecutive segments (1: SUSY's plain segment shuffling).
    serial_lags : int
        Segment lags used to widen the shuffled null for serial dependence (0: off).
    min_segments : int
        Fewer usable segments than this gives an all-``nan`` result.
    alpha : float
        Significance level for ``leader``.
    seed : int
        Seed for the surrogate draws (results are reproducible).

    Returns
    -------
    SynchronyResult
    """
    tt = np.asarray(therapist_t_s, dtype=np.float64).ravel()
    tc = np.asarray(client_t_s, dtype=np.float64).ravel()
    rr_t = np.asarray(therapist_rr_ms, dtype=np.float64).ravel()
    rr_c = np.asarray(client_rr_ms, dtype=np.float64).ravel()
    lags = _lag_samples(max_lag_s, fs_hz)
    lags_s = lags / fs_hz
    lmax = int(lags[-1])
    gaps = list(gaps)
    ends = [float(v[-1]) for v in (tt, tc) if v.size]
    starts = [float(v[0]) for v in (tt, tc) if v.size]
    if len(ends) < 2:
        return _nan_result(lags_s, 0, alpha, 0.0)
    t0 = math.floor(min(starts) * fs_hz) / fs_hz
    t_end = max(ends)
    x = hr_grid(tt, rr_t, therapist_artifact, fs_hz=fs_hz, t_start_s=t0, t_end_s=t_end, gaps=gaps)
    y = hr_grid(tc, rr_c, client_artifact, fs_hz=fs_hz, t_start_s=t0, t_end_s=t_end, gaps=gaps)
    schedule = sorted((float(a), float(b)) for a, b in pacer)
    if any(r > 0 for _, r in schedule):
        x = _remove_pacer(x, fs_hz, t0, schedule, window_s)
        y = _remove_pacer(y, fs_hz, t0, schedule, window_s)
    if lowpass_hz is not None:
        x = _LowPass(fs_hz, lowpass_hz)(x)
        y = _LowPass(fs_hz, lowpass_hz)(y)
    n = x.size
    w = max(3, round(window_s * fs_hz))
    anchors = np.arange(lmax, n - w - lmax + 1, w, dtype=np.intp)
    min_count = (1.0 - max_missing) * w
    if anchors.size < 2:
        return _nan_result(lags_s, 0, alpha, 0.0)
    zall = _all_pairs_z(x, y, anchors, lmax, w, min_count)  # (K, K, L)
    diag_ok = np.all(np.isfinite(zall[np.arange(anchors.size), np.arange(anchors.size)]), axis=1)
    use = np.flatnonzero(diag_ok)
    n_skipped = int(anchors.size - use.size)

    # Pacer-driven segments (both people's RSA strongly at the pacer frequency).
    ok_t = ~np.asarray(therapist_artifact, bool) if therapist_artifact is not None else None
    ok_c = ~np.asarray(client_artifact, bool) if client_artifact is not None else None
    ok_t = np.ones(tt.size, bool) if ok_t is None else ok_t
    ok_c = np.ones(tc.size, bool) if ok_c is None else ok_c
    pacer_flags = np.zeros(use.size, dtype=bool)
    for q, i in enumerate(use):
        mid = t0 + (anchors[i] + w / 2) / fs_hz
        rate = _pacer_rate_at(schedule, mid)
        if rate <= 0:
            continue
        lo, hi = mid - PACER_FIT_WINDOW_S / 2, mid + PACER_FIT_WINDOW_S / 2
        f = rate / 60.0
        pacer_flags[q] = _pacer_strong(*_beats_between(tt, rr_t, ok_t, lo, hi), f) and (
            _pacer_strong(*_beats_between(tc, rr_c, ok_c, lo, hi), f)
        )
    pacer_fraction = float(pacer_flags.mean()) if use.size else 0.0
    if use.size < max(min_segments, 3):
        return _nan_result(lags_s, n_skipped, alpha, pacer_fraction)

    z = zall[np.ix_(use, use)]  # (K, K, L)
    k = use.size
    az = np.abs(z)
    eye = np.eye(k, dtype=bool)
    off = ~eye & np.all(np.isfinite(z), axis=2)
    real_prof = az[eye].mean(axis=0)  # (L,)
    surr_prof = az[off].mean(axis=0)
    real_signed = z[eye].mean(axis=0)
    surr_signed = z[off].mean(axis=0)
    neg, pos = lags < 0, lags > 0

    # Derangement surrogates: per-pair lag means, so each surrogate is a K-pair average.
    rng = np.random.default_rng(seed)
    m_all = _nanmean(az, axis=2)
    m_sig = _nanmean(z, axis=2)
    m_neg = _nanmean(az[:, :, neg], axis=2)
    m_pos = _nanmean(az[:, :, pos], axis=2)
    real_all = float(np.diag(m_all).mean())
    real_sig = float(np.diag(m_sig).mean())
    real_neg = float(np.diag(m_neg).mean())
    real_pos = float(np.diag(m_pos).mean())
    nan = math.nan
    sz = p_abs = sz_sig = p_in = p_anti = sz_neg = p_neg = sz_pos = p_pos = p_asym = nan
    asym_real = nan
    if n_surrogates > 0:
        rows, cols = _block_pairings(k, block_segments, n_surrogates, rng)

        def surr(m: FloatArray) -> FloatArray:
            return _nanmean(m[rows, cols], axis=1)

        def zp(real: float, s: FloatArray) -> tuple[float, float]:
            sd = _sd(s)
            zz = (real - float(s.mean())) / sd if sd > 0 else nan
            return zz, _p_upper(real, s)

        sz, p_abs = zp(real_all, surr(m_all))
        s_sig = surr(m_sig)
        if serial_lags > 0:
            s_sig = _inflate(s_sig, np.diag(m_sig), serial_lags)
        sz_sig, p_in = zp(real_sig, s_sig)
        p_anti = _p_upper(-real_sig, -s_sig)
        s_neg, s_pos = surr(m_neg), surr(m_pos)
        sz_neg, p_neg = zp(real_neg, s_neg)
        sz_pos, p_pos = zp(real_pos, s_pos)
        # Lead/lag asymmetry on the signed z of the stronger phase (in- or anti-phase):
        # mean over client-leads lags minus mean over therapist-leads lags.
        sign = 1.0 if p_in <= p_anti else -1.0
        d_pair = sign * (_nanmean(z[:, :, pos], axis=2) - _nanmean(z[:, :, neg], axis=2))
        asym_real = float(np.diag(d_pair).mean())
        asym_s = surr(d_pair)
        if serial_lags > 0:
            asym_s = _inflate(asym_s, np.diag(d_pair), serial_lags)
        p_asym = (int(np.count_nonzero(np.abs(asym_s) >= abs(asym_real))) + 1) / (asym_s.size + 1)
    p_seg = min(1.0, 2.0 * min(p_in, p_anti)) if n_surrogates > 0 else nan

    # Second null: circular shifts of the client's whole series.
    p_circ = math.nan
    n_circ_done = 0
    min_shift = max(round(60.0 * fs_hz), w + 2 * lmax)
    if n_circular > 0 and n - 2 * min_shift > 0:
        shifts = rng.integers(min_shift, n - min_shift, size=n_circular)
        ua = anchors[use]
        a_side = _t_side(_therapist_windows(x, ua, w))  # (K, 6, w)
        base = ua[:, None] - lmax + np.arange(w + 2 * lmax)[None, :]
        stats = []
        for chunk in np.array_split(shifts, max(1, n_circular // 16)):
            idx = (base[None] + chunk[:, None, None]) % n
            s = _lagged_sums(a_side[None], y[idx], w)  # (S, K, L, 6, 3)
            zz = _fisher_z(_r_from_sums(s, min_count))
            stats.append(_nanmean(_nanmean(zz, axis=2), axis=1))
        circ = np.concatenate(stats)
        circ = circ[np.isfinite(circ)]
        if circ.size:
            p_circ = min(1.0, 2.0 * min(_p_upper(real_sig, circ), _p_upper(-real_sig, -circ)))
            n_circ_done = int(circ.size)

    # Intersection-union: significant only against both nulls (valid if either one is).
    p = max(p_seg, p_circ) if math.isfinite(p_circ) else p_seg

    # Peak lag: where the real signed profile most exceeds the surrogate one, in the direction
    # of the stronger phase (in-phase: largest excess; anti-phase: most negative).
    phase_sign = 1.0 if not (p_anti < p_in) else -1.0
    excess = phase_sign * (real_signed - surr_signed)
    i_pk = int(np.argmax(excess))
    peak = float(lags_s[i_pk])
    if 0 < i_pk < lags.size - 1:
        y0, y1, y2 = excess[i_pk - 1], excess[i_pk], excess[i_pk + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            peak += float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) / fs_hz

    leader = "none"
    step = 1.0 / fs_hz
    if p < alpha and p_asym < alpha:
        if asym_real > 0 and peak >= step:
            leader = "client"
        elif asym_real < 0 and peak <= -step:
            leader = "therapist"

    def mean_or_nan(v: FloatArray) -> float:
        return float(v.mean()) if v.size else math.nan

    return SynchronyResult(
        z_mean=real_all,
        z_surrogate_mean=float(surr_prof.mean()),
        effect_size=_susy_es(real_prof, surr_prof),
        surrogate_z=sz,
        p_value=p,
        n_surrogates=int(n_surrogates),
        n_surrogate_pairs=int(off.sum()),
        p_circular=p_circ,
        n_circular=n_circ_done,
        p_segments=p_seg,
        p_abs=p_abs,
        p_in_phase=p_in,
        p_anti_phase=p_anti,
        surrogate_z_signed=sz_sig,
        z_mean_signed=float(real_signed.mean()),
        effect_size_signed=_susy_es(real_signed, surr_signed),
        in_phase_z=mean_or_nan(real_signed[real_signed >= 0]),
        anti_phase_z=mean_or_nan(real_signed[real_signed < 0]),
        peak_lag_s=peak,
        therapist_leads=DirectionStats(
            real_neg, _susy_es(real_prof[neg], surr_prof[neg]), sz_neg, p_neg
        ),
        client_leads=DirectionStats(
            real_pos, _susy_es(real_prof[pos], surr_prof[pos]), sz_pos, p_pos
        ),
        p_asymmetry=p_asym,
        leader=leader,
        pacer_driven=bool(pacer_fraction >= 0.5),
        pacer_fraction=pacer_fraction,
        lags_s=lags_s,
        real_profile=real_prof,
        surrogate_profile=surr_prof,
        n_segments=int(k),
        n_segments_skipped=n_skipped,
        alpha=alpha,
    )


# --------------------------------------------------------------------------------------------
# Live
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """One live synchrony reading. In-phase and anti-phase are kept apart, each with its band.

    Attributes
    ----------
    t_s : float
        The ``now_s`` passed to :meth:`LiveSynchrony.update`.
    window_end_s : float
        End (s) of the therapist window the value describes; the client slices reach
        ``max_lag_s`` further, so ``window_end_s <= t_s - max_lag_s``.
    latency_s : float
        ``t_s - window_end_s``: ``max_lag_s`` (plus up to one grid step) when beats arrive on
        time, more while a strap's beats are late.
    value : float
        In-phase strength: Fisher z of the Boker peak (r > 0) nearest lag 0, 0 when the window
        has no in-phase peak; ``nan`` when there is no usable window.
    lag_s : float
        Lag (s) of that peak (positive: client leads); ``nan`` without a peak.
    band : tuple of float or None
        ``(low, high)``: 5th and 95th percentiles of the same in-phase strength over time-offset
        pairings (the therapist's current window with the client's from at least
        ``min_offset_s`` earlier, and the reverse); ``None`` until ``min_offsets`` pairings exist.
    anti_value, anti_lag_s, anti_band :
        The same for the anti-phase trough (r < 0), as a positive strength ``|z|``.
    z0 : float
        Signed Fisher z at lag 0.
    phase : str or None
        ``"in-phase"`` when ``value`` is above its band, else ``"anti-phase"`` when
        ``anti_value`` is above its band, else ``None``. In-phase wins when both are: a lagged
        in-phase peak of smooth signals brings negative side lobes with it.
    leader : str or None
        For the phase above its band: ``"client"`` (lag > 0), ``"therapist"`` (lag < 0) or
        ``"none"`` (lag 0); ``None`` when neither is above its band.
    pacer_driven : bool
        Both people's RR follow the running pacer strongly (last 60 s of beats).
    status : str
        Plain-words state for a display.
    n_offsets : int
        Pairings behind the bands.
    """

    t_s: float
    window_end_s: float
    latency_s: float
    value: float
    lag_s: float
    band: tuple[float, float] | None
    anti_value: float
    anti_lag_s: float
    anti_band: tuple[float, float] | None
    z0: float
    phase: str | None
    leader: str | None
    pacer_driven: bool
    status: str
    n_offsets: int


def _strength(z: FloatArray, lags_s: FloatArray, half_width: int) -> tuple[FloatArray, ...]:
    """Per row: in-phase strength and lag, anti-phase strength and lag (0 / nan without peak)."""
    ip, ipl, ap, apl = _pick_peaks(z, lags_s, half_width)
    valid = np.all(np.isfinite(z), axis=1)
    s_in = np.where(valid, np.where(np.isfinite(ip), ip, 0.0), np.nan)
    s_anti = np.where(valid, np.where(np.isfinite(ap), -ap, 0.0), np.nan)
    return s_in, ipl, s_anti, apl


class _RoleBuffer:
    """One person's HR grid as a ring buffer, filled beat by beat like :func:`hr_grid`."""

    def __init__(
        self, size: int, fs_hz: float, gap_s: float, beat_keep_s: float, lowpass_hz: float | None
    ) -> None:
        self.lowpass = _LowPass(fs_hz, lowpass_hz) if lowpass_hz is not None else None
        self.size = size
        self.fs = fs_hz
        self.gap_s = gap_s
        self.buf = np.full(size, np.nan)
        self.filled = 0  # grid indices < filled are final
        self.last: tuple[float, float, bool] | None = None  # (t_s, hr_bpm, flagged)
        self.beats: deque[tuple[float, float, bool]] = deque()
        self.beat_keep_s = beat_keep_s

    def add(self, t: float, rr: float, flagged: bool) -> None:
        if self.last is not None and t <= self.last[0]:
            return  # out of order or duplicate: ignore
        bad = flagged or not (math.isfinite(rr) and rr > 0 and math.isfinite(t))
        self.beats.append((t, rr, bad))
        while self.beats and self.beats[0][0] < t - self.beat_keep_s:
            self.beats.popleft()
        if bad:
            return  # left out, as in hr_grid: the next good beat interpolates or blanks
        hr = 60000.0 / rr
        hi = math.floor(t * self.fs) + 2
        lo = max(self.filled, hi - 3 - self.size)
        idx = np.arange(lo, hi)
        g = idx / self.fs
        idx, g = idx[g <= t], g[g <= t]
        if self.last is None:
            vals = np.full(idx.size, np.nan)
        else:
            t0, h0, b0 = self.last
            span = t - t0
            if b0 or bad or span > self.gap_s:
                vals = np.full(idx.size, np.nan)
            else:
                vals = np.where(g > t0, h0 + (g - t0) / span * (hr - h0), np.nan)
        if self.lowpass is not None:
            if idx.size and idx[0] > self.filled:
                self.lowpass.zi = None  # skipped samples were a gap
            vals = self.lowpass(vals)
        if idx.size:
            self.buf[idx % self.size] = vals
            self.filled = int(idx[-1]) + 1
        self.last = (t, hr, bad)

    def blank(self, start_s: float, end_s: float) -> None:
        lo = max(math.ceil(start_s * self.fs - 1e-9), self.filled - self.size)
        hi = min(math.floor(end_s * self.fs + 1e-9) + 1, self.filled)
        if hi > lo:
            self.buf[np.arange(lo, hi) % self.size] = np.nan

    def get(self, idx: NDArray[np.intp]) -> FloatArray:
        ok = (idx >= 0) & (idx < self.filled) & (idx >= self.filled - self.size)
        return np.where(ok, self.buf[idx % self.size], np.nan)

    def recent_beats(self, lo: float, hi: float) -> tuple[FloatArray, FloatArray]:
        arr = [(t, rr) for t, rr, b in self.beats if lo <= t <= hi and not b]
        if not arr:
            return np.empty(0), np.empty(0)
        a = np.asarray(arr)
        return a[:, 0], a[:, 1]


class LiveSynchrony:
    """Live windowed synchrony with a time-offset chance band, bounded memory and cost.

    Feed beats of both roles with :meth:`add_beat` (or :meth:`add_beats`) as they arrive and call
    :meth:`update` once a second. The grid is built beat by beat with the same rule as
    :func:`hr_grid` (``t_start_s = 0``) and low-passed by the same causal filter as
    :func:`synchrony`, so live values equal :func:`windowed_cross_correlation` on
    ``lowpass(hr_grid(...))`` for the same window. Only ``history_s`` of grid (default 20 min) is
    kept, in ring buffers, and at most ``2 * n_offsets`` pairings are computed per update, so
    the cost of an update does not grow with session length.

    Parameters
    ----------
    fs_hz, window_s, max_lag_s : float
        As in :func:`windowed_cross_correlation`.
    history_s : float
        Grid history kept per person (s).
    gap_s : float
        Beats further apart than this are not interpolated between.
    n_offsets : int
        Largest number of time offsets for the chance band (each used in both directions).
    min_offset_s : float
        Smallest time offset (s) between paired windows; HR autocorrelation has faded by then.
    min_offsets : int
        Fewer valid pairings than this: band ``None`` and status "not enough data yet".
    max_missing : float
        Largest missing fraction a window may have at any lag.
    lowpass_hz : float or None
        Causal low-pass applied to each person's grid as it is built (as offline).
    pacer : sequence of (t_s, rate_bpm)
        Initial pacer schedule (breaths/min, 0 = off); extend with :meth:`set_pacer`.
    """

    def __init__(
        self,
        *,
        fs_hz: float = DEFAULT_FS_HZ,
        window_s: float = 30.0,
        max_lag_s: float = 5.0,
        history_s: float = 1200.0,
        gap_s: float = 3.0,
        n_offsets: int = 50,
        min_offset_s: float = 60.0,
        min_offsets: int = 20,
        max_missing: float = 0.1,
        lowpass_hz: float | None = DEFAULT_LOWPASS_HZ,
        pacer: Sequence[tuple[float, float]] = (),
    ) -> None:
        self.fs_hz = fs_hz
        self.window_s = window_s
        self.max_lag_s = max_lag_s
        self._w = max(3, round(window_s * fs_hz))
        self._lags = _lag_samples(max_lag_s, fs_hz)
        self._lags_s = self._lags / fs_hz
        self._half_width = max(1, round(1.0 * fs_hz))
        self._lmax = int(self._lags[-1])
        self._size = max(round(history_s * fs_hz), self._w + 2 * self._lmax + 1)
        self._n_offsets = n_offsets
        self._min_offset = round(min_offset_s * fs_hz)
        self._min_offsets = min_offsets
        self._min_count = (1.0 - max_missing) * self._w
        keep = PACER_FIT_WINDOW_S + 5.0
        self._roles = {r: _RoleBuffer(self._size, fs_hz, gap_s, keep, lowpass_hz) for r in _ROLES}
        self._pacer: list[tuple[float, float]] = sorted((float(a), float(b)) for a, b in pacer)

    def add_beat(self, role: str, t_s: float, rr_ms: float, artifact: bool = False) -> None:
        """Add one beat of ``role`` ("therapist" or "client"): time (s) and RR (ms)."""
        self._roles[role].add(float(t_s), float(rr_ms), bool(artifact))

    def add_beats(
        self, role: str, t_s: ArrayLike, rr_ms: ArrayLike, artifact: ArrayLike | None = None
    ) -> None:
        """Add several beats of ``role`` in time order."""
        t = np.asarray(t_s, dtype=np.float64).ravel()
        rr = np.asarray(rr_ms, dtype=np.float64).ravel()
        fl = np.zeros(t.size, bool) if artifact is None else np.asarray(artifact, bool).ravel()
        for a, b, c in zip(t.tolist(), rr.tolist(), fl.tolist(), strict=True):
            self._roles[role].add(a, b, c)

    def mark_gap(self, role: str, start_s: float, end_s: float) -> None:
        """Blank already gridded data of ``role`` between two times (s)."""
        self._roles[role].blank(start_s, end_s)

    def set_pacer(self, t_s: float, rate_bpm: float) -> None:
        """The pacer runs at ``rate_bpm`` breaths/min from ``t_s`` on (0 = off)."""
        self._pacer.append((float(t_s), float(rate_bpm)))
        self._pacer.sort()
        if len(self._pacer) > 64:  # keep the schedule bounded: only the rate in force matters
            self._pacer = self._pacer[-64:]

    def _pacer_driven(self, now_s: float) -> bool:
        rate = _pacer_rate_at(self._pacer, now_s)
        if rate <= 0:
            return False
        f = rate / 60.0
        lo = now_s - PACER_FIT_WINDOW_S
        return all(_pacer_strong(*b.recent_beats(lo, now_s), f) for b in self._roles.values())

    def update(self, now_s: float) -> LiveSnapshot:
        """Compute the reading for the latest complete window at ``now_s`` (s, session clock)."""
        th, cl = self._roles["therapist"], self._roles["client"]
        fs, w, lmax = self.fs_hz, self._w, self._lmax
        pacer = self._pacer_driven(now_s)
        now_i = math.floor(now_s * fs + 1e-9) + 1
        avail = min(now_i, th.filled, cl.filled)
        end = avail - lmax
        a = end - w
        window_end_s = end / fs
        nan = math.nan

        def snap(
            vals: tuple[float, float, float, float] = (nan, nan, nan, nan),
            bands: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None),
            z0: float = nan,
            phase: str | None = None,
            leader: str | None = None,
            status: str = "",
            n_off: int = 0,
        ) -> LiveSnapshot:
            return LiveSnapshot(
                float(now_s), window_end_s, float(now_s) - window_end_s, vals[0], vals[1],
                bands[0], vals[2], vals[3], bands[1], z0, phase, leader, pacer, status, n_off,
            )  # fmt: skip

        if a - lmax < 0 or th.last is None or cl.last is None:
            return snap(status="not enough data yet")
        ar = np.arange(w)
        ar_ext = np.arange(-lmax, w + lmax)
        x_cur = th.get(a + ar)
        c_now = cl.get(a + ar_ext)
        z = self._z(x_cur[None], c_now[None])
        if not np.all(np.isfinite(z)):
            return snap(status="signal gap: waiting for clean beats from both straps")
        cur = _strength(z, self._lags_s, self._half_width)
        vals = (float(cur[0][0]), float(cur[1][0]), float(cur[2][0]), float(cur[3][0]))
        z0 = float(z[0, lmax])

        # Chance bands: the current window of one person against the other's from other times.
        oldest = max(th.filled - self._size, cl.filled - self._size, 0)
        max_off = a - lmax - oldest
        bands: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)
        n_off = 0
        if max_off >= self._min_offset:
            k = min(self._n_offsets, (max_off - self._min_offset) // max(1, round(5 * fs)) + 1)
            offs = np.unique(np.linspace(self._min_offset, max_off, k).astype(np.intp))
            past = a - offs
            xs = np.concatenate([np.repeat(x_cur[None], offs.size, 0), th.get(past[:, None] + ar)])
            c_past = cl.get(past[:, None] + ar_ext)
            ys = np.concatenate([c_past, np.repeat(c_now[None], offs.size, 0)])
            zz = self._z(xs, ys)
            good = np.all(np.isfinite(zz), axis=1)
            n_off = int(good.sum())
            if n_off >= self._min_offsets:
                s_in, _, s_anti, _ = _strength(zz[good], self._lags_s, self._half_width)
                bands = (
                    (float(np.percentile(s_in, 5)), float(np.percentile(s_in, 95))),
                    (float(np.percentile(s_anti, 5)), float(np.percentile(s_anti, 95))),
                )
        if bands[0] is None or bands[1] is None:
            return snap(vals, (None, None), z0, status="not enough data yet", n_off=n_off)
        phase = None
        lag = nan
        if vals[0] > bands[0][1]:
            phase, lag = "in-phase", vals[1]
        elif vals[2] > bands[1][1]:
            phase, lag = "anti-phase", vals[3]
        leader = None
        if phase is not None:
            step = 0.5 / fs
            leader = "client" if lag > step else "therapist" if lag < -step else "none"
        if pacer:
            status = "both following the pacer"
        elif phase is not None:
            status = "more synchrony than the chance band"
        else:
            status = "within the chance band"
        return snap(vals, bands, z0, phase, leader, status, n_off)

    def _z(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Fisher z for therapist slices ``(P, w)`` and client stretches ``(P, w + 2 lmax)``."""
        s = _lagged_sums(_t_side(x), y, self._w)
        return _fisher_z(_r_from_sums(s, self._min_count))


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def _lead_words(leader: str | None, lag_s: float) -> str:
    if leader not in ("client", "therapist") or not math.isfinite(lag_s):
        return ""
    first, second = ("client", "therapist") if leader == "client" else ("therapist", "client")
    secs = max(0.5, round(abs(lag_s) * 2) / 2)
    num = f"{secs:g}"
    return (
        f" The {first}'s heart-rate changes tended to precede the {second}'s by about {num} s"
        " during this stretch."
    )


def describe(result: SynchronyResult | LiveSnapshot) -> str:
    """Plain, hedged, non-clinical words for a synchrony result, always against chance.

    Used by both the dashboard (:class:`LiveSnapshot`) and the session report
    (:class:`SynchronyResult`). The words describe how the two heart-rate signals moved, never
    the people or the relationship, and never call more or less synchrony better or worse.
    """
    if isinstance(result, LiveSnapshot):
        return _describe_live(result)
    r = result
    if r.n_segments == 0 or not math.isfinite(r.z_mean):
        if r.pacer_driven:
            return (
                "Both were following the pacer, so their heart rates rose and fell with the "
                "same breathing rhythm; the stretch is too short to compare anything beyond "
                "that with chance."
            )
        return (
            "Not enough clean heart-rate data from both people to compare their heart-rate "
            "changes with chance."
        )
    chance = (
        f"(p = {r.p_value:.2g} against {r.n_surrogates} pairings of segments from different times)"
    )
    parts = []
    if r.pacer_driven:
        parts.append(
            "Both were following the pacer for most of this stretch, so their heart rates rose "
            "and fell with the same breathing rhythm; that shared rhythm is not counted as "
            "synchrony."
        )
        prefix = "Apart from the pacer rhythm, "
    else:
        prefix = ""
    if r.p_value < r.alpha:
        phase = (
            "rose and fell together"
            if r.p_in_phase <= r.p_anti_phase
            else "tended to move in opposite directions"
        )
        text = (
            f"{prefix}the two heart rates {phase} more than expected by chance {chance}."
            + _lead_words(r.leader, r.peak_lag_s)
        )
        if r.leader == "none":
            text += " Neither person's changes clearly came first."
    else:
        text = f"{prefix}no more synchrony than expected by chance {chance}."
    parts.append(text[0].upper() + text[1:])
    return " ".join(parts)


def _describe_live(s: LiveSnapshot) -> str:
    if s.pacer_driven:
        return (
            "Both following the pacer: their heart rates rise and fall with the same breathing "
            "rhythm, which is not synchrony between them."
        )
    if not math.isfinite(s.value):
        if s.status == "not enough data yet":
            return "Not enough data yet to compare the two heart rates."
        return "Waiting for clean beats from both straps."
    if s.band is None:
        return "Not enough data yet for a chance comparison."
    if s.phase is None:
        return "No more synchrony than expected by chance right now (within the chance band)."
    how = "moving together" if s.phase == "in-phase" else "moving in opposite directions"
    text = f"The two heart rates are {how} more than the chance band."
    lag = s.lag_s if s.phase == "in-phase" else s.anti_lag_s
    lead = _lead_words(s.leader, lag)
    return text + (lead.replace(" during this stretch", " in the last half minute") if lead else "")
