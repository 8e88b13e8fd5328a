"""Frequency-domain HRV: Welch (the Kubios HRV default) or Lomb-Scargle spectra of an RR series.

Welch pipeline (reproduces Kubios HRV 3.1 "FFT spectrum", no detrending, on NSRDB series 1:
VLF, LF and HF within 0.1 %):

1. Beat times ``t_s``: the time of the beat that *ends* each interval. Without them,
   ``t = cumsum(rr) / 1000`` (first beat at ``rr[0]``, as Kubios does; the grid starts at the
   first beat, so an offset of the whole axis does not matter).
2. Cubic-spline interpolation (not-a-knot) of RR on the beat times, sampled at ``fs_hz``
   (4 Hz) from the first to the last beat time; optional smoothness-priors detrending
   (Tarvainen et al. 2002, off by default like Kubios "none"); mean removed.
3. Welch: periodic Hann windows of ``segment_s`` (300 s), 50 % overlap, ``nfft`` giving
   300 points/Hz (1200 at 4 Hz), one-sided density in ms^2/Hz, no per-segment detrending.
   **Shorter records:** the segment is shortened to the whole record (one Hann-windowed
   periodogram) while ``nfft`` stays at ``max(segment samples, 300 * fs_hz)``, so the frequency
   grid keeps its 1/300 Hz spacing.
4. Band powers by trapezoidal integration over the *closed* bands VLF [0, 0.04], LF [0.04, 0.15],
   HF [0.15, 0.40] Hz (a bin on a shared edge counts in both bands, as in Kubios).
   A band is ``nan`` when one segment is shorter than one period of the band's lower edge
   (VLF needs 300 s, taking 1/300 Hz as its lowest resolvable frequency; LF 25 s; HF 6.7 s).

Sources: Task Force of the ESC and NASPE, Circulation 93:1043-1065, 1996,
doi:10.1161/01.CIR.93.5.1043 (bands); Tarvainen et al., Kubios HRV, Comput Methods Programs
Biomed 113:210-220, 2014, doi:10.1016/j.cmpb.2013.07.024 (settings); Welch, IEEE Trans Audio
Electroacoust 15:70-73, 1967, doi:10.1109/TAU.1967.1161901; Tarvainen, Ranta-aho & Karjalainen,
IEEE TBME 49:172-175, 2002, doi:10.1109/10.979357 (smoothness priors).

Lomb-Scargle option: the periodogram of the unevenly sampled RR at the beat times (mean
removed), ``scipy.signal.lombscargle(t, rr - mean, 2 pi f, normalize=False) * 2 T / N`` in
ms^2/Hz (``T`` record length in s, ``N`` beats). SciPy's unnormalised output for a sinusoid of
amplitude ``A`` is ``A^2 N / 4``, so the scaled peak integrates to the sinusoid's variance
``A^2 / 2`` (Parseval), which a test checks. Lomb, Astrophys Space Sci 39:447-462, 1976,
doi:10.1007/BF00648343; Scargle, Astrophys J 263:835-853, 1982, doi:10.1086/160554.

Short or bad input never raises for length reasons: fewer than 4 beats or under 2 s of record
gives every field ``nan`` (with ``n_beats``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, signal, sparse
from scipy.interpolate import CubicSpline

__all__ = [
    "BANDS_HZ",
    "FrequencyDomain",
    "Spectrum",
    "band_peak_hz",
    "band_power",
    "beat_times_s",
    "frequency_domain",
    "lomb_psd",
    "resample_rr",
    "smoothness_priors_detrend",
    "welch_psd",
]

FloatArray = NDArray[np.float64]

#: Frequency bands in Hz (Task Force 1996), closed intervals.
BANDS_HZ: dict[str, tuple[float, float]] = {
    "vlf": (0.0, 0.04),
    "lf": (0.04, 0.15),
    "hf": (0.15, 0.40),
}
# Shortest segment (s) for which a band is reported: one period of its lowest frequency.
_MIN_SEGMENT_S = {"vlf": 300.0, "lf": 1.0 / 0.04, "hf": 1.0 / 0.15}
_POINTS_PER_HZ = 300.0
_MIN_BEATS = 4
_MIN_DURATION_S = 2.0
_EDGE_TOL_HZ = 1e-9


@dataclass(frozen=True, eq=False)
class Spectrum:
    """A one-sided power spectral density.

    Attributes
    ----------
    freqs_hz : ndarray
        Frequencies (Hz), ascending.
    psd_ms2_hz : ndarray
        Power spectral density (ms^2/Hz).
    method : str
        ``"welch"`` or ``"lomb"``.
    segment_s : float
        Welch segment length actually used (s); the record length for Lomb-Scargle.
    n_segments : int
        Number of averaged Welch segments (1 for Lomb-Scargle, 0 for an empty spectrum).
    """

    freqs_hz: FloatArray
    psd_ms2_hz: FloatArray
    method: str
    segment_s: float
    n_segments: int


@dataclass(frozen=True, slots=True)
class FrequencyDomain:
    """Frequency-domain HRV of one RR window.

    Powers are absolute (ms^2); ``lf_nu``/``hf_nu`` are LF and HF in normalised units,
    ``100 * X / (lf + hf)``; peaks are the frequency (Hz) of the largest PSD value in each
    closed band. ``total_ms2`` integrates 0-0.40 Hz. ``nan`` where the window is too short
    (module docstring).
    """

    n_beats: int
    duration_s: float
    method: str
    segment_s: float
    n_segments: int
    vlf_ms2: float
    lf_ms2: float
    hf_ms2: float
    total_ms2: float
    lf_hf: float
    lf_nu: float
    hf_nu: float
    vlf_peak_hz: float
    lf_peak_hz: float
    hf_peak_hz: float


def _as_rr(rr_ms: ArrayLike) -> FloatArray:
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    if not np.all(np.isfinite(rr)):
        raise ValueError("rr_ms holds non-finite values")
    return rr


def beat_times_s(rr_ms: ArrayLike) -> FloatArray:
    """Beat times (s) from RR intervals: ``cumsum(rr) / 1000``.

    The beat that ends interval ``i`` gets time ``sum(rr[:i+1]) / 1000``, so the first beat is
    at ``rr[0] / 1000`` (the Kubios convention for a bare RR list).
    """
    return np.cumsum(np.asarray(rr_ms, dtype=np.float64)) / 1000.0


def _times(rr: FloatArray, t_s: ArrayLike | None) -> FloatArray:
    if t_s is None:
        return beat_times_s(rr)
    t = np.asarray(t_s, dtype=np.float64)
    if t.shape != rr.shape:
        raise ValueError(f"t_s has shape {t.shape}, rr_ms has {rr.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("t_s must be finite and strictly increasing")
    return t


def smoothness_priors_detrend(x: ArrayLike, lam: float) -> FloatArray:
    """Remove the slow trend of an evenly sampled series with the smoothness-priors method.

    ``x_stat = (I - (I + lam^2 D2' D2)^-1) x`` with ``D2`` the second-difference matrix
    (Tarvainen, Ranta-aho & Karjalainen, IEEE TBME 49:172-175, 2002, doi:10.1109/10.979357).
    The cut-off scales as ``fs / sqrt(lam)``: use ``lam = 500 * (fs_hz / 4) ** 2`` to keep the
    Kubios setting (500 at 4 Hz, about 0.03 Hz) at another sampling rate.

    Parameters
    ----------
    x : array_like
        Evenly sampled values (any unit; returned in the same unit).
    lam : float
        Regularisation parameter (> 0).

    Returns
    -------
    ndarray
        The detrended series; fewer than 3 samples are returned unchanged (minus nothing).
    """
    z = np.asarray(x, dtype=np.float64)
    n = z.size
    if n < 3:
        return z.copy()
    # I + lam^2 D2'D2 is symmetric positive definite and pentadiagonal: banded Cholesky solve.
    d2 = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    dtd = (d2.T @ d2).todia()
    ab = np.zeros((3, n))
    l2 = float(lam) ** 2
    for k in range(3):
        # Upper banded storage: ab[2 - k, j] holds the k-th superdiagonal element (j - k, j).
        ab[2 - k, k:] = l2 * dtd.diagonal(k)
    ab[2] += 1.0
    trend = linalg.solveh_banded(ab, z, lower=False, check_finite=False)
    return np.asarray(z - trend, dtype=np.float64)


def resample_rr(
    t_s: ArrayLike, rr_ms: ArrayLike, fs_hz: float = 4.0
) -> tuple[FloatArray, FloatArray]:
    """Cubic-spline (not-a-knot) interpolation of RR on beat times, sampled evenly.

    Parameters
    ----------
    t_s : array_like
        Beat times (s), strictly increasing, one per interval (the beat ending it).
    rr_ms : array_like
        RR intervals (ms).
    fs_hz : float
        Output sampling rate (Hz); 4 Hz is the Kubios default.

    Returns
    -------
    (t_grid_s, rr_grid_ms)
        Grid ``t[0] + k / fs_hz`` up to the last beat time, and the interpolated RR (ms).
        Fewer than 2 beats give empty arrays.
    """
    rr = _as_rr(rr_ms)
    t = _times(rr, t_s)
    if rr.size < 2:
        return np.empty(0), np.empty(0)
    n = math.floor((t[-1] - t[0]) * fs_hz + 1e-9) + 1
    grid = t[0] + np.arange(n) / fs_hz
    if rr.size < 4:
        # A not-a-knot spline needs 4 points; fall back to linear for 2-3 beats.
        return grid, np.interp(grid, t, rr)
    return grid, np.asarray(CubicSpline(t, rr)(grid), dtype=np.float64)


def welch_psd(
    t_s: ArrayLike | None,
    rr_ms: ArrayLike,
    *,
    fs_hz: float = 4.0,
    segment_s: float = 300.0,
    overlap: float = 0.5,
    detrend: bool = False,
    detrend_lambda: float | None = None,
) -> Spectrum:
    """Welch PSD (ms^2/Hz) of the RR series resampled at ``fs_hz`` (Kubios settings by default).

    Parameters
    ----------
    t_s : array_like or None
        Beat times (s); ``None`` uses ``cumsum(rr) / 1000``.
    rr_ms : array_like
        RR intervals (ms).
    fs_hz : float
        Resampling rate (Hz).
    segment_s : float
        Welch segment length (s); shortened to the record when the record is shorter.
    overlap : float
        Fraction of segment overlap.
    detrend : bool
        Apply smoothness-priors detrending before the mean is removed.
    detrend_lambda : float or None
        Smoothness-priors parameter; default ``500 * (fs_hz / 4) ** 2``.

    Returns
    -------
    Spectrum
        Empty arrays (``n_segments == 0``) when fewer than 4 beats or under 2 s are given.
    """
    rr = _as_rr(rr_ms)
    t = _times(rr, t_s)
    empty = Spectrum(np.empty(0), np.empty(0), "welch", math.nan, 0)
    if rr.size < _MIN_BEATS or t[-1] - t[0] < _MIN_DURATION_S:
        return empty
    _, x = resample_rr(t, rr, fs_hz)
    if detrend:
        lam = 500.0 * (fs_hz / 4.0) ** 2 if detrend_lambda is None else detrend_lambda
        x = smoothness_priors_detrend(x, lam)
    x = x - x.mean()
    nper = min(round(segment_s * fs_hz), x.size)
    noverlap = int(nper * overlap)
    nfft = max(nper, round(_POINTS_PER_HZ * fs_hz))
    freqs, psd = signal.welch(
        x,
        fs=fs_hz,
        window="hann",
        nperseg=nper,
        noverlap=noverlap,
        nfft=nfft,
        detrend=False,
        scaling="density",
    )
    step = nper - noverlap
    n_seg = (x.size - nper) // step + 1
    return Spectrum(freqs, psd, "welch", nper / fs_hz, int(n_seg))


def lomb_psd(
    t_s: ArrayLike | None,
    rr_ms: ArrayLike,
    *,
    f_max_hz: float = 0.5,
    oversample: float = 2.0,
) -> Spectrum:
    """Lomb-Scargle PSD (ms^2/Hz) of RR at the beat times, no interpolation.

    ``P(f) = lombscargle(t, rr - mean(rr), 2 pi f, normalize=False) * 2 T / N`` with ``T`` the
    record length (s) and ``N`` the number of beats; ``f`` runs from 0 to ``f_max_hz`` in steps
    of ``1 / (oversample * T)`` (capped at 1/300 Hz so short windows still get a usable grid).
    Cost grows as beats x frequencies (a one-hour record takes seconds with SciPy 1.17), so
    Welch stays the default for long records.

    Returns
    -------
    Spectrum
        Empty when fewer than 4 beats or under 2 s are given.
    """
    rr = _as_rr(rr_ms)
    t = _times(rr, t_s)
    if rr.size < _MIN_BEATS or t[-1] - t[0] < _MIN_DURATION_S:
        return Spectrum(np.empty(0), np.empty(0), "lomb", math.nan, 0)
    span = float(t[-1] - t[0])
    df = min(1.0 / (oversample * span), 1.0 / _POINTS_PER_HZ)
    freqs = np.arange(0.0, f_max_hz + df / 2, df)
    y = rr - rr.mean()
    pgram = np.zeros_like(freqs)
    pos = freqs > 0
    pgram[pos] = signal.lombscargle(t, y, 2.0 * np.pi * freqs[pos], normalize=False)
    return Spectrum(freqs, pgram * 2.0 * span / rr.size, "lomb", span, 1)


def _band_mask(freqs: FloatArray, lo_hz: float, hi_hz: float) -> NDArray[np.bool_]:
    return (freqs >= lo_hz - _EDGE_TOL_HZ) & (freqs <= hi_hz + _EDGE_TOL_HZ)


def band_power(spectrum: Spectrum, lo_hz: float, hi_hz: float) -> float:
    """Trapezoidal integral (ms^2) of the PSD over the closed band ``[lo_hz, hi_hz]``.

    ``nan`` when fewer than two spectrum bins fall in the band.
    """
    m = _band_mask(spectrum.freqs_hz, lo_hz, hi_hz)
    if np.count_nonzero(m) < 2:
        return math.nan
    return float(np.trapezoid(spectrum.psd_ms2_hz[m], spectrum.freqs_hz[m]))


def band_peak_hz(spectrum: Spectrum, lo_hz: float, hi_hz: float) -> float:
    """Frequency (Hz) of the largest PSD value in the closed band; ``nan`` if the band is empty."""
    m = _band_mask(spectrum.freqs_hz, lo_hz, hi_hz)
    if not np.any(m):
        return math.nan
    return float(spectrum.freqs_hz[m][int(np.argmax(spectrum.psd_ms2_hz[m]))])


def frequency_domain(
    rr_ms: ArrayLike,
    t_s: ArrayLike | None = None,
    *,
    method: Literal["welch", "lomb"] = "welch",
    fs_hz: float = 4.0,
    segment_s: float = 300.0,
    detrend: bool = False,
) -> FrequencyDomain:
    """VLF, LF, HF power (ms^2), LF/HF and band peaks of an RR window.

    Parameters
    ----------
    rr_ms : array_like
        RR (NN) intervals in ms, artifacts already corrected (see :mod:`hrv.artifacts`).
    t_s : array_like or None
        Beat times (s) ending each interval; ``None`` uses ``cumsum(rr) / 1000``.
    method : {"welch", "lomb"}
        Welch on the 4 Hz cubic-spline series (Kubios default) or Lomb-Scargle on the beats.
    fs_hz, segment_s : float
        Resampling rate and Welch segment length (Welch only).
    detrend : bool
        Smoothness-priors detrending (Welch only; off by default, as Kubios "none").

    Returns
    -------
    FrequencyDomain
        Fields ``nan`` when the window is too short (module docstring); never raises for that.

    Raises
    ------
    ValueError
        Non-finite or non-1-D input, mismatched or non-increasing ``t_s``, unknown method.
    """
    rr = _as_rr(rr_ms)
    t = _times(rr, t_s)
    duration = float(t[-1] - t[0] + rr[0] / 1000.0) if rr.size else 0.0
    if method == "welch":
        spec = welch_psd(t, rr, fs_hz=fs_hz, segment_s=segment_s, detrend=detrend)
    elif method == "lomb":
        spec = lomb_psd(t, rr)
    else:
        raise ValueError(f"unknown method {method!r}; use 'welch' or 'lomb'")
    nan = math.nan
    if spec.n_segments == 0:
        return FrequencyDomain(rr.size, duration, method, nan, 0, *([nan] * 10))
    powers: dict[str, float] = {}
    peaks: dict[str, float] = {}
    for name, (lo, hi) in BANDS_HZ.items():
        ok = spec.segment_s >= _MIN_SEGMENT_S[name] - 1e-6
        powers[name] = band_power(spec, lo, hi) if ok else nan
        peaks[name] = band_peak_hz(spec, lo, hi) if ok else nan
    lf, hf = powers["lf"], powers["hf"]
    total = band_power(spec, 0.0, BANDS_HZ["hf"][1]) if np.isfinite(powers["vlf"]) else nan
    lf_hf = lf / hf if hf > 0 else nan
    s = lf + hf
    lf_nu = 100.0 * lf / s if s > 0 else nan
    hf_nu = 100.0 * hf / s if s > 0 else nan
    return FrequencyDomain(
        n_beats=int(rr.size),
        duration_s=duration,
        method=method,
        segment_s=spec.segment_s,
        n_segments=spec.n_segments,
        vlf_ms2=powers["vlf"],
        lf_ms2=lf,
        hf_ms2=hf,
        total_ms2=total,
        lf_hf=lf_hf,
        lf_nu=lf_nu,
        hf_nu=hf_nu,
        vlf_peak_hz=peaks["vlf"],
        lf_peak_hz=peaks["lf"],
        hf_peak_hz=peaks["hf"],
    )
