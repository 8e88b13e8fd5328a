"""A live strap session on a worker thread: the controller every front end talks to.

:class:`LiveSession` owns one plain asyncio loop on a worker thread (bleak runs there; the
dashboard must not use ``QtAsyncio``, see design.md section 3). It runs a
:class:`~biofeedback.sources.ble.BleSource` through :func:`~biofeedback.recorder.record_source`
into a :class:`~biofeedback.store.SessionWriter`, and offers any thread:

* :meth:`LiveSession.snapshot`: a frozen :class:`LiveSnapshot` of per-role state and counts;
* :meth:`LiveSession.recent` and :meth:`LiveSession.subscribe`: the latest items, or a
  ``queue.Queue`` that receives every item from now on;
* commands: :meth:`~LiveSession.connect`, :meth:`~LiveSession.disconnect`,
  :meth:`~LiveSession.set_pacer`, :meth:`~LiveSession.add_marker`, :meth:`~LiveSession.stop`.
  Pacer and marker events go through the source's item stream, so they are recorded like
  everything else.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from biofeedback import gatt
from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from biofeedback.engine import Engine
from biofeedback.recorder import RecordStats, record_source
from biofeedback.sources.ble import BleSource, ReconnectPolicy
from biofeedback.store import SessionWriter
from biofeedback.straps import DEFAULT_BACKEND, BleBackend

__all__ = ["LiveSession", "LiveSnapshot", "RoleStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoleStatus:
    """What is known about one participant's strap right now.

    Attributes
    ----------
    state, reason : str
        Connection state (:class:`~biofeedback.sources.ble.ConnectionState`) and why.
    info : mapping
        Device information (name, address, battery_pct, body_location, manufacturer, model,
        firmware) as read at the last connect.
    hr_bpm : int or None
        Heart rate the strap last reported, beats per minute.
    last_rr_ms : float or None
        Last RR interval, milliseconds.
    last_beat_t_s : float or None
        Time of the last beat on the session clock, seconds.
    beats, packets, malformed, gaps, disconnects : int
        Counts since the session started.
    """

    role: str
    state: str = "scanning"
    reason: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    hr_bpm: int | None = None
    last_rr_ms: float | None = None
    last_beat_t_s: float | None = None
    beats: int = 0
    packets: int = 0
    malformed: int = 0
    gaps: int = 0
    disconnects: int = 0


@dataclass(frozen=True)
class LiveSnapshot:
    """A consistent copy of the session state (safe to keep and read from any thread)."""

    t_s: float
    running: bool
    roles: Mapping[str, RoleStatus]
    pacer_rate_bpm: float | None
    markers: int
    error: str | None
    path: str | None


class LiveSession:
    """Record straps on a worker thread and let other threads watch and steer.

    Parameters
    ----------
    targets : mapping of role -> address or BLEDevice
    out : path-like or None
        Session file to create (refused if it exists); ``None`` records nothing.
    backend, policy, clock
        Passed to :class:`~biofeedback.sources.ble.BleSource`.
    recent_maxlen : int
        How many items :meth:`recent` keeps.
    """

    def __init__(
        self,
        targets: Mapping[str, Any],
        *,
        out: str | os.PathLike[str] | None = None,
        backend: BleBackend = DEFAULT_BACKEND,
        policy: ReconnectPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        recent_maxlen: int = 2000,
    ) -> None:
        self._targets = dict(targets)
        self._out = out
        self._backend = backend
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._status: dict[str, RoleStatus] = {r: RoleStatus(r) for r in self._targets}
        self._recent: collections.deque[SourceItem] = collections.deque(maxlen=recent_maxlen)
        self._subscribers: list[queue.Queue[SourceItem]] = []
        self._listeners: list[Callable[[SourceItem], None]] = []
        self._pacer: float | None = None
        self._markers = 0
        self._last_t = 0.0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self.source: BleSource | None = None
        self.writer: SessionWriter | None = None
        self.stats: RecordStats | None = None
        self.error: BaseException | None = None
        #: Live HRV of every strap, fed on the worker thread; ``engine.snapshot()`` is safe
        #: from any thread (the terminal view and the dashboard pull it).
        self.engine = Engine(tuple(self._targets))

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> LiveSession:
        """Create the session file and start the worker thread; returns once the loop runs."""
        if self._thread is not None:
            raise RuntimeError("a LiveSession starts once")
        if self._out is not None:
            self.writer = SessionWriter(self._out, {"roles": list(self._targets)})
        self._thread = threading.Thread(
            target=self._thread_main, name="biofeedback-ble", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        return self

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported through .error and snapshot().error
            self.error = exc
            log.debug("live session ended with %r", exc)
        finally:
            if self.writer is not None:
                self.writer.close()
            self._done.set()
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.source = BleSource(
            self._targets, backend=self._backend, policy=self._policy, clock=self._clock
        )
        self._ready.set()
        self.stats = RecordStats()
        consumers = [self.engine.feed, self._consume, *self._listeners]
        await record_source(self.source, self.writer, consumers, self.stats)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the session to end by itself; True when it has ended."""
        return self._done.wait(timeout_s)

    def stop(self, timeout_s: float = 15.0) -> RecordStats | None:
        """Disconnect every strap, finish the recording, close the file and join the thread.

        Raises
        ------
        BaseException
            What ended the session early (e.g. ``BluetoothUnavailable``), if anything did.
        """
        if self._thread is None:
            return None
        self._call(lambda s: s.stop())
        if not self._done.wait(timeout_s):
            log.warning("straps did not close within %g s; cancelling", timeout_s)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                for task in asyncio.all_tasks(loop):
                    loop.call_soon_threadsafe(task.cancel)
            self._done.wait(5.0)
        self._thread.join(5.0)
        if self.error is not None:
            raise self.error
        return self.stats

    # -- commands (any thread) -------------------------------------------------------------

    def _call(self, fn: Callable[[BleSource], Any]) -> None:
        loop, source = self._loop, self.source
        if loop is None or source is None or self._done.is_set() or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed in between
            loop.call_soon_threadsafe(fn, source)

    def connect(self, role: str, address: str | None = None) -> None:
        """(Re)connect the strap of ``role``, optionally to a new address."""
        with self._lock:
            self._status.setdefault(role, RoleStatus(role))
        self._call(lambda s: s.connect(role, address))

    def disconnect(self, role: str) -> None:
        """Disconnect the strap of ``role``; it stays disconnected until :meth:`connect`."""
        self._call(lambda s: s.disconnect(role))

    def set_pacer(self, rate_bpm: float) -> None:
        """Record a pacer change, breaths per minute (0: off)."""
        self._call(lambda s: s.set_pacer(rate_bpm))

    def add_marker(self, text: str) -> None:
        """Record a marker with ``text``."""
        self._call(lambda s: s.add_marker(text))

    # -- reading (any thread) --------------------------------------------------------------

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            return LiveSnapshot(
                t_s=self._last_t,
                running=self.running,
                roles=dict(self._status),
                pacer_rate_bpm=self._pacer,
                markers=self._markers,
                error=None if self.error is None else str(self.error),
                path=None if self._out is None else os.fspath(self._out),
            )

    def recent(self, n: int | None = None) -> list[SourceItem]:
        """The latest ``n`` items (all kept ones when ``None``), oldest first."""
        with self._lock:
            items = list(self._recent)
        return items if n is None else items[-n:]

    def add_listener(self, fn: Callable[[SourceItem], None]) -> None:
        """Call ``fn(item)`` on the worker thread with every item, after it was recorded (LSL
        outlets hook in here). Add listeners before :meth:`start`."""
        if self._thread is not None:
            raise RuntimeError("add listeners before the session starts")
        self._listeners.append(fn)

    def subscribe(self, maxsize: int = 100_000) -> queue.Queue[SourceItem]:
        """A queue that receives every item from now on (dropped when full, never blocking)."""
        q: queue.Queue[SourceItem] = queue.Queue(maxsize)
        with self._lock:
            self._subscribers.append(q)
        return q

    # -- the consumer (worker thread) ------------------------------------------------------

    def _consume(self, item: SourceItem) -> None:
        participant: tuple[str, dict[str, Any]] | None = None
        with self._lock:
            self._last_t = max(self._last_t, item.t_s)
            self._recent.append(item)
            role = item.role
            st = self._status.get(role) if role is not None else None
            if role is not None and st is None:
                st = self._status[role] = RoleStatus(role)
            if isinstance(item, Packet) and st is not None:
                hr = st.hr_bpm
                with contextlib.suppress(gatt.MalformedNotification):  # counted elsewhere
                    hr = gatt.decode(item.payload).heart_rate_bpm
                st = replace(st, packets=st.packets + 1, hr_bpm=hr)
            elif isinstance(item, Beat) and st is not None:
                st = replace(st, beats=st.beats + 1, last_rr_ms=item.rr_ms, last_beat_t_s=item.t_s)
            elif isinstance(item, Event):
                kind = item.kind
                if kind == EventKind.STATE and st is not None:
                    st = replace(
                        st,
                        state=str(item.data.get("state")),
                        reason=str(item.data.get("reason", "")),
                    )
                elif kind == EventKind.CONNECT and st is not None:
                    st = replace(st, info=dict(item.data))
                    participant = (str(role), dict(item.data))
                elif kind == EventKind.DISCONNECT and st is not None:
                    st = replace(st, disconnects=st.disconnects + 1)
                elif kind == EventKind.GAP and st is not None:
                    st = replace(st, gaps=st.gaps + 1)
                elif kind == EventKind.MALFORMED and st is not None:
                    st = replace(st, malformed=st.malformed + 1)
                elif kind == EventKind.PACER:
                    self._pacer = float(item.data.get("rate_bpm", 0.0))
                elif kind == EventKind.MARKER:
                    self._markers += 1
            if role is not None and st is not None:
                self._status[role] = st
            subscribers = list(self._subscribers)
        if participant is not None and self.writer is not None:
            self.writer.set_participant(*participant)
        for q in subscribers:
            try:
                q.put_nowait(item)
            except queue.Full:
                log.debug("a live-session subscriber is full; dropped an item")
