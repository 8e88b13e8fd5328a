"""Readers of other programs' RR files, each on a small file written to its published layout,
and the rules they share: absurd values, units, gaps, clock times."""

from __future__ import annotations

import datetime as _dt
import time

import numpy as np
import pytest

from biofeedback.cli import main
from biofeedback.formats import FORMATS, RRFileError, read_rr_file, read_rr_people
from tests.biofeedback.binary_layouts import fit_file, xdf_file

RR = [812, 790, 805, 830, 801, 799, 815, 820, 798, 806]
T0 = _dt.datetime(2026, 4, 24, 14, 10, 0, tzinfo=_dt.UTC).timestamp()


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def test_movesense_csv_with_metadata_line_and_continuation_rows(tmp_path):
    # a metadata line, the header, one row per notification; a second interval of the same
    # notification on its own line starting with a comma (the Showcase app's CSV encoder)
    f = tmp_path / "HR.csv"
    f.write_text(
        "Movesense 2026-04-24T14:10:00Z 212345678901\n"
        "Average,RRData\n72.5,812\n73.1,790\n,805\n74.0,830\n"
    )
    s = read_rr_file(f)
    assert s.format == "movesense"
    assert s.rr_ms.tolist() == [812, 790, 805, 830]
    assert s.t_s.tolist() == pytest.approx(np.cumsum([812, 790, 805, 830]) / 1000)


def test_polar_sensor_logger_rr_file_anchors_on_phone_time_and_finds_drop_out(tmp_path):
    # the first notification, at 1.602 s, carries two intervals; then one at 2.407 s; then the
    # strap drops out for 30 s
    rows = [(1.602, 812), (1.602, 790), (2.407, 805), (3.237, 830)]
    t = 3.237
    rows += [(t + 30.0 + 0.8 * k, 800) for k in range(1, 4)]
    f = tmp_path / "Polar_H10_ABC_20260424_141000_RR.txt"
    f.write_text(
        "Phone timestamp;RR-interval [ms]\n" + "".join(f"{_iso(T0 + a)};{v}\n" for a, v in rows)
    )
    s = read_rr_file(f)
    assert s.format == "polar-logger"
    assert s.clock_start_s == pytest.approx(T0, abs=1e-3)
    # the two intervals of one notification: the later ends at arrival, the earlier before it;
    # then beats follow by their intervals
    assert s.t_s[:4] == pytest.approx([0.812, 1.602, 2.407, 3.237], abs=1e-6)
    assert s.breaks.tolist() == [4]  # the beat after the 30 s silence starts a new stretch
    assert s.t_s[4] == pytest.approx(t + 30.8, abs=1e-6)


def test_polar_sensor_logger_hr_file_is_refused_with_a_pointer(tmp_path):
    f = tmp_path / "x_HR.txt"
    f.write_text("Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];\n")
    with pytest.raises(RRFileError, match=r"give the _RR\.txt file"):
        read_rr_file(f)


def test_openhrv_recording_reads_intervals_and_skips_other_events(tmp_path):
    f = tmp_path / "OpenHRV_2026-04-24-14-10.csv"
    lines = ["event,value,timestamp", f"Sensors,Polar H10 ABC, 00:11:22:33:44:55,{_iso(T0)}"]
    t = 0.0
    for v in RR[:5]:
        t += v / 1000
        lines.append(f"InterBeatInterval,{v},{_iso(T0 + t)}")
        lines.append(f"HeartRateVariability,42,{_iso(T0 + t)}")
    lines.append(f"PacerRate,6,{_iso(T0 + t)}")
    f.write_text("\n".join(lines) + "\n")
    s = read_rr_file(f)
    assert s.format == "openhrv"
    assert s.rr_ms.tolist() == RR[:5]
    assert s.t_s == pytest.approx(np.cumsum(RR[:5]) / 1000, abs=1e-3)


def test_garmin_fit_hrv_messages(tmp_path):
    f = tmp_path / "activity.fit"
    f.write_bytes(fit_file(RR[:7], T0))
    s = read_rr_file(f)
    assert s.format == "fit"
    assert s.rr_ms.tolist() == RR[:7]  # two hrv messages, the second with three empty slots
    assert s.clock_start_s == pytest.approx(T0)


def test_fit_without_hrv_messages_says_so(tmp_path):
    f = tmp_path / "nohrv.fit"
    f.write_bytes(fit_file([], T0))
    with pytest.raises(RRFileError, match="no HRV"):
        read_rr_file(f)


