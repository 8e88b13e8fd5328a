"""RR interval files, Kubios-style.

Two formats are read:

* **Plain text**: one interval per line, in milliseconds, or in seconds when every value is
  below 10. Blank lines and lines starting with ``#`` are skipped.
* **CSV** with a header row holding ``rr_ms`` and optionally ``time_s`` (the beat time in
  seconds). Other columns are ignored.

Without ``time_s`` the beat times are the cumulative sum of the intervals, so a series starts
at its first interval (``t[0] = rr[0] / 1000``), and two files analysed as a dyad start at the
same instant.

Errors name the file, the line and the problem: non-numeric values, zero or negative
intervals, empty files, a CSV without an ``rr_ms`` column, beat times that go backwards.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["RRFileError", "RRSeries", "read_rr_file", "write_rr_txt"]


class RRFileError(ValueError):
    """An RR file that cannot be read; the message names the file, line and problem."""


@dataclass(frozen=True)
class RRSeries:
    """RR intervals with beat times.

    Attributes
    ----------
    rr_ms : ndarray of float64
        Intervals in milliseconds.
    t_s : ndarray of float64
        Beat times in seconds (end of each interval).
    source : str
        Where the series came from (file path).
    unit_guess : str
        ``"ms"`` or ``"s"``: the unit found in a plain-text file (CSV is always ms).
    """

    rr_ms: NDArray[np.float64]
    t_s: NDArray[np.float64]
    source: str
    unit_guess: str = "ms"


def _number(text: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise RRFileError(f"{where}: not a number: {text.strip()[:40]!r}") from None
    if not math.isfinite(v):
        raise RRFileError(f"{where}: not a finite number: {text.strip()[:40]!r}")
    if v <= 0:
        raise RRFileError(f"{where}: RR interval must be positive, got {text.strip()[:40]}")
    return v


def _read_plain(text: str, name: str) -> RRSeries:
    values: list[float] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        values.append(_number(s, f"{name}, line {lineno}"))
    if not values:
        raise RRFileError(f"{name}: no RR intervals in file")
    rr = np.asarray(values, dtype=np.float64)
    unit = "ms"
    if float(rr.max()) < 10.0:
        rr = rr * 1000.0
        unit = "s"
    return RRSeries(rr, np.cumsum(rr) / 1000.0, name, unit)


def _read_csv(text: str, name: str) -> RRSeries:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for row in reader:
        if row and any(c.strip() for c in row):
            header = [c.strip().lower() for c in row]
            break
    if header is None:
        raise RRFileError(f"{name}: no RR intervals in file")
    if "rr_ms" not in header:
        raise RRFileError(f"{name}: CSV header has no 'rr_ms' column (found: {', '.join(header)})")
    i_rr = header.index("rr_ms")
    i_t = header.index("time_s") if "time_s" in header else None
    rr: list[float] = []
    ts: list[float] = []
    for row in reader:
        line = reader.line_num
        if not row or not any(c.strip() for c in row):
            continue
        where = f"{name}, line {line}"
        if len(row) <= i_rr or (i_t is not None and len(row) <= i_t):
            raise RRFileError(f"{where}: has {len(row)} columns, header has {len(header)}")
        rr.append(_number(row[i_rr], where))
        if i_t is not None:
            try:
                t = float(row[i_t])
            except ValueError:
                raise RRFileError(f"{where}: time_s is not a number: {row[i_t]!r}") from None
            if not math.isfinite(t):
                raise RRFileError(f"{where}: time_s is not finite")
            if ts and t <= ts[-1]:
                raise RRFileError(f"{where}: time_s {t} does not increase")
            ts.append(t)
    if not rr:
        raise RRFileError(f"{name}: no RR intervals in file")
    rr_a = np.asarray(rr, dtype=np.float64)
    t_a = np.asarray(ts, dtype=np.float64) if i_t is not None else np.cumsum(rr_a) / 1000.0
    return RRSeries(rr_a, t_a, name, "ms")


def read_rr_file(path: str | os.PathLike[str]) -> RRSeries:
    """Read an RR file (plain text or CSV, see the module docstring).

    Raises
    ------
    RRFileError
        Missing or unreadable file, or any content problem; the message names the file and line.
    """
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise RRFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise RRFileError(f"{name}: is a folder, not an RR file") from None
    except OSError as exc:
        raise RRFileError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RRFileError(f"{name}: not a text file") from None
    if "\x00" in text:
        raise RRFileError(f"{name}: not a text file")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise RRFileError(f"{name}: empty file, no RR intervals")
    looks_csv = "," in first or ";" in first or any(ch.isalpha() for ch in first)
    if looks_csv and not first.lstrip().startswith("#"):
        if ";" in first and "," not in first:
            text = text.replace(";", ",")
        return _read_csv(text, name)
    return _read_plain(text, name)


def write_rr_txt(path: str | os.PathLike[str], rr_ms: NDArray[np.float64]) -> None:
    """Write intervals one per line in ms, user-readable only (mode 0600).

    Up to 7 decimals, trailing zeros dropped: strap values (multiples of 1000/1024 ms) are
    written exactly.
    """
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as fh:
        for v in np.asarray(rr_ms, dtype=float):
            fh.write(f"{v:.7f}".rstrip("0").rstrip(".") + "\n")
