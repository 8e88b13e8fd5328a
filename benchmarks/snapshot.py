"""Cost of one drawable snapshot (one dashboard frame) at 90 minutes of a two-person session.

A front end takes :meth:`biofeedback.engine.Engine.snapshot` 20-30 times a second. It holds the
last 5 minutes of beats per person as arrays and the whole session's once-a-second series and
synchrony history (5,400 rows each at 90 minutes). The series live in append-only columns, so a
snapshot views them in O(1) and copies only the recent beats (see :mod:`biofeedback.snapshot`).

Setup: an engine warmed with 90 minutes of a simulated dyad (70 and 80 beats/min) through the
per-beat path, plus 5,400 once-a-second rows per person and of synchrony history (appended
directly: their values do not change the cost, and computing them would take minutes). Each
timed call follows a version bump, as after a new beat, so no cached snapshot is reused.

* ``ours``: :meth:`Engine.snapshot` at 90 minutes;
* baseline 1, flatness: the same at 1 minute of session;
* baseline 2: a naive snapshot that copies every array of the session in full (all series
  and the history), which is what a snapshot of lists or of growing arrays would cost.

And how long a reader can wait for the lock: the sample dyad is fed through an engine whose
lock records how long the feeding thread holds it each time. The longest hold is compared with
the longest once-a-second update (RSA fit, coherence, breathing rate, live synchrony), which
is computed outside the lock and would otherwise be held under it. Both are CPU time of the
feeding thread, so a busy machine's preemptions do not count.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.engine import ROLES, _beats
from biofeedback.engine import Engine
from biofeedback.snapshot import Snapshot
from biofeedback.sources.replay import iter_session

FRAMES = 400
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "dyad_session.session"


def _engine(minutes: float) -> Engine:
    engine = Engine(ROLES)
    for b in _beats(minutes):
        if b.t_s <= minutes * 60.0:
            engine._person(b.role).add(b)
    rng = np.random.default_rng(0)
    seconds = int(minutes * 60)
    for p in engine._people.values():
        for s in range(seconds):
            p.series.append(
                t_s=float(s),
                mean_hr_bpm=75.0,
                rmssd_ms=float(rng.normal(40, 5)),
                burden_pct=0.0,
                pacer_bpm=math.nan,
                rsa_amplitude_ms=math.nan,
                breathing_rate_bpm=12.0,
                coherence_ratio=float(rng.uniform(0, 3)),
                reliable=True,
                reason=None,
            )
    for s in range(seconds):
        engine._sync_log.append(
            t_s=float(s),
            window_end_s=s - 5.0,
            value=float(rng.normal(0.3, 0.2)),
            band_low=-0.2,
            band_high=0.5,
            lag_s=1.0,
            leader="client",
            phase="in-phase",
            pacer_driven=False,
            valid=True,
        )
    return engine


def _full_copy(snap: Snapshot) -> list[Any]:
    """Every array of the snapshot copied in full (the naive baseline)."""
    out: list[Any] = []
    for p in snap.participants.values():
        for group in (p.beats, p.series):
            out += [getattr(group, f).copy() for f in group.__dataclass_fields__]
    h = snap.synchrony_history
    out += [getattr(h, f).copy() for f in h.__dataclass_fields__]
    return out


def _time_frames(engine: Engine, extra: Any = None) -> float:
    times = []
    for _ in range(FRAMES):
        engine._version += 1  # a new beat arrived: the cached snapshot is stale
        t0 = time.perf_counter()
        snap = engine.snapshot()
        if extra is not None:
            extra(snap)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class _TimedLock:
    """A lock that records how long each hold lasted: CPU seconds of the holding thread, so
    that the machine's other work (preemption) does not count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holds: list[float] = []
        self._t0 = 0.0

    def __enter__(self) -> None:
        self._lock.acquire()
        self._t0 = time.thread_time()

    def __exit__(self, *exc: object) -> None:
        self.holds.append(time.thread_time() - self._t0)
        self._lock.release()


def _lock_holds() -> tuple[float, float]:
    """(longest lock hold, longest once-a-second update) feeding the sample dyad, CPU s."""
    engine = Engine(ROLES)
    lock = _TimedLock()
    engine._lock = lock  # type: ignore[assignment]
    slow: list[float] = []
    people = engine._people
    for item in iter_session(SAMPLE):
        seconds = {r: p.second for r, p in people.items()}, engine._second
        t0 = time.thread_time()
        engine.feed(item)
        dt = time.thread_time() - t0
        crossed = any(p.second != seconds[0].get(r) for r, p in people.items())
        if crossed or engine._second != seconds[1]:
            slow.append(dt)
    return max(lock.holds), max(slow)


def run() -> list[dict[str, Any]]:
    long = _engine(90.0)
    short = _engine(1.0)
    ours = _time_frames(long)
    at_one_minute = _time_frames(short)
    naive = _time_frames(long, _full_copy)
    snap = long.snapshot()
    rows = snap.participants["client"].series.t_s.size
    longest_hold, longest_update = _lock_holds()
    return [
        {
            "name": f"snapshot per frame, 90 min dyad ({rows} s of series per person)",
            "ours_s": ours,
            "baseline_name": "same at 1 min",
            "baseline_s": at_one_minute,
            "ratio": at_one_minute / ours,
            "note": "about 1 = flat in session length; target well under 1 ms",
        },
        {
            "name": "snapshot per frame, 90 min dyad",
            "ours_s": ours,
            "baseline_name": "naive full copy of every array",
            "baseline_s": naive,
            "ratio": naive / ours,
            "note": "views of append-only columns instead of copies",
        },
        {
            "name": "longest engine lock hold, sample dyad (what a snapshot can wait)",
            "ours_s": longest_hold,
            "baseline_name": "longest once-a-second update",
            "baseline_s": longest_update,
            "ratio": longest_update / longest_hold,
            "note": "the once-a-second work runs outside the lock snapshot readers wait on",
        },
    ]
