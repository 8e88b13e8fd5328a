"""The dyad simulator, its source, the simulate command and the sample data."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy import signal

from biofeedback import gatt
from biofeedback.beats import Beat, Event, EventKind, NotificationDecoder, Packet
from biofeedback.cli import main
from biofeedback.recorder import record_to_file
from biofeedback.session_reader import SessionReader
from biofeedback.simulate import (
    CouplingConfig,
    PacedSegment,
    PersonConfig,
    Simulation,
    SimulationConfig,
    rsa_amplitude_ms,
    simulate_session,
)
from biofeedback.sources.replay import ReplaySource
from biofeedback.sources.simulated import SimulatedSource

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DATA = ROOT / "sample_data"
SHARED_DATA = ROOT / ".." / "shared" / "data"


# -- helpers (independent of the simulator's internals) ----------------------------------------


def sine_amplitude(t: np.ndarray, rr: np.ndarray, f_hz: float) -> float:
    """Least-squares fit of c0 + a sin(2 pi f t) + b cos(2 pi f t); returns sqrt(a^2 + b^2)."""
    x = np.column_stack(
        [np.ones_like(t), np.sin(2 * np.pi * f_hz * t), np.cos(2 * np.pi * f_hz * t)]
    )
    coef, *_ = np.linalg.lstsq(x, rr, rcond=None)
    return float(np.hypot(coef[1], coef[2]))


def hr_4hz(t: np.ndarray, rr: np.ndarray, t0: float, t1: float) -> np.ndarray:
    grid = np.arange(t0, t1, 0.25)
    return signal.detrend(np.interp(grid, t, 60000.0 / rr))


def cross_correlation(x: np.ndarray, y: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """corr(x(t), y(t + lag)) for lags in samples; positive lag: y repeats x later."""
    lags = np.arange(-max_lag, max_lag + 1)
    out = []
    for lag in lags:
        a, b = (x[: x.size - lag], y[lag:]) if lag >= 0 else (x[-lag:], y[: y.size + lag])
        out.append(np.corrcoef(a, b)[0, 1])
    return lags, np.asarray(out)


def decode_all(sim: Simulation) -> tuple[list[Beat], list[Event]]:
    decoder = NotificationDecoder()
    beats: list[Beat] = []
    derived: list[Event] = []
    for item in sim.raw_items():
        for out in decoder.feed(item):
            (beats if isinstance(out, Beat) else derived).append(out)
    return beats, derived


def dyad(**kw) -> SimulationConfig:
    people = (
        PersonConfig("therapist", mean_hr_bpm=66.0, breathing_rate_bpm=12.0),
        PersonConfig("client", mean_hr_bpm=78.0, breathing_rate_bpm=16.0),
    )
    return SimulationConfig(people=kw.pop("people", people), **kw)


@pytest.fixture(scope="module")
def artifact_sim() -> Simulation:
    cfg = SimulationConfig(
        people=(
            PersonConfig(
                "therapist",
                mean_hr_bpm=64.0,
                ectopic_times_s=(50.0, 150.0),
                ectopic_per_min=1.0,
                missed_times_s=(100.0,),
            ),
            PersonConfig("client", mean_hr_bpm=80.0, dropouts=((120.0, 140.0),), contact=True),
        ),
        duration_s=240.0,
        seed=11,
        late_bursts_per_min=2.0,
    )
    return simulate_session(cfg)


# -- determinism and packets -------------------------------------------------------------------


def test_same_config_and_seed_give_identical_packets() -> None:
    cfg = dyad(duration_s=180.0, seed=3, pacing=(PacedSegment(60.0, 120.0, 6.0),))
    a, b = simulate_session(cfg), simulate_session(cfg)
    assert a.packets == b.packets
    assert a.events == b.events
    assert json.dumps(a.ground_truth) == json.dumps(b.ground_truth)
    c = simulate_session(dataclasses.replace(cfg, seed=4))
    assert [p.payload for p in c.packets] != [p.payload for p in a.packets]


def test_every_packet_decodes_and_is_strap_like(artifact_sim: Simulation) -> None:
    sim = artifact_sim
    assert [p.seq for p in sim.packets] == list(range(len(sim.packets)))
    times = [p.t_s for p in sim.packets]
    assert times == sorted(times) and times[0] >= 0
    per_role: dict[str, list[Packet]] = {}
    for p in sim.packets:
        m = gatt.decode(p.payload)
        assert len(m.rr_ms) <= 9
        if m.rr_ms:
            assert m.heart_rate_bpm == round(60000.0 / m.rr_ms[-1])
        # Therapist strap like a Polar H10 (0x10), client like an H7 (0x16, contact).
        expected = 0x16 if p.role == "client" else 0x10
        assert m.flags == (expected if m.rr_ms else expected & ~0x10)
        per_role.setdefault(p.role, []).append(p)
    for role, packets in per_role.items():
        gaps = np.diff([p.t_s for p in packets])
        normal = gaps[(gaps > 0.5) & (gaps < 1.5)]
        # About one notification per second.
        assert normal.size > 0.8 * gaps.size, role
        assert abs(np.median(gaps) - 1.0) < 0.05


def test_late_bursts_deliver_held_beats_together(artifact_sim: Simulation) -> None:
    gt = artifact_sim.ground_truth["participants"]
    for role in ("therapist", "client"):
        bursts = gt[role]["late_bursts"]
        assert bursts, role
        packets = [p for p in artifact_sim.packets if p.role == role]
        t = np.array([p.t_s for p in packets])
        for burst in bursts:
            release = burst["t_s"] + burst["delay_s"]
            i = int(np.searchsorted(t, release))
            # Nothing between the held notification and the release, then several RR at once.
            assert t[i - 1] < burst["t_s"] and release < t[i] < release + 0.05
            assert len(gatt.decode(packets[i].payload).rr_ms) >= 2
    _, derived = decode_all(artifact_sim)
    # Held RR (2-4 s late) keep their cumulative timing: the only gap is the drop-out.
    assert [(e.kind, e.role) for e in derived] == [("gap", "client")]


def test_decoded_beats_are_true_beats_shifted_by_the_stated_offset(
    artifact_sim: Simulation,
) -> None:
    beats, _ = decode_all(artifact_sim)
    gt = artifact_sim.ground_truth["participants"]
    for role, truth in artifact_sim.true_beats.items():
        got = [b for b in beats if b.role == role]
        t_true = truth.t_s[truth.delivered]
        rr_true = truth.rr_ms[truth.delivered]
        assert np.array_equal([b.rr_ms for b in got], rr_true)
        offsets = gt[role]["timing_offsets"]
        starts = np.array([o["connected_s"] for o in offsets])
        which = np.searchsorted(starts, t_true, side="right") - 1
        shift = np.array([offsets[k]["offset_s"] for k in which])
        t_got = np.array([b.t_s for b in got])
        np.testing.assert_allclose(t_got - shift, t_true, atol=1e-9)
        assert len(offsets) == 1 + len(gt[role]["dropouts"])
        assert all(0 <= o["offset_s"] <= 2.0 for o in offsets)


# -- physiology --------------------------------------------------------------------------------


def test_mean_hr_is_close_to_the_configured_value() -> None:
    sim = simulate_session(dyad(duration_s=300.0, seed=5))
    for p in sim.config.people:
        rr = sim.true_beats[p.role].rr_ms
        mean_hr = 60000.0 / rr.mean()
        assert abs(mean_hr - p.mean_hr_bpm) < 2.0, p.role
        # About the right number of beats, and the stored truth matches.
        assert abs(rr.size - p.mean_hr_bpm * 5) < 15
        assert sim.ground_truth["participants"][p.role]["mean_hr_bpm_actual"] == pytest.approx(
            mean_hr
        )


def test_rsa_amplitude_curve_matches_the_published_ranges() -> None:
    # Peak-to-trough RR: about 40-60 ms at 15/min, 150-250 ms at 6/min (Lehrer 2000).
    assert 40 <= 2 * rsa_amplitude_ms(15.0) <= 60
    assert 150 <= 2 * rsa_amplitude_ms(6.0) <= 250
    assert rsa_amplitude_ms(6.0) > rsa_amplitude_ms(9.0) > rsa_amplitude_ms(12.0)
    assert rsa_amplitude_ms(0.0) == 0.0


# At 15/min the amplitude is only ~25 ms, so the beat-to-beat jitter (6 ms) alone gives the fit a
# standard error of ~0.6 ms (2-3 %); the tolerance there is wider.
@pytest.mark.parametrize(("rate_bpm", "rel"), [(6.0, 0.05), (15.0, 0.12)])
def test_paced_rsa_amplitude_is_recovered_by_a_sine_fit(rate_bpm: float, rel: float) -> None:
    seg = PacedSegment(60.0, 240.0, rate_bpm)
    sim = simulate_session(dyad(duration_s=300.0, seed=8, pacing=(seg,)))
    for role, beats in sim.true_beats.items():
        segs = sim.ground_truth["participants"][role]["segments"]
        paced = next(s for s in segs if s["breathing"] == "paced")
        assert paced["breathing_rate_bpm"] == rate_bpm
        sel = (beats.t_s >= paced["steady_from_s"]) & (beats.t_s <= paced["end_s"])
        amp = sine_amplitude(beats.t_s[sel], beats.rr_ms[sel], rate_bpm / 60.0)
        assert amp == pytest.approx(paced["rsa_amplitude_ms"], rel=rel), role


def test_paced_rsa_from_decoded_packets_matches_ground_truth() -> None:
    cfg = SimulationConfig(
        people=(PersonConfig("solo", mean_hr_bpm=72.0),),
        duration_s=240.0,
        seed=2,
        pacing=(PacedSegment(0.0, 240.0, 6.0),),
    )
    sim = simulate_session(cfg)
    beats, _ = decode_all(sim)
    t = np.array([b.t_s for b in beats])
    rr = np.array([b.rr_ms for b in beats])
    sel = t >= 15.0
    amp = sine_amplitude(t[sel], rr[sel], 0.1)
    assert amp == pytest.approx(
        sim.ground_truth["participants"]["solo"]["segments"][0]["rsa_amplitude_ms"], rel=0.05
    )


def test_spontaneous_breathing_rate_is_the_hf_spectral_peak() -> None:
    sim = simulate_session(dyad(duration_s=300.0, seed=9))
    f = np.linspace(0.15, 0.4, 501)
    for role, beats in sim.true_beats.items():
        rr = beats.rr_ms - beats.rr_ms.mean()
        power = signal.lombscargle(beats.t_s, rr, 2 * np.pi * f)
        peak_bpm = f[np.argmax(power)] * 60.0
        stated = sim.ground_truth["participants"][role]["segments"][0]["breathing_rate_bpm"]
        configured = next(p for p in sim.config.people if p.role == role).breathing_rate_bpm
        assert abs(stated - configured) < 1.5
        assert abs(peak_bpm - stated) < 1.0, (role, peak_bpm, stated)


@pytest.mark.parametrize(("leader", "sign"), [("client", 1), ("therapist", -1)])
def test_coupling_shows_up_as_a_lagged_hr_cross_correlation(leader: str, sign: int) -> None:
    sim = simulate_session(
        dyad(duration_s=600.0, seed=4, coupling=CouplingConfig(0.9, 3.0, leader))
    )
    tb = sim.true_beats
    x = hr_4hz(tb["client"].t_s, tb["client"].rr_ms, 5.0, 595.0)
    y = hr_4hz(tb["therapist"].t_s, tb["therapist"].rr_ms, 5.0, 595.0)
    lags, c = cross_correlation(x, y, 40)
    peak_lag_s = lags[np.argmax(c)] / 4.0
    assert abs(peak_lag_s - sign * 3.0) <= 1.25
    assert c.max() > 0.35
    gt = sim.ground_truth["coupling"]
    assert (gt["leader"], gt["lag_s"], gt["strength"]) == (leader, 3.0, 0.9)


def test_no_coupling_gives_no_lagged_correlation() -> None:
    sim = simulate_session(dyad(duration_s=600.0, seed=4))
    tb = sim.true_beats
    x = hr_4hz(tb["client"].t_s, tb["client"].rr_ms, 5.0, 595.0)
    y = hr_4hz(tb["therapist"].t_s, tb["therapist"].rr_ms, 5.0, 595.0)
    lags, c = cross_correlation(x, y, 40)
    assert abs(c[lags == 12][0]) < 0.3 and abs(c[lags == -12][0]) < 0.3
    assert np.abs(c).max() < 0.3
    assert sim.ground_truth["coupling"]["leader"] is None


def test_coupling_window_is_where_the_correlation_is() -> None:
    cfg = dyad(
        duration_s=600.0, seed=6, coupling=CouplingConfig(1.0, 2.0, "client", ((0.0, 300.0),))
    )
    tb = simulate_session(cfg).true_beats
    peaks = []
    for t0, t1 in ((10.0, 295.0), (310.0, 595.0)):
        x = hr_4hz(tb["client"].t_s, tb["client"].rr_ms, t0, t1)
        y = hr_4hz(tb["therapist"].t_s, tb["therapist"].rr_ms, t0, t1)
        lags, c = cross_correlation(x, y, 40)
        peaks.append(c[lags == 8][0])
    assert peaks[0] > 0.4 > 0.3 > abs(peaks[1])


# -- artifacts and drop-outs -------------------------------------------------------------------


def test_ectopic_and_missed_beats_are_at_the_stated_times(artifact_sim: Simulation) -> None:
    gt = artifact_sim.ground_truth["participants"]["therapist"]
    truth = artifact_sim.true_beats["therapist"]
    ectopic = gt["ectopic_beats_s"]
    # Two placed by time, plus the random ones (rate 1/min over 4 min: some).
    assert len(ectopic) >= 3
    assert any(abs(t - 50.0) < 1.5 for t in ectopic) and any(abs(t - 150.0) < 1.5 for t in ectopic)
    beats, _ = decode_all(artifact_sim)
    mine = [b for b in beats if b.role == "therapist"]
    t = np.array([b.t_s for b in mine])
    rr = np.array([b.rr_ms for b in mine])
    offset = gt["timing_offsets"][0]["offset_s"]
    median = np.median(rr)
    for te in ectopic:
        k = int(np.argmin(np.abs(t - (te + offset))))
        assert abs(t[k] - (te + offset)) < 1e-6
        assert rr[k] < 0.8 * median and rr[k + 1] > 1.15 * median
        assert truth.label[np.argmin(np.abs(truth.t_s - te))] == "ectopic"
    (tm,) = gt["missed_beats_s"]
    assert abs(tm - 100.0) < 2.0
    # Outside the placed artifacts the series is clean: short beats are exactly the ectopic
    # ones, very long ones exactly the missed one.
    short = t[rr < 0.8 * median] - offset
    np.testing.assert_allclose(short, ectopic, atol=1e-6)
    very_long = t[rr > 1.7 * median] - offset
    np.testing.assert_allclose(very_long, [tm], atol=1e-6)


def test_dropout_gives_disconnect_connect_and_no_packets(artifact_sim: Simulation) -> None:
    sim = artifact_sim
    ev = [(e.t_s, e.kind) for e in sim.events if e.role == "client"]
    assert ev == [(0.0, "connect"), (120.0, "disconnect"), (140.0, "connect")]
    disconnect = next(e for e in sim.events if e.kind == EventKind.DISCONNECT)
    assert disconnect.data["reason"]
    client_t = [p.t_s for p in sim.packets if p.role == "client"]
    assert not [t for t in client_t if 120.0 <= t <= 140.0]
    assert any(119.0 < t < 120.0 for t in client_t) and any(140.0 < t < 141.1 for t in client_t)
    # The other strap keeps going.
    assert any(120.0 < p.t_s < 140.0 for p in sim.packets if p.role == "therapist")
    truth = sim.true_beats["client"]
    inside = (truth.t_s > 120.0) & (truth.t_s <= 140.0)
    assert inside.sum() > 20 and not truth.delivered[inside].any()
    assert sim.ground_truth["participants"]["client"]["dropouts"] == [
        {"start_s": 120.0, "end_s": 140.0}
    ]
    # Items come in arrival order: the disconnect precedes every later packet.
    items = sim.raw_items()
    assert [i.t_s for i in items] == sorted(i.t_s for i in items)


def test_invalid_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="coupling strength"):
        simulate_session(dyad(coupling=CouplingConfig(1.5)))
    with pytest.raises(ValueError, match="needs two people"):
        simulate_session(
            SimulationConfig(people=(PersonConfig("solo"),), coupling=CouplingConfig(0.5))
        )
    with pytest.raises(ValueError, match="overlap"):
        simulate_session(dyad(pacing=(PacedSegment(10, 100), PacedSegment(50, 200))))
    with pytest.raises(ValueError, match="drop-out"):
        simulate_session(
            dyad(people=(PersonConfig("therapist", dropouts=((500.0, 700.0),)),), duration_s=600)
        )
    with pytest.raises(ValueError, match="role"):
        simulate_session(SimulationConfig(people=(PersonConfig("coach"),)))


# -- the source, recording and replay ----------------------------------------------------------


def test_recorded_simulation_replays_to_the_recorded_beats(tmp_path: Path) -> None:
    cfg = dyad(
        duration_s=120.0,
        seed=12,
        pacing=(PacedSegment(30.0, 90.0, 6.0),),
        people=(
            PersonConfig("therapist", ectopic_times_s=(40.0,)),
            PersonConfig("client", dropouts=((60.0, 75.0),)),
        ),
    )
    source = SimulatedSource(cfg, metadata={"created_utc": "2026-01-01T00:00:00+00:00"})
    assert source.roles == ("therapist", "client")
    path = tmp_path / "sim.session"
    stats = record_to_file(source, path)
    assert stats.packets == len(source.simulation.packets)
    with SessionReader(path) as r:
        assert r.meta["source"] == "simulator"
        assert r.meta["created_utc"] == "2026-01-01T00:00:00+00:00"
        assert r.meta["ground_truth"] == source.ground_truth
        assert r.meta["settings"] == cfg.to_dict()
        assert r.participants["client"]["name"] == "Simulated strap (client)"
        recorded = r.recorded_beats()
        pacer = [e.data["rate_bpm"] for e in r.events() if e.kind == EventKind.PACER]
        assert pacer == [6.0, 0.0]
    replayed = [i for i in asyncio.run(ReplaySource(path).collect()) if isinstance(i, Beat)]
    key = lambda b: (b.seq, b.role, b.index)  # noqa: E731
    assert sorted(replayed, key=key) == sorted(recorded, key=key)
    assert len(recorded) == sum(
        int(b.delivered.sum()) for b in source.simulation.true_beats.values()
    )


def test_source_yields_packets_and_events_in_arrival_order() -> None:
    cfg = dyad(duration_s=60.0, seed=1, pacing=(PacedSegment(20.0, 40.0, 6.0),))
    source = SimulatedSource(cfg, speed=None)
    items = asyncio.run(source.collect())
    raw = [
        i
        for i in items
        if isinstance(i, Packet) or (isinstance(i, Event) and i.kind not in EventKind.DERIVED)
    ]
    assert raw == source.simulation.raw_items()
    assert source.metadata["source"] == "simulator"


# -- the command -------------------------------------------------------------------------------


def test_simulate_command_writes_a_session(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.session"
    argv = [
        "simulate",
        "--out",
        str(out),
        "--minutes",
        "1.5",
        "--seed",
        "3",
        "--pace-bpm",
        "6",
        "--coupling",
        "0.5",
        "--lag-s",
        "2",
        "--leader",
        "therapist",
        "--ectopic-per-min",
        "2",
    ]
    assert main(argv) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote {out}:") and "therapist" in line and "client" in line
    assert line.count("\n") == 0
    with SessionReader(out) as r:
        gt = r.meta["ground_truth"]
        assert r.meta["source"] == "simulator"
        n_beats = {role: len(r.recorded_beats(role)) for role in r.roles}
    assert f"therapist {n_beats['therapist']} beats" in line
    assert gt["coupling"] == {
        **gt["coupling"],
        "strength": 0.5,
        "lag_s": 2.0,
        "leader": "therapist",
    }
    assert gt["pacer"][0]["rate_bpm"] == 6.0 and gt["duration_s"] == 90.0
    # Even a simulated session is replaced only with --overwrite (the help says so).
    before = out.read_bytes()
    assert main([*argv[:3], "--solo", "--minutes", "1"]) == 2
    assert out.read_bytes() == before
    assert main([*argv[:3], "--solo", "--minutes", "1", "--overwrite"]) == 0
    with SessionReader(out) as r:
        assert r.roles == ("solo",)


def test_simulate_command_protects_other_files(tmp_path: Path, capsys) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    assert main(["simulate", "--out", str(other)]) == 2
    err = capsys.readouterr().err
    assert "file exists" in err and "--overwrite" in err and err.count("\n") == 1
    assert other.read_text() == "keep me"
    # A real recording (source "ble") is protected too.
    real = tmp_path / "real.session"
    from biofeedback.store import SessionWriter

    with SessionWriter(real, {"roles": ["solo"], "source": "ble"}):
        pass
    assert main(["simulate", "--out", str(real), "--minutes", "1"]) == 2
    assert main(["simulate", "--out", str(real), "--minutes", "1", "--overwrite"]) == 0
    with SessionReader(real) as r:
        assert r.meta["source"] == "simulator"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--minutes", "-1"], "--minutes"),
        (["--minutes", "nan"], "--minutes"),
        (["--coupling", "1.2"], "--coupling"),
        (["--coupling", "-0.1"], "--coupling"),
        (["--lag-s", "-2"], "--lag-s"),
        (["--ectopic-per-min", "-1"], "--ectopic-per-min"),
        (["--pace-bpm", "2"], "--pace-bpm"),
        (["--pace-bpm", "-6"], "--pace-bpm"),
        (["--seed", "-5"], "--seed"),
        (["--solo", "--coupling", "0.5"], "two people"),
    ],
)
def test_simulate_command_rejects_bad_values(
    tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    out = tmp_path / "x.session"
    assert main(["simulate", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


# -- sample data -------------------------------------------------------------------------------


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "make_sample_data.py"
    spec = importlib.util.spec_from_file_location("make_sample_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_sample_data", module)
    spec.loader.exec_module(module)
    return module


def _contents(path: Path) -> dict[str, object]:
    with SessionReader(path) as r:
        meta = dict(r.meta)
        # The program version changes with releases, not with the data.
        meta.pop("program_version")
        return {
            "meta": meta,
            "participants": r.participants,
            "packets": list(r.packets()),
            "events": r.events(),
            "beats": r.recorded_beats(),
        }


def test_sample_sessions_are_regenerated_exactly(tmp_path: Path) -> None:
    script = _load_script()
    written = script.write_sessions(tmp_path)
    assert [p.name for p in written] == ["dyad_session.session", "solo_paced.session"]
    for path in written:
        committed = SAMPLE_DATA / path.name
        assert committed.exists(), f"{committed} is missing; run scripts/make_sample_data.py"
        assert _contents(path) == _contents(committed), path.name
        # The script is deterministic down to the bytes (same SQLite library).
        again = tmp_path / f"again-{path.name}"
        script.write_session(script.SESSIONS[path.name](), again)
        assert again.read_bytes() == path.read_bytes()


def test_sample_dyad_session_ground_truth() -> None:
    path = SAMPLE_DATA / "dyad_session.session"
    with SessionReader(path) as r:
        gt = r.meta["ground_truth"]
        events = r.events(derived=False)
    assert gt["duration_s"] == 600.0
    assert gt["pacer"][0] | {"followers": None} == {
        "start_s": 30.0,
        "end_s": 210.0,
        "rate_bpm": 6.0,
        "followers": None,
    }
    assert gt["coupling"]["leader"] == "client" and gt["coupling"]["lag_s"] == 3.0
    assert gt["coupling"]["windows"] == [[270.0, 600.0]]
    assert gt["participants"]["client"]["dropouts"] == [{"start_s": 240.0, "end_s": 260.0}]
    assert [(e.kind, e.role, e.t_s) for e in events if e.kind == "disconnect"] == [
        ("disconnect", "client", 240.0)
    ]
    assert len(gt["participants"]["therapist"]["ectopic_beats_s"]) == 2
    assert len(gt["participants"]["client"]["ectopic_beats_s"]) == 3


def test_nsrdb_rr_file_is_the_pyhrv_series() -> None:
    from biofeedback.rrfiles import read_rr_file

    series = read_rr_file(SAMPLE_DATA / "nsrdb_series_1_rr.txt")
    assert series.rr_ms.size == 4684
    # Kubios 3.1.0 on this series: Mean RR 768.4383 ms (shared/data/README.md).
    assert series.rr_ms.mean() == pytest.approx(768.4383, abs=1e-4)
    licence = (SAMPLE_DATA / "LICENSE-pyhrv.txt").read_text()
    assert "Pedro Gomes" in licence and "Goldberger" in licence and "ODC-By" in licence
    npy = SHARED_DATA / "nsrdb" / "series_1.npy"
    if npy.exists():
        assert np.array_equal(series.rr_ms, np.load(npy).astype(float))
