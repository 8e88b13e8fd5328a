"""An LSL stream as a beat source: a strap connected to another computer joins the session.

``lsl:NAME`` as a strap address (``live --client lsl:coregulation-client-RR``) reads the RR
stream ``NAME`` (type ``RR``: one sample per beat, the interval ending at the sample's time
stamp, in the unit its ``desc`` names, ms by default), as ``biofeedback relay`` and
``--lsl`` publish it, or any other program's RR stream.

Recorded like a strap: each sample becomes a Heart Rate Measurement notification (flags 0x10,
the interval in the strap's 1/1024 s units: exact for values that came from a strap, within
0.5 ms for others) arriving at the beat's time on this session's clock, i.e. the sample's time
stamp plus LSL's clock correction for the sending computer, minus this session's start on the
LSL clock. The same decoder then times the beats, so a replay of the recording reproduces
them. A stream silent for :attr:`LslSource.stall_s` gets a ``disconnect`` event (the next beat
starts after a recording gap), and a ``connect`` event when it comes back; beats stamped before
this session started are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from biofeedback import gatt
from biofeedback.beats import Event, EventKind, Packet
from biofeedback.errors import UserError
from biofeedback.lsl import load_pylsl
from biofeedback.sources import BeatSource

__all__ = ["LSL_SCHEME", "LslSource", "lsl_stream_of"]

log = logging.getLogger(__name__)

LSL_SCHEME = "lsl:"


def lsl_stream_of(address: str | None) -> str | None:
    """The stream name of an ``lsl:NAME`` strap address, else ``None``."""
    if address and address.lower().startswith(LSL_SCHEME):
        name = address[len(LSL_SCHEME) :].strip()
        if not name:
            raise UserError(f"{address!r}: give the stream name after 'lsl:'")
        return name
    return None


def _unit_factor(info: Any) -> float:
    """ms per unit of the stream's first channel (``s`` -> 1000, else 1)."""
    try:
        ch = info.desc().child("channels").child("channel")
        unit = ch.child_value("unit").strip().lower()
    except Exception:  # malformed or absent description
        return 1.0
    return 1000.0 if unit in ("s", "seconds", "sec") else 1.0


