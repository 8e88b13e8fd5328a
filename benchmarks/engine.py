"""Per-beat cost of the streaming engine at 10 minutes and at 3 hours of session history.

The engine keeps bounded ring buffers, so the cost of a beat must not depend on how long the
session has run. Each case warms an engine up with the given history of a simulated dyad
(two people, 70 and 80 beats/min), then times ``Engine.feed`` on the next beats:

* ``fast path`` is the per-beat part alone (artifact flags, RMSSD 60 s, mean HR, burden),
  the median over beats that trigger no once-a-second work;
* ``CPU per session second`` is all the time spent in ``Engine.feed`` divided by the session
  time it covered: every beat plus the once-a-second RSA, coherence, breathing-rate, 300 s
  RMSSD and live-synchrony updates (a fraction of one core: 0.01 = 1 %);
* the baseline for flatness is the same measurement at 10 minutes; a naive engine that
  recomputes everything over the whole history is shown for contrast.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import numpy as np

from biofeedback.beats import Beat
from biofeedback.engine import Engine
from hrv.artifacts import classify_intervals
from hrv.time_domain import time_domain

ROLES = ("therapist", "client")
MEASURED_BEATS = 600


def _beats(minutes: float, seed: int = 1) -> list[Beat]:
    rng = np.random.default_rng(seed)
    out: list[Beat] = []
    for role, hr in zip(ROLES, (70.0, 80.0), strict=True):
        n = int(minutes * hr) + MEASURED_BEATS
        k = np.arange(n)
        rr = 60000.0 / hr + 40 * np.sin(2 * np.pi * k / 4.5) + rng.normal(0, 15, n)
        t = np.cumsum(rr) / 1000.0
        out += [Beat(float(t[i]), float(rr[i]), role, i, i) for i in range(n)]
    out.sort(key=lambda b: b.t_s)
    return out


def _split(beats: list[Beat], history_s: float) -> tuple[list[Beat], list[Beat]]:
    warm = [b for b in beats if b.t_s <= history_s]
    rest = [b for b in beats if b.t_s > history_s][:MEASURED_BEATS]
    return warm, rest


def _measure(history_min: float) -> dict[str, float]:
    beats = _beats(history_min)
    warm, rest = _split(beats, history_min * 60.0)
    engine = Engine(ROLES)
    # Warm-up through the per-beat path only (the once-a-second work does not change what the
    # buffers hold, and running it for 3 hours of history would take minutes).
    for b in warm:
        engine._person(b.role).add(b)
    for role in ROLES:
        engine._person(role).second = math.floor(warm[-1].t_s)
    engine._second = math.floor(warm[-1].t_s)
    fast, total = [], 0.0
    for b in rest:
        crosses = math.floor(b.t_s) > min(engine._person(b.role).second, engine._second)
        t0 = time.perf_counter()
        engine.feed(b)
        dt = time.perf_counter() - t0
        total += dt
        if not crosses:
            fast.append(dt)
    span_s = rest[-1].t_s - rest[0].t_s
    return {"per_second": total / span_s, "fast": statistics.median(fast)}


def _naive_per_beat(history_min: float) -> float:
    """Recompute flags and RMSSD over the whole history on every beat (no ring buffer)."""
    beats = [b for b in _beats(history_min) if b.role == "client"]
    rr = np.array([b.rr_ms for b in beats])
    n0 = int(history_min * 80)
    times = []
    for n in range(n0, n0 + 20):
        t0 = time.perf_counter()
        classify_intervals(rr[:n], causal=True)
        time_domain(rr[:n])
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run() -> list[dict[str, Any]]:
    short = _measure(10)
    long = _measure(180)
    naive_long = _naive_per_beat(180)
    return [
        {
            "name": "engine fast path per beat, 3 h history",
            "ours_s": long["fast"],
            "baseline_name": "same, 10 min history",
            "baseline_s": short["fast"],
            "ratio": short["fast"] / long["fast"],
            "note": "about 1 = flat; artifact flags, RMSSD 60 s, mean HR, burden",
        },
        {
            "name": "engine CPU per session second, 3 h",
            "ours_s": long["per_second"],
            "baseline_name": "same, 10 min history",
            "baseline_s": short["per_second"],
            "ratio": short["per_second"] / long["per_second"],
            "note": "two people: every beat plus the once-a-second RSA, coherence, breathing "
            "rate and live synchrony updates",
        },
        {
            "name": "engine fast path per beat, 3 h",
            "ours_s": long["fast"],
            "baseline_name": "naive whole-history recompute",
            "baseline_s": naive_long,
            "ratio": naive_long / long["fast"],
            "note": "what a non-streaming engine would pay at 3 h",
        },
    ]
