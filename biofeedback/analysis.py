"""Offline analysis of a session or RR files: the ``analyze`` JSON contract (design.md s. 8).

:func:`load_input` turns a session file or RR file(s) into per-role :class:`RoleSeries`;
:func:`analyze_series` computes one participant's metrics dict; :func:`analyze` the whole
contract object. Values that cannot be computed are ``None`` (JSON ``null``), never missing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.assessment import assessment_of
from biofeedback.beats import MAX_RR_MS, MIN_RR_MS, Beat, Event, EventKind
from biofeedback.coregulation import coregulation_of
from biofeedback.dyad_synchrony import clock_text, dyad_trend_notes, synchrony_of
from biofeedback.errors import UserError
from biofeedback.session_reader import is_sqlite_file
from biofeedback.sources.replay import iter_session
from hrv.artifacts import ArtifactResult, correct_artifacts
from hrv.json_values import json_safe
from hrv.pacer import PacerTimeline
from hrv.rsa import (
    BREATH_BAND_HZ,
    breathing_rate_median,
    rsa_at_rate,
    rsa_over_paced_stretches,
    slow_oscillation_median,
)
from hrv.spectral import frequency_domain
from hrv.time_domain import time_domain
from hrv.trend import Trend, slow_trends

__all__ = ["RoleSeries", "SessionInput", "analyze", "analyze_series", "load_input"]

log = logging.getLogger(__name__)


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

    def pacer_timeline(self) -> PacerTimeline:
        """The session's pacer, built by the live engine's rule (:meth:`PacerTimeline.after_event`).

        A pacer event whose data are not valid settings is left out (as live), with a warning
        in the log.
        """
        tl = PacerTimeline()
        for e in self.events:
            if e.kind != EventKind.PACER:
                continue
            try:
                tl = tl.after_event(e.t_s, e.data)
            except ValueError as exc:
                log.warning("%s: pacer event at %.1f s not used: %s", self.source, e.t_s, exc)
        return tl

    def pacer_changes(self) -> list[tuple[float, float]]:
        """``(t_s, rate_bpm)`` pacer changes (0 = off), derived from :meth:`pacer_timeline`."""
        return self.pacer_timeline().rate_changes()

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


def _series_from_session(path: str) -> SessionInput:
    beats: dict[str, list[Beat]] = {}
    events: list[Event] = []
    meta: dict[str, Any] = {}
    from biofeedback.session_reader import SessionReader

    with SessionReader(path) as r:
        meta = dict(r.meta)
        roles = r.roles
    for item in iter_session(path):
        if isinstance(item, Beat):
            beats.setdefault(item.role, []).append(item)
        elif isinstance(item, Event):
            events.append(item)
    series = {}
    for role in roles or tuple(beats):
        bl = beats.get(role, [])
        series[role] = RoleSeries(
            role,
            np.array([b.t_s for b in bl], dtype=np.float64),
            np.array([b.rr_ms for b in bl], dtype=np.float64),
            np.array([i for i, b in enumerate(bl) if b.after_gap], dtype=np.intp),
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
            if p and is_sqlite_file(p):
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
    if is_sqlite_file(path):
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
    15 s of each stretch are left out while breathing settles. With a pacer (either way) the
    breathing rate is searched from 3/min. With no pacer at all only the breathing-rate
    estimate is given (searched from 7.2/min, :data:`hrv.rsa.SPONTANEOUS_BREATH_BAND_HZ`): HF
    power (``hf_ms2``) is the spontaneous-breathing measure, and it misses RSA when breathing is
    slower than about 9 breaths/min. Then ``slow_oscillation_bpm`` reports a slow oscillation
    (3-7.2/min) that dominates most of the record (:func:`hrv.rsa.slow_oscillation_median`),
    with ``breathing_rate_note`` saying that it may be slow breathing or a slow heart-rate wave.
    """
    out: dict[str, Any] = {
        "pace_bpm": pace_bpm,
        "amplitude_ms": None,
        "peak_to_trough_bpm": None,
        "phase_deg": None,
        "r_squared": None,
        "breathing_rate_est_bpm": breathing_rate_median(t, rr),
        "window": None,
        "slow_oscillation_bpm": None,
        "breathing_rate_note": None,
    }
    if t.size < 4:
        return out
    if pace_bpm is not None:
        fit = rsa_at_rate(t, rr, pace_bpm, float(t[0] - rr[0] / 1000.0))
        out["breathing_rate_est_bpm"] = breathing_rate_median(t, rr, band_hz=BREATH_BAND_HZ)
        window = "whole record"
    else:
        paced = rsa_over_paced_stretches(t, rr, pacer)
        if paced is None:
            slow = slow_oscillation_median(t, rr)
            if math.isfinite(slow):
                out["slow_oscillation_bpm"] = slow
                out["breathing_rate_note"] = (
                    f"a slow heart-rate oscillation at about {slow:.1f} per minute dominates "
                    "most of the record; slow breathing and slow heart-rate waves look alike "
                    "in heart data alone, so it may or may not be the breathing rate"
                )
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
    trends = slow_trends(t, rr)
    out["trends"] = [
        {"start_s": x.start_s, "end_s": x.end_s, "change_bpm": x.change_bpm} for x in trends
    ]
    out["notes"] = [_trend_note(x) for x in trends]
    return json_safe(out)


def _trend_note(x: Trend) -> str:
    """Words for one strong slow heart-rate trend of one person."""
    how = "rose" if x.change_bpm > 0 else "fell"
    return (
        f"heart rate {how} by about {abs(x.change_bpm):.0f} beats/min from "
        f"{clock_text(x.start_s)} to {clock_text(x.end_s)}; whole-record numbers (SDNN, LF power, "
        "correlations) include this slow change"
    )


def detect_artifacts(s: RoleSeries) -> ArtifactResult | None:
    """Artifact detection and correction of one series (``None`` when it has no beats)."""
    return correct_artifacts(s.rr_ms, s.t_s) if s.rr_ms.size else None


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
        sync = synchrony_of(data, found=found, pace_bpm=pace_bpm)
        result["synchrony"] = json_safe(sync)
        result["synchrony"]["notes"] = dyad_trend_notes(result["participants"])
    result["coregulation"] = json_safe(coregulation_of(data, found))
    result["assessment"] = json_safe(assessment_of(data, found))
    if data.meta.get("files") is not None:
        result["input"] = json_safe(
            {k: data.meta.get(k) for k in ("files", "notes", "clock_start_s", "trimmed_s")}
        )
    return result
