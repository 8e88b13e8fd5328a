"""Synchrony in bounded memory: the blocked computations equal the all-at-once ones.

The all-pairs product sums took ``K * 6 * K * 3 * L`` doubles (765 MB for a 3-hour session)
and the circular-shift null ``16 * K * 3 * L * w`` (680 MB); both now go in blocks.
"""

from __future__ import annotations

import numpy as np

import hrv.synchrony.kernel as kernel
import hrv.synchrony.surrogates as surrogates
from hrv.synchrony import synchrony


def test_all_pairs_z_in_blocks_equals_one_product(monkeypatch):
    rng = np.random.default_rng(7)
    n, w, lmax = 4000, 120, 20
    x = np.cumsum(rng.standard_normal(n))
    y = np.cumsum(rng.standard_normal(n))
    y[500:700] = np.nan  # a gap
    anchors = np.arange(lmax, n - w - lmax + 1, w, dtype=np.intp)
    monkeypatch.setattr(kernel, "PAIR_SUMS_BLOCK_BYTES", 2**40)
    whole = kernel.all_pairs_z(x, y, anchors, lmax, w, 60.0)
    monkeypatch.setattr(kernel, "PAIR_SUMS_BLOCK_BYTES", 1)  # one therapist segment at a time
    blocked = kernel.all_pairs_z(x, y, anchors, lmax, w, 60.0)
    assert whole.shape == (anchors.size, anchors.size, 2 * lmax + 1)
    # Same sums, other BLAS blocking: equal up to rounding (the sums cancel on random walks).
    np.testing.assert_allclose(blocked, whole, rtol=1e-9, atol=1e-9)
    assert np.array_equal(np.isnan(blocked), np.isnan(whole))


def test_circular_null_in_blocks_gives_the_same_result(monkeypatch):
    rng = np.random.default_rng(11)
    rr_t = 850 + 40 * rng.standard_normal(900)
    rr_c = 780 + 40 * rng.standard_normal(1000)
    t_t, t_c = np.cumsum(rr_t) / 1000, np.cumsum(rr_c) / 1000
    kw = {"n_surrogates": 200, "seed": 1}
    monkeypatch.setattr(surrogates, "_CIRC_BLOCK_PAIRS", 10**9)
    once = synchrony(t_t, rr_t, t_c, rr_c, **kw)
    monkeypatch.setattr(surrogates, "_CIRC_BLOCK_PAIRS", 1)
    blocked = synchrony(t_t, rr_t, t_c, rr_c, **kw)
    assert once.contract() == blocked.contract()
