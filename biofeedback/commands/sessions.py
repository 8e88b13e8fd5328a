"""``biofeedback sessions [--json]``, ``biofeedback sessions delete NAME [--yes]``: the library."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from biofeedback.errors import UserError

__all__ = ["progress_bar", "register", "run"]


@contextlib.contextmanager
def progress_bar(show: bool) -> Iterator[Any]:
    """A rich progress bar on stderr while numbers are computed, or ``None`` when not shown."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("analysing {task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def update(name: str, done: int, total: int) -> None:
            bar.update(task, description=name, completed=done, total=total)

        yield update


def _data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the folder holding the sessions (default: your data folder)",
    )


def register(sub) -> None:
    p = sub.add_parser(
        "sessions",
        help="the session library: list sessions, or delete one",
        description="Every session in the data folder with date, label, mode, duration, people "
        "and headline numbers (resting RMSSD from the baseline, or from the first 3 minutes "
        "when there is none). Numbers are cached in a private index beside the sessions. "
        "Open a session by name with `biofeedback report NAME --out FILE` or "
        "`biofeedback replay NAME`.",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")
    _data_dir(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    d = actions.add_parser("delete", help="delete a session file (asks first)")
    d.add_argument("name", metavar="NAME", help="the session's name as listed")
    d.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    _data_dir(d)
    p.set_defaults(func=run)


def _fmt(v: Any, spec: str) -> str:
    return "–" if v is None else spec.format(v)


def table(entries) -> str:
    from rich.console import Console
    from rich.table import Table

    from biofeedback.library import date_words, duration_words

    t = Table(title="Sessions (oldest first)", title_justify="left")
    for col, right in (("name", False), ("date (UTC)", False), ("label", False), ("mode", False),
                       ("duration", True), ("people", False), ("mean HR (beats/min)", True),
                       ("RMSSD (ms)", True), ("resting RMSSD (ms)", True),
                       ("resting from", False)):  # fmt: skip
        t.add_column(col, justify="right" if right else "left")
    for e in entries:
        if e.error:
            t.add_row(e.name, "", "", "", "", "", "", "", "", e.error)
            continue
        f = e.facts
        people = (e.headline or {}).get("people", {})
        roles = f.get("people") or []

        def per(key: str, spec: str, people=people, roles=roles) -> str:
            return " / ".join(_fmt(people.get(r, {}).get(key), spec) for r in roles)

        sources = {people.get(r, {}).get("resting_from") for r in roles} - {None}
        t.add_row(
            e.name, date_words(f.get("date_utc")), f.get("label") or "–", f.get("mode") or "–",
            duration_words(f.get("duration_s")), " / ".join(roles), per("mean_hr_bpm", "{:.1f}"),
            per("rmssd_ms", "{:.1f}"), per("resting_rmssd_ms", "{:.1f}"),
            " / ".join(sorted(sources)) or "–",
        )  # fmt: skip
    console = Console(record=True, width=max(120, shutil.get_terminal_size((200, 24)).columns))
    with console.capture() as cap:
        console.print(t)
        if not entries:
            console.print("No sessions yet.")
        else:
            console.print(
                "Two people: values in the order of the people column. Resting RMSSD comes from "
                "the resting baseline when the session has one, else from its first 3 minutes."
            )
    return "".join(line.rstrip() + "\n" for line in cap.get().splitlines())


def _confirm(name: str, facts: dict[str, Any]) -> bool:
    if not sys.stdin.isatty():
        raise UserError(
            f"not deleting {name!r} without confirmation: pass --yes to delete from a script"
        )
    what = ", ".join(x for x in (facts.get("label"), facts.get("mode"), facts.get("date_utc")) if x)
    answer = input(f"Delete session {name!r} ({what})? It cannot be undone. [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    from biofeedback.library import Library, read_facts

    lib = Library(args.data_dir)
    if args.action == "delete":
        path = lib.find(args.name)
        try:
            facts = read_facts(path)
        except UserError:
            facts = {}
        if not args.yes and not _confirm(path.stem, facts):
            print("not deleted.")
            return 1
        lib.delete(args.name)
        print(f"deleted {path}")
        return 0
    with progress_bar(not args.json and sys.stderr.isatty()) as update:
        entries = lib.entries(progress=update)
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2, allow_nan=False))
    else:
        print(table(entries), end="")
    return 0
