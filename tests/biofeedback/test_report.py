"""The after-session report: one self-contained HTML file whose numbers are the analysis'."""

from __future__ import annotations

import html
import json
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from biofeedback.analysis import analyze, analyze_series, load_input
from biofeedback.beats import Event, EventKind
from biofeedback.cli import main
from biofeedback.report.build import MARK, _slice
from biofeedback.report.svg import Series, Span, decimate, nice_ticks, time_chart
from biofeedback.report.timeline import person_timeline
from biofeedback.simulate import PacedSegment, PersonConfig, SimulationConfig
from biofeedback.simulate.series import write_simulated
from hrv.artifacts import correct_artifacts
from hrv.time_domain import time_domain

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "dyad_session.session"
SOLO = ROOT / "sample_data" / "solo_paced.session"

SECTIONS = ("reflective", "facts", "people", "irregular", "baseline", "synchrony",
            "coregulation", "assessment", "method")  # fmt: skip
TAG = re.compile(
    r'<span class="n" data-key="([^"]+)" data-value="([^"]*)"(?: data-scale="([^"]+)")?>'
    r"([^<]*)</span>"
)


def _get(d, key):
    for part in key.split("."):
        d = d[int(part)] if isinstance(d, list) else d[part]
    return d


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "r.html"
    assert main(["report", str(SAMPLE), "--out", str(out)]) == 0
    return out, out.read_text(encoding="utf-8")


def test_report_is_one_private_offline_file_with_every_section(sample_report):
    out, text = sample_report
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert text.startswith(MARK)
    # Nothing is loaded from anywhere: no URL at all, no external src/href, url() only to
    # the chart's own clip paths.
    assert "http" not in text.lower()
    assert not re.search(r"\b(src|href)\s*=", text)
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", text))
    assert "<script" not in text and "@import" not in text
    for section in SECTIONS:
        assert f"id='{section}'" in text or f'id="{section}"' in text, section
    # The reflective line comes before any number.
    first_section = text.index("<section")
    assert text.index("A reflective aid, not a diagnosis") < first_section
    # Non-clinical words: the artifact classes are "irregular intervals" on the page.
    visible = re.sub(r"<[^>]+>", " ", text).lower()
    for word in ("ectopic", "arrhythmia", "disorder", "abnormal", "patholog"):
        assert word not in visible
    assert "svg" in text and text.count("<svg") >= 5


def _check_numbers(text: str, result: dict) -> set[str]:
    """Every tagged number equals the analysis value, and its shown text is that value rounded."""
    tags = [t for t in TAG.findall(text) if not t[0].startswith("resting_baseline.")]
    for key, raw, scale, shown in tags:
        want = _get(result, html.unescape(key))
        assert json.loads(html.unescape(raw)) == want, key
        if want is None:
            assert shown == "–"
        else:
            number = re.match(r"-?[\d.]+", shown)
            assert number is not None, (key, shown)
            digits = len(number.group().split(".")[1]) if "." in number.group() else 0
            shown_value = want * float(scale or 1)
            assert float(number.group()) == pytest.approx(shown_value, abs=0.51 * 10**-digits), key
    return {html.unescape(k) for k, _, _, _ in tags}


def test_report_numbers_equal_the_analysis(sample_report):
    _, text = sample_report
    result = analyze(load_input([str(SAMPLE)]))
    keys = _check_numbers(text, result)
    must = {
        "participants.therapist.rmssd_ms",
        "participants.client.mean_hr_bpm",
        "participants.client.artifacts.pct",
        "participants.therapist.rsa.amplitude_ms",
        "synchrony.p_value",
        "synchrony.effect_size",
        "synchrony.n_surrogates",
    }
    assert must <= keys
    assert html.escape(result["synchrony"]["summary"], quote=False) in text.replace("&#x27;", "'")
    if result.get("coregulation", {}).get("episodes"):
        assert "coregulation.episodes.0.rise_bpm" in keys


