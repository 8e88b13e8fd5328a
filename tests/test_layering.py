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


PRODUCT = ("biofeedback", "hrv", "ui")
TEST_SUPPORT = ("tests", "bumble", "pytest_qt", "hypothesis")


def _imports(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_product_code_never_imports_test_support():
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imports(path):
                if name.split(".")[0] in TEST_SUPPORT:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
    # The test support is not part of the installed product.
    assert not (ROOT / "biofeedback" / "testing").exists()


def test_loading_every_product_module_loads_no_test_support():
    mods = _modules_after(
        "import importlib, pkgutil, biofeedback, hrv\n"
        "for pkg in (biofeedback, hrv):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not m.name.endswith('__main__'):\n"
        "            importlib.import_module(m.name)"
    )
    assert "biofeedback.session" in mods and "biofeedback.pytest_plugin" in mods
    assert not {m for m in mods if m.split(".")[0] in TEST_SUPPORT}
