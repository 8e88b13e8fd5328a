"""One participant's streaming state inside the engine: a ring of recent beats and its values.

:class:`ParticipantState` holds what the :class:`~biofeedback.engine.Engine` knows about one
person: the beats of the last ``history_s`` in a :class:`BeatRing` (times, RR, artifact class,
after-gap mark), the streaming artifact classifier, the per-beat values, the once-a-second
values (computed by :meth:`ParticipantState.compute_slow` outside the engine's lock, published
by :meth:`ParticipantState.apply_slow` under it) with their whole-session series, and the
strap information. See :mod:`biofeedback.engine` for what is computed when.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.beats import Beat
from biofeedback.snapshot import (
    SECOND_SERIES_COLUMNS,
    ColumnLog,
    ParticipantSnapshot,
    RecentBeats,
    SecondSeries,
    StrapInfo,
)
from hrv.artifacts import ArtifactClass, StreamingArtifactClassifier
from hrv.coherence import coherence_ratio
from hrv.rsa import (
    BREATH_BAND_HZ,
    SPONTANEOUS_BREATH_BAND_HZ,
    estimate_breathing_rate,
    rsa_at_rate,
)
from hrv.time_domain import time_domain

if TYPE_CHECKING:
    from biofeedback.engine import EngineConfig

__all__ = [
    "BeatRing",
    "ParticipantState",
    "current_hr_bpm",
    "window_breaks",
    "with_device_info",
]

_PENDING = -1


def window_breaks(flags: NDArray[np.int8], after_gap: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Indices ``i`` whose successive difference ``rr[i] - rr[i-1]`` must be left out.

    A difference is left out when either interval is flagged (code > 0) or interval ``i``
    follows a recording gap. Pending intervals (code -1) count as normal.
    """
    bad = flags > 0
    out = np.zeros(flags.size, dtype=bool)
    out[1:] = bad[1:] | bad[:-1] | after_gap[1:]
    return np.flatnonzero(out)


def current_hr_bpm(rr_ms: NDArray[np.float64], flags: NDArray[np.int8], n_beats: int = 5) -> float:
    """The heart rate to show as "now": 60000 / median of the newest regular intervals.

    Parameters
    ----------
    rr_ms : ndarray of float
        The recent RR intervals, oldest first, ms (the engine passes the last 15 s).
    flags : ndarray of int8
        Their artifact codes: > 0 flagged by the artifact check (left out), 0 regular,
        -1 not yet classified (kept: the check needs 2-4 later beats).
    n_beats : int
        How many of the newest kept intervals the median is taken over (5).

    Returns
    -------
    float
        ``60000 / median(newest n_beats kept intervals)``, beats/min; ``nan`` when no
        interval is kept (none in the window, or all flagged).

    Notes
    -----
    ``60000 / last RR`` alone jumps at every premature beat (a 500 ms interval among 800 ms
    ones reads 120 instead of 75 beats/min, and the compensating pause 55) until the artifact
    check, a few beats later, flags it. A median of five is not moved by one premature beat
    and its pause (two of five values) even before they are flagged, and follows a real
    change of rate within about three beats. Like Kubios's mean HR (60000 / mean RR, design
    notes s. 5) it averages intervals, not instantaneous rates.
    """
    keep = rr_ms[flags <= 0][-n_beats:]
    return 60000.0 / float(np.median(keep)) if keep.size else math.nan


class BeatRing:
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


def with_device_info(strap: StrapInfo, info: Mapping[str, Any]) -> StrapInfo:
    def _int(v: Any) -> int | None:
        return int(v) if isinstance(v, int | float) and math.isfinite(v) else None

    return replace(
        strap,
        name=info.get("name", strap.name),
        address=info.get("address", strap.address),
        battery_pct=_int(info["battery_pct"]) if "battery_pct" in info else strap.battery_pct,
        info=MappingProxyType({**strap.info, **info}),
    )


