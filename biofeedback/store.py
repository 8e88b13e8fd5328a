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
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem

__all__ = [
    "SCHEMA_VERSION",
    "SessionFileError",
    "SessionReader",
    "SessionWriter",
    "has_sqlite_header",
    "is_sqlite_file",
    "one_line",
    "open_read_only",
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
MAX_SESSION_S = 7 * 24 * 3600.0


def has_sqlite_header(head: bytes) -> bool:
    """``head`` (the first bytes of a file) starts like an SQLite database."""
    return head[: len(SQLITE_HEADER)] == SQLITE_HEADER


def is_sqlite_file(path: str | os.PathLike[str]) -> bool:
    """The file starts like an SQLite database (a session file, or a damaged one); False when
    it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return has_sqlite_header(fh.read(len(SQLITE_HEADER)))
    except OSError:
        return False


def one_line(text: object) -> str:
    """SQLite's multi-line messages (``quick_check``) as one line."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _truncation(path: Path) -> str | None:
    """Why the file is shorter than its header says, or ``None``."""
    with open(path, "rb") as fh:
        head = fh.read(100)
        size = os.fstat(fh.fileno()).st_size
    if len(head) < 100:
        return f"only {size} bytes, shorter than an SQLite header"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    n_pages = int.from_bytes(head[28:32], "big")
    change_counter = head[24:28]
    valid_for = head[92:96]
    # The page count is only trustworthy when "version-valid-for" matches the change counter.
    if change_counter == valid_for and n_pages and size < n_pages * page_size:
        wal = Path(f"{path}-wal")
        if head[18] == 2 and wal.exists() and wal.stat().st_size > 0:
            return None  # pages may still sit in the WAL of a recording in progress
        return f"{size} of {n_pages * page_size} bytes present (the end is missing)"
    return None


_STRAY_WALS_REPORTED: set[str] = set()


def _open_read_only(path: Path, head: bytes) -> sqlite3.Connection:
    """An SQLite connection that cannot change ``path`` or the files beside it."""
    wal = Path(f"{path}-wal")
    wal_mode = len(head) > 18 and head[18] == 2
    if wal_mode and wal.exists() and wal.stat().st_size > 0:
        return _private_copy(path, wal)
    if wal.exists() and str(wal) not in _STRAY_WALS_REPORTED:
        _STRAY_WALS_REPORTED.add(str(wal))
        log.warning(
            "%s: ignoring %s beside it: the session was closed cleanly, so that WAL is not its own",
            path,
            wal.name,
        )
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    db = sqlite3.connect(uri, uri=True)
    # A truncated file is read up to its end (recovery and a precise message need that);
    # with a read-only, immutable connection nothing can be written.
    db.execute("PRAGMA writable_schema=ON")
    return db


def open_read_only(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """An SQLite connection to a session file that cannot change it or anything beside it
    (for code that runs its own queries; :class:`SessionReader` also checks the file).

    Raises
    ------
    SessionFileError
        The file cannot be read or is not an SQLite file.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise SessionFileError(f"{p}: cannot read: {exc.strerror}") from exc
    if head[:16] != b"SQLite format 3\x00":
        raise SessionFileError(f"{p}: not a session file (not an SQLite database)")
    return _open_read_only(p, head)


def _copy_bytes(src: Path, dst: Path) -> None:
    fd = os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        shutil.copyfileobj(inp, out, 1 << 20)


def _private_copy(path: Path, wal: Path, attempts: int = 5) -> sqlite3.Connection:
    """The session with its WAL applied, from a private copy held in memory.

    The copy is retried while the writer checkpoints (the main file or the WAL header changes
    under it); a WAL frame being appended during the copy fails its checksum and is left out,
    as SQLite does after a crash.
    """
    import tempfile

    def state() -> tuple[Any, ...]:
        st = path.stat()
        with open(wal, "rb") as fh:
            wal_head = fh.read(32)
        return (st.st_size, st.st_mtime_ns, wal_head)

    for _ in range(attempts):
        with tempfile.TemporaryDirectory(prefix="biofeedback-read-") as tmp:
            copy = Path(tmp) / "copy.session"
            before = state()
            _copy_bytes(path, copy)
            _copy_bytes(wal, Path(f"{copy}-wal"))
            if state() != before:
                continue
            disk = sqlite3.connect(copy)
            try:
                disk.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                disk.execute("PRAGMA journal_mode=DELETE")
                data = disk.serialize()
            finally:
                disk.close()
        mem = sqlite3.connect(":memory:")
        mem.deserialize(data)
        return mem
    raise SessionFileError(
        f"{path}: the file kept changing while it was read (a recording in progress?); try again"
    )


class SessionReader:
    """Read a session file (also one left by a killed process) without ever writing to it.

    Reading never changes the file or anything beside it:

    * a file closed cleanly (its header says rollback journal) is opened with SQLite's
      ``mode=ro&immutable=1`` URI, so nothing is locked, created or replayed; a ``-wal`` file
      beside it cannot belong to it (our writer removes its WAL on a clean close) and is
      ignored with a warning. A plain ``connect()`` would replay such a stray WAL into the
      input and rewrite it (design.md, known traps).
    * a file whose header says WAL mode and that has a ``-wal`` beside it (a recording in
      progress, or left by a killed writer) is read from a private copy of both, taken
      consistently (retried while a checkpoint moves pages) and held in memory, so the original
      file, its WAL and its shared-memory file stay byte for byte as they were.

    Every packet is checked when the file is opened: its time must lie on the session clock
    (0 to :data:`MAX_SESSION_S`) and its payload must be bytes.

    Raises
    ------
    SessionFileError
        The file is missing, is not an SQLite file, is not a session, is damaged, or was
        written by a newer schema than this program reads. The message is one line naming the
        file and the problem.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise SessionFileError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise SessionFileError(f"{self.path}: is a folder, not a session file")
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(100)
        except OSError as exc:
            raise SessionFileError(f"{self.path}: cannot read: {exc.strerror}") from exc
        if not has_sqlite_header(head):
            raise SessionFileError(f"{self.path}: not a session file (not an SQLite database)")
        self._db = _open_read_only(self.path, head)
        try:
            self._check()
        except BaseException:
            self._db.close()
            raise

    def _damaged(self, problem: str) -> SessionFileError:
        from biofeedback.recovery import recovery_hint

        hint = recovery_hint(self.path)
        return SessionFileError(
            f"{self.path}: damaged: {one_line(problem)}; the file was not changed{hint}"
        )

    def _check(self) -> None:
        truncated = _truncation(self.path)
        if truncated:
            with open(self.path, "rb") as fh:
                ours = fh.read(72)[68:72] == APPLICATION_ID.to_bytes(4, "big")
            if not ours:
                raise SessionFileError(f"{self.path}: not a session file (SQLite, {truncated})")
            raise self._damaged(truncated)
        try:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            if "malformed" in str(exc) or "corrupt" in str(exc):
                raise self._damaged(str(exc)) from exc
            raise SessionFileError(f"{self.path}: not a session file ({one_line(exc)})") from exc
        try:
            self.meta: dict[str, Any] = {k: json.loads(v) for k, v in rows}
        except (json.JSONDecodeError, TypeError) as exc:
            raise self._damaged(f"unreadable session metadata ({exc})") from exc
        if self.meta.get("format") != FORMAT:
            raise SessionFileError(f"{self.path}: not a session file (no session metadata)")
        try:
            (check,) = self._db.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.DatabaseError as exc:
            check = str(exc)
        if check != "ok":
            raise self._damaged(check)
        version = self.meta.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self._damaged(f"schema_version is {version!r}, not a schema number")
        if version > SCHEMA_VERSION:
            raise SessionFileError(
                f"{self.path}: written with session schema {version}, newer than this "
                f"program reads ({SCHEMA_VERSION}); update the program"
            )
        self._check_rows()

    def _check_rows(self) -> None:
        """Refuse packets and events that no recording can hold (one query per table)."""
        try:
            bad = self._db.execute(
                "SELECT seq, typeof(payload), t_s, typeof(role) FROM packets "
                "WHERE typeof(payload) != 'blob' OR typeof(role) != 'text' "
                "OR typeof(t_s) NOT IN ('real', 'integer') OR NOT (t_s BETWEEN 0 AND ?) "
                "ORDER BY seq LIMIT 1",
                (MAX_SESSION_S,),
            ).fetchone()
            bad_event = self._db.execute(
                "SELECT id, t_s, kind FROM events "
                "WHERE typeof(t_s) NOT IN ('real', 'integer') OR NOT (t_s BETWEEN 0 AND ?) "
                "OR typeof(kind) != 'text' OR typeof(data) != 'text' ORDER BY id LIMIT 1",
                (MAX_SESSION_S,),
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from exc
        if bad is not None:
            seq, kind, t, role_type = bad
            if kind != "blob":
                problem = f"packet {seq} holds {kind} where notification bytes belong"
            elif role_type != "text":
                problem = f"packet {seq} has no participant role"
            else:
                problem = (
                    f"packet {seq} has time {t!r} s, outside the session clock "
                    f"(0 to {MAX_SESSION_S:.0f} s)"
                )
            raise self._damaged(problem)
        if bad_event is not None:
            eid, t, kind = bad_event
            raise self._damaged(f"event {eid} ({kind!r}) has time {t!r} s or data that is not text")

    # -- metadata --------------------------------------------------------------------------

    @property
    def roles(self) -> tuple[str, ...]:
        roles = self.meta.get("roles")
        if roles:
            return tuple(roles)
        found = self._db.execute("SELECT DISTINCT role FROM packets ORDER BY role").fetchall()
        return tuple(r for (r,) in found)

    @property
    def participants(self) -> dict[str, dict[str, Any]]:
        rows = list(self._rows("SELECT role, info FROM participants"))
        try:
            return {r: json.loads(i) for r, i in rows}
        except (json.JSONDecodeError, TypeError) as exc:
            raise self._damaged(f"unreadable participant information ({exc})") from exc

    @property
    def duration_s(self) -> float:
        (t,) = self._db.execute("SELECT MAX(t_s) FROM packets").fetchone()
        return float(t or 0.0)

    # -- data ------------------------------------------------------------------------------

    def _rows(self, query: str, args: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows of a query; damage found while reading becomes a :class:`SessionFileError`."""
        try:
            yield from self._db.execute(query, args)
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from exc

    def packets(self) -> Iterator[Packet]:
        for seq, role, t, payload in self._rows(
            "SELECT seq, role, t_s, payload FROM packets ORDER BY seq"
        ):
            yield Packet(t, role, bytes(payload), seq)

    def events(self, *, derived: bool | None = None) -> list[Event]:
        """Events in recorded order; ``derived`` filters source (False) or derived (True) ones."""
        q = "SELECT t_s, kind, role, data FROM events"
        if derived is not None:
            q += f" WHERE derived = {int(derived)}"
        rows = list(self._rows(q + " ORDER BY id"))
        return [Event(t, k, r, self._event_data(d)) for t, k, r, d in rows]

    def _event_data(self, text: str) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise self._damaged(f"an event's data is not JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise self._damaged(f"an event's data is {type(data).__name__}, not an object")
        return data

    def recorded_beats(self, role: str | None = None) -> list[Beat]:
        """The beats as the live run produced them.

        A beat's ``after_gap`` mark is not a column: the live run stored the ``gap`` event
        right after the packet that ended the gap (``after_seq``), and the first beat of that
        packet for that role is the one after the gap.
        """
        q = "SELECT t_s, rr_ms, role, seq, idx FROM beats"
        args: tuple[str, ...] = ()
        if role is not None:
            q += " WHERE role = ?"
            args = (role,)
        rows = list(self._rows(q + " ORDER BY seq, role, idx", args))
        gaps = set(
            self._rows("SELECT role, after_seq FROM events WHERE kind = ?", (EventKind.GAP,))
        )
        out = []
        for t, rr, r, s, i in rows:
            after_gap = (r, s) in gaps
            if after_gap:
                gaps.discard((r, s))  # only the first beat of the packet
            out.append(Beat(t, rr, r, s, i, after_gap))
        return out

    def raw_items(self) -> Iterator[Packet | Event]:
        """Packets and source events interleaved exactly as they were recorded."""
        source_events = list(
            self._rows(
                "SELECT after_seq, t_s, kind, role, data FROM events WHERE derived = 0 ORDER BY id"
            )
        )
        ei = 0
        for p in self.packets():
            while ei < len(source_events) and source_events[ei][0] < p.seq:
                _, t, k, r, d = source_events[ei]
                yield Event(t, k, r, self._event_data(d))
                ei += 1
            yield p
        for _, t, k, r, d in source_events[ei:]:
            yield Event(t, k, r, self._event_data(d))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
