"""Drive a :class:`~biofeedback.sources.BeatSource` and record what it yields.

:func:`record_source` is the one loop every command uses: it pulls items from a source, writes
packets, events and beats to a :class:`~biofeedback.store.SessionWriter` (when given) and hands
each item to any number of consumers (the engine, the terminal view, a test).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from biofeedback.sources import BeatSource
from biofeedback.store import SessionWriter

__all__ = ["RecordStats", "record_source", "record_to_file"]

Consumer = Callable[[SourceItem], None]

log = logging.getLogger(__name__)


@dataclass
class RecordStats:
    """Counts of what went through :func:`record_source`."""

    packets: int = 0
    beats: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    last_t_s: float = 0.0
    consumer_errors: int = 0


def _deliver(consumer: Consumer, item: SourceItem, stats: RecordStats) -> None:
    """Hand one item to a consumer. A failing consumer (a display, the engine) is logged and
    skipped: it must never stop the recording, which is written before consumers run."""
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
    consumers get the ``end`` event too (the engine then classifies its last beats); the
    caller closes the writer.
    """
    stats = stats if stats is not None else RecordStats()
    consumers = list(consumers)
    if writer is not None:
        for k, v in source.metadata.items():
            writer.set_meta(k, v)
        writer.set_meta("roles", list(source.roles))
        for role, info in getattr(source, "participants", {}).items():
            writer.set_participant(role, info)
    try:
        async for item in source:
            if writer is not None:
                writer.write(item)
            if isinstance(item, Packet):
                stats.packets += 1
            elif isinstance(item, Beat):
                stats.beats[item.role] = stats.beats.get(item.role, 0) + 1
            elif isinstance(item, Event):
                stats.events[item.kind] = stats.events.get(item.kind, 0) + 1
            stats.last_t_s = max(stats.last_t_s, item.t_s)
            for c in consumers:
                _deliver(c, item, stats)
    finally:
        end = Event(stats.last_t_s, EventKind.END, None, {})
        if writer is not None:
            writer.write_event(end)
            writer.flush()
        for c in consumers:
            _deliver(c, end, stats)
    return stats


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
