"""The report's sections as HTML, from a :class:`~biofeedback.report.build.ReportData`.

Every number taken from the analysis result is written by :func:`num`, which tags it with the
result key it came from (``data-key``) and the exact value (``data-value``); tests use the tags
to check that the report shows the analysis, and readers never see them. Words stay
non-clinical: the artifact classes are "irregular intervals", episodes and synchrony are
described, never judged.
"""

from __future__ import annotations

import datetime as _dt
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from biofeedback import __version__
from biofeedback.report.build import MARK, ReportData, finite
from biofeedback.report.dyad_sections import coregulation_section, sync_section
from biofeedback.report.method import method_html
from biofeedback.report.parts import (
    DASH,
    _date_words,
    _episodes,
    _get,
    _markers,
    _mode_words,
    _role_words,
    _spans,
    _table,
    clock,
    duration_words,
    num,
)
from biofeedback.report.style import CSS, ROLE_STYLE
from biofeedback.report.svg import Mark, Series, time_chart

__all__ = ["LONG_S", "render"]

#: Sessions longer than this (s) plot heart rate as 60 s means and add a running mean to the
#: synchrony line, so a plot of hours still reads.
LONG_S = 1800.0


def _header(r: ReportData) -> str:
    label = r.data.meta.get("label")
    title = "Session report" + (f": {escape(str(label))}" if label else "")
    if len(r.data.series) > 1:
        what = (
            "what two heart-rate signals did during one session: how fast the hearts beat, how "
            "much the beat-to-beat intervals varied, and how the two heart rates moved together"
        )
    else:
        what = (
            "what one heart-rate signal did during one session: how fast the heart beat, how "
            "much the beat-to-beat intervals varied, and how they followed the breathing"
        )
    return (
        f"<header><h1>{title}</h1>"
        '<div class="reflective" id="reflective"><strong>A reflective aid, not a diagnosis</strong>'
        f"This report describes {what}. It says nothing about what a person has, feels or "
        "should do, and more or less of any number here is not better or worse in itself. Use "
        "it to reflect on the session together.</div></header>"
    )


def _facts(r: ReportData) -> str:
    meta = r.data.meta
    rows: list[tuple[str, str]] = [
        ("date", escape(_date_words(meta.get("created_utc")))),
        ("label", escape(str(meta.get("label") or "no label"))),
        ("mode", escape(_mode_words(r))),
        ("duration", escape(duration_words(r.t_end_s))),
        ("people", escape(", ".join(_role_words(x) for x in r.data.series))),
    ]
    for role in r.data.series:
        info = r.participants.get(role, {})
        strap = info.get("name") or "unknown strap"
        extra = [str(info[k]) for k in ("address",) if info.get(k)]
        if info.get("battery_pct") is not None:
            extra.append(f"battery {info['battery_pct']} %")
        words = escape(strap) + (
            f" <span class='note'>({escape(', '.join(extra))})</span>" if extra else ""
        )
        rows.append((f"strap ({_role_words(role)})", words))
    source = meta.get("source")
    if source:
        rows.append(
            (
                "recorded from",
                escape(
                    {
                        "ble": "Bluetooth straps",
                        "simulator": "the simulator (synthetic data)",
                        "replay": "a replay",
                    }.get(str(source), str(source))
                ),
            )
        )
    rows.append(("file", escape(Path(r.path).name)))
    body = "".join(f"<tr><th scope='row'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f"<section id='facts'><h2>Session facts</h2><table class='facts'>{body}</table></section>"
    )


