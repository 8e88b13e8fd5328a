"""RR artifact detection and correction (Lipponen & Tarvainen 2019, the Kubios HRV method).

Detection (Lipponen & Tarvainen, J Med Eng Technol 43(3):173-181, 2019,
doi:10.1080/03091902.2019.1640306), per interval ``j`` of ``rr`` (ms):

* ``dRR[j] = rr[j] - rr[j-1]``, divided by ``Th1 = 5.2 * QD(|dRR|)`` over 91 beats
  (QD = quartile deviation ``(Q3 - Q1) / 2``) -> ``d``.
* ``mRR[j] = rr[j] - median(rr over 11 beats)``, negative values doubled, divided by
  ``Th2 = 5.2 * QD(|mRR|)`` over 91 beats -> ``m``.
* ``S12[j] = max(d[j-1], d[j+1])`` if ``d[j] > 0`` else ``min(...)``;
  ``S22[j] = min(d[j+1], d[j+2])`` if ``d[j] >= 0`` else ``max(...)`` (neighbours outside the
  series count as 0).
* ectopic: ``d > 1 and S12 < -c1 d - c2`` or ``d < -1 and S12 > -c1 d + c2`` (c1 = 0.13,
  c2 = 0.17);
* long: ``d > 1 and S22 < -1`` or ``|m| > 3`` above the median; short: ``d < -1 and S22 > 1``
  or ``|m| > 3`` below it;
* missed (a long one): ``|rr / k - med| < Th2`` with ``k = round(rr / med) >= 2`` (the paper
  uses k = 2; larger k catches several missed beats in a row, up to ``MAX_SPLIT_PARTS``);
* extra (a short one): ``|rr[j] + rr[j±1] - med| < Th2`` (the paper checks ``j+1``; the
  previous neighbour is checked too).
* Plus a physiological range: intervals outside 300-2000 ms that are not explained as missed or
  extra beats are flagged ``OUT_OF_RANGE``.

Additions to the paper (constants below; measured on NSRDB series 2-7 with inserted
artifacts and on the Polar H10 trigeminy recording, see ``tests/hrv/test_artifacts.py``):

* thresholds are kept above ``TH_FLOOR_MS`` (30 ms), so quantised low-variability records are
  not flooded with ectopic flags from 1-2 sample zig-zags;
* and below a ceiling: ``Th1 <= TH_CAP_FRAC * median`` (0.45) and ``Th2 <= TH2_CAP_RATIO *
  TH_CAP_FRAC * median`` (0.5 of that). The ceiling matters when artifacts are more than about
  a quarter of the beats (bigeminy, trigeminy): the quartile deviation then measures the
  artifacts themselves and the published rule alone flags nothing;
* the S22 long/short rule also needs ``|m| > S22_MIN_M`` (2.5): without it, RSA peaks and
  brief sinus pauses in high-variability records are flagged (1-3 % of beats in NSRDB
  series 1-3, lowering RMSSD 15-20 %);
* missed/extra/pair explanations must fit the median within ``min(Th2, FIT_FRAC * median)``
  (FIT_FRAC 0.15), tighter than ``Th2`` alone once the ceiling applies;
* detection and correction run twice by default (``max_passes``);
* an interval is split into at most ``MAX_SPLIT_PARTS`` (5) pieces, and never when it is longer
  than ``MAX_SPLIT_MS`` (10 s): a longer one is a recording gap or a broken value, not missed
  beats, so it is flagged ``OUT_OF_RANGE`` and interpolated. Without this limit one absurd
  value (``1e12`` ms) would be split into about a billion beats.

Correction (every changed interval carries a flag; nothing is altered silently):

* extra: the interval is merged with the neighbour that completes it (the spurious beat is
  deleted); both original intervals are flagged ``EXTRA``.
* missed: the interval is split evenly into ``k`` intervals (``k - 1`` beats inserted).
* ectopic pair (premature short + compensatory long, or the reverse): when an ectopic, long or
  short interval and a neighbour deviate in opposite directions and their mean is within ``Th2``
  of the local median, both become their mean (the misplaced beat moves to the midpoint; total
  time is kept). Both are flagged ``ECTOPIC``.
* any other flagged interval (ectopic, long, short, out of range): its value is replaced by
  linear interpolation between the nearest unflagged neighbours; its beat time is kept.

Burden: ``100 * flagged original intervals / all original intervals``.

Streaming: :class:`StreamingArtifactClassifier` gives each beat its (rule) class two beats
after it arrives, using trailing windows (past 91 beats for the thresholds, past 11 for the
median) and the two following beats that the S22 rule needs. Its codes equal
``classify_intervals(rr, causal=True)`` on the whole series.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ArtifactClass",
    "ArtifactResult",
    "ClassifiedBeat",
    "StreamingArtifactClassifier",
    "classify_intervals",
    "correct_artifacts",
]

FloatArray = NDArray[np.float64]
CodeArray = NDArray[np.int8]

C1 = 0.13
C2 = 0.17
ALPHA = 5.2
QD_WINDOW = 91
MEDIAN_WINDOW = 11
RANGE_MS = (300.0, 2000.0)
#: Beats of look-ahead the rules need (S22 uses d[j+1], d[j+2]).
STREAM_DELAY_BEATS = 2
#: Threshold floor (ms) and ceiling (fraction of the local median RR); see the module docstring.
TH_FLOOR_MS = 30.0
TH_CAP_FRAC = 0.45
S22_MIN_M = 2.5
TH2_CAP_RATIO = 0.5
#: Most pieces a missed-beat interval is split into (4 missed beats in a row), and the longest
#: interval (ms) that may be split at all; see the module docstring.
MAX_SPLIT_PARTS = 5
MAX_SPLIT_MS = 10_000.0
# Missed/extra/pair explanations must fit the local median within min(Th2, this * median).
FIT_FRAC = 0.15
# History the streaming classifier keeps: interval j's class reads Th2 over [j-90, j], whose
# values each need the 11-beat median ending there (back to j-100), plus the two look-ahead
# intervals; 112 leaves a margin.
_STREAM_BUFFER = 112


class ArtifactClass(IntEnum):
    """Per-interval class code (``int8`` in flag arrays)."""

    NORMAL = 0
    ECTOPIC = 1
    LONG = 2
    SHORT = 3
    MISSED = 4
    EXTRA = 5
    OUT_OF_RANGE = 6


_NAMES = {c: c.name.lower() for c in ArtifactClass if c is not ArtifactClass.NORMAL}


@dataclass(frozen=True, eq=False)
class ArtifactResult:
    """Outcome of :func:`correct_artifacts`.

    Attributes
    ----------
    rr_ms : ndarray
        Corrected RR series (ms). Its length differs from the input when beats were deleted
        (extra) or inserted (missed).
    t_s : ndarray or None
        Beat time (s) ending each corrected interval, when beat times were given.
    source_index : ndarray of int
        For each corrected interval, the index of the original interval it comes from.
    flags : ndarray of int8
        One :class:`ArtifactClass` code per *original* interval.
    counts : Mapping[str, int]
        Flagged original intervals per class name (``ectopic``, ``long``, ``short``,
        ``missed``, ``extra``, ``out_of_range``).
    n_total : int
        Number of original intervals.
    n_flagged : int
        Number of flagged original intervals.
    burden_pct : float
        ``100 * n_flagged / n_total`` (``nan`` for empty input).
    """

    rr_ms: FloatArray
    t_s: FloatArray | None
    source_index: NDArray[np.intp]
    flags: CodeArray
    counts: Mapping[str, int]
    n_total: int
    n_flagged: int
    burden_pct: float

    @property
    def flagged_indices(self) -> NDArray[np.intp]:
        """Indices of the flagged original intervals."""
        return np.flatnonzero(self.flags)


# --------------------------------------------------------------------------------------------
# Rolling statistics over windows [j - before, j + after], clipped to the series.


def _rolling(x: FloatArray, before: int, after: int, qs: tuple[float, ...]) -> list[FloatArray]:
    """Quantiles ``qs`` (linear interpolation, as ``numpy.quantile``) of each window
    ``[j - before, j + after]`` clipped to ``x``.

    The windows are padded with ``nan`` at the edges, sorted row-wise (``nan`` sorts last) and
    the quantiles are read off each row's count of valid values: one vectorised pass.
    """
    n = x.size
    w = before + after + 1
    xp = np.concatenate([np.full(before, np.nan), x, np.full(after, np.nan)])
    rows = np.sort(sliding_window_view(xp, w)[:n], axis=-1)
    j = np.arange(n)
    count = np.minimum(j + after, n - 1) - np.maximum(j - before, 0) + 1
    out = []
    for q in qs:
        pos = q * (count - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, count - 1)
        frac = pos - lo
        v_lo = rows[j, lo]
        out.append(v_lo + frac * (rows[j, hi] - v_lo))
    return out


def _qd(x: FloatArray, before: int, after: int) -> FloatArray:
    q1, q3 = _rolling(x, before, after, (0.25, 0.75))
    return (q3 - q1) / 2.0


@dataclass(frozen=True, eq=False)
class _Features:
    rr: FloatArray
    d: FloatArray
    m: FloatArray
    med: FloatArray
    th2: FloatArray


def _features(rr: FloatArray, causal: bool, th_floor_ms: float, th_cap_frac: float) -> _Features:
    n = rr.size
    drr = np.zeros(n)
    drr[1:] = np.diff(rr)
    if causal:
        qd_span, med_span = (QD_WINDOW - 1, 0), (MEDIAN_WINDOW - 1, 0)
    else:
        h, hm = QD_WINDOW // 2, MEDIAN_WINDOW // 2
        qd_span, med_span = (h, h), (hm, hm)
    (med,) = _rolling(rr, *med_span, (0.5,))
    cap = th_cap_frac * med
    th1 = np.clip(ALPHA * _qd(np.abs(drr), *qd_span), th_floor_ms, None)
    th1 = np.minimum(th1, np.maximum(cap, th_floor_ms))
    mrr = rr - med
    mrr = np.where(mrr < 0, 2.0 * mrr, mrr)
    th2 = np.clip(ALPHA * _qd(np.abs(mrr), *qd_span), th_floor_ms, None)
    # |m| > 3 is the decision, so the Th2 ceiling is a third of the Th1 one.
    th2 = np.minimum(th2, np.maximum(cap * TH2_CAP_RATIO, th_floor_ms))
    return _Features(rr, drr / th1, mrr / th2, med, th2)


def _decide(f: _Features) -> CodeArray:
    rr, d, m, med, th2 = f.rr, f.d, f.m, f.med, f.th2
    n = rr.size
    dp = np.zeros(n + 4)
    dp[2 : n + 2] = d
    prev1, next1, next2 = dp[1 : n + 1], dp[3 : n + 3], dp[4 : n + 4]
    s12 = np.where(d > 0, np.maximum(prev1, next1), np.minimum(prev1, next1))
    s22 = np.where(d >= 0, np.minimum(next1, next2), np.maximum(next1, next2))
    ectopic = ((d > 1) & (s12 < -C1 * d - C2)) | ((d < -1) & (s12 > -C1 * d + C2))
    big_m = np.abs(m) > 3
    some_m = np.abs(m) > S22_MIN_M
    long_ = ((d > 1) & (s22 < -1) & some_m) | (big_m & (rr > med))
    short = ((d < -1) & (s22 > 1) & some_m) | (big_m & (rr < med))
    k = np.maximum(np.rint(rr / med), 1.0)
    tol = np.minimum(th2, FIT_FRAC * med)
    splittable = (k >= 2) & (k <= MAX_SPLIT_PARTS) & (rr <= MAX_SPLIT_MS)
    missed = long_ & splittable & (np.abs(rr / k - med) < tol)
    rr_next = np.append(rr[1:], np.inf)
    rr_prev = np.insert(rr[:-1], 0, np.inf)
    extra = short & ((np.abs(rr + rr_next - med) < tol) | (np.abs(rr + rr_prev - med) < tol))
    codes = np.zeros(n, dtype=np.int8)
    # Later assignments win: ectopic over long/short; missed/extra refine long/short.
    codes[long_] = ArtifactClass.LONG
    codes[short] = ArtifactClass.SHORT
    codes[ectopic] = ArtifactClass.ECTOPIC
    codes[missed] = ArtifactClass.MISSED
    codes[extra & ~missed] = ArtifactClass.EXTRA
    lo, hi = RANGE_MS
    bad = ((rr < lo) | (rr > hi)) & (codes != ArtifactClass.MISSED) & (codes != ArtifactClass.EXTRA)
    codes[bad] = ArtifactClass.OUT_OF_RANGE
    return codes


def _as_rr(rr_ms: ArrayLike) -> FloatArray:
    rr = np.asarray(rr_ms, dtype=np.float64)
    if rr.ndim != 1:
        raise ValueError(f"rr_ms must be one-dimensional, got shape {rr.shape}")
    if not np.all(np.isfinite(rr)) or np.any(rr <= 0):
        raise ValueError("rr_ms must hold finite positive values")
    return rr


def classify_intervals(
    rr_ms: ArrayLike,
    *,
    causal: bool = False,
    th_floor_ms: float = TH_FLOOR_MS,
    th_cap_frac: float = TH_CAP_FRAC,
) -> CodeArray:
    """Classify each RR interval with the Lipponen & Tarvainen (2019) rules (module docstring).

    Parameters
    ----------
    rr_ms : array_like
        RR intervals (ms), in order, finite and positive.
    causal : bool
        ``False`` (batch): windows centred on each beat (91 beats for thresholds, 11 for the
        median), as in the paper. ``True``: trailing windows ending at each beat, as the
        streaming classifier uses.
    th_floor_ms : float
        Lower limit (ms) for both thresholds.
    th_cap_frac : float
        Upper limit for ``Th1`` as a fraction of the local median RR (``Th2`` at a third of it,
        since ``|m| > 3`` decides). 0.3 flags a beat about 30 % shorter or 45 % longer than
        its neighbours' median even when such beats dominate the window.

    Returns
    -------
    ndarray of int8
        :class:`ArtifactClass` codes, one per interval. These are the *rule* classes: an
        extra beat's partner and an ectopic pair's partner are added by
        :func:`correct_artifacts`. Fewer than 3 intervals get the range check only.
    """
    rr = _as_rr(rr_ms)
    if rr.size < 3:
        lo, hi = RANGE_MS
        return np.where((rr < lo) | (rr > hi), ArtifactClass.OUT_OF_RANGE, 0).astype(np.int8)
    return _decide(_features(rr, causal, th_floor_ms, th_cap_frac))


# --------------------------------------------------------------------------------------------
# Correction.


def correct_artifacts(
    rr_ms: ArrayLike,
    t_s: ArrayLike | None = None,
    *,
    flags: ArrayLike | None = None,
    th_floor_ms: float = TH_FLOOR_MS,
    th_cap_frac: float = TH_CAP_FRAC,
    max_passes: int = 2,
) -> ArtifactResult:
    """Detect and correct artifacts in an RR series (module docstring for the rules).

    Parameters
    ----------
    rr_ms : array_like
        RR intervals (ms), in order, finite and positive.
    t_s : array_like or None
        Beat time (s) ending each interval; if given, corrected beat times are returned.
    flags : array_like or None
        Rule classes from :func:`classify_intervals` (e.g. from the streaming classifier);
        computed in batch mode when omitted.
    th_floor_ms, th_cap_frac : float
        Passed to :func:`classify_intervals` when ``flags`` is omitted.
    max_passes : int
        Detection and correction are repeated on the corrected series until a pass flags
        nothing or ``max_passes`` passes ran (a corrected premature beat can unmask its
        neighbour; two passes bring the Polar trigeminy recording from RMSSD 65 to 28 ms).
        Flags of later passes are mapped back to the original intervals they came from.

    Returns
    -------
    ArtifactResult
        Empty input gives empty arrays and ``burden_pct`` ``nan``; never raises for length.

    Raises
    ------
    ValueError
        Non-finite, non-positive or non-1-D input, or mismatched ``t_s``/``flags``.
    """
    rr = _as_rr(rr_ms)
    res = _correct_once(rr, t_s, flags, th_floor_ms, th_cap_frac)
    codes = res.flags.copy()
    for _ in range(max_passes - 1):
        if not np.any(res.flags):
            break
        nxt = _correct_once(res.rr_ms, res.t_s, None, th_floor_ms, th_cap_frac)
        if not np.any(nxt.flags):
            break
        src = res.source_index
        hit = nxt.flags != 0
        # An original interval keeps its first-pass class; newly flagged ones get the new one.
        for j, c in zip(src[hit].tolist(), nxt.flags[hit].tolist(), strict=True):
            if codes[j] == 0:
                codes[j] = c
        res = ArtifactResult(
            nxt.rr_ms, nxt.t_s, src[nxt.source_index], nxt.flags, {}, 0, 0, math.nan
        )
    return _result(res.rr_ms, res.t_s, res.source_index, codes)


def _result(
    rr: FloatArray, t: FloatArray | None, src: NDArray[np.intp], codes: CodeArray
) -> ArtifactResult:
    n = codes.size
    counts = {name: int(np.count_nonzero(codes == c)) for c, name in _NAMES.items()}
    n_flagged = int(np.count_nonzero(codes))
    return ArtifactResult(
        rr_ms=rr,
        t_s=t,
        source_index=src,
        flags=codes,
        counts=MappingProxyType(counts),
        n_total=n,
        n_flagged=n_flagged,
        burden_pct=100.0 * n_flagged / n if n else math.nan,
    )


def _correct_once(
    rr: FloatArray,
    t_s: ArrayLike | None,
    flags: ArrayLike | None,
    th_floor_ms: float,
    th_cap_frac: float,
) -> ArtifactResult:
    n = rr.size
    t = None if t_s is None else np.asarray(t_s, dtype=np.float64)
    if t is not None and t.shape != rr.shape:
        raise ValueError(f"t_s has shape {t.shape}, rr_ms has {rr.shape}")
    if n >= 3:
        f = _features(rr, False, th_floor_ms, th_cap_frac)
        med, th2 = f.med, f.th2
    if flags is None:
        codes = _decide(f) if n >= 3 else classify_intervals(rr)
    else:
        codes = np.asarray(flags, dtype=np.int8).copy()
        if codes.shape != rr.shape:
            raise ValueError(f"flags has shape {codes.shape}, rr_ms has {rr.shape}")
    if n < 3:
        med = np.full(n, float(np.median(rr)) if n else math.nan)
        th2 = np.full(n, th_floor_ms)

    # Plan: for each original index, what it becomes. Kinds: keep, merge (with next), split,
    # pair (mean with next), interp.
    kind = np.zeros(n, dtype=np.int8)  # 0 keep, 1 merge-with-next, 2 split, 3 pair, 4 interp
    consumed = np.zeros(n, dtype=bool)  # second member of a merge or pair
    split_k = np.ones(n, dtype=np.int64)
    fixable = (ArtifactClass.ECTOPIC, ArtifactClass.LONG, ArtifactClass.SHORT)

    for j in np.flatnonzero(codes).tolist():
        if consumed[j] or kind[j]:
            continue
        c = ArtifactClass(int(codes[j]))
        if c is ArtifactClass.EXTRA:
            cands = [p for p in (j - 1, j + 1) if 0 <= p < n and not consumed[p] and not kind[p]]
            if cands:
                p = min(cands, key=lambda q: abs(rr[j] + rr[q] - med[j]))
                a = min(j, p)
                kind[a], consumed[a + 1] = 1, True
                codes[a] = codes[a + 1] = ArtifactClass.EXTRA
                continue
            kind[j] = 4
        elif c is ArtifactClass.MISSED:
            k = max(2, round(rr[j] / med[j])) if math.isfinite(med[j]) and med[j] > 0 else 0
            if 2 <= k <= MAX_SPLIT_PARTS and rr[j] <= MAX_SPLIT_MS:
                kind[j] = 2
                split_k[j] = k
            else:  # given flags (streaming) may call anything missed: never split it absurdly
                codes[j] = ArtifactClass.OUT_OF_RANGE
                kind[j] = 4
        elif c in fixable:
            best, best_err = -1, math.inf
            for p in (j - 1, j + 1):
                if not 0 <= p < n or consumed[p] or kind[p]:
                    continue
                if codes[p] not in (0, *fixable):
                    continue
                if (rr[j] - med[j]) * (rr[p] - med[p]) >= 0:
                    continue
                err = abs((rr[j] + rr[p]) / 2.0 - med[j])
                if err < min(th2[j], FIT_FRAC * med[j]) and err < best_err:
                    best, best_err = p, err
            if best >= 0:
                a = min(j, best)
                kind[a], consumed[a + 1] = 3, True
                codes[a] = codes[a + 1] = ArtifactClass.ECTOPIC
            else:
                kind[j] = 4
        else:  # OUT_OF_RANGE
            kind[j] = 4

    # Interpolation targets: linear in index between the nearest unflagged intervals.
    good = codes == ArtifactClass.NORMAL
    interp_idx = np.flatnonzero(kind == 4)
    if interp_idx.size:
        gi = np.flatnonzero(good)
        ref = float(np.median(rr)) if n else math.nan
        vals = np.interp(interp_idx, gi, rr[gi]) if gi.size else np.full(interp_idx.size, ref)
    else:
        vals = np.empty(0)
    interp_val = dict(zip(interp_idx.tolist(), vals.tolist(), strict=True))

    out_rr: list[float] = []
    out_t: list[float] = []
    out_src: list[int] = []
    tt = t if t is not None else np.zeros(n)
    for j in range(n):
        if consumed[j]:
            continue
        kj = kind[j]
        if kj == 0:
            out_rr.append(rr[j])
            out_t.append(tt[j])
            out_src.append(j)
        elif kj == 1:
            out_rr.append(rr[j] + rr[j + 1])
            out_t.append(tt[j + 1])
            out_src.append(j)
        elif kj == 2:
            k = int(split_k[j])
            part = rr[j] / k
            for i in range(k):
                out_rr.append(part)
                out_t.append(tt[j] - (k - 1 - i) * part / 1000.0)
                out_src.append(j)
        elif kj == 3:
            half = (rr[j] + rr[j + 1]) / 2.0
            out_rr += [half, half]
            out_t += [tt[j + 1] - half / 1000.0, tt[j + 1]]
            out_src += [j, j + 1]
        else:
            out_rr.append(interp_val[j])
            out_t.append(tt[j])
            out_src.append(j)

    return _result(
        np.asarray(out_rr, dtype=np.float64),
        np.asarray(out_t, dtype=np.float64) if t is not None else None,
        np.asarray(out_src, dtype=np.intp),
        codes,
    )


# --------------------------------------------------------------------------------------------
# Streaming.


@dataclass(frozen=True, slots=True)
class ClassifiedBeat:
    """One interval whose class became final.

    ``index`` counts intervals pushed since the classifier was created (0-based); ``t_s`` is
    the beat time given with it (``nan`` if none); ``code`` an :class:`ArtifactClass` value.
    """

    index: int
    rr_ms: float
    t_s: float
    code: ArtifactClass


@dataclass
class StreamingArtifactClassifier:
    """Classify RR intervals as they arrive, with a bounded delay of a few beats.

    Interval ``j`` can be classified once interval ``j + 2`` has arrived (about 2 s at
    rest): the S22 rule needs the two following successive differences. Thresholds and the
    median use trailing windows (91 and 11 beats ending at each interval), so the codes equal
    ``classify_intervals(all_rr, causal=True)``. Memory is bounded (about 100 intervals).
    With ``batch = B`` the classifier waits until ``B`` intervals are classifiable and does
    them in one pass, so the delay is 2 to ``B + 1`` beats and the cost per beat falls about
    ``B``-fold (the live engine uses ``B = 3``: at most 4 beats, about 3-4 s at rest).
    Call :meth:`flush` at the end of a recording for the last intervals.

    Examples
    --------
    >>> clf = StreamingArtifactClassifier()
    >>> done = [b for rr in [800.0, 810.0, 790.0, 805.0] for b in clf.push(rr)]
    >>> [b.index for b in done]
    [0, 1]
    """

    th_floor_ms: float = TH_FLOOR_MS
    th_cap_frac: float = TH_CAP_FRAC
    batch: int = 1
    _rr: deque[float] = field(default_factory=lambda: deque(maxlen=_STREAM_BUFFER))
    _t: deque[float] = field(default_factory=lambda: deque(maxlen=_STREAM_BUFFER))
    _n_in: int = 0
    _n_out: int = 0

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be at least 1, got {self.batch}")
        self._rr = deque(maxlen=_STREAM_BUFFER + self.batch)
        self._t = deque(maxlen=_STREAM_BUFFER + self.batch)

    @property
    def delay_beats(self) -> int:
        """Most intervals that may follow one before it is classified (``batch + 1``)."""
        return STREAM_DELAY_BEATS + self.batch - 1

    def push(self, rr_ms: float, t_s: float = math.nan) -> list[ClassifiedBeat]:
        """Add one interval (ms) and return the intervals whose class is now final (0 or 1)."""
        rr = float(rr_ms)
        if not math.isfinite(rr) or rr <= 0:
            raise ValueError(f"rr_ms must be finite and positive, got {rr_ms!r}")
        self._rr.append(rr)
        self._t.append(float(t_s))
        self._n_in += 1
        if self._n_in - self._n_out >= STREAM_DELAY_BEATS + self.batch:
            return self._emit(self._n_in - STREAM_DELAY_BEATS)
        return []

    def flush(self) -> list[ClassifiedBeat]:
        """Classify the intervals still waiting for look-ahead (end of recording)."""
        return self._emit(self._n_in)

    def _emit(self, stop: int) -> list[ClassifiedBeat]:
        """Classify intervals ``n_out .. stop - 1`` with one pass over the buffer."""
        if stop <= self._n_out:
            return []
        buf = np.fromiter(self._rr, dtype=np.float64)
        first = self._n_in - buf.size  # global index of buf[0]
        codes = classify_intervals(
            buf, causal=True, th_floor_ms=self.th_floor_ms, th_cap_frac=self.th_cap_frac
        )
        out = [
            ClassifiedBeat(
                j, float(buf[j - first]), self._t[j - first], ArtifactClass(int(codes[j - first]))
            )
            for j in range(self._n_out, stop)
        ]
        self._n_out = stop
        return out
