"""The streaming engine: beats and events in, immutable snapshots out.

Feed it every item a :class:`~biofeedback.sources.BeatSource` yields (:meth:`Engine.feed`);
any consumer (terminal view, dashboard, test) calls :meth:`Engine.snapshot` whenever it wants a
consistent picture. The engine keeps a bounded ring buffer per participant, so memory and
per-beat work do not grow with session length.

After each beat it updates, per participant, RMSSD over the last 60 s (and over a configurable
second window), mean HR over the window, and the beat count. The numbers equal the batch
functions in :mod:`hrv` applied to the same beats (tested to 1e-9).

Thread safety: :meth:`feed` and :meth:`snapshot` may be called from different threads; a lock
guards the state and snapshots are frozen.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from hrv.time_domain import time_domain

__all__ = ["Engine", "EngineConfig", "ParticipantSnapshot", "Snapshot"]


@dataclass(frozen=True)
class EngineConfig:
    """Engine settings.

    Attributes
    ----------
    rmssd_window_s : float
        The main feedback window (60 s, the short-term convention; Shaffer & Ginsberg 2017,
        doi:10.3389/fpubh.2017.00258).
    extra_window_s : float
        A second, configurable RMSSD window (default 300 s, the classic short-term recording).
    history_s : float
        How much beat history each ring buffer keeps (bounded memory).
    min_beats : int
        Fewer beats than this in the window: values are shown but marked unreliable.
    min_window_fraction : float
        The window must span at least this fraction of its length to be reliable.
    """

    rmssd_window_s: float = 60.0
    extra_window_s: float = 300.0
    history_s: float = 600.0
    min_beats: int = 20
    min_window_fraction: float = 0.8
    recent_events: int = 20


@dataclass(frozen=True)
class ParticipantSnapshot:
    """One participant's live values. ``nan`` where not yet computable."""

    role: str
    n_beats: int
    last_t_s: float
    last_rr_ms: float
    hr_bpm: float
    """Heart rate from the last RR interval (60000 / RR), beats per minute."""
    mean_hr_bpm: float
    """60000 / mean RR over the RMSSD window, beats per minute."""
    rmssd_ms: float
    """RMSSD over the last ``rmssd_window_s`` seconds."""
    rmssd_extra_ms: float
    """RMSSD over the last ``extra_window_s`` seconds."""
    window_beats: int
    window_span_s: float
    reliable: bool
    unreliable_reason: str | None
    connection: str
    """Last known connection state (``connected``, ``reconnecting``, ``lost`` ...) or
    ``receiving`` for recordings and simulations that do not report one."""
    gaps: int
    malformed: int


@dataclass(frozen=True)
class Snapshot:
    """The whole session at one moment."""

    t_s: float
    participants: Mapping[str, ParticipantSnapshot]
    pacer_bpm: float | None
    """Current pacer rate in breaths per minute, ``None`` when off."""
    recent_events: tuple[Event, ...] = field(default_factory=tuple)


