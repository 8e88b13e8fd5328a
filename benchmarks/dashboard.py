"""Dashboard frame time at 10 and 90 minutes of session history, and its CPU share at 1x.

**Frame update.** Main-thread CPU time (``time.thread_time``, what the frame costs whatever
else the machine runs) and wall time per frame, for a dyad window (two traces, two number
panels, synchrony panel, events) at 1366x768, offscreen. Each frame is what the data timer
does: a new snapshot (new version), ``Dashboard.show_snapshot`` and the repaint Qt then runs
(``processEvents``). The snapshots
are built from the project's own snapshot classes with the sizes a real session has at that
point: 5 minutes of recent beats per person, one row a second of per-person series and of
synchrony history for the whole session (600 or 5400 rows), a new synchrony row every
25 frames. Median and 95th percentile over the frames; the 10-minute case is the baseline
for flatness (ratio = 10 min / 90 min).

**CPU share at 1x.** ``biofeedback demo --speed 1`` with the dashboard (offscreen, the
``--screenshot`` path, which runs the same timers) for ``CPU_WALL_S`` seconds of wall time
against the same replay without a window (``--no-ui --quiet``): CPU seconds of the child
process (all threads) per wall second, as a share of one core.

**Memory over a 3-hour replay.** The 3-hour simulated dyad of ``benchmarks/long_session.py``
replayed at max speed through the session controller (every live value computed) with the
dashboard window open offscreen, refreshed (``Dashboard.refresh`` plus the repaint) once every
``REFRESH_EVERY_S`` session-seconds: the worker thread waits at each refresh point until the
window has drawn, so the frames fall at the same session times on every run. Resident memory
(``/proc/self/statm``) in a fresh process after the 30-minute warm-up and at 1, 2 and 3 hours;
ratio = 30 min / 3 h (1 = flat).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FRAMES = 300
CPU_WALL_S = 30.0
REFRESH_EVERY_S = 5.0
MEMORY_MARKS_S = (1800.0, 3600.0, 7200.0, 10800.0)
ROOT = Path(__file__).resolve().parents[1]


def _snapshots(minutes: float, frames: int) -> list[Any]:
    from biofeedback.snapshot import (
        ParticipantSnapshot,
        RecentBeats,
        SecondSeries,
        Snapshot,
        StrapInfo,
        SynchronyHistory,
    )

    rng = np.random.default_rng(3)
    end_s = minutes * 60.0
    n_rows = int(end_s) + frames // 25 + 2
    t_rows = np.arange(n_rows, dtype=float)
    people = {}
    for role, hr in (("therapist", 68.0), ("client", 78.0)):
        n = int(300 * hr / 60) + 40
        rr = 60000.0 / hr + 40 * np.sin(np.arange(n) / 1.6) + rng.normal(0, 10, n)
        t = end_s - 300.0 + np.cumsum(rr) / 1000.0
        art = np.zeros(n, np.int8)
        art[::150] = 1
        gap = np.zeros(n, bool)
        gap[n // 2] = True
        cols = {
            "t_s": t_rows,
            "mean_hr_bpm": hr + rng.normal(0, 1, n_rows),
            "rmssd_ms": 40 + rng.normal(0, 3, n_rows),
            "burden_pct": np.zeros(n_rows),
            "pacer_bpm": np.full(n_rows, 6.0),
            "rsa_amplitude_ms": 30 + rng.normal(0, 3, n_rows),
            "breathing_rate_bpm": np.full(n_rows, 6.0),
            "coherence_ratio": np.ones(n_rows),
            "reliable": np.ones(n_rows, bool),
            "reason": np.full(n_rows, None, dtype=object),
        }
        people[role] = (RecentBeats.copy_of(t, rr, art, gap), cols)
    sync_cols = {
        "t_s": t_rows,
        "window_end_s": t_rows - 6.0,
        "value": 0.3 + 0.2 * np.sin(t_rows / 40),
        "band_low": np.full(n_rows, 0.1),
        "band_high": np.full(n_rows, 0.5),
        "lag_s": np.zeros(n_rows),
        "leader": np.full(n_rows, None, dtype=object),
        "phase": np.full(n_rows, None, dtype=object),
        "pacer_driven": (t_rows % 1200) < 180,
        "valid": t_rows > 180,
    }
    out = []
    for f in range(frames):
        rows = int(end_s) + f // 25
        parts = {}
        for role, (beats, cols) in people.items():
            series = SecondSeries(**{k: v[:rows] for k, v in cols.items()})
            parts[role] = ParticipantSnapshot(
                role=role, n_beats=rows, last_t_s=end_s, last_rr_ms=850.0, hr_bpm=70.0,
                mean_hr_bpm=70.0, rmssd_ms=40.0, window_beats=70, window_span_s=60.0,
                burden_pct=0.0, n_flagged=0, last_artifact=None, reliable=True,
                unreliable_reason=None, beats=beats, series=series,
                strap=StrapInfo(state="connected", battery_pct=80),
            )  # fmt: skip
        history = SynchronyHistory(**{k: v[:rows] for k, v in sync_cols.items()})
        out.append(
            Snapshot(
                t_s=end_s + f / 25,
                participants=parts,
                pacer_bpm=6.0,
                synchrony_history=history,
                version=f + 1,
            )
        )
    return out


class _Idle:
    """A controller stand-in: the benchmark hands the window its snapshots itself."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def session_time(self) -> float:
        return self.now_s

    def set_pacer(self, settings: Any) -> None:
        pass

    def add_marker(self, text: str) -> None:
        pass


