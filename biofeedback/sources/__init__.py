"""Beat sources: one interface for straps, the simulator and recordings.

A :class:`BeatSource` is an async iterator of :class:`~biofeedback.beats.Packet`,
:class:`~biofeedback.beats.Beat` and :class:`~biofeedback.beats.Event` items, in session-clock
order. Subclasses produce only the raw side (packets and source events such as connects,
markers and pacer changes) in :meth:`BeatSource.raw`; the base class runs every packet through
the same :class:`~biofeedback.beats.NotificationDecoder`, so a strap, the simulator and a replay
are decoded and timed by one piece of code and the engine cannot tell them apart.

Participants are labelled by role; nothing limits a session to two.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from biofeedback.beats import Event, NotificationDecoder, Packet, SourceItem

__all__ = ["SPEED_RANGE", "BeatSource", "NoDevicesToConnect", "PlaybackClock", "parse_speed"]


class NoDevicesToConnect(Exception):
    """The source has no devices to (dis)connect: a recording, the simulator.

    A deliberate refusal, not a fault: the session controller shows the message (e.g.
    "ReplaySource has no devices to connect") as the session's message and goes on.
    """


#: Accepted replay speeds (factor of real time); ``max`` means as fast as possible.
SPEED_RANGE = (0.01, 100_000.0)


def parse_speed(text: str | float | None) -> float | None:
    """Parse a replay speed: ``"max"`` (or ``None``) means as fast as possible, else a factor
    within :data:`SPEED_RANGE` (0.01 plays 100 times slower than real time).

    Raises
    ------
    ValueError
        Not ``max`` and not a number within the range (the message gives the range).
    """
    if text is None:
        return None
    if isinstance(text, str) and text.strip().lower() in {"max", "inf", "fastest"}:
        return None
    lo, hi = SPEED_RANGE
    accepted = f"a factor from {lo:g} to {hi:g} or 'max'"
    try:
        v = float(str(text).rstrip("xX"))
    except ValueError:
        raise ValueError(f"speed must be {accepted}, not {text!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"speed must be {accepted}, not {text!r}")
    return v


class PlaybackClock:
    """Plays recorded session time back at a speed: sleeps so that session time ``t_s`` is
    reached at wall time ``start + t_s / speed``. (Not the breathing pacer.)

    ``speed=None`` never sleeps (as fast as possible), but still yields to the event loop.

    When the machine cannot keep up (the item due at ``t_s`` is handed out more than
    :attr:`SLIP_S` wall seconds late), the clock slips: playback goes on from that item at the
    same speed instead of rushing to catch up, so :meth:`now` never runs ahead of the data a
    front end has been given (a dashboard would otherwise scroll past empty traces): at most
    :attr:`MAX_AHEAD_S` past the item being waited for. The clock never steps back (but at a
    hold, see :meth:`reach`): while it is ahead of a slipped anchor it holds still.
    """

    #: Lateness (wall seconds) beyond which the clock slips rather than catching up.
    SLIP_S = 0.5
    #: How far (session seconds) :meth:`now` may run past the item being waited for while a
    #: busy worker hands it out late: ``SLIP_S`` wall seconds, but never more than this, so a
    #: fast replay (60x: 30 s) does not scroll the traces past data it has not drawn yet.
    MAX_AHEAD_S = 2.0

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self._t0: float | None = None
        self._shown = 0.0
        self._limit_s = 0.0  # the item being waited for, or the last one handed out
        self._hold_s = math.inf  # now() never passes this (see reach())
        self._interrupt = asyncio.Event()

    def interrupt(self) -> None:
        """End the current and every later wait at once (the source is stopping). Call it on
        the loop that waits."""
        self._interrupt.set()

    def now(self) -> float | None:
        """The session time being played now, or ``None`` before the start or at max speed."""
        if self.speed is None or self._t0 is None:
            return None
        played = (time.monotonic() - self._t0) * self.speed
        # While an item is being processed the clock may not run more than SLIP_S past it.
        ahead = min(self.SLIP_S * self.speed, self.MAX_AHEAD_S)
        played = min(played, self._limit_s + ahead)
        self._shown = max(self._shown, played)
        # A hold (reach()) caps even what was shown before it: the clock then reads exactly
        # the held time, whatever a busy moment let it show.
        return min(self._shown, self._hold_s)

    async def reach(self, t_s: float) -> None:
        """Play on to ``t_s`` with no item there, and let :meth:`now` never pass it."""
        self._hold_s = t_s
        await self.wait_until(t_s)

    async def until_interrupted(self) -> None:
        """Wait until :meth:`interrupt` (the source is stopping)."""
        await self._interrupt.wait()

    async def wait_until(self, t_s: float) -> None:
        if self.speed is None:
            await asyncio.sleep(0)
            return
        now = time.monotonic()
        self._limit_s = max(self._limit_s, t_s)
        if self._t0 is None:
            self._t0 = now - t_s / self.speed
        delay = self._t0 + t_s / self.speed - now
        if delay < -self.SLIP_S:
            self._t0 = now - t_s / self.speed  # slip: go on from here at the same speed
            delay = 0.0
        if delay <= 0 or self._interrupt.is_set():
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._interrupt.wait(), delay)


class BeatSource(ABC):
    """Base class for every source of beats.

    Attributes
    ----------
    roles : tuple of str
        Participant roles this source delivers, e.g. ``("therapist", "client")``.
    metadata : dict
        Session metadata a recorder stores: devices, settings, ground truth for simulations.
    """

    roles: tuple[str, ...] = ()
    #: Strap state shown for a participant until the source reports one (``state`` events).
    initial_state: str = "receiving"

    def __init__(self) -> None:
        self.metadata: dict[str, Any] = {}
        #: Per role, what is known about the device at the start (name, address, battery ...).
        self.participants: dict[str, dict[str, Any]] = {}
        self.decoder = NotificationDecoder()
        self._stopped = False

    def now(self) -> float | None:
        """Session time now on this source's clock, seconds; ``None`` when the source has no
        clock of its own (played as fast as possible): the time of the last item counts."""
        return None

    def connect(self, role: str, address: Any | None = None) -> Any:
        """(Re)connect the device of ``role``. Only live sources have devices to connect;
        the others raise :class:`NoDevicesToConnect`."""
        raise NoDevicesToConnect(f"{type(self).__name__} has no devices to connect")

    def disconnect(self, role: str) -> None:
        """Disconnect the device of ``role``. Only live sources have devices to disconnect;
        the others raise :class:`NoDevicesToConnect`."""
        raise NoDevicesToConnect(f"{type(self).__name__} has no devices to disconnect")

    @abstractmethod
    def raw(self) -> AsyncIterator[Packet | Event]:
        """Packets and source events in arrival order."""

    def stop(self) -> None:
        """Ask the source to end after the item it is on."""
        self._stopped = True

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def __aiter__(self) -> AsyncIterator[SourceItem]:
        async for item in self.raw():
            yield item
            for derived in self.decoder.feed(item):
                yield derived
            if self._stopped:
                break

    async def collect(self) -> list[SourceItem]:
        """All items of the source (for tests and scripts)."""
        return [item async for item in self]
