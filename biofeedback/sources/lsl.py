"""An LSL stream as a strap: a strap connected to another computer joins the session.

``lsl:NAME`` as a strap address (``live --client lsl:coregulation-client-RR``) makes
:class:`~biofeedback.sources.ble.BleSource` read the LSL RR stream ``NAME`` for that person
through an :class:`LslLink` instead of Bluetooth; the session, its recording and the live view
cannot tell the difference. The stream is what ``biofeedback relay`` and ``--lsl`` publish
(type ``RR``: one sample per beat, the interval ending at the sample's time stamp, in the unit
its ``desc`` names, ms by default), or any other program's RR stream.

Recorded like a strap: each sample becomes a Heart Rate Measurement notification (flags 0x10,
the interval in the strap's 1/1024 s units: exact for values that came from a strap, within
0.5 ms for others) arriving at the beat's time on this session's clock: the sample's time
stamp plus LSL's clock correction for the sending computer (refreshed every 5 s), minus the
LSL time of this session's start. The one decoder then times the beats, and a replay of the
recording reproduces them. A stream silent for ``stall_s`` gets a ``disconnect`` event (the
next beat starts after a recording gap) and a ``connect`` event when it comes back; beats
stamped before the session started are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from biofeedback import gatt
from biofeedback.beats import EventKind
from biofeedback.errors import UserError

if TYPE_CHECKING:
    from biofeedback.sources.ble import BleSource

__all__ = ["LSL_SCHEME", "LslLink", "lsl_stream_of"]

log = logging.getLogger(__name__)

LSL_SCHEME = "lsl:"


def lsl_stream_of(address: Any) -> str | None:
    """The stream name of an ``lsl:NAME`` strap address, else ``None``."""
    if isinstance(address, str) and address.lower().startswith(LSL_SCHEME):
        name = address[len(LSL_SCHEME) :].strip()
        if not name:
            raise UserError(f"{address!r}: give the stream name after 'lsl:'")
        return name
    return None


def _unit_factor(info: Any) -> float:
    """ms per value of the stream's first channel (``s`` -> 1000, else 1)."""
    try:
        unit = info.desc().child("channels").child("channel").child_value("unit")
    except Exception:  # malformed or absent description
        return 1.0
    return 1000.0 if str(unit).strip().lower() in ("s", "seconds", "sec") else 1.0


