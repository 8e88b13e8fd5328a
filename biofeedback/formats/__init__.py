"""RR interval files from other programs and devices, chosen by content.

Each supported layout lives in its own module (one per format) with

* ``NAME``: the name ``--format`` takes;
* ``LABEL``: words for people (``"Movesense Showcase HR CSV"``);
* ``sniff(head: bytes) -> bool``: whether the first few kilobytes look like this format;
* ``read(path, raw: bytes) -> dict``: role (or ``None`` for an unlabelled person) to
  :class:`RRSeries`, raising :class:`RRFileError` with the file, line and problem.

:func:`read_rr_people` tries them in :data:`FORMATS` order (binary formats first, the most
specific text layouts before the generic ones) unless a format is forced; a file none of them
takes gets one line naming every supported format. Every reader builds its series through
:func:`biofeedback.formats.timing.build_series`, so absurd intervals, recording gaps, clock
times and units are handled the same way for all of them.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FORMATS",
    "RRFileError",
    "RRSeries",
    "format_names",
    "read_rr_file",
    "read_rr_people",
]


class RRFileError(ValueError):
    """An RR file that cannot be read; the message names the file, line and problem."""


@dataclass(frozen=True)
class RRSeries:
    """One person's RR intervals with beat times, as read from a file.

    Attributes
    ----------
    rr_ms : ndarray of float64
        Intervals in milliseconds (absurd values already left out, see ``n_rejected``).
    t_s : ndarray of float64
        Beat times in seconds (end of each interval), strictly increasing. Relative to
        ``clock_start_s`` when the file has clock times, else to the start of the file.
    source : str
        Where the series came from (file path).
    unit_guess : str
        ``"ms"`` or ``"s"``: the unit the file's values were in.
    breaks : ndarray of int
        Indices of beats that follow a recording gap (their interval does not follow the
        previous beat): no successive difference is taken across them.
    clock_start_s : float or None
        Clock time (seconds since 1970-01-01 UTC, or since the file's own clock epoch for
        local times without a zone) of ``t_s = 0``; ``None`` when the file has no clock times.
    format : str
        The reader that took the file (``NAME`` of its module).
    n_rejected : int
        Intervals outside the absurd limits (below 50 ms or above 6 s) that were left out; each
        left a recording gap in its place.
    """

    rr_ms: NDArray[np.float64]
    t_s: NDArray[np.float64]
    source: str
    unit_guess: str = "ms"
    breaks: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    clock_start_s: float | None = None
    format: str = "rr-text"
    n_rejected: int = 0
    notes: tuple[str, ...] = ()


#: Reader modules in the order content detection tries them.
_MODULES = (
    "fit",
    "xdf",
    "movesense",
    "polar_logger",
    "openhrv",
    "rr_csv",
    "rr_text",
)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"biofeedback.formats.{name}")


def _formats() -> list[ModuleType]:
    return [_module(m) for m in _MODULES]


#: ``--format`` names of the supported readers, in detection order.
FORMATS: tuple[str, ...] = ("fit", "xdf", "movesense", "polar-logger", "openhrv", "csv", "text")


def format_names() -> str:
    """``"name (label), ..."`` of every supported format, for help and error messages."""
    return ", ".join(f"{m.NAME} ({m.LABEL})" for m in _formats())


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RRFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise RRFileError(f"{name}: is a folder, not an RR file") from None
    except OSError as exc:
        raise RRFileError(f"{name}: cannot read: {exc.strerror}") from None


def read_rr_people(
    path: str | os.PathLike[str], fmt: str | None = None
) -> dict[str | None, RRSeries]:
    """Read an RR file of any supported format: role (``None`` if unlabelled) -> series.

    Parameters
    ----------
    path : path-like
    fmt : str, optional
        Force one reader (a name in :data:`FORMATS`); by default the content decides.

    Raises
    ------
    RRFileError
        Missing, unreadable or unrecognised file, or any content problem; one line naming the
        file (and line) and the problem.
    """
    p = Path(path)
    name = str(path)
    raw = _read_bytes(p, name)
    modules = _formats()
    if fmt is not None:
        chosen = [m for m in modules if fmt == m.NAME]
        if not chosen:
            raise RRFileError(f"unknown --format {fmt!r}; supported: {', '.join(FORMATS)}")
        return chosen[0].read(name, raw)
    if not raw.strip():
        raise RRFileError(f"{name}: empty file, no RR intervals")
    head = raw[:8192]
    for m in modules:
        if m.sniff(head):
            return m.read(name, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        raise RRFileError(
            f"{name}: not a text file, nor a FIT or XDF file; supported formats: {format_names()}"
        )
    from biofeedback.formats.text import data_lines

    if not data_lines(text):
        raise RRFileError(f"{name}: no RR intervals in file")
    raise RRFileError(
        f"{name}: not an RR file this program reads; supported formats: {format_names()}"
    )


def read_rr_file(
    path: str | os.PathLike[str], fmt: str | None = None, role: str | None = None
) -> RRSeries:
    """Read one person's series from an RR file (see :func:`read_rr_people`).

    A file holding several people (a ``role`` column, as ``biofeedback export --format csv``
    writes) needs ``role``; without it the error names the people in the file.
    """
    people = read_rr_people(path, fmt)
    if role is not None:
        if role in people:
            return people[role]
        if list(people) == [None]:
            return people[None]
        have = ", ".join(str(r) for r in people)
        raise RRFileError(f"{path}: holds no person {role!r} (it holds {have})")
    if len(people) > 1:
        have = " and ".join(str(r) for r in people)
        raise RRFileError(
            f"{path}: this file holds {len(people)} people ({have}): choose one with --role, "
            "or analyse it as it is to read both as a dyad"
        )
    return next(iter(people.values()))


def describe(s: RRSeries) -> dict[str, Any]:
    """What the reader found, for the analysis output (format, unit, gaps, rejected values)."""
    return {
        "format": s.format,
        "unit": s.unit_guess,
        "n_gaps": int(s.breaks.size),
        "rejected_intervals": int(s.n_rejected),
        "clock_start_s": s.clock_start_s,
        "notes": list(s.notes),
    }