_PERSON_ROWS = (
    ("beats", "n_beats", "{:d}", ""),
    ("mean heart rate", "mean_hr_bpm", "{:.1f}", " beats/min"),
    ("RMSSD", "rmssd_ms", "{:.1f}", " ms"),
    ("SDNN", "sdnn_ms", "{:.1f}", " ms"),
    ("pNN50", "pnn50_pct", "{:.1f}", " %"),
    ("LF power", "lf_ms2", "{:.0f}", " ms²"),
    ("HF power", "hf_ms2", "{:.0f}", " ms²"),
    ("RSA amplitude at the pacer", "rsa.amplitude_ms", "{:.1f}", " ms"),
    ("RSA peak-to-trough", "rsa.peak_to_trough_bpm", "{:.1f}", " beats/min"),
    ("pacer rate used for RSA", "rsa.pace_bpm", "{:g}", " breaths/min"),
    ("breathing rate estimate", "rsa.breathing_rate_est_bpm", "{:.1f}", " breaths/min"),
    ("irregular intervals", "artifacts.pct", "{:.1f}", " % of beats"),
)


def _people(r: ReportData) -> str:
    roles = list(r.data.series)
    rows = []
    for words, key, fmt, unit in _PERSON_ROWS:
        rows.append(
            [escape(words)]
            + [num(r.result, f"participants.{role}.{key}", fmt, unit) for role in roles]
        )
    table = _table(
        ["whole session"] + [_role_words(x) for x in roles], rows, set(range(1, len(roles) + 1))
    )
    windows = [_get(r.result, f"participants.{role}.rsa.window") for role in roles]
    note = ""
    if any(windows):
        note = (
            "<p class='note'>RSA at the pacer was measured over: "
            + "; ".join(
                f"{_role_words(role)}: {escape(str(w))}"
                for role, w in zip(roles, windows, strict=True)
                if w
            )
            + ".</p>"
        )
    person_notes = [
        f"<li>{escape(_role_words(role))}: {escape(str(n))}</li>"
        for role in roles
        for n in (_get(r.result, f"participants.{role}.notes") or [])
    ]
    if person_notes:
        note += "<ul class='notes'>" + "".join(person_notes) + "</ul>"
    spans = _spans(r)
    marks = [Mark(t, lab) for lab, t, _ in _markers(r)]
    marks += [
        Mark(float(ep["start_s"]), f"E{i + 1}")
        for i, ep in enumerate(_episodes(r))
        if finite(ep.get("start_s"))
    ]
    t_range = (0.0, r.t_end_s)

    def series(attr_t: str, attr_y: str) -> list[Series]:
        out = []
        for role, tl in r.timelines.items():
            color, dash, words = ROLE_STYLE.get(role, ("#333", None, role))
            out.append(Series(getattr(tl, attr_t), getattr(tl, attr_y), words, color, dash))
        return out

    long = r.t_end_s > LONG_S
    hr = time_chart(
        series("win_t_s", "hr_win_bpm") if long else series("beat_t_s", "hr_bpm"),
        t_range=t_range,
        y_label="heart rate (beats/min, mean of last 60 s)" if long else "heart rate (beats/min)",
        title="Heart rate over the session",
        spans=spans,
        marks=marks,
        height=210,
    )
    rmssd = time_chart(
        series("win_t_s", "rmssd_ms"),
        t_range=t_range,
        y_label="RMSSD (ms, last 60 s)",
        title="RMSSD over the session",
        spans=spans,
        marks=marks,
    )
    rsa = time_chart(
        series("win_t_s", "rsa_ms"),
        t_range=t_range,
        y_label="RSA amplitude (ms, last 60 s)",
        title="RSA amplitude over the session",
        spans=spans,
        marks=marks,
    )
    marker_list = ""
    if _markers(r):
        marker_list = "<h3>Markers</h3>" + _table(
            ["", "time", "text"],
            [[escape(lab), clock(t), escape(text) or DASH] for lab, t, text in _markers(r)],
        )
    return (
        "<section id='people'><h2>Heart rate, RMSSD and RSA</h2>"
        + table
        + note
        + f"<figure>{hr}<figcaption>"
        + (
            "Heart rate, the mean of the last 60 s at each point (a long session: beat by "
            "beat it would fill the plot). "
            if long
            else "Heart rate beat by beat (after correcting irregular intervals). "
        )
        + "Shaded: pacer on, resting baseline, strap gaps (no line is drawn across a "
        "gap). Dashed lines: markers (M) and the start of heart-rate rises (E, see the "
        "co-regulation section).</figcaption></figure>"
        f"<figure>{rmssd}<figcaption>RMSSD, the short-term beat-to-beat variation, over the "
        "last 60 s at each point.</figcaption></figure>"
        f"<figure>{rsa}<figcaption>RSA amplitude, how much the heart period rises and falls "
        "with each breath, over the last 60 s: at the pacer rate while the pacer runs, "
        "otherwise at the breathing rate estimated from the heart data.</figcaption></figure>"
        + marker_list
        + "</section>"
    )


