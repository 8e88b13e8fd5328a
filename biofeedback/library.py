"""The session library: every session file in the data folder, with its facts and headline
numbers, found by name, and deleted on request.

Reading never writes: session files are opened as :func:`biofeedback.session_reader.open_read_only`
does (``mode=ro&immutable=1``, or a private copy when a recording's WAL must be read), so a
stray ``-wal`` beside a file is never applied to it, and the analysis reads the file as
``analyze`` does. Listing stays cheap by caching, per file, what was read and computed in a
private index beside the sessions (``.library-index.json``, mode 0600), keyed by the file's
size and modification time: a changed file is read again, a deleted one dropped.

Two levels of numbers are cached:

* ``headline`` (for ``sessions``): per person beats, mean heart rate, RMSSD, irregular
  intervals and the resting RMSSD (from the baseline when the session has one, otherwise from
  the first 3 minutes; ``resting_from`` says which), from
  :func:`biofeedback.analysis.analyze_series` (no synchrony surrogates, so it is quick);
* ``trend`` (for ``trends``): the whole :func:`biofeedback.analysis.analyze` result reduced to
  what a trend needs (RSA at the pacer or at the assessment's suggested rate, the suggested
  rate, synchrony against chance, co-regulation episode count and median settling time).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from biofeedback.errors import UserError
from biofeedback.paths import sessions_dir, user_data_dir
from hrv.json_values import json_safe

__all__ = [
    "INDEX_NAME",
    "RESTING_FALLBACK_S",
    "Library",
    "SessionEntry",
    "read_facts",
    "resolve_session",
]

log = logging.getLogger(__name__)

INDEX_NAME = ".library-index.json"
INDEX_VERSION = 1
SUFFIX = ".session"
#: Without a baseline, the resting RMSSD is taken from this many seconds at the start.
RESTING_FALLBACK_S = 180.0

Progress = Callable[[str, int, int], None]


def _ro_connect(path: Path) -> sqlite3.Connection:
    """A read-only connection (:func:`~biofeedback.session_reader.open_read_only`): nothing is
    written back, no ``-shm`` is created, and a stray WAL beside a closed file is not read."""
    from biofeedback.session_reader import open_read_only
    from biofeedback.store import SessionFileError

    try:
        return open_read_only(path)
    except SessionFileError as exc:
        raise UserError(str(exc)) from None


def read_facts(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a session file says about itself, read-only: date, label, mode, people, duration.

    Raises
    ------
    UserError
        Not a readable session file (the message names the file).
    """
    p = Path(path)
    try:
        db = _ro_connect(p)
    except sqlite3.Error as exc:
        raise UserError(f"{p}: cannot open: {exc}") from exc
    try:
        meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
        if meta.get("format") != "coregulation-session":
            raise UserError(f"{p}: not a session file (no session metadata)")
        (t_max,) = db.execute("SELECT MAX(t_s) FROM packets").fetchone()
        people = meta.get("roles") or [
            r for (r,) in db.execute("SELECT DISTINCT role FROM packets ORDER BY role")
        ]
        straps = {r: json.loads(i) for r, i in db.execute("SELECT role, info FROM participants")}
    except (sqlite3.Error, json.JSONDecodeError, TypeError) as exc:
        raise UserError(f"{p}: not a readable session file ({exc})") from exc
    finally:
        db.close()
    label = meta.get("label")
    mode = meta.get("mode")
    if not isinstance(mode, str) or not mode:
        mode = "two-person session" if {"therapist", "client"} <= set(people) else "solo breathing"
    return {
        "date_utc": meta.get("created_utc"),
        "label": label if isinstance(label, str) and label else None,
        "mode": mode,
        "people": list(people),
        "duration_s": float(t_max or 0.0),
        "source": meta.get("source"),
        "straps": {r: i.get("name") for r, i in straps.items()},
    }


def _median(values: Iterable[float]) -> float | None:
    v = sorted(x for x in values if x is not None and math.isfinite(x))
    if not v:
        return None
    m = len(v) // 2
    return v[m] if len(v) % 2 else 0.5 * (v[m - 1] + v[m])


@contextlib.contextmanager
def _readable(path: str) -> Iterator[str]:
    """A path the analysis may open without any risk to the file.

    The analysis opens sessions the way ``analyze`` does; with a ``-wal`` beside the file that
    could replay it into the file. Then a private copy of the file and its WAL (in a temporary
    folder readable by the user alone) is analysed instead, and the original is left as it is.
    """
    if not Path(f"{path}-wal").exists():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="coregulation-") as tmp:
        copy = Path(tmp) / Path(path).name
        shutil.copyfile(path, copy)
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        yield str(copy)


def headline_numbers(path: str) -> dict[str, Any]:
    """Per person headline numbers of a session (see the module docstring)."""
    from biofeedback.analysis import analyze_series, load_input
    from biofeedback.report.build import _slice

    with _readable(path) as readable:
        data = load_input([readable])
    pacer = data.pacer_changes()
    stretch = data.baseline_stretch()
    people: dict[str, Any] = {}
    for role, s in data.series.items():
        whole = analyze_series(s, pacer=pacer)
        if stretch is not None:
            a, b, source = stretch[0], stretch[1], "baseline"
        else:  # from the start of the first interval
            a = float(s.t_s[0] - s.rr_ms[0] / 1000.0) if s.t_s.size else 0.0
            b, source = a + RESTING_FALLBACK_S, f"first {RESTING_FALLBACK_S / 60:g} min"
        part = _slice(s, a, b)
        rest = analyze_series(part, pacer=pacer) if part.rr_ms.size >= 2 else None
        people[role] = {
            "n_beats": whole["n_beats"],
            "mean_hr_bpm": whole["mean_hr_bpm"],
            "rmssd_ms": whole["rmssd_ms"],
            "irregular_pct": whole["artifacts"]["pct"],
            "resting_rmssd_ms": rest["rmssd_ms"] if rest else None,
            "resting_from": source,
            "resting_window_s": [a, b],
        }
    return {"people": people}


def trend_numbers(path: str) -> dict[str, Any]:
    """What a trend needs from the whole analysis of a session (see the module docstring)."""
    from biofeedback.analysis import analyze, load_input

    with _readable(path) as readable:
        result = analyze(load_input([readable]))
    people: dict[str, Any] = {}
    assessment = result.get("assessment") if isinstance(result.get("assessment"), dict) else None
    suggested = assessment.get("suggested_bpm") if assessment else None
    for role, m in result["participants"].items():
        rsa = m.get("rsa") or {}
        entry = {
            "rsa_amplitude_ms": rsa.get("amplitude_ms"),
            "rsa_rate_bpm": rsa.get("pace_bpm"),
            "rsa_from": "pacer" if rsa.get("amplitude_ms") is not None else None,
        }
        if assessment and suggested is not None:
            for step in assessment.get("steps") or []:
                if step.get("rate_bpm") == suggested and step.get("rsa_amplitude_ms") is not None:
                    entry.update(
                        rsa_amplitude_ms=step["rsa_amplitude_ms"],
                        rsa_rate_bpm=suggested,
                        rsa_from="assessment",
                    )
        people[role] = entry
    sync = result.get("synchrony")
    sync_out = None
    if isinstance(sync, dict):
        p = sync.get("p_value")
        if sync.get("pacer_driven"):
            verdict = "both following the pacer"
        elif p is None:
            verdict = "not enough data"
        else:
            verdict = "above chance" if p < 0.05 else "not above chance"
        sync_out = {"p_value": p, "pacer_driven": sync.get("pacer_driven"), "verdict": verdict}
    co = result.get("coregulation")
    co_out = None
    if isinstance(co, dict):
        eps = co.get("episodes") or []
        co_out = {
            "n_episodes": len(eps),
            "median_settle_s": _median(e.get("settle_s") for e in eps),
            "reference": co.get("reference"),
        }
    return {
        "people": people,
        "suggested_bpm": suggested,
        "synchrony": sync_out,
        "coregulation": co_out,
    }


@dataclass
class SessionEntry:
    """One session in the library.

    ``name`` is the file name without ``.session``; ``facts`` is :func:`read_facts`;
    ``headline`` and ``trend`` are the cached numbers (``None`` until computed).
    """

    name: str
    path: Path
    facts: dict[str, Any]
    headline: dict[str, Any] | None = None
    trend: dict[str, Any] | None = None
    error: str | None = None
    _key: list[int] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            **self.facts,
            "numbers": self.headline,
            "trend": self.trend,
            "error": self.error,
        }


def _sort_key(e: SessionEntry) -> tuple[str, str]:
    return (str(e.facts.get("date_utc") or ""), e.name)


