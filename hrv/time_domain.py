"""Time-domain and Poincaré HRV measures with the formulas Kubios HRV uses.

With ``N`` intervals ``rr`` (ms) and ``d = diff(rr)``:

=============  =====================================================
mean_rr_ms     ``mean(rr)``
mean_hr_bpm    ``60000 / mean_rr`` (not the mean of instantaneous HR)
sdnn_ms        ``std(rr, ddof=1)``
rmssd_ms       ``sqrt(sum(d**2) / (N - 1))``
nn50           ``count(|d| > 50)``
pnn50_pct      ``100 * nn50 / (N - 1)``
sd1_ms         ``std(d, ddof=1) / sqrt(2)``
sd2_ms         ``std((rr[:-1] + rr[1:]) / sqrt(2), ddof=1)``
=============  =====================================================

These reproduce Kubios HRV 3.1 to four decimals on NSRDB series 1 (Tarvainen et al., Kubios
HRV user's guide; Task Force of the ESC and NASPE, Circulation 93:1043-1065, 1996,
doi:10.1161/01.CIR.93.5.1043; Brennan et al., IEEE TBME 48:1342-1347, 2001,
doi:10.1109/10.959330 for SD1/SD2).

Short input never raises: fields that need more intervals than given are ``nan``
(mean needs 1, SDNN 2, successive-difference measures 2, SD1 and SD2 3; with ``breaks``,
successive-difference measures need 1 pair, SD1 and SD2 2 pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["TimeDomain", "time_domain"]


@dataclass(frozen=True, slots=True)
class TimeDomain:
    """Time-domain HRV of one RR series (ms unless the name says otherwise)."""

    n_beats: int
    mean_rr_ms: float
    mean_hr_bpm: float
    sdnn_ms: float
    rmssd_ms: float
    nn50: int
    pnn50_pct: float
    sd1_ms: float
    sd2_ms: float


def time_domain(rr_ms: ArrayLike, breaks: ArrayLike | None = None) -> TimeDomain:
    """Compute :class:`TimeDomain` from RR intervals in milliseconds.

    Parameters
    ----------
    rr_ms : array_like
        RR (NN) intervals in ms, in order. Non-finite values are not allowed (correct or remove
        artifacts first; see :mod:`hrv.artifacts`).
    breaks : array_like of int, optional
        Indices ``i`` of intervals that do not follow interval ``i - 1`` directly (the first
        beat after a gap in the recording). Successive-difference measures (RMSSD, NN50,
        pNN50, SD1, SD2) then use only the pairs of adjacent intervals, and their ``N - 1``
        becomes the number of such pairs. Without breaks this is exactly the Kubios formula.

    Returns
    -------
    TimeDomain
        ``nan`` where the series is too short (see the module docstring).

    Raises
    ------
    ValueError
        The input is not one-dimensional or holds non-finite values.
    """
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    if not np.all(np.isfinite(rr)):
        raise ValueError("rr_ms holds non-finite values")
    n = int(rr.size)
    nan = math.nan
    if n == 0:
        return TimeDomain(0, nan, nan, nan, nan, 0, nan, nan, nan)
    mean_rr = float(rr.mean())
    mean_hr = 60000.0 / mean_rr if mean_rr > 0 else nan
    sdnn = float(rr.std(ddof=1)) if n >= 2 else nan
    pair_ok = np.ones(max(n - 1, 0), dtype=bool)
    if breaks is not None:
        b = np.asarray(breaks, dtype=np.intp).ravel()
        b = b[(b >= 1) & (b < n)]
        pair_ok[b - 1] = False
    d = np.diff(rr)[pair_ok]
    m = int(d.size)
    if m >= 1:
        rmssd = math.sqrt(float(np.dot(d, d)) / m)
        nn50 = int(np.count_nonzero(np.abs(d) > 50.0))
        pnn50 = 100.0 * nn50 / m
    else:
        rmssd, nn50, pnn50 = nan, 0, nan
    if m >= 2:
        sd1 = float(d.std(ddof=1)) / math.sqrt(2.0)
        sd2 = float(((rr[:-1] + rr[1:])[pair_ok] / math.sqrt(2.0)).std(ddof=1))
    else:
        sd1 = sd2 = nan
    return TimeDomain(n, mean_rr, mean_hr, sdnn, rmssd, nn50, pnn50, sd1, sd2)