_IRREGULAR = (
    ("short-long pairs", "ectopic"),
    ("too long (a beat likely missed by the strap)", "missed"),
    ("too short (an extra detection)", "extra"),
    ("too long or too short", "long_short"),
    ("outside 300-2000 ms", "out_of_range"),
)


def _irregular(r: ReportData) -> str:
    roles = list(r.data.series)
    rows = [
        [escape("all irregular intervals")]
        + [
            num(r.result, f"participants.{x}.artifacts.n_flagged", "{:d}")
            + " ("
            + num(r.result, f"participants.{x}.artifacts.pct", "{:.1f}", " %")
            + ")"
            for x in roles
        ]
    ]
    for words, key in _IRREGULAR:
        rows.append(
            [escape(words)]
            + [num(r.result, f"participants.{x}.artifacts.{key}", "{:d}") for x in roles]
        )
    table = _table(
        ["irregular intervals"] + [_role_words(x) for x in roles],
        rows,
        set(range(1, len(roles) + 1)),
    )
    series = []
    for role, tl in r.timelines.items():
        color, dash, words = ROLE_STYLE.get(role, ("#333", None, role))
        series.append(Series(tl.win_t_s, tl.irregular_pct, words, color, dash))
    peaks = [float(np.nanmax(tl.irregular_pct)) for tl in r.timelines.values()
             if np.isfinite(tl.irregular_pct).any()]  # fmt: skip
    chart = time_chart(
        series,
        t_range=(0.0, r.t_end_s),
        y_label="irregular intervals (% of last 60 s)",
        title="Irregular intervals over the session",
        spans=_spans(r),
        y_range=(0.0, max([5.0, *peaks]) * 1.1),
        height=150,
    )
    return (
        "<section id='irregular'><h2>Irregular intervals</h2>"
        "<p>Intervals between beats that do not fit their neighbours: usually a loose strap, "
        "movement, or an early beat followed by a longer pause. They were corrected before "
        "every number in this report was computed, and are counted here. Above a few percent, "
        "short-term numbers such as RMSSD read less reliably.</p>"
        + table
        + f"<figure>{chart}</figure></section>"
    )


def _baseline(r: ReportData) -> str:
    head = "<section id='baseline'><h2>Resting baseline</h2>"
    if r.baseline is None:
        return (
            head + "<p>This session has no resting baseline (none was recorded, or it was "
            "skipped).</p></section>"
        )
    b = r.baseline
    roles = list(r.data.series)
    keys = (
        ("mean heart rate", "mean_hr_bpm", "{:.1f}", " beats/min"),
        ("RMSSD", "rmssd_ms", "{:.1f}", " ms"),
        ("SDNN", "sdnn_ms", "{:.1f}", " ms"),
        ("breathing rate estimate", "rsa.breathing_rate_est_bpm", "{:.1f}", " breaths/min"),
        ("irregular intervals", "artifacts.pct", "{:.1f}", " % of beats"),
    )
    rows = []
    for words, key, fmt, unit in keys:
        row = [escape(words)]
        for role in roles:
            # Tagged "resting_baseline.*": computed here on the stretch, not an analyze key.
            row.append(
                num(
                    {"resting_baseline": b},
                    f"resting_baseline.participants.{role}.{key}",
                    fmt,
                    unit,
                )
            )
        rows.append(row)
    return (
        head + f"<p>Resting baseline from {clock(b['start_s'])} to {clock(b['end_s'])} "
        f"({b['end_s'] - b['start_s']:.0f} s). These are each person's own reference for this "
        "session, not a norm.</p>"
        + _table(
            ["baseline"] + [_role_words(x) for x in roles], rows, set(range(1, len(roles) + 1))
        )
        + "</section>"
    )


