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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.beats import Beat, Event, EventKind, Packet, SourceItem
from biofeedback.snapshot import (
    SECOND_SERIES_COLUMNS,
    SYNCHRONY_COLUMNS,
    ColumnLog,
    ParticipantSnapshot,
    RecentBeats,
    SecondSeries,
    Snapshot,
    StrapInfo,
    SynchronyHistory,
)
from hrv.artifacts import ArtifactClass, StreamingArtifactClassifier
from hrv.coherence import coherence_ratio
from hrv.pacer import PacerSettings, PacerTimeline
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

    def __post_init__(self) -> None:
        longest = max(
            self.rmssd_window_s,
            self.extra_window_s,
            self.rsa_window_s,
            self.coherence_window_s,
        )
        if self.history_s < longest:
            raise ValueError(
                f"history_s ({self.history_s}) must cover the longest window ({longest})"
            )


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


_SLOW_DEFAULTS: dict[str, float] = {
    "rmssd_extra_ms": math.nan,
    "rsa_amplitude_ms": math.nan,
    "rsa_phase_deg": math.nan,
    "rsa_r_squared": math.nan,
    "rsa_peak_to_trough_bpm": math.nan,
    "coherence_ratio": math.nan,
    "breathing_rate_bpm": math.nan,
    "slow_t_s": math.nan,
}


def _with_device_info(strap: StrapInfo, info: Mapping[str, Any]) -> StrapInfo:
    def _int(v: Any) -> int | None:
        return int(v) if isinstance(v, int | float) and math.isfinite(v) else None

    return replace(
        strap,
        name=info.get("name", strap.name),
        address=info.get("address", strap.address),
        battery_pct=_int(info["battery_pct"]) if "battery_pct" in info else strap.battery_pct,
        info=MappingProxyType({**strap.info, **info}),
    )


class _Participant:
    """One person's state. Mutated only by the thread that feeds the engine; the parts a
    snapshot reads are changed under the engine's lock."""

    def __init__(
        self,
        role: str,
        cfg: EngineConfig,
        on_classified: Callable[[str, float, float, bool], None] | None = None,
        strap: StrapInfo | None = None,
    ) -> None:
        self.role = role
        self.cfg = cfg
        self.on_classified = on_classified
        self.ring = _Ring()
        self.classifier = StreamingArtifactClassifier(batch=cfg.artifact_batch)
        self.n_beats = 0
        self.last_artifact: str | None = None
        self.gaps = 0
        self.strap = strap if strap is not None else StrapInfo()
        self.slow: dict[str, Any] = {}
        self.second = -1  # last whole second of session time with a slow update
        self.series = ColumnLog(SECOND_SERIES_COLUMNS)
        self.snap = self._fast()

    # -- per beat --------------------------------------------------------------------------

    def add(self, b: Beat) -> None:
        self.ring.append(b.t_s, b.rr_ms, b.after_gap and self.n_beats > 0)
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
            reason = f"{burden:.0f} % of recent intervals are irregular"
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
            gaps=self.gaps,
            strap=self.strap,
            **self.slow,
        )

    # -- once a second ---------------------------------------------------------------------

    def unflagged(self, seconds: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        t, rr, fl, _ = self.ring.tail(seconds)
        keep = fl <= 0
        return t[keep], rr[keep]

    def compute_slow(self, now_s: float, pacer_bpm: float | None, pacer_t0_s: float) -> dict:
        """The once-a-second values (reads the ring only: runs outside the engine's lock)."""
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
        return slow

    def apply_slow(self, slow: dict[str, Any], pacer_bpm: float | None) -> None:
        """Publish once-a-second values (under the engine's lock)."""
        self.slow = slow
        self.snap = snap = replace(self.snap, **{**_SLOW_DEFAULTS, **slow})
        self.series.append(
            t_s=slow["slow_t_s"],
            mean_hr_bpm=snap.mean_hr_bpm,
            rmssd_ms=snap.rmssd_ms,
            burden_pct=snap.burden_pct,
            pacer_bpm=math.nan if pacer_bpm is None else pacer_bpm,
            rsa_amplitude_ms=snap.rsa_amplitude_ms,
            breathing_rate_bpm=snap.breathing_rate_bpm,
            coherence_ratio=snap.coherence_ratio,
            reliable=snap.reliable,
            reason=snap.unreliable_reason,
        )

    def refresh_meta(self) -> None:
        self.snap = replace(self.snap, gaps=self.gaps, strap=self.strap)

    def view(self, beats_s: float) -> ParticipantSnapshot:
        """The snapshot entry with arrays (under the engine's lock)."""
        beats = RecentBeats.copy_of(*self.ring.tail(beats_s))
        return replace(self.snap, beats=beats, series=SecondSeries(**self.series.views()))


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
        self._people: dict[str, _Participant] = {}
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
        for r in roles:
            self._person(r)

    def _person(self, role: str) -> _Participant:
        p = self._people.get(role)
        if p is None:
            forward = self._to_sync if role in ("therapist", "client") else None
            strap = StrapInfo(state=self._strap_state)
            p = self._people[role] = _Participant(role, self.config, forward, strap)
        return p

    def _to_sync(self, role: str, t_s: float, rr_ms: float, flagged: bool) -> None:
        if self._sync is not None:
            self._sync.add_beat(role, t_s, rr_ms, flagged)

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
            p.add(item)
            self._version += 1
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
            if e.kind == EventKind.END:
                for p in self._people.values():
                    p.flush()
            else:
                self._apply_event(e)
        if e.kind == EventKind.END:
            self._update_slow(self._t)

    def _apply_event(self, e: Event) -> None:
        if e.kind == EventKind.PACER:
            try:
                settings = PacerSettings.from_dict(e.data, strict=False)
            except ValueError as exc:
                log.warning("pacer event at %.1f s not used: %s", e.t_s, exc)
                return
            last = self._pacer_timeline.changes[-1][0] if self._pacer_timeline.changes else 0.0
            t = max(e.t_s, last)
            tl = self._pacer_timeline = self._pacer_timeline.changed(t, settings)
            self._pacer_settings = settings
            self._pacer = None if settings is None else settings.rate_bpm
            # The RSA fit's reference: the inhalation onset of the cycle in force (the switch-on
            # time when the pacer starts; a change keeps the breathing shape continuous).
            self._pacer_t0 = t if settings is None else tl.cycle_origin_s(t)
            if self._sync is not None:
                self._sync.set_pacer(e.t_s, self._pacer or 0.0)
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
            st = replace(_with_device_info(st, e.data), state="connected", reason="")
        elif e.kind == EventKind.DISCONNECT:
            st = replace(
                st,
                state="reconnecting",
                reason=str(e.data.get("reason", "")),
                disconnects=st.disconnects + 1,
            )
        p.strap = st
        p.refresh_meta()

    def finish(self) -> None:
        """End of the source: classify the last beats and update every value once more."""
        self.feed(Event(self._t, EventKind.END))

    # -- settings from the session controller (any thread) --------------------------------

    def set_device_info(self, role: str, info: Mapping[str, Any]) -> None:
        """What is known about ``role``'s strap before it connects (name, address ...)."""
        with self._lock:
            p = self._person(role)
            p.strap = _with_device_info(p.strap, info)
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
        ``failed``), a message for the user (kept until replaced) and the file path."""
        with self._lock:
            if state is not None:
                self._state = state
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
