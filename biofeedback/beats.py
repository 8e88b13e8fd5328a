"""Beats, events and beat timing: from (arrival time, notification bytes) to timed beats.

Every source (strap, simulator, replay) produces :class:`Packet` items, the raw notification
bytes with their arrival time on the session clock. :class:`BeatTimer` turns one participant's
packets into :class:`Beat` items. Times come from cumulative RR anchored on arrival, because
straps deliver RR late and in bursts; silence and disconnects become explicit ``gap`` events,
never one long fake interval.

Timing rules (per participant)
------------------------------
* The first beats after a start, a disconnect or a gap are anchored on arrival: the last RR in
  the packet ends at the arrival time, earlier ones before it.
* After that, each beat time is the previous beat time plus its RR (``t_k = t_{k-1} + rr_k``).
* If the cumulative time falls more than ``max_lag_s`` behind arrival (beats were lost: a strap
  that kept notifying without RR, or dropped RR values), a ``gap`` event spans the missing
  time and the packet is anchored on arrival again.
* If the cumulative time runs more than ``max_lead_s`` ahead of arrival (impossible for real
  beats; the strap's clock runs fast against ours), the packet is anchored on arrival again and a
  ``resync`` event records the shift. Host and strap crystals differ by tens of ppm, so this is
  rare (well under one per hour).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from biofeedback import gatt

__all__ = [
    "Beat",
    "BeatTimer",
    "Event",
    "EventKind",
    "NotificationDecoder",
    "Packet",
    "SourceItem",
]

log = logging.getLogger(__name__)

#: RR values outside this range (ms) are not heartbeat intervals (0 ms, shorter than a QRS
#: complex, or a heart rate under 10 beats/min) and never become beats. Values inside it that
#: are physiologically unusual (below 300 or above 2000 ms, e.g. a strap counting a T wave as a
#: beat) become beats and are flagged and corrected by the artifact classifier, which needs
#: them to merge an extra beat with its neighbour.
MIN_RR_MS = 50.0
MAX_RR_MS = 6000.0


class EventKind:
    """Event kinds, as stored. Plain strings so files stay readable by other tools."""

    CONNECT = "connect"
    DISCONNECT = "disconnect"
    GAP = "gap"
    RESYNC = "resync"
    MARKER = "marker"
    PACER = "pacer"
    MALFORMED = "malformed"
    STATE = "state"
    END = "end"
    #: The resting-baseline step: ``{"state": "start", "duration_s": planned}`` when it begins,
    #: ``{"state": "end"}`` when it ends (completed or cut short) and ``{"state": "skipped"}``
    #: when the user skips it. The stretch from ``start`` to ``end`` is the person's reference.
    BASELINE = "baseline"
    #: The resonance-frequency assessment (:mod:`hrv.assessment`), session-wide (``role``
    #: ``None``): ``{"state": "step", "index": i, "rate_bpm": r, "duration_s": planned}`` when
    #: paced step ``i`` (from 0) begins, ``{"state": "rest", "index": i, "duration_s": planned}``
    #: when the rest after step ``i`` begins, ``{"state": "end"}`` when the run completes and
    #: ``{"state": "cancelled"}`` when it is stopped early. A step runs from its event to the
    #: next assessment event (or its planned end, or the end of the recording). The pacer is
    #: recorded as usual (``pacer`` events): the step's phase reference comes from them. An
    #: optional ``"role"`` in the step data names the person assessed in a two-person session.
    ASSESSMENT = "assessment"

    #: Events derived from the packets (by the beat timer) or added by the recorder (``end``);
    #: a replay derives them again instead of reading them from the file.
    DERIVED = frozenset({GAP, RESYNC, MALFORMED, END})


@dataclass(frozen=True, slots=True)
class Packet:
    """One raw notification as received.

    Attributes
    ----------
    t_s : float
        Arrival time on the session clock, seconds since the session start.
    role : str
        Participant role (``therapist``, ``client``, ``solo``, ...).
    payload : bytes
        The characteristic value exactly as notified.
    seq : int
        Source sequence number, unique and increasing within a session (all participants).
    """

    t_s: float
    role: str
    payload: bytes
    seq: int


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat.

    Attributes
    ----------
    t_s : float
        Beat time (end of the RR interval) on the session clock, seconds.
    rr_ms : float
        The RR interval ending at this beat, milliseconds, as the strap reported it.
    role : str
        Participant role.
    seq : int
        Sequence number of the packet that delivered the beat.
    index : int
        Beat number within this participant, from 0.
    after_gap : bool
        The beat is the first after a recording gap (a dropped link, missing beats): its RR
        does not follow the previous beat's, so a successive difference across it is not a
        heart-rate change. Never true for a participant's first beat.
    """

    t_s: float
    rr_ms: float
    role: str
    seq: int
    index: int
    after_gap: bool = False


