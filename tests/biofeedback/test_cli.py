"""The command-line contract: JSON keys, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from biofeedback.cli import main

ROOT = Path(__file__).resolve().parents[2]

METRIC_KEYS = {
    "n_beats",
    "duration_s",
    "mean_rr_ms",
    "mean_hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "pnn50_pct",
    "sd1_ms",
    "sd2_ms",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
    "artifacts",
    "rsa",
}
ARTIFACT_KEYS = {"n_flagged", "pct", "ectopic", "missed", "extra", "long_short"}
RSA_KEYS = {"pace_bpm", "amplitude_ms", "peak_to_trough_bpm", "phase_deg", "breathing_rate_est_bpm"}
SYNC_KEYS = {
    "z_mean",
    "effect_size",
    "p_value",
    "n_surrogates",
    "peak_lag_s",
    "leader",
    "in_phase_z",
    "anti_phase_z",
    "pacer_driven",
}


def _rr_file(tmp_path, name="rr.txt", n=300, seed=0):
    rng = np.random.default_rng(seed)
    rr = 800 + 40 * np.sin(np.arange(n) / 3) + rng.normal(0, 10, n)
    f = tmp_path / name
    f.write_text("\n".join(f"{v:.1f}" for v in rr))
    return f, rr


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def assert_contract(metrics):
    assert set(metrics) >= METRIC_KEYS
    assert set(metrics["artifacts"]) >= ARTIFACT_KEYS
    assert set(metrics["rsa"]) >= RSA_KEYS


def test_analyze_rr_file_json_contract_and_values(tmp_path, capsys):
    f, rr = _rr_file(tmp_path)
    out = _json(capsys, ["analyze", str(f), "--json", "--artifact-correction", "none"])
    solo = out["participants"]["solo"]
    assert_contract(solo)
    assert "synchrony" not in out
    assert solo["n_beats"] == 300
    rr = np.round(rr, 1)
    assert solo["mean_rr_ms"] == pytest.approx(rr.mean())
    assert solo["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(np.diff(rr) ** 2)))
    assert solo["duration_s"] == pytest.approx(rr.sum() / 1000)


def test_analyze_two_rr_files_as_a_dyad(tmp_path, capsys):
    a, _ = _rr_file(tmp_path, "a.txt", seed=1)
    b, _ = _rr_file(tmp_path, "b.txt", seed=2)
    out = _json(capsys, ["analyze", "--therapist", str(a), "--client", str(b), "--json"])
    assert set(out["participants"]) == {"therapist", "client"}
    for m in out["participants"].values():
        assert_contract(m)
    assert set(out["synchrony"]) >= SYNC_KEYS


def test_analyze_table_output(tmp_path, capsys):
    f, _ = _rr_file(tmp_path)
    assert main(["analyze", str(f)]) == 0
    text = capsys.readouterr().out
    assert "RMSSD (ms)" in text and "solo" in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["analyze", "{tmp}/missing.txt"], "missing.txt: no such file"),
        (["analyze", "{tmp}/bad.txt"], "bad.txt, line 2: not a number"),
        (["analyze", "{tmp}/fake.session"], "fake.session: not a session file"),
        (["analyze", "{tmp}/bad.txt", "{tmp}/bad.txt"], "--therapist A --client B"),
        (["analyze"], "nothing to analyse"),
        (["analyze", "{tmp}/ok.txt", "--pace-bpm", "90"], "--pace-bpm"),
        (["replay", "{tmp}/missing.session"], "missing.session: no such file"),
        (["replay", "{tmp}/fake.session"], "not a session file"),
        (["replay", "{tmp}/fake.session", "--speed", "fast"], "speed"),
        (["analyze", "--nonsense"], "unrecognized arguments"),
    ],
)
def test_bad_input_gives_one_line_and_status_2(tmp_path, capsys, argv, words):
    (tmp_path / "bad.txt").write_text("800\nabc\n")
    (tmp_path / "ok.txt").write_text("800\n810\n")
    (tmp_path / "fake.session").write_bytes(b"SQLite format 3\x00" + bytes(100))
    argv = [a.format(tmp=tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert words in lines[0]
    assert "Traceback" not in err


def test_as_a_process_no_traceback(tmp_path):
    f = tmp_path / "neg.txt"
    f.write_text("800\n-5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "biofeedback", "analyze", str(f)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "must be positive" in proc.stderr
