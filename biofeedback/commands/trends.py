"""``biofeedback trends LABEL [--json]``: one label's numbers across sessions."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser(
        "trends",
        help="one label's numbers across sessions, with the change per session",
        description="Per session of LABEL (oldest first): resting RMSSD (from the baseline, else "
        "the first 3 minutes), RSA at the personal rate, the suggested breathing rate, synchrony "
        "against chance, co-regulation episodes; and each measure's change per session when at "
        "least 3 sessions have it. Nothing is extrapolated. A reflective aid, not a diagnosis.",
    )
    p.add_argument("label", metavar="LABEL", help="the session label (e.g. a client code)")
    p.add_argument("--json", action="store_true", help="print the JSON object")
    p.add_argument("--data-dir", type=Path, metavar="DIR", help="the folder holding the sessions")
    p.set_defaults(func=run)


def _f(v: Any, spec: str) -> str:
    return "–" if v is None else spec.format(v)


def table(res: dict[str, Any]) -> str:
    from rich.console import Console
    from rich.table import Table

    from biofeedback.trends import session_date

    t = Table(title=f"Sessions of {res['label']} (oldest first)", title_justify="left")
    columns = (
        "#", "name", "date (UTC)", "person", "resting RMSSD (ms)", "resting from", "RSA (ms)",
        "suggested rate", "synchrony", "episodes", "median settling (s)",
    )  # fmt: skip
    for col in columns:
        t.add_column(col)
    for r in res["sessions"]:
        rest = _f(r["resting_rmssd_ms"], "{:.1f}")
        rsa = _f(r["rsa_amplitude_ms"], "{:.1f}")
        if r["rsa_amplitude_ms"] is not None:
            rsa += f" at {r['rsa_rate_bpm']:g}/min" + (
                " (assessment)" if r["rsa_from"] == "assessment" else ""
            )
        sync = r["synchrony"] or "–"
        if r["synchrony_p"] is not None:
            sync += f", p = {r['synchrony_p']:.2g}"
        t.add_row(
            str(r["position"] + 1), r["name"], session_date(r), r["person"] or "–", rest,
            r["resting_from"] or "–", rsa,
            _f(r["suggested_bpm"], "{:g}/min"), sync, _f(r["n_episodes"], "{:d}"),
            _f(r["median_settle_s"], "{:.0f}"),
        )  # fmt: skip
    console = Console(record=True, width=max(120, shutil.get_terminal_size((200, 24)).columns))
    with console.capture() as cap:
        if not res["sessions"]:
            console.print(f"No sessions labelled {res['label']!r}.")
            return cap.get()
        console.print(t)
        console.print("[bold]Change per session[/bold] (never extrapolated)")
        for tr in res["trends"].values():
            console.print(f"  {tr['note']}")
        s = res["synchrony_above_chance"]
        if s["sessions_tested"]:
            console.print(
                f"  synchrony above chance in {s['sessions_above_chance']} of "
                f"{s['sessions_tested']} two-person sessions"
            )
        console.print("A reflective aid, not a diagnosis: more or less is not better or worse.")
    return "".join(line.rstrip() + "\n" for line in cap.get().splitlines())


def run(args: argparse.Namespace) -> int:
    from biofeedback.commands.sessions import progress_bar
    from biofeedback.library import Library
    from biofeedback.trends import label_trends

    lib = Library(args.data_dir)
    with progress_bar(not args.json and sys.stderr.isatty()) as update:
        res = label_trends(lib, args.label, progress=update)
    if args.json:
        print(json.dumps(res, indent=2, allow_nan=False))
    else:
        print(table(res), end="")
    return 0
