"""Simulated sessions with session-level events, and series of them with a known drift.

:func:`write_simulated` records a :class:`~biofeedback.simulate.SimulationConfig` to a session
file like ``simulate`` does, adding session events the simulator itself does not make (a
resting baseline, markers) and metadata (label, mode, date).

:func:`simulate_series` writes ``n`` sessions of one label, a week apart, whose resting RMSSD
rises (or falls) by a chosen amount per session, so the trend across sessions can be checked
against a known truth. Each session: a resting baseline (the first 40 % of the session, at most
3 minutes), then the pacer at the person's resonance rate to the end. The labelled person is
the client (``solo`` with ``solo=True``); a therapist, when present, stays the same throughout.

How the drift is made: every variability component of the simulator scales with
``hrv_scale``, so RMSSD is close to proportional to it. For session ``k`` the target resting
RMSSD is ``base + k * drift``; the person is simulated, the RMSSD of the true beats in the
baseline stretch is measured, ``hrv_scale`` is rescaled by target / measured and the session
simulated again (twice), so the realised resting RMSSD of the simulated heart is within a
fraction of a millisecond of the target. Both the target and the realised value are stored in
the metadata (``series_truth``).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.beats import Event, EventKind, Packet
from biofeedback.recorder import RecordStats, record_to_file
from biofeedback.simulate import (
    PacedSegment,
    PersonConfig,
    SimulationConfig,
    simulate_session,
)
from biofeedback.sources.simulated import SimulatedSource

__all__ = ["series_config", "simulate_series", "write_simulated"]


class _SourceWithEvents(SimulatedSource):
    """A simulated source that also yields extra session events at their times."""

    def __init__(self, config: SimulationConfig, events: Sequence[Event], **kw: Any) -> None:
        super().__init__(config, **kw)
        self._extra = sorted(events, key=lambda e: e.t_s)

    async def raw(self) -> AsyncIterator[Packet | Event]:
        extra = list(self._extra)
        async for item in super().raw():
            while extra and extra[0].t_s <= item.t_s:
                yield extra.pop(0)
            yield item
        for e in extra:
            yield e


def write_simulated(
    config: SimulationConfig,
    path: str | Path,
    *,
    events: Sequence[Event] = (),
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> RecordStats:
    """Record a simulated session to ``path`` with extra ``events`` and ``metadata``.

    Events are merged into the stream at their times (before a packet arriving at the same
    time), exactly as a live session would record a baseline or a marker.
    """
    source = _SourceWithEvents(config, events, metadata=metadata)
    return record_to_file(source, path, overwrite=overwrite)


def _true_rmssd(t_s: np.ndarray, rr_ms: np.ndarray, a: float, b: float) -> float:
    sel = (t_s > a) & (t_s <= b)
    d = np.diff(rr_ms[sel])
    return float(np.sqrt(np.mean(d * d))) if d.size else math.nan


def series_config(
    *,
    minutes: float,
    seed: int,
    hrv_scale: float,
    solo: bool,
    pace_bpm: float = 6.0,
) -> tuple[SimulationConfig, float]:
    """One session of a series: the configuration and the baseline's end (s)."""
    duration = minutes * 60.0
    baseline_end = min(180.0, 0.4 * duration)
    person_role = "solo" if solo else "client"
    person = PersonConfig(
        person_role, mean_hr_bpm=72.0, breathing_rate_bpm=14.0, hrv_scale=hrv_scale
    )
    people: tuple[PersonConfig, ...] = (person,)
    if not solo:
        people = (PersonConfig("therapist", mean_hr_bpm=66.0, breathing_rate_bpm=12.0), person)
    pacing = (PacedSegment(baseline_end, duration, pace_bpm, transition_s=15.0),)
    return SimulationConfig(
        people=people, duration_s=duration, seed=seed, pacing=pacing
    ), baseline_end


def simulate_series(
    out_dir: str | Path,
    *,
    n: int,
    label: str,
    drift_rmssd_ms: float,
    minutes: float = 5.0,
    seed: int = 0,
    base_rmssd_ms: float = 30.0,
    solo: bool = False,
    first_date: _dt.datetime | None = None,
    every_days: float = 7.0,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``n`` sessions of ``label`` whose resting RMSSD drifts by ``drift_rmssd_ms`` each.

    Parameters
    ----------
    out_dir : path
        Folder for the files (created, mode 0700); they are named ``LABEL-series-01.session``...
    n : int
        Number of sessions (1-100).
    label : str
        The session label stored in each file's metadata.
    drift_rmssd_ms : float
        Change of the labelled person's resting RMSSD from one session to the next, ms.
    minutes : float
        Length of each session (at least 2 minutes: baseline plus a paced stretch).
    seed : int
        Seed of the first session; session ``k`` uses ``seed + k``.
    base_rmssd_ms : float
        Resting RMSSD of the first session, ms.
    solo : bool
        One person (``solo``) instead of a therapist-client pair.
    first_date : datetime, optional
        Date of the first session (default: ``n - 1`` weeks before now); one per
        ``every_days`` after it, stored as ``created_utc``.

    Returns
    -------
    list of Path
        The files, in session order.

    Raises
    ------
    ValueError
        A parameter out of range, or a target RMSSD that is not positive.
    """
    if not 1 <= n <= 100:
        raise ValueError(f"a series has 1 to 100 sessions, not {n}")
    if not minutes >= 2:
        raise ValueError(f"series sessions last at least 2 minutes, not {minutes:g}")
    targets = [base_rmssd_ms + k * drift_rmssd_ms for k in range(n)]
    if min(targets) < 5 or max(targets) > 120:
        raise ValueError(
            f"the resting RMSSD would run from {targets[0]:g} to {targets[-1]:g} ms; keep it "
            "between 5 and 120 ms (a smaller drift or fewer sessions)"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    start = first_date or (_dt.datetime.now(_dt.UTC) - _dt.timedelta(days=every_days * (n - 1)))
    role = "solo" if solo else "client"
    paths = []
    for k, target in enumerate(targets):
        scale = target / base_rmssd_ms

        def at(hrv_scale: float, k: int = k) -> tuple[SimulationConfig, float, float]:
            config, baseline_end = series_config(
                minutes=minutes, seed=seed + k, hrv_scale=hrv_scale, solo=solo
            )
            beats = simulate_session(config).true_beats[role]
            return config, baseline_end, _true_rmssd(beats.t_s, beats.rr_ms, 0.0, baseline_end)

        config, baseline_end, realised = at(scale)
        for _ in range(2):
            if abs(realised - target) < 0.05:
                break
            scale = min(5.0, scale * target / realised)
            config, baseline_end, realised = at(scale)
        date = start + _dt.timedelta(days=every_days * k)
        meta = {
            "label": label,
            "mode": "solo breathing" if solo else "two-person session",
            "created_utc": date.astimezone(_dt.UTC).isoformat(timespec="seconds"),
            "series_truth": {
                "label": label,
                "index": k,
                "n_sessions": n,
                "person": role,
                "drift_rmssd_ms_per_session": drift_rmssd_ms,
                "resting_rmssd_ms_target": target,
                "resting_rmssd_ms_true": realised,
                "hrv_scale": scale,
                "baseline_s": [0.0, baseline_end],
            },
        }
        events = [
            Event(0.0, EventKind.BASELINE, None, {"state": "start", "duration_s": baseline_end}),
            Event(baseline_end, EventKind.BASELINE, None, {"state": "end"}),
        ]
        path = out / f"{label}-series-{k + 1:02d}.session"
        write_simulated(config, path, events=events, metadata=meta, overwrite=overwrite)
        paths.append(path)
    return paths
