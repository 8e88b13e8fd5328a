"""``biofeedback live``: a live session from one or two straps, recorded to a file.

With ``--therapist`` and/or ``--client`` the given straps are used (either alone makes a
one-person session under that role). With neither and a display, the connect dialog opens
(scan, choose who wears which strap, label and mode) and then the dashboard with the
session's guided steps (``--pace-bpm`` starts the pacer once the straps are connected,
``--duration`` ends the session there too); with neither and ``--no-ui`` (or no display)
the program scans and takes the strap with the strongest signal for a ``solo`` session (it
says which); with none in range it stops with a one-line error. Ctrl-C or SIGTERM ends the
session cleanly and closes the file.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from biofeedback.ble_backend import BleBackend
from biofeedback.commands.replay import add_dashboard_options, add_lsl_options, dashboard
from biofeedback.errors import UserError
from biofeedback.paths import new_session_path
from biofeedback.session import SessionController, run_until_done
from biofeedback.sources.ble import BleSource
from biofeedback.status_view import StatusLines, summary
from biofeedback.straps import run_scan
from biofeedback.terminal import TerminalView

__all__ = ["register", "run"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "live",
        help="live session from one or two straps, recorded to a file",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    p.add_argument(
        "--therapist",
        metavar="ADDR",
        help="the therapist's strap address, or lsl:STREAM for a strap on another computer "
        "(see `biofeedback relay`)",
    )
    p.add_argument("--client", metavar="ADDR", help="the client's strap address, or lsl:STREAM")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="session file to create (default: a new timestamped file in the user's data folder)",
    )
    p.add_argument("--no-ui", action="store_true", help="terminal view instead of the dashboard")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    add_dashboard_options(p)
    p.add_argument(
        "--pace-bpm",
        type=float,
        metavar="B",
        help="start a breathing pacer at B breaths/min (recorded; shown as a breathing guide)",
    )
    p.add_argument(
        "--scan-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to scan when no address is given (default 5)",
    )
    add_lsl_options(p, wait=False)
    p.set_defaults(func=run)


def _targets(args: argparse.Namespace, backend: BleBackend) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    if args.therapist:
        targets["therapist"] = args.therapist
    if args.client:
        targets["client"] = args.client
    if args.therapist and args.client and args.therapist.lower() == args.client.lower():
        raise UserError("--therapist and --client name the same strap")
    if targets:
        return targets
    found = run_scan(args.scan_timeout, backend)
    if not found:
        raise UserError(
            f"no heart-rate strap found within {args.scan_timeout:g} s: wear the strap, or "
            "name it with --therapist/--client (see `biofeedback scan`)"
        )
    best = found[0]
    print(
        f"using the strongest strap: {best.name or '(no name)'} {best.address} "
        f"({best.rssi_dbm} dBm) as solo",
        file=sys.stderr,
    )
    return {"solo": best.address}


def _window_session(args: argparse.Namespace, backend: BleBackend) -> int | None:
    """With a display and no strap named: the connect dialog, then the dashboard with the
    session's guided steps (:mod:`ui.session_window`), with ``--pace-bpm`` and ``--duration``
    carried through. ``None`` without a display (the terminal path runs instead)."""
    from ui.app import dashboard_unavailable

    if dashboard_unavailable() is not None:
        return None
    from ui.session_window import run_live_window

    return run_live_window(
        make_backend=lambda: backend,
        out=args.out,
        pace_bpm=args.pace_bpm,
        duration_s=args.duration,
    )


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}")
    if args.pace_bpm is not None and not 1.0 <= args.pace_bpm <= 30.0:
        raise UserError(f"--pace-bpm must be between 1 and 30 breaths/min, not {args.pace_bpm}")
    backend: BleBackend = args.backend
    if not (args.therapist or args.client or args.no_ui):
        code = _window_session(args, backend)
        if code is not None:
            return code
    targets = _targets(args, backend)  # Ctrl-C while scanning ends the command (nothing recorded)
    out = Path(args.out) if args.out else new_session_path()
    controller = SessionController(BleSource(targets, backend=backend), record_to=out)
    publisher = lsl_publisher(controller, tuple(targets), args)
    print(f"recording to {out}", file=sys.stderr)
    try:
        return _run(controller, out, args)
    finally:
        if publisher is not None:
            publisher.close()


def _run(controller: SessionController, out: Path, args: argparse.Namespace) -> int:
    window = dashboard(args, f"live session -> {out.name}")
    # On a terminal the live table of every strap's values; in a log or pipe, status lines.
    table = (
        TerminalView(controller, title=f"live session -> {out.name}", clock=controller.session_time)
        if sys.stdout.isatty()
        else None
    )
    lines = StatusLines(sys.stdout)
    cursor = 0

    def show_lines() -> None:
        nonlocal cursor
        events, cursor = controller.events_since(cursor)
        lines.update(controller.snapshot(), events)

    with controller:  # stopped (straps disconnected, file closed) however this block is left
        if args.pace_bpm:
            controller.set_pacer(args.pace_bpm)
        if window is not None:
            window(controller)
        else:
            with table if table is not None else contextlib.nullcontext():
                run_until_done(
                    controller, duration_s=args.duration, on_tick=None if table else show_lines
                )
    if window is None and table is None:
        show_lines()
    stats = controller.stats
    error = controller.error
    if error is not None:
        if stats.packets == 0:  # nothing was received: leave no empty recording behind
            with contextlib.suppress(OSError):
                out.unlink()
        if isinstance(error, UserError):
            raise error
        raise UserError(f"the session ended early: {error}") from error
    for role, p in controller.snapshot().participants.items():
        print(f"{role}: {summary(p)}")
    print(f"recorded {stats.packets} notifications to {out}", file=sys.stderr)
    return 0


def lsl_publisher(
    controller: SessionController, roles: tuple[str, ...], args: argparse.Namespace
) -> Any:
    """With ``--lsl``: an LSL publisher listening to ``controller`` (add it before the session
    starts, so the session's time 0 is the publisher's), else ``None``."""
    if not getattr(args, "lsl", False):
        return None
    from biofeedback.lsl.outlets import LslPublisher

    publisher = LslPublisher(roles, prefix=args.lsl_name, snapshot=controller.snapshot)
    controller.add_listener(publisher)
    print(
        "publishing to Lab Streaming Layer: " + ", ".join(publisher.stream_names()),
        file=sys.stderr,
    )
    return publisher