def frame_times(minutes: float, frames: int = FRAMES) -> tuple[list[float], list[float]]:
    """Wall and main-thread CPU seconds per frame (snapshot shown and repainted)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from biofeedback.beats import Event
    from ui.dashboard import Dashboard

    app = QApplication.instance() or QApplication([])
    ctl = _Idle()
    window = Dashboard(ctl, ["therapist", "client"])
    window.resize(1366, 768)
    window.show()
    window.show_snapshot(
        _snapshots(minutes, 1)[0], [Event(0.0, "pacer", None, {"rate_bpm": 6.0})], 0.0
    )
    snaps = _snapshots(minutes, frames)
    wall, cpu = [], []
    for snap in snaps:
        ctl.now_s = snap.t_s
        t0, c0 = time.perf_counter(), time.thread_time()
        window.show_snapshot(snap, [], snap.t_s)
        window.pacer.tick()
        app.processEvents()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    window.close()
    window.deleteLater()
    app.processEvents()
    return wall[10:], cpu[10:]


def cpu_share(ui: bool, wall_s: float = CPU_WALL_S) -> float:
    """CPU seconds per wall second of ``biofeedback demo --speed 1`` (all threads)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "biofeedback", "demo", "--speed", "1"]
        args += ["--duration", str(wall_s)]
        if ui:
            args += ["--screenshot", str(Path(tmp) / "shot.png")]
        else:
            args += ["--no-ui", "--quiet"]
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu / wall


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def replay_rss_child(path: str) -> None:
    """Replay ``path`` with the dashboard (see the module docstring); print the RSS marks.

    Runs in a fresh process (``replay_rss``): one ``BENCH`` line on stderr holding
    ``session_s:rss_mb`` pairs and the frame count.
    """
    import threading

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from biofeedback.session import SessionController
    from biofeedback.sources.replay import ReplaySource
    from ui.dashboard import Dashboard

    app = QApplication.instance() or QApplication([])
    source = ReplaySource(path, speed=None)
    ctl = SessionController(source)
    window = Dashboard(ctl, source.roles)
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    due, drawn = threading.Event(), threading.Event()
    state = {"next_s": REFRESH_EVERY_S, "at_s": 0.0}

    def gate(item: Any) -> None:  # worker thread: hold here until the window has drawn
        if item.t_s >= state["next_s"]:
            state["at_s"] = state["next_s"]
            state["next_s"] += REFRESH_EVERY_S
            drawn.clear()
            due.set()
            while not drawn.wait(1.0):
                if not ctl.running:
                    return

    ctl.add_listener(gate)
    marks: dict[float, float] = {}
    pending = list(MEMORY_MARKS_S)
    frames = 0
    with ctl:
        while True:
            if not due.wait(0.5):
                if not ctl.running:
                    break
                continue
            due.clear()
            window.refresh()
            window.pacer.tick()
            app.processEvents()
            frames += 1
            if pending and state["at_s"] >= pending[0]:
                marks[pending.pop(0)] = _rss_mb()
            drawn.set()
        ctl.wait()
    window.refresh()
    app.processEvents()
    frames += 1
    for mark_s in pending:  # the last mark falls on the session's end
        marks[mark_s] = _rss_mb()
    pairs = " ".join(f"{t:.0f}:{v:.1f}" for t, v in marks.items())
    print(f"BENCH {frames} {pairs}", file=sys.stderr)


