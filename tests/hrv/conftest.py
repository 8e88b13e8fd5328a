"""Shared fixtures for the hrv tests: the real recordings beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# <repo>/../shared/data; SHARED_DATA overrides it (e.g. for a git worktree nested one level deeper).
DATA = Path(
    os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
)


def load_nsrdb(i: int) -> np.ndarray:
    """NSRDB NN series ``i`` (ms, float64), or skip the test when the data folder is absent."""
    path = DATA / "nsrdb" / f"series_{i}.npy"
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/data is beside the repository)")
    return np.load(path).astype(np.float64)


@pytest.fixture
def series_1() -> np.ndarray:
    return load_nsrdb(1)


def load_polar_pvc_rr() -> np.ndarray:
    """The strap's own RR intervals (ms) from the Polar H10 trigeminy recording, or skip."""
    import csv
    import gzip

    path = DATA / "polar_h10_pvc" / "polar_h10_pvc_detectPVC.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/data is beside the repository)")
    with gzip.open(path, "rt", newline="") as fh:
        rows = [r["rr_ms"] for r in csv.DictReader(fh)]
    return np.array([float(v) for v in rows if v.strip()])


def insert_artifacts(
    rr: np.ndarray, rng: np.random.Generator, n_each: int = 10
) -> tuple[np.ndarray, list[tuple[str, list[int]]]]:
    """Insert ectopic pairs, missed beats and extra beats into a clean RR series.

    * ectopic: interval ``p`` shortened to 55-75 % (premature beat), the lost time added to
      ``p + 1`` (compensatory pause): total time kept.
    * missed: ``p`` and ``p + 1`` merged into one interval.
    * extra: ``p`` split at 30-70 % into two intervals.

    Returns the contaminated series and, per artifact, its kind and its interval indices in
    the new series.
    """
    n = rr.size
    pos = np.sort(rng.choice(np.arange(60, n - 60, 25), size=3 * n_each, replace=False))
    kinds = rng.permutation(np.repeat(["ectopic", "missed", "extra"], n_each))
    out: list[float] = []
    marks: list[tuple[str, list[int]]] = []
    i = 0
    for p, kind in zip(pos.tolist(), kinds.tolist(), strict=True):
        out.extend(rr[i:p])
        start = len(out)
        if kind == "ectopic":
            short = rr[p] * rng.uniform(0.55, 0.75)
            out += [short, rr[p + 1] + rr[p] - short]
            i = p + 2
            marks.append((kind, [start, start + 1]))
        elif kind == "missed":
            out.append(rr[p] + rr[p + 1])
            i = p + 2
            marks.append((kind, [start]))
        else:
            f = rng.uniform(0.3, 0.7)
            out += [rr[p] * f, rr[p] * (1 - f)]
            i = p + 1
            marks.append((kind, [start, start + 1]))
    out.extend(rr[i:])
    return np.array(out), marks
