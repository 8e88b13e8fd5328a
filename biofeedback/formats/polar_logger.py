"""Polar Sensor Logger RR files (``..._RR.txt``).

Layout (Polar Sensor Logger for Android, as its exports and the readers written for them
show): semicolon separated, header ``Phone timestamp;RR-interval [ms]``, then one row per
interval: the phone's clock time when the interval arrived (ISO 8601, local time, e.g.
``2026-04-24T14:10:16.752``) and the interval in ms. Several intervals of one notification
share a timestamp. Beat times are anchored on these arrival times like a live strap
(:mod:`biofeedback.formats.series`), so a drop-out becomes a recording gap and two people's
files align by clock time.

The sibling ``..._HR.txt`` file (``Phone timestamp;HR [bpm];...``) holds heart rate, not
intervals; it is refused with a pointer to the RR file.
"""

from __future__ import annotations

from biofeedback.formats import RRFileError, RRSeries
from biofeedback.formats.series import build_series, parse_clock
from biofeedback.formats.text import data_lines, decode, positive_number

NAME = "polar-logger"
LABEL = "Polar Sensor Logger RR file: Phone timestamp;RR-interval [ms]"

HEADER = "phone timestamp;rr-interval [ms]"


def _first(head: bytes) -> str:
    lines = data_lines(head.decode("utf-8-sig", errors="ignore"))
    return lines[0][1].lower() if lines else ""


def sniff(head: bytes) -> bool:
    first = _first(head)
    return first.startswith(HEADER) or first.startswith("phone timestamp;hr [bpm]")


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    lines = data_lines(decode(raw, name))
    first = lines[0][1].lower() if lines else ""
    if first.startswith("phone timestamp;hr [bpm]"):
        raise RRFileError(
            f"{name}: this is Polar Sensor Logger's heart-rate file; give the _RR.txt file "
            "recorded beside it"
        )
    if not first.startswith(HEADER):
        raise RRFileError(f"{name}: no 'Phone timestamp;RR-interval [ms]' header")
    rr: list[float] = []
    when: list[float] = []
    nums: list[int] = []
    for ln, s in lines[1:]:
        cells = s.split(";")
        where = f"{name}, line {ln}"
        if len(cells) < 2:
            raise RRFileError(f"{where}: expected 'timestamp;interval', got {s[:40]!r}")
        t = parse_clock(cells[0])
        if t is None:
            raise RRFileError(f"{where}: not a date and time: {cells[0][:40]!r}")
        rr.append(positive_number(cells[1], where))
        when.append(t)
        nums.append(ln)
    return {None: build_series(name, rr, nums, fmt=NAME, arrival_s=when, clock=True)}
