"""hrv.artifacts: hand-made series, inserted artifacts in real NSRDB series, a real Polar H10
trigeminy recording, NeuroKit2 as a reference, and streaming = batch (causal)."""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import pytest

from hrv.artifacts import (
    ArtifactClass,
    StreamingArtifactClassifier,
    classify_intervals,
    correct_artifacts,
)
from hrv.time_domain import time_domain

from .conftest import insert_artifacts, load_nsrdb, load_polar_pvc_rr

log = logging.getLogger(__name__)


def _base(n: int = 60) -> np.ndarray:
    # 800 ms with a gentle +-10 ms oscillation: clean by any rule.
    return 800.0 + 10.0 * np.sin(np.arange(n) / 3.0)


def test_clean_series_has_no_flags() -> None:
    res = correct_artifacts(_base())
    assert res.n_flagged == 0 and res.burden_pct == 0.0
    np.testing.assert_array_equal(res.rr_ms, _base())


def test_missed_beat_split_evenly_with_times() -> None:
    rr = _base()
    bad = np.concatenate([rr[:30], [rr[30] + rr[31]], rr[32:]])
    t = np.cumsum(bad) / 1000.0
    res = correct_artifacts(bad, t)
    assert res.flags[30] == ArtifactClass.MISSED and res.n_flagged == 1
    assert res.counts["missed"] == 1
    assert res.rr_ms.size == bad.size + 1
    half = (rr[30] + rr[31]) / 2
    np.testing.assert_allclose(res.rr_ms[30:32], [half, half])
    assert res.t_s is not None
    # The inserted beat sits halfway; the others keep their times.
    assert res.t_s[30] == pytest.approx(t[29] + half / 1000.0)
    assert res.t_s[31] == pytest.approx(t[30])
    np.testing.assert_array_equal(res.source_index[29:33], [29, 30, 30, 31])
    assert res.burden_pct == pytest.approx(100.0 / bad.size)


def test_several_missed_beats_split_up_to_the_limit() -> None:
    rr = _base()
    # Three beats missed in a row: one interval of four; split into four even pieces.
    four = float(np.sum(rr[30:34]))
    bad = np.concatenate([rr[:30], [four], rr[34:]])
    res = correct_artifacts(bad, np.cumsum(bad) / 1000.0)
    assert res.flags[30] == ArtifactClass.MISSED
    assert res.rr_ms.size == bad.size + 3
    np.testing.assert_allclose(res.rr_ms[30:34], [four / 4] * 4)


@pytest.mark.parametrize("absurd_ms", [1e9, 1e12, 9 * 800.0])
def test_absurd_interval_is_never_split(absurd_ms: float) -> None:
    # 1e12 ms looks like 1.25 billion missed beats; splitting it would allocate them all.
    # Beyond 5 pieces (or 10 s) it is out of range: interpolated in place, one interval.
    rr = _base(120)
    bad = np.concatenate([rr[:60], [absurd_ms], rr[60:]])
    res = correct_artifacts(bad, np.cumsum(bad) / 1000.0)
    assert res.flags[60] == ArtifactClass.OUT_OF_RANGE
    assert res.rr_ms.size == bad.size
    assert res.rr_ms[60] == pytest.approx((rr[59] + rr[60]) / 2)
    # Flags from elsewhere (the streaming classifier) that call it missed do not split it either.
    given = np.zeros(bad.size, dtype=np.int8)
    given[60] = ArtifactClass.MISSED
    res = correct_artifacts(bad, flags=given, max_passes=1)
    assert res.rr_ms.size == bad.size
    assert res.flags[60] == ArtifactClass.OUT_OF_RANGE


def test_extra_beat_merged() -> None:
    rr = _base()
    bad = np.concatenate([rr[:30], [0.35 * rr[30], 0.65 * rr[30]], rr[31:]])
    res = correct_artifacts(bad)
    assert res.flags[30] == ArtifactClass.EXTRA and res.flags[31] == ArtifactClass.EXTRA
    assert res.counts["extra"] == 2 and res.n_flagged == 2
    assert res.rr_ms.size == bad.size - 1
    assert res.rr_ms[30] == pytest.approx(rr[30])


def test_ectopic_pair_becomes_two_equal_intervals() -> None:
    rr = _base()
    bad = rr.copy()
    bad[30], bad[31] = 480.0, rr[30] + rr[31] - 480.0  # premature beat + compensatory pause
    t = np.cumsum(bad) / 1000.0
    res = correct_artifacts(bad, t)
    assert list(res.flags[30:32]) == [ArtifactClass.ECTOPIC] * 2 and res.n_flagged == 2
    mean = (rr[30] + rr[31]) / 2
    np.testing.assert_allclose(res.rr_ms[30:32], [mean, mean])
    assert res.t_s is not None
    assert res.t_s[30] == pytest.approx(t[31] - mean / 1000.0)
    assert res.t_s[31] == pytest.approx(t[31])
    assert res.rr_ms.sum() == pytest.approx(bad.sum())


