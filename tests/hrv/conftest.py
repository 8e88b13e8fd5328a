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
