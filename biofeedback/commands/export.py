"""``biofeedback export FILE --format csv|rr-txt --out PATH [--role ROLE]``.

Exports the beats of a session for spreadsheets and other HRV tools, exactly as recorded
(replayed from the stored notification bytes; nothing is corrected):

* ``csv``: one row per beat of every participant: ``role, index, time_s, rr_ms, after_gap,
  artifact`` (``artifact`` is the class the artifact detector gives the interval, empty when
  normal; the value itself is not changed).
* ``rr-txt``: one RR interval per line in ms (Kubios-style). One participant per file: with
  ``--role`` that participant to ``PATH``; otherwise every participant to ``PATH`` with the role
  added to the name (``out_therapist.txt``). Recording gaps are not marked in this format; use
  ``csv`` (``after_gap``) when they matter.

Existing files are never overwritten. Files are readable by the user alone.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import numpy as np

from biofeedback.errors import UserError
from biofeedback.rrfiles import write_rr_txt


def _new_file(path: Path) -> int:
    try:
        return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise UserError(f"{path}: file exists; not overwriting it") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot create: {exc.strerror}") from None


def run(args: argparse.Namespace) -> int:
    from biofeedback.analysis import load_input
    from hrv.artifacts import ArtifactClass, classify_intervals

    data = load_input([args.file])
    if not data.meta:
        raise UserError(f"{args.file}: export reads session files; this is an RR file already")
    roles = list(data.series)
    if args.role is not None:
        if args.role not in data.series:
            raise UserError(f"{args.file}: no participant {args.role!r} (has {', '.join(roles)})")
        roles = [args.role]
    out = Path(args.out)
    written: list[str] = []
    if args.format == "csv":
        fd = _new_file(out)
        with os.fdopen(fd, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["role", "index", "time_s", "rr_ms", "after_gap", "artifact"])
            for role in roles:
                s = data.series[role]
                codes = classify_intervals(s.rr_ms) if s.rr_ms.size else np.empty(0, int)
                after_gap = np.zeros(s.rr_ms.size, dtype=bool)
                after_gap[s.breaks] = True
                for i in range(s.rr_ms.size):
                    code = int(codes[i])
                    w.writerow(
                        [
                            role,
                            i,
                            f"{s.t_s[i]:.6f}",
                            f"{s.rr_ms[i]:.6f}",
                            int(after_gap[i]),
                            ArtifactClass(code).name.lower() if code else "",
                        ]
                    )
        written.append(str(out))
    else:
        targets = (
            {roles[0]: out}
            if len(roles) == 1
            else {r: out.with_name(f"{out.stem}_{r}{out.suffix or '.txt'}") for r in roles}
        )
        for role, path in targets.items():
            os.close(_new_file(path))
            write_rr_txt(path, data.series[role].rr_ms)
            written.append(str(path))
    for role in roles:
        print(f"{role}: {data.series[role].rr_ms.size} beats")
    print("wrote " + ", ".join(written))
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a session's beats as CSV or RR text for other tools",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="a session file")
    p.add_argument("--format", choices=("csv", "rr-txt"), required=True)
    p.add_argument("--out", required=True, metavar="PATH", help="the file to write (new)")
    p.add_argument("--role", help="only this participant (therapist, client, solo)")
    p.set_defaults(func=run)
