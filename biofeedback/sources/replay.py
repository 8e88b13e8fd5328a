"""Replay a recorded session through the same decoder the live run used."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from biofeedback.beats import Event, Packet
from biofeedback.sources import BeatSource, Pacer
from biofeedback.store import SessionReader

__all__ = ["ReplaySource"]


class ReplaySource(BeatSource):
    """Replays the raw notification bytes and source events of a session file.

    Parameters
    ----------
    path : path-like
        A session file (see :mod:`biofeedback.store`).
    speed : float or None
        1.0 plays in real time, 10.0 ten times faster, ``None`` as fast as possible.
    duration_s : float or None
        Stop after this much session time.

    The stored bytes go through :class:`~biofeedback.beats.NotificationDecoder` again, so the
    beats and derived events (gaps, resyncs, malformed packets) are produced afresh and equal
    those of the live run.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        speed: float | None = None,
        duration_s: float | None = None,
    ) -> None:
        super().__init__()
        self.path = path
        self.speed = speed
        self.duration_s = duration_s
        with SessionReader(path) as r:
            self.roles = r.roles
            self.metadata = dict(r.meta)
            self.participants = r.participants
            self.total_duration_s = r.duration_s

    async def raw(self) -> AsyncIterator[Packet | Event]:
        pacer = Pacer(self.speed)
        with SessionReader(self.path) as reader:
            for item in reader.raw_items():
                if self.duration_s is not None and item.t_s > self.duration_s:
                    return
                await pacer.wait_until(item.t_s)
                yield item
                if self.stopped:
                    return
