"""The report's over-time series: per person heart rate, RMSSD, RSA and irregular intervals, and
the two people's synchrony with its chance band.

Every series is computed from the same artifact-corrected beats that ``analyze`` uses
(:func:`biofeedback.analysis.detect_artifacts`), in windows that step through the session:

* heart rate per beat, ``60000 / rr_ms`` (beats/min), broken (``nan``) at recording gaps;
* RMSSD over the last 60 s, ``sqrt(mean(d^2))`` of the successive differences ``d`` whose two
  intervals lie in the window and that do not span a gap (Task Force 1996,
  doi:10.1161/01.CIR.93.5.1043); ``nan`` with fewer than 20 differences;
* RSA amplitude over the last 60 s, the sine fit of :func:`hrv.rsa.rsa_at_rate` at the pacer
  rate while a pacer runs through the whole window, otherwise at the breathing rate estimated
  from the same window (:func:`hrv.rsa.estimate_breathing_rate`, spontaneous band);
* irregular intervals: the share (%) of intervals the artifact check flagged in each window;
* synchrony: the live definition replayed over the whole record
  (:class:`hrv.synchrony.LiveSynchrony`), so the report shows the in-phase strength and the
  chance band (5th-95th percentile of the same two people paired at other times) that the live
  view showed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback.analysis import RoleSeries, SessionInput, _corrected_breaks, detect_artifacts
from hrv.artifacts import ArtifactResult
from hrv.rsa import SPONTANEOUS_BREATH_BAND_HZ, estimate_breathing_rate, rsa_at_rate
from hrv.synchrony import LiveSynchrony

__all__ = ["PersonTimeline", "SyncTimeline", "person_timeline", "step_for", "sync_timeline"]

FloatArray = NDArray[np.float64]
Progress = Callable[[float], None]

WINDOW_S = 60.0
MIN_DIFFS = 20


@dataclass(frozen=True)
class PersonTimeline:
    """One person's series for the report.

    Attributes
    ----------
    role : str
    beat_t_s, hr_bpm : ndarray
        Corrected beat times (s) and heart rate (beats/min); ``nan`` rows mark gaps.
    win_t_s : ndarray
        End time (s) of each 60 s window.
    rmssd_ms, rsa_ms, irregular_pct : ndarray
        Per window: RMSSD (ms), RSA amplitude (ms) and flagged intervals (% of the window's).
    hr_win_bpm : ndarray
        Per window: mean heart rate, ``60000 / mean RR`` (beats/min); ``nan`` under 30 beats.
    rsa_paced : ndarray of bool
        Per window: the RSA was fitted at the pacer rate (else at the estimated breathing rate).
    """

    role: str
    beat_t_s: FloatArray
    hr_bpm: FloatArray
    win_t_s: FloatArray
    rmssd_ms: FloatArray
    rsa_ms: FloatArray
    rsa_paced: NDArray[np.bool_]
    irregular_pct: FloatArray
    hr_win_bpm: FloatArray


@dataclass(frozen=True)
class SyncTimeline:
    """Synchrony over the session, as the live view computes it.

    Attributes
    ----------
    t_s : ndarray
        Reading times (s).
    strength, band_lo, band_hi : ndarray
        In-phase strength (Fisher z of the Boker peak nearest lag 0) and its chance band;
        ``nan`` where no reading or band exists.
    pacer_driven : ndarray of bool
        Both people following the pacer at that reading.
    """

    t_s: FloatArray
    strength: FloatArray
    band_lo: FloatArray
    band_hi: FloatArray
    pacer_driven: NDArray[np.bool_]


def step_for(duration_s: float) -> float:
    """Window step (s): 10 s for short sessions, coarser so a long one has about 600 windows."""
    return float(max(10.0, math.ceil(duration_s / 600.0 / 5.0) * 5.0))


def _corrected(
    s: RoleSeries, found: ArtifactResult | None
) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    if found is None or not found.n_flagged or found.t_s is None:
        return s.t_s, s.rr_ms, s.breaks
    return found.t_s, found.rr_ms, _corrected_breaks(found.source_index, s.breaks)


def _pacer_at(changes: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    """``(rate_bpm, start_s)`` of the pacer running at ``t`` (rate 0 when off)."""
    rate, start = 0.0, 0.0
    for ts, r in changes:
        if ts <= t:
            if r != rate:
                start = ts
            rate = r
    return rate, start


def person_timeline(
    data: SessionInput,
    role: str,
    found: ArtifactResult | None,
    *,
    t_end_s: float,
    progress: Progress | None = None,
) -> PersonTimeline:
    """Heart rate, windowed RMSSD, RSA and irregular intervals of one person (see module doc)."""
    s = data.series[role]
    t, rr, breaks = _corrected(s, found)
    hr = 60000.0 / rr if rr.size else np.empty(0)
    # Heart-rate line: a nan row before each beat that follows a gap.
    if breaks.size:
        bt = np.insert(t, breaks, np.nan)
        bh = np.insert(hr, breaks, np.nan)
    else:
        bt, bh = t, hr
    step = step_for(t_end_s)
    win = np.arange(WINDOW_S, max(t_end_s, WINDOW_S) + 1e-9, step)
    # RMSSD from cumulative sums of valid successive differences (dated by their later beat).
    valid = np.ones(max(rr.size - 1, 0), bool)
    b = breaks[(breaks >= 1) & (breaks < rr.size)]
    valid[b - 1] = False
    d2 = np.where(valid, np.diff(rr) ** 2, 0.0)
    c_d2 = np.concatenate([[0.0], np.cumsum(d2)])
    c_n = np.concatenate([[0], np.cumsum(valid)])
    td = t[1:] if t.size else t
    # A difference belongs to the window when both of its beats do: the earlier beat's time
    # is t[i], so require t[i] > window start, i.e. the later beat index >= first index + 1.
    lo = np.searchsorted(t, win - WINDOW_S, side="right")
    hi = np.searchsorted(td, win, side="right")
    lo_d = np.minimum(lo, hi)
    n = c_n[hi] - c_n[lo_d]
    c_rr = np.concatenate([[0.0], np.cumsum(rr)])
    w_lo = np.searchsorted(t, win - WINDOW_S, side="right")
    w_hi = np.searchsorted(t, win, side="right")
    w_n = w_hi - w_lo
    hr_win = np.where(w_n >= 30, 60000.0 * w_n / np.maximum(c_rr[w_hi] - c_rr[w_lo], 1e-9), np.nan)
    rmssd = np.where(n >= MIN_DIFFS, np.sqrt((c_d2[hi] - c_d2[lo_d]) / np.maximum(n, 1)), np.nan)
    # Irregular intervals per window, on the original beats.
    flags = found.flags > 0 if found is not None else np.zeros(s.rr_ms.size, bool)
    c_f = np.concatenate([[0], np.cumsum(flags)])
    olo = np.searchsorted(s.t_s, win - WINDOW_S, side="right")
    ohi = np.searchsorted(s.t_s, win, side="right")
    on = ohi - olo
    irregular = np.where(on >= 10, 100.0 * (c_f[ohi] - c_f[olo]) / np.maximum(on, 1), np.nan)
    # RSA per window.
    pacer = data.pacer_changes()
    rsa = np.full(win.size, np.nan)
    paced = np.zeros(win.size, bool)
    wlo = np.searchsorted(t, win - WINDOW_S, side="right")
    whi = np.searchsorted(t, win, side="right")
    for k, end in enumerate(win.tolist()):
        a, z = int(wlo[k]), int(whi[k])
        if z - a < 30:
            continue
        rate_end, start_end = _pacer_at(pacer, end)
        rate_begin, start_begin = _pacer_at(pacer, end - WINDOW_S)
        if rate_end > 0 and rate_end == rate_begin and start_end == start_begin:
            fit = rsa_at_rate(t[a:z], rr[a:z], rate_end, start_end)
            paced[k] = True
        else:
            br = estimate_breathing_rate(t[a:z], rr[a:z], band_hz=SPONTANEOUS_BREATH_BAND_HZ)
            if not math.isfinite(br):
                continue
            fit = rsa_at_rate(t[a:z], rr[a:z], br, float(t[a]))
        rsa[k] = fit.amplitude_ms
        if progress is not None and k % 50 == 0:
            progress(k / win.size)
    if progress is not None:
        progress(1.0)
    return PersonTimeline(role, bt, bh, win, rmssd, rsa, paced, irregular, hr_win)


def sync_timeline(
    data: SessionInput,
    found: dict[str, ArtifactResult | None],
    *,
    t_end_s: float,
    progress: Progress | None = None,
) -> SyncTimeline:
    """Replay both people's beats through :class:`~hrv.synchrony.LiveSynchrony` (see module doc).

    Beats are fed in time order with the offline artifact flags; recording gaps are blanked
    and pacer changes applied when the replay reaches them. One reading per window step.
    """
    live = LiveSynchrony(pacer=())
    roles = ("therapist", "client")
    items: list[tuple[float, int, str, float, bool]] = []
    for i, role in enumerate(roles):
        s = data.series[role]
        f = found.get(role)
        fl = f.flags > 0 if f is not None else np.zeros(s.rr_ms.size, bool)
        items += [
            (t, i, role, rr, bool(x))
            for t, rr, x in zip(s.t_s.tolist(), s.rr_ms.tolist(), fl.tolist(), strict=True)
        ]
    items.sort(key=lambda x: (x[0], x[1]))
    pacer = data.pacer_changes()  # in time order; at one time the later change wins
    gaps = sorted(data.gap_intervals(), key=lambda g: g[1])
    step = step_for(t_end_s)
    times = np.arange(WINDOW_S, t_end_s + 1e-9, step)
    out = np.full((times.size, 3), np.nan)
    driven = np.zeros(times.size, bool)
    bi = pi = gi = 0
    for k, now in enumerate(times.tolist()):
        while pi < len(pacer) and pacer[pi][0] <= now:
            live.set_pacer(*pacer[pi])
            pi += 1
        while bi < len(items) and items[bi][0] <= now:
            t, _, role, rr, flag = items[bi]
            live.add_beat(role, t, rr, flag)
            bi += 1
        while gi < len(gaps) and gaps[gi][1] <= now:
            for role in roles:
                live.mark_gap(role, *gaps[gi])
            gi += 1
        snap = live.update(now)
        lo, hi = snap.band if snap.band is not None else (math.nan, math.nan)
        out[k] = (snap.value, lo, hi)
        driven[k] = snap.pacer_driven
        if progress is not None and k % 50 == 0:
            progress(k / max(times.size, 1))
    if progress is not None:
        progress(1.0)
    return SyncTimeline(times, out[:, 0], out[:, 1], out[:, 2], driven)


def artifact_results(data: SessionInput) -> dict[str, ArtifactResult | None]:
    """:func:`~biofeedback.analysis.detect_artifacts` per role (the same call ``analyze`` makes)."""
    return {role: detect_artifacts(s) for role, s in data.series.items()}
