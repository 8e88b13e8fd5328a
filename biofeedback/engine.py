"""The streaming engine: beats and events in, immutable snapshots out.

Feed it every item a :class:`~biofeedback.sources.BeatSource` yields (:meth:`Engine.feed`);
any consumer (terminal view, dashboard, test) calls :meth:`Engine.snapshot` whenever it wants a
consistent picture. Each participant has a ring buffer bounded by ``history_s``, so memory and
per-beat work do not grow with session length.

What is computed, and when
--------------------------
After **each beat**, per participant:

* artifact classes (:class:`hrv.artifacts.StreamingArtifactClassifier`, the Lipponen &
  Tarvainen rules on trailing windows): a beat's class is final 2 to 4 beats after it
  arrives, and beats still waiting count as normal until then;
* over the last ``rmssd_window_s`` (60 s): RMSSD from the successive differences of
  adjacent, unflagged intervals (a difference touching a flagged interval or spanning a
  recording gap is left out, not interpolated), mean HR, the artifact burden (percent of
  classified intervals flagged) and a reliability verdict.

Once per **second of session time** (when one of the participant's beats crosses a whole
second), per participant:

* RMSSD over the last ``extra_window_s`` (300 s), as above;

and on the unflagged beats of the window:

* RSA at the current pacer rate over the last ``rsa_window_s`` (60 s): least-squares sine fit
  (:func:`hrv.rsa.rsa_at_rate`; amplitude ms, phase against the pacer, R², peak-to-trough HR);
* coherence ratio over the last 64 s (:func:`hrv.coherence.coherence_ratio`);
* breathing-rate estimate over the last ``rsa_window_s`` (:func:`hrv.rsa.estimate_breathing_rate`),
  searched in 3-30 breaths/min while a pacer runs and 7.2-30 without one (slower heart-rate
  waves would otherwise be taken for breathing; see ``hrv.rsa.SPONTANEOUS_BREATH_BAND_HZ``).

Feedback values are never hidden: they are marked unreliable (with the reason) while the
window holds too few beats, spans too little time, or the artifact burden in it is above
``max_burden_pct``.

Streaming equals batch: the final values equal the :mod:`hrv` functions applied to the same
beats (``classify_intervals(rr, causal=True)`` for the flags), tested to 1e-9.

Thread safety: :meth:`Engine.feed` and :meth:`Engine.snapshot` may be called from different
threads; a lock guards the state and snapshots are frozen.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from hrv.artifacts import ArtifactClass, StreamingArtifactClassifier
from hrv.coherence import coherence_ratio
from hrv.rsa import (
    BREATH_BAND_HZ,
    SPONTANEOUS_BREATH_BAND_HZ,
    estimate_breathing_rate,
    rsa_at_rate,
)
from hrv.synchrony import LiveSnapshot, LiveSynchrony
from hrv.time_domain import time_domain

__all__ = [
    "Engine",
    "EngineConfig",
    "ParticipantSnapshot",
    "Snapshot",
    "window_breaks",
]

_PENDING = -1


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
    rsa_window_s : float
        Window for the RSA fit and the breathing-rate estimate (60 s).
    coherence_window_s : float
        Window for the coherence ratio (64 s, McCraty & Zayas 2014).
    history_s : float
        How much beat history each ring buffer keeps (bounded memory; must cover the longest
        window).
    min_beats : int
        Fewer beats than this in the window: values are shown but marked unreliable.
    min_window_fraction : float
        The window must span at least this fraction of its length to be reliable.
    max_burden_pct : float
        Artifact burden (percent of intervals in the window) above which feedback is marked
        unreliable. One uncorrected premature beat in 60 s already moves RMSSD a lot.
    artifact_batch : int
        Intervals the streaming artifact classifier handles per pass: a beat's class is final
        2 to ``artifact_batch + 1`` beats after it arrives (see
        :class:`hrv.artifacts.StreamingArtifactClassifier`).
    """

    rmssd_window_s: float = 60.0
    extra_window_s: float = 300.0
    rsa_window_s: float = 60.0
    coherence_window_s: float = 64.0
    history_s: float = 600.0
    min_beats: int = 20
    min_window_fraction: float = 0.8
    max_burden_pct: float = 5.0
    artifact_batch: int = 3
    recent_events: int = 20

    def __post_init__(self) -> None:
        longest = max(
            self.rmssd_window_s, self.extra_window_s, self.rsa_window_s, self.coherence_window_s
        )
        if self.history_s < longest:
            raise ValueError(
                f"history_s ({self.history_s}) must cover the longest window ({longest})"
            )