class LslSource(BeatSource):
    """Beats from LSL RR streams, one per role.

    Parameters
    ----------
    streams : mapping of role -> stream name
    resolve_timeout_s : float
        How long to look for each stream before giving up with one line.
    stall_s : float
        Silence after which a stream counts as disconnected.
    duration_s : float, optional
        End the source after this much session time.
    end_after_silence_s : float, optional
        End the source once every stream has delivered beats and then been silent this long
        (a replay being received has finished).
    poll_s : float
        How often the inlets are read.
    """

    def __init__(
        self,
        streams: Mapping[str, str],
        *,
        resolve_timeout_s: float = 10.0,
        stall_s: float = 5.0,
        duration_s: float | None = None,
        end_after_silence_s: float | None = None,
        poll_s: float = 0.05,
    ) -> None:
        super().__init__()
        self.streams = dict(streams)
        self.roles = tuple(self.streams)
        self.resolve_timeout_s = resolve_timeout_s
        self.stall_s = stall_s
        self.duration_s = duration_s
        self.end_after_silence_s = end_after_silence_s
        self.poll_s = poll_s
        self.metadata = {"source": "lsl", "lsl_streams": dict(self.streams)}
        self._t0_lsl: float | None = None
        self._t0_mono: float | None = None

    def session_time(self) -> float | None:
        """Seconds since the session started (``None`` before)."""
        return None if self._t0_mono is None else time.monotonic() - self._t0_mono

    async def _open(self, role: str, name: str) -> tuple[Any, float, Event]:
        pylsl = load_pylsl()
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(
            None, lambda: pylsl.resolve_byprop("name", name, 1, self.resolve_timeout_s)
        )
        if not found:
            raise UserError(
                f"lsl:{name}: no LSL stream of that name found within "
                f"{self.resolve_timeout_s:g} s (is the other computer publishing, on the same "
                "network?)"
            )
        inlet = pylsl.StreamInlet(found[0], max_buflen=120, recover=True)
        info = await loop.run_in_executor(None, lambda: inlet.info(self.resolve_timeout_s))
        if info.channel_count() < 1 or info.channel_format() == pylsl.cf_string:
            raise UserError(f"lsl:{name}: not an RR stream (needs one numeric channel)")
        await loop.run_in_executor(None, lambda: inlet.open_stream(self.resolve_timeout_s))
        factor = _unit_factor(info)
        data = {
            "device": f"LSL stream {name}",
            "hostname": info.hostname(),
            "source_id": info.source_id(),
            "type": info.type(),
            "unit_ms_per_value": factor,
        }
        return inlet, factor, Event(self._now(), EventKind.CONNECT, role, data)

    def _now(self) -> float:
        t = self.session_time()
        return 0.0 if t is None else t

    async def raw(self) -> AsyncIterator[Packet | Event]:
        pylsl = load_pylsl()
        loop = asyncio.get_running_loop()
        self._t0_lsl = pylsl.local_clock()
        self._t0_mono = time.monotonic()
        inlets: dict[str, tuple[Any, float]] = {}
        for role, name in self.streams.items():
            inlet, factor, connected = await self._open(role, name)
            inlets[role] = (inlet, factor)
            yield connected
        correction = {r: 0.0 for r in inlets}
        next_correction = 0.0
        last_rx = {r: time.monotonic() for r in inlets}
        stalled = dict.fromkeys(inlets, False)
        heard = dict.fromkeys(inlets, False)
        seq = 0
        while not self.stopped:
            now = self._now()
            if self.duration_s is not None and now >= self.duration_s:
                return
            quiet = self.end_after_silence_s
            if (
                quiet is not None
                and all(heard.values())
                and all(time.monotonic() - last_rx[r] > quiet for r in inlets)
            ):
                return
            if time.monotonic() >= next_correction:
                for role, (inlet, _) in inlets.items():
                    try:
                        correction[role] = await loop.run_in_executor(
                            None, inlet.time_correction, 2.0
                        )
                    except Exception as exc:  # a peer gone: keep the last correction
                        log.debug("LSL time correction for %s failed: %s", role, exc)
                next_correction = time.monotonic() + 5.0
            batch: list[Packet | Event] = []
            for role, (inlet, factor) in inlets.items():
                samples, stamps = inlet.pull_chunk(timeout=0.0)
                if samples:
                    last_rx[role] = time.monotonic()
                    heard[role] = True
                    if stalled[role]:
                        stalled[role] = False
                        batch.append(Event(now, EventKind.CONNECT, role, {"reason": "resumed"}))
                    for x, ts in zip(samples, stamps, strict=True):
                        t = float(ts) + correction[role] - self._t0_lsl
                        rr_ms = float(x[0]) * factor
                        if t <= 0 or not rr_ms > 0:
                            continue
                        hr = min(255, max(1, round(60000.0 / rr_ms)))
                        payload = gatt.encode(gatt.measurement(hr, [rr_ms]))
                        batch.append(Packet(t, role, payload, -1))
                elif not stalled[role] and time.monotonic() - last_rx[role] > self.stall_s:
                    stalled[role] = True
                    batch.append(
                        Event(
                            now,
                            EventKind.DISCONNECT,
                            role,
                            {"reason": f"no beats from the LSL stream for {self.stall_s:g} s"},
                        )
                    )
            batch.sort(key=lambda i: i.t_s)
            for k, item in enumerate(batch):
                if isinstance(item, Packet):  # sequence numbers in the order items are given out
                    batch[k] = item = Packet(item.t_s, item.role, item.payload, seq)
                    seq += 1
                yield item
                if self.stopped:
                    return
            await asyncio.sleep(self.poll_s)
