"""Movesense Showcase heart-rate recordings converted to CSV.

Layout (from the Movesense Showcase app's recorder, ``Recorder.swift``: header constant
``"average,rrData"`` and its CSV encoder): optional lines before the header (the issue's
exports carry a metadata line), then the header ``average,rrData`` (any case), then one row per
``/Meas/HR`` notification, ``AVERAGE_BPM,RR_MS``; further intervals of the same notification
follow on their own lines as ``,RR_MS``. ``rrData`` is in milliseconds. The file has no times,
so beat times are cumulative.
"""

from __future__ import annotations

from biofeedback.formats import RRFileError, RRSeries
from biofeedback.formats.series import build_series
from biofeedback.formats.text import data_lines, decode, positive_number

NAME = "movesense"
LABEL = "Movesense Showcase HR CSV: average,rrData"

HEADER = "average,rrdata"


def _header_index(lines: list[tuple[int, str]]) -> int | None:
    for k, (_, s) in enumerate(lines[:10]):
        if s.replace(" ", "").lower().rstrip(",") == HEADER:
            return k
    return None


def sniff(head: bytes) -> bool:
    return _header_index(data_lines(head.decode("utf-8-sig", errors="ignore"))) is not None


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    lines = data_lines(decode(raw, name))
    k = _header_index(lines)
    if k is None:
        raise RRFileError(f"{name}: no 'average,rrData' header in the first lines")
    rr: list[float] = []
    nums: list[int] = []
    for ln, s in lines[k + 1 :]:
        cells = [c.strip() for c in s.split(",")]
        if len(cells) < 2:
            raise RRFileError(f"{name}, line {ln}: expected 'average,rrData', got {s[:40]!r}")
        for c in cells[1:]:
            if c:
                rr.append(positive_number(c, f"{name}, line {ln}"))
                nums.append(ln)
    return {None: build_series(name, rr, nums, fmt=NAME)}
