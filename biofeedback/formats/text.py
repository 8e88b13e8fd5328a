"""Text files for the RR readers: decoding, and finding the lines that hold data."""

from __future__ import annotations

import math

from biofeedback.formats import RRFileError

__all__ = ["data_lines", "decode", "number", "positive_number"]


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); binary content is refused in one line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RRFileError(f"{name}: not a text file") from None
    if "\x00" in text:
        raise RRFileError(f"{name}: not a text file")
    return text


def data_lines(text: str) -> list[tuple[int, str]]:
    """``(line number from 1, stripped line)`` of every line that is neither blank nor a
    ``#`` comment."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#"):
            out.append((lineno, s))
    return out


def number(text: str) -> float | None:
    """The value of ``text`` as a finite float, or ``None``."""
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def positive_number(text: str, where: str) -> float:
    """A positive finite number, or one line saying what is wrong with it."""
    try:
        v = float(text)
    except ValueError:
        raise RRFileError(f"{where}: not a number: {text.strip()[:40]!r}") from None
    if not math.isfinite(v):
        raise RRFileError(f"{where}: not a finite number: {text.strip()[:40]!r}")
    if v <= 0:
        raise RRFileError(f"{where}: RR interval must be positive, got {text.strip()[:40]}")
    return v
