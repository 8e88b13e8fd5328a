"""The report's two-person sections: synchrony with its chance band, and co-regulation moments."""

from __future__ import annotations

from html import escape

import numpy as np

from biofeedback.report.build import ReportData
from biofeedback.report.parts import (
    DASH,
    _episodes,
    _markers,
    _role_words,
    _spans,
    _table,
    clock,
    num,
)
from biofeedback.report.svg import Band, Mark, Series, time_chart

__all__ = ["coregulation_section", "sync_section"]


#: Sessions longer than this (s) show the share of windows above the band instead of each window.
LONG_S = 1800.0

SHORT_CAPTION = (
    "The line is how strongly the two heart rates rose and fell together in each 30 s window "
    "(the peak of the lagged correlation nearest zero lag). The grey band is what the same two "
    "people give when one person's window is paired with the other's from other times (it "
    "appears after about two minutes of both heart rates): above the band is more than chance at "
    "that moment. Where both follow the pacer the line is drawn dotted, because a shared "
    "breathing rhythm is not synchrony between them."
)
LONG_CAPTION = (
    "Each 30 s window's synchrony (the peak of the lagged correlation nearest zero lag) is "
    "compared with a chance band: the same two people with one person's window paired with the "
    "other's from other times. The line is the share of windows above the band over 5 minutes "
    "at a time; by chance alone about 5 % are (dotted line). A long session is shown this way "
    "because hours of single windows do not read as one line."
)


def _running_mean(t: np.ndarray, y: np.ndarray, span_s: float) -> np.ndarray:
    """Mean of the finite values within ``span_s`` centred on each point (``nan`` if none)."""
    ok = np.isfinite(y)
    c_y = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    c_n = np.concatenate([[0], np.cumsum(ok)])
    lo = np.searchsorted(t, t - span_s / 2, side="left")
    hi = np.searchsorted(t, t + span_s / 2, side="right")
    n = c_n[hi] - c_n[lo]
    return np.where(n > 0, (c_y[hi] - c_y[lo]) / np.maximum(n, 1), np.nan)


def sync_section(r: ReportData) -> str:
    s = r.result.get("synchrony")
    if s is None or r.sync is None:
        return (
            "<section id='synchrony'><h2>Synchrony</h2>"
            "<p>One person in this session: there is no synchrony to show.</p></section>"
        )
    head = "<section id='synchrony'><h2>How the two heart rates moved together</h2>"
    st = r.sync
    strength = np.where(st.pacer_driven, np.nan, st.strength)
    paced_line = np.where(st.pacer_driven, st.strength, np.nan)
    long = r.t_end_s > LONG_S
    if not long:
        series = [Series(st.t_s, strength, "synchrony (in-phase strength)", "#333333")]
        if np.any(st.pacer_driven):
            series.append(Series(st.t_s, paced_line, "both following the pacer", "#56B4E9", "2,2"))
        chart = time_chart(
            series,
            bands=[Band(st.t_s, st.band_lo, st.band_hi, "chance band (other times)", "#999999")],
            spans=_spans(r),
            marks=[Mark(t, lab) for lab, t, _ in _markers(r)],
            t_range=(0.0, r.t_end_s),
            y_label="Fisher z",
            title="Synchrony over the session with its chance band",
            hlines=(0.0,),
            height=200,
        )
        caption = SHORT_CAPTION
    else:
        # Hours of 30 s windows do not read as one line: show how often a window was above
        # its chance band, over 5 minutes at a time (chance alone gives about 5 %).
        has = np.isfinite(strength) & np.isfinite(st.band_hi)
        above = np.where(has, (strength > st.band_hi).astype(float), np.nan)
        share = 100.0 * _running_mean(st.t_s, above, 300.0)
        top = float(np.nanmax(share)) * 1.1 if np.isfinite(share).any() else 0.0
        chart = time_chart(
            [Series(st.t_s, share, "windows above the chance band (5-min running share)", "#222222",
                    width=1.6)],
            spans=_spans(r),
            marks=[Mark(t, lab) for lab, t, _ in _markers(r)],
            t_range=(0.0, r.t_end_s),
            y_label="% of 30 s windows",
            title="Share of windows above the chance band over the session",
            hlines=(5.0,),
            y_range=(0.0, max(25.0, top)),
            height=200,
        )  # fmt: skip
        caption = LONG_CAPTION
    rows = [
        ["mean synchrony (|z|, all lags)", num(r.result, "synchrony.z_mean", "{:.3f}")],
        ["effect size against chance (SDs)", num(r.result, "synchrony.effect_size", "{:.2f}")],
        ["p-value (chance comparison)", num(r.result, "synchrony.p_value", "{:.2g}")],
        ["shuffled pairings", num(r.result, "synchrony.n_surrogates", "{:d}")],
        [
            "lag at the strongest link (positive: client first)",
            num(r.result, "synchrony.peak_lag_s", "{:.1f}", " s"),
        ],
        ["whose changes came first", escape(str(s.get("leader") or "none"))],
        [
            "in-phase z (rising and falling together)",
            num(r.result, "synchrony.in_phase_z", "{:.3f}"),
        ],
        [
            "anti-phase z (moving in opposite directions)",
            num(r.result, "synchrony.anti_phase_z", "{:.3f}"),
        ],
        ["both following the pacer", "yes" if s.get("pacer_driven") else "no"],
    ]
    stretches = ""
    if s.get("stretches"):
        srows = []
        for i, x in enumerate(s["stretches"]):
            pacer = f"{x['pacer_bpm']:g} breaths/min" if x.get("pacer_bpm") else "off"
            srows.append(
                [
                    f"<span class='nowrap'>{clock(x['start_s'])}–{clock(x['end_s'])}</span>",
                    escape(pacer),
                    num(r.result, f"synchrony.stretches.{i}.p_value", "{:.2g}"),
                    escape(str(x.get("summary") or "")),
                ]
            )
        stretches = "<h3>Stretch by stretch (between pacer changes)</h3>" + _table(
            ["time", "pacer", "p", "in words"], srows, {2}
        )
    notes = "".join(f"<li>{escape(str(n))}</li>" for n in s.get("notes") or [])
    return (
        head
        + f"<div class='summary' id='sync-summary'>{escape(str(s.get('summary') or ''))}</div>"
        + (f"<ul class='notes'>{notes}</ul>" if notes else "")
        + f"<figure>{chart}<figcaption>{caption}</figcaption></figure>"
        + _table(["whole session, offline test", "value"], rows, {1})
        + "<p class='note'>The effect size is measured on the same numbers as the p-value: how "
        "many standard deviations of the chance pairings (segments from different times, and "
        "the client's series shifted in time; the stricter of the two) the real pairing's mean "
        "synchrony lies beyond chance, in the direction tested. Positive: more than chance; at "
        "or below 0: no more than chance. More synchrony is not better or worse.</p>"
        + stretches
        + _baseline_sync(r, s)
        + "</section>"
    )


