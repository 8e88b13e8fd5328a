"""Building blocks shared by the report's sections: number cells tagged with their analysis key,
tables, session-time words, and the stretches and markers every chart shows."""

from __future__ import annotations

import datetime as _dt
import json
import math
from html import escape
from typing import Any

from biofeedback.beats import EventKind
from biofeedback.report.build import ReportData, finite
from biofeedback.report.style import ROLE_STYLE
from biofeedback.report.svg import Span

__all__ = ["DASH", "clock", "duration_words", "num"]

DASH = "–"


# -- small helpers -----------------------------------------------------------------------------


def clock(t_s: float | None) -> str:
    """Session time as ``m:ss`` (``h:mm:ss`` from one hour); a dash for ``None``."""
    if t_s is None or not math.isfinite(t_s):
        return DASH
    t = round(t_s)
    if t >= 3600:
        return f"{t // 3600}:{(t % 3600) // 60:02d}:{t % 60:02d}"
    return f"{t // 60}:{t % 60:02d}"


def duration_words(t_s: float) -> str:
    """A duration in words: ``"42 min 5 s"``, ``"3 h 0 min"``."""
    t = round(t_s)
    if t >= 3600:
        return f"{t // 3600} h {(t % 3600) // 60} min"
    return f"{t // 60} min {t % 60} s" if t >= 60 else f"{t} s"


def _get(d: Any, key: str) -> Any:
    """The value at a dotted key (list items by index, ``a.0.b``); ``None`` when absent."""
    for part in key.split("."):
        if isinstance(d, dict):
            d = d.get(part)
        elif isinstance(d, list) and part.isdigit() and int(part) < len(d):
            d = d[int(part)]
        else:
            return None
    return d


def num(
    result: dict[str, Any], key: str, fmt: str = "{:.1f}", unit: str = "", scale: float = 1.0
) -> str:
    """A number from the analysis result, tagged with its key; a dash when it is ``null``.

    ``scale`` multiplies the shown value (e.g. 100 for a share shown in %); the tag keeps the
    value as the analysis has it and says the scale (``data-scale``).
    """
    v = _get(result, key)
    shown = fmt.format(v * scale if scale != 1.0 else v) + unit if finite(v) else DASH
    raw = json.dumps(v if finite(v) else None)
    extra = f' data-scale="{scale:g}"' if scale != 1.0 else ""
    return (
        f'<span class="n" data-key="{escape(key)}" data-value="{escape(raw)}"{extra}>{shown}</span>'
    )


def _role_words(role: str) -> str:
    return ROLE_STYLE.get(role, ("#333", None, role))[2]


def _date_words(created: Any) -> str:
    try:
        dt = _dt.datetime.fromisoformat(str(created))
    except ValueError:
        return DASH
    if dt.tzinfo is not None:
        dt = dt.astimezone(_dt.UTC)
    return dt.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def _mode_words(r: ReportData) -> str:
    mode = r.data.meta.get("mode")
    if isinstance(mode, str) and mode:
        return mode
    if r.result.get("assessment"):
        return "resonance assessment"
    roles = set(r.data.series)
    return "two-person session" if {"therapist", "client"} <= roles else "solo breathing"


def _spans(r: ReportData) -> list[Span]:
    spans = []
    changes = r.data.pacer_changes()
    for k, (t, rate) in enumerate(changes):
        stop = changes[k + 1][0] if k + 1 < len(changes) else r.t_end_s
        if rate > 0 and stop > t:
            spans.append(Span(t, stop, "paced"))
    for a, b in r.data.gap_intervals():
        spans.append(Span(a, b, "gap"))
    if r.baseline is not None:
        spans.append(Span(r.baseline["start_s"], r.baseline["end_s"], "baseline"))
    return spans


def _markers(r: ReportData) -> list[tuple[str, float, str]]:
    """``(label, t_s, text)`` of every marker, numbered M1, M2 ..."""
    out: list[tuple[str, float, str]] = []
    for e in r.data.events:
        if e.kind == EventKind.MARKER:
            out.append((f"M{len(out) + 1}", e.t_s, str(e.data.get("text") or "")))
    return out


def _episodes(r: ReportData) -> list[dict[str, Any]]:
    co = r.result.get("coregulation")
    return list(co.get("episodes") or []) if isinstance(co, dict) else []


def _table(head: list[str], rows: list[list[str]], num_cols: set[int] | None = None) -> str:
    num_cols = num_cols or set()

    def cell(tag: str, i: int, v: str) -> str:
        cls = ' class="num"' if i in num_cols else ""
        return f"<{tag}{cls}>{v}</{tag}>"

    h = "".join(cell("th", i, escape(x)) for i, x in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


# -- sections ----------------------------------------------------------------------------------
