"""Live heart-rate straps as a :class:`~biofeedback.sources.BeatSource` (bleak).

:class:`BleSource` connects one strap per role (``therapist``, ``client`` or ``solo``) and yields
every Heart Rate Measurement notification as a :class:`~biofeedback.beats.Packet` (raw bytes,
arrival time on the session clock, one increasing ``seq`` over all straps), interleaved with
source events: ``state`` (connection state changes, with the reason; ``connecting`` also
carries the signal strength ``rssi_dbm`` the scan saw), ``connect`` (with the device
information read from the strap) and ``disconnect``. The base
class decodes and times the packets; a ``disconnect`` makes the beat timer start a ``gap``, so
no fake long interval spans a dropped link.

Each strap is driven by a :class:`StrapLink`:

* scan for its address and connect while holding one ``asyncio.Lock`` shared by every strap
  (BlueZ refuses concurrent connects with ``InProgress``; the virtual test controller too);
* a new ``BleakClient`` and a new ``start_notify`` on every (re)connect, and callbacks of an
  old client are ignored (each connection has a generation number);
* after a reconnect, the same payload delivered twice within ``duplicate_window_s`` is
  dropped and counted (bleak issue 2002: BlueZ doubles notification callbacks after a
  reconnect). Only reconnected links are guarded, because a first connection has no such bug
  and two identical payloads from a strap in one burst can be real;
* on a dropped link: a ``disconnect`` event, then retries with exponential backoff
  (``backoff_initial_s`` doubling up to ``backoff_max_s``) until stopped, or until
  ``max_attempts`` consecutive failures (state ``lost``).

Everything here runs on one asyncio loop (the worker thread of
:class:`biofeedback.session.SessionController` owns it); none of it is thread-safe on its own.
Pacer changes and markers are recorded by the controller, like for every other source.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from biofeedback import gatt
from biofeedback.beats import Event, EventKind, Packet
from biofeedback.ble_backend import DEFAULT_BACKEND, BleBackend
from biofeedback.sources import BeatSource
from biofeedback.sources.lsl import LslLink, lsl_stream_of
from biofeedback.straps import BluetoothUnavailable, bluetooth_unavailable, find_strap

__all__ = [
    "BleSource",
    "ConnectionState",
    "ReconnectPolicy",
    "StrapLink",
]

log = logging.getLogger(__name__)

MANUFACTURER_NAME_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION_UUID = "00002a26-0000-1000-8000-00805f9b34fb"


class ConnectionState:
    """Connection states of one strap, as stored in ``state`` events."""

    SCANNING = "scanning"  #: looking for the strap's advertisement
    CONNECTING = "connecting"  #: connecting, reading device information, subscribing
    CONNECTED = "connected"  #: notifications flow
    RECONNECTING = "reconnecting"  #: link dropped or an attempt failed; waiting to retry
    LOST = "lost"  #: gave up after ``max_attempts`` consecutive failures
    STOPPED = "stopped"  #: stopped by the user or at the end of the session


@dataclass(frozen=True)
class ReconnectPolicy:
    """Timeouts and retry rules for a strap connection (all times in seconds).

    Attributes
    ----------
    scan_timeout_s : float
        How long to look for a strap's advertisement before an attempt counts as failed.
    connect_timeout_s : float
        Longest time for connecting plus service discovery.
    read_timeout_s : float
        Longest time for each device-information read (missing ones are skipped).
    backoff_initial_s, backoff_max_s : float
        Wait before the first retry, doubling after each consecutive failure up to the max.
    max_attempts : int or None
        Consecutive failed attempts after which the strap is ``lost`` and its link ends;
        ``None`` retries until stopped (the live default).
    duplicate_window_s : float
        Two identical payloads within this wall-clock time on a reconnected link are one.
    """

    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 20.0
    read_timeout_s: float = 5.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    max_attempts: int | None = None
    duplicate_window_s: float = 0.02

    def backoff_s(self, failures: int) -> float:
        """Wait before retry number ``failures`` (1 for the first retry)."""
        return float(min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, failures - 1)))


class _StrapNotFound(Exception):
    pass


_WAKE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class StrapLink:
    """One strap for one role: scan, connect, subscribe, reconnect (see the module docstring).

    Create through :meth:`BleSource.connect`; read ``state``, ``reason``, ``info`` and the
    counters from the loop thread (front ends read the engine's snapshot instead).
    """

    def __init__(
        self,
        source: BleSource,
        role: str,
        address: str,
        device: Any | None = None,
    ) -> None:
        self.source = source
        self.role = role
        self.address = address
        self.state = ConnectionState.SCANNING
        self.reason = ""
        self.info: dict[str, Any] = {"address": address}
        self.packets = 0
        self.duplicates = 0
        self.stale = 0
        self.connects = 0
        self.drops = 0
        self._device = device
        self._client: Any | None = None
        self._generation = 0
        self._connected_gen = 0
        self._dropped = asyncio.Event()
        self._last_payload: bytes | None = None
        self._last_arrival = float("-inf")
        self._stop_reason = "stopped by the user"
        self.task: asyncio.Task[None] | None = None

    # -- state -----------------------------------------------------------------------------

    def _set_state(self, state: str, reason: str, rssi_dbm: int | None = None) -> None:
        """Record a state change; ``rssi_dbm``, the signal strength when the scan found the
        strap, goes with the ``connecting`` state."""
        if state == self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        log.info("%s strap %s: %s (%s)", self.role, self.address, state, reason)
        data: dict[str, Any] = {"state": state, "reason": reason}
        if rssi_dbm is not None:
            data["rssi_dbm"] = rssi_dbm
        self.source.emit_event(EventKind.STATE, self.role, data)

    # -- bleak callbacks -------------------------------------------------------------------

    def _on_notify(self, generation: int, _char: Any, data: bytearray) -> None:
        if generation != self._connected_gen:
            self.stale += 1  # a callback of an old client (see bleak issue 2002)
            return
        payload = bytes(data)
        arrival = time.monotonic()
        if (
            generation > 1
            and payload == self._last_payload
            and arrival - self._last_arrival <= self.source.policy.duplicate_window_s
        ):
            self.duplicates += 1
            log.debug("%s: dropped a duplicated notification %s", self.role, payload.hex())
            return
        self._last_payload, self._last_arrival = payload, arrival
        self.packets += 1
        self.source.emit_packet(self.role, payload)

    def _on_disconnect(self, generation: int, _client: Any) -> None:
        if generation == self._connected_gen:
            self._dropped.set()

    # -- the loop --------------------------------------------------------------------------

    def request_stop(self, reason: str = "stopped by the user") -> None:
        self._stop_reason = reason
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def run(self) -> None:
        policy = self.source.policy
        failures = 0
        try:
            while True:
                try:
                    await self._connect_once()
                except BluetoothUnavailable:
                    raise
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    friendly = bluetooth_unavailable(exc)
                    if friendly is not None:
                        raise friendly from exc
                    failures += 1
                    why = _describe_failure(exc, policy)
                    if policy.max_attempts is not None and failures >= policy.max_attempts:
                        self._set_state(
                            ConnectionState.LOST,
                            f"{why}; gave up after {failures} attempt"
                            f"{'s' if failures != 1 else ''}",
                        )
                        return
                    delay = policy.backoff_s(failures)
                    self._set_state(ConnectionState.RECONNECTING, f"{why}; next try in {delay:g} s")
                    await asyncio.sleep(delay)
                    continue
                failures = 0
                await self._dropped.wait()
                # The link dropped: record it, forget the old client, retry after a pause.
                self.drops += 1
                self._connected_gen = 0
                self.source.emit_event(EventKind.DISCONNECT, self.role, {"reason": "link lost"})
                await self._close_client()
                delay = policy.backoff_s(1)
                self._set_state(ConnectionState.RECONNECTING, f"link lost; next try in {delay:g} s")
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            pass
        finally:
            was_connected = self._connected_gen != 0
            self._connected_gen = 0
            await self._close_client()
            if was_connected:
                self.source.emit_event(
                    EventKind.DISCONNECT, self.role, {"reason": self._stop_reason}
                )
            if self.state != ConnectionState.LOST:
                self._set_state(ConnectionState.STOPPED, self._stop_reason)

    async def _connect_once(self) -> None:
        import bleak

        source = self.source
        policy = source.policy
        async with source.connect_lock:
            device = self._device
            self._device = None  # later attempts scan again: BLEDevice handles go stale
            rssi: int | None = None
            if device is None:
                self._set_state(ConnectionState.SCANNING, f"looking for {self.address}")
                found = await find_strap(
                    self.address, policy.scan_timeout_s, backend=source.backend
                )
                if found is None:
                    raise _StrapNotFound(
                        f"{self.address} not seen within {policy.scan_timeout_s:g} s"
                    )
                device, rssi = found.device, found.rssi_dbm
            self._set_state(ConnectionState.CONNECTING, f"connecting to {self.address}", rssi)
            self._generation += 1
            gen = self._generation
            self._dropped = asyncio.Event()
            kwargs: dict[str, Any] = {}
            if source.backend.client is not None:
                kwargs["backend"] = source.backend.client
            client = bleak.BleakClient(
                device,
                disconnected_callback=functools.partial(self._on_disconnect, gen),
                timeout=policy.connect_timeout_s,
                **kwargs,
            )
            self._client = client
            # Some backends do not bound service discovery: guard the whole connect.
            async with asyncio.timeout(policy.connect_timeout_s):
                await client.connect()
        info = await self._read_info(client, device)
        self.info = info
        self._connected_gen = gen
        self._last_payload, self._last_arrival = None, float("-inf")
        self.connects += 1
        source.participants[self.role] = dict(info)
        source.emit_event(EventKind.CONNECT, self.role, dict(info))
        await client.start_notify(
            gatt.HEART_RATE_MEASUREMENT_UUID, functools.partial(self._on_notify, gen)
        )
        self._set_state(
            ConnectionState.CONNECTED,
            "reconnected" if self.connects > 1 else "subscribed to heart-rate notifications",
        )
        if not client.is_connected:
            self._dropped.set()

    async def _read_info(self, client: Any, device: Any) -> dict[str, Any]:
        """Device information: name, address, battery_pct, body_location, manufacturer, model,
        firmware. Characteristics a strap lacks, or reads that fail, are left out."""
        info: dict[str, Any] = {"address": self.address}
        name = getattr(device, "name", None)
        with contextlib.suppress(Exception):
            name = client.name or name
        if name:
            info["name"] = name
        reads: list[tuple[str, str, Callable[[bytes], Any]]] = [
            ("battery_pct", gatt.BATTERY_LEVEL_UUID, lambda b: int(b[0])),
            (
                "body_location",
                gatt.BODY_SENSOR_LOCATION_UUID,
                lambda b: gatt.BODY_SENSOR_LOCATIONS.get(b[0], f"code {b[0]}"),
            ),
            ("manufacturer", MANUFACTURER_NAME_UUID, _text),
            ("model", MODEL_NUMBER_UUID, _text),
            ("firmware", FIRMWARE_REVISION_UUID, _text),
        ]
        services = client.services
        for key, uuid, decode in reads:
            if services.get_characteristic(uuid) is None:
                continue
            try:
                async with asyncio.timeout(self.source.policy.read_timeout_s):
                    raw = bytes(await client.read_gatt_char(uuid))
                if raw:
                    info[key] = decode(raw)
            except (Exception, TimeoutError) as exc:
                log.info("%s: could not read %s: %s", self.role, key, exc)
        return info

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            async with asyncio.timeout(5.0):
                await client.disconnect()
        except (Exception, TimeoutError) as exc:
            log.debug("%s: disconnect of old client failed: %s", self.role, exc)


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", errors="replace").strip()


def _describe_failure(exc: BaseException, policy: ReconnectPolicy) -> str:
    if isinstance(exc, _StrapNotFound):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return f"no answer within {policy.connect_timeout_s:g} s"
    text = str(exc) or type(exc).__name__
    return f"connection failed: {text}"


class BleSource(BeatSource):
    """Heart-rate straps, one per role, as one source.

    Run it through :class:`biofeedback.session.SessionController`.

    Parameters
    ----------
    targets : mapping of role -> address or BLEDevice
        The straps to connect. A ``BLEDevice`` from :func:`biofeedback.straps.scan` is used
        for the first attempt; later attempts scan for its address again.
    backend : BleBackend
        bleak backend override (tests, virtual straps); the platform backend by default.
    policy : ReconnectPolicy
        Timeouts and retry rules.
    clock : callable
        Monotonic clock in seconds; the session clock is ``clock() - clock()@start``. The
        default is :func:`time.monotonic`; tests may pass a faster clock.

    Notes
    -----
    The source ends when :meth:`stop` was called and every link has closed (the last items are
    their ``disconnect`` and ``state: stopped`` events), or when every link has ended on its
    own (``lost``). :class:`~biofeedback.straps.BluetoothUnavailable` ends it with that error.
    """

    initial_state = ConnectionState.SCANNING

    def __init__(
        self,
        targets: Mapping[str, Any],
        *,
        backend: BleBackend = DEFAULT_BACKEND,
        policy: ReconnectPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        lsl_end_after_silence_s: float | None = None,
    ) -> None:
        super().__init__()
        self.lsl_end_after_silence_s = lsl_end_after_silence_s
        self.backend = backend
        self.policy = policy or ReconnectPolicy()
        self._clock = clock
        self._t0: float | None = None
        self._seq = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._targets = dict(targets)
        self.roles = tuple(self._targets)
        self.links: dict[str, StrapLink | LslLink] = {}
        self.participants: dict[str, dict[str, Any]] = {}
        for role, target in self._targets.items():
            self.participants[role] = {"address": _address_of(target)}
        self.metadata = {
            "source": "ble",
            "ble_backend": backend.name,
            "settings": {"reconnect": asdict(self.policy)},
        }
        self._lock: asyncio.Lock | None = None
        self._stop_requested = False
        self._running = False

    # -- clock and emission ----------------------------------------------------------------

    @property
    def connect_lock(self) -> asyncio.Lock:
        """The lock around scan+connect shared by every strap of this source."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def now(self) -> float:
        """Seconds on the session clock."""
        if self._t0 is None:
            self._t0 = self._clock()
        return self._clock() - self._t0

    def emit_packet(self, role: str, payload: bytes, t_s: float | None = None) -> None:
        """Emit a notification that arrived now, or at session time ``t_s`` (LSL links know
        when their beats happened)."""
        p = Packet(self.now() if t_s is None else t_s, role, payload, self._seq)
        self._seq += 1
        self._put(p)

    def emit_event(self, kind: str, role: str | None, data: Mapping[str, Any]) -> None:
        self._put(Event(self.now(), kind, role, data))

    def _put(self, item: Packet | Event) -> None:
        self._queue.put_nowait(item)

    # -- commands (loop thread) ------------------------------------------------------------

    def connect(self, role: str, address: Any | None = None) -> StrapLink | LslLink:
        """Start (or restart) the strap of ``role``; ``address`` defaults to the last one."""
        old = self.links.get(role)
        if old is not None and old.task is not None and not old.task.done():
            if address is None or _address_of(address) == old.address:
                return old
            old.request_stop("replaced by another strap")
        target = address if address is not None else self._targets.get(role)
        if target is None:
            raise ValueError(f"no strap address known for role {role!r}")
        self._targets[role] = target
        if role not in self.roles:
            self.roles = (*self.roles, role)
        device = None if isinstance(target, str) else target
        link: StrapLink | LslLink
        if lsl_stream_of(target) is not None:  # a strap on another computer, over LSL
            link = LslLink(self, role, target, end_after_silence_s=self.lsl_end_after_silence_s)
        else:
            link = StrapLink(self, role, _address_of(target), device)
        self.links[role] = link
        link.task = asyncio.get_running_loop().create_task(link.run(), name=f"strap:{role}")
        link.task.add_done_callback(self._link_done)
        return link

    def disconnect(self, role: str) -> None:
        """Disconnect the strap of ``role`` without reconnecting."""
        link = self.links.get(role)
        if link is not None:
            link.request_stop("disconnected by the user")

    def stop(self) -> None:
        """End the session: disconnect every strap; the source ends after their last events."""
        self._stop_requested = True
        for link in self.links.values():
            link.request_stop()
        self._queue.put_nowait(_WAKE)

    @property
    def stopped(self) -> bool:
        return self._stop_requested

    def _link_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            exc = task.exception()
            if exc is not None:
                self._queue.put_nowait(_Failure(exc))
                return
        self._queue.put_nowait(_WAKE)

    def _all_links_done(self) -> bool:
        return all(link.task is None or link.task.done() for link in self.links.values())

    # -- the source ------------------------------------------------------------------------

    async def raw(self) -> AsyncIterator[Packet | Event]:
        if self._running:
            raise RuntimeError("a BleSource runs once")
        self._running = True
        if self.backend.start is not None:
            await self.backend.start()
        self.now()  # the session clock starts here
        try:
            for role in list(self._targets):
                if not self._stop_requested:
                    self.connect(role)
            while True:
                item = await self._queue.get()
                if isinstance(item, _Failure):
                    raise item.exc
                if item is _WAKE:
                    if self._all_links_done() and self._queue.empty():
                        return
                    continue
                yield item
        finally:
            for link in self.links.values():
                link.request_stop("session ended")
            tasks = [lk.task for lk in self.links.values() if lk.task is not None]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if self.backend.stop is not None:
                await self.backend.stop()


def _address_of(target: Any) -> str:
    return target if isinstance(target, str) else str(target.address)
