"""Offline analysis of a session or RR files: the ``analyze`` JSON contract (design.md s. 8).

:func:`load_input` turns a session file or RR file(s) into per-role :class:`RoleSeries`;
:func:`analyze_series` computes one participant's metrics dict; :func:`analyze` the whole
contract object. Values that cannot be computed are ``None`` (JSON ``null``), never missing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.assessment import assessment_of
from biofeedback.beats import MAX_RR_MS, MIN_RR_MS, Beat, Event, EventKind
from biofeedback.errors import UserError
from biofeedback.sources.replay import iter_session
from hrv.artifacts import ArtifactResult, correct_artifacts
from hrv.rsa import breathing_rate_median, rsa_at_rate, rsa_over_paced_stretches
from hrv.spectral import frequency_domain
from hrv.synchrony import describe as describe_synchrony
from hrv.synchrony import synchrony
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

    def gap_intervals(self) -> list[tuple[float, float]]:
        """``(start_s, end_s)`` of every recording gap (any participant)."""
        out = []
        for e in self.events:
            if e.kind == EventKind.GAP and "start_s" in e.data and "end_s" in e.data:
                out.append((float(e.data["start_s"]), float(e.data["end_s"])))
        return out

    def pacer_changes(self) -> list[tuple[float, float]]:
        """``(t_s, rate_bpm)`` pacer changes in the session (0 = off)."""
        return [
            (e.t_s, float(e.data.get("rate_bpm") or 0.0))
            for e in self.events
            if e.kind == EventKind.PACER
        ]

    def baseline_stretch(self) -> tuple[float, float] | None:
        """``(start_s, end_s)`` of the resting baseline, or ``None`` when the session has none.

        The last baseline that was started counts; one that was started but never ended (the
        recording stopped during it) runs to the end of the recorded beats. Skipped or empty
        baselines give ``None``.
        """
        start: float | None = None
        stretch: tuple[float, float] | None = None
        for e in self.events:
            if e.kind != EventKind.BASELINE:
                continue
            state = e.data.get("state")
            if state == "start":
                start = e.t_s
            elif state == "end" and start is not None:
                stretch = (start, e.t_s) if e.t_s > start else None
                start = None
            elif state == "skipped":
                start = None
        if start is not None:
            ends = [float(s.t_s[-1]) for s in self.series.values() if len(s.t_s)]
            if ends and max(ends) > start:
                stretch = (start, max(ends))
        return stretch


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


def load_input(
    inputs: list[str],
    therapist: str | None = None,
    client: str | None = None,
    *,
    fmt: str | None = None,
    role: str | None = None,
    client_offset_s: float = 0.0,
) -> SessionInput:
    """Read what ``analyze`` was given.

    One session file; or one RR file of any supported format (role ``solo``, or both people of
    a file that holds a therapist and a client); or ``--therapist A --client B`` RR files (a
    dyad; either alone is analysed under its role). RR files are aligned by their clock times
    when both have them (:mod:`biofeedback.rrinput`).

    Raises
    ------
    UserError, SessionFileError, RRFileError
        Bad combinations, missing or unreadable files (the message names the file).
    """
    from biofeedback.rrinput import load_rr_input

    if (therapist or client) and inputs:
        raise UserError("give either INPUT or --therapist/--client RR files, not both")
    if therapist or client:
        for r, p in (("therapist", therapist), ("client", client)):
            if p and _is_session(Path(p)):
                raise UserError(f"{p}: --{r} takes an RR file; give a session file as INPUT")
        return load_rr_input([], therapist, client, fmt=fmt, client_offset_s=client_offset_s)
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
        if client_offset_s:
            raise UserError("--client-offset-s is for RR files; a session file has one clock")
        data = _series_from_session(path)
        if role is not None:
            if role not in data.series:
                have = ", ".join(data.series)
                raise UserError(f"{path}: no participant {role!r} (has {have})")
            data = replace(data, series={role: data.series[role]})
        return data
    return load_rr_input([path], None, None, fmt=fmt, role=role, client_offset_s=client_offset_s)


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


def _rsa(
    t: NDArray[np.float64],
    rr: NDArray[np.float64],
    pace_bpm: float | None,
    pacer: list[tuple[float, float]],
) -> dict[str, Any]:
    """The contract's ``rsa`` object.

    With ``--pace-bpm`` the sine fit runs over the whole record at that rate (phase against a
    pacer starting at the first beat). Otherwise, from the session's pacer events: over the
    stretches paced at the rate used longest (phase against that pacer's start); the first
    15 s of each stretch are left out while breathing settles. With no pacer at all only the
    breathing-rate estimate is given: HF power (``hf_ms2``) is the spontaneous-breathing
    measure, and it misses RSA when breathing is slower than about 9 breaths/min.
    """
    out: dict[str, Any] = {
        "pace_bpm": pace_bpm,
        "amplitude_ms": None,
        "peak_to_trough_bpm": None,
        "phase_deg": None,
        "r_squared": None,
        "breathing_rate_est_bpm": breathing_rate_median(t, rr),
        "window": None,
    }
    if t.size < 4:
        return out
    if pace_bpm is not None:
        fit = rsa_at_rate(t, rr, pace_bpm, float(t[0] - rr[0] / 1000.0))
        window = "whole record"
    else:
        paced = rsa_over_paced_stretches(t, rr, pacer)
        if paced is None:
            return out
        fit = paced.fit
        out["pace_bpm"] = paced.rate_bpm
        out["breathing_rate_est_bpm"] = paced.breathing_rate_bpm
        parts = ", ".join(f"{a:.0f}-{b:.0f} s" for a, b in paced.stretches)
        window = f"paced stretches {parts} (first {paced.settle_s:.0f} s of each left out)"
    out.update(
        amplitude_ms=fit.amplitude_ms,
        peak_to_trough_bpm=fit.peak_to_trough_bpm,
        phase_deg=fit.phase_deg,
        r_squared=fit.r_squared,
        window=window,
    )
    return out


def _corrected_breaks(source_index: NDArray[np.intp], breaks: NDArray[np.intp]) -> NDArray[np.intp]:
    """Map gap breaks on original intervals to the corrected series."""
    if not breaks.size:
        return breaks
    is_break = np.zeros(int(source_index.max()) + 2, dtype=bool)
    is_break[breaks] = True
    first = np.ones(source_index.size, dtype=bool)
    first[1:] = source_index[1:] != source_index[:-1]
    return np.flatnonzero(is_break[source_index] & first)


def analyze_series(
    s: RoleSeries,
    *,
    correction: str = "auto",
    pace_bpm: float | None = None,
    pacer: list[tuple[float, float]] | None = None,
    found: ArtifactResult | None = None,
) -> dict[str, Any]:
    """One participant's metrics (the contract's METRICS object).

    ``found`` is this series' :func:`detect_artifacts` result when the caller already has it.

    ``correction="auto"`` detects and corrects artifacts (:func:`hrv.artifacts.correct_artifacts`)
    before every measure; ``"none"`` reports what the detector flags but analyses the series as
    recorded (the recipe that reproduces Kubios with correction off). Successive differences
    across recording gaps are left out of RMSSD, pNN50, SD1 and SD2.
    """
    rr, t, breaks = s.rr_ms, s.t_s, s.breaks
    duration = float(t[-1] - t[0] + rr[0] / 1000.0) if rr.size else 0.0
    artifacts: dict[str, Any] = dict.fromkeys(
        ("n_flagged", "pct", "ectopic", "missed", "extra", "long_short", "out_of_range")
    )
    res = found if found is not None else detect_artifacts(s)
    if res is not None:
        c = res.counts
        artifacts = {
            "n_flagged": res.n_flagged,
            "pct": res.burden_pct,
            "ectopic": c.get("ectopic", 0),
            "missed": c.get("missed", 0),
            "extra": c.get("extra", 0),
            "long_short": c.get("long", 0) + c.get("short", 0),
            "out_of_range": c.get("out_of_range", 0),
            "corrected": correction == "auto",
        }
        if correction == "auto" and res.n_flagged:
            assert res.t_s is not None
            breaks = _corrected_breaks(res.source_index, breaks)
            rr, t = res.rr_ms, res.t_s
    td = time_domain(rr, breaks)
    fd = frequency_domain(rr, t) if rr.size >= 2 else None
    out: dict[str, Any] = {
        "n_beats": int(s.rr_ms.size),
        "duration_s": duration,
        "mean_rr_ms": td.mean_rr_ms,
        "mean_hr_bpm": td.mean_hr_bpm,
        "sdnn_ms": td.sdnn_ms,
        "rmssd_ms": td.rmssd_ms,
        "nn50": td.nn50,
        "pnn50_pct": td.pnn50_pct,
        "sd1_ms": td.sd1_ms,
        "sd2_ms": td.sd2_ms,
        "vlf_ms2": fd.vlf_ms2 if fd else None,
        "lf_ms2": fd.lf_ms2 if fd else None,
        "hf_ms2": fd.hf_ms2 if fd else None,
        "lf_hf": fd.lf_hf if fd else None,
        "lf_peak_hz": fd.lf_peak_hz if fd else None,
        "hf_peak_hz": fd.hf_peak_hz if fd else None,
        "artifacts": artifacts,
        "rsa": _rsa(t, rr, pace_bpm, pacer or []),
    }
    return _clean(out)


def detect_artifacts(s: RoleSeries) -> ArtifactResult | None:
    """Artifact detection and correction of one series (``None`` when it has no beats)."""
    return correct_artifacts(s.rr_ms, s.t_s) if s.rr_ms.size else None


def _artifact_mask(s: RoleSeries, found: ArtifactResult | None) -> NDArray[np.bool_]:
    if found is None:
        return np.zeros(s.rr_ms.size, dtype=bool)
    return np.asarray(found.flags > 0)


def _sync_part(
    t: RoleSeries,
    c: RoleSeries,
    masks: tuple[NDArray[np.bool_], NDArray[np.bool_]],
    gaps: list[tuple[float, float]],
    pacer: list[tuple[float, float]],
    span: tuple[float, float] | None = None,
    n_surrogates: int = 1000,
) -> dict[str, Any]:
    sel_t = np.ones(t.t_s.size, bool) if span is None else (t.t_s > span[0]) & (t.t_s <= span[1])
    sel_c = np.ones(c.t_s.size, bool) if span is None else (c.t_s > span[0]) & (c.t_s <= span[1])
    result = synchrony(
        t.t_s[sel_t],
        t.rr_ms[sel_t],
        c.t_s[sel_c],
        c.rr_ms[sel_c],
        therapist_artifact=masks[0][sel_t],
        client_artifact=masks[1][sel_c],
        gaps=gaps,
        pacer=pacer,
        n_surrogates=n_surrogates,
        seed=0,
    )
    out = dict(result.contract())
    out["summary"] = describe_synchrony(result)
    return out


def synchrony_of(
    data: SessionInput,
    *,
    n_surrogates: int = 1000,
    found: Mapping[str, ArtifactResult | None] | None = None,
) -> dict[str, Any]:
    """The contract's ``synchrony`` object for a therapist-client input.

    The whole session is tested (SUSY segment shuffling plus a circular-shift check, see
    :func:`hrv.synchrony.synchrony`); when the session has pacer changes, each stretch between
    them (at least 2 minutes long) is tested on its own too and listed under ``stretches``, so
    a paced stretch reads "both following the pacer" apart from the rest. Artifact-flagged
    beats and recording gaps are left out. ``found`` holds :func:`detect_artifacts` results per
    role when the caller already has them.
    """
    t, c = data.series["therapist"], data.series["client"]
    found = (
        found
        if found is not None
        else {r: detect_artifacts(data.series[r]) for r in ("therapist", "client")}
    )
    masks = (_artifact_mask(t, found["therapist"]), _artifact_mask(c, found["client"]))
    gaps = data.gap_intervals()
    pacer = data.pacer_changes()
    whole = _sync_part(t, c, masks, gaps, pacer, None, n_surrogates)
    stretches = []
    if pacer:
        end = max(float(t.t_s[-1]) if t.t_s.size else 0.0, float(c.t_s[-1]) if c.t_s.size else 0.0)
        cuts = sorted({0.0, *(a for a, _ in pacer if 0.0 < a < end), end})
        for a, b in itertools.pairwise(cuts):
            if b - a < 120.0:
                continue
            part = _sync_part(t, c, masks, gaps, pacer, (a, b), n_surrogates)
            rates = [r for ts, r in pacer if ts <= a + 1e-9]
            rate = rates[-1] if rates else 0.0
            stretches.append({"start_s": a, "end_s": b, "pacer_bpm": rate or None, **part})
    whole["stretches"] = stretches
    return whole


def check_intervals(data: SessionInput) -> None:
    """Refuse intervals that are not heartbeat intervals (outside ``MIN_RR_MS``-``MAX_RR_MS``).

    The decoder never makes such beats from a strap; an RR file or a caller's arrays could
    hold them, and one ``1e12`` ms value would stretch every resampled series over 30 years.

    Raises
    ------
    UserError
        Naming the input, the person, the interval's position and value.
    """
    for role, s in data.series.items():
        bad = np.flatnonzero(~((s.rr_ms >= MIN_RR_MS) & (s.rr_ms <= MAX_RR_MS)))
        if bad.size:
            j = int(bad[0])
            more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
            raise UserError(
                f"{data.source}: {role}'s interval {j + 1} is {s.rr_ms[j]:g} ms{more}, outside "
                f"{MIN_RR_MS:g}-{MAX_RR_MS:g} ms: not a heartbeat interval"
            )


def analyze(
    data: SessionInput, *, correction: str = "auto", pace_bpm: float | None = None
) -> dict[str, Any]:
    """The whole ``analyze --json`` object (:func:`check_intervals` first)."""
    if correction not in ("auto", "none"):
        raise UserError(f"--artifact-correction must be auto or none, not {correction!r}")
    check_intervals(data)
    found = {role: detect_artifacts(s) for role, s in data.series.items()}
    result: dict[str, Any] = {
        "source": data.source,
        "participants": {
            role: analyze_series(
                s,
                correction=correction,
                pace_bpm=pace_bpm,
                pacer=data.pacer_changes(),
                found=found[role],
            )
            for role, s in data.series.items()
        },
    }
    if {"therapist", "client"} <= set(data.series):
        result["synchrony"] = _clean(synchrony_of(data, found=found))
    result["assessment"] = _clean(assessment_of(data, found))
    if data.meta.get("files") is not None:
        result["input"] = _clean(
            {k: data.meta.get(k) for k in ("files", "notes", "clock_start_s", "trimmed_s")}
        )
    return result
