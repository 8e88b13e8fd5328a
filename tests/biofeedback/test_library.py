"""The session library, trends across sessions, and simulated series with a known drift."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from biofeedback.cli import main
from biofeedback.library import INDEX_NAME, Library
from biofeedback.simulate import PersonConfig, SimulationConfig
from biofeedback.simulate.series import write_simulated
from biofeedback.trends import slope_per_session

ROOT = Path(__file__).resolve().parents[2]
LABEL = "C-9"
DRIFT = 2.0


def _meta(path: Path) -> dict:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
    finally:
        db.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Five 3-minute sessions of one label with resting RMSSD rising 2 ms per session, and one
    short solo session of another label without a baseline."""
    d = tmp_path_factory.mktemp("library") / "sessions"
    argv = ["simulate", "--series", "5", "--label", LABEL, "--drift-rmssd-ms", str(DRIFT),
            "--minutes", "3", "--seed", "11", "--out", str(d)]  # fmt: skip
    assert main(argv) == 0
    config = SimulationConfig(people=(PersonConfig("solo"),), duration_s=240.0, seed=3)
    write_simulated(
        config, d / "other.session", metadata={"label": "K-1", "mode": "solo breathing"}
    )
    return d


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_series_files_carry_their_truth(folder):
    files = sorted(folder.glob(f"{LABEL}-series-*.session"))
    assert len(files) == 5
    truths = [_meta(f)["series_truth"] for f in files]
    assert [t["index"] for t in truths] == [0, 1, 2, 3, 4]
    assert all(t["drift_rmssd_ms_per_session"] == DRIFT for t in truths)
    realised = [t["resting_rmssd_ms_true"] for t in truths]
    for k, r in enumerate(realised):
        assert r == pytest.approx(30.0 + DRIFT * k, abs=0.3)
    dates = [_meta(f)["created_utc"] for f in files]
    assert dates == sorted(dates) and len(set(dates)) == 5
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_sessions_lists_every_session_with_facts_and_numbers(folder, capsys):
    rows = _json(capsys, ["sessions", "--json", "--data-dir", str(folder)])
    assert len(rows) == 6
    by_name = {r["name"]: r for r in rows}
    s1 = by_name[f"{LABEL}-series-01"]
    assert s1["label"] == LABEL and s1["mode"] == "two-person session"
    assert s1["people"] == ["therapist", "client"]
    assert s1["duration_s"] == pytest.approx(180.0, abs=2.0)
    client = s1["numbers"]["people"]["client"]
    truth = _meta(folder / f"{LABEL}-series-01.session")["series_truth"]
    assert client["resting_from"] == "baseline"
    assert client["resting_rmssd_ms"] == pytest.approx(truth["resting_rmssd_ms_true"], abs=0.5)
    assert client["resting_window_s"] == pytest.approx(truth["baseline_s"])
    other = by_name["other"]
    assert other["label"] == "K-1" and other["people"] == ["solo"]
    assert other["numbers"]["people"]["solo"]["resting_from"] == "first 3 min"
    # Oldest first (the solo session is dated today, the series weeks earlier).
    assert [r["name"] for r in rows][-1] == "other"
    index = folder / INDEX_NAME
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    # The table names the people and says where resting RMSSD comes from.
    assert main(["sessions", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{LABEL}-series-03" in out and "baseline" in out and "first 3 min" in out


def test_listing_again_reads_the_cache_not_the_sessions(folder, monkeypatch):
    Library(folder).entries()  # make sure every headline is cached
    import biofeedback.analysis as analysis

    def boom(*a, **k):
        raise AssertionError("analysed again")

    monkeypatch.setattr(analysis, "analyze_series", boom)
    monkeypatch.setattr(analysis, "load_input", boom)
    entries = Library(folder).entries()
    assert len(entries) == 6 and all(e.headline for e in entries)


def test_a_changed_file_is_read_again(tmp_path, folder):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(folder / "other.session", d / "a.session")
    first = Library(d).entries()[0]
    assert first.facts["label"] == "K-1"
    db = sqlite3.connect(d / "a.session")
    db.execute("UPDATE meta SET value = ? WHERE key = 'label'", (json.dumps("K-2"),))
    db.commit()
    db.close()
    os.utime(d / "a.session", ns=(1, 1))  # a different modification time
    assert Library(d).entries()[0].facts["label"] == "K-2"


def test_trend_slope_matches_the_simulated_drift(folder, capsys):
    res = _json(capsys, ["trends", LABEL, "--json", "--data-dir", str(folder)])
    assert res["n_sessions"] == 5 and res["person"] == ["client"]
    rest = res["trends"]["resting_rmssd_ms"]
    assert rest["n_sessions"] == 5
    assert rest["slope_per_session"] == pytest.approx(DRIFT, rel=0.2)
    assert all(r["resting_from"] == "baseline" for r in res["sessions"])
    # RSA at the pacer scales with the same variability, so it rises too; no assessment here.
    assert res["trends"]["rsa_amplitude_ms"]["slope_per_session"] > 0
    assert all(r["rsa_rate_bpm"] == 6.0 for r in res["sessions"])
    assert res["trends"]["suggested_bpm"]["slope_per_session"] is None
    assert res["synchrony_above_chance"]["sessions_tested"] == 5
    assert main(["trends", LABEL, "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "from 5 sessions" in out and "never extrapolated" in out


def test_a_trend_needs_three_sessions_and_says_so(folder, capsys):
    res = _json(capsys, ["trends", "K-1", "--json", "--data-dir", str(folder)])
    rest = res["trends"]["resting_rmssd_ms"]
    assert res["n_sessions"] == 1 and rest["slope_per_session"] is None
    assert "at least 3 sessions" in rest["note"] and "there is 1" in rest["note"]
    assert res["sessions"][0]["resting_from"] == "first 3 min"
    none = _json(capsys, ["trends", "nobody", "--json", "--data-dir", str(folder)])
    assert none["n_sessions"] == 0


def test_slope_by_hand():
    assert slope_per_session([0, 1, 2, 3], [1.0, 3.0, 5.0, 7.0]) == (2.0, 4)
    # A session without a value keeps its place: 0, 2, 3 -> points (0,1) (2,5) (3,7).
    assert slope_per_session([0, 1, 2, 3], [1.0, None, 5.0, 7.0]) == (pytest.approx(2.0), 3)
    assert slope_per_session([0, 1], [1.0, 2.0]) == (None, 2)


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_reading_never_writes_even_with_a_stray_wal(tmp_path, folder):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(folder / "other.session", d / "x.session")
    shutil.copy(folder / f"{LABEL}-series-01.session", d / "y.session")
    # An unrelated WAL beside x: a plain connect() would apply it to x.
    src = sqlite3.connect(tmp_path / "unrelated.db")
    src.execute("PRAGMA journal_mode=WAL")
    src.execute("PRAGMA wal_autocheckpoint=0")
    src.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    src.execute("INSERT INTO meta VALUES ('format', '\"something else\"')")
    src.commit()
    shutil.copy(tmp_path / "unrelated.db-wal", d / "x.session-wal")
    src.close()
    before = {p.name: _digest(p) for p in d.iterdir()}
    entries = Library(d).entries(numbers="headline")
    assert len(entries) == 2
    after = {p.name: _digest(p) for p in d.iterdir() if p.name in before}
    assert after == before


def test_delete_asks_and_removes_the_file_and_its_companions(tmp_path, folder, capsys, monkeypatch):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(folder / "other.session", d / "gone.session")
    shutil.copy(folder / "other.session", d / "kept.session")
    (d / "gone.session-wal").write_bytes(b"")
    (d / "gone.session-shm").write_bytes(b"")
    assert len(Library(d).entries(numbers=None)) == 2
    # No terminal and no --yes: refused, nothing removed.
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["sessions", "delete", "gone", "--data-dir", str(d)]) == 2
    assert "--yes" in capsys.readouterr().err and (d / "gone.session").exists()
    # At a terminal, answering no keeps it.
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["sessions", "delete", "gone", "--data-dir", str(d)]) == 1
    assert (d / "gone.session").exists()
    assert main(["sessions", "delete", "gone", "--yes", "--data-dir", str(d)]) == 0
    assert "deleted" in capsys.readouterr().out
    left = sorted(p.name for p in d.iterdir() if not p.name.startswith("."))
    assert left == ["kept.session"]
    names = [r["name"] for r in _json(capsys, ["sessions", "--json", "--data-dir", str(d)])]
    assert names == ["kept"]
    assert main(["sessions", "delete", "gone", "--yes", "--data-dir", str(d)]) == 2
    assert "no session named 'gone'" in capsys.readouterr().err


def test_report_and_replay_open_a_session_by_name(tmp_path, folder, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    d = tmp_path / "data" / "coregulation-monitor" / "sessions"
    d.mkdir(parents=True)
    shutil.copy(folder / "other.session", d / "monday.session")
    out = tmp_path / "monday.html"
    assert main(["report", "monday", "--out", str(out)]) == 0
    assert "K-1" in out.read_text(encoding="utf-8")
    assert main(["replay", "monday", "--speed", "max", "--quiet"]) == 0
    assert main(["report", "tuesday", "--out", str(out)]) == 2
    assert "tuesday" in capsys.readouterr().err


def test_a_damaged_file_is_listed_with_its_problem(tmp_path, folder, capsys):
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(folder / "other.session", d / "good.session")
    (d / "junk.session").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    rows = {r["name"]: r for r in _json(capsys, ["sessions", "--json", "--data-dir", str(d)])}
    assert rows["good"]["error"] is None and rows["good"]["numbers"]
    assert "junk.session" in rows["junk"]["error"]
    assert main(["sessions", "--data-dir", str(d)]) == 0
    assert "junk" in capsys.readouterr().out
    assert main(["sessions", "--data-dir", str(tmp_path / "nowhere")]) == 2


def test_trend_numbers_count_episodes_and_take_the_median_settling_time(folder, monkeypatch):
    """The co-regulation part of a trend follows design.md's contract (unsettled: null)."""
    import biofeedback.analysis as analysis
    from biofeedback.library import trend_numbers

    real = analysis.analyze

    def with_episodes(data, **kw):
        out = real(data, **kw)
        eps = [{"person": "client", "settle_s": s} for s in (40.0, None, 100.0, 70.0)]
        return {**out, "coregulation": {"reference": "baseline", "episodes": eps}}

    monkeypatch.setattr(analysis, "analyze", with_episodes)
    got = trend_numbers(str(folder / f"{LABEL}-series-01.session"))
    assert got["coregulation"] == {
        "n_episodes": 4,
        "median_settle_s": 70.0,
        "reference": "baseline",
    }
    assert got["people"]["client"]["rsa_rate_bpm"] == 6.0
