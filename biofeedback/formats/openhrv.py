"""OpenHRV recordings (``OpenHRV_<date>.csv``).

Layout (OpenHRV's ``logger.py`` and README): header ``event,value,timestamp`` (tab separated in
versions before 1.0), one row per event: ``InterBeatInterval`` rows hold the latest
inter-beat interval in ms (OpenHRV has already replaced values outside its own limits by a
recent median), other events (``HeartRateVariability``, ``PacerRate``, ``HrvTarget``,
``Sensors``, ``Annotation``) are skipped. ``timestamp`` is the computer's local clock time
(ISO 8601) when the interval arrived, so beat times are anchored on it like a live strap.
Values of other events may contain commas; the event is the first cell and the timestamp the
last.
"""

from __future__ import annotations

from biofeedback.formats import RRFileError, RRSeries
from biofeedback.formats.series import build_series, parse_clock
from biofeedback.formats.text import data_lines, decode, positive_number

NAME = "openhrv"
LABEL = "OpenHRV recording: event,value,timestamp"

IBI_EVENT = "interbeatinterval"


def _split(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split(",")


def sniff(head: bytes) -> bool:
    lines = data_lines(head.decode("utf-8-sig", errors="ignore"))
    if not lines:
        return False
    return [c.strip().lower() for c in _split(lines[0][1])] == ["event", "value", "timestamp"]


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    lines = data_lines(decode(raw, name))
    rr: list[float] = []
    when: list[float] = []
    nums: list[int] = []
    for ln, s in lines[1:]:
        cells = _split(s)
        if cells[0].strip().lower() != IBI_EVENT:
            continue
        where = f"{name}, line {ln}"
        if len(cells) != 3:
            raise RRFileError(f"{where}: expected 'InterBeatInterval,ms,timestamp'")
        t = parse_clock(cells[2])
        if t is None:
            raise RRFileError(f"{where}: not a date and time: {cells[2].strip()[:40]!r}")
        rr.append(positive_number(cells[1], where))
        when.append(t)
        nums.append(ln)
    if not rr:
        raise RRFileError(f"{name}: no InterBeatInterval rows in this OpenHRV recording")
    return {None: build_series(name, rr, nums, fmt=NAME, arrival_s=when, clock=True)}
