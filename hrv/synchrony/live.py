"""Live windowed synchrony with a time-offset chance band, in bounded memory and time.

Each person's HR grid is built beat by beat in a ring buffer with the rule of
:func:`hrv.synchrony.hr_grid` and low-passed by the same causal filter as offline, so a live
value equals :func:`hrv.synchrony.windowed_cross_correlation` on the low-passed grid for the
same window. A reading describes the latest window whose client slices are complete, so it is
at least ``max_lag_s`` old. The chance band pairs the current window of one person with the
other's from other times (time-offset pairings), in-phase and anti-phase apart.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hrv.pacer_schedule import pacer_rate_at

from .grid import LowPass
from .kernel import fisher_z, lag_samples, lagged_sums, r_from_sums, t_side
from .pacing import pacer_strong, shared_rhythm_segments
from .params import SynchronyParams, resolve_params
from .windowed import peak_strength

__all__ = ["LiveSnapshot", "LiveSynchrony", "RoleBuffer"]

FloatArray = NDArray[np.float64]

_ROLES = ("therapist", "client")
#: Consecutive minutes of a shared rhythm before a live reading counts it as pacer-driven.
_SHARED_WINDOWS = 3
#: How far (s) a stored fit may be from a whole minute back (readings need not come each second).
_SHARED_SLACK_S = 10.0
#: A new shared-rhythm fit at most this often (s): a 60 s window moves little in between.
_SHARED_EVERY_S = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveSnapshot:
    """One live synchrony reading. In-phase and anti-phase are kept apart, each with its band.

    Attributes
    ----------
    t_s : float
        The ``now_s`` passed to :meth:`LiveSynchrony.update`.
    window_end_s : float
        End (s) of the therapist window the value describes; the client slices reach
        ``max_lag_s`` further, so ``window_end_s <= t_s - max_lag_s``.
    latency_s : float
        ``t_s - window_end_s``: ``max_lag_s`` (plus up to one grid step) when beats arrive on
        time, more while a strap's beats are late.
    value : float
        In-phase strength: Fisher z of the Boker peak (r > 0) nearest lag 0, 0 when the window
        has no in-phase peak; ``nan`` when there is no usable window.
    lag_s : float
        Lag (s) of that peak (positive: client leads); ``nan`` without a peak.
    band : tuple of float or None
        ``(low, high)``: 5th and 95th percentiles of the same in-phase strength over time-offset
        pairings (the therapist's current window with the client's from at least
        ``min_offset_s`` earlier, and the reverse); ``None`` until ``min_offsets`` pairings exist.
    anti_value, anti_lag_s, anti_band :
        The same for the anti-phase trough (r < 0), as a positive strength ``|z|``.
    z0 : float
        Signed Fisher z at lag 0.
    phase : str or None
        ``"in-phase"`` when ``value`` is above its band, else ``"anti-phase"`` when
        ``anti_value`` is above its band, else ``None``. In-phase wins when both are: a lagged
        in-phase peak of smooth signals brings negative side lobes with it.
    leader : str or None
        For the phase above its band: ``"client"`` (lag > 0), ``"therapist"`` (lag < 0) or
        ``"none"`` (lag 0); ``None`` when neither is above its band.
    pacer_driven : bool
        Both people's RR follow the running pacer strongly (last 60 s of beats), or, with no
        pacer running, one strong slow rhythm found in both people's beats in each of the last
        three minutes (see :meth:`LiveSynchrony.update`).
    status : str
        Plain-words state for a display.
    n_offsets : int
        Pairings behind the bands.
    shared_rhythm_bpm : float
        Rate (per minute) of the rhythm found in both people's beats when that made the reading
        pacer-driven; ``nan`` otherwise.
    """

    t_s: float
    window_end_s: float
    latency_s: float
    value: float
    lag_s: float
    band: tuple[float, float] | None
    anti_value: float
    anti_lag_s: float
    anti_band: tuple[float, float] | None
    z0: float
    phase: str | None
    leader: str | None
    pacer_driven: bool
    status: str
    n_offsets: int
    shared_rhythm_bpm: float = math.nan


class RoleBuffer:
    """One person's HR grid as a ring buffer, filled beat by beat like :func:`hr_grid`.

    Parameters
    ----------
    size : int
        Grid samples kept.
    fs_hz, gap_s : float
        Grid rate (Hz); good beats further apart than ``gap_s`` (s) are not bridged.
    beat_keep_s : float
        Raw beats kept (s) for the pacer fit.
    lowpass : LowPass or None
        Filter applied to each new stretch of grid as it becomes final.
    """

    def __init__(
        self, size: int, fs_hz: float, gap_s: float, beat_keep_s: float, lowpass: LowPass | None
    ) -> None:
        self.lowpass = lowpass
        self.size = size
        self.fs = fs_hz
        self.gap_s = gap_s
        self.buf = np.full(size, np.nan)
        self.filled = 0  # grid indices < filled are final
        self.last: tuple[float, float, bool] | None = None  # (t_s, hr_bpm, flagged)
        self.beats: deque[tuple[float, float, bool]] = deque()
        self.beat_keep_s = beat_keep_s
        self.heard_s = -math.inf  # newest beat time received, classified or not (s)
        self.silent_until_s = -math.inf  # end of the last silence longer than gap_s (s)

    def add(self, t: float, rr: float, flagged: bool) -> None:
        """Add one beat: time (s), RR (ms), artifact flag; out-of-order beats are ignored."""
        self.hear(t)
        if self.last is not None and t <= self.last[0]:
            return  # out of order or duplicate: ignore
        bad = flagged or not (math.isfinite(rr) and rr > 0 and math.isfinite(t))
        self.beats.append((t, rr, bad))
        while self.beats and self.beats[0][0] < t - self.beat_keep_s:
            self.beats.popleft()
        if bad:
            return  # left out, as in hr_grid: the next good beat interpolates or blanks
        hr = 60000.0 / rr
        hi = math.floor(t * self.fs) + 2
        lo = max(self.filled, hi - 3 - self.size)
        idx = np.arange(lo, hi)
        g = idx / self.fs
        idx, g = idx[g <= t], g[g <= t]
        if self.last is None:
            vals = np.full(idx.size, np.nan)
        else:
            t0, h0, b0 = self.last
            span = t - t0
            if b0 or bad or span > self.gap_s:
                vals = np.full(idx.size, np.nan)
            else:
                vals = np.where(g > t0, h0 + (g - t0) / span * (hr - h0), np.nan)
        if self.lowpass is not None:
            if idx.size and idx[0] > self.filled:
                self.lowpass.zi = None  # skipped samples were a gap
            vals = self.lowpass(vals)
        if idx.size:
            self.buf[idx % self.size] = vals
            self.filled = int(idx[-1]) + 1
        self.last = (t, hr, bad)

    def hear(self, t: float) -> None:
        """Note a beat received at ``t`` (s), and the end of the silence it may close."""
        if not math.isfinite(t) or t <= self.heard_s:
            return
        if t - self.heard_s > self.gap_s and math.isfinite(self.heard_s):
            self.silent_until_s = t
        self.heard_s = t

    def blank(self, start_s: float, end_s: float) -> None:
        """Blank already gridded samples between two times (s)."""
        lo = max(math.ceil(start_s * self.fs - 1e-9), self.filled - self.size)
        hi = min(math.floor(end_s * self.fs + 1e-9) + 1, self.filled)
        if hi > lo:
            self.buf[np.arange(lo, hi) % self.size] = np.nan

    def get(self, idx: NDArray[np.intp]) -> FloatArray:
        """Grid values at indices ``idx``; ``nan`` where not final yet or no longer kept."""
        ok = (idx >= 0) & (idx < self.filled) & (idx >= self.filled - self.size)
        return np.where(ok, self.buf[idx % self.size], np.nan)

    def recent_beats(self, lo: float, hi: float) -> tuple[FloatArray, FloatArray]:
        """Good beats ``(t_s, rr_ms)`` with ``lo <= t <= hi`` among those kept."""
        arr = [(t, rr) for t, rr, b in self.beats if lo <= t <= hi and not b]
        if not arr:
            return np.empty(0), np.empty(0)
        a = np.asarray(arr)
        return a[:, 0], a[:, 1]


class LiveSynchrony:
    """Live windowed synchrony with a time-offset chance band, bounded memory and cost.

    Feed beats of both roles with :meth:`add_beat` (or :meth:`add_beats`) as they arrive and call
    :meth:`update` once a second. The grid is built beat by beat with the same rule as
    :func:`hrv.synchrony.hr_grid` (``t_start_s = 0``) and low-passed by the same causal filter
    as :func:`hrv.synchrony.synchrony`, so live values equal
    :func:`hrv.synchrony.windowed_cross_correlation` on ``lowpass(hr_grid(...))`` for the same
    window. Only ``history_s`` of grid (default 20 min) is kept, in ring buffers, and at most
    ``2 * n_offsets`` pairings are computed per update, so the cost of an update does not grow
    with session length.

    Parameters
    ----------
    pacer : sequence of (t_s, rate_bpm)
        Initial pacer schedule (breaths/min, 0 = off); extend with :meth:`set_pacer`.
    params : SynchronyParams, optional
        Uses the grid, window, lag, ``max_missing``, low-pass and pacer fields, ``history_s``,
        ``n_offsets`` (offsets for the band, each used in both directions), ``min_offset_s``
        (smallest offset: paired windows share no sample), ``offset_step_s`` and
        ``min_offsets`` (fewer valid pairings: band ``None``, status "not enough data yet"),
        and ``gap_s``: a strap silent for longer than that gives "signal gap" at once, not the
        last complete window again (see :meth:`heard`).
    **overrides
        Any field of :class:`SynchronyParams` (e.g. ``history_s=120``).
    """

    def __init__(
        self,
        *,
        pacer: Sequence[tuple[float, float]] = (),
        params: SynchronyParams | None = None,
        **overrides: Any,
    ) -> None:
        p = resolve_params(params, overrides)
        self.params = p
        fs_hz = p.fs_hz
        self._w = p.window_samples
        self._lags = lag_samples(p.max_lag_s, fs_hz)
        self._lags_s = self._lags / fs_hz
        self._half_width = max(1, round(p.peak_half_width_s * fs_hz))
        self._lmax = int(self._lags[-1])
        self._size = max(round(p.history_s * fs_hz), self._w + 2 * self._lmax + 1)
        self._n_offsets = p.n_offsets
        self._min_offset = round(p.min_offset_s * fs_hz)
        self._min_offsets = p.min_offsets
        self._offset_step = max(1, round(p.offset_step_s * fs_hz))
        self._min_count = p.min_count
        keep = _SHARED_WINDOWS * p.pacer_fit_window_s + 5.0
        # (time, shared rate or nan) of the last few minutes' shared-rhythm fits.
        self._shared: deque[tuple[float, float]] = deque()

        def lowpass() -> LowPass | None:
            if p.lowpass_hz is None:
                return None
            return LowPass(fs_hz, p.lowpass_hz, p.lowpass_settle_s, p.lowpass_order)

        self._roles = {r: RoleBuffer(self._size, fs_hz, p.gap_s, keep, lowpass()) for r in _ROLES}
        self._pacer = sorted(((float(a), float(b)) for a, b in pacer), key=lambda c: c[0])

    def add_beat(self, role: str, t_s: float, rr_ms: float, artifact: bool = False) -> None:
        """Add one beat of ``role`` ("therapist" or "client"): time (s) and RR (ms)."""
        self._roles[role].add(float(t_s), float(rr_ms), bool(artifact))

    def heard(self, role: str, t_s: float) -> None:
        """A beat of ``role`` at ``t_s`` (s) arrived but is not added yet.

        For callers that add beats only once their artifact class is final, a few beats late:
        :meth:`update` tells a silent strap (no beat heard for more than ``gap_s``) from that
        delay, and reports a signal gap at once instead of a reading that grows stale.
        """
        self._roles[role].hear(float(t_s))

    def add_beats(
        self, role: str, t_s: ArrayLike, rr_ms: ArrayLike, artifact: ArrayLike | None = None
    ) -> None:
        """Add several beats of ``role`` in time order."""
        t = np.asarray(t_s, dtype=np.float64).ravel()
        rr = np.asarray(rr_ms, dtype=np.float64).ravel()
        fl = np.zeros(t.size, bool) if artifact is None else np.asarray(artifact, bool).ravel()
        for a, b, c in zip(t.tolist(), rr.tolist(), fl.tolist(), strict=True):
            self._roles[role].add(a, b, c)

    def mark_gap(self, role: str, start_s: float, end_s: float) -> None:
        """Blank already gridded data of ``role`` between two times (s)."""
        self._roles[role].blank(start_s, end_s)

    def set_pacer(self, t_s: float, rate_bpm: float) -> None:
        """The pacer runs at ``rate_bpm`` breaths/min from ``t_s`` on (0 = off)."""
        self._pacer.append((float(t_s), float(rate_bpm)))
        self._pacer.sort(key=lambda c: c[0])  # stable: at one time the later change wins
        if len(self._pacer) > 64:  # keep the schedule bounded: only the rate in force matters
            self._pacer = self._pacer[-64:]

    def _pacer_driven(self, now_s: float) -> tuple[bool, float]:
        """``(pacer_driven, shared rate)``: the running pacer, or else a rhythm found in the beats.

        Without a pacer, one strong slow rhythm must show in both people's last 60 s of beats
        now, a minute ago and two minutes ago, at rates within ``shared_max_diff_bpm`` of each
        other: single minutes with a strong slow wave in both are what coupled slow heart-rate
        changes can look like too (as offline, where most of the stretch must show it).
        """
        rate = pacer_rate_at(self._pacer, now_s)
        p = self.params
        lo = now_s - p.pacer_fit_window_s
        if rate > 0:
            self._shared.clear()
            f = rate / 60.0
            return all(
                pacer_strong(
                    *b.recent_beats(lo, now_s), f, p.pacer_min_amplitude_ms, p.pacer_min_r2
                )
                for b in self._roles.values()
            ), math.nan
        if not self._shared or now_s - self._shared[-1][0] >= _SHARED_EVERY_S:
            therapist, client = (
                (t, rr, np.ones(t.size, bool))
                for t, rr in (self._roles[r].recent_beats(lo, now_s) for r in _ROLES)
            )
            mid = np.array([now_s - p.pacer_fit_window_s / 2])
            (found,) = shared_rhythm_segments(mid, therapist, client, p)
            self._shared.append((now_s, float(found)))
        horizon = now_s - (_SHARED_WINDOWS - 1) * p.pacer_fit_window_s - _SHARED_SLACK_S
        while self._shared and self._shared[0][0] < horizon:
            self._shared.popleft()
        rates = []
        for k in range(_SHARED_WINDOWS):
            target = now_s - k * p.pacer_fit_window_s
            near = min(self._shared, key=lambda x: abs(x[0] - target))
            if abs(near[0] - target) > _SHARED_SLACK_S or not math.isfinite(near[1]):
                return False, math.nan
            rates.append(near[1])
        if max(rates) - min(rates) > p.shared_max_diff_bpm + 1e-9:
            return False, math.nan
        return True, float(np.median(rates))

    def update(self, now_s: float) -> LiveSnapshot:
        """Compute the reading for the latest complete window at ``now_s`` (s, session clock)."""
        th, cl = self._roles["therapist"], self._roles["client"]
        fs, w, lmax = self.params.fs_hz, self._w, self._lmax
        pacer, shared_bpm = self._pacer_driven(now_s)
        now_i = math.floor(now_s * fs + 1e-9) + 1
        avail = min(now_i, th.filled, cl.filled)
        end = avail - lmax
        a = end - w
        window_end_s = end / fs
        nan = math.nan

        def snap(
            vals: tuple[float, float, float, float] = (nan, nan, nan, nan),
            bands: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None),
            z0: float = nan,
            phase: str | None = None,
            leader: str | None = None,
            status: str = "",
            n_off: int = 0,
        ) -> LiveSnapshot:
            return LiveSnapshot(
                t_s=float(now_s), window_end_s=window_end_s, latency_s=float(now_s) - window_end_s,
                value=vals[0], lag_s=vals[1], band=bands[0], anti_value=vals[2],
                anti_lag_s=vals[3], anti_band=bands[1], z0=z0, phase=phase, leader=leader,
                pacer_driven=pacer, status=status, n_offsets=n_off, shared_rhythm_bpm=shared_bpm,
            )  # fmt: skip

        if a - lmax < 0 or th.last is None or cl.last is None:
            return snap(status="not enough data yet")
        silent = now_s - min(th.heard_s, cl.heard_s) > self.params.gap_s
        if silent or window_end_s < max(th.silent_until_s, cl.silent_until_s):
            # One strap is silent for longer than a gap, or the window still ends before a
            # silence just over: repeating the last complete window would show a stale reading.
            return snap(status="signal gap: waiting for clean beats from both straps")
        ar = np.arange(w)
        ar_ext = np.arange(-lmax, w + lmax)
        x_cur = th.get(a + ar)
        c_now = cl.get(a + ar_ext)
        z = self._z(x_cur[None], c_now[None])
        if not np.all(np.isfinite(z)):
            return snap(status="signal gap: waiting for clean beats from both straps")
        cur = peak_strength(z, self._lags_s, self._half_width)
        vals = (float(cur[0][0]), float(cur[1][0]), float(cur[2][0]), float(cur[3][0]))
        z0 = float(z[0, lmax])

        # Chance bands: the current window of one person against the other's from other times.
        oldest = max(th.filled - self._size, cl.filled - self._size, 0)
        max_off = a - lmax - oldest
        bands: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)
        n_off = 0
        if max_off >= self._min_offset:
            k = min(self._n_offsets, (max_off - self._min_offset) // self._offset_step + 1)
            offs = np.unique(np.linspace(self._min_offset, max_off, k).astype(np.intp))
            past = a - offs
            xs = np.concatenate([np.repeat(x_cur[None], offs.size, 0), th.get(past[:, None] + ar)])
            c_past = cl.get(past[:, None] + ar_ext)
            ys = np.concatenate([c_past, np.repeat(c_now[None], offs.size, 0)])
            zz = self._z(xs, ys)
            good = np.all(np.isfinite(zz), axis=1)
            n_off = int(good.sum())
            if n_off >= self._min_offsets:
                s_in, _, s_anti, _ = peak_strength(zz[good], self._lags_s, self._half_width)
                bands = (
                    (float(np.percentile(s_in, 5)), float(np.percentile(s_in, 95))),
                    (float(np.percentile(s_anti, 5)), float(np.percentile(s_anti, 95))),
                )
        if bands[0] is None or bands[1] is None:
            return snap(vals, (None, None), z0, status="not enough data yet", n_off=n_off)
        phase = None
        lag = nan
        if vals[0] > bands[0][1]:
            phase, lag = "in-phase", vals[1]
        elif vals[2] > bands[1][1]:
            phase, lag = "anti-phase", vals[3]
        leader = None
        if phase is not None:
            step = 0.5 / fs
            leader = "client" if lag > step else "therapist" if lag < -step else "none"
        if pacer and math.isfinite(shared_bpm):
            status = "both breathing to the same rhythm"
        elif pacer:
            status = "both following the pacer"
        elif phase is not None:
            status = "more synchrony than the chance band"
        else:
            status = "within the chance band"
        return snap(vals, bands, z0, phase, leader, status, n_off)

    def _z(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Fisher z for therapist slices ``(P, w)`` and client stretches ``(P, w + 2 lmax)``."""
        s = lagged_sums(t_side(x), y, self._w)
        return fisher_z(r_from_sums(s, self._min_count))