def replay_rss(path: Path) -> tuple[int, dict[float, float]]:
    """Frames drawn and resident MB at each of ``MEMORY_MARKS_S`` (fresh child process)."""
    from benchmarks.long_session import _child

    script = f"from benchmarks.dashboard import replay_rss_child; replay_rss_child({str(path)!r})"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    frames, *pairs = _child([], script)
    return int(frames), {float(t): float(v) for t, v in (p.split(":") for p in pairs)}


def memory_row(path: Path) -> dict[str, Any]:
    """The benchmark row for :func:`replay_rss` of a 3-hour session at ``path``."""
    frames, marks = replay_rss(path)
    warm, end = marks[MEMORY_MARKS_S[0]], marks[MEMORY_MARKS_S[-1]]
    ratio = warm / end
    flat = "flat" if 1 / ratio <= 1.1 else "NOT flat"
    return {
        "name": "replay of 3 h at max speed with the dashboard offscreen: RSS at 3 h (MB)",
        "ours_s": end,
        "baseline_name": "after the 30-minute warm-up (MB)",
        "baseline_s": warm,
        "ratio": ratio,
        "note": f"{flat} (3 h / 30 min = {1 / ratio:.3f}, goal <= 1.1); {frames} frames, one per "
        f"{REFRESH_EVERY_S:g} session-s; "
        + ", ".join(f"{t / 3600:g} h {v:.1f}" for t, v in marks.items()),
    }


def _p95(v: list[float]) -> float:
    return float(np.percentile(v, 95))


def _p99(v: list[float]) -> float:
    return float(np.percentile(v, 99))


def run() -> list[dict[str, Any]]:
    short_wall, short_cpu = frame_times(10.0)
    long_wall, long_cpu = frame_times(90.0)
    rows = []
    for what, short, long in (("CPU", short_cpu, long_cpu), ("wall", short_wall, long_wall)):
        rows.append(
            {
                "name": f"dashboard frame ({what}), dyad + synchrony, 90 min history, median",
                "ours_s": statistics.median(long),
                "baseline_name": "same at 10 min",
                "baseline_s": statistics.median(short),
                "ratio": statistics.median(short) / statistics.median(long),
                "note": f"p95 {_p95(long) * 1e3:.1f} ms at 90 min, {_p95(short) * 1e3:.1f} ms "
                f"at 10 min (goal p95 < 16 ms, flat); p99 {_p99(long) * 1e3:.1f} / "
                f"{_p99(short) * 1e3:.1f} ms, worst {max(long) * 1e3:.1f} / "
                f"{max(short) * 1e3:.1f} ms",
            }
        )
    with_ui = cpu_share(True)
    without = cpu_share(False)
    rows.append(
        {
            "name": "demo at 1x with the dashboard: CPU share of one core",
            "ours_s": with_ui,
            "baseline_name": "same replay, no window (--no-ui --quiet)",
            "baseline_s": without,
            "ratio": without / with_ui if with_ui else float("nan"),
            "note": f"{with_ui * 100:.1f} % of a core with the window, {without * 100:.1f} % "
            "without (goal < 15 %)",
        }
    )
    from benchmarks.long_session import HOURS, _simulate

    with tempfile.TemporaryDirectory(prefix="bench-dash-") as tmp:
        long = Path(tmp) / f"{HOURS:g}_hours.session"
        _simulate(long)
        rows.append(memory_row(long))
    return rows
