"""Run every benchmark module in this folder and print one table.

A benchmark module is any ``benchmarks/NAME.py`` (not starting with ``_``) that defines
``run() -> list[dict]``; each dict holds ``name``, ``ours_s``, ``baseline_name``,
``baseline_s``, ``ratio`` (baseline / ours: above 1 means we are faster) and ``note``.
Timings are medians of repeats measured in the same run, so only ratios are comparable
between machines. Usage: ``python -m benchmarks [MODULE ...]``.
"""

from __future__ import annotations

import importlib
import logging
import math
import pkgutil
import sys
from pathlib import Path
from typing import Any

COLUMNS = ("name", "ours_s", "baseline_name", "baseline_s", "ratio", "note")


def discover() -> list[str]:
    """Names of the benchmark modules in this folder, sorted."""
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    names = (argv if argv is not None else sys.argv[1:]) or discover()
    rows: list[dict[str, Any]] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        for row in run():
            rows.append({"module": name, **row})
    cols = ("module", *COLUMNS)
    table = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [
        max(len(c), *(len(row[i]) for row in table)) if table else len(c)
        for i, c in enumerate(cols)
    ]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
