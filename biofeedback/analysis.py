"""Offline analysis of a session or RR files: the ``analyze`` JSON contract (design.md s. 8).

:func:`load_input` turns a session file or RR file(s) into per-role :class:`RoleSeries`;
:func:`analyze_series` computes one participant's metrics dict; :func:`analyze` the whole
contract object. Values that cannot be computed are ``None`` (JSON ``null``), never missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.beats import Beat, Event, EventKind
from biofeedback.errors import UserError
from biofeedback.rrfiles import read_rr_file
from biofeedback.sources.replay import iter_session
from hrv.time_domain import time_domain

__all__ = ["RoleSeries", "SessionInput", "analyze", "analyze_series", "load_input"]

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class RoleSeries:
    """One participant's beats.

    Attributes
    ----------
    role : str
    t_s : ndarray
        Beat times, seconds.
    rr_ms : ndarray
        RR intervals, ms.
    breaks : ndarray of int
        Indices of beats that follow a gap (their RR does not follow the previous beat's).
    """

    role: str
    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    breaks: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))


@dataclass(frozen=True)
class SessionInput:
    """What ``analyze`` reads: per-role series plus the session's events and metadata."""

    source: str
    series: Mapping[str, RoleSeries]
    events: tuple[Event, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def pacer_changes(self) -> list[tuple[float, float]]:
        """``(t_s, rate_bpm)`` pacer changes in the session (0 = off)."""
        return [
            (e.t_s, float(e.data.get("rate_bpm") or 0.0))
            for e in self.events
            if e.kind == EventKind.PACER
        ]


def _is_session(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _series_from_session(path: str) -> SessionInput:
    beats: dict[str, list[Beat]] = {}
    breaks: dict[str, list[int]] = {}
    pending_gap: set[str] = set()
    events: list[Event] = []
    meta: dict[str, Any] = {}
    from biofeedback.store import SessionReader

    with SessionReader(path) as r:
        meta = dict(r.meta)
        roles = r.roles
    for item in iter_session(path):
        if isinstance(item, Beat):
            lst = beats.setdefault(item.role, [])
            if item.role in pending_gap and lst:
                breaks.setdefault(item.role, []).append(len(lst))
            pending_gap.discard(item.role)
            lst.append(item)
        elif isinstance(item, Event):
            events.append(item)
            if item.kind == EventKind.GAP and item.role is not None:
                pending_gap.add(item.role)
    series = {}
    for role in roles or tuple(beats):
        bl = beats.get(role, [])
        series[role] = RoleSeries(
            role,
            np.array([b.t_s for b in bl], dtype=np.float64),
            np.array([b.rr_ms for b in bl], dtype=np.float64),
            np.array(breaks.get(role, []), dtype=np.intp),
        )
    return SessionInput(path, series, tuple(events), meta)


def _series_from_rr(path: str, role: str) -> RoleSeries:
    s = read_rr_file(path)
    return RoleSeries(role, s.t_s, s.rr_ms)


def load_input(
    inputs: list[str], therapist: str | None = None, client: str | None = None
) -> SessionInput:
    """Read what ``analyze`` was given.

    One session file; or one RR file (role ``solo``); or ``--therapist A --client B`` RR files
    (a dyad; either alone is analysed under its role).

    Raises
    ------
    UserError, SessionFileError, RRFileError
        Bad combinations, missing or unreadable files (the message names the file).
    """
    if (therapist or client) and inputs:
        raise UserError("give either INPUT or --therapist/--client RR files, not both")
    if therapist or client:
        series = {}
        for role, p in (("therapist", therapist), ("client", client)):
            if p:
                if _is_session(Path(p)):
                    raise UserError(f"{p}: --{role} takes an RR file; give a session file as INPUT")
                series[role] = _series_from_rr(p, role)
        return SessionInput(" + ".join(str(x) for x in (therapist, client) if x), series)
    if not inputs:
        raise UserError(
            "nothing to analyse: give a session file, an RR file, or --therapist A --client B"
        )
    if len(inputs) > 1:
        raise UserError(
            "give one session or RR file; for two people's RR files use --therapist A --client B"
        )
    path = inputs[0]
    if _is_session(Path(path)):
        return _series_from_session(path)
    return SessionInput(path, {"solo": _series_from_rr(path, "solo")})


def _clean(v: Any) -> Any:
    """JSON-safe: nan/inf -> None, numpy scalars -> Python."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def analyze_series(
    s: RoleSeries, *, correction: str = "auto", pace_bpm: float | None = None
) -> dict[str, Any]:
    """One participant's metrics (the contract's METRICS object)."""
    rr = s.rr_ms
    td = time_domain(rr, s.breaks)
    duration = float(s.t_s[-1] - s.t_s[0] + rr[0] / 1000.0) if rr.size else 0.0
    out: dict[str, Any] = {
        "n_beats": int(rr.size),
        "duration_s": duration,
        "mean_rr_ms": td.mean_rr_ms,
        "mean_hr_bpm": td.mean_hr_bpm,
        "sdnn_ms": td.sdnn_ms,
        "rmssd_ms": td.rmssd_ms,
        "pnn50_pct": td.pnn50_pct,
        "sd1_ms": td.sd1_ms,
        "sd2_ms": td.sd2_ms,
        "lf_ms2": None,
        "hf_ms2": None,
        "lf_hf": None,
        "artifacts": {
            "n_flagged": None,
            "pct": None,
            "ectopic": None,
            "missed": None,
            "extra": None,
            "long_short": None,
        },
        "rsa": {
            "pace_bpm": pace_bpm,
            "amplitude_ms": None,
            "peak_to_trough_bpm": None,
            "phase_deg": None,
            "breathing_rate_est_bpm": None,
        },
    }
    return _clean(out)


SYNCHRONY_KEYS = (
    "z_mean",
    "effect_size",
    "p_value",
    "n_surrogates",
    "peak_lag_s",
    "leader",
    "in_phase_z",
    "anti_phase_z",
    "pacer_driven",
)


def analyze(
    data: SessionInput, *, correction: str = "auto", pace_bpm: float | None = None
) -> dict[str, Any]:
    """The whole ``analyze --json`` object."""
    if correction not in ("auto", "none"):
        raise UserError(f"--artifact-correction must be auto or none, not {correction!r}")
    result: dict[str, Any] = {
        "source": data.source,
        "participants": {
            role: analyze_series(s, correction=correction, pace_bpm=pace_bpm)
            for role, s in data.series.items()
        },
    }
    if {"therapist", "client"} <= set(data.series):
        result["synchrony"] = dict.fromkeys(SYNCHRONY_KEYS)
    return result
