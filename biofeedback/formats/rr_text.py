"""One RR interval per line: Kubios-style RR text, Elite HRV exports and the like.

Layout: one number per line, in milliseconds or in seconds (the median decides, see
:func:`biofeedback.formats.series.to_milliseconds`); blank lines and lines starting with ``#``
are skipped. No times: beat times are the cumulative sum, so a series starts at its first
interval (``t[0] = rr[0] / 1000``). ``biofeedback export --format rr-txt`` writes this layout.

A first line like ``8e2`` is a number (800), not a header.
"""

from __future__ import annotations

from biofeedback.formats import RRSeries
from biofeedback.formats.series import build_series, to_milliseconds
from biofeedback.formats.text import data_lines, decode, number, positive_number

NAME = "text"
LABEL = "one RR interval per line, ms or s"


def sniff(head: bytes) -> bool:
    try:
        text = head.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError:
        text = head[: len(head) - 4].decode("utf-8-sig", errors="ignore")
    lines = data_lines(text)
    return bool(lines) and number(lines[0][1]) is not None


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    lines = data_lines(decode(raw, name))
    values = [positive_number(s, f"{name}, line {ln}") for ln, s in lines]
    numbers = [ln for ln, _ in lines]
    rr_ms, unit = to_milliseconds(values, numbers, name)
    return {None: build_series(name, rr_ms, numbers, fmt=NAME, unit=unit)}
