"""Long sessions stay lean: a 3-hour two-person session (issue 14, item 5).

Rows (each against a baseline measured in the same run):

* ``analyze`` peak memory (resident set, fresh process) of the 3-hour dyad against the
  10-minute sample; the note gives the memory per hour of session;
* ``replay --speed max --quiet`` of the 3-hour dyad: session-seconds per CPU-second;
* replay through the engine (live values computed, no display) of the first 30 minutes:
  session-seconds per CPU-second; where its time goes is in the README;
* engine memory over 3 hours: resident set after 1 hour against after 3 hours (flat = 1).

The 3-hour session is simulated once into a temporary folder (about 20 s). Run with
``python -m benchmarks long_session``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "dyad_session.session"
HOURS = 3.0

_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    from biofeedback.cli import main
    t0 = time.process_time()
    rc = main(sys.argv[1:])
    cpu = time.process_time() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"BENCH {rc} {cpu:.4f} {peak_kb}", file=sys.stderr)
    """
)

_ENGINE_MEMORY = textwrap.dedent(
    """
    import sys
    from biofeedback.beats import Beat
    from biofeedback.session import SessionController
    from biofeedback.sources.replay import ReplaySource

    def rss_mb():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 1e6

    marks = {}
    def watch(item):
        h = int(item.t_s // 3600)
        if isinstance(item, Beat) and h not in marks:
            marks[h] = rss_mb()
    ctl = SessionController(ReplaySource(sys.argv[1], speed=None))
    ctl.add_listener(watch)
    with ctl:
        ctl.wait()
    marks[int(HOURS)] = rss_mb()
    print("BENCH", " ".join(f"{h}:{v:.1f}" for h, v in sorted(marks.items())), file=sys.stderr)
    """
).replace("HOURS", repr(HOURS))


def _child(args: list[str], script: str = _CHILD) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    line = next((x for x in out.stderr.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"benchmark child failed: {out.stderr[-2000:]}")
    return line.split()[1:]


def _simulate(path: Path) -> None:
    minutes = str(int(HOURS * 60))
    rc, _, _ = _child(["simulate", "--out", str(path), "--minutes", minutes, "--seed", "1"])
    if rc != "0":
        raise RuntimeError("could not simulate the long session")


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        long = Path(tmp) / "three_hours.session"
        _simulate(long)
        # analyze: peak memory, fresh processes.
        _, _, peak_long = _child(["analyze", str(long), "--json"])
        _, _, peak_short = _child(["analyze", str(SAMPLE), "--json"])
        long_mb, short_mb = int(peak_long) / 1024, int(peak_short) / 1024
        per_hour = (long_mb - short_mb) / (HOURS - 10 / 60)
        rows.append(
            {
                "name": "analyze, 3 h dyad: peak resident memory (MB)",
                "ours_s": long_mb,
                "baseline_name": "same, 10-minute sample",
                "baseline_s": short_mb,
                "ratio": short_mb / long_mb,
                "note": f"{per_hour:.0f} MB per extra hour of session (target: 3 h < 250 MB)",
            }
        )
        # replay --speed max --quiet: CPU per session second.
        session_s = HOURS * 3600
        _, cpu, _ = _child(["replay", str(long), "--speed", "max", "--quiet"])
        rows.append(
            {
                "name": "replay --speed max --quiet, 3 h dyad (CPU s)",
                "ours_s": float(cpu),
                "baseline_name": "real time (session s)",
                "baseline_s": session_s,
                "ratio": session_s / float(cpu),
                "note": "session-seconds per CPU-second (target >= 1000)",
            }
        )
        # Through the engine, headless, first 30 minutes.
        part_s = 1800.0
        _, cpu_e, _ = _child(
            ["replay", str(long), "--speed", "max", "--no-ui", "--duration", str(part_s)]
        )
        rows.append(
            {
                "name": "replay through the engine (live values, terminal view to a pipe), 30 min",
                "ours_s": float(cpu_e),
                "baseline_name": "real time (session s)",
                "baseline_s": part_s,
                "ratio": part_s / float(cpu_e),
                "note": "session-seconds per CPU-second with every live value computed",
            }
        )
        # Engine memory over the whole 3 hours.
        marks = dict(m.split(":") for m in _child([str(long)], _ENGINE_MEMORY))
        after_1h, after_3h = float(marks["1"]), float(marks[str(int(HOURS))])
        rows.append(
            {
                "name": "engine replay of 3 h: resident memory after 3 h (MB)",
                "ours_s": after_3h,
                "baseline_name": "after 1 h (MB)",
                "baseline_s": after_1h,
                "ratio": after_1h / after_3h,
                "note": "1.0 = flat after warm-up; "
                + ", ".join(f"{h} h {v}" for h, v in marks.items()),
            }
        )
    return rows
