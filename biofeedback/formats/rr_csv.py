"""CSV with an ``rr_ms`` column: the program's own CSV, and any spreadsheet that names its
column that way.

Layout: a header row holding ``rr_ms`` (milliseconds) and optionally ``time_s`` (beat time,
seconds, on any clock shared by the files of one session), ``role`` (several people in one
file, as ``biofeedback export --format csv`` writes) and ``after_gap`` (1 where the beat
follows a recording gap). Comma, semicolon or tab separated; other columns are ignored.

With ``time_s``, a jump longer than the interval accounts for is a recording gap
(:mod:`biofeedback.formats.series`). Rows of several people give one series per role.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from biofeedback.formats import RRFileError, RRSeries, format_names
from biofeedback.formats.series import build_series
from biofeedback.formats.text import data_lines, decode, number, positive_number

NAME = "csv"
LABEL = "CSV with an rr_ms column, optional time_s, role, after_gap"


def _delimiter(first: str) -> str | None:
    for d in (",", ";", "\t"):
        if d in first:
            return d
    return None


def sniff(head: bytes) -> bool:
    """A first data line that is a delimited header (some cell is not a number)."""
    lines = data_lines(head.decode("utf-8-sig", errors="ignore"))
    if not lines:
        return False
    first = lines[0][1]
    d = _delimiter(first)
    if d is None:
        return first.strip().lower() == "rr_ms"
    return any(number(c) is None and c.strip() for c in first.split(d))


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    text = decode(raw, name)
    lines = data_lines(text)
    if not lines:
        raise RRFileError(f"{name}: no RR intervals in file")
    d = _delimiter(lines[0][1]) or ","
    reader = csv.reader(io.StringIO(text), delimiter=d)
    header: list[str] | None = None
    for row in reader:
        if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
            header = [c.strip().lower() for c in row]
            break
    assert header is not None
    if "rr_ms" not in header:
        raise RRFileError(
            f"{name}: CSV header has no 'rr_ms' column (found: {', '.join(header)}); "
            f"supported formats: {format_names()}"
        )
    col = {k: header.index(k) for k in ("rr_ms", "time_s", "role", "after_gap") if k in header}
    need = max(col.values())
    rows: dict[str | None, list[tuple[int, float, float | None, bool]]] = {}
    for row in reader:
        line = reader.line_num
        if not row or not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        where = f"{name}, line {line}"
        if len(row) <= need:
            raise RRFileError(f"{where}: has {len(row)} columns, header has {len(header)}")
        rr = positive_number(row[col["rr_ms"]], where)
        t = None
        if "time_s" in col:
            t = number(row[col["time_s"]])
            if t is None:
                raise RRFileError(f"{where}: time_s is not a number: {row[col['time_s']]!r}")
        gap = "after_gap" in col and row[col["after_gap"]].strip() not in ("", "0", "false")
        role = row[col["role"]].strip() or None if "role" in col else None
        rows.setdefault(role, []).append((line, rr, t, gap))
    if not rows:
        raise RRFileError(f"{name}: no RR intervals in file")
    out: dict[str | None, RRSeries] = {}
    for role, rs in rows.items():
        lines_ = [r[0] for r in rs]
        rr_ms = np.array([r[1] for r in rs])
        beat = np.array([r[2] for r in rs], dtype=float) if "time_s" in col else None
        gaps = np.array([r[3] for r in rs], dtype=bool)
        out[role] = build_series(name, rr_ms, lines_, fmt=NAME, beat_s=beat, breaks_before=gaps)
    return out
