"""Salvage what a damaged session file still holds (truncated copies, overwritten pages).

SQLite refuses a file that is shorter than its header says or whose pages are garbled, even
when most of the recording is intact. Because a session file is written insert-only and every
row is small, the rows can be read straight from the file's pages instead: each table-leaf page
(B-tree page type 13) holds complete records, and the shape of a record (number and types of
its columns, see :mod:`biofeedback.store`) says which table it belongs to:

* ``packets``: ``(NULL, role TEXT, t_s REAL, payload BLOB)`` with ``seq`` as the row id;
* ``events``: ``(NULL, after_seq INT, t_s REAL, kind TEXT, role TEXT|NULL, data TEXT, derived
  INT)`` with ``id`` as the row id;
* ``beats``: ``(role TEXT, idx INT, t_s REAL, rr_ms REAL, seq INT)``.

Metadata and participants are read with SQL when their pages are intact, else from pages whose
records are ``(TEXT, TEXT)`` pairs holding the ``format`` key. Rows are de-duplicated by key (a
page freed by the B-tree balancer may still hold older copies of the same rows: insert-only
rows never change, so any copy is the same row). Record layout: the SQLite file format,
https://www.sqlite.org/fileformat2.html (sections 1.6, 2.1).

:func:`salvage` reads; :func:`write_recovered` writes a new session file (never in place);
:func:`recovery_hint` is the sentence a damage message ends with.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from biofeedback.store import has_sqlite_header

__all__ = ["Salvage", "recovery_hint", "salvage", "write_recovered"]

log = logging.getLogger(__name__)

_TABLE_LEAF = 13


@dataclass
class Salvage:
    """Rows found in a damaged file (each list in key order)."""

    meta: dict[str, Any] = field(default_factory=dict)
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)
    packets: list[tuple[int, str, float, bytes]] = field(default_factory=list)
    events: list[tuple[int, int, float, str, str | None, str, int]] = field(default_factory=list)
    beats: list[tuple[str, int, float, float, int]] = field(default_factory=list)

    @property
    def last_t_s(self) -> float:
        """Session time of the last recovered notification (s); 0 without any."""
        return max((p[2] for p in self.packets), default=0.0)

    @property
    def contiguous(self) -> bool:
        """Whether the recovered notifications run from the first one without a hole."""
        seqs = [p[0] for p in self.packets]
        return bool(seqs) and seqs[0] == 0 and seqs[-1] == len(seqs) - 1


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    v = 0
    for k in range(9):
        b = buf[i + k]
        if k == 8:
            return (v << 8) | b, i + 9
        v = (v << 7) | (b & 0x7F)
        if b < 0x80:
            return v, i + k + 1
    raise IndexError  # pragma: no cover - the loop always returns


_INT_SIZES = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _record(buf: bytes, i: int, end: int) -> list[Any] | None:
    """Decode one record at ``buf[i:end]``; ``None`` when it does not parse."""
    try:
        hdr_len, j = _varint(buf, i)
        hdr_end = i + hdr_len
        types = []
        while j < hdr_end:
            t, j = _varint(buf, j)
            types.append(t)
        pos = hdr_end
        out: list[Any] = []
        for t in types:
            if t == 0:
                out.append(None)
            elif t in _INT_SIZES:
                n = _INT_SIZES[t]
                out.append(int.from_bytes(buf[pos : pos + n], "big", signed=True))
                pos += n
            elif t == 7:
                out.append(struct.unpack(">d", buf[pos : pos + 8])[0])
                pos += 8
            elif t in (8, 9):
                out.append(t - 8)
            elif t >= 12:
                n = (t - 12) // 2
                raw = buf[pos : pos + n]
                out.append(bytes(raw) if t % 2 == 0 else raw.decode("utf-8"))
                pos += n
            else:
                return None
            if pos > end:
                return None
        return out
    except (IndexError, UnicodeDecodeError, struct.error):
        return None


def _leaf_rows(page: bytes, offset: int, usable: int) -> list[tuple[int, list[Any]]]:
    """``(rowid, values)`` of every complete record on a table-leaf page."""
    n_cells = int.from_bytes(page[offset + 3 : offset + 5], "big")
    max_local = usable - 35
    rows = []
    for c in range(n_cells):
        ptr_at = offset + 8 + 2 * c
        ptr = int.from_bytes(page[ptr_at : ptr_at + 2], "big")
        if not 0 < ptr < len(page):
            continue
        try:
            size, i = _varint(page, ptr)
            rowid, i = _varint(page, i)
        except IndexError:
            continue
        if size > max_local or i + size > len(page):
            continue  # spills onto overflow pages: our rows never do, garbage might
        rec = _record(page, i, i + size)
        if rec is not None:
            rows.append((rowid, rec))
    return rows


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_time(v: Any) -> bool:
    from biofeedback.store import MAX_SESSION_S

    return _is_num(v) and 0.0 <= v <= MAX_SESSION_S


def _from_pages(data: bytes, found: Salvage) -> None:
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return
    usable = page_size - data[20]
    packets: dict[int, tuple[int, str, float, bytes]] = {}
    events: dict[int, tuple[int, int, float, str, str | None, str, int]] = {}
    beats: dict[tuple[str, int], tuple[str, int, float, float, int]] = {}
    meta_pairs: dict[str, str] = {}
    for start in range(page_size, len(data), page_size):  # page 1 is the schema
        # A cut-off last page is read as far as it goes (cells fill a page from its end).
        page = data[start : start + page_size].ljust(page_size, b"\x00")
        if page[0] != _TABLE_LEAF:
            continue
        pairs: dict[str, str] = {}
        for rowid, v in _leaf_rows(page, 0, usable):
            if (
                len(v) == 4
                and v[0] is None
                and isinstance(v[1], str)
                and _is_time(v[2])
                and isinstance(v[3], bytes)
            ):
                packets[rowid] = (rowid, v[1], float(v[2]), v[3])
            elif (
                len(v) == 7
                and v[0] is None
                and isinstance(v[1], int)
                and _is_time(v[2])
                and isinstance(v[3], str)
                and isinstance(v[5], str)
            ):
                events[rowid] = (rowid, v[1], float(v[2]), v[3], v[4], v[5], int(v[6] or 0))
            elif (
                len(v) == 5
                and isinstance(v[0], str)
                and isinstance(v[1], int)
                and _is_num(v[2])
                and _is_num(v[3])
                and isinstance(v[4], int)
            ):
                beats[(v[0], v[1])] = (v[0], v[1], float(v[2]), float(v[3]), v[4])
            elif len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], str):
                pairs[v[0]] = v[1]
        if "format" in pairs and not meta_pairs:
            meta_pairs = pairs
    found.packets = [packets[k] for k in sorted(packets)]
    found.events = [events[k] for k in sorted(events)]
    found.beats = sorted(beats.values(), key=lambda b: (b[4], b[0], b[1]))
    if not found.meta:
        for key, text in meta_pairs.items():
            try:
                found.meta[key] = json.loads(text)
            except json.JSONDecodeError:
                continue


def _sql_table(path: Path, query: str) -> list[tuple[Any, ...]]:
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return []
    try:
        db.execute("PRAGMA writable_schema=ON")
        return db.execute(query).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()


def salvage(path: str | os.PathLike[str]) -> Salvage:
    """Every row of a damaged session file that can still be read (the file is only read)."""
    p = Path(path)
    with open(p, "rb") as fh:
        data = fh.read()
    found = Salvage()
    for k, v in _sql_table(p, "SELECT key, value FROM meta"):
        try:
            found.meta[k] = json.loads(v)
        except (json.JSONDecodeError, TypeError):
            continue
    for role, info in _sql_table(p, "SELECT role, info FROM participants"):
        try:
            found.participants[role] = json.loads(info)
        except (json.JSONDecodeError, TypeError):
            continue
    if len(data) >= 100 and has_sqlite_header(data):
        _from_pages(data, found)
    return found


def recovery_hint(path: str | os.PathLike[str]) -> str:
    """``"; the first 3.2 min (...) can be recovered with ..."`` or ``""`` when nothing can."""
    try:
        found = salvage(path)
    except OSError:
        return ""
    if not found.packets or found.meta.get("format") != "coregulation-session":
        return ""
    minutes = found.last_t_s / 60.0
    n = len(found.packets)
    what = (
        f"the first {minutes:.1f} min ({n} notifications)"
        if found.contiguous
        else f"{n} notifications up to {minutes:.1f} min (some are lost)"
    )
    return f"; {what} can be recovered into a new file with `biofeedback recover {path} --out NEW`"


def write_recovered(
    found: Salvage, source: str | os.PathLike[str], out: str | os.PathLike[str]
) -> dict[str, Any]:
    """Write the salvaged rows to the new session file ``out`` (never overwrites).

    Events are placed after the notification they followed; events that refer to
    notifications not recovered are left out. The live run's beats are not copied (some of
    their pages may be lost, and a replay derives the beats from the notifications again).
    The metadata gains ``recovered_from`` (the damaged file's name) and ``recovered`` (counts).
    Returns the ``recovered`` counts.
    """
    from biofeedback.beats import Event, Packet
    from biofeedback.store import SessionWriter

    last_seq = found.packets[-1][0] if found.packets else -1
    events = []
    for _, after, t, kind, role, data, _ in found.events:
        try:
            info = json.loads(data)
        except json.JSONDecodeError:
            continue
        if after <= last_seq and isinstance(info, dict):
            events.append((after, Event(t, kind, role, info)))
    meta = dict(found.meta)
    for k in ("format", "schema_version", "program_version"):
        meta.pop(k, None)
    meta["recovered_from"] = Path(source).name
    meta["recovered"] = {
        "notifications": len(found.packets),
        "events": len(events),
        "until_s": found.last_t_s,
        "contiguous": found.contiguous,
    }
    if "roles" not in meta:
        meta["roles"] = sorted({p[1] for p in found.packets})
    with SessionWriter(out, meta, found.participants) as w:
        ei = 0
        for seq, role, t, payload in found.packets:
            while ei < len(events) and events[ei][0] < seq:
                w.write_event(events[ei][1])
                ei += 1
            w.write_packet(Packet(t, role, payload, seq))
        for _, e in events[ei:]:
            w.write_event(e)
    return dict(meta["recovered"])
