"""Record what a :class:`~biofeedback.sources.BeatSource` yields and hand it on.

:class:`Recorder` is what happens to every item of every session: packets, events and beats
are written to a :class:`~biofeedback.store.SessionWriter` (when given), counted, and handed
to any number of consumers (the engine, LSL outlets, a test). The session controller
(:mod:`biofeedback.session`) drives one; :func:`record_source` is the plain loop for scripts
and :func:`record_to_file` writes a source to a new file as fast as it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from biofeedback.sources import BeatSource
from biofeedback.store import SessionFileError, SessionWriter, one_line

__all__ = ["RecordStats", "Recorder", "record_source", "record_to_file"]

Consumer = Callable[[SourceItem], None]

log = logging.getLogger(__name__)


@dataclass
class RecordStats:
    """Counts of what went through a :class:`Recorder` (``events`` includes ``end``)."""

    packets: int = 0
    beats: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    last_t_s: float = 0.0
    consumer_errors: int = 0


class Recorder:
    """What happens to each item of a session: written first, then handed to the consumers.

    Parameters
    ----------
    writer : SessionWriter or None
        Where to record (``None``: nothing is written).
    consumers : iterable of callables
        Called with every item after it is written (the engine, listeners, a test). A failing
        consumer is logged and skipped: it never stops the recording.
    stats : RecordStats, optional
        Counts go here (a new one unless given).

    Everything runs on one thread (the session's event loop).
    """

    def __init__(
        self,
        writer: SessionWriter | None = None,
        consumers: Iterable[Consumer] = (),
        stats: RecordStats | None = None,
    ) -> None:
        self.writer = writer
        self.consumers: tuple[Consumer, ...] = tuple(consumers)
        #: Why recording stopped early (one line), or ``None``.
        self.write_error: str | None = None
        #: Called with :attr:`write_error` when a write fails (the controller shows it).
        self.on_write_error: Callable[[str], None] | None = None
        self.stats = stats if stats is not None else RecordStats()
        self._participants: Mapping[str, Mapping[str, Any]] = {}
        self._written: dict[str, dict[str, Any]] = {}

    def add_consumer(self, consumer: Consumer) -> None:
        """Add a consumer (safe from any thread: the tuple is replaced, never changed)."""
        self.consumers = (*self.consumers, consumer)

    def begin(self, source: BeatSource) -> None:
        """Store the source's metadata, roles and participant info."""
        if self.writer is None:
            return
        for k, v in source.metadata.items():
            self.writer.set_meta(k, v)
        self.writer.set_meta("roles", list(source.roles))
        self._participants = source.participants
        for role, info in source.participants.items():
            self._written[role] = dict(info)
            self.writer.set_participant(role, info)

    def _write(self, item: SourceItem) -> None:
        assert self.writer is not None
        self.writer.write(item)
        if isinstance(item, Event) and item.kind == EventKind.CONNECT and item.role:
            # A live source learns its device's name, battery ... at each connect.
            info = dict(self._participants.get(item.role, {}))
            if info and info != self._written.get(item.role):
                self._written[item.role] = info
                self.writer.set_participant(item.role, info)

    def _write_failed(self, exc: Exception, t_s: float) -> None:
        """A full disk or an unwritable file: stop recording, keep the live session going."""
        self.write_error = (
            f"recording stopped at {t_s:.0f} s: {one_line(exc)}; the live view goes on, but "
            "nothing after that is saved"
        )
        log.error("%s", self.write_error)
        writer, self.writer = self.writer, None
        if writer is not None:
            with contextlib.suppress(Exception):  # what was committed stays readable
                writer.close()
        if self.on_write_error is not None:
            self.on_write_error(self.write_error)

    def handle(self, item: SourceItem) -> None:
        """Record one item, count it and hand it to every consumer.

        A write that fails (disk full, file gone read-only) ends the recording with one clear
        message (:attr:`write_error`, also passed to :attr:`on_write_error`); the consumers
        (the live view) go on.
        """
        stats = self.stats
        if self.writer is not None:
            try:
                self._write(item)
            except (OSError, sqlite3.Error, SessionFileError) as exc:
                self._write_failed(exc, item.t_s)
        if isinstance(item, Packet):
            stats.packets += 1
        elif isinstance(item, Beat):
            stats.beats[item.role] = stats.beats.get(item.role, 0) + 1
        elif isinstance(item, Event):
            stats.events[item.kind] = stats.events.get(item.kind, 0) + 1
        stats.last_t_s = max(stats.last_t_s, item.t_s)
        for c in self.consumers:
            self._deliver(c, item)

    def end(self) -> None:
        """Write the ``end`` event, commit, and give it to the consumers (the engine then
        classifies its last beats). The caller closes the writer."""
        end = Event(self.stats.last_t_s, EventKind.END, None, {})
        if self.writer is not None:
            try:
                self.writer.write_event(end)
                self.writer.flush()
            except (OSError, sqlite3.Error, SessionFileError) as exc:
                self._write_failed(exc, end.t_s)
        self.stats.events[end.kind] = self.stats.events.get(end.kind, 0) + 1
        for c in self.consumers:
            self._deliver(c, end)

    def _deliver(self, consumer: Consumer, item: SourceItem) -> None:
        stats = self.stats
        try:
            consumer(item)
        except Exception:
            stats.consumer_errors += 1
            if stats.consumer_errors <= 3:
                log.exception("a consumer of the session failed on %r; recording goes on", item)
            elif stats.consumer_errors == 4:
                log.error("further consumer errors are counted, not logged")


async def record_source(
    source: BeatSource,
    writer: SessionWriter | None = None,
    consumers: Iterable[Consumer] = (),
    stats: RecordStats | None = None,
) -> RecordStats:
    """Run ``source`` to its end, recording to ``writer`` and feeding ``consumers``.

    Counts go into ``stats`` (a new :class:`RecordStats` unless given), which stays valid when
    the run is interrupted.

    The session metadata and participant info of the source are written first. On any exit
    (end, cancellation, Ctrl-C) an ``end`` event is written, the writer is flushed and the
    consumers get the ``end`` event too (see :meth:`Recorder.end`); the caller closes the
    writer.
    """
    recorder = Recorder(writer, consumers, stats)
    recorder.begin(source)
    try:
        async for item in source:
            recorder.handle(item)
    finally:
        recorder.end()
    return recorder.stats


def record_to_file(
    source: BeatSource,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    consumers: Iterable[Consumer] = (),
) -> RecordStats:
    """Run ``source`` as fast as it goes and write it to a new session file."""
    with SessionWriter(path, source.metadata, overwrite=overwrite) as writer:
        return asyncio.run(record_source(source, writer, consumers))
