"""``biofeedback analyze INPUT... [--json] [--artifact-correction auto|none] [--pace-bpm B]``."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from biofeedback.errors import UserError

ROWS = [
    ("beats", "n_beats", "{:d}"),
    ("duration (s)", "duration_s", "{:.0f}"),
    ("mean RR (ms)", "mean_rr_ms", "{:.1f}"),
    ("mean HR (beats/min)", "mean_hr_bpm", "{:.1f}"),
    ("SDNN (ms)", "sdnn_ms", "{:.1f}"),
    ("RMSSD (ms)", "rmssd_ms", "{:.1f}"),
    ("pNN50 (%)", "pnn50_pct", "{:.1f}"),
    ("SD1 (ms)", "sd1_ms", "{:.1f}"),
    ("SD2 (ms)", "sd2_ms", "{:.1f}"),
    ("LF (ms²)", "lf_ms2", "{:.0f}"),
    ("HF (ms²)", "hf_ms2", "{:.0f}"),
    ("LF/HF", "lf_hf", "{:.2f}"),
    # Irregular intervals: the JSON keeps the detector's class names (``ectopic`` ...), the
    # table says what the intervals look like, never which cardiac event might be behind them.
    ("irregular intervals (% of beats)", "artifacts.pct", "{:.1f}"),
    ("  short-long pairs", "artifacts.ectopic", "{:d}"),
    ("  too long (a beat likely missed)", "artifacts.missed", "{:d}"),
    ("  too short (an extra detection)", "artifacts.extra", "{:d}"),
    ("  too long or too short", "artifacts.long_short", "{:d}"),
    ("  outside 300-2000 ms", "artifacts.out_of_range", "{:d}"),
    ("RSA amplitude (ms)", "rsa.amplitude_ms", "{:.1f}"),
    ("RSA peak-to-trough (beats/min)", "rsa.peak_to_trough_bpm", "{:.1f}"),
    ("RSA phase vs pacer (deg)", "rsa.phase_deg", "{:.0f}"),
    ("breathing rate estimate (breaths/min)", "rsa.breathing_rate_est_bpm", "{:.1f}"),
    ("slow oscillation (per min, see note)", "rsa.slow_oscillation_bpm", "{:.1f}"),
]


def _get(d: dict[str, Any], dotted: str) -> Any:
    for k in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(k)  # type: ignore[assignment]
    return d


def _fmt(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    try:
        return fmt.format(v)
    except (ValueError, TypeError):
        return str(v)


def _coregulation_lines(coreg: dict[str, Any] | None) -> list[str]:
    """Heart-rate rises and their settling, beside "a reflective aid, not a diagnosis"."""
    from biofeedback.coregulation import NOT_A_DIAGNOSIS

    if coreg is None:
        return []
    ref = "the resting baseline" if coreg.get("reference") == "baseline" else "a rolling reference"
    lines = [f"Heart-rate rises and settling ({NOT_A_DIAGNOSIS}; against {ref}):"]
    episodes = coreg.get("episodes") or []
    lines += [f"  {e['summary']}" for e in episodes] or ["  no clear rise above the reference"]
    return lines


def format_table(result: dict[str, Any]) -> str:
    from rich.console import Console
    from rich.table import Table

    people = result["participants"]
    t = Table(title=f"HRV of {result.get('source', '')}", title_justify="left")
    t.add_column("measure")
    for role in people:
        t.add_column(role, justify="right")
    for label, key, fmt in ROWS:
        t.add_row(label, *(_fmt(_get(m, key), fmt) for m in people.values()))
    console = Console(record=True, width=100)
    with console.capture() as cap:
        console.print(t)
        for role, m in people.items():
            notes = [*(m.get("notes") or []), _get(m, "rsa.breathing_rate_note")]
            for note in filter(None, notes):
                console.print(f"{role}: {note}.", highlight=False)
        sync = result.get("synchrony")
        if sync is not None:
            console.print(_sync_table(sync))
            console.print(EFFECT_SIZE_NOTE, highlight=False)
        if sync is not None and sync.get("summary"):
            console.print("[bold]How the two heart rates moved together[/bold]")
            console.print(f"whole session: {sync['summary']}")
            for st in sync.get("stretches") or []:
                pacer = f", pacer {st['pacer_bpm']:g}/min" if st.get("pacer_bpm") else ""
                console.print(f"{st['start_s']:.0f}-{st['end_s']:.0f} s{pacer}: {st['summary']}")
        if sync is not None and sync.get("baseline"):
            console.print(f"compared with the baseline: {sync['baseline']['difference_summary']}")
        for note in (sync or {}).get("notes") or []:
            console.print(f"both: {note}.", highlight=False)
        for line in _coregulation_lines(result.get("coregulation")):
            console.print(line, highlight=False)
        for line in _input_lines(result.get("input")):
            console.print(line, highlight=False)
        if result.get("assessment"):
            console.print(assessment_table(result["assessment"]))
            console.print(assessment_summary(result["assessment"]))
    return cap.get()


#: What the effect size in the synchrony table means (issue 12 item 6).
EFFECT_SIZE_NOTE = (
    "Effect size: how many standard deviations of the chance pairings (segments from "
    "different times, and time-shifted series; the stricter of the two) the real synchrony "
    "lies beyond chance, in the direction the p-value tests. Positive: more than chance; at "
    "or below 0: no more than chance. It agrees with p, which is significant only against "
    "both kinds of pairing: a significant result has a positive effect size."
)

#: The synchrony numbers of the table: label, contract key, format.
SYNC_ROWS = [
    ("mean windowed correlation (Fisher z)", "z_mean", "{:.3f}"),
    ("effect size (SDs, see below)", "effect_size", "{:.2f}"),
    ("p against chance (both nulls)", "p_value", "{:.3f}"),
    ("surrogates", "n_surrogates", "{:d}"),
    ("in-phase z", "in_phase_z", "{:.3f}"),
    ("anti-phase z", "anti_phase_z", "{:.3f}"),
    ("lag of the strongest link (s, + client first)", "peak_lag_s", "{:+.1f}"),
    ("who tended to change first", "leader", "{}"),
    ("both breathing to one rhythm", "pacer_driven", "{}"),
]


def _sync_table(sync: dict[str, Any]):
    from rich.table import Table

    t = Table(title="Synchrony (a reflective aid, not a diagnosis)", title_justify="left")
    t.add_column("measure")
    t.add_column("whole session", justify="right")
    stretches = list(sync.get("stretches") or [])
    for st in stretches:
        t.add_column(f"{st['start_s']:.0f}-{st['end_s']:.0f} s", justify="right")
    base = sync.get("baseline")
    if base:
        t.add_column(f"baseline {base['start_s']:.0f}-{base['end_s']:.0f} s", justify="right")
        stretches.append(base)
    for label, key, fmt in SYNC_ROWS:
        parts = [sync, *stretches]
        if key == "pacer_driven":
            t.add_row(label, *(_rhythm(x) for x in parts))
            continue
        t.add_row(label, *(_fmt(_yes_no(x.get(key)), fmt) for x in parts))
    return t


def _rhythm(sync: dict[str, Any]) -> str:
    """Whether both followed one breathing rhythm, and how it was known."""
    if not sync.get("pacer_driven"):
        return "no"
    if sync.get("pacer_driven_by") == "shared rhythm":
        return "yes, found in the beats"
    return "yes, the pacer"


def _yes_no(v: Any) -> Any:
    return ("yes" if v else "no") if isinstance(v, bool) else v


def _input_lines(info: dict[str, Any] | None) -> list[str]:
    """What the readers found in RR files: format, unit, gaps, left-out values, alignment."""
    if not info:
        return []
    out = []
    for role, f in (info.get("files") or {}).items():
        parts = [f"{role}: {f.get('format')} file, values in {f.get('unit')}"]
        if f.get("n_gaps"):
            parts.append(f"{f['n_gaps']} recording gap(s)")
        out.append(", ".join(parts))
        out += [f"  {n}" for n in f.get("notes") or []]
    out += list(info.get("notes") or [])
    return out


ASSESSMENT_COLUMNS = [
    ("breaths/min", "rate_bpm", "{:.1f}"),
    ("time (s)", None, ""),
    ("RSA (ms)", "rsa_amplitude_ms", "{:.0f}"),
    ("HR swing (beats/min)", "peak_to_trough_bpm", "{:.1f}"),
    ("LF peak (ms²)", "lf_peak_ms2", "{:,.0f}"),
    ("phase (°)", "phase_deg", "{:+.0f}"),
    ("followed (%)", "followed", ""),
]


def assessment_table(a: dict[str, Any]):
    """The assessment's steps as a rich table (one row per step, the suggestion marked)."""
    from rich.table import Table

    t = Table(
        caption="RSA: sine-fit amplitude at the step rate; HR swing: peak-to-trough heart rate "
        "per breath (Lehrer); phase: heart-rate peak against the pacer's fullest lungs "
        "(+ earlier); followed: share of breathing-band power at the pacer rate",
        caption_justify="left",
        title=f"Resonance-frequency assessment ({a.get('role') or 'unknown person'}, "
        f"{a.get('status')})",
        title_justify="left",
    )
    for label, _key, _fmt_s in ASSESSMENT_COLUMNS:
        t.add_column(label, justify="right")
    for st in a.get("steps") or []:
        cells = []
        for _label, key, fmt in ASSESSMENT_COLUMNS:
            if key is None:
                cells.append(f"{st['start_s']:.0f}-{st['end_s']:.0f}")
            elif key == "followed":
                v = st.get(key)
                cells.append("–" if v is None else f"{100 * v:.0f}")
            else:
                cells.append(_fmt(st.get(key), fmt))
        if st.get("rate_bpm") == a.get("suggested_bpm"):
            cells[0] = f"▶ {cells[0]}"
        t.add_row(*cells)
    return t