class LslLink:
    """One person's LSL RR stream inside a :class:`~biofeedback.sources.ble.BleSource`.

    Offers what the source expects of a strap link (``state``, ``reason``, ``info``, counters,
    ``task``, :meth:`request_stop`, :meth:`run`) and reports through the source's ``state``,
    ``connect`` and ``disconnect`` events like a strap does.

    Parameters
    ----------
    source : BleSource
    role : str
    address : str
        ``lsl:NAME``.
    resolve_timeout_s : float
        How long each look-up for the stream waits; the link keeps looking (``reconnecting``)
        until the session stops.
    stall_s : float
        Silence after which the stream counts as disconnected.
    end_after_silence_s : float, optional
        End the link once the stream has delivered beats and then been silent this long (a
        replay being received has finished).
    poll_s : float
        How often the inlet is read.
    """

    def __init__(
        self,
        source: BleSource,
        role: str,
        address: str,
        *,
        resolve_timeout_s: float = 5.0,
        stall_s: float = 5.0,
        end_after_silence_s: float | None = None,
        poll_s: float = 0.05,
    ) -> None:
        self.source = source
        self.role = role
        self.address = address
        self.name = lsl_stream_of(address) or address
        self.resolve_timeout_s = resolve_timeout_s
        self.stall_s = stall_s
        self.end_after_silence_s = end_after_silence_s
        self.poll_s = poll_s
        self.state = "scanning"
        self.reason = ""
        self.info: dict[str, Any] = {"address": address}
        self.packets = 0
        self.duplicates = 0
        self.stale = 0
        self.connects = 0
        self.drops = 0
        self._stop_reason = "stopped by the user"
        self.task: asyncio.Task[None] | None = None

    def _set_state(self, state: str, reason: str) -> None:
        if (state, reason) == (self.state, self.reason):
            return
        self.state, self.reason = state, reason
        log.info("%s %s: %s (%s)", self.role, self.address, state, reason)
        self.source.emit_event(EventKind.STATE, self.role, {"state": state, "reason": reason})

    def request_stop(self, reason: str = "stopped by the user") -> None:
        self._stop_reason = reason
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _resolve(self, pylsl: Any) -> Any:
        loop = asyncio.get_running_loop()
        while True:
            self._set_state("scanning", f"looking for LSL stream {self.name}")
            found = await loop.run_in_executor(
                None, pylsl.resolve_byprop, "name", self.name, 1, self.resolve_timeout_s
            )
            if found:
                return found[0]
            self._set_state(
                "reconnecting",
                f"no LSL stream {self.name} seen within {self.resolve_timeout_s:g} s; "
                "still looking",
            )
            await asyncio.sleep(1.0)

    async def run(self) -> None:
        from biofeedback.lsl import load_pylsl

        pylsl = load_pylsl()
        loop = asyncio.get_running_loop()
        inlet = None
        connected = False
        try:
            found = await self._resolve(pylsl)
            self._set_state("connecting", f"opening LSL stream {self.name}")
            inlet = pylsl.StreamInlet(found, max_buflen=120, recover=True)
            info = await loop.run_in_executor(None, inlet.info, self.resolve_timeout_s)
            if info.channel_count() < 1 or info.channel_format() == pylsl.cf_string:
                raise UserError(f"lsl:{self.name}: not an RR stream (needs one numeric channel)")
            await loop.run_in_executor(None, inlet.open_stream, self.resolve_timeout_s)
            factor = _unit_factor(info)
            self.info = {
                "address": self.address,
                "name": f"LSL stream {self.name}",
                "hostname": info.hostname(),
                "source_id": info.source_id(),
                "lsl_type": info.type(),
            }
            self.source.participants[self.role] = dict(self.info)
            # this session's time 0 on the LSL clock (both clocks are monotonic)
            t0_lsl = pylsl.local_clock() - self.source.now()
            correction = await loop.run_in_executor(None, inlet.time_correction, 5.0)
            next_correction = time.monotonic() + 5.0
            self.connects += 1
            connected = True
            self.source.emit_event(EventKind.CONNECT, self.role, dict(self.info))
            self._set_state("connected", f"receiving LSL stream {self.name}")
            last_rx = time.monotonic()
            heard = stalled = False
            while True:
                if time.monotonic() >= next_correction:
                    with contextlib.suppress(Exception):  # the sender gone: keep the last one
                        correction = await loop.run_in_executor(None, inlet.time_correction, 2.0)
                    next_correction = time.monotonic() + 5.0
                samples, stamps = inlet.pull_chunk(timeout=0.0)
                if samples:
                    last_rx, heard = time.monotonic(), True
                    if stalled:
                        stalled = False
                        self.connects += 1
                        self.source.emit_event(EventKind.CONNECT, self.role, dict(self.info))
                        self._set_state("connected", "the LSL stream is back")
                    for x, ts in zip(samples, stamps, strict=True):
                        t = float(ts) + correction - t0_lsl
                        rr_ms = float(x[0]) * factor
                        if t <= 0 or not 0 < rr_ms < 65536 * 1000 / 1024:
                            continue
                        hr = min(255, max(1, round(60000.0 / rr_ms)))
                        payload = gatt.encode(gatt.measurement(hr, [rr_ms]))
                        self.packets += 1
                        self.source.emit_packet(self.role, payload, t_s=t)
                else:
                    silent = time.monotonic() - last_rx
                    quiet = self.end_after_silence_s
                    if heard and quiet is not None and silent > quiet:
                        self._stop_reason = f"the LSL stream {self.name} ended"
                        return
                    if not stalled and silent > self.stall_s:
                        stalled = True
                        self.drops += 1
                        reason = f"no beats from the LSL stream for {self.stall_s:g} s"
                        self.source.emit_event(EventKind.DISCONNECT, self.role, {"reason": reason})
                        self._set_state("reconnecting", reason)
                await asyncio.sleep(self.poll_s)
        except asyncio.CancelledError:
            pass
        finally:
            if inlet is not None:
                with contextlib.suppress(Exception):
                    inlet.close_stream()
            if connected and self.state == "connected":
                self.source.emit_event(
                    EventKind.DISCONNECT, self.role, {"reason": self._stop_reason}
                )
            self._set_state("stopped", self._stop_reason)
