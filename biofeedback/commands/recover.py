"""``biofeedback recover FILE --out NEW``: salvage a damaged session into a new file.

Reads every notification and event still readable in a damaged session file (a truncated
copy, a file with garbled pages) and writes them to a new session file; the damaged file is
only read. See :mod:`biofeedback.recovery` for how.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from biofeedback.errors import UserError

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    from biofeedback.recovery import salvage, write_recovered
    from biofeedback.session_reader import SessionReader
    from biofeedback.store import SessionFileError

    src = Path(args.file)
    if not src.is_file():
        raise UserError(f"{src}: no such file")
    try:
        with SessionReader(src):
            pass
    except SessionFileError as exc:
        if "damaged" not in str(exc):
            raise
    else:
        raise UserError(f"{src}: the file opens normally; nothing to recover")
    found = salvage(src)
    if found.meta.get("format") != "coregulation-session" or not found.packets:
        raise UserError(f"{src}: no session data could be recovered from this file")
    out = Path(args.out)
    if out.exists():
        raise UserError(f"{out}: file exists; not overwriting it")
    counts = write_recovered(found, src, out)
    holes = "" if counts["contiguous"] else " (with holes where pages were lost)"
    print(
        f"recovered {counts['notifications']} notifications and {counts['events']} events, "
        f"{counts['until_s'] / 60:.1f} min{holes}, to {out}"
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "recover",
        help="salvage a damaged session file into a new file",
        description=(__doc__ or "").split("\n\n", 1)[1],
    )
    p.add_argument("file", help="a damaged session file (only read)")
    p.add_argument("--out", required=True, metavar="NEW", help="the new session file to write")
    p.set_defaults(func=run)