def assessment_summary(a: dict[str, Any]) -> str:
    """One line with the suggestion, then the reasoning."""
    s = a.get("suggested_bpm")
    head = f"Suggested rate: {s:g} breaths/min" if s is not None else "No suggested rate"
    return f"[bold]{head}[/bold]\n{a.get('reason') or ''}"


def run(args: argparse.Namespace) -> int:
    from biofeedback.analysis import analyze, load_input

    if args.pace_bpm is not None and not (1.0 <= args.pace_bpm <= 30.0):
        raise UserError(f"--pace-bpm must be between 1 and 30 breaths/min, not {args.pace_bpm}")
    from biofeedback.rrinput import trim

    data = load_input(
        args.inputs,
        args.therapist,
        args.client,
        fmt=args.format,
        role=args.role,
        client_offset_s=args.client_offset_s,
    )
    data = trim(data, args.start, args.end)
    result = analyze(data, correction=args.artifact_correction, pace_bpm=args.pace_bpm)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        print(format_table(result), end="")
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="offline HRV (and synchrony for two people) of a session or RR files",
        description="Offline analysis of a session file, or of one RR file, or of two people's "
        "RR files (--therapist A --client B).",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="a session file or an RR file")
    p.add_argument("--therapist", metavar="RRFILE", help="therapist's RR file (dyad)")
    p.add_argument("--client", metavar="RRFILE", help="client's RR file (dyad)")
    p.add_argument("--json", action="store_true", help="print the JSON contract object")
    p.add_argument(
        "--artifact-correction",
        choices=("auto", "none"),
        default="auto",
        help="correct artifacts before analysis (default auto)",
    )
    p.add_argument(
        "--pace-bpm",
        type=float,
        metavar="B",
        help="pacer rate in breaths/min (default: from the session's pacer events)",
    )
    from biofeedback.formats import FORMATS

    p.add_argument(
        "--format",
        choices=FORMATS,
        help="read RR files as this format instead of deciding by content",
    )
    p.add_argument(
        "--role", help="analyse only this person of a file that holds several (therapist, client)"
    )
    p.add_argument(
        "--client-offset-s",
        type=_finite,
        default=0.0,
        metavar="S",
        help="shift the client's beats by S seconds (positive: later), for RR files that did "
        "not start together and have no clock times",
    )
    p.add_argument(
        "--start",
        metavar="WHEN",
        help="analyse from here: seconds from the start, or a clock time (14:05:30) for "
        "inputs with clock times",
    )
    p.add_argument("--end", metavar="WHEN", help="analyse up to here (like --start)")
    p.set_defaults(func=run)


def _finite(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v) or abs(v) > 86400 * 7:
        raise argparse.ArgumentTypeError(f"must be a number of seconds within a week: {text!r}")
    return v
