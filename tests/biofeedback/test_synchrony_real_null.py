"""The offline synchrony test on real, unrelated heart-rate records: how often it says "more than
chance" for two people who never met.

Null set: the seven one-hour NSRDB NN series (different healthy people, ``../shared/data``) cut
into six 9-minute chunks each; every pair of different people at the same chunk (126 pairs,
the same clock minutes of two unrelated recordings) is run as ``analyze --therapist A --client
B`` runs it (RR files read by :func:`load_input`, the same artifact detection, the product's
1000 segment-shuffled surrogates and 200 circular shifts). The full measurement (9-60 minutes,
same-person pairs, the simulator) is ``benchmarks/synchrony_null.py``.

Measured when this test was written: 5 of 126 below .05 (4.0 %); segment shuffling alone 10,
circular shifts alone 6; median p 0.59.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from biofeedback.analysis import detect_artifacts, load_input
from biofeedback.dyad_synchrony import synchrony_of

CHUNK_S = 9 * 60.0
N_PEOPLE = 7
N_CHUNKS = 6


def nine_minute_chunks(rr_ms: np.ndarray) -> list[np.ndarray]:
    """The beats whose times (cumulative sum) fall in each whole 9-minute chunk of the hour."""
    t_s = np.cumsum(rr_ms) / 1000.0
    return [rr_ms[(t_s > k * CHUNK_S) & (t_s <= (k + 1) * CHUNK_S)] for k in range(N_CHUNKS)]


@pytest.mark.slow
def test_unrelated_real_pairs_are_rarely_called_synchrony(shared_data: Path, tmp_path: Path):
    folder = shared_data / "nsrdb"
    if not (folder / "series_7.npy").exists():
        pytest.skip(f"{folder} has not the seven NSRDB series")
    chunks = [nine_minute_chunks(np.load(folder / f"series_{i}.npy")) for i in range(1, 8)]
    a, b = tmp_path / "therapist.txt", tmp_path / "client.txt"
    rows = []
    for i, j in itertools.combinations(range(N_PEOPLE), 2):
        for k in range(N_CHUNKS):
            np.savetxt(a, chunks[i][k], fmt="%d")
            np.savetxt(b, chunks[j][k], fmt="%d")
            data = load_input([], str(a), str(b))
            found = {role: detect_artifacts(s) for role, s in data.series.items()}
            s = synchrony_of(data, found=found)
            assert s["n_surrogates"] == 1000
            rows.append((s["p_value"], s["p_segments"], s["p_circular"], s["n_segments"]))
    p, p_seg, p_circ, n_seg = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
    # Every pair was really tested (17 segments of 30 s fit in 9 minutes; a few may be dropped
    # for irregular beats), with the product's surrogate counts.
    assert len(rows) == 126 and np.all(np.isfinite(p)) and n_seg.min() >= 12
    # A test at .05 calls about 6 of 126 unrelated pairs significant; more than 10 happens by
    # chance 5 % of the time for a nominal test and 73 % of the time for one that is wrong in
    # 10 % of sessions.
    assert np.count_nonzero(p < 0.05) <= 10
    # Each null alone: more than 13 of 126 has chance 0.4 % at a nominal rate.
    assert np.count_nonzero(p_seg < 0.05) <= 13
    assert np.count_nonzero(p_circ < 0.05) <= 13
    # No general drift towards small p either (both nulls must agree, so the combined p is at
    # or above uniform).
    assert np.median(p) > 0.4
