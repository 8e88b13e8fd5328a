"""``biofeedback live``: a live session from one or two straps, recorded to a file.

With ``--therapist`` and/or ``--client`` the given straps are used (either alone makes a
one-person session under that role). With neither, the program scans and takes the strap with
the strongest signal for a ``solo`` session (it says which); with none in range it stops with
a one-line error. Ctrl-C or SIGTERM ends the session cleanly and closes the file.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import queue
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from biofeedback.commands.replay import add_lsl_options
from biofeedback.errors import UserError
from biofeedback.live import LiveSession
from biofeedback.paths import new_session_path
from biofeedback.status_view import StatusLines, summary
from biofeedback.straps import BluetoothUnavailable, backend_from_options, scan
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
    p.add_argument("--no-ui", action="store_true", help="terminal status lines only")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
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
    p.add_argument("--virtual-straps", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _targets(args: argparse.Namespace, backend: Any) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    if args.therapist:
        targets["therapist"] = args.therapist
    if args.client:
        targets["client"] = args.client
    if args.therapist and args.client and args.therapist.lower() == args.client.lower():
        raise UserError("--therapist and --client name the same strap")
    if targets:
        return targets
    import asyncio

    async def _scan() -> list[Any]:
        if backend.start is not None:
            await backend.start()
        try:
            return await scan(args.scan_timeout, backend=backend)
        finally:
            if backend.stop is not None:
                await backend.stop()

    found = asyncio.run(_scan())
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


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}")
    if args.pace_bpm is not None and not 1.0 <= args.pace_bpm <= 30.0:
        raise UserError(f"--pace-bpm must be between 1 and 30 breaths/min, not {args.pace_bpm}")
    stop = threading.Event()
    started = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        # Before the session runs (scanning) a signal ends the command like Ctrl-C; after,
        # it asks the session to disconnect the straps and close the file.
        if not started.is_set():
            raise KeyboardInterrupt
        stop.set()

    handlers: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, on_signal)
    try:
        return _run(args, stop, started)
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)


def _drain(feed: queue.Queue[Any], view: StatusLines) -> None:
    with contextlib.suppress(queue.Empty):
        while True:
            view.feed(feed.get_nowait())


def _run(args: argparse.Namespace, stop: threading.Event, started: threading.Event) -> int:
    backend = backend_from_options(args.virtual_straps)
    targets = _targets(args, backend)
    if backend.start is not None and not (args.therapist or args.client):
        # Virtual straps live in the event loop that started them, and the scan's loop is
        # closed now: the session gets a fresh radio from the same script.
        backend = backend_from_options(args.virtual_straps)
    out = Path(args.out) if args.out else new_session_path()
    session = LiveSession(targets, out=out, backend=backend)
    publisher = live_publisher(session, tuple(targets), args)
    view = StatusLines(sys.stdout)
    print(f"recording to {out}", file=sys.stderr)
    started.set()
    session.start()
    feed = session.subscribe()
    if args.pace_bpm:
        session.set_pacer(args.pace_bpm)
    # On a terminal the live table of every strap's values; in a log or pipe, status lines.
    clock = session.source.now if session.source is not None else None
    table = (
        TerminalView(session.engine, title=f"live session -> {out.name}", clock=clock)
        if sys.stdout.isatty()
        else None
    )
    try:
        deadline = None if args.duration is None else time.monotonic() + args.duration
        with table if table is not None else contextlib.nullcontext():
            while not stop.is_set() and session.running:
                if table is None:
                    _drain(feed, view)
                    view.update(session.snapshot())
                else:
                    with contextlib.suppress(queue.Empty):
                        while True:
                            feed.get_nowait()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                stop.wait(0.2)
    finally:
        if publisher is not None:
            publisher.close()
        try:
            stats = session.stop()
        except BluetoothUnavailable:
            if session.stats is None or session.stats.packets == 0:
                with contextlib.suppress(OSError):
                    out.unlink()
            raise
    final = session.snapshot()
    if table is None:
        _drain(feed, view)
        view.update(final)
    for role, st in final.roles.items():
        print(f"{role}: {summary(st)}")
    if stats is not None:
        print(f"recorded {stats.packets} notifications to {out}", file=sys.stderr)
    return 0


def live_publisher(session: LiveSession, roles: tuple[str, ...], args: argparse.Namespace) -> Any:
    """With ``--lsl``: an LSL publisher listening to ``session`` (created just before it
    starts, so the session's time 0 is the publisher's), else ``None``."""
    if not getattr(args, "lsl", False):
        return None
    from biofeedback.lsl.outlets import LslPublisher

    publisher = LslPublisher(roles, prefix=args.lsl_name, snapshot=session.engine.snapshot)
    session.add_listener(publisher)
    print(
        "publishing to Lab Streaming Layer: " + ", ".join(publisher.stream_names()),
        file=sys.stderr,
    )
    return publisher
