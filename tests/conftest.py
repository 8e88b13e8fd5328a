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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--ble-address",
        metavar="ADDR",
        default=None,
        help="run the hardware tests against the heart-rate strap at ADDR (worn, in range)",
    )


@pytest.fixture
def ble_address(request: pytest.FixtureRequest) -> str:
    """The real strap named with --ble-address; hardware tests skip without it."""
    addr = request.config.getoption("--ble-address")
    if not addr:
        pytest.skip("hardware test: pass --ble-address ADDR to run it")
    return str(addr)


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread():
    """After a test that used Qt, collect cyclic garbage here, on the GUI thread.

    A window a test leaves in a reference cycle is otherwise freed by whichever thread the
    garbage collector next runs in; when that is a session's worker thread, Qt destroys the
    widgets off the GUI thread and the two threads deadlock (seen: ~QGraphicsScene in the
    worker waiting for the GIL, the main thread in ~QObject waiting for Qt's lock).
    """
    yield
    import sys

    if "PySide6.QtWidgets" in sys.modules:
        import gc

        gc.collect()
