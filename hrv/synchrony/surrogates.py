"""Offline significance of therapist-client synchrony: SUSY segment shuffling and shifts.

**Segment shuffling** (SUSY, Tschacher & Meier 2020, Psychotherapy
Research 30(5):617-630, doi:10.1080/10503307.2019.1612114; the formulas below follow the
authors' R package ``SUSY``, ``susy()`` and ``as.data.frame.susy``). Both series are cut into
``K`` non-overlapping segments of the window length. ``z[i, j, lag]`` is computed for every
therapist segment ``i`` against every client segment ``j`` (real pairs ``i == j``,
surrogates ``i != j``: all ``K(K-1)`` of them). SUSY's aggregates, on ``|z|`` by default:

- ``Z_real(lag) = mean_i |z[i, i, lag]|``, ``Z_surr(lag) = mean_{i != j} |z[i, j, lag]|``;
- ``z_mean = mean over lags of Z_real``;
- ``effect_size_susy = (mean_lag Z_real - mean_lag Z_surr) / sd_lag(Z_surr)`` with ``sd`` the
  sample SD (ddof 1) **across lags of the per-lag surrogate means**. This is SUSY's ES
  exactly; the denominator is the lag-to-lag spread of an average over thousands of pairs,
  so it is tiny, and ES is on ``|z|`` while the p-value is on signed z with corrections for
  serial dependence. The two could disagree badly: on a real 9-minute two-strap recording
  SUSY's ES was -5.45 (real ``|z|`` a little below the shuffled ``|z|``) next to p = 0.52.
  It is kept for comparison with the literature but no longer shown as ``effect_size``.
- "therapist leads" uses lags < 0 only, "client leads" lags > 0 only (SUSY's ``lead1`` /
  ``lead2`` with the therapist as first series);
- ``in_phase_z`` / ``anti_phase_z``: mean of the non-negative / negative entries of the
  *signed* profile ``mean_i z[i, i, lag]`` (SUSY's ``meanZ(in-phase)``, ``meanZ(anti-phase)``).

**p-value.** The real statistic is an average over ``K`` pairs, so it is compared with
surrogates of the same kind: ``n_surrogates`` seeded random derangements ``s`` of the
segments (no segment paired with itself), each giving ``mean_i mean_lag z[i, s(i), lag]`` from
the all-pairs table. The test is on the *signed* z (SUSY's noAbs variant), once for in-phase
(upper tail) and once for anti-phase (lower tail), each ``p = (b + 1) / (n + 1)`` with ``b``
the surrogates at least as extreme (Phipson & Smyth 2010, doi:10.2202/1544-6115.1585);
``p_segments = min(1, 2 min(p_in, p_anti))`` (Bonferroni over the two phases). The ``|z|``
version (SUSY's default) had a third to a half of the power on simulated dyads and is kept as
``p_abs``; ``surrogate_z = (Z - mean) / sd`` of its surrogates.

Shuffled pairings are independent from segment to segment while real neighbouring segments
are not (slow HR changes and ~0.1 Hz Mayer waves span several 30 s segments), so plain
segment shuffling was anti-conservative on the project's simulator (10-12 % false positives
at alpha .05 for independent people). Two remedies, both reported: the shuffled means are
widened by Bartlett's variance-inflation factor from the lag-1 and lag-2 autocorrelation of
the real per-segment values (``serial_lags``), and a second null, circular shifts of the
client's whole series by at least 60 s (which keep every serial dependence), tests the same
signed statistic (``p_circular``). **``p_value``** is an intersection-union test, phase by
phase: ``min(1, 2 min(max(p_in, pc_up), max(p_anti, pc_down)))`` with ``pc_up`` / ``pc_down``
the circular-shift upper / lower tails: significant only against both nulls in the same
direction, valid when either null is (where both nulls agree on the direction this equals
``max(p_segments, p_circular)``). Measured on independent simulated dyads (12 min): 5.8 % of
120 seeds below .05.

**Effect size** (``effect_size``, the number shown to users): on the same signed statistic and
in the direction of the phase ``p_value`` tests, how many null SDs the real mean lies beyond
chance, against the stricter null: ``min(d (Z_signed - mean_s) / sd_s, d (Z_signed - mean_c) /
sd_c)``, ``d = +1`` for in-phase, ``-1`` for anti-phase, ``s`` the (widened) derangement
surrogates, ``c`` the circular shifts. So ``p_value < alpha`` implies ``effect_size > 0``, and
an effect size at or below 0 is never significant; a positive one below about 2 usually is
not significant either.

**Leader.** ``"client"`` (``"therapist"``) only if ``p_value < alpha``, the lead/lag asymmetry
(mean signed z, sign of the stronger phase, over lags > 0 minus lags < 0) is beyond the
derangement surrogates (two-sided ``p_asymmetry < alpha``) with a positive (negative) sign,
and ``peak_lag_s`` agrees and is at least one grid step from 0; otherwise ``"none"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .grid import LowPass, hr_grid
from .kernel import (
    all_pairs_z,
    fisher_z,
    lag_samples,
    lagged_sums,
    r_from_sums,
    t_side,
    therapist_windows,
)
from .pacing import (
    pacer_driven_segments,
    remove_pacer,
    shared_rhythm_segments,
    shared_schedule,
)
from .params import SynchronyParams, resolve_params
from .result import DirectionStats, SharedRhythm, SynchronyResult

__all__ = ["synchrony"]

FloatArray = NDArray[np.float64]


#: Shift-segment pairs whose lagged sums are computed at once in the circular-shift null
#: (about 30 MB with the default 30 s windows and +-5 s lags at 4 Hz).
_CIRC_BLOCK_PAIRS = 256


def _nanmean(a: FloatArray, axis: int) -> FloatArray:
    """Mean over ``axis`` ignoring ``nan``; ``nan`` (no warning) where nothing is left."""
    ok = np.isfinite(a)
    cnt = ok.sum(axis=axis)
    tot = np.where(ok, a, 0.0).sum(axis=axis)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def _sd(v: FloatArray) -> float:
    """Sample SD (ddof 1); ``nan`` for fewer than two values."""
    return float(np.std(v, ddof=1)) if v.size >= 2 else math.nan


def _susy_es(real: FloatArray, surr: FloatArray) -> float:
    """SUSY ES: ``(mean(real) - mean(surr)) / sd(surr)`` over lags; ``nan`` when sd is 0."""
    sd = _sd(surr)
    if not (sd > 0):
        return math.nan
    return (float(real.mean()) - float(surr.mean())) / sd


def _p_upper(real: float, surr: FloatArray) -> float:
    """``(b + 1) / (n + 1)``, ``b`` the surrogates at least as large (Phipson & Smyth 2010)."""
    return (int(np.count_nonzero(surr >= real)) + 1) / (surr.size + 1)


def _derangements(k: int, n: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """``n`` uniformly random derangements of ``range(k)`` (rejection sampling), ``k >= 2``."""
    out = np.empty((n, k), dtype=np.intp)
    todo = np.arange(n)
    ar = np.arange(k)
    while todo.size:
        perms = np.argsort(rng.random((todo.size, k)), axis=1)
        ok = ~np.any(perms == ar, axis=1)
        out[todo[ok]] = perms[ok]
        todo = todo[~ok]
    return out


def _inflate(surr: FloatArray, real_per_segment: FloatArray, max_lag: int) -> FloatArray:
    """Widen surrogate means for the serial dependence of the real per-segment values.

    Shuffled pairings are independent from segment to segment, real neighbouring segments are
    not (slow HR changes and ~0.1 Hz rhythms span several segments), so the real mean varies
    more than the shuffled one. The surrogate deviations from their mean are scaled by
    ``sqrt(f)``, ``f = 1 + 2 sum_{k=1..max_lag} (1 - k / K) rho_k`` (Bartlett's variance
    inflation for a mean of ``K`` autocorrelated values), ``rho_k`` the lag-``k``
    autocorrelation of the real per-segment values; ``f`` is never below 1.
    """
    d = real_per_segment[np.isfinite(real_per_segment)]
    k = d.size
    if k < 4:
        return surr
    c = d - d.mean()
    v = float(c @ c)
    if not v > 0:
        return surr
    f = 1.0
    for lag in range(1, min(max_lag, k - 1) + 1):
        f += 2.0 * (1.0 - lag / k) * float(c[:-lag] @ c[lag:]) / v
    f = max(1.0, f)
    mu = float(surr.mean())
    return mu + (surr - mu) * math.sqrt(f)


def _pairings(
    k: int, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Segment pairings ``(rows, cols)``, each ``(n, k)``, for ``n`` derangement surrogates.

    Surrogate ``s`` pairs therapist segment ``rows[s, t]`` with client segment ``cols[s, t]``,
    never a segment with itself (SUSY's surrogate), every segment once on each side. Both are
    read from a random rotation ``start``; a rotated uniform derangement is still a uniform
    derangement, and the rotation is kept so the seeded draws (and so every published number)
    stay what they were.
    """
    start = rng.integers(0, k, size=n)
    perm = _derangements(k, n, rng)  # (n, k)
    t = np.arange(k)
    rows = (start[:, None] + t[None, :]) % k
    cols = (start[:, None] + perm) % k
    return rows, cols