def test_xdf_rr_and_heartbeat_streams_are_two_people(tmp_path):
    beats = 500.0 + np.cumsum(RR) / 1000
    f = tmp_path / "lab.xdf"
    f.write_bytes(
        xdf_file(
            [
                {"name": "strap A", "type": "RR", "t": beats, "x": RR, "unit": "ms",
                 "role": "therapist"},
                {"name": "client", "type": "Heartbeat", "t": beats + 0.25},
            ]
        )
    )  # fmt: skip
    people = read_rr_people(f)
    assert set(people) == {"therapist", "client"}
    assert people["therapist"].rr_ms.tolist() == RR
    assert people["therapist"].t_s == pytest.approx(beats)
    assert people["client"].rr_ms == pytest.approx(RR[1:])


def test_xdf_rr_stream_in_seconds_by_its_unit(tmp_path):
    beats = np.cumsum(RR) / 1000
    f = tmp_path / "s.xdf"
    f.write_bytes(xdf_file([{"name": "ibi", "type": "IBI", "t": beats, "x": beats * 0 + 0.8,
                             "unit": "s"}]))  # fmt: skip
    assert read_rr_file(f).rr_ms == pytest.approx([800.0] * len(RR))


def test_unknown_file_gets_one_line_naming_every_format(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("dear diary\nslept well\n")
    with pytest.raises(RRFileError) as info:
        read_rr_file(f)
    msg = str(info.value)
    assert "\n" not in msg and str(f) in msg
    for name in FORMATS:
        assert name in msg


def test_format_can_be_forced(tmp_path):
    f = tmp_path / "a.dat"
    f.write_text("800\n810\n")
    assert read_rr_file(f, fmt="text").rr_ms.tolist() == [800, 810]
    with pytest.raises(RRFileError, match=r"average,rrData"):
        read_rr_file(f, fmt="movesense")


# --- time and gaps -------------------------------------------------------------------------


def test_time_s_hole_of_60_s_gives_rmssd_of_the_two_halves_pooled(tmp_path, capsys):
    rng = np.random.default_rng(3)
    rr = 800 + 40 * np.sin(np.arange(400) / 3) + rng.normal(0, 15, 400)
    t = np.cumsum(rr) / 1000
    t[200:] += 60.0  # a 60 s hole after beat 199
    f = tmp_path / "hole.csv"
    f.write_text(
        "time_s,rr_ms\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(t, rr, strict=True))
    )
    assert main(["analyze", str(f), "--json", "--artifact-correction", "none"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    d = np.concatenate([np.diff(rr[:200]), np.diff(rr[200:])])  # no difference across the hole
    assert out["participants"]["solo"]["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(d**2)))
    assert out["input"]["files"]["solo"]["n_gaps"] == 1


def _polar(path, start, rr):
    t = start + np.cumsum(rr) / 1000
    path.write_text(
        "Phone timestamp;RR-interval [ms]\n"
        + "".join(f"{_iso(a)};{v}\n" for a, v in zip(t, rr, strict=True))
    )


def test_two_files_with_clock_times_align_by_them():
    import tempfile
    from pathlib import Path

    from biofeedback.rrinput import load_rr_input

    d = Path(tempfile.mkdtemp())
    rr = [800] * 100
    _polar(d / "t_RR.txt", T0, rr)
    _polar(d / "c_RR.txt", T0 + 30.0, [810] * 100)
    data = load_rr_input([], str(d / "t_RR.txt"), str(d / "c_RR.txt"))
    assert data.series["therapist"].t_s[0] == pytest.approx(0.8, abs=1e-3)
    assert data.series["client"].t_s[0] == pytest.approx(30.81, abs=1e-3)
    shifted = load_rr_input([], str(d / "t_RR.txt"), str(d / "c_RR.txt"), client_offset_s=-30)
    assert shifted.series["client"].t_s[0] == pytest.approx(0.81, abs=1e-3)


def test_trim_by_seconds_and_by_clock_time(tmp_path, capsys):
    import json

    f = tmp_path / "p_RR.txt"
    _polar(f, T0, [1000] * 300)  # beats at 1, 2, ... 300 s after 14:10:00
    assert main(["analyze", str(f), "--json", "--start", "60", "--end", "120"]) == 0
    assert json.loads(capsys.readouterr().out)["participants"]["solo"]["n_beats"] == 60
    assert main(["analyze", str(f), "--json", "--start", "14:11:00", "--end", "14:12:00"]) == 0
    assert json.loads(capsys.readouterr().out)["participants"]["solo"]["n_beats"] == 60


# --- issue 14: bad RR files get one line or a correct result ------------------------------


def _one_line_exit_2(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and words in lines[0], err
    assert "Traceback" not in err


def test_absurd_interval_never_becomes_a_beat_and_is_fast(tmp_path, capsys):
    import json

    rr = [800 + 10 * (k % 7) for k in range(300)]
    f = tmp_path / "huge.txt"
    f.write_text("\n".join(map(str, [*rr[:150], 1e12, *rr[150:]])) + "\n")
    t0 = time.perf_counter()
    for corr in ("auto", "none"):
        assert main(["analyze", str(f), "--json", "--artifact-correction", corr]) == 0
        m = json.loads(capsys.readouterr().out)["participants"]["solo"]
        assert m["n_beats"] == 300
        d = np.concatenate([np.diff(rr[:150]), np.diff(rr[150:])])
        if corr == "none":
            assert m["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(d**2)))
    assert time.perf_counter() - t0 < 30  # minutes and gigabytes before the fix


def test_mixed_ms_and_s_values_are_one_line(tmp_path, capsys):
    f = tmp_path / "mixed.txt"
    f.write_text("800\n0.85\n810\n820\n")
    _one_line_exit_2(capsys, ["analyze", str(f)], "line 2: 0.85 looks like seconds")


def test_scientific_notation_first_line_is_a_number(tmp_path):
    f = tmp_path / "sci.txt"
    f.write_text("8e2\n8.1e2\n790\n")
    assert read_rr_file(f).rr_ms.tolist() == [800, 810, 790]


def test_seconds_file_with_one_value_of_12_is_read_in_seconds(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("0.84\n0.85\n12\n0.83\n0.84\n")
    s = read_rr_file(f)
    assert s.unit_guess == "s"
    assert s.rr_ms.tolist() == pytest.approx([840, 850, 830, 840])
    assert s.n_rejected == 1 and s.breaks.tolist() == [2]


def test_our_csv_export_with_two_people_reads_as_a_dyad_or_one_by_role(tmp_path, capsys):
    import json

    f = tmp_path / "export.csv"
    rows = ["role,index,time_s,rr_ms,after_gap,artifact"]
    for role, base in (("therapist", 800), ("client", 900)):
        t = 0.0
        for k in range(200):
            v = base + 20 * np.sin(k / 4)
            t += v / 1000
            rows.append(f"{role},{k},{t:.6f},{v:.6f},0,")
    f.write_text("\n".join(rows) + "\n")
    with pytest.raises(RRFileError, match=r"holds 2 people .* choose one with --role"):
        read_rr_file(f)
    assert main(["analyze", str(f), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["participants"]) == {"therapist", "client"} and "synchrony" in out
    assert main(["analyze", str(f), "--json", "--role", "client"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["participants"]) == ["client"]
    assert out["participants"]["client"]["mean_rr_ms"] == pytest.approx(900, abs=5)


def test_same_file_for_both_people_is_refused(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text("\n".join(str(800 + k % 5) for k in range(100)))
    g = tmp_path / "copy.txt"
    g.write_bytes(f.read_bytes())
    _one_line_exit_2(
        capsys, ["analyze", "--therapist", str(f), "--client", str(g)], "hold the same recording"
    )


def test_table_shows_synchrony_numbers_artifact_breakdown_and_reader_notes(tmp_path):
    from biofeedback.analysis import analyze, load_input
    from biofeedback.commands.analyze import format_table

    rng = np.random.default_rng(5)
    rr_t = 800 + 30 * np.sin(np.arange(400) / 3) + rng.normal(0, 15, 400)
    rr_c = 900 + 30 * np.sin(np.arange(400) / 3 + 1) + rng.normal(0, 15, 400)
    rr_c[100] = 9e9  # absurd: left out, noted
    a, b = tmp_path / "t.txt", tmp_path / "c.txt"
    a.write_text("\n".join(f"{v:.1f}" for v in rr_t))
    b.write_text("\n".join(f"{v:.1f}" for v in rr_c))
    result = analyze(load_input([], str(a), str(b)))
    sync = result["synchrony"]
    table = format_table(result)
    for label, key, fmt in (
        ("effect size (SDs", "effect_size", "{:.2f}"),
        ("mean windowed correlation", "z_mean", "{:.3f}"),
        ("p against chance", "p_value", "{:.3f}"),
    ):
        row = next(ln for ln in table.splitlines() if label in ln)
        assert sync[key] is not None and fmt.format(sync[key]) in row
    for words in (
        "short-long pairs",
        "likely missed",
        "extra detection",
        "too long or too short",
        "1 interval(s) outside",
    ):
        assert words in table
    assert "ectopic" not in table  # non-clinical words on screen (issue 12 item 7)
