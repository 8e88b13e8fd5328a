"""The after-session report of a 3-hour two-person session, and listing 100 sessions.

* ``report 3 h``: :func:`biofeedback.report.build.build_report` of a simulated 3-hour dyad
  (coupled, with ectopic beats) against ``analyze`` of the same file alone (the baseline:
  everything the report adds is the over-time series, the synchrony timeline and the HTML).
  Goal: the whole report in under a minute.
* ``sessions, 100 files``: the library listing with the headline numbers cached in the private
  index, against the first listing, which reads and analyses every file.

One run each (the 3-hour case is long); ratios are baseline / ours.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from biofeedback.analysis import analyze, load_input
from biofeedback.library import Library
from biofeedback.recorder import record_to_file
from biofeedback.report.build import build_report
from biofeedback.simulate import CouplingConfig, PersonConfig, SimulationConfig
from biofeedback.sources.simulated import SimulatedSource


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run() -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        long = Path(tmp) / "long.session"
        config = SimulationConfig(
            people=(
                PersonConfig("therapist", mean_hr_bpm=68.0, ectopic_per_min=0.2),
                PersonConfig("client", mean_hr_bpm=76.0, ectopic_per_min=0.2),
            ),
            duration_s=3 * 3600.0,
            seed=3,
            coupling=CouplingConfig(0.3, 3.0, "client"),
        )
        record_to_file(SimulatedSource(config), long)
        analysis_s = _timed(lambda: analyze(load_input([str(long)])))
        report_s = _timed(lambda: build_report(str(long)))
        rows.append({
            "name": "report of a 3-hour dyad (goal < 60 s)",
            "ours_s": report_s,
            "baseline_name": "analyze alone",
            "baseline_s": analysis_s,
            "ratio": analysis_s / report_s,
            "note": "the report adds the over-time series and the synchrony timeline",
        })  # fmt: skip
        folder = Path(tmp) / "sessions"
        folder.mkdir()
        short = Path(tmp) / "short.session"
        record_to_file(
            SimulatedSource(SimulationConfig(people=(PersonConfig("solo"),), duration_s=120.0)),
            short,
        )
        for i in range(100):
            shutil.copyfile(short, folder / f"s{i:03d}.session")
        first_s = _timed(lambda: Library(folder).entries())
        cached_s = _timed(lambda: Library(folder).entries())
        rows.append({
            "name": "sessions: list 100 two-minute sessions, numbers cached",
            "ours_s": cached_s,
            "baseline_name": "first listing (reads and analyses each file)",
            "baseline_s": first_s,
            "ratio": first_s / cached_s,
            "note": "",
        })  # fmt: skip
    return rows