def test_assessment_table_shows_the_analysis(tmp_path):
    path = tmp_path / "assessment.session"
    argv = ["simulate", "--assessment", "--resonance-bpm", "5.5", "--solo", "--step-s", "90",
            "--rest-s", "15", "--out", str(path)]  # fmt: skip
    assert main(argv) == 0
    out = tmp_path / "a.html"
    assert main(["report", str(path), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    result = analyze(load_input([str(path)]))
    keys = _check_numbers(text, result)
    steps = result["assessment"]["steps"]
    for i in range(len(steps)):
        assert f"assessment.steps.{i}.rsa_amplitude_ms" in keys
        assert f"assessment.steps.{i}.followed" in keys
    if result["assessment"]["suggested_bpm"] is not None:
        assert "assessment.suggested_bpm" in keys and "Suggested personal breathing rate" in text


def test_rmssd_over_time_equals_the_formula_on_each_window():
    data = load_input([str(SAMPLE)])
    s = data.series["client"]
    found = correct_artifacts(s.rr_ms, s.t_s)
    tl = person_timeline(data, "client", found, t_end_s=float(s.t_s[-1]))
    t, rr = found.t_s, found.rr_ms
    checked = 0
    for end, value in zip(tl.win_t_s, tl.rmssd_ms, strict=True):
        sel = (t > end - 60.0) & (t <= end)
        if not np.isfinite(value) or sel.sum() < 30:
            continue
        # Windows away from the strap gap: plain RMSSD of the window's intervals.
        if any(a < end and b > end - 60.0 for a, b in data.gap_intervals()):
            continue
        assert value == pytest.approx(time_domain(rr[sel]).rmssd_ms, rel=1e-9)
        checked += 1
    assert checked >= 5


def test_baseline_markers_and_solo(tmp_path):
    config = SimulationConfig(
        people=(PersonConfig("solo", mean_hr_bpm=70.0),),
        duration_s=300.0,
        seed=5,
        pacing=(PacedSegment(150.0, 300.0, 6.0),),
    )
    events = [
        Event(0.0, EventKind.BASELINE, None, {"state": "start", "duration_s": 120.0}),
        Event(120.0, EventKind.BASELINE, None, {"state": "end"}),
        Event(200.0, EventKind.MARKER, None, {"text": "talked about <the week>"}),
    ]
    path = tmp_path / "solo.session"
    write_simulated(
        config, path, events=events, metadata={"label": "K-12", "mode": "solo breathing"}
    )
    out = tmp_path / "solo.html"
    assert main(["report", str(path), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    data = load_input([str(path)])
    base = analyze_series(_slice(data.series["solo"], 0.0, 120.0), pacer=data.pacer_changes())
    tags = {k: json.loads(html.unescape(v)) for k, v, _, _ in TAG.findall(text)}
    assert tags["resting_baseline.participants.solo.rmssd_ms"] == base["rmssd_ms"]
    assert tags["resting_baseline.participants.solo.mean_hr_bpm"] == base["mean_hr_bpm"]
    _check_numbers(text, analyze(data))
    assert "Resting baseline from 0:00 to 2:00" in text
    assert "talked about &lt;the week&gt;" in text  # marker text shown, escaped
    assert "K-12" in text and "solo breathing" in text
    assert "One person in this session" in text


def test_refuses_bad_input_and_foreign_output(tmp_path, capsys):
    junk = tmp_path / "junk.session"
    junk.write_bytes(b"not a session at all")
    assert main(["report", str(junk), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "junk.session" in err[0]
    precious = tmp_path / "notes.html"
    precious.write_text("my own notes")
    assert main(["report", str(SOLO), "--out", str(precious)]) == 2
    assert precious.read_text() == "my own notes"
    assert "not a report" in capsys.readouterr().err
    assert main(["report", str(SOLO), "--out", str(tmp_path)]) == 2


def test_svg_breaks_lines_at_gaps_and_keeps_extremes():
    t = np.arange(10000, dtype=float)
    y = np.sin(t / 50.0)
    y[5000] = 9.0  # a spike must survive decimation
    y[7000:7100] = np.nan
    dt, dy = decimate(t, y, 0.0, 9999.0, 300)
    assert dt.size <= 2 * 300 + 300
    assert np.nanmax(dy) == 9.0 and np.nanmin(dy) == pytest.approx(-1.0, abs=1e-3)
    assert np.isnan(dy).any()
    svg = time_chart([Series(t, y, "x", "#000")], t_range=(0, 9999), y_label="y", title="t",
                     spans=[Span(100, 200, "gap")])  # fmt: skip
    path = re.search(r'<path d="([^"]+)" fill="none"', svg).group(1)
    assert path.count("M") == 2  # one break at the nan stretch
    assert nice_ticks(0, 100, 5) == [0, 20, 40, 60, 80, 100]


def test_progress_is_reported_in_order_up_to_done():
    from biofeedback.report.build import build_report

    seen: list[tuple[str, float]] = []
    build_report(str(SAMPLE), lambda words, frac: seen.append((words, frac)))
    fracs = [f for _, f in seen]
    assert fracs == sorted(fracs) and fracs[0] == 0.0 and seen[-1] == ("done", 1.0)
    assert any("synchrony" in w for w, _ in seen) and len(seen) > 6


def test_running_mean_by_hand():
    from biofeedback.report.dyad_sections import _running_mean

    t = np.arange(6, dtype=float) * 10.0
    y = np.array([0.0, 1.0, np.nan, 1.0, 0.0, 1.0])
    # +-10 s around each point: (0,1) (0,1,-) (1,-,1) (-,1,0) (1,0,1) (0,1)
    want = [0.5, 0.5, 1.0, 0.5, 2 / 3, 0.5]
    assert _running_mean(t, y, 20.0) == pytest.approx(want)


def test_coregulation_episodes_are_shown_as_the_contract_gives_them():
    """The episodes table follows design.md's ``coregulation`` contract (null settle included)."""
    import dataclasses

    from biofeedback.report.build import collect
    from biofeedback.report.sections import render

    base = collect(str(SAMPLE))
    episodes = [
        {"person": "client", "start_s": 150.0, "peak_s": 180.0, "end_s": 245.0,
         "rise_bpm": 18.4, "settle_s": 95.0, "other": "steady",
         "summary": "The client's heart rate rose by 18 beats/min at 2:30 and settled within 95 s; "
                    "the therapist's stayed steady meanwhile."},
        {"person": "therapist", "start_s": 400.0, "peak_s": 420.0, "end_s": None,
         "rise_bpm": 11.0, "settle_s": None, "other": "rose", "summary": "x"},
    ]  # fmt: skip
    result = {**base.result, "coregulation": {"reference": "rolling", "episodes": episodes}}
    text = render(dataclasses.replace(base, result=result))
    keys = _check_numbers(text, result)
    assert {"coregulation.episodes.0.rise_bpm", "coregulation.episodes.0.settle_s"} <= keys
    assert "did not settle in the record" in text
    assert "settled within 95 s" in text.replace("&#x27;", "'")
    assert ">E1<" in text and ">E2<" in text  # numbered in the table and on the heart-rate plot
    empty = {**base.result, "coregulation": {"reference": "baseline", "episodes": []}}
    assert "No clear heart-rate rise" in render(dataclasses.replace(base, result=empty))


def test_dyad_with_a_baseline_shows_baseline_synchrony(tmp_path):
    from biofeedback.simulate.series import simulate_series

    (path,) = simulate_series(tmp_path, n=1, label="B-1", drift_rmssd_ms=0.0, minutes=6.0)
    out = tmp_path / "b.html"
    assert main(["report", str(path), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    result = analyze(load_input([str(path)]))
    keys = _check_numbers(text, result)
    assert result["synchrony"]["baseline"] is not None
    assert {"synchrony.baseline.p_value", "synchrony.baseline.rest_p_value"} <= keys
    assert "Resting baseline and the rest of the session" in text
    assert "Resting baseline from 0:00 to 2:24" in text  # 40 % of 6 minutes
