"""The one picture of a session a front end draws from: frozen, safe to hold on any thread.

:meth:`biofeedback.engine.Engine.snapshot` (and :meth:`biofeedback.session.SessionController.
snapshot`, which returns the same object) gives a :class:`Snapshot`. It holds

* per person (:class:`ParticipantSnapshot`): the latest values (heart rate, RMSSD, RSA,
  coherence, reliability ...), the beats of the last few minutes as arrays
  (:class:`RecentBeats`), the once-a-second series of the whole session so far
  (:class:`SecondSeries`) and what is known about the strap (:class:`StrapInfo`);
* the latest live synchrony reading and its per-second history (:class:`SynchronyHistory`);
* the pacer in force, the session time, the controller's state and message;
* ``version``, a number that grows with every change, so a front end redraws only when it
  moved.

Arrays are read-only NumPy views or copies (``float64`` times, as pyqtgraph wants them).

How taking a snapshot stays cheap at any session length
-------------------------------------------------------
The whole-session series live in :class:`ColumnLog`: append-only columns in arrays with
spare room. A snapshot holds read-only views of the filled prefix; later appends write past
that prefix, and growing allocates new arrays and leaves the old ones (still referenced by
old snapshots) untouched. So a view never changes after it is taken and costs O(1) whatever
the session length. Only the recent beats (a few hundred) are copied, because their artifact
classes are settled in place a few beats after they arrive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from biofeedback.beats import Event
from hrv.pacer import PacerSettings, PacerTimeline

if TYPE_CHECKING:
    from hrv.episodes import Episode
    from hrv.synchrony import LiveSnapshot

__all__ = [
    "ColumnLog",
    "CoregulationSnapshot",
    "ParticipantSnapshot",
    "RecentBeats",
    "SecondSeries",
    "Snapshot",
    "StrapInfo",
    "SynchronyHistory",
]


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a.flags.writeable = False
    return a


def _empty(dtype: DTypeLike) -> NDArray[Any]:
    return _frozen(np.empty(0, dtype=dtype))


class ColumnLog:
    """Append-only named columns whose filled prefix can be viewed in O(1).

    Parameters
    ----------
    dtypes : mapping of column name -> NumPy dtype
    capacity : int
        Rows allocated at first; doubled whenever full.

    Not thread-safe on its own: one thread appends, and readers take :meth:`views` under the
    same lock as the appends (the engine's lock).
    """

    def __init__(self, dtypes: Mapping[str, DTypeLike], capacity: int = 256) -> None:
        self._dtypes = dict(dtypes)
        self._cols = {k: np.empty(capacity, dtype=d) for k, d in self._dtypes.items()}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, **row: Any) -> None:
        """Add one row; every column must be given."""
        if self._n == next(iter(self._cols.values())).size:
            grown = {}
            for k, old in self._cols.items():
                new = np.empty(old.size * 2, dtype=old.dtype)
                new[: self._n] = old[: self._n]
                grown[k] = new
            self._cols = grown  # old arrays stay as they are for views already handed out
        i = self._n
        for k, col in self._cols.items():
            col[i] = row[k]
        self._n += 1

    def views(self) -> dict[str, NDArray[Any]]:
        """Read-only views of the rows appended so far (they never change afterwards)."""
        n = self._n
        return {k: _frozen(col[:n]) for k, col in self._cols.items()}


@dataclass(frozen=True)
class RecentBeats:
    """One person's beats of the last ``EngineConfig.snapshot_beats_s`` seconds, oldest first.

    Attributes
    ----------
    t_s : ndarray of float64
        Beat times on the session clock, seconds.
    rr_ms : ndarray of float64
        RR interval ending at each beat, ms, as the strap reported it.
    hr_bpm : ndarray of float64
        Instantaneous heart rate ``60000 / rr_ms``, beats/min.
    artifact : ndarray of int8
        Artifact class of each interval (:class:`hrv.artifacts.ArtifactClass` value: 0 normal,
        > 0 flagged), ``-1`` while still being classified (the last 2 to 4 beats).
    after_gap : ndarray of bool
        The beat is the first after a recording gap (do not join it to the previous beat).
    """

    t_s: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    rr_ms: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    hr_bpm: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    artifact: NDArray[np.int8] = field(default_factory=lambda: _empty(np.int8))
    after_gap: NDArray[np.bool_] = field(default_factory=lambda: _empty(np.bool_))

    def __len__(self) -> int:
        return int(self.t_s.size)

    @classmethod
    def copy_of(
        cls,
        t_s: NDArray[np.float64],
        rr_ms: NDArray[np.float64],
        artifact: NDArray[np.int8],
        after_gap: NDArray[np.bool_],
    ) -> RecentBeats:
        """Read-only copies of the given arrays, plus the heart rate."""
        return cls(
            t_s=_frozen(np.array(t_s, dtype=np.float64)),
            rr_ms=_frozen(np.array(rr_ms, dtype=np.float64)),
            hr_bpm=_frozen(60000.0 / np.asarray(rr_ms, dtype=np.float64)),
            artifact=_frozen(np.array(artifact, dtype=np.int8)),
            after_gap=_frozen(np.array(after_gap, dtype=np.bool_)),
        )


#: Columns of :class:`SecondSeries` and their types.
SECOND_SERIES_COLUMNS: dict[str, DTypeLike] = {
    "t_s": np.float64,
    "mean_hr_bpm": np.float64,
    "rmssd_ms": np.float64,
    "burden_pct": np.float64,
    "pacer_bpm": np.float64,
    "rsa_amplitude_ms": np.float64,
    "breathing_rate_bpm": np.float64,
    "coherence_ratio": np.float64,
    "reliable": np.bool_,
    "reason": object,
}


@dataclass(frozen=True)
class SecondSeries:
    """One person's values once a second of session time, over the whole session so far.

    One row each time the once-a-second update runs (on the first beat of each new second of
    session time, and once more at the end of the session). ``nan`` where a value could not
    be computed.

    Attributes
    ----------
    t_s : ndarray of float64
        Session time of the update (the beat that crossed the second), seconds.
    mean_hr_bpm, rmssd_ms, burden_pct : ndarray of float64
        Over the 60 s feedback window: ``60000 / mean RR`` (beats/min), RMSSD (ms) and the
        share of flagged intervals (percent).
    pacer_bpm : ndarray of float64
        Pacer rate in force, breaths/min; ``nan`` while the pacer is off.
    rsa_amplitude_ms : ndarray of float64
        RSA amplitude at the pacer rate (sine fit over 60 s, ms); ``nan`` without a pacer.
    breathing_rate_bpm : ndarray of float64
        Breathing-rate estimate from the dominant RR oscillation, breaths/min.
    coherence_ratio : ndarray of float64
        McCraty & Zayas coherence ratio of the last 64 s.
    reliable : ndarray of bool
        False while the window holds too few beats, spans too little time or too many
        artifacts; ``reason`` (object array of str or None) says which.
    """

    t_s: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    mean_hr_bpm: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    rmssd_ms: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    burden_pct: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    pacer_bpm: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    rsa_amplitude_ms: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    breathing_rate_bpm: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    coherence_ratio: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    reliable: NDArray[np.bool_] = field(default_factory=lambda: _empty(np.bool_))
    reason: NDArray[np.object_] = field(default_factory=lambda: _empty(object))

    def __len__(self) -> int:
        return int(self.t_s.size)


#: Columns of :class:`SynchronyHistory` and their types.
SYNCHRONY_COLUMNS: dict[str, DTypeLike] = {
    "t_s": np.float64,
    "window_end_s": np.float64,
    "value": np.float64,
    "band_low": np.float64,
    "band_high": np.float64,
    "lag_s": np.float64,
    "leader": object,
    "phase": object,
    "pacer_driven": np.bool_,
    "valid": np.bool_,
}


@dataclass(frozen=True)
class SynchronyHistory:
    """The live synchrony reading once a second over the whole session so far.

    See :class:`hrv.synchrony.LiveSnapshot` for the meaning of each value.

    Attributes
    ----------
    t_s : ndarray of float64
        Session time of the update, seconds.
    window_end_s : ndarray of float64
        End of the 30 s window the reading describes (about 5-9 s before ``t_s``).
    value : ndarray of float64
        In-phase strength (Fisher z of the cross-correlation peak nearest lag 0).
    band_low, band_high : ndarray of float64
        The chance band (5th and 95th percentiles over time-offset pairings); ``nan`` until
        enough pairings exist.
    lag_s : ndarray of float64
        Lag of the peak, seconds (positive: the client's changes came first).
    leader, phase : ndarray of object
        ``"therapist"``, ``"client"``, ``"none"`` or None; ``"in-phase"``, ``"anti-phase"``
        or None.
    pacer_driven : ndarray of bool
        Both people's heart rhythms followed the running pacer (shared breathing, not
        synchrony between them).
    valid : ndarray of bool
        The reading has a value and a chance band to compare it with.
    """

    t_s: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    window_end_s: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    value: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    band_low: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    band_high: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    lag_s: NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    leader: NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    phase: NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    pacer_driven: NDArray[np.bool_] = field(default_factory=lambda: _empty(np.bool_))
    valid: NDArray[np.bool_] = field(default_factory=lambda: _empty(np.bool_))

    def __len__(self) -> int:
        return int(self.t_s.size)


@dataclass(frozen=True)
class StrapInfo:
    """What is known about one person's strap (or, for recordings, the recorded strap).

    Attributes
    ----------
    state : str
        ``scanning``, ``connecting``, ``connected``, ``reconnecting``, ``lost``, ``stopped``
        (live straps, :class:`biofeedback.sources.ble.ConnectionState`); ``replay`` or
        ``simulated`` for recordings and the simulator until the recording says otherwise;
        ``receiving`` for other sources; ``ended`` once the session is over.
    reason : str
        Why it is in that state, in words ("" when nothing was said).
    name, address : str or None
        Device name and Bluetooth address (a UUID on macOS).
    battery_pct : int or None
        Battery level read at the last connect, percent.
    rssi_dbm : int or None
        Signal strength when the strap was last found by a scan, dBm.
    malformed : int
        Notifications that could not be read (skipped, kept in the recording).
    disconnects : int
        Times the link dropped or was closed.
    info : mapping
        Everything the strap told at the last connect (body location, manufacturer, model,
        firmware ...).
    """

    state: str = "receiving"
    reason: str = ""
    name: str | None = None
    address: str | None = None
    battery_pct: int | None = None
    rssi_dbm: int | None = None
    malformed: int = 0
    disconnects: int = 0
    info: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ParticipantSnapshot:
    """One participant: latest values (``nan`` where not yet computable) and arrays to draw.

    Attributes
    ----------
    hr_bpm : float
        Current heart rate, beats/min: 60000 / the median of the newest 5 intervals of the
        last 15 s that the artifact check has not flagged (intervals still awaiting the check
        count), so one premature beat and its compensating pause do not move it
        (:func:`biofeedback.participant.current_hr_bpm`); ``nan`` when none. The terminal,
        the dashboard and the LSL metrics show this one value. ``last_rr_ms`` is the raw
        newest interval; ``beats.hr_bpm`` the beat-by-beat rate the traces draw.
    last_rr_ms : float
        The newest RR interval as received, ms (flagged or not).
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
    gaps : int
        Recording gaps so far.
    beats : RecentBeats
        The beats of the last few minutes (empty in the per-beat values the engine keeps).
    series : SecondSeries
        The once-a-second values of the whole session so far.
    strap : StrapInfo
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
    gaps: int = 0
    beats: RecentBeats = field(default_factory=RecentBeats)
    series: SecondSeries = field(default_factory=SecondSeries)
    strap: StrapInfo = field(default_factory=StrapInfo)

    @property
    def connection(self) -> str:
        """The strap's state (``strap.state``)."""
        return self.strap.state


@dataclass(frozen=True)
class CoregulationSnapshot:
    """Heart-rate rises and their settling so far (:mod:`hrv.episodes`), a reflective aid.

    Attributes
    ----------
    reference : str
        ``"rolling"``, or ``"baseline"`` once a resting baseline has ended.
    states : mapping role -> str or None
        ``"rising"``, ``"settling"``, ``"settled"`` (after an episode), or ``None`` (no rise
        yet, or too little data for a reference: the first 2 minutes).
    episodes : tuple of hrv.episodes.Episode
        Finished episodes (settled, or open when the session ended), oldest first; each with
        the other person's response in a dyad.
    """

    reference: str = "rolling"
    states: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))
    episodes: tuple[Episode, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The whole session at one moment (see the module docstring).

    Attributes
    ----------
    version : int
        Grows with every change (beat, event, once-a-second update, controller state); equal
        versions mean equal contents.
    t_s : float
        Session time of the newest item, seconds.
    participants : mapping of role -> ParticipantSnapshot
    pacer_bpm : float or None
        Pacer rate in force, breaths/min; ``None`` while off.
    pacer_t0_s : float
        Inhalation onset (pacer phase 0) of a cycle of the pacer in force, session time: the
        switch-on time, moved by changes so that the breathing shape stays continuous (the
        reference of the RSA phase).
    pacer : hrv.pacer.PacerSettings or None
        The pacer settings in force (rate, inhale share, holds); ``None`` while off.
    pacer_timeline : hrv.pacer.PacerTimeline
        Every pacer change so far: draw the breathing guide from it (``volume(t)``,
        ``stage(t)``) at the session time of each frame.
    recent_events : tuple of Event
        The last few events, for a short list on screen (all events:
        :meth:`biofeedback.session.SessionController.events_since`).
    n_events : int
        Events so far (the cursor after the newest one).
    synchrony : hrv.synchrony.LiveSnapshot or None
        The latest live synchrony reading of a therapist-client session, else ``None``.
    synchrony_history : SynchronyHistory
        Every reading so far, once a second.
    state : str
        The session controller's state: ``idle``, ``running``, ``stopping``, ``ended`` or
        ``failed``.
    message : str or None
        What went wrong or what the user should know (a source error, a refused command).
    path : str or None
        The session file being written.
    coregulation : CoregulationSnapshot
        Each person's current state and the finished heart-rate rises (one or two people).
    """

    t_s: float
    participants: Mapping[str, ParticipantSnapshot]
    pacer_bpm: float | None
    pacer_t0_s: float = 0.0
    pacer: PacerSettings | None = None
    pacer_timeline: PacerTimeline = field(default_factory=PacerTimeline)
    recent_events: tuple[Event, ...] = ()
    synchrony: LiveSnapshot | None = None
    synchrony_history: SynchronyHistory = field(default_factory=SynchronyHistory)
    version: int = 0
    n_events: int = 0
    state: str = "idle"
    message: str | None = None
    path: str | None = None
    coregulation: CoregulationSnapshot = field(default_factory=CoregulationSnapshot)

    @property
    def running(self) -> bool:
        """The session is receiving (or about to receive) data."""
        return self.state in ("running", "stopping")
