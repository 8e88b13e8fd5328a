"""False-positive rate of the offline synchrony test on real, unrelated heart-rate records.

Two people who never met cannot be in synchrony, so every pair below should come out "no more
than chance"; at alpha = .05 about 5 % will not, by design. This script measures how many do.

Null set (``/work/shared/data/nsrdb/series_1..7.npy``: seven one-hour NN series of different
healthy people from the PhysioNet MIT-BIH Normal Sinus Rhythm Database; beat times are the
cumulative sum of the intervals):

- ``60 min``: the 21 pairs of different people, whole records;
- ``9``, ``10``, ``20``, ``30 min``: non-overlapping chunks of that length (6, 5, 2, 1 per
  record: the records are a few seconds short of an hour), every chunk of one person against
  every chunk of another (36, 25, 4, 1 pairs per pair of people: same-time and different-time
  chunks), plus every pair of different chunks of the same person (a person at another time
  of the hour is just as unrelated).

Each pair is written as two plain RR files and run exactly as ``biofeedback analyze --therapist
A --client B`` runs it: :func:`biofeedback.analysis.load_input`, the artifact detection of
:func:`biofeedback.analysis.detect_artifacts`, then :func:`biofeedback.dyad_synchrony.synchrony_of`
(1000 segment-shuffled surrogates, 200 circular shifts, seed 0). For each class the fraction
with ``p_value < .05`` (both nulls), ``p_segments < .05`` (segment shuffling alone) and
``p_circular < .05`` (circular shifts alone), each with a Wilson 95 % interval. Chunks are
reused across pairs, so pairs are not independent and the binomial interval is too narrow.

``--sim N`` adds N independent dyads of the project's simulator (:mod:`biofeedback.simulate`,
the same model the acceptance tests use) at 10 minutes through the same function, so real data
and the method can be told apart.

Usage: ``nice python -m benchmarks.synchrony_null [--minutes 9 10 20 30 60] [--sim 200]
[--json F]``. The default real set (1,589 pairs) took 145 CPU s and ``--sim 200`` 23 CPU s on
the project's 2-core machine (about 5 minutes' wall time there under load). Since pairs share
people, each rate also gets an interval from resampling the seven people (``people``).
:func:`run` (for ``python -m benchmarks``) gives the 10-minute row only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback.analysis import detect_artifacts, load_input
from biofeedback.dyad_synchrony import synchrony_of

#: Where the shared real recordings live, relative to the project checkout.
DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nsrdb"
ALPHA = 0.05


def load_records(data_dir: Path = DATA_DIR) -> list[np.ndarray]:
    """The seven NSRDB NN series (ms, int) in file order; empty when the folder is absent."""
    return [np.load(data_dir / f"series_{i}.npy") for i in range(1, 8)] if data_dir.is_dir() else []


def chunks(rr_ms: np.ndarray, minutes: float) -> list[np.ndarray]:
    """Non-overlapping chunks of ``minutes`` each, whole beats (a last partial one dropped)."""
    t_s = np.cumsum(rr_ms) / 1000.0
    span = minutes * 60.0
    out = []
    for k in range(int(t_s[-1] // span)):
        keep = (t_s > k * span) & (t_s <= (k + 1) * span)
        out.append(rr_ms[keep])
    return out


def null_pairs(
    records: Sequence[np.ndarray], minutes: float
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """``(label, therapist_rr_ms, client_rr_ms)`` for every unrelated pair of one chunk length.

    ``minutes >= 60`` gives the whole records of different people; shorter gives every chunk of
    one person against every chunk of another, then different chunks of the same person.
    """
    if minutes >= 60:
        for i, j in itertools.combinations(range(len(records)), 2):
            yield f"s{i + 1}-s{j + 1}", records[i], records[j]
        return
    cut = [chunks(r, minutes) for r in records]
    for i, j in itertools.combinations(range(len(records)), 2):
        for a, b in itertools.product(range(len(cut[i])), range(len(cut[j]))):
            yield f"s{i + 1}c{a}-s{j + 1}c{b}", cut[i][a], cut[j][b]
    for i in range(len(records)):
        for a, b in itertools.combinations(range(len(cut[i])), 2):
            yield f"s{i + 1}c{a}-s{i + 1}c{b}", cut[i][a], cut[i][b]


def analyze_pair(rr_t_ms: np.ndarray, rr_c_ms: np.ndarray, workdir: Path) -> dict[str, Any]:
    """The ``synchrony`` object ``analyze --therapist A --client B`` gives for two RR lists."""
    a, b = workdir / "therapist.txt", workdir / "client.txt"
    np.savetxt(a, np.asarray(rr_t_ms), fmt="%d")
    np.savetxt(b, np.asarray(rr_c_ms), fmt="%d")
    data = load_input([], str(a), str(b))
    found = {role: detect_artifacts(s) for role, s in data.series.items()}
    return synchrony_of(data, found=found)


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95 % interval for ``k`` successes in ``n`` (``(nan, nan)`` for ``n`` 0)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def person_bootstrap(
    rows: Sequence[dict[str, Any]], key: str, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile interval of the rate when the seven *people* are resampled.

    Pairs that share a person (or a chunk) are not independent, so the binomial interval is
    too narrow. Each draw takes 7 people with replacement and keeps every pair whose two
    people were both drawn at different positions (a pair counts once per such position pair).
    """
    persons = sorted({p for r in rows for p in r["persons"]})
    if len(persons) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    hit: dict[tuple[int, int], list[int]] = {}
    for r in rows:
        a, b = sorted(r["persons"])
        hit.setdefault((a, b), [0, 0])
        hit[(a, b)][0] += int(r[key] is not None and r[key] < ALPHA)
        hit[(a, b)][1] += 1
    rates = []
    for _ in range(n_boot):
        draw = rng.choice(persons, size=len(persons), replace=True)
        k = n = 0
        for x, y in itertools.combinations(draw, 2):
            c = hit.get((min(x, y), max(x, y)))
            if c is not None:
                k += c[0]
                n += c[1]
        if n:
            rates.append(k / n)
    lo, hi = np.percentile(rates, [2.5, 97.5]) if rates else (math.nan, math.nan)
    return float(lo), float(hi)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts, Wilson and person-bootstrap intervals of ``p < alpha``, combined and per null."""
    ok = [r for r in rows if r["p_value"] is not None]
    n = len(ok)
    out: dict[str, Any] = {"n_pairs": len(rows), "n_tested": n}
    for key in ("p_value", "p_segments", "p_circular"):
        k = sum(1 for r in ok if r[key] is not None and r[key] < ALPHA)
        lo, hi = wilson(k, n)
        out[key] = {"k": k, "rate": k / n if n else math.nan, "ci95": [lo, hi]}
        if all("persons" in r and not r["same_person"] for r in ok):
            out[key]["ci95_people"] = list(person_bootstrap(ok, key))
    return out


def measure(
    records: Sequence[np.ndarray],
    minutes: float,
    pair_filter: Callable[[str], bool] | None = None,
) -> list[dict[str, Any]]:
    """One row per unrelated pair of ``minutes``: label and the test's p-values."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, rt, rc in null_pairs(records, minutes):
            if pair_filter is not None and not pair_filter(label):
                continue
            s = analyze_pair(rt, rc, Path(tmp))
            rows.append(
                {
                    "pair": label,
                    "minutes": minutes,
                    "persons": [int(v) for v in re.findall(r"s(\d+)", label)],
                    "same_person": len(set(re.findall(r"s(\d+)", label))) == 1,
                    **{
                        k: s.get(k)
                        for k in (
                            "p_value",
                            "p_segments",
                            "p_circular",
                            "effect_size",
                            "z_mean_signed",
                            "n_segments",
                            "pacer_driven",
                        )
                    },
                }
            )
    return rows