def _baseline_sync(r: ReportData, s: dict) -> str:
    """Synchrony on the resting baseline against the rest of the session, when there is one."""
    b = s.get("baseline")
    if not isinstance(b, dict):
        return ""
    k = "synchrony.baseline"
    rows = [
        ["p-value (chance comparison)", num(r.result, f"{k}.p_value", "{:.2g}"),
         num(r.result, f"{k}.rest_p_value", "{:.2g}")],
        ["effect size against chance (SDs)", num(r.result, f"{k}.effect_size", "{:.2f}"),
         num(r.result, f"{k}.rest_effect_size", "{:.2f}")],
        ["mean synchrony (|z|, all lags)", num(r.result, f"{k}.z_mean", "{:.3f}"),
         num(r.result, f"{k}.rest_z_mean", "{:.3f}")],
    ]  # fmt: skip
    when = f"{clock(b.get('start_s'))}–{clock(b.get('end_s'))}"
    return (
        "<h3>Resting baseline and the rest of the session</h3>"
        f"<p>{escape(str(b.get('difference_summary') or b.get('summary') or ''))}</p>"
        + _table(["", f"baseline ({when})", "rest of the session"], rows, {1, 2})
    )


def coregulation_section(r: ReportData) -> str:
    head = "<section id='coregulation'><h2>Co-regulation moments</h2>"
    co = r.result.get("coregulation")
    if not isinstance(co, dict):
        return (
            head + "<p>Heart-rate rises and settling are not analysed by this version of the "
            "program.</p></section>"
        )
    eps = _episodes(r)
    ref_words = {
        "baseline": "the resting baseline",
        "rolling": "a rolling reference, as the session has no baseline",
    }
    ref = ref_words.get(str(co.get("reference")), str(co.get("reference")))
    if not eps:
        return (
            head + "<p>No clear heart-rate rise above each person's reference "
            f"({escape(ref)}) was found.</p></section>"
        )
    rows = []
    for i, ep in enumerate(eps):
        k = f"coregulation.episodes.{i}"
        rows.append(
            [
                f"E{i + 1}",
                escape(_role_words(str(ep.get("person")))),
                clock(ep.get("start_s")),
                clock(ep.get("peak_s")),
                num(r.result, f"{k}.rise_bpm", "{:.0f}", " beats/min"),
                num(r.result, f"{k}.settle_s", "{:.0f}", " s")
                if ep.get("settle_s") is not None
                else "did not settle in the record",
                escape(str(ep.get("other") or DASH)),
                escape(str(ep.get("summary") or "")),
            ]
        )
    return (
        head + f"<p>Moments when one person's heart rate rose clearly above their own reference "
        f"({escape(ref)}) and how long it took to come back, with what the other person's heart "
        "rate did meanwhile. Heart rate alone cannot say why it rose (movement, speech, "
        "posture, emotion): these are descriptions, not interpretations.</p>"
        + _table(
            ["", "person", "start", "peak", "rise", "settled within", "other person", "in words"],
            rows,
            {4, 5},
        )
        + "</section>"
    )
