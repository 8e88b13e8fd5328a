"""Therapist-client heart-rate synchrony: windowed cross-lagged correlation with chance baselines.

One idea per module:

- :mod:`~hrv.synchrony.params`: :class:`SynchronyParams`, every default written once;
- :mod:`~hrv.synchrony.grid`: each person's heart rate on one even grid (:func:`hr_grid`) and
  the causal low-pass that removes spontaneous-breathing RSA;
- :mod:`~hrv.synchrony.kernel`: detrended, pairwise-complete lagged correlation from sums;
- :mod:`~hrv.synchrony.windowed`: the windowed cross-correlation time course and Boker peak
  picking (:func:`windowed_cross_correlation`);
- :mod:`~hrv.synchrony.pacing`: pacer effects (both people following one breathing rhythm, and
  regressing that rhythm out);
- :mod:`~hrv.synchrony.surrogates`: the offline test against segment-shuffled and
  circularly shifted surrogates (:func:`synchrony`, returning :class:`SynchronyResult`);
- :mod:`~hrv.synchrony.live`: live synchrony with a time-offset chance band
  (:class:`LiveSynchrony`, :class:`LiveSnapshot`);
- :mod:`~hrv.synchrony.words`: hedged words for both (:func:`describe`).

Sign convention (the project's contract): positive lag = client leads. Short or bad input never
raises: too little usable data gives ``nan`` fields with counts.
"""

from __future__ import annotations

from .grid import hr_grid
from .live import LiveSnapshot, LiveSynchrony
from .params import DEFAULT_PARAMS, SynchronyParams
from .result import DirectionStats, SynchronyResult
from .surrogates import synchrony
from .windowed import WindowedSync, windowed_cross_correlation
from .words import describe

__all__ = [
    "DEFAULT_FS_HZ",
    "DEFAULT_PARAMS",
    "PACER_MIN_AMPLITUDE_MS",
    "PACER_MIN_R2",
    "DirectionStats",
    "LiveSnapshot",
    "LiveSynchrony",
    "SynchronyParams",
    "SynchronyResult",
    "WindowedSync",
    "describe",
    "hr_grid",
    "synchrony",
    "windowed_cross_correlation",
]

#: Grid rate for HR (Hz); see :class:`SynchronyParams`.
DEFAULT_FS_HZ = DEFAULT_PARAMS.fs_hz
#: Minimum RSA sine-fit amplitude (ms) at the pacer frequency for "following the pacer".
PACER_MIN_AMPLITUDE_MS = DEFAULT_PARAMS.pacer_min_amplitude_ms
#: Minimum share of RR variance (R^2) the pacer sine explains in one fit window.
PACER_MIN_R2 = DEFAULT_PARAMS.pacer_min_r2