def _followed(result: dict[str, Any], key: str, v: Any) -> str:
    """``followed`` as the analysis gives it: a 0-1 share (shown in %) or a yes/no."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return num(result, key, "{:.0f}", " %", scale=100.0)


def _assessment(r: ReportData) -> str:
    head = "<section id='assessment'><h2>Resonance-breathing assessment</h2>"
    a = r.result.get("assessment")
    if not isinstance(a, dict):
        return head + "<p>This session holds no resonance-breathing assessment.</p></section>"
    rows = []
    suggested = a.get("suggested_bpm")
    for i, st in enumerate(a.get("steps") or []):
        k = f"assessment.steps.{i}"
        mark = " ◆" if suggested is not None and st.get("rate_bpm") == suggested else ""
        rows.append([
            num(r.result, f"{k}.rate_bpm", "{:g}") + mark,
            f"<span class='nowrap'>{clock(st.get('start_s'))}–{clock(st.get('end_s'))}</span>",
            num(r.result, f"{k}.rsa_amplitude_ms", "{:.1f}"),
            num(r.result, f"{k}.peak_to_trough_bpm", "{:.1f}"),
            num(r.result, f"{k}.lf_peak_ms2", "{:.0f}"),
            num(r.result, f"{k}.phase_deg", "{:.0f}"),
            _followed(r.result, f"{k}.followed", st.get("followed")),
        ])  # fmt: skip
    table = _table(
        ["rate (breaths/min)", "time", "RSA amplitude (ms)", "peak-to-trough (beats/min)",
         "LF peak (ms²)", "phase (deg)", "pacer visible in the heart rhythm"],
        rows,
        {0, 2, 3, 4, 5, 6},
    )  # fmt: skip
    if suggested is None:
        outcome = "<p>No personal rate is suggested. " + escape(str(a.get("reason") or "")) + "</p>"
    else:
        outcome = (
            "<p><strong>Suggested personal breathing rate: "
            + num(r.result, "assessment.suggested_bpm", "{:g}", " breaths/min")
            + "</strong> (◆ in the table). "
            + escape(str(a.get("reason") or ""))
            + "</p>"
        )
    return (
        head + "<p>About 2 minutes at each of several slow breathing rates, following the pacer. "
        "Per rate: how much the heart period rose and fell with each breath (RSA amplitude, "
        "peak-to-trough heart rate, LF peak power), the timing of heart rate against the "
        "pacer, and how clearly the pacer rhythm shows in the heart rhythm.</p>"
        + table
        + outcome
        + "</section>"
    )


def _method() -> str:
    return (
        "<section id='method'><h2>How the numbers were made</h2>"
        "<p>Every number above is the program's offline analysis of the recorded beats "
        "(the same as <code>biofeedback analyze --json</code>). Over-time plots use 60 s "
        "windows.</p>" + method_html() + "</section>"
    )


def render(r: ReportData) -> str:
    """The whole report document."""
    label = r.data.meta.get("label")
    title = "Session report" + (f" {label}" if label else "") + f" ({Path(r.path).name})"
    made = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "".join(
        [
            MARK,
            "\n<html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
            _header(r),
            _facts(r),
            _people(r),
            _irregular(r),
            _baseline(r),
            sync_section(r),
            coregulation_section(r),
            _assessment(r),
            _method(),
            f"<footer>Made {made} by the co-regulation monitor {escape(__version__)} from "
            f"{escape(Path(r.path).name)}. A reflective aid, not a diagnosis. This file holds "
            "health-related data: keep it private.</footer>",
            "</body></html>\n",
        ]
    )
