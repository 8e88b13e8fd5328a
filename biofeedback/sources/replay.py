"""Replay a recorded session through the same decoder the live run used."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

from biofeedback.beats import Beat, Event, NotificationDecoder, Packet, SourceItem
from biofeedback.session_reader import SessionReader
from biofeedback.sources import BeatSource, PlaybackClock

__all__ = ["ReplaySource", "iter_session", "session_beats"]


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
    hold_at_end : bool
        At ``duration_s``, hold instead of ending: the clock stays at ``duration_s`` and the
        session keeps running (:attr:`holding` turns True) until :meth:`stop`. For
        ``--screenshot``: the window is saved as it looks during the session at that time,
        not after its end (straps "ended", pacer stopped).

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
        hold_at_end: bool = False,
    ) -> None:
        super().__init__()
        self.path = path
        self.speed = speed
        self.duration_s = duration_s
        self.hold_at_end = hold_at_end
        self.holding = False
        self._clock = PlaybackClock(speed)
        with SessionReader(path) as r:
            self.roles = r.roles
            self.metadata = dict(r.meta)
            self.participants = r.participants
            self.total_duration_s = r.duration_s

    initial_state = "replay"

    def now(self) -> float | None:
        """The session time being played now (``None`` before the start or at max speed)."""
        return self._clock.now()

    def stop(self) -> None:
        """End after the current item, without waiting for the next one's time."""
        super().stop()
        self._clock.interrupt()

    async def raw(self) -> AsyncIterator[Packet | Event]:
        clock = self._clock = PlaybackClock(self.speed)
        with SessionReader(self.path) as reader:
            for item in reader.raw_items():
                if self.duration_s is not None and item.t_s > self.duration_s:
                    if self.hold_at_end and not self.stopped:
                        await clock.reach(self.duration_s)
                        self.holding = True
                        await clock.until_interrupted()
                    return
                await clock.wait_until(item.t_s)
                yield item
                if self.stopped:
                    return


def iter_session(path: str | os.PathLike[str]) -> Iterator[SourceItem]:
    """Every item of a recorded session, replayed synchronously (no asyncio, no sleeping).

    Yields the stored packets and source events in recorded order, each followed by the beats
    and derived events that decoding it produces, exactly like :class:`ReplaySource` at
    ``speed=None``. For scripts and tests::

        from biofeedback.sources.replay import iter_session
        from biofeedback.beats import Beat

        beats = [i for i in iter_session("sample_data/dyad_session.session")
                 if isinstance(i, Beat) and i.role == "client"]
    """
    decoder = NotificationDecoder()
    with SessionReader(path) as reader:
        for item in reader.raw_items():
            yield item
            yield from decoder.feed(item)


def session_beats(path: str | os.PathLike[str]) -> dict[str, list[Beat]]:
    """The replayed beats of a session, per role (roles without beats are present and empty)."""
    with SessionReader(path) as reader:
        out: dict[str, list[Beat]] = {r: [] for r in reader.roles}
    for item in iter_session(path):
        if isinstance(item, Beat):
            out.setdefault(item.role, []).append(item)
    return out