def simulated(n: int, minutes: float) -> list[dict[str, Any]]:
    """Independent simulated dyads (no coupling, no pacer) through the same analysis path."""
    from biofeedback import simulate
    from biofeedback.analysis import RoleSeries, SessionInput
    from hrv.artifacts import correct_artifacts

    rows = []
    for seed in range(n):
        dur = minutes * 60.0
        cfg = simulate.SimulationConfig(
            people=(
                simulate.PersonConfig("therapist", mean_hr_bpm=68.0),
                simulate.PersonConfig("client", mean_hr_bpm=78.0),
            ),
            duration_s=dur,
            seed=seed,
        )
        sim = simulate.simulate_session(cfg)
        series = {}
        for role in ("therapist", "client"):
            b = sim.true_beats[role]
            keep = b.delivered
            series[role] = RoleSeries(role, b.t_s[keep], b.rr_ms[keep])
        data = SessionInput("sim", series)
        found = {r: correct_artifacts(s.rr_ms, s.t_s) for r, s in series.items()}
        s = synchrony_of(data, found=found)
        rows.append(
            {"pair": f"sim{seed}", "minutes": minutes, "same_person": False}
            | {k: s.get(k) for k in ("p_value", "p_segments", "p_circular", "effect_size")}
        )
    return rows


