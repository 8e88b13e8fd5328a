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
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import numpy as np

from benchmarks.engine import ROLES, _beats
from biofeedback.engine import Engine
from biofeedback.snapshot import Snapshot

FRAMES = 400


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


def run() -> list[dict[str, Any]]:
    long = _engine(90.0)
    short = _engine(1.0)
    ours = _time_frames(long)
    at_one_minute = _time_frames(short)
    naive = _time_frames(long, _full_copy)
    snap = long.snapshot()
    rows = snap.participants["client"].series.t_s.size
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
    ]
