"""One label's numbers across sessions, and their change per session.

The person followed is the labelled one: the client in a two-person session, the solo person in
a solo session. Per session (oldest first): resting RMSSD (from the resting baseline when the
session has one, else from its first 3 minutes, and the table says which), RSA at the personal
rate (the assessment's suggested rate when the session holds an assessment, otherwise the
pacer rate the session used longest; none without a pacer), the assessment's suggested rate,
synchrony against chance (two-person sessions), and the co-regulation episodes (count and median
settling time) when the analysis provides them.

A trend is the least-squares slope of a measure against the session's position in the series
(0, 1, 2 ... in date order, so a session without a value leaves its place empty rather than
compressing the spacing). It needs at least :data:`MIN_SESSIONS` sessions with a value; with
fewer it is not given, and the reason says how many there are. Nothing is extrapolated: the
slope describes the sessions it rests on, not the next one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from biofeedback.library import Library, Progress, SessionEntry, date_words

__all__ = ["MEASURES", "MIN_SESSIONS", "label_trends", "slope_per_session"]

MIN_SESSIONS = 3

#: (key, words with unit) of the measures that get a slope.
MEASURES: tuple[tuple[str, str], ...] = (
    ("resting_rmssd_ms", "resting RMSSD (ms)"),
    ("rsa_amplitude_ms", "RSA at the personal rate (ms)"),
    ("suggested_bpm", "suggested breathing rate (breaths/min)"),
    ("n_episodes", "co-regulation episodes (count)"),
    ("median_settle_s", "median settling time (s)"),
)


def slope_per_session(x: Sequence[float], y: Sequence[float | None]) -> tuple[float | None, int]:
    """Least-squares slope of ``y`` on ``x`` over the points with a value, and how many there are.

    ``None`` as the slope with fewer than :data:`MIN_SESSIONS` values or no spread in ``x``.
    """
    pts = [
        (float(a), float(b))
        for a, b in zip(x, y, strict=True)
        if b is not None and math.isfinite(float(b))
    ]
    n = len(pts)
    if n < MIN_SESSIONS:
        return None, n
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    dx = xs - xs.mean()
    den = float(np.sum(dx * dx))
    if den == 0:
        return None, n
    return float(np.sum(dx * (ys - ys.mean())) / den), n


def _person(e: SessionEntry) -> str | None:
    people = e.facts.get("people") or []
    for role in ("client", "solo"):
        if role in people:
            return role
    return people[0] if people else None


def _row(position: int, e: SessionEntry) -> dict[str, Any]:
    role = _person(e)
    head = ((e.headline or {}).get("people") or {}).get(role or "", {}) if role else {}
    trend = e.trend or {}
    tp = (trend.get("people") or {}).get(role or "", {}) if role else {}
    sync = trend.get("synchrony")
    co = trend.get("coregulation")
    return {
        "position": position,
        "name": e.name,
        "date_utc": e.facts.get("date_utc"),
        "person": role,
        "mode": e.facts.get("mode"),
        "duration_s": e.facts.get("duration_s"),
        "resting_rmssd_ms": head.get("resting_rmssd_ms"),
        "resting_from": head.get("resting_from"),
        "rsa_amplitude_ms": tp.get("rsa_amplitude_ms"),
        "rsa_rate_bpm": tp.get("rsa_rate_bpm"),
        "rsa_from": tp.get("rsa_from"),
        "suggested_bpm": trend.get("suggested_bpm"),
        "synchrony": sync.get("verdict") if isinstance(sync, dict) else None,
        "synchrony_p": sync.get("p_value") if isinstance(sync, dict) else None,
        "n_episodes": co.get("n_episodes") if isinstance(co, dict) else None,
        "median_settle_s": co.get("median_settle_s") if isinstance(co, dict) else None,
        "error": e.error,
    }


def label_trends(
    library: Library, label: str, *, progress: Progress | None = None
) -> dict[str, Any]:
    """The ``trends --json`` object of one label.

    Returns
    -------
    dict
        ``label``, ``n_sessions``, ``sessions`` (one row per session, oldest first, with the
        measures above; ``null`` where a session has no value) and ``trends``: per measure
        ``slope_per_session`` (``null`` when it cannot be given), ``n_sessions`` (how many
        values it rests on), ``first`` and ``last`` (the first and last values) and ``note``.
        ``synchrony_above_chance`` counts sessions above chance out of those tested.
    """

    def mine(e: SessionEntry) -> bool:
        return e.facts.get("label") == label

    entries = [e for e in library.entries(numbers="both", where=mine, progress=progress) if mine(e)]
    rows = [_row(i, e) for i, e in enumerate(entries)]
    trends: dict[str, Any] = {}
    for key, words in MEASURES:
        vals = [r[key] for r in rows]
        slope, n = slope_per_session([r["position"] for r in rows], vals)
        present = [v for v in vals if v is not None]
        if slope is not None:
            note = f"{words}: {slope:+.2f} per session, from {n} sessions"
        elif n == 0:
            note = f"{words}: no session has a value"
        else:
            note = (
                f"{words}: no trend; it needs at least {MIN_SESSIONS} sessions with a value "
                f"and there {'is' if n == 1 else 'are'} {n}"
            )
        trends[key] = {
            "slope_per_session": slope,
            "n_sessions": n,
            "first": present[0] if present else None,
            "last": present[-1] if present else None,
            "note": note,
        }
    tested = [r["synchrony"] for r in rows if r["synchrony"] is not None]
    return {
        "label": label,
        "n_sessions": len(rows),
        "person": sorted({r["person"] for r in rows if r["person"]}),
        "sessions": rows,
        "trends": trends,
        "synchrony_above_chance": {
            "sessions_above_chance": sum(v == "above chance" for v in tested),
            "sessions_tested": len(tested),
        },
        "min_sessions_for_a_trend": MIN_SESSIONS,
    }


def session_date(row: dict[str, Any]) -> str:
    """A row's date for a table."""
    return date_words(row.get("date_utc"))
