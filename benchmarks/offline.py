"""Offline analysis of a one-hour RR recording: ours against NeuroKit2 and hrv-analysis.

Ours: artifact correction + time domain + Welch spectrum + RSA (sine fit at 6 breaths/min and
the breathing-rate estimate). NeuroKit2: ``hrv_time`` + ``hrv_frequency`` on peaks built from
the same RR. hrv-analysis: ``get_time_domain_features`` + ``get_frequency_domain_features``.
Each is timed as the median of several repeats in the same process; ``ratio`` is
baseline / ours.

Data: ``<repo>/../shared/data/nsrdb/series_1.npy`` (or ``$SHARED_DATA``), else
``sample_data/nsrdb_series_1_rr.txt``, else a synthetic hour.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import statistics
import sys
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hrv.artifacts import correct_artifacts
from hrv.rsa import estimate_breathing_rate, rsa_at_rate
from hrv.spectral import frequency_domain
from hrv.time_domain import time_domain

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
REPEATS = 7


def load_hour() -> tuple[np.ndarray, str]:
    """A one-hour RR series (ms) and where it came from."""
    shared = Path(os.environ.get("SHARED_DATA", REPO / ".." / "shared" / "data"))
    npy = shared / "nsrdb" / "series_1.npy"
    if npy.exists():
        return np.load(npy).astype(np.float64), "NSRDB series 1"
    txt = REPO / "sample_data" / "nsrdb_series_1_rr.txt"
    if txt.exists():
        return np.loadtxt(txt, dtype=np.float64), "sample_data NSRDB series 1"
    rng = np.random.default_rng(0)
    n = 4700
    t = np.arange(n) * 0.77
    rr = 770 + 40 * np.sin(2 * np.pi * 0.25 * t) + 30 * np.sin(2 * np.pi * 0.08 * t)
    return rr + rng.normal(0, 10, n), "synthetic hour"


def ours(rr: np.ndarray) -> dict[str, float]:
    t = np.cumsum(rr) / 1000.0
    fixed = correct_artifacts(rr, t)
    assert fixed.t_s is not None
    td = time_domain(fixed.rr_ms)
    fd = frequency_domain(fixed.rr_ms, fixed.t_s)
    fit = rsa_at_rate(fixed.t_s, fixed.rr_ms, 6.0)
    rate = estimate_breathing_rate(fixed.t_s, fixed.rr_ms)
    return {
        "rmssd": td.rmssd_ms,
        "lf": fd.lf_ms2,
        "hf": fd.hf_ms2,
        "rsa": fit.amplitude_ms,
        "rate": rate,
    }


def _neurokit() -> Callable[[np.ndarray], Any] | None:
    try:
        nk = importlib.import_module("neurokit2")
    except ImportError:
        return None

    def run(rr: np.ndarray) -> Any:
        peaks = np.concatenate([[0.0], np.cumsum(rr)]).round().astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nk.hrv_time(peaks, sampling_rate=1000), nk.hrv_frequency(
                peaks, sampling_rate=1000
            )

    return run


def _hrvanalysis() -> tuple[Callable[[np.ndarray], Any] | None, str]:
    note = ""
    try:
        ha = importlib.import_module("hrvanalysis")
    except ImportError:
        return None, "not installed"
    except TypeError:
        # nolds (imported by hrvanalysis for nonlinear features only) fails to load its
        # bundled datasets on Python 3.11; the time/frequency functions do not use it.
        sys.modules["nolds"] = types.ModuleType("nolds")
        sys.modules.pop("hrvanalysis", None)
        sys.modules.pop("hrvanalysis.extract_features", None)
        ha = importlib.import_module("hrvanalysis")
        note = "nolds stubbed (its import fails on 3.11)"

    def run(rr: np.ndarray) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nn = rr.tolist()
            return ha.get_time_domain_features(nn), ha.get_frequency_domain_features(nn)

    return run, note


def _median_time(fn: Callable[[np.ndarray], Any], rr: np.ndarray) -> float:
    fn(rr)  # warm up (imports, caches)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(rr)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run() -> list[dict[str, Any]]:
    """Time the offline pipeline against the reference packages (median of repeats)."""
    rr, source = load_hour()
    ours_s = _median_time(ours, rr)
    res = ours(rr)
    rows = []
    nk = _neurokit()
    nk_s = _median_time(nk, rr) if nk else math.nan
    rows.append(
        {
            "name": f"offline 1 h ({source}, {rr.size} beats)",
            "ours_s": ours_s,
            "baseline_name": "neurokit2 hrv_time+hrv_frequency",
            "baseline_s": nk_s,
            "ratio": nk_s / ours_s,
            "note": (
                f"ours adds artifact correction + RSA; RMSSD {res['rmssd']:.2f} "
                f"LF {res['lf']:.0f} HF {res['hf']:.0f}"
            )
            if nk
            else "neurokit2 not installed",
        }
    )
    ha, note = _hrvanalysis()
    ha_s = _median_time(ha, rr) if ha else math.nan
    rows.append(
        {
            "name": f"offline 1 h ({source}, {rr.size} beats)",
            "ours_s": ours_s,
            "baseline_name": "hrv-analysis time+frequency",
            "baseline_s": ha_s,
            "ratio": ha_s / ours_s,
            "note": note,
        }
    )
    return rows