@dataclass(frozen=True)
class ParticipantSnapshot:
    """One participant's live values; ``nan`` where not (yet) computable.

    Attributes
    ----------
    hr_bpm : float
        Heart rate from the last RR interval (60000 / RR), beats/min.
    mean_hr_bpm : float
        60000 / mean RR over the 60 s window, beats/min.
    rmssd_ms : float
        RMSSD over the 60 s window, ms (updated every beat).
    rmssd_extra_ms : float
        RMSSD over the configurable (300 s) window, ms (updated once a second).
    burden_pct : float
        Flagged intervals among the classified ones in the 60 s window, percent.
    last_artifact : str or None
        Class name of the most recently classified interval when it was flagged.
    reliable : bool
        False while the window is too short or too full of artifacts (``unreliable_reason``).
    rsa_* : float
        The pacer-rate sine fit (``nan`` with no pacer): amplitude (ms), phase of the RR
        oscillation against the pacer (degrees), R², peak-to-trough HR per cycle (beats/min).
    coherence_ratio : float
        McCraty & Zayas coherence ratio of the last 64 s (an open formula, not a vendor score).
    breathing_rate_bpm : float
        Breathing-rate estimate from the dominant RR oscillation, breaths/min.
    slow_t_s : float
        Session time the once-a-second values refer to.
    connection : str
        Last known strap state, or ``receiving`` for sources that do not report one.
    """

    role: str
    n_beats: int
    last_t_s: float
    last_rr_ms: float
    hr_bpm: float
    mean_hr_bpm: float
    rmssd_ms: float
    window_beats: int
    window_span_s: float
    burden_pct: float
    n_flagged: int
    last_artifact: str | None
    reliable: bool
    unreliable_reason: str | None
    rmssd_extra_ms: float = math.nan
    rsa_amplitude_ms: float = math.nan
    rsa_phase_deg: float = math.nan
    rsa_r_squared: float = math.nan
    rsa_peak_to_trough_bpm: float = math.nan
    coherence_ratio: float = math.nan
    breathing_rate_bpm: float = math.nan
    slow_t_s: float = math.nan
    connection: str = "receiving"
    gaps: int = 0
    malformed: int = 0


@dataclass(frozen=True)
class Snapshot:
    """The whole session at one moment."""

    t_s: float
    participants: Mapping[str, ParticipantSnapshot]
    pacer_bpm: float | None
    """Current pacer rate in breaths per minute, ``None`` when off."""
    pacer_t0_s: float = 0.0
    """Session time the current pacer started (inhalation onset, pacer phase 0)."""
    recent_events: tuple[Event, ...] = field(default_factory=tuple)
    synchrony: LiveSnapshot | None = None
    """The live synchrony reading for a therapist-client session
    (:class:`hrv.synchrony.LiveSnapshot`), else ``None``."""


def window_breaks(flags: NDArray[np.int8], after_gap: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Indices ``i`` whose successive difference ``rr[i] - rr[i-1]`` must be left out.

    A difference is left out when either interval is flagged (code > 0) or interval ``i``
    follows a recording gap. Pending intervals (code -1) count as normal.
    """
    bad = flags > 0
    out = np.zeros(flags.size, dtype=bool)
    out[1:] = bad[1:] | bad[:-1] | after_gap[1:]
    return np.flatnonzero(out)


class _Ring:
    """Beats of one participant in NumPy arrays, oldest first, with amortised O(1) appends.

    ``first_index`` is the participant-wide index of the oldest beat held. Beat times never
    decrease (the beat timer guarantees it), so windows are found by binary search.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._t = np.empty(capacity)
        self._rr = np.empty(capacity)
        self._flag = np.empty(capacity, dtype=np.int8)
        self._after_gap = np.empty(capacity, dtype=bool)
        self._start = 0
        self._end = 0
        self.first_index = 0

    def __len__(self) -> int:
        return self._end - self._start

    def _make_room(self) -> None:
        n = len(self)
        cap = self._t.size
        if n * 2 > cap:  # mostly full of live beats: grow
            cap *= 2
        for name in ("_t", "_rr", "_flag", "_after_gap"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[:n] = old[self._start : self._end]
            setattr(self, name, new)
        self._start, self._end = 0, n

    def append(self, t: float, rr: float, after_gap: bool) -> None:
        if self._end == self._t.size:
            self._make_room()
        i = self._end
        self._t[i] = t
        self._rr[i] = rr
        self._flag[i] = _PENDING
        self._after_gap[i] = after_gap
        self._end += 1

    def drop_before(self, t_min: float) -> None:
        k = int(np.searchsorted(self._t[self._start : self._end], t_min, side="left"))
        self._start += k
        self.first_index += k

    def set_flag(self, index: int, code: int) -> None:
        pos = index - self.first_index
        if 0 <= pos < len(self):
            self._flag[self._start + pos] = code

    def tail(
        self, seconds: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8], NDArray[np.bool_]]:
        """(t, rr, flags, after_gap) of the beats with ``t > t_last - seconds`` (views)."""
        t_all = self._t[self._start : self._end]
        if not t_all.size:
            k = self._start
        else:
            k = self._start + int(np.searchsorted(t_all, t_all[-1] - seconds, side="right"))
        sl = slice(k, self._end)
        return self._t[sl], self._rr[sl], self._flag[sl], self._after_gap[sl]


class _Participant:
    def __init__(
        self,
        role: str,
        cfg: EngineConfig,
        on_classified: Callable[[str, float, float, bool], None] | None = None,
    ) -> None:
        self.role = role
        self.cfg = cfg
        self.on_classified = on_classified
        self.ring = _Ring()
        self.classifier = StreamingArtifactClassifier(batch=cfg.artifact_batch)
        self.n_beats = 0
        self.pending_gap = False
        self.last_artifact: str | None = None
        self.connection = "receiving"
        self.gaps = 0
        self.malformed = 0
        self.slow: dict[str, Any] = {}
        self.second = -1  # last whole second of session time with a slow update
        self.snap = self._fast()

    # -- per beat --------------------------------------------------------------------------

    def add(self, b: Beat) -> None:
        self.ring.append(b.t_s, b.rr_ms, self.pending_gap and self.n_beats > 0)
        self.pending_gap = False
        self.n_beats += 1
        for c in self.classifier.push(b.rr_ms, b.t_s):
            self._classified(c.index, int(c.code), c.t_s, c.rr_ms)
        self.ring.drop_before(b.t_s - self.cfg.history_s)
        self.snap = self._fast()

    def _classified(self, index: int, code: int, t_s: float, rr_ms: float) -> None:
        self.ring.set_flag(index, code)
        self.last_artifact = ArtifactClass(code).name.lower() if code else None
        if self.on_classified is not None:
            self.on_classified(self.role, t_s, rr_ms, code > 0)

    def flush(self) -> None:
        """End of the recording: classify the last two beats."""
        for c in self.classifier.flush():
            self._classified(c.index, int(c.code), c.t_s, c.rr_ms)
        self.snap = self._fast()

    def _fast(self) -> ParticipantSnapshot:
        cfg = self.cfg
        t, rr, fl, ag = self.ring.tail(cfg.rmssd_window_s)
        td = time_domain(rr, window_breaks(fl, ag))
        span = float(t[-1] - t[0] + rr[0] / 1000.0) if t.size else 0.0
        classified = int(np.count_nonzero(fl >= 0))
        n_flagged = int(np.count_nonzero(fl > 0))
        burden = 100.0 * n_flagged / classified if classified else math.nan
        reason = None
        if td.n_beats < cfg.min_beats:
            reason = f"only {td.n_beats} beats in the last {cfg.rmssd_window_s:.0f} s"
        elif span < cfg.min_window_fraction * cfg.rmssd_window_s:
            reason = f"window covers only {span:.0f} of {cfg.rmssd_window_s:.0f} s"
        elif burden > cfg.max_burden_pct:
            reason = f"{burden:.0f} % of recent beats look like artifacts"
        last_rr = float(rr[-1]) if rr.size else math.nan
        return ParticipantSnapshot(
            role=self.role,
            n_beats=self.n_beats,
            last_t_s=float(t[-1]) if t.size else math.nan,
            last_rr_ms=last_rr,
            hr_bpm=60000.0 / last_rr if rr.size else math.nan,
            mean_hr_bpm=td.mean_hr_bpm,
            rmssd_ms=td.rmssd_ms,
            window_beats=td.n_beats,
            window_span_s=span,
            burden_pct=burden,
            n_flagged=n_flagged,
            last_artifact=self.last_artifact,
            reliable=reason is None,
            unreliable_reason=reason,
            connection=self.connection,
            gaps=self.gaps,
            malformed=self.malformed,
            **self.slow,
        )

    # -- once a second ---------------------------------------------------------------------

    def unflagged(self, seconds: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        t, rr, fl, _ = self.ring.tail(seconds)
        keep = fl <= 0
        return t[keep], rr[keep]

    def update_slow(self, now_s: float, pacer_bpm: float | None, pacer_t0_s: float) -> None:
        cfg = self.cfg
        t, rr = self.unflagged(cfg.rsa_window_s)
        _, rr_x, fl_x, ag_x = self.ring.tail(cfg.extra_window_s)
        slow: dict[str, Any] = {
            "slow_t_s": now_s,
            "rmssd_extra_ms": time_domain(rr_x, window_breaks(fl_x, ag_x)).rmssd_ms,
        }
        if pacer_bpm is not None and t.size:
            fit = rsa_at_rate(t, rr, pacer_bpm, pacer_t0_s)
            slow.update(
                rsa_amplitude_ms=fit.amplitude_ms,
                rsa_phase_deg=fit.phase_deg,
                rsa_r_squared=fit.r_squared,
                rsa_peak_to_trough_bpm=fit.peak_to_trough_bpm,
            )
        band = BREATH_BAND_HZ if pacer_bpm is not None else SPONTANEOUS_BREATH_BAND_HZ
        slow["breathing_rate_bpm"] = (
            estimate_breathing_rate(t, rr, band_hz=band) if t.size >= 2 else math.nan
        )
        tc, rrc = self.unflagged(cfg.coherence_window_s)
        slow["coherence_ratio"] = (
            coherence_ratio(tc, rrc, window_s=cfg.coherence_window_s).ratio
            if tc.size >= 2
            else math.nan
        )
        self.slow = slow
        self.snap = replace(self.snap, **slow)

    def refresh_meta(self) -> None:
        self.snap = replace(
            self.snap, connection=self.connection, gaps=self.gaps, malformed=self.malformed
        )


class Engine:
    """Streaming HRV for any number of participants (see the module docstring).

    Parameters
    ----------
    roles : tuple of str
        Participants known in advance (others are added when their first beat arrives).
    config : EngineConfig, optional
    synchrony : bool or None
        Track therapist-client synchrony live (:class:`hrv.synchrony.LiveSynchrony`). ``None``
        (default) turns it on when ``roles`` holds both ``therapist`` and ``client``. Each beat
        reaches it once its artifact class is final (2-4 beats later), so flagged beats are
        excluded, and it is updated once a second of session time; its reading describes the
        30 s window ending ``max_lag`` (5 s) before that, so it lags the newest beat by about
        5-9 s.
    """

    def __init__(
        self,
        roles: tuple[str, ...] = (),
        config: EngineConfig | None = None,
        synchrony: bool | None = None,
    ) -> None:
        self.config = config or EngineConfig()
        self._lock = threading.Lock()
        self._people: dict[str, _Participant] = {}
        self._t = 0.0
        self._pacer: float | None = None
        self._pacer_t0 = 0.0
        self._second = -1
        self._events: deque[Event] = deque(maxlen=self.config.recent_events)
        if synchrony is None:
            synchrony = {"therapist", "client"} <= set(roles)
        self._sync = LiveSynchrony() if synchrony else None
        self._sync_snap: LiveSnapshot | None = None
        for r in roles:
            self._person(r)

    def _person(self, role: str) -> _Participant:
        p = self._people.get(role)
        if p is None:
            forward = self._to_sync if role in ("therapist", "client") else None
            p = self._people[role] = _Participant(role, self.config, forward)
        return p

    def _to_sync(self, role: str, t_s: float, rr_ms: float, flagged: bool) -> None:
        if self._sync is not None:
            self._sync.add_beat(role, t_s, rr_ms, flagged)

    def feed(self, item: SourceItem) -> None:
        """Take one source item (packets are ignored; beats and events update the state)."""
        if isinstance(item, Packet):
            return
        with self._lock:
            self._t = max(self._t, item.t_s)
            if isinstance(item, Beat):
                p = self._person(item.role)
                p.add(item)
                second = math.floor(item.t_s)
                if second > p.second:
                    p.second = second
                    p.update_slow(item.t_s, self._pacer, self._pacer_t0)
                if self._sync is not None and second > self._second:
                    self._second = second
                    self._sync_snap = self._sync.update(item.t_s)
                return
            self._on_event(item)

    def _update_slow(self, now_s: float) -> None:
        for p in self._people.values():
            p.update_slow(p.snap.last_t_s if p.n_beats else now_s, self._pacer, self._pacer_t0)
        if self._sync is not None:
            self._sync_snap = self._sync.update(now_s)

    def _on_event(self, e: Event) -> None:
        self._events.append(e)
        if e.kind == EventKind.PACER:
            rate = float(e.data.get("rate_bpm") or 0.0)
            self._pacer = rate if rate > 0 else None
            self._pacer_t0 = e.t_s
            if self._sync is not None:
                self._sync.set_pacer(e.t_s, rate)
            return
        if e.kind == EventKind.END:
            for p in self._people.values():
                p.flush()
            self._update_slow(self._t)
            return
        if e.role is None:
            return
        p = self._person(e.role)
        if e.kind == EventKind.GAP:
            p.gaps += 1
            p.pending_gap = True
            if self._sync is not None and e.role in ("therapist", "client"):
                start, end = e.data.get("start_s"), e.data.get("end_s")
                if start is not None and end is not None:
                    self._sync.mark_gap(e.role, float(start), float(end))
        elif e.kind == EventKind.MALFORMED:
            p.malformed += 1
        elif e.kind == EventKind.STATE:
            p.connection = str(e.data.get("state", p.connection))
        elif e.kind == EventKind.CONNECT:
            p.connection = "connected"
        elif e.kind == EventKind.DISCONNECT:
            p.connection = "reconnecting"
        p.refresh_meta()

    def finish(self) -> None:
        """End of the source: classify the last beats and update every value once more."""
        self.feed(Event(self._t, EventKind.END))

    def snapshot(self) -> Snapshot:
        """A frozen, consistent picture of every participant."""
        with self._lock:
            return Snapshot(
                t_s=self._t,
                participants=MappingProxyType({r: p.snap for r, p in self._people.items()}),
                pacer_bpm=self._pacer,
                pacer_t0_s=self._pacer_t0,
                recent_events=tuple(self._events),
                synchrony=self._sync_snap,
            )

    def window_arrays(self, role: str, seconds: float) -> tuple[NDArray[Any], ...]:
        """(t, rr, flags, after_gap) of one participant's last ``seconds`` (copies)."""
        with self._lock:
            return tuple(a.copy() for a in self._person(role).ring.tail(seconds))