def test_out_of_range_interpolated() -> None:
    rr = _base()
    bad = rr.copy()
    bad[30] = 250.0
    res = correct_artifacts(bad)
    assert res.flags[30] == ArtifactClass.OUT_OF_RANGE and res.n_flagged == 1
    assert res.rr_ms[30] == pytest.approx((rr[29] + rr[31]) / 2)


def test_nothing_altered_without_flag() -> None:
    rng = np.random.default_rng(5)
    rr = 850.0 + 40.0 * np.sin(np.arange(400) / 4.0) + rng.normal(0, 8, 400)
    bad, _ = insert_artifacts(rr, rng, n_each=3)
    res = correct_artifacts(bad)
    unflagged = res.flags[res.source_index] == 0
    np.testing.assert_array_equal(res.rr_ms[unflagged], bad[res.source_index[unflagged]])
    assert res.n_flagged == sum(res.counts.values())


def test_short_and_empty_input() -> None:
    res = correct_artifacts([])
    assert res.n_total == 0 and math.isnan(res.burden_pct) and res.rr_ms.size == 0
    res = correct_artifacts([800.0, 2500.0])
    assert list(res.flags) == [0, ArtifactClass.OUT_OF_RANGE]
    assert res.rr_ms[1] == pytest.approx(800.0)
    with pytest.raises(ValueError):
        correct_artifacts([800.0, -1.0, 800.0])


@pytest.mark.parametrize("series", [2, 3, 4, 5, 6, 7])
def test_inserted_artifacts_nsrdb(series: int) -> None:
    rr = load_nsrdb(series)
    clean = time_domain(rr).rmssd_ms
    found = total = 0
    for seed in range(3):
        bad, marks = insert_artifacts(rr, np.random.default_rng(100 * series + seed))
        res = correct_artifacts(bad)
        for _kind, idx in marks:
            total += 1
            found += bool(np.any(res.flags[idx]))
        got = time_domain(res.rr_ms).rmssd_ms
        contaminated = time_domain(bad).rmssd_ms
        log.info(
            "series %d seed %d: RMSSD clean %.2f, with artifacts %.2f, corrected %.2f",
            series,
            seed,
            clean,
            contaminated,
            got,
        )
        assert contaminated > 1.3 * clean  # the insertion matters
        assert got == pytest.approx(clean, rel=0.10)
    assert found / total >= 0.90


def test_polar_h10_trigeminy() -> None:
    rr = load_polar_pvc_rr()
    res = correct_artifacts(rr)
    premature = rr < 550.0  # the ~430 ms premature beats
    caught = float(np.mean(res.flags[premature] != 0))
    log.info(
        "Polar PVC: burden %.1f %%, premature flagged %.3f, counts %s, RMSSD %.1f -> %.1f",
        res.burden_pct,
        caught,
        dict(res.counts),
        time_domain(rr).rmssd_ms,
        time_domain(res.rr_ms).rmssd_ms,
    )
    assert premature.sum() > 150
    assert caught >= 0.95
    # Trigeminy: two of every three intervals are premature or compensatory.
    assert res.burden_pct > 50.0
    assert time_domain(res.rr_ms).rmssd_ms < 0.15 * time_domain(rr).rmssd_ms


def test_against_neurokit2_low_hrv() -> None:
    nk = pytest.importorskip("neurokit2")
    rr = load_nsrdb(4)  # RMSSD about 21 ms
    clean = time_domain(rr).rmssd_ms
    bad, _ = insert_artifacts(rr, np.random.default_rng(0))
    ours = time_domain(correct_artifacts(bad).rr_ms).rmssd_ms
    peaks = np.concatenate([[0.0], np.cumsum(bad)]).round().astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios", iterative=True)
    theirs = time_domain(np.diff(fixed).astype(float)).rmssd_ms
    log.info(
        "series 4: clean %.2f, ours %.2f (%+.1f %%), NeuroKit2 %.2f (%+.1f %%)",
        clean,
        ours,
        100 * (ours / clean - 1),
        theirs,
        100 * (theirs / clean - 1),
    )
    assert ours == pytest.approx(clean, rel=0.10)
    assert abs(ours / clean - 1) <= abs(theirs / clean - 1)


def test_streaming_equals_causal_batch() -> None:
    rr = load_nsrdb(5)[:700]
    bad, _ = insert_artifacts(rr, np.random.default_rng(1), n_each=6)
    t = np.cumsum(bad) / 1000.0
    clf = StreamingArtifactClassifier()
    out = []
    for j, (r, tj) in enumerate(zip(bad, t, strict=True)):
        got = clf.push(r, tj)
        # Interval j - 2 becomes final when interval j arrives.
        assert [b.index for b in got] == ([j - 2] if j >= 2 else [])
        out += got
    out += clf.flush()
    codes = np.array([b.code for b in out])
    np.testing.assert_array_equal(codes, classify_intervals(bad, causal=True))
    assert np.count_nonzero(codes) > 0
    assert out[10].t_s == t[10] and out[10].rr_ms == bad[10]
