#!/usr/bin/env python3
"""Regenerate ``sample_data/`` bit for bit.

Usage::

    python scripts/make_sample_data.py [--out DIR] [--nsrdb-npy PATH | --skip-rr]

Writes

* ``dyad_session.session``: a 10-minute simulated therapist-client session (see
  :func:`dyad_config`); also copied to ``biofeedback/data/`` (:data:`PACKAGED`), where the
  installed program's ``biofeedback demo`` finds it with ``importlib.resources``;
* ``solo_paced.session``: a 5-minute simulated solo session at 6 breaths/min
  (:func:`solo_config`);
* ``nsrdb_series_1_rr.txt``: a real one-hour NN-interval series from the PhysioNet Normal Sinus
  Rhythm Database as shipped in the pyhrv wheel (``pyhrv/files/SampleNNISeriesLong.npy``,
  BSD-3-Clause). Without ``--nsrdb-npy`` the wheel is fetched with
  ``pip download --no-deps pyhrv`` into a temporary folder.

Session files are made reproducible by a fixed ``created_utc``; everything else in them is a
function of the simulation configuration and the seed. A final ``VACUUM`` rewrites each file
in a canonical page order, so two runs give identical bytes with the same SQLite library.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Sample files the installed package carries (byte-identical copies; a test checks it).
PACKAGED = {"dyad_session.session": ROOT / "biofeedback" / "data" / "dyad_session.session"}
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from biofeedback.recorder import record_to_file  # noqa: E402
from biofeedback.simulate import (  # noqa: E402
    ActivationEpisode,
    CouplingConfig,
    PacedSegment,
    PersonConfig,
    SimulationConfig,
)
from biofeedback.sources.simulated import SimulatedSource  # noqa: E402

log = logging.getLogger("make_sample_data")

#: Fixed creation time stored in the sample sessions, so regenerating them changes nothing.
CREATED_UTC = "2026-01-01T00:00:00+00:00"
NSRDB_MEMBER = "pyhrv/files/SampleNNISeriesLong.npy"
NSRDB_TXT = "nsrdb_series_1_rr.txt"


def dyad_config() -> SimulationConfig:
    """The 10-minute therapist-client sample session.

    * 0-30 s spontaneous breathing (therapist about 12/min, client about 16/min), each
      person's slow heart-rate changes their own;
    * slow arousal-driven heart-rate changes of 4 bpm (standard deviation) in both;
    * 30-210 s both follow a 6/min pacer, so two minutes in (``demo --duration 120``) the
      dashboard shows the heart following the breath and, from about 110 s, the live chance
      band; 210-600 s spontaneous again;
    * the client's strap drops out from 240 s to 260 s;
    * 270-600 s coupling of strength 0.9: the client's slow heart-rate changes lead, the
      therapist's follow 3 s later (most of the unpaced stretch, so the offline segment test
      has enough segments);
    * ectopic beats: therapist near 130 s and 515 s, client near 95 s, 330 s and 560 s; one
      missed beat (client, near 200 s);
    * at 420 s the client's heart rate rises by 18 beats/min over 20 s and settles with a time
      constant of 30 s while the therapist's goes on as before (an activation episode).
    """
    return SimulationConfig(
        people=(
            PersonConfig(
                "therapist",
                mean_hr_bpm=66.0,
                hrv_scale=1.0,
                breathing_rate_bpm=12.0,
                arousal_sd_bpm=4.0,
                ectopic_times_s=(130.0, 515.0),
            ),
            PersonConfig(
                "client",
                mean_hr_bpm=78.0,
                hrv_scale=0.8,
                breathing_rate_bpm=16.0,
                arousal_sd_bpm=4.0,
                resonance_bpm=5.5,
                ectopic_times_s=(95.0, 330.0, 560.0),
                missed_times_s=(200.0,),
                dropouts=((240.0, 260.0),),
                contact=True,
            ),
        ),
        duration_s=600.0,
        seed=20260101,
        pacing=(PacedSegment(30.0, 210.0, 6.0),),
        coupling=CouplingConfig(
            strength=0.9, lag_s=3.0, leader="client", windows=((270.0, 600.0),)
        ),
        episodes=(
            ActivationEpisode("client", 420.0, rise_bpm=18.0, rise_s=20.0, settle_tau_s=30.0),
        ),
    )


def solo_config() -> SimulationConfig:
    """The 5-minute solo session following a 6/min pacer from the start."""
    return SimulationConfig(
        people=(PersonConfig("solo", mean_hr_bpm=72.0, breathing_rate_bpm=14.0),),
        duration_s=300.0,
        seed=20260102,
        pacing=(PacedSegment(0.0, 300.0, 6.0),),
    )


SESSIONS = {
    "dyad_session.session": dyad_config,
    "solo_paced.session": solo_config,
}


def write_session(config: SimulationConfig, path: Path) -> None:
    """Simulate and record one session to ``path`` (replaced), then canonicalise the file."""
    source = SimulatedSource(config, metadata={"created_utc": CREATED_UTC})
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, path):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
    record_to_file(source, tmp)
    # VACUUM INTO writes a fresh, compact copy whose bytes depend only on the content, not on
    # how the recorder happened to batch its commits.
    db = sqlite3.connect(tmp)
    try:
        db.execute("VACUUM INTO ?", (str(path),))
    finally:
        db.close()
    tmp.unlink()
    os.chmod(path, 0o644)


def write_sessions(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in SESSIONS.items():
        path = out_dir / name
        write_session(make(), path)
        written.append(path)
    return written


def fetch_nsrdb_npy(tmp_dir: Path) -> bytes:
    """Download the pyhrv wheel with pip and read the NN series from it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "-d",
            str(tmp_dir),
            "pyhrv",
        ],
        check=True,
    )
    wheels = sorted(tmp_dir.glob("pyhrv-*.whl"))
    if not wheels:
        raise SystemExit("pip download did not produce a pyhrv wheel")
    with zipfile.ZipFile(wheels[-1]) as z:
        return z.read(NSRDB_MEMBER)


def write_nsrdb(out_dir: Path, npy: Path | None) -> Path:
    """Write the NSRDB series as an RR text file (ms, one per line, integers as in the data)."""
    if npy is not None:
        raw = npy.read_bytes()
    else:
        with tempfile.TemporaryDirectory() as d:
            raw = fetch_nsrdb_npy(Path(d))
    rr = np.load(io.BytesIO(raw), allow_pickle=False)
    if rr.ndim != 1 or rr.size < 100:
        raise SystemExit(f"unexpected NN series shape {rr.shape}")
    values = np.asarray(rr, dtype=np.int64)
    path = out_dir / NSRDB_TXT
    path.write_text("".join(f"{int(v)}\n" for v in values), encoding="ascii")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "sample_data", help="output folder")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--nsrdb-npy", type=Path, help=f"a local copy of {NSRDB_MEMBER} (skips the download)"
    )
    group.add_argument("--skip-rr", action="store_true", help="do not write the NSRDB RR file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in write_sessions(args.out):
        log.info("wrote %s (%d bytes)", path, path.stat().st_size)
        if path.name in PACKAGED and args.out.resolve() == (ROOT / "sample_data").resolve():
            target = PACKAGED[path.name]
            target.write_bytes(path.read_bytes())
            log.info("copied it to %s (the demo's copy inside the package)", target)
    if not args.skip_rr:
        path = write_nsrdb(args.out, args.nsrdb_npy)
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
