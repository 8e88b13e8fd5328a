"""Shared test configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

# The fixtures developers get from the installed plugin; listed so a plain checkout works too.
pytest_plugins = ["biofeedback.pytest_plugin"]

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real recordings beside the project (skips when absent, as on a fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not present")
    return SHARED_DATA