class ParticipantState:
    """One person's state. Mutated only by the thread that feeds the engine; the parts a
    snapshot reads are changed under the engine's lock."""

    def __init__(
        self,
        role: str,
        cfg: EngineConfig,
        on_classified: Callable[[str, float, float, bool, bool], None] | None = None,
        strap: StrapInfo | None = None,
    ) -> None:
        self.role = role
        self.cfg = cfg
        self.on_classified = on_classified
        self.ring = BeatRing()
        self.classifier = StreamingArtifactClassifier(batch=cfg.artifact_batch)
        self.n_beats = 0
        self.gap_marks: deque[bool] = deque()  # after-gap marks of beats not yet classified
        self.last_artifact: str | None = None
        self.gaps = 0
        self.strap = strap if strap is not None else StrapInfo()
        self.slow: dict[str, Any] = {}
        self.second = -1  # last whole second of session time with a slow update
        self.series = ColumnLog(SECOND_SERIES_COLUMNS)
        self.snap = self.compute_fast()

    # -- per beat --------------------------------------------------------------------------

    # The engine runs these steps with its lock around the ones marked "under the lock" (they
    # change what a snapshot reads) and the computing ones outside it; :meth:`add` runs them all
    # in a row for single-threaded use.

    def add(self, b: Beat) -> None:
        """Take one beat (all steps, no lock: for single-threaded use)."""
        self.append(b)
        found = self.classify(b)
        self.mark(found, b.t_s)
        self.forward(found)
        self.snap = self.compute_fast()

    def append(self, b: Beat) -> None:
        """Under the lock: the beat into the ring."""
        self.ring.append(b.t_s, b.rr_ms, b.after_gap and self.n_beats > 0)
        self.gap_marks.append(b.after_gap and self.n_beats > 0)
        self.n_beats += 1

    def classify(self, b: Beat | None) -> list[Any]:
        """Outside the lock: artifact classes that became final with beat ``b`` (``None``:
        the end of the recording, the last beats)."""
        if b is None:
            return list(self.classifier.flush())
        return list(self.classifier.push(b.rr_ms, b.t_s))

    def mark(self, found: list[Any], t_s: float | None) -> None:
        """Under the lock: store the classes; drop beats older than ``history_s`` before
        ``t_s`` (the newest beat)."""
        for c in found:
            code = int(c.code)
            self.ring.set_flag(c.index, code)
            self.last_artifact = ArtifactClass(code).name.lower() if code else None
        if t_s is not None:
            self.ring.drop_before(t_s - self.cfg.history_s)

    def forward(self, found: list[Any]) -> None:
        """Outside the lock: classified beats, with their after-gap marks, to live synchrony
        and the episode trackers (classes become final in beat order)."""
        for c in found:
            after_gap = self.gap_marks.popleft() if self.gap_marks else False
            if self.on_classified is not None:
                self.on_classified(self.role, c.t_s, c.rr_ms, int(c.code) > 0, after_gap)

    def compute_fast(self) -> ParticipantSnapshot:
        """Outside the lock: the per-beat values (reads the ring, which only the feeding
        thread changes); the engine publishes the result as ``snap`` under the lock."""
        cfg = self.cfg
        t, rr, fl, ag = self.ring.tail(cfg.rmssd_window_s)
        # RMSSD and mean HR over the classified intervals only: the newest 2-4 still wait for
        # the artifact check, and a premature beat among them would show as a brief spike.
        done = fl >= 0
        td = time_domain(rr[done], window_breaks(fl[done], ag[done]))
        span = float(t[-1] - t[0] + rr[0] / 1000.0) if t.size else 0.0
        classified = int(np.count_nonzero(fl >= 0))
        n_flagged = int(np.count_nonzero(fl > 0))
        burden = 100.0 * n_flagged / classified if classified else math.nan
        reason = None
        if t.size < cfg.min_beats:
            reason = f"only {t.size} beats in the last {cfg.rmssd_window_s:.0f} s"
        elif span < cfg.min_window_fraction * cfg.rmssd_window_s:
            reason = f"window covers only {span:.0f} of {cfg.rmssd_window_s:.0f} s"
        elif burden > cfg.max_burden_pct:
            reason = f"{burden:.0f} % of recent intervals are irregular"
        last_rr = float(rr[-1]) if rr.size else math.nan
        _, rr_now, fl_now, _ = self.ring.tail(cfg.current_hr_window_s)
        return ParticipantSnapshot(
            role=self.role,
            n_beats=self.n_beats,
            last_t_s=float(t[-1]) if t.size else math.nan,
            last_rr_ms=last_rr,
            hr_bpm=current_hr_bpm(rr_now, fl_now, cfg.current_hr_beats),
            mean_hr_bpm=td.mean_hr_bpm,
            rmssd_ms=td.rmssd_ms,
            window_beats=int(t.size),
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
