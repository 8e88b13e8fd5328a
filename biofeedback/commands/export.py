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
import contextlib
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


def _write_csv(fd: int, data, roles: list[str]) -> None:
    from hrv.artifacts import ArtifactClass, classify_intervals

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


def run(args: argparse.Namespace) -> int:
    from biofeedback.analysis import load_input

    data = load_input([args.file])
    if not data.meta:
        raise UserError(f"{args.file}: export reads session files; this is an RR file already")
    roles = list(data.series)
    if args.role is not None:
        if args.role not in data.series:
            raise UserError(f"{args.file}: no participant {args.role!r} (has {', '.join(roles)})")
        roles = [args.role]
    out = Path(args.out)
    targets: dict[str | None, Path]
    if args.format == "csv":
        targets = {None: out}
    elif len(roles) == 1:
        targets = {roles[0]: out}
    else:
        targets = {r: out.with_name(f"{out.stem}_{r}{out.suffix or '.txt'}") for r in roles}
    # Every output is checked before any is written, so a refusal leaves nothing half-done.
    for path in targets.values():
        if path.exists():
            raise UserError(f"{path}: file exists; not overwriting it (nothing was written)")
    written: list[Path] = []

    def remove_written() -> None:  # a failure part-way (disk full) leaves no partial export
        for p in written:
            with contextlib.suppress(OSError):
                p.unlink()

    path = out
    try:
        for role, path in targets.items():
            fd = _new_file(path)
            written.append(path)
            if role is None:
                _write_csv(fd, data, roles)
            else:
                os.close(fd)
                write_rr_txt(path, data.series[role].rr_ms)
    except OSError as exc:
        remove_written()
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}; nothing was kept") from None
    except BaseException:
        remove_written()
        raise
    for role in roles:
        print(f"{role}: {data.series[role].rr_ms.size} beats")
    print("wrote " + ", ".join(str(p) for p in written))
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
