"""Activation and settling episodes: a person's heart rate rises clearly above their own
reference and comes back (co-regulation moments, described, never interpreted).

Co-regulation is described in couples and therapy research as mutual dampening of arousal: one
person's physiological rise is followed by a return toward baseline in the presence of a steady
partner (Butler & Randall 2013, Emotion Review 5:202, doi:10.1177/1754073912451630; Palumbo et
al. 2017, Personality and Social Psychology Review 21:99, doi:10.1177/1088868316628405). Heart
rate alone cannot say why it rose (movement, speech, posture, emotion), so this module only
says when it rose, by how much, how long it took to come back, and what the other person's
heart rate did meanwhile.

Method, per person
------------------
1. **Grid.** Instantaneous heart rate ``60000 / rr_ms`` (beats/min) at each beat's time,
   artifact-flagged beats left out, linearly interpolated onto a 1 Hz grid on the session
   clock (grid point ``k`` is at ``k`` seconds). A grid point is missing when the two good
   beats around it are more than :attr:`EpisodeParams.max_beat_span_s` (3 s) apart or a
   recording gap lies between them, so drop-outs and artifact stretches stay blank.
2. **Smoothing.** Centred moving average over ``smooth_s`` (11 s) grid points, missing points
   left out; a point is missing when fewer than 8 of the 11 are present. Eleven seconds spans
   a whole breath at 5.5 breaths/min and more, so breathing-driven swings (up to +-8
   beats/min at 6/min) shrink to under 1 beats/min, while a rise lasting tens of seconds
   passes almost unchanged.
3. **Reference.** With a resting baseline: the median of the smoothed heart rate over the
   baseline stretch, spread ``sigma = 1.4826 * MAD`` (the robust standard deviation). Without
   one (``rolling``): the median and ``1.4826 * MAD`` of the person's own smoothed heart rate
   over the previous ``ref_window_s`` (300 s), leaving out every point that belongs to an
   episode (from its start to its end), and frozen at the episode's start while it lasts, so
   the episode never raises its own reference. Until ``ref_min_s`` (120 s) of usable history
   exist there is no reference and nothing is detected.
4. **Thresholds** (both in beats/min and in robust SDs, the larger wins):

   * reference band: up to ``ref + max(band_bpm, band_sd * sigma)`` = ``max(5 bpm, 2 sigma)``;
   * onset level: ``ref + max(onset_bpm, onset_sd * sigma)`` = ``max(8 bpm, 3 sigma)``.

   An **episode** starts when the smoothed heart rate stays above the onset level for
   ``onset_min_s`` (10 s) of consecutive usable points after having been inside the band;
   its ``start_s`` is the first point above the band on the way up. Why these numbers: the
   slow, arousal-like heart-rate fluctuations of a seated adult have a standard deviation of
   about 2-4 beats/min on the 10-100 s scale, so 3 robust SDs held for 10 s is a rare event
   for such a background (on the simulator, 0.13 per hour over 15 hours of sessions without
   episodes, ``tests/biofeedback/test_episodes_sim.py``), while rises of 15 beats/min and
   more are found (recall above 90 %); the 8 beats/min floor keeps very steady people (small
   sigma) from turning ordinary conversation into episodes; 5 beats/min is about the
   heart-rate change of standing up from a chair or of speaking, the least that reads as
   "not back yet".
5. **Peak and settling.** ``peak_s`` is the highest smoothed point of the episode,
   ``rise_bpm`` its height above the reference. The episode **settles** at the first point
   after the peak back inside the band (``end_s``) provided the heart rate then stays below
   the midway level between band and onset for ``stay_s`` (20 s) of usable points (a new
   climb above it means the episode goes on). ``settle_s = end_s - peak_s``, the time from the
   peak back into the band. An episode still open when the record ends has ``end_s`` and
   ``settle_s`` ``None``.
6. **Gaps and artifacts never create or end an episode.** An onset needs the whole climb from
   inside the band to be observed without a missing point; a missing stretch while an episode
   runs neither ends it nor counts towards its settling.

The other person (dyads): over the episode (start to end, or to the end of the record),
``rose`` when the other had an episode of their own overlapping it or their smoothed heart rate
stayed above their own onset level for ``onset_min_s``; ``unknown`` when under
``other_min_valid`` (70 %) of that stretch is usable for them (gap, artifacts, no reference
yet); else ``steady``.

Streaming equals batch: :class:`EpisodeTracker` takes beats one by one;
:func:`hrv.episode_records.find_episodes` feeds a whole record through it, so a live session
and its later analysis give the same episodes (with a baseline reference, the live tracker
can only use it once the baseline has ended).

Whole records are searched by :mod:`hrv.episode_records` (the same trackers, fed a record
at once, so offline equals live).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CoregulationTracker",
    "Episode",
    "EpisodeParams",
    "EpisodeTracker",
    "Reference",
    "baseline_reference",
    "feed_record",
    "smoothed_hr",
]

_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class EpisodeParams:
    """Thresholds of the episode detector (module docstring for why these values).

    Attributes
    ----------
    smooth_s : int
        Width of the centred moving average, grid points (1 s each); odd.
    min_valid_in_smooth : int
        Fewest usable points inside the moving average for a smoothed value.
    max_beat_span_s : float
        Largest distance between two good beats to interpolate across, seconds.
    ref_window_s, ref_min_s : float
        Rolling reference: look-back, and the least usable history before detecting, seconds.
    band_bpm, band_sd : float
        Reference band half-width: ``max(band_bpm, band_sd * sigma)`` above the reference.
    onset_bpm, onset_sd : float
        Onset level: ``max(onset_bpm, onset_sd * sigma)`` above the reference.
    onset_min_s : int
        Consecutive usable seconds above the onset level that make an episode.
    stay_s : int
        Usable seconds the heart rate must stay down after re-entering the band to settle.
    other_min_valid : float
        Fraction of the episode that must be usable for the other person's response to be
        known.
    """

    smooth_s: int = 11
    min_valid_in_smooth: int = 8
    max_beat_span_s: float = 3.0
    ref_window_s: float = 300.0
    ref_min_s: float = 120.0
    band_bpm: float = 5.0
    band_sd: float = 2.0
    onset_bpm: float = 8.0
    onset_sd: float = 3.0
    onset_min_s: int = 10
    stay_s: int = 20
    other_min_valid: float = 0.7

    def __post_init__(self) -> None:
        if self.smooth_s < 1 or self.smooth_s % 2 == 0:
            raise ValueError(f"smooth_s must be odd and positive, not {self.smooth_s}")
        if not 1 <= self.min_valid_in_smooth <= self.smooth_s:
            raise ValueError("min_valid_in_smooth must be between 1 and smooth_s")
        if not 0 < self.band_bpm < self.onset_bpm:
            raise ValueError("band_bpm must be positive and below onset_bpm")


@dataclass(frozen=True)
class Reference:
    """A personal heart-rate reference: level and robust spread, beats/min."""

    median_bpm: float
    sigma_bpm: float

    def band_bpm(self, p: EpisodeParams) -> float:
        """Upper edge of the reference band, beats/min."""
        return self.median_bpm + max(p.band_bpm, p.band_sd * self.sigma_bpm)

    def onset_bpm(self, p: EpisodeParams) -> float:
        """Onset level, beats/min."""
        return self.median_bpm + max(p.onset_bpm, p.onset_sd * self.sigma_bpm)


@dataclass(frozen=True)
class Episode:
    """One activation-and-settling episode of one person.

    Attributes
    ----------
    person : str
    start_s, peak_s : float
        First second above the reference band on the way up; the highest smoothed point.
    end_s : float or None
        First second back inside the band for good; ``None`` when it did not settle in the
        record.
    rise_bpm : float
        Height of the peak above the reference, beats/min.
    settle_s : float or None
        ``end_s - peak_s``, seconds; ``None`` when it did not settle.
    reference_bpm : float
        The reference it was measured against, beats/min.
    other : str or None
        ``"steady"``, ``"rose"``, ``"unknown"``; ``None`` for a single person.
    """

    person: str
    start_s: float
    peak_s: float
    end_s: float | None
    rise_bpm: float
    settle_s: float | None
    reference_bpm: float
    other: str | None = None

    def contract(self) -> dict[str, object]:
        """The ``analyze --json`` form (without ``summary``)."""
        return {
            "person": self.person,
            "start_s": self.start_s,
            "peak_s": self.peak_s,
            "end_s": self.end_s,
            "rise_bpm": self.rise_bpm,
            "settle_s": self.settle_s,
            "other": self.other,
        }


@dataclass
class _Open:
    start: int
    ref: Reference
    peak: int
    peak_bpm: float
    end_candidate: int | None = None
    stay_count: int = 0
    settling: bool = False


class EpisodeTracker:
    """Streaming episode detection for one person (see the module docstring).

    Feed beats in time order with :meth:`add_beat` (artifact class final), recording gaps with
    :meth:`mark_gap`, and call :meth:`finish` at the end of the record. :attr:`state` is the
    current state; :attr:`episodes` the finished ones (``other`` unset: a
    :class:`CoregulationTracker` fills it for dyads).

    Parameters
    ----------
    person : str
    params : EpisodeParams, optional
    reference : Reference, optional
        A fixed reference (the resting baseline); ``None`` uses the rolling reference.
    """

    def __init__(
        self,
        person: str,
        params: EpisodeParams | None = None,
        reference: Reference | None = None,
    ) -> None:
        self.person = person
        self.params = params or EpisodeParams()
        self.fixed_reference = reference
        self.episodes: list[Episode] = []
        self.state: str | None = None
        # Grid (1 s): raw and smoothed heart rate, onset level per point; nan = missing.
        self._raw: list[float] = []
        self._smooth: list[float] = []
        self._onset: list[float] = []
        self._in_episode: list[bool] = []
        self._last_t: float | None = None  # last good beat
        self._last_hr = math.nan
        self._break = True  # no interpolation from the last good beat to the next one
        self._open: _Open | None = None
        self._last_in_band: int | None = None
        self._above_run = 0
        self._finished = False

    # -- input -----------------------------------------------------------------------------

    @property
    def processed_s(self) -> int:
        """Grid seconds fully processed (state and smoothed values final)."""
        return len(self._smooth)

    def add_beat(
        self, t_s: float, rr_ms: float, flagged: bool = False, after_gap: bool = False
    ) -> None:
        """One beat (its artifact class final). ``after_gap``: a recording gap lies before it,
        so nothing is interpolated across; flagged beats are left out."""
        if after_gap:
            self._break = True
        if flagged or not (rr_ms > 0 and math.isfinite(rr_ms)):
            return
        hr = 60000.0 / rr_ms
        k0 = len(self._raw)
        k1 = math.floor(t_s)
        if k1 >= k0:
            span_ok = (
                self._last_t is not None
                and not self._break
                and t_s - self._last_t <= self.params.max_beat_span_s
            )
            for k in range(k0, k1 + 1):
                if span_ok and self._last_t is not None and k > self._last_t:
                    w = (k - self._last_t) / (t_s - self._last_t)
                    self._raw.append(self._last_hr + w * (hr - self._last_hr))
                else:
                    self._raw.append(math.nan)
        self._last_t, self._last_hr, self._break = float(t_s), hr, False
        self._advance(final=False)

    def finish(self) -> None:
        """End of the record: process the last seconds and close an open episode unsettled."""
        if self._finished:
            return
        self._finished = True
        self._advance(final=True)
        if self._open is not None:
            o = self._open
            self.episodes.append(self._episode(o, None))
            self._open = None

    # -- processing ------------------------------------------------------------------------

    def _advance(self, *, final: bool) -> None:
        p = self.params
        half = p.smooth_s // 2
        raw = self._raw
        n_ready = len(raw) if final else len(raw) - half
        while len(self._smooth) < n_ready:
            k = len(self._smooth)
            win = [v for v in raw[max(0, k - half) : k + half + 1] if not math.isnan(v)]
            value = sum(win) / len(win) if len(win) >= p.min_valid_in_smooth else math.nan
            self._smooth.append(value)
            self._step(k, value)

    def _reference(self, k: int) -> Reference | None:
        if self.fixed_reference is not None:
            return self.fixed_reference
        p = self.params
        lo = max(0, k - int(p.ref_window_s))
        vals = np.asarray(self._smooth[lo:k], dtype=np.float64)
        use = np.asarray(self._in_episode[lo:k], dtype=bool)
        vals = vals[~use & ~np.isnan(vals)]
        if vals.size < p.ref_min_s:
            return None
        med = float(np.median(vals))
        return Reference(med, _MAD_TO_SD * float(np.median(np.abs(vals - med))))

    def _step(self, k: int, v: float) -> None:
        p = self.params
        o = self._open
        if o is None:
            ref = self._reference(k)
            self._onset.append(ref.onset_bpm(p) if ref is not None else math.nan)
            self._in_episode.append(False)
            if ref is None or math.isnan(v):
                # Missing data (or no reference yet): a climb must be seen whole.
                self._last_in_band = None
                self._above_run = 0
                return
            if v <= ref.band_bpm(p):
                self._last_in_band = k
                self._above_run = 0
                return
            if v > ref.onset_bpm(p):
                self._above_run += 1
            else:
                self._above_run = 0
            if self._above_run >= p.onset_min_s and self._last_in_band is not None:
                start = self._last_in_band + 1
                seg = self._smooth[start : k + 1]
                peak = start + int(np.nanargmax(seg))
                self._open = _Open(start, ref, peak, float(self._smooth[peak]))
                for j in range(start, k + 1):
                    self._in_episode[j] = True
                self.state = "rising"
            return
        # Inside an episode: reference frozen at its start.
        ref = o.ref
        self._onset.append(ref.onset_bpm(p))
        self._in_episode.append(True)
        if math.isnan(v):
            return  # a gap neither ends an episode nor counts towards settling
        if v > o.peak_bpm:
            o.peak, o.peak_bpm = k, v
            o.end_candidate, o.stay_count, o.settling = None, 0, False
            self.state = "rising"
            return
        rise = o.peak_bpm - ref.median_bpm
        if not o.settling and o.peak_bpm - v >= 0.25 * rise:
            o.settling = True
            self.state = "settling"
        stay_level = 0.5 * (ref.band_bpm(p) + ref.onset_bpm(p))
        if o.end_candidate is None:
            if v <= ref.band_bpm(p):
                o.end_candidate, o.stay_count = k, 1
                o.settling = True
                self.state = "settling"
        elif v <= stay_level:
            o.stay_count += 1
        else:
            o.end_candidate, o.stay_count = None, 0
        if o.end_candidate is not None and o.stay_count >= p.stay_s:
            end = o.end_candidate
            self.episodes.append(self._episode(o, end))
            # The episode's points stay out of the rolling reference; the points after its
            # end (the stay) count as ordinary data again.
            for j in range(end + 1, k + 1):
                self._in_episode[j] = False
            self._open = None
            self._last_in_band = k if v <= ref.band_bpm(p) else None
            self._above_run = 0
            self.state = "settled"

    def _episode(self, o: _Open, end: int | None) -> Episode:
        return Episode(
            person=self.person,
            start_s=float(o.start),
            peak_s=float(o.peak),
            end_s=float(end) if end is not None else None,
            rise_bpm=float(o.peak_bpm - o.ref.median_bpm),
            settle_s=float(end - o.peak) if end is not None else None,
            reference_bpm=o.ref.median_bpm,
        )

    def reference_over(self, start_s: float, end_s: float) -> Reference | None:
        """Reference from this person's own smoothed heart rate between two session times (a
        resting baseline seen live); ``None`` with under 30 usable seconds in it."""
        a, b = max(0, math.ceil(start_s)), math.floor(end_s) + 1
        return _robust_reference(np.asarray(self._smooth[a:b], dtype=np.float64))

    # -- for the other person's response ---------------------------------------------------

    def response_over(self, start_s: float, end_s: float, episodes: Sequence[Episode]) -> str:
        """What this person's heart rate did over ``[start_s, end_s]``: ``steady``, ``rose`` or
        ``unknown`` (see the module docstring); ``episodes`` are this person's episodes."""
        p = self.params
        a, b = int(start_s), int(end_s)
        for e in episodes:
            e_end = e.end_s if e.end_s is not None else math.inf
            if e.start_s <= b and e_end >= a:
                return "rose"
        if self._open is not None and self._open.start <= b:
            return "rose"
        n = b - a + 1
        sm = np.full(n, np.nan)
        on = np.full(n, np.nan)
        have = self._smooth[a : b + 1]
        sm[: len(have)] = have
        on[: len(have)] = self._onset[a : b + 1]
        usable = ~np.isnan(sm) & ~np.isnan(on)
        if n <= 0 or np.count_nonzero(usable) < p.other_min_valid * n:
            return "unknown"
        run = 0
        for above in usable & (np.where(usable, sm, -np.inf) > np.where(usable, on, np.inf)):
            run = run + 1 if above else 0
            if run >= p.onset_min_s:
                return "rose"
        return "steady"


class CoregulationTracker:
    """Episode trackers for one or two people, with the other person's response.

    Parameters
    ----------
    people : sequence of str
        One or two roles.
    params : EpisodeParams, optional
    references : mapping role -> Reference, optional
        Fixed (baseline) references; roles without one use the rolling reference.
    """

    def __init__(
        self,
        people: Sequence[str],
        params: EpisodeParams | None = None,
        references: Mapping[str, Reference] | None = None,
    ) -> None:
        if not 1 <= len(people) <= 2:
            raise ValueError("co-regulation episodes are tracked for one or two people")
        self.params = params or EpisodeParams()
        refs = references or {}
        self.trackers = {r: EpisodeTracker(r, self.params, refs.get(r)) for r in people}
        self.reference = "baseline" if refs else "rolling"

    def add_beat(
        self, person: str, t_s: float, rr_ms: float, flagged: bool = False, after_gap: bool = False
    ) -> None:
        """One beat of one person (see :meth:`EpisodeTracker.add_beat`)."""
        self.trackers[person].add_beat(t_s, rr_ms, flagged, after_gap)

    def set_reference(self, person: str, reference: Reference) -> None:
        """Use a fixed (baseline) reference for this person from now on."""
        self.trackers[person].fixed_reference = reference
        self.reference = "baseline"

    def finish(self) -> None:
        for tr in self.trackers.values():
            tr.finish()

    def states(self) -> dict[str, str | None]:
        """Each person's current state: ``rising``, ``settling``, ``settled`` or ``None``."""
        return {r: tr.state for r, tr in self.trackers.items()}

    def episodes(self) -> list[Episode]:
        """Finished episodes (all of them after :meth:`finish`) in start order, with ``other``.

        For a dyad, an episode is listed once the other person's data reach its end (or the
        record has ended), so its ``other`` never changes afterwards.
        """
        out: list[Episode] = []
        roles = list(self.trackers)
        for r in roles:
            tr = self.trackers[r]
            for e in tr.episodes:
                if len(roles) == 1:
                    out.append(e)
                    continue
                other = self.trackers[roles[1 - roles.index(r)]]
                until = e.end_s if e.end_s is not None else float(tr.processed_s - 1)
                if not other._finished and other.processed_s <= until:
                    continue
                out.append(replace(e, other=other.response_over(e.start_s, until, other.episodes)))
        return sorted(out, key=lambda e: (e.start_s, e.person))


# -- batch -----------------------------------------------------------------------------------


def smoothed_hr(
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    flagged: NDArray[np.bool_] | None = None,
    after_gap: NDArray[np.bool_] | None = None,
    params: EpisodeParams | None = None,
) -> NDArray[np.float64]:
    """The detector's smoothed 1 Hz heart rate (beats/min; index = second), ``nan`` = missing."""
    tr = EpisodeTracker("", params, reference=Reference(0.0, 0.0))
    feed_record(tr, t_s, rr_ms, flagged, after_gap)
    tr.finish()
    return np.asarray(tr._smooth, dtype=np.float64)


def baseline_reference(
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    stretch: tuple[float, float],
    flagged: NDArray[np.bool_] | None = None,
    after_gap: NDArray[np.bool_] | None = None,
    params: EpisodeParams | None = None,
) -> Reference | None:
    """Reference from a resting-baseline stretch: median and 1.4826 MAD of the smoothed heart
    rate inside it; ``None`` when under 30 usable seconds."""
    sm = smoothed_hr(t_s, rr_ms, flagged, after_gap, params)
    a, b = max(0, math.ceil(stretch[0])), min(sm.size, math.floor(stretch[1]) + 1)
    return _robust_reference(sm[a:b])


def _robust_reference(values: NDArray[np.float64], min_n: int = 30) -> Reference | None:
    """Median and 1.4826 MAD of the usable values; ``None`` with fewer than ``min_n``."""
    vals = values[~np.isnan(values)]
    if vals.size < min_n:
        return None
    med = float(np.median(vals))
    return Reference(med, _MAD_TO_SD * float(np.median(np.abs(vals - med))))


def feed_record(
    tr: EpisodeTracker,
    t_s: NDArray[np.float64],
    rr_ms: NDArray[np.float64],
    flagged: NDArray[np.bool_] | None,
    after_gap: NDArray[np.bool_] | None,
) -> None:
    """Feed a whole record (beat times s, RR ms, optional artifact and after-gap marks) to a
    tracker beat by beat, as the live engine would."""
    t = np.asarray(t_s, dtype=np.float64).tolist()
    rr = np.asarray(rr_ms, dtype=np.float64).tolist()
    n = len(t)
    fl = [False] * n if flagged is None else np.asarray(flagged, dtype=bool).tolist()
    ag = [False] * n if after_gap is None else np.asarray(after_gap, dtype=bool).tolist()
    for i in range(n):
        tr.add_beat(t[i], rr[i], fl[i], ag[i])
