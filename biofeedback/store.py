"""The session store: one SQLite file per session.

A session file holds everything needed to replay a session bit for bit and to analyse it:

* ``meta``: key -> JSON value. ``format`` (always ``"coregulation-session"``),
  ``schema_version``, ``program_version``, ``created_utc``, ``roles``, ``source``
  (``ble``, ``simulator``, ``replay``), ``settings``, ``ground_truth`` (simulations) and
  anything else the source provides.
* ``participants``: role -> JSON info (device name, address, battery, body location ...).
* ``packets``: every raw notification (``seq``, ``role``, arrival ``t_s``, ``payload`` bytes).
* ``events``: connects, disconnects, markers, pacer changes (source events) and gaps, resyncs
  and malformed packets (derived events, flagged ``derived = 1``; a replay derives them again).
* ``beats``: the beats the live run produced, so a replay can be checked against them.

Durability: WAL journal, ``synchronous=NORMAL``, and a commit at least every
:attr:`SessionWriter.commit_interval_s` (0.5 s by default, by a flusher thread when data stops
arriving), so at most about half a second of data is lost when the process is killed. A file
left by a killed process opens normally: SQLite replays the WAL. A clean close checkpoints
the WAL and switches the file back to a single self-contained file.

Files are created readable and writable by the user alone (mode 0600); SQLite gives its WAL
and shared-memory files the same permissions.

This module holds the schema and the writer; reading (read-only opening that never changes the
input, damage and truncation messages, :class:`SessionReader`) is in
:mod:`biofeedback.session_reader`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem

__all__ = [
    "SCHEMA_VERSION",
    "SessionFileError",
    "SessionWriter",
]

log = logging.getLogger(__name__)

FORMAT = "coregulation-session"
#: The first 16 bytes of every SQLite database file (https://sqlite.org/fileformat.html).
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_VERSION = 1
#: SQLite ``application_id`` ("CRM1"), so ``file(1)``-like tools can tell our files apart.
APPLICATION_ID = 0x43524D31

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE participants (role TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE packets (
    seq INTEGER PRIMARY KEY,
    role TEXT NOT NULL,
    t_s REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    after_seq INTEGER NOT NULL,
    t_s REAL NOT NULL,
    kind TEXT NOT NULL,
    role TEXT,
    data TEXT NOT NULL,
    derived INTEGER NOT NULL
);
CREATE TABLE beats (
    role TEXT NOT NULL,
    idx INTEGER NOT NULL,
    t_s REAL NOT NULL,
    rr_ms REAL NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (role, idx)
);
"""


class SessionFileError(ValueError):
    """A file that is not a readable session (missing, not SQLite, not ours, newer schema)."""


def _program_version() -> str:
    from biofeedback import __version__

    return __version__


def _now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class SessionWriter:
    """Write a session as data arrives.

    Parameters
    ----------
    path : path-like
        The new file. An existing file is refused unless ``overwrite`` is true.
    metadata : mapping
        Stored in ``meta`` (values must be JSON-serialisable). ``roles`` should be present.
    participants : mapping of role -> info, optional
    overwrite : bool
        Replace an existing file (used for regenerated simulations only).
    commit_interval_s : float
        Longest time between commits while data is arriving.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        metadata: Mapping[str, Any] | None = None,
        participants: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        overwrite: bool = False,
        commit_interval_s: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.commit_interval_s = commit_interval_s
        if self.path.exists():
            if not overwrite:
                raise SessionFileError(f"{self.path}: file exists; not overwriting a recording")
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")
        if not self.path.parent.exists():
            from biofeedback.errors import UserError
            from biofeedback.paths import make_private_dirs

            try:
                make_private_dirs(self.path.parent)
            except UserError as exc:
                raise SessionFileError(str(exc)) from None
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as exc:
            raise SessionFileError(
                f"{self.path}: cannot create session file: {exc.strerror}"
            ) from exc
        os.close(fd)
        os.chmod(self.path, 0o600)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._db.execute("BEGIN")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        meta = {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "program_version": _program_version(),
            "created_utc": _now_utc(),
        }
        meta.update(metadata or {})
        for k, v in meta.items():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))
        for role, info in (participants or {}).items():
            self._set_participant(role, info)
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")
        self._dirty = False
        self._last_commit = time.monotonic()
        self._last_seq = -1
        self._closed = False
        self._stop = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"session-flush:{self.path.name}", daemon=True
        )
        self._flusher.start()

    # -- writing ---------------------------------------------------------------------------

    def _set_participant(self, role: str, info: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO participants VALUES (?, ?)", (role, json.dumps(dict(info)))
        )

    def set_participant(self, role: str, info: Mapping[str, Any]) -> None:
        """Store or replace what is known about a participant's device."""
        with self._lock:
            self._set_participant(role, info)
            self._touch()

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
            self._touch()

    def write_packet(self, p: Packet) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO packets VALUES (?, ?, ?, ?)", (p.seq, p.role, p.t_s, bytes(p.payload))
            )
            self._last_seq = max(self._last_seq, p.seq)
            self._touch()

    def write_event(self, e: Event) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO events (after_seq, t_s, kind, role, data, derived) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    self._last_seq,
                    e.t_s,
                    e.kind,
                    e.role,
                    json.dumps(dict(e.data)),
                    int(e.kind in EventKind.DERIVED),
                ),
            )
            self._touch()

    def write_beat(self, b: Beat) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO beats VALUES (?, ?, ?, ?, ?)", (b.role, b.index, b.t_s, b.rr_ms, b.seq)
            )
            self._touch()

    def write(self, item: SourceItem) -> None:
        """Record any source item."""
        if isinstance(item, Packet):
            self.write_packet(item)
        elif isinstance(item, Beat):
            self.write_beat(item)
        else:
            self.write_event(item)

    def write_all(self, items: Iterable[SourceItem]) -> None:
        for item in items:
            self.write(item)

    def _touch(self) -> None:
        self._dirty = True
        if time.monotonic() - self._last_commit >= self.commit_interval_s:
            self._commit()

    def _commit(self) -> None:
        if self._dirty:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._dirty = False
        self._last_commit = time.monotonic()

    def flush(self) -> None:
        """Commit everything written so far."""
        with self._lock:
            if not self._closed:
                self._commit()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.commit_interval_s / 2):
            with self._lock:
                if self._closed:
                    return
                if self._dirty and time.monotonic() - self._last_commit >= self.commit_interval_s:
                    try:
                        self._commit()
                    except sqlite3.Error as exc:  # disk full etc.: the next write reports it
                        log.error("could not commit session data to %s: %s", self.path, exc)
                        return

    def close(self) -> None:
        """Commit, checkpoint the WAL into the main file and close."""
        with self._lock:
            if self._closed:
                return
            self._stop.set()
            self._db.execute("COMMIT")
            self._closed = True
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.execute("PRAGMA journal_mode=DELETE")
            finally:
                self._db.close()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Longest session clock a file may hold (s): a week. Packet and event times outside 0..this
#: are damage (a broken clock or an edited file), not a recording.