def _freeze(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a session other than a beat.

    ``kind`` is one of :class:`EventKind`; ``role`` is ``None`` for session-wide events
    (markers, pacer changes). ``data`` holds kind-specific fields, e.g. ``{"start_s": ..,
    "end_s": ..}`` for a gap, ``{"text": ..}`` for a marker, ``{"rate_bpm": ..}`` (breaths per
    minute, 0 for off) for the pacer, ``{"error": ..}`` for a malformed packet.
    """

    t_s: float
    kind: str
    role: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _freeze(self.data))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (self.t_s, self.kind, self.role, dict(self.data)) == (
            other.t_s,
            other.kind,
            other.role,
            dict(other.data),
        )

    def __hash__(self) -> int:
        return hash((self.t_s, self.kind, self.role))


SourceItem = Packet | Beat | Event


class BeatTimer:
    """Beat timing for one participant (see the module docstring for the rules).

    Parameters
    ----------
    role : str
        Participant role stamped on every beat.
    max_lag_s : float
        How far cumulative beat time may fall behind arrival before the missing time is declared
        a gap. RR delivered up to this late in a burst keeps its cumulative timing.
    max_lead_s : float
        How far cumulative beat time may run ahead of arrival before re-anchoring.
    """

    def __init__(self, role: str, *, max_lag_s: float = 5.0, max_lead_s: float = 1.0) -> None:
        self.role = role
        self.max_lag_s = max_lag_s
        self.max_lead_s = max_lead_s
        self._last_t: float | None = None
        self._reset_reason: str | None = None
        self._index = 0

    def reset(self, reason: str = "strap disconnected") -> None:
        """Drop the anchor (after a disconnect): the next beats are anchored on arrival and a
        ``gap`` event spans the time from the last beat to the first new one."""
        self._reset_reason = reason

    def _gap(self, t_arrival_s: float, end_s: float, reason: str) -> Event:
        """A gap from the last beat given out to ``end_s`` (never before that beat)."""
        assert self._last_t is not None
        data = {"start_s": self._last_t, "end_s": max(self._last_t, end_s), "reason": reason}
        return Event(t_arrival_s, EventKind.GAP, self.role, data)

    def feed(self, t_arrival_s: float, rr_ms: Iterable[float], seq: int) -> list[Beat | Event]:
        """Time the RR intervals of one packet that arrived at ``t_arrival_s``."""
        rr = [float(v) for v in rr_ms]
        if not rr:
            return []
        out: list[Beat | Event] = []
        total_s = sum(rr) / 1000.0
        anchor: float | None = None
        if self._last_t is None:
            anchor = t_arrival_s
        elif self._reset_reason is not None:
            out.append(self._gap(t_arrival_s, t_arrival_s - total_s, self._reset_reason))
            anchor = t_arrival_s
        else:
            end = self._last_t + total_s
            lag = t_arrival_s - end
            if lag > self.max_lag_s:
                reason = f"beats missing: RR fell {lag:.1f} s behind arrival"
                out.append(self._gap(t_arrival_s, t_arrival_s - total_s, reason))
                anchor = t_arrival_s
            elif lag < -self.max_lead_s:
                out.append(
                    Event(
                        t_arrival_s,
                        EventKind.RESYNC,
                        self.role,
                        {"shift_s": lag},
                    )
                )
                anchor = t_arrival_s
        if anchor is not None:
            t = anchor - total_s
            if self._last_t is not None and t < self._last_t:
                # Never let re-anchored beats step back before a beat already given out.
                t = self._last_t
        else:
            assert self._last_t is not None
            t = self._last_t
        after_gap = any(isinstance(e, Event) and e.kind == EventKind.GAP for e in out)
        for v in rr:
            t += v / 1000.0
            out.append(Beat(t, v, self.role, seq, self._index, after_gap))
            after_gap = False
            self._index += 1
        self._last_t = t
        self._reset_reason = None
        return out


class NotificationDecoder:
    """Decode packets and time their beats, for any number of participants.

    Feed it every :class:`Packet` and every source :class:`Event` (connects and disconnects
    reset the timing) in arrival order; it returns the beats and derived events. Malformed
    notifications are logged, counted per role, and reported as ``malformed`` events; they
    never raise.
    """

    def __init__(self, *, max_lag_s: float = 5.0, max_lead_s: float = 1.0) -> None:
        self._timers: dict[str, BeatTimer] = {}
        self._max_lag_s = max_lag_s
        self._max_lead_s = max_lead_s
        self.malformed: dict[str, int] = {}
        self.last_measurement: dict[str, gatt.HeartRateMeasurement] = {}

    def timer(self, role: str) -> BeatTimer:
        t = self._timers.get(role)
        if t is None:
            t = self._timers[role] = BeatTimer(
                role, max_lag_s=self._max_lag_s, max_lead_s=self._max_lead_s
            )
        return t

    def feed_packet(self, p: Packet) -> list[Beat | Event]:
        try:
            m = gatt.decode(p.payload)
        except gatt.MalformedNotification as exc:
            self.malformed[p.role] = self.malformed.get(p.role, 0) + 1
            log.warning("skipped a malformed notification from %s: %s", p.role, exc)
            return [
                Event(
                    p.t_s,
                    EventKind.MALFORMED,
                    p.role,
                    {"error": str(exc), "payload_hex": p.payload.hex(), "seq": p.seq},
                )
            ]
        self.last_measurement[p.role] = m
        rr = m.rr_ms
        out: list[Beat | Event] = []
        absurd = [v for v in rr if not MIN_RR_MS <= v <= MAX_RR_MS]
        if absurd:
            # Not a heartbeat (0 ms, or a heart rate under 10 beats/min). The packet itself is
            # stored unchanged; only the beat is not made from it.
            self.malformed[p.role] = self.malformed.get(p.role, 0) + 1
            shown = ", ".join(f"{v:.0f}" for v in absurd)
            log.warning("skipped RR %s ms from %s: not a heartbeat interval", shown, p.role)
            out.append(
                Event(
                    p.t_s,
                    EventKind.MALFORMED,
                    p.role,
                    {
                        "error": f"RR {shown} ms is outside {MIN_RR_MS:.0f}-{MAX_RR_MS:.0f} ms, "
                        "not a heartbeat interval; skipped",
                        "payload_hex": p.payload.hex(),
                        "seq": p.seq,
                    },
                )
            )
            rr = tuple(v for v in rr if MIN_RR_MS <= v <= MAX_RR_MS)
        return out + self.timer(p.role).feed(p.t_s, rr, p.seq)

    def feed_event(self, e: Event) -> list[Beat | Event]:
        if e.role is not None and e.kind == EventKind.DISCONNECT:
            self.timer(e.role).reset(str(e.data.get("reason", "strap disconnected")))
        return []

    def feed(self, item: Packet | Event) -> list[Beat | Event]:
        if isinstance(item, Packet):
            return self.feed_packet(item)
        return self.feed_event(item)
