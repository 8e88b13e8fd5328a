"""The dependency direction of design.md section 2: hrv <- biofeedback <- ui, no Qt below ui."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_hrv_and_biofeedback_load_no_qt():
    mods = _modules_after(
        "import hrv, biofeedback, biofeedback.cli, biofeedback.engine, biofeedback.analysis,"
        " biofeedback.session, biofeedback.terminal, biofeedback.sources.replay"
    )
    assert not {m for m in mods if m.split(".")[0] in {"PySide6", "pyqtgraph", "shiboken6"}}


def test_hrv_imports_nothing_of_ours():
    mods = _modules_after(
        "import importlib, pkgutil, hrv\n"
        "for m in pkgutil.iter_modules(hrv.__path__): importlib.import_module('hrv.' + m.name)"
    )
    assert not {m for m in mods if m.split(".")[0] in {"biofeedback", "ui"}}
    assert not {m for m in mods if m.split(".")[0] in {"sqlite3", "bleak", "rich"}}