def synchrony(
    therapist_t_s: ArrayLike,
    therapist_rr_ms: ArrayLike,
    client_t_s: ArrayLike,
    client_rr_ms: ArrayLike,
    *,
    therapist_artifact: ArrayLike | None = None,
    client_artifact: ArrayLike | None = None,
    gaps: Iterable[tuple[float, float]] = (),
    pacer: Sequence[tuple[float, float]] = (),
    params: SynchronyParams | None = None,
    **overrides: Any,
) -> SynchronyResult:
    """Offline therapist-client synchrony with SUSY segment-shuffling significance.

    Parameters
    ----------
    therapist_t_s, therapist_rr_ms, client_t_s, client_rr_ms : array_like
        Each person's beat times (s, one session clock) and RR intervals (ms).
    therapist_artifact, client_artifact : array_like of bool, optional
        Per-beat artifact flags (flagged stretches are excluded, not interpolated).
    gaps : iterable of (start_s, end_s)
        Stretches excluded for both people.
    pacer : sequence of (t_s, rate_bpm)
        Pacer rate changes in breaths/min, in time order; 0 = off. Empty: no pacer.
    params : SynchronyParams, optional
        Grid, window (= segment length), lags, ``max_missing`` (a segment pair with more
        missing samples at any lag is dropped), low-pass, ``n_surrogates``, ``n_circular``
        (0 skips the second null; then ``p_value`` is ``p_segments`` alone),
        ``serial_lags``, ``min_segments`` (fewer usable segments: all-``nan`` result),
        ``alpha`` (for ``leader``) and ``seed`` (results are reproducible).
    **overrides
        Any field of :class:`SynchronyParams` (e.g. ``n_surrogates=200``).

    Returns
    -------
    SynchronyResult
    """
    p = resolve_params(params, overrides)
    nan = math.nan
    fs_hz, alpha = p.fs_hz, p.alpha
    n_surrogates, n_circular, serial_lags = p.n_surrogates, p.n_circular, p.serial_lags
    tt = np.asarray(therapist_t_s, dtype=np.float64).ravel()
    tc = np.asarray(client_t_s, dtype=np.float64).ravel()
    rr_t = np.asarray(therapist_rr_ms, dtype=np.float64).ravel()
    rr_c = np.asarray(client_rr_ms, dtype=np.float64).ravel()
    lags = lag_samples(p.max_lag_s, fs_hz)
    lags_s = lags / fs_hz
    lmax = int(lags[-1])
    gaps = list(gaps)
    ends = [float(v[-1]) for v in (tt, tc) if v.size]
    starts = [float(v[0]) for v in (tt, tc) if v.size]
    if len(ends) < 2:
        return SynchronyResult.empty(lags_s, 0, alpha, SharedRhythm())
    t0 = math.floor(min(starts) * fs_hz) / fs_hz
    t_end = max(ends)
    x, y = (
        hr_grid(t, rr, art, fs_hz=fs_hz, t_start_s=t0, t_end_s=t_end, gap_s=p.gap_s, gaps=gaps)
        for t, rr, art in ((tt, rr_t, therapist_artifact), (tc, rr_c, client_artifact))
    )
    schedule = sorted(((float(a), float(b)) for a, b in pacer), key=lambda c: c[0])  # later wins
    n = x.size
    w = p.window_samples
    anchors = np.arange(lmax, n - w - lmax + 1, w, dtype=np.intp)
    min_count = p.min_count
    if anchors.size < 2:
        return SynchronyResult.empty(lags_s, 0, alpha, SharedRhythm())
    ok_t = (
        np.ones(tt.size, bool)
        if therapist_artifact is None
        else ~np.asarray(therapist_artifact, bool)
    )
    ok_c = np.ones(tc.size, bool) if client_artifact is None else ~np.asarray(client_artifact, bool)
    beats_t, beats_c = (tt, rr_t, ok_t), (tc, rr_c, ok_c)
    seg_start = t0 + anchors / fs_hz
    mids = seg_start + w / 2 / fs_hz
    # A slow rhythm both people followed, found in the beats (from a pacer or any other source).
    # It is regressed out only when it runs through most of the stretch: single windows with a
    # strong slow wave in both people are what coupled slow heart-rate changes look like too.
    shared_bpm = shared_rhythm_segments(mids, beats_t, beats_c, p)
    shared: list[tuple[float, float]] = []
    if np.isfinite(shared_bpm).mean() >= 0.5:
        shared = shared_schedule(seg_start, seg_start + w / fs_hz, shared_bpm)
    for sched in (schedule, shared):
        if any(r > 0 for _, r in sched):
            x = remove_pacer(x, fs_hz, t0, sched, p.window_s)
            y = remove_pacer(y, fs_hz, t0, sched, p.window_s)
    if p.lowpass_hz is not None:
        x = LowPass(fs_hz, p.lowpass_hz, p.lowpass_settle_s, p.lowpass_order)(x)
        y = LowPass(fs_hz, p.lowpass_hz, p.lowpass_settle_s, p.lowpass_order)(y)
    zall = all_pairs_z(x, y, anchors, lmax, w, min_count)  # (K, K, L)
    diag_ok = np.all(np.isfinite(zall[np.arange(anchors.size), np.arange(anchors.size)]), axis=1)
    use = np.flatnonzero(diag_ok)
    n_skipped = int(anchors.size - use.size)

    # Pacer-driven segments: both people's RSA strongly at the pacer's frequency, or else both
    # following one shared slow rhythm found in the beats.
    pacer_flags = pacer_driven_segments(mids[use], schedule, beats_t, beats_c, p)
    shared_flags = np.isfinite(shared_bpm[use]) & ~pacer_flags
    pacer_fraction = float(pacer_flags.mean()) if use.size else 0.0
    shared_fraction = float(shared_flags.mean()) if use.size else 0.0
    shared_rate = float(np.median(shared_bpm[use][shared_flags])) if shared_flags.any() else nan
    driven = SharedRhythm(pacer_fraction, shared_fraction, shared_rate)
    if use.size < max(p.min_segments, 3):
        return SynchronyResult.empty(lags_s, n_skipped, alpha, driven)

    z = zall[np.ix_(use, use)]  # (K, K, L)
    k = use.size
    az = np.abs(z)
    eye = np.eye(k, dtype=bool)
    off = ~eye & np.all(np.isfinite(z), axis=2)
    real_prof = az[eye].mean(axis=0)  # (L,)
    surr_prof = az[off].mean(axis=0)
    real_signed = z[eye].mean(axis=0)
    surr_signed = z[off].mean(axis=0)
    neg, pos = lags < 0, lags > 0

    # Derangement surrogates: per-pair lag means, so each surrogate is a K-pair average.
    rng = np.random.default_rng(p.seed)
    m_all = _nanmean(az, axis=2)
    m_sig = _nanmean(z, axis=2)
    m_neg = _nanmean(az[:, :, neg], axis=2)
    m_pos = _nanmean(az[:, :, pos], axis=2)
    real_all = float(np.diag(m_all).mean())
    real_sig = float(np.diag(m_sig).mean())
    real_neg = float(np.diag(m_neg).mean())
    real_pos = float(np.diag(m_pos).mean())
    sz = p_abs = sz_sig = p_in = p_anti = sz_neg = p_neg = sz_pos = p_pos = p_asym = nan
    asym_real = nan
    if n_surrogates > 0:
        rows, cols = _pairings(k, n_surrogates, rng)

        def surr(m: FloatArray) -> FloatArray:
            return _nanmean(m[rows, cols], axis=1)

        def zp(real: float, s: FloatArray) -> tuple[float, float]:
            sd = _sd(s)
            zz = (real - float(s.mean())) / sd if sd > 0 else nan
            return zz, _p_upper(real, s)

        sz, p_abs = zp(real_all, surr(m_all))
        s_sig = surr(m_sig)
        if serial_lags > 0:
            s_sig = _inflate(s_sig, np.diag(m_sig), serial_lags)
        sz_sig, p_in = zp(real_sig, s_sig)
        p_anti = _p_upper(-real_sig, -s_sig)
        s_neg, s_pos = surr(m_neg), surr(m_pos)
        sz_neg, p_neg = zp(real_neg, s_neg)
        sz_pos, p_pos = zp(real_pos, s_pos)
        # Lead/lag asymmetry on the signed z of the stronger phase (in- or anti-phase):
        # mean over client-leads lags minus mean over therapist-leads lags.
        sign = 1.0 if p_in <= p_anti else -1.0
        d_pair = sign * (_nanmean(z[:, :, pos], axis=2) - _nanmean(z[:, :, neg], axis=2))
        asym_real = float(np.diag(d_pair).mean())
        asym_s = surr(d_pair)
        if serial_lags > 0:
            asym_s = _inflate(asym_s, np.diag(d_pair), serial_lags)
        p_asym = (int(np.count_nonzero(np.abs(asym_s) >= abs(asym_real))) + 1) / (asym_s.size + 1)
    p_seg = min(1.0, 2.0 * min(p_in, p_anti)) if n_surrogates > 0 else nan

    # Second null: circular shifts of the client's whole series.
    p_circ = math.nan
    n_circ_done = 0
    pc_up = pc_down = z_circ = nan
    min_shift = max(round(p.min_circular_shift_s * fs_hz), w + 2 * lmax)
    if n_circular > 0 and n - 2 * min_shift > 0:
        shifts = rng.integers(min_shift, n - min_shift, size=n_circular)
        ua = anchors[use]
        a_side = t_side(therapist_windows(x, ua, w))  # (K, 6, w)
        base = ua[:, None] - lmax + np.arange(w + 2 * lmax)[None, :]
        stats = []
        for chunk in np.array_split(shifts, max(1, n_circular // 16)):
            # Segments go in blocks too: one shift's client views of every segment take
            # K * 3 * L * w doubles (42 MB for a 3-hour session), the chunk 16 times that.
            per_seg = np.empty((chunk.size, ua.size))
            step = max(1, _CIRC_BLOCK_PAIRS // max(chunk.size, 1))
            for b in range(0, ua.size, step):
                e = min(ua.size, b + step)
                idx = (base[None, b:e] + chunk[:, None, None]) % n
                s = lagged_sums(a_side[None, b:e], y[idx], w)  # (S, Kb, L, 6, 3)
                per_seg[:, b:e] = _nanmean(fisher_z(r_from_sums(s, min_count)), axis=2)
            stats.append(_nanmean(per_seg, axis=1))
        circ = np.concatenate(stats)
        circ = circ[np.isfinite(circ)]
        if circ.size:
            pc_up, pc_down = _p_upper(real_sig, circ), _p_upper(-real_sig, -circ)
            p_circ = min(1.0, 2.0 * min(pc_up, pc_down))
            n_circ_done = int(circ.size)
            sd_c = _sd(circ)
            z_circ = (real_sig - float(circ.mean())) / sd_c if sd_c > 0 else nan

    # Intersection-union, phase by phase: in-phase (anti-phase) synchrony only when both nulls
    # put the real statistic in their upper (lower) tail; valid if either null is. Where the
    # two nulls agree on the direction this is max(p_segments, p_circular).
    p_value = nan
    direction = 1.0
    if n_surrogates > 0:
        p_up, p_down = (
            (p_in, p_anti)
            if n_circ_done == 0
            else (
                max(p_in, pc_up),
                max(p_anti, pc_down),
            )
        )
        p_value = min(1.0, 2.0 * min(p_up, p_down))
        direction = 1.0 if p_up <= p_down else -1.0
    # Effect size on the same statistic and in the same direction as p_value: how many null
    # SDs the real mean signed z lies beyond chance, against the stricter of the two nulls.
    effect = direction * sz_sig
    if math.isfinite(z_circ):
        effect = min(effect, direction * z_circ)

    # Peak lag: where the real signed profile most exceeds the surrogate one, in the direction
    # of the stronger phase (in-phase: largest excess; anti-phase: most negative).
    phase_sign = 1.0 if not (p_anti < p_in) else -1.0
    excess = phase_sign * (real_signed - surr_signed)
    i_pk = int(np.argmax(excess))
    peak = float(lags_s[i_pk])
    if 0 < i_pk < lags.size - 1:
        y0, y1, y2 = excess[i_pk - 1], excess[i_pk], excess[i_pk + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            peak += float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) / fs_hz

    leader = "none"
    step_s = 1.0 / fs_hz  # one grid step: a lead shorter than this is not named
    if p_value < alpha and p_asym < alpha:
        if asym_real > 0 and peak >= step_s:
            leader = "client"
        elif asym_real < 0 and peak <= -step_s:
            leader = "therapist"

    def mean_or_nan(v: FloatArray) -> float:
        return float(v.mean()) if v.size else math.nan

    return SynchronyResult(
        z_mean=real_all,
        z_surrogate_mean=float(surr_prof.mean()),
        effect_size=effect,
        effect_size_susy=_susy_es(real_prof, surr_prof),
        surrogate_z=sz,
        p_value=p_value,
        n_surrogates=int(n_surrogates),
        n_surrogate_pairs=int(off.sum()),
        p_circular=p_circ,
        n_circular=n_circ_done,
        p_segments=p_seg,
        p_abs=p_abs,
        p_in_phase=p_in,
        p_anti_phase=p_anti,
        surrogate_z_signed=sz_sig,
        z_mean_signed=float(real_signed.mean()),
        effect_size_signed=_susy_es(real_signed, surr_signed),
        in_phase_z=mean_or_nan(real_signed[real_signed >= 0]),
        anti_phase_z=mean_or_nan(real_signed[real_signed < 0]),
        peak_lag_s=peak,
        therapist_leads=DirectionStats(
            z_mean=real_neg,
            effect_size=_susy_es(real_prof[neg], surr_prof[neg]),
            surrogate_z=sz_neg,
            p_value=p_neg,
        ),
        client_leads=DirectionStats(
            z_mean=real_pos,
            effect_size=_susy_es(real_prof[pos], surr_prof[pos]),
            surrogate_z=sz_pos,
            p_value=p_pos,
        ),
        p_asymmetry=p_asym,
        leader=leader,
        pacer_driven=driven.pacer_driven,
        pacer_fraction=pacer_fraction,
        shared_rhythm=driven,
        lags_s=lags_s,
        real_profile=real_prof,
        surrogate_profile=surr_prof,
        n_segments=int(k),
        n_segments_skipped=n_skipped,
        alpha=alpha,
    )