class Library:
    """The sessions in one folder (default: :func:`biofeedback.paths.sessions_dir`)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else sessions_dir()
        if not self.folder.is_dir():
            raise UserError(f"{self.folder}: no such folder")
        self.index_path = self.folder / INDEX_NAME

    # -- the private index ------------------------------------------------------------------

    def _load_index(self) -> dict[str, Any]:
        try:
            with open(self.index_path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def _save_index(self, entries: dict[str, Any]) -> None:
        tmp = self.folder / f"{INDEX_NAME}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": INDEX_VERSION, "entries": entries}, fh, allow_nan=False)
            os.replace(tmp, self.index_path)
        except (OSError, ValueError):  # a read-only folder: the listing still works, uncached
            log.warning("could not write the session index %s", self.index_path)
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    @staticmethod
    def _stat_key(path: Path) -> list[int]:
        st = path.stat()
        return [st.st_size, st.st_mtime_ns]

    # -- listing ----------------------------------------------------------------------------

    def files(self) -> list[Path]:
        """The session files in the folder, by name."""
        return sorted(p for p in self.folder.glob(f"*{SUFFIX}") if p.is_file())

    def entries(
        self,
        *,
        numbers: str | None = "headline",
        where: Callable[[SessionEntry], bool] | None = None,
        progress: Progress | None = None,
    ) -> list[SessionEntry]:
        """Every session, oldest first, with cached or freshly computed numbers.

        Parameters
        ----------
        numbers : ``"headline"``, ``"trend"``, ``"both"`` or None
            Which numbers to make sure are present (computed and cached when missing).
        where : callable, optional
            Compute numbers only for the entries it accepts (all are listed).
        progress : callable, optional
            ``(file name, done, total)`` while numbers are being computed.
        """
        cache = self._load_index()
        fresh: dict[str, Any] = {}
        out: list[SessionEntry] = []
        dirty = False
        for path in self.files():
            key = self._stat_key(path)
            cached = cache.get(path.name)
            if isinstance(cached, dict) and cached.get("key") == key:
                entry = SessionEntry(
                    path.stem, path, cached["facts"], cached.get("headline"), cached.get("trend"),
                    cached.get("error"), key,
                )  # fmt: skip
            else:
                dirty = True
                try:
                    entry = SessionEntry(path.stem, path, read_facts(path), _key=key)
                except UserError as exc:
                    entry = SessionEntry(path.stem, path, {}, error=str(exc), _key=key)
            out.append(entry)
        wanted = {"headline": ("headline",), "trend": ("trend",), "both": ("headline", "trend")}
        todo = [
            (e, level)
            for level in wanted.get(numbers or "", ())
            for e in out
            if e.error is None and getattr(e, level) is None and (where is None or where(e))
        ]
        for i, (e, level) in enumerate(todo):
            if progress is not None:
                progress(e.path.name, i, len(todo))
            dirty = True
            try:
                compute = headline_numbers if level == "headline" else trend_numbers
                setattr(e, level, json_safe(compute(str(e.path))))
            except Exception as exc:  # a damaged file is listed with its error, not fatal
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                e.error = msg if str(e.path) in msg else f"{e.path}: {msg}"
        if progress is not None and todo:
            progress("", len(todo), len(todo))
        for e in out:
            fresh[e.path.name] = {
                "key": e._key, "facts": e.facts, "headline": e.headline, "trend": e.trend,
                "error": e.error,
            }  # fmt: skip
        if dirty or set(fresh) != set(cache):
            self._save_index(fresh)
        out.sort(key=_sort_key)
        return out

    # -- by name ----------------------------------------------------------------------------

    def find(self, name: str) -> Path:
        """The file of a session given by name (with or without ``.session``).

        Raises
        ------
        UserError
            No such session in the folder.
        """
        stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
        if not stem or "/" in stem or os.sep in stem or stem.startswith("."):
            raise UserError(f"{name!r} is not a session name; `biofeedback sessions` lists them")
        path = self.folder / f"{stem}{SUFFIX}"
        if not path.is_file():
            raise UserError(
                f"no session named {stem!r} in {self.folder}; `biofeedback sessions` lists them"
            )
        return path

    def delete(self, name: str) -> Path:
        """Delete a session file and its ``-wal``, ``-shm`` and ``-journal`` companions."""
        path = self.find(name)
        for suffix in ("-wal", "-shm", "-journal", ""):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}{suffix}")
        cache = self._load_index()
        if cache.pop(path.name, None) is not None:
            self._save_index(cache)
        return path


def resolve_session(arg: str, folder: str | os.PathLike[str] | None = None) -> str:
    """A session argument as a path: an existing path as given, else a library name's file.

    Lets ``report`` and ``replay`` open a session by its library name. A name that is in
    neither place is returned unchanged, so the command's own error names it.
    """
    if Path(arg).exists() or "/" in arg or os.sep in arg:
        return arg
    where = Path(folder) if folder is not None else user_data_dir() / "sessions"
    if not where.is_dir():  # never create the data folder just to look something up
        return arg
    try:
        return str(Library(where).find(arg))
    except UserError:
        return arg


def date_words(date_utc: Any) -> str:
    """``YYYY-MM-DD HH:MM`` (UTC) of an ISO date, or a dash."""
    try:
        dt = _dt.datetime.fromisoformat(str(date_utc))
    except ValueError:
        return "–"
    if dt.tzinfo is not None:
        dt = dt.astimezone(_dt.UTC)
    return dt.strftime("%Y-%m-%d %H:%M")


def duration_words(s: float | None) -> str:
    """A session's length as ``m:ss`` (``h:mm:ss`` from one hour), or a dash when unknown."""
    if s is None:
        return "–"
    t = round(s)
    return (
        f"{t // 3600}:{(t % 3600) // 60:02d}:{t % 60:02d}"
        if t >= 3600
        else f"{t // 60}:{t % 60:02d}"
    )