class _Participant:
    def __init__(self, role: str, cfg: EngineConfig) -> None:
        self.role = role
        self.cfg = cfg
        self.t: deque[float] = deque()
        self.rr: deque[float] = deque()
        self.n_beats = 0
        self.connection = "receiving"
        self.gaps = 0
        self.malformed = 0
        self.snap = self._compute()

    def add(self, b: Beat) -> None:
        self.t.append(b.t_s)
        self.rr.append(b.rr_ms)
        self.n_beats += 1
        horizon = b.t_s - self.cfg.history_s
        while self.t and self.t[0] < horizon:
            self.t.popleft()
            self.rr.popleft()
        self.snap = self._compute()

    def window(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Beats with ``t > last_t - seconds`` (times and RR)."""
        if not self.t:
            return np.empty(0), np.empty(0)
        last = self.t[-1]
        # Walk back from the end; the window is short, the buffer may be long.
        k = len(self.t)
        while k > 0 and self.t[k - 1] > last - seconds:
            k -= 1
        n = len(self.t) - k
        t = np.fromiter((self.t[i] for i in range(k, len(self.t))), float, n)
        rr = np.fromiter((self.rr[i] for i in range(k, len(self.rr))), float, n)
        return t, rr

    def _compute(self) -> ParticipantSnapshot:
        cfg = self.cfg
        t, rr = self.window(cfg.rmssd_window_s)
        td = time_domain(rr)
        _, rr_extra = self.window(cfg.extra_window_s)
        extra = time_domain(rr_extra).rmssd_ms if rr_extra.size else math.nan
        span = float(t[-1] - t[0] + rr[0] / 1000.0) if t.size else 0.0
        reason = None
        if td.n_beats < cfg.min_beats:
            reason = f"only {td.n_beats} beats in the last {cfg.rmssd_window_s:.0f} s"
        elif span < cfg.min_window_fraction * cfg.rmssd_window_s:
            reason = f"window covers only {span:.0f} of {cfg.rmssd_window_s:.0f} s"
        last_rr = float(self.rr[-1]) if self.rr else math.nan
        return ParticipantSnapshot(
            role=self.role,
            n_beats=self.n_beats,
            last_t_s=float(self.t[-1]) if self.t else math.nan,
            last_rr_ms=last_rr,
            hr_bpm=60000.0 / last_rr if self.rr else math.nan,
            mean_hr_bpm=td.mean_hr_bpm,
            rmssd_ms=td.rmssd_ms,
            rmssd_extra_ms=extra,
            window_beats=td.n_beats,
            window_span_s=span,
            reliable=reason is None,
            unreliable_reason=reason,
            connection=self.connection,
            gaps=self.gaps,
            malformed=self.malformed,
        )

    def refresh_meta(self) -> None:
        self.snap = _replace_meta(self.snap, self.connection, self.gaps, self.malformed)


def _replace_meta(
    s: ParticipantSnapshot, connection: str, gaps: int, malformed: int
) -> ParticipantSnapshot:
    from dataclasses import replace

    return replace(s, connection=connection, gaps=gaps, malformed=malformed)


class Engine:
    """Streaming HRV for any number of participants (see the module docstring)."""

    def __init__(self, roles: tuple[str, ...] = (), config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._lock = threading.Lock()
        self._people: dict[str, _Participant] = {}
        self._t = 0.0
        self._pacer: float | None = None
        self._events: deque[Event] = deque(maxlen=self.config.recent_events)
        for r in roles:
            self._person(r)

    def _person(self, role: str) -> _Participant:
        p = self._people.get(role)
        if p is None:
            p = self._people[role] = _Participant(role, self.config)
        return p

    def feed(self, item: SourceItem) -> None:
        """Take one source item (packets are ignored; beats and events update the state)."""
        if isinstance(item, Packet):
            return
        with self._lock:
            self._t = max(self._t, item.t_s)
            if isinstance(item, Beat):
                self._person(item.role).add(item)
                return
            self._on_event(item)

    def _on_event(self, e: Event) -> None:
        self._events.append(e)
        if e.kind == EventKind.PACER:
            rate = float(e.data.get("rate_bpm") or 0.0)
            self._pacer = rate if rate > 0 else None
            return
        if e.role is None:
            return
        p = self._person(e.role)
        if e.kind == EventKind.GAP:
            p.gaps += 1
        elif e.kind == EventKind.MALFORMED:
            p.malformed += 1
        elif e.kind == EventKind.STATE:
            p.connection = str(e.data.get("state", p.connection))
        elif e.kind == EventKind.CONNECT:
            p.connection = "connected"
        elif e.kind == EventKind.DISCONNECT:
            p.connection = "reconnecting"
        p.refresh_meta()

    def snapshot(self) -> Snapshot:
        """A frozen, consistent picture of every participant."""
        with self._lock:
            return Snapshot(
                t_s=self._t,
                participants=MappingProxyType({r: p.snap for r, p in self._people.items()}),
                pacer_bpm=self._pacer,
                recent_events=tuple(self._events),
            )

    def window_arrays(self, role: str, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Beat times and RR of one participant's last ``seconds`` (copies)."""
        with self._lock:
            return self._person(role).window(seconds)

    def describe(self) -> dict[str, Any]:
        """Plain-dict form of the snapshot (for JSON, logs)."""
        s = self.snapshot()
        return {
            "t_s": s.t_s,
            "pacer_bpm": s.pacer_bpm,
            "participants": {r: vars_of(p) for r, p in s.participants.items()},
        }


def vars_of(obj: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(obj)