def _print(name: str, summ: dict[str, Any]) -> None:
    parts = [f"{name:<28} n={summ['n_tested']:4d}"]
    for key, short in (("p_value", "both"), ("p_segments", "segments"), ("p_circular", "circular")):
        d = summ[key]
        lo, hi = d["ci95"]
        parts.append(f"{short} {100 * d['rate']:5.1f} % [{100 * lo:4.1f}-{100 * hi:4.1f}]")
        if "ci95_people" in d:
            plo, phi = d["ci95_people"]
            parts[-1] += f" (people {100 * plo:4.1f}-{100 * phi:4.1f})"
    print("  ".join(parts))


def run() -> list[dict[str, Any]]:
    """One benchmark row: the 10-minute real null set (skipped when the data are absent)."""
    records = load_records()
    if not records:
        return []
    t0 = time.process_time()
    rows = measure(records, 10)
    cpu = time.process_time() - t0
    summ = summarize(rows)
    d = summ["p_value"]
    lo, hi = d["ci95"]
    return [
        {
            "name": "synchrony test, false positives on unrelated NSRDB 10-min pairs",
            "ours_s": cpu,
            "baseline_name": "nominal rate 5 %",
            "baseline_s": None,
            "ratio": d["rate"] / ALPHA,
            "note": f"{d['k']}/{summ['n_tested']} pairs p < .05 ({100 * d['rate']:.1f} %, "
            f"Wilson 95 % {100 * lo:.1f}-{100 * hi:.1f}); ratio = rate / 5 % (1 = nominal, "
            "above 1 = lenient); ours_s = CPU s for the whole set",
        }
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="*", default=[9.0, 10.0, 20.0, 30.0, 60.0])
    ap.add_argument("--sim", type=int, default=0, help="also N simulated independent dyads")
    ap.add_argument("--json", type=Path, help="write every pair's p-values here")
    args = ap.parse_args(argv)
    records = load_records()
    if not records:
        print(f"no data at {DATA_DIR}", file=sys.stderr)
        return 2
    all_rows: list[dict[str, Any]] = []
    for minutes in args.minutes:
        t0 = time.process_time()
        rows = measure(records, minutes)
        cpu = time.process_time() - t0
        all_rows += rows
        cross = [r for r in rows if not r["same_person"]]
        same = [r for r in rows if r["same_person"]]
        _print(f"{minutes:g} min, different people", summarize(cross))
        if same:
            _print(f"{minutes:g} min, same person", summarize(same))
        print(f"   ({cpu:.0f} CPU s)")
    if args.sim:
        t0 = time.process_time()
        rows = simulated(args.sim, 10.0)
        all_rows += rows
        _print("simulator, 10 min", summarize(rows))
        print(f"   ({time.process_time() - t0:.0f} CPU s)")
    if args.json:
        args.json.write_text(json.dumps(all_rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
