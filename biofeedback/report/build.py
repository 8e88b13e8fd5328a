"""Build the after-session report: analyse a session file and write one self-contained HTML file.

:func:`build_report` runs the same analysis as ``analyze`` (:func:`biofeedback.analysis.analyze`,
so every number in the report equals ``analyze --json``), adds the over-time series
(:mod:`biofeedback.report.timeline`) and the baseline, and renders the sections
(:mod:`biofeedback.report.sections`). Nothing in the file refers to the network: styles are
inline, plots are inline SVG, sources are cited as plain-text DOIs.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biofeedback.analysis import RoleSeries, SessionInput, analyze, analyze_series, load_input
from biofeedback.errors import UserError
from biofeedback.report.timeline import (
    PersonTimeline,
    SyncTimeline,
    artifact_results,
    person_timeline,
    sync_timeline,
)
from biofeedback.session_reader import SessionReader

__all__ = ["ReportData", "build_report", "collect", "write_report"]

log = logging.getLogger(__name__)

#: First line of every report file: lets a new report replace an old one and nothing else.
MARK = "<!DOCTYPE html><!-- coregulation-monitor session report -->"

#: Progress callback: ``(what is being done, overall fraction done 0..1)``.
ProgressFn = Callable[[str, float], None]


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows.

    Attributes
    ----------
    path : str
        The session file.
    result : dict
        :func:`biofeedback.analysis.analyze` of it (the ``analyze --json`` object).
    data : SessionInput
        Beats, events and metadata as read.
    participants : dict
        Strap information per role, as recorded.
    timelines : dict of role -> PersonTimeline
    sync : SyncTimeline or None
        For a therapist-client session.
    baseline : dict or None
        ``{"start_s", "end_s", "participants": {role: METRICS}}`` for the resting baseline,
        each METRICS computed by :func:`~biofeedback.analysis.analyze_series` on the stretch.
    t_end_s : float
        Last beat time of the session (s).
    """

    path: str
    result: dict[str, Any]
    data: SessionInput
    participants: dict[str, dict[str, Any]]
    timelines: dict[str, PersonTimeline]
    sync: SyncTimeline | None
    baseline: dict[str, Any] | None
    t_end_s: float


def _slice(s: RoleSeries, a: float, b: float) -> RoleSeries:
    sel = (s.t_s > a) & (s.t_s <= b)
    idx = sel.nonzero()[0]
    first = int(idx[0]) if idx.size else 0
    breaks = s.breaks[(s.breaks > first) & (s.breaks < first + idx.size)] - first
    return RoleSeries(s.role, s.t_s[sel], s.rr_ms[sel], breaks)


def _scaled(
    tell: Callable[[str, float], None], words: str, base: float, share: float
) -> Callable[[float], None]:
    """A step's own 0..1 progress as a share of the whole."""

    def step(frac: float) -> None:
        tell(words, base + frac * share)

    return step


def baseline_numbers(data: SessionInput) -> dict[str, Any] | None:
    """Per person metrics over the resting baseline (``None`` when the session has none)."""
    stretch = data.baseline_stretch()
    if stretch is None:
        return None
    a, b = stretch
    people = {}
    for role, s in data.series.items():
        part = _slice(s, a, b)
        people[role] = analyze_series(part, pacer=data.pacer_changes()) if part.rr_ms.size else None
    return {"start_s": a, "end_s": b, "participants": people}


def collect(path: str, progress: ProgressFn | None = None) -> ReportData:
    """Read and analyse a session file for its report.

    Parameters
    ----------
    path : str
        A session file (RR files have no events or straps to report; use ``analyze``).
    progress : callable, optional
        Called with ``(step words, fraction done)`` as the work goes on.

    Raises
    ------
    UserError, SessionFileError
        Not a session file, unreadable, or holding no beats (the message names the file).
    """

    def tell(words: str, frac: float) -> None:
        if progress is not None:
            progress(words, min(1.0, max(0.0, frac)))

    tell("reading the session", 0.0)
    with SessionReader(path) as reader:  # also checks it is a session file
        participants = reader.participants
    data = load_input([path])
    if not any(s.rr_ms.size for s in data.series.values()):
        raise UserError(f"{path}: the session holds no heart beats; nothing to report")
    tell("analysing (HRV, synchrony against chance)", 0.1)
    result = analyze(data)
    found = artifact_results(data)
    t_end = max(float(s.t_s[-1]) for s in data.series.values() if s.t_s.size)
    roles = list(data.series)
    dyad = {"therapist", "client"} <= set(roles)
    share = 0.3 / max(len(roles), 1)
    timelines = {}
    for i, role in enumerate(roles):
        base = 0.45 + i * share
        words = f"{role}: heart rate, RMSSD and RSA over time"
        tell(words, base)
        timelines[role] = person_timeline(
            data,
            role,
            found[role],
            t_end_s=t_end,
            progress=_scaled(tell, words, base, share),
        )
    sync = None
    if dyad:
        tell("synchrony over time", 0.75)
        sync = sync_timeline(
            data,
            found,
            t_end_s=t_end,
            progress=lambda f: tell("synchrony over time", 0.75 + 0.2 * f),
        )
    tell("resting baseline", 0.95)
    baseline = baseline_numbers(data)
    return ReportData(path, result, data, participants, timelines, sync, baseline, t_end)


def build_report(path: str, progress: ProgressFn | None = None) -> str:
    """The report of a session file as one HTML document (a string)."""
    from biofeedback.report.sections import render

    report = collect(path, progress)
    html = render(report)
    if progress is not None:
        progress("done", 1.0)
    return html


def write_report(
    path: str, out: str | os.PathLike[str], progress: ProgressFn | None = None
) -> Path:
    """Write the report of ``path`` to ``out`` (mode 0600).

    An existing file is replaced only when it is an earlier report (it starts with
    :data:`MARK`); anything else is refused, so a mistyped ``--out`` cannot destroy data.

    Raises
    ------
    UserError
        ``out`` is a folder, another kind of file, or cannot be written.
    """
    target = Path(out)
    if target.is_dir():
        raise UserError(f"{target}: is a folder; give a file name for the report")
    if target.exists():
        try:
            with open(target, "rb") as fh:
                ours = fh.read(len(MARK) + 20).startswith(MARK.encode())
        except OSError:
            ours = False
        if not ours:
            raise UserError(f"{target}: file exists and is not a report; not overwriting it")
    html = build_report(path, progress)
    tmp = target.with_name(f".{target.name}.part")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as exc:
        raise UserError(f"{target}: cannot write the report: {exc.strerror}") from exc
    return target


def finite(v: Any) -> bool:
    """True for a finite number (``None`` and ``nan`` are not)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
