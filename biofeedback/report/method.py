"""The report's method section: each measure, its formula in words and its published source."""

from __future__ import annotations

from html import escape

__all__ = ["METHODS", "method_html"]

#: (measure, how it is computed, source with DOI). Sources are given as DOIs in plain text, not
#: links, so the report loads nothing and names the paper on paper too.
METHODS: tuple[tuple[str, str, str], ...] = (
    (
        "Heart rate, RMSSD, SDNN, pNN50",
        "Mean heart rate = 60000 / mean RR; RMSSD = square root of the mean squared difference "
        "between successive RR intervals (differences across a recording gap left out); "
        "SDNN = standard deviation of RR (n-1). Over time: RMSSD of the last 60 s.",
        "Task Force of the ESC and NASPE 1996, Circulation 93:1043, "
        "doi:10.1161/01.CIR.93.5.1043; formulas as in Kubios HRV (Tarvainen et al. 2014, "
        "doi:10.1016/j.cmpb.2013.07.024).",
    ),
    (
        "LF and HF power",
        "RR resampled at 4 Hz (cubic spline), Welch spectrum with 300 s Hann windows, 50 % "
        "overlap; power integrated over 0.04-0.15 Hz (LF) and 0.15-0.40 Hz (HF).",
        "Task Force 1996, doi:10.1161/01.CIR.93.5.1043.",
    ),
    (
        "Irregular intervals",
        "Successive-difference rules on a 91-beat window sort intervals into short-long pairs, "
        "too long, too short and out-of-range (300-2000 ms) ones; they are corrected before "
        "every measure and counted here, never silently.",
        "Lipponen & Tarvainen 2019, J Med Eng Technol 43:173, doi:10.1080/03091902.2019.1640306.",
    ),
    (
        "RSA amplitude",
        "Least-squares fit of c0 + a sin(2 pi f t) + b cos(2 pi f t) to the beats, at the pacer "
        "rate f while a pacer runs, otherwise at the breathing rate estimated from the dominant "
        "RR oscillation; amplitude = sqrt(a^2 + b^2) in ms. Peak-to-trough heart rate per "
        "breath as in the resonance-breathing protocol.",
        "Lehrer, Vaschillo & Vaschillo 2000, doi:10.1023/A:1009554825745; Vaschillo et al. "
        "2002, doi:10.1023/A:1014587304314.",
    ),
    (
        "Synchrony and its chance band",
        "Each person's heart rate on a 2 Hz grid, low-passed at 0.15 Hz; windowed cross-lagged "
        "correlation (30 s windows, lags up to 5 s either way, Fisher z). The band over time is "
        "the 5th-95th percentile of the same measure with the two people paired at other times.",
        "Boker, Xu, Rotondo & King 2002, Psychol Methods 7:338, doi:10.1037/1082-989X.7.3.338.",
    ),
    (
        "Synchrony against chance (whole session)",
        "Segment shuffling: 30 s segments of one person paired with segments of the other from "
        "different times (1000 pairings), plus circular shifts; p = (b + 1) / (n + 1); both "
        "tests must agree. Stretches where both follow the pacer are named as such, not counted "
        "as synchrony.",
        "Tschacher & Meier 2020 (SUSY), Psychother Res 30:617, "
        "doi:10.1080/10503307.2019.1612114; Phipson & Smyth 2010, "
        "doi:10.2202/1544-6115.1585.",
    ),
    (
        "Co-regulation episodes",
        "A rise of heart rate clearly above the person's own reference (the resting baseline "
        "when there is one), its peak, and the time until it is back within the reference band; "
        "what the other person's heart rate did meanwhile. Described, never interpreted.",
        "Butler & Randall 2013, Emotion Review 5:202, doi:10.1177/1754073912451630; Palumbo et "
        "al. 2017, Pers Soc Psychol Rev 21:99, doi:10.1177/1088868316628405.",
    ),
    (
        "Resonance-breathing assessment",
        "About 2 minutes at each of several slow rates; per rate the RSA amplitude, "
        "peak-to-trough heart rate, LF peak and the phase between pacer and heart rate; the "
        "suggested rate is where they agree best.",
        "Lehrer, Vaschillo & Vaschillo 2000, doi:10.1023/A:1009554825745.",
    ),
)


def method_html() -> str:
    """The method section's table rows."""
    rows = "".join(
        f"<tr><th scope='row'>{escape(m)}</th><td>{escape(how)}</td><td>{escape(src)}</td></tr>"
        for m, how, src in METHODS
    )
    return (
        "<table class='method'><thead><tr><th>measure</th><th>how</th><th>source</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )
