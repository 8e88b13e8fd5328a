"""``biofeedback report FILE --out report.html``: the after-session report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write the after-session report (one self-contained HTML file)",
        description="Analyse a session file and write its report: one HTML file that opens "
        "offline in any browser and prints on A4. A reflective aid, not a diagnosis.",
    )
    p.add_argument("file", metavar="FILE", help="a session file, or a session's name as listed")
    p.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    p.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it is off when not a terminal)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from biofeedback.library import resolve_session
    from biofeedback.report.build import write_report

    args.file = resolve_session(args.file)  # a path, or a session's name in the library
    show = not args.no_progress and sys.stderr.isatty()
    if not show:
        out = write_report(args.file, args.out)
    else:
        columns = (
            TextColumn("{task.description:<48}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f} %"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("reading the session", total=1.0)

            def progress(words: str, frac: float) -> None:
                bar.update(task, description=words, completed=frac)

            out = write_report(args.file, args.out, progress)
    print(f"wrote {out}: the session report (a reflective aid, not a diagnosis)")
    return 0
