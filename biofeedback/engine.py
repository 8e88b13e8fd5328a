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
* the current heart rate: 60000 / the median of the newest 5 intervals of the last 15 s
  that the artifact check has not flagged (:func:`biofeedback.participant.current_hr_bpm`),
  so one premature beat and its compensating pause never make it jump;
* over the last ``rmssd_window_s`` (60 s): RMSSD from the successive differences of
  adjacent, unflagged intervals (a difference touching a flagged interval or spanning a
  recording gap is left out, not interpolated) and mean HR, both over the classified
  intervals only (the 2-4 still waiting are left out until the check has seen them, so a
  premature beat never shows as a brief RMSSD spike), the artifact burden (percent of
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

Once a second, for a therapist-client pair or a solo person: the beats classified since the
last update go to the activation-and-settling episode trackers
(:class:`hrv.episodes.CoregulationTracker`, flagged beats left out, gaps kept); the snapshot's
``coregulation`` holds each person's state (``rising``, ``settling``, ``settled``, ``None``)
and the finished episodes. They run about 6-9 s behind the newest beat (the artifact check and
the 11 s moving average). A resting baseline becomes the reference once it has ended (offline,
``analyze`` uses it for the whole session).

Feedback values are never hidden: they are marked unreliable (with the reason) while the
window holds too few beats, spans too little time, or the artifact burden in it is above
``max_burden_pct``.

Streaming equals batch: the final values equal the :mod:`hrv` functions applied to the same
beats (``classify_intervals(rr, causal=True)`` for the flags), tested to 1e-9.

Each once-a-second update also appends a row to the participant's whole-session series
(:class:`biofeedback.snapshot.SecondSeries`), and each live-synchrony update a row to the
synchrony history; a snapshot shows them without copying (see :mod:`biofeedback.snapshot`).

Thread safety: one thread feeds (:meth:`Engine.feed`, the session's worker thread); any
thread may call :meth:`Engine.snapshot` and :meth:`Engine.events_since`. A lock guards what
readers see; the once-a-second work (RSA fit, coherence, breathing rate, live synchrony:
several milliseconds) runs outside it and only its results are published under it, so a
reader never waits for it. Snapshots are frozen.

The engine is the one owner of per-person state: beats, artifact classes, gaps, and what is
known about each strap (state, device information, malformed notifications), all taken from
the items it is fed.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from numpy.typing import NDArray

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from biofeedback.participant import ParticipantState, window_breaks, with_device_info
from biofeedback.snapshot import (
    SYNCHRONY_COLUMNS,
    ColumnLog,
    CoregulationSnapshot,
    ParticipantSnapshot,
    Snapshot,
    StrapInfo,
    SynchronyHistory,
)
from hrv.episodes import CoregulationTracker
from hrv.pacer import PacerSettings, PacerTimeline
from hrv.synchrony import LiveSnapshot, LiveSynchrony

__all__ = [
    "Engine",
    "EngineConfig",
    "ParticipantSnapshot",
    "Snapshot",
    "window_breaks",
]

log = logging.getLogger(__name__)


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
    recent_events : int
        How many of the latest events a snapshot lists in ``recent_events``.
    snapshot_beats_s : float
        How many seconds of recent beats a snapshot holds as arrays (default 300 s; at most
        ``history_s`` are kept).
    current_hr_beats : int
        The shown current heart rate is 60000 / the median of this many of the newest
        intervals the artifact check has not flagged (5; see
        :func:`biofeedback.participant.current_hr_bpm`).
    current_hr_window_s : float
        ... taken from the last this many seconds of beats only (15 s).
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
    snapshot_beats_s: float = 300.0
    current_hr_beats: int = 5
    current_hr_window_s: float = 15.0

    def __post_init__(self) -> None:
        longest = max(
            self.rmssd_window_s,
            self.extra_window_s,
            self.rsa_window_s,
            self.coherence_window_s,
        )
        if self.current_hr_beats < 1:
            raise ValueError(f"current_hr_beats must be at least 1, got {self.current_hr_beats}")
        if self.history_s < longest:
            raise ValueError(
                f"history_s ({self.history_s}) must cover the longest window ({longest})"
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
    strap_state : str
        The strap state shown for a participant until a ``state`` event says otherwise
        (``replay`` for recordings, ``scanning`` for live straps).
    """

    def __init__(
        self,
        roles: tuple[str, ...] = (),
        config: EngineConfig | None = None,
        synchrony: bool | None = None,
        strap_state: str = "receiving",
    ) -> None:
        self.config = config or EngineConfig()
        self._lock = threading.Lock()
        self._people: dict[str, ParticipantState] = {}
        self._strap_state = strap_state
        self._t = 0.0
        self._pacer: float | None = None  # rate in force, breaths/min
        self._pacer_t0 = 0.0  # its cycle origin (inhalation onset), session time
        self._pacer_timeline = PacerTimeline()
        self._pacer_settings: PacerSettings | None = None
        self._second = -1
        self._events: list[Event] = []
        self._version = 0
        self._state = "idle"
        self._message: str | None = None
        self._path: str | None = None
        self._cache: Snapshot | None = None
        if synchrony is None:
            synchrony = {"therapist", "client"} <= set(roles)
        self._sync = LiveSynchrony() if synchrony else None
        self._sync_snap: LiveSnapshot | None = None
        self._sync_log = ColumnLog(SYNCHRONY_COLUMNS)
        # Episodes for a therapist-client pair, or for the one person of a solo session.
        pair = [r for r in ("therapist", "client") if r in roles]
        people = pair if len(pair) == 2 else list(roles) if len(roles) == 1 else []
        self._coreg = CoregulationTracker(people) if people else None
        self._coreg_view = CoregulationSnapshot()
        self._coreg_second = -1
        self._coreg_pending: list[tuple[str, float, float, bool, bool]] = []
        self._baseline_start: float | None = None
        for r in roles:
            self._person(r)

    def _person(self, role: str) -> ParticipantState:
        p = self._people.get(role)
        if p is None:
            strap = StrapInfo(state=self._strap_state)
            p = self._people[role] = ParticipantState(role, self.config, self._classified, strap)
        return p

    def _classified(
        self, role: str, t_s: float, rr_ms: float, flagged: bool, after_gap: bool
    ) -> None:
        """A beat whose artifact class is final: on to live synchrony and the episodes."""
        if self._sync is not None and role in ("therapist", "client"):
            self._sync.add_beat(role, t_s, rr_ms, flagged)
        if self._coreg is not None and role in self._coreg.trackers:
            # Fed to the episode trackers once a second, outside the snapshot lock.
            self._coreg_pending.append((role, t_s, rr_ms, flagged, after_gap))

    def _drain_coreg(self) -> None:
        """Feed the waiting classified beats to the episode trackers (feeding thread only)."""
        if self._coreg is None:
            return
        pending, self._coreg_pending = self._coreg_pending, []
        for role, t_s, rr_ms, flagged, after_gap in pending:
            self._coreg.add_beat(role, t_s, rr_ms, flagged, after_gap)

    def _publish_coreg(self, *, final: bool = False) -> None:
        """Feed the classified beats of the last second to the episode trackers (outside the
        lock) and publish each person's state and the finished episodes when they changed."""
        co = self._coreg
        if co is None:
            return
        self._drain_coreg()
        if final:
            co.finish()
        view = CoregulationSnapshot(
            co.reference, MappingProxyType(co.states()), tuple(co.episodes())
        )
        old = self._coreg_view
        if (view.reference, dict(view.states), view.episodes) == (
            old.reference,
            dict(old.states),
            old.episodes,
        ):
            return
        with self._lock:
            self._coreg_view = view
            self._version += 1

    # -- feeding (one thread) --------------------------------------------------------------

    def feed(self, item: SourceItem) -> None:
        """Take one source item (packets are ignored; beats and events update the state).

        Call it from one thread at a time (the session's worker thread). The once-a-second
        work runs outside the lock that :meth:`snapshot` waits on; only its results are
        published under it.
        """
        if isinstance(item, Packet):
            return
        if not isinstance(item, Beat):
            self._on_event(item)
            return
        with self._lock:
            self._t = max(self._t, item.t_s)
            p = self._person(item.role)
            p.append(item)
            self._version += 1
        if self._sync is not None and item.role in ("therapist", "client"):
            self._sync.heard(item.role, item.t_s)
        self._classify(p, item)
        second = math.floor(item.t_s)
        if second > p.second:
            p.second = second
            slow = p.compute_slow(item.t_s, self._pacer, self._pacer_t0)
            with self._lock:
                p.apply_slow(slow, self._pacer)
                self._version += 1
        if self._sync is not None and second > self._second:
            self._second = second
            self._publish_sync(self._sync.update(item.t_s))
        if second > self._coreg_second:
            self._coreg_second = second
            self._publish_coreg()

    def _classify(self, p: ParticipantState, item: Beat | None) -> None:
        """Classify ``item`` (``None``: the end, finish the waiting beats), pass on the beats
        whose class is final, and publish the per-beat values (the work outside the lock)."""
        found = p.classify(item)
        with self._lock:
            p.mark(found, None if item is None else item.t_s)
            self._version += 1
        p.forward(found)
        fast = p.compute_fast()
        with self._lock:
            p.snap = fast
            self._version += 1

    def _publish_sync(self, s: LiveSnapshot) -> None:
        band = s.band
        with self._lock:
            self._sync_snap = s
            self._sync_log.append(
                t_s=s.t_s,
                window_end_s=s.window_end_s,
                value=s.value,
                band_low=math.nan if band is None else band[0],
                band_high=math.nan if band is None else band[1],
                lag_s=s.lag_s,
                leader=s.leader,
                phase=s.phase,
                pacer_driven=s.pacer_driven,
                valid=band is not None and math.isfinite(s.value),
            )
            self._version += 1

    def _update_slow(self, now_s: float) -> None:
        for p in self._people.values():
            slow = p.compute_slow(
                p.snap.last_t_s if p.n_beats else now_s, self._pacer, self._pacer_t0
            )
            with self._lock:
                p.apply_slow(slow, self._pacer)
                self._version += 1
        if self._sync is not None:
            self._publish_sync(self._sync.update(now_s))

    def _on_event(self, e: Event) -> None:
        with self._lock:
            self._t = max(self._t, e.t_s)
            self._events.append(e)
            self._version += 1
            if e.kind != EventKind.END:
                self._apply_event(e)
        if e.kind == EventKind.END:
            for p in self._people.values():
                self._classify(p, None)
            self._update_slow(self._t)
            self._publish_coreg(final=True)

    def _apply_event(self, e: Event) -> None:
        if e.kind == EventKind.BASELINE:
            self._on_baseline(e)
            return
        if e.kind == EventKind.PACER:
            # The same rule as offline analysis (SessionInput.pacer_timeline): one timeline, and
            # synchrony gets its rate-only schedule from it.
            try:
                tl = self._pacer_timeline.after_event(e.t_s, e.data)
            except ValueError as exc:
                log.warning("pacer event at %.1f s not used: %s", e.t_s, exc)
                return
            self._pacer_timeline = tl
            t, settings = tl.changes[-1]
            self._pacer_settings = settings
            self._pacer = None if settings is None else settings.rate_bpm
            # The RSA fit's reference: the inhalation onset of the cycle in force (the switch-on
            # time when the pacer starts; a change keeps the breathing shape continuous).
            self._pacer_t0 = t if settings is None else tl.cycle_origin_s(t)
            if self._sync is not None:
                self._sync.set_pacer(*tl.rate_changes()[-1])
            return
        if e.role is None:
            return
        p = self._person(e.role)
        st = p.strap
        if e.kind == EventKind.GAP:
            p.gaps += 1
            if self._sync is not None and e.role in ("therapist", "client"):
                start, end = e.data.get("start_s"), e.data.get("end_s")
                if start is not None and end is not None:
                    self._sync.mark_gap(e.role, float(start), float(end))
        elif e.kind == EventKind.MALFORMED:
            st = replace(st, malformed=st.malformed + 1)
        elif e.kind == EventKind.STATE:
            rssi = e.data.get("rssi_dbm")
            st = replace(
                st,
                state=str(e.data.get("state", st.state)),
                reason=str(e.data.get("reason", "")),
                rssi_dbm=int(rssi) if isinstance(rssi, int | float) else st.rssi_dbm,
            )
        elif e.kind == EventKind.CONNECT:
            st = replace(with_device_info(st, e.data), state="connected", reason="")
        elif e.kind == EventKind.DISCONNECT:
            st = replace(
                st,
                state="reconnecting",
                reason=str(e.data.get("reason", "")),
                disconnects=st.disconnects + 1,
            )
        p.strap = st
        p.refresh_meta()

    def _on_baseline(self, e: Event) -> None:
        """A resting baseline that ends becomes everyone's episode reference from then on
        (offline, ``analyze`` uses it for the whole session)."""
        state = e.data.get("state")
        if state == "start":
            self._baseline_start = e.t_s
        elif state == "skipped":
            self._baseline_start = None
        elif state == "end" and self._baseline_start is not None and self._coreg is not None:
            start, self._baseline_start = self._baseline_start, None
            self._drain_coreg()  # the beats up to now first
            refs = {r: tr.reference_over(start, e.t_s) for r, tr in self._coreg.trackers.items()}
            if all(ref is not None for ref in refs.values()):
                for r, ref in refs.items():
                    assert ref is not None
                    self._coreg.set_reference(r, ref)

    def finish(self) -> None:
        """End of the source: classify the last beats and update every value once more."""
        self.feed(Event(self._t, EventKind.END))

    # -- settings from the session controller (any thread) --------------------------------

    def set_device_info(self, role: str, info: Mapping[str, Any]) -> None:
        """What is known about ``role``'s strap before it connects (name, address ...)."""
        with self._lock:
            p = self._person(role)
            p.strap = with_device_info(p.strap, info)
            p.refresh_meta()
            self._version += 1

    def set_status(
        self,
        state: str | None = None,
        *,
        message: str | None = None,
        path: str | None = None,
    ) -> None:
        """The controller's state (``idle``, ``running``, ``stopping``, ``ended``,
        ``failed``), a message for the user (kept until replaced) and the file path.

        Once the session is over (``ended`` or ``failed``) every person's strap state reads
        ``ended``: no strap is read any more, whatever the last recorded state said (a replay's
        ``connected``, a live strap's ``stopped``)."""
        with self._lock:
            if state is not None:
                self._state = state
                if state in ("ended", "failed"):
                    for p in self._people.values():
                        p.strap = replace(p.strap, state="ended", reason="")
                        p.refresh_meta()
            if message is not None:
                self._message = message
            if path is not None:
                self._path = path
            self._version += 1

    # -- reading (any thread) --------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every change; equal to ``snapshot().version`` taken now."""
        return self._version

    def snapshot(self) -> Snapshot:
        """A frozen, consistent picture of the session (the same object while nothing
        changed). Costs a copy of the recent beats and O(1) for the whole-session series."""
        with self._lock:
            cached = self._cache
            if cached is not None and cached.version == self._version:
                return cached
            beats_s = self.config.snapshot_beats_s
            n_recent = self.config.recent_events
            snap = Snapshot(
                t_s=self._t,
                participants=MappingProxyType(
                    {r: p.view(beats_s) for r, p in self._people.items()}
                ),
                pacer_bpm=self._pacer,
                pacer_t0_s=self._pacer_t0,
                pacer=self._pacer_settings,
                pacer_timeline=self._pacer_timeline,
                recent_events=tuple(self._events[-n_recent:]) if n_recent > 0 else (),
                synchrony=self._sync_snap,
                synchrony_history=SynchronyHistory(**self._sync_log.views()),
                version=self._version,
                n_events=len(self._events),
                state=self._state,
                message=self._message,
                path=self._path,
                coregulation=self._coreg_view,
            )
            self._cache = snap
            return snap

    def events_since(self, cursor: int) -> tuple[tuple[Event, ...], int]:
        """Every event after the first ``cursor`` ones, and the cursor to pass next time.

        Start with 0. Nothing is dropped however many events arrive between two calls.
        """
        with self._lock:
            n = len(self._events)
            return tuple(self._events[max(0, min(cursor, n)) :]), n

    def window_arrays(self, role: str, seconds: float) -> tuple[NDArray[Any], ...]:
        """(t, rr, flags, after_gap) of one participant's last ``seconds`` (copies)."""
        with self._lock:
            return tuple(a.copy() for a in self._person(role).ring.tail(seconds))
