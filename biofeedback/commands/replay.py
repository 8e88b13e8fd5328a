"""``biofeedback replay FILE [--speed X|max] [--no-ui] [--record OUT] [--duration S]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from biofeedback.beats import Beat, SourceItem
from biofeedback.errors import UserError
from biofeedback.recorder import RecordStats
from biofeedback.session import Listener, SessionController, run_until_done
from biofeedback.session_reader import SessionReader
from biofeedback.sources import BeatSource, parse_speed
from biofeedback.sources.replay import ReplaySource


def add_play_options(p: argparse.ArgumentParser, default_speed: str) -> None:
    p.add_argument(
        "--speed",
        default=default_speed,
        help=f"playback speed: 1 = real time, 10 = ten times faster, max = as fast as possible "
        f"(default {default_speed})",
    )
    p.add_argument(
        "--duration", type=float, metavar="S", help="stop after S seconds of session time"
    )
    p.add_argument("--no-ui", action="store_true", help="terminal view instead of the dashboard")
    p.add_argument("--quiet", action="store_true", help="no live view, only the final summary")
    add_lsl_options(p)
    add_dashboard_options(p)


def add_dashboard_options(p: argparse.ArgumentParser) -> None:
    """``--theme``, ``--screenshot`` and ``--screenshot-pacer`` (see :mod:`ui.app`)."""
    p.add_argument("--theme", choices=("light", "dark"), default="light", help="dashboard colours")
    p.add_argument(
        "--screenshot",
        metavar="PNG",
        help="run the dashboard offscreen for --duration seconds of session time and save it",
    )
    p.add_argument(
        "--screenshot-pacer", metavar="PNG", help="also save the full-screen pacer window"
    )


def dashboard(args: argparse.Namespace, title: str) -> Callable[[SessionController], bool] | None:
    """The dashboard runner the options ask for, or ``None`` for the terminal view.

    The dashboard lives in the ``ui`` package (imported only here, so ``biofeedback`` never
    loads Qt otherwise); without a display it says so in one line and the terminal view runs.
    """
    shot = bool(args.screenshot or args.screenshot_pacer)
    if args.no_ui or getattr(args, "quiet", False):
        if shot:
            raise UserError("--screenshot needs the dashboard; leave out --no-ui and --quiet")
        return None
    from ui.app import dashboard_runner

    return dashboard_runner(args, title)


def add_lsl_options(p: argparse.ArgumentParser, *, wait: bool = True) -> None:
    """``--lsl`` and ``--lsl-name``: publish the session to Lab Streaming Layer (off by default)."""
    p.add_argument(
        "--lsl",
        action="store_true",
        help="publish the session to Lab Streaming Layer: RR per person, metrics at 1 Hz, markers "
        "(off by default: without it no network socket is opened)",
    )
    p.add_argument(
        "--lsl-name",
        default="coregulation",
        metavar="PREFIX",
        help="LSL stream name prefix (streams PREFIX-ROLE-RR, PREFIX-metrics, PREFIX-markers)",
    )
    if not wait:
        return
    p.add_argument(
        "--lsl-wait",
        type=float,
        default=0.0,
        metavar="S",
        help="with --lsl, wait up to S seconds for a reader of every RR stream before playing "
        "(so a recorder gets the first beat)",
    )


def lsl_publishers(source: BeatSource, args: argparse.Namespace) -> list[Any]:
    """The LSL publisher for ``--lsl`` (none without it), created as the session starts; its
    live metrics come from the session controller once :func:`attach_snapshots` ran."""
    if not getattr(args, "lsl", False):
        return []
    wait_s = getattr(args, "lsl_wait", 0.0)
    if not 0.0 <= wait_s <= 3600.0:
        raise UserError(f"--lsl-wait must be between 0 and 3600 seconds, not {wait_s}")
    from biofeedback.lsl.outlets import LslPublisher

    publisher = LslPublisher(source.roles, prefix=args.lsl_name)
    print(
        "publishing to Lab Streaming Layer: " + ", ".join(publisher.stream_names()),
        file=sys.stderr,
        flush=True,
    )
    if wait_s > 0 and not publisher.wait_for_consumers(wait_s):
        print(f"no reader of every RR stream after {wait_s:g} s; playing anyway", file=sys.stderr)
    return [publisher]


def attach_snapshots(publishers: Sequence[Any], controller: SessionController) -> None:
    for pub in publishers:
        pub.snapshot = controller.snapshot


def make_replay_source(path: str, args: argparse.Namespace) -> ReplaySource:
    try:
        speed = parse_speed(args.speed)
    except ValueError as exc:
        raise UserError(f"--speed: {exc}") from None
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}")
    # A screenshot shows the window during the session at --duration, not after its end.
    shot = bool(getattr(args, "screenshot", None) or getattr(args, "screenshot_pacer", None))
    return ReplaySource(path, speed=speed, duration_s=args.duration, hold_at_end=shot)


def play(
    source: BeatSource,
    *,
    title: str,
    quiet: bool,
    record_to: str | None = None,
    listeners: Sequence[Listener] = (),
    window: Callable[[SessionController], bool] | None = None,
    setup: Callable[[SessionController], None] | None = None,
    live_values: bool | None = None,
) -> tuple[SessionController, bool]:
    """Run ``source`` through a session controller to its end (or Ctrl-C / SIGTERM) with the
    live terminal view unless ``quiet``, or in the dashboard ``window`` (until it is closed).
    Returns the controller and whether a signal ended it.

    Raises
    ------
    Exception
        What ended the session early (a damaged file ...), after the recording was closed.
    """
    # Without a view (or an LSL outlet: ``live_values=True``) nothing reads live values until
    # the end, where only counts are printed: skip computing them (most of a replay's work).
    if live_values is None:
        live_values = not quiet or window is not None
    controller = SessionController(source, record_to=record_to, live_values=live_values)
    for fn in listeners:
        controller.add_listener(fn)
    if setup is not None:  # e.g. LSL outlets that read the controller's snapshots
        setup(controller)
    with controller:  # stopped (and the file closed) however this block is left
        if window is not None:
            interrupted = window(controller)
        elif quiet:
            interrupted = run_until_done(controller)
        else:
            from biofeedback.terminal import TerminalView

            with TerminalView(controller, title=title, clock=controller.session_time):
                interrupted = run_until_done(controller)
    if controller.error is not None:
        raise controller.error
    return controller, interrupted


def summarise(stats: RecordStats, path: str, interrupted: bool) -> str:
    """One line: beats per person and the session time played."""
    parts = [f"{role} {n} beats" for role, n in sorted(stats.beats.items())]
    line = f"{path}: {', '.join(parts) or 'no beats'}, {stats.last_t_s:.0f} s"
    if interrupted:
        line += " (stopped early)"
    return line


def run(args: argparse.Namespace) -> int:
    from biofeedback.library import resolve_session

    args.file = resolve_session(args.file)  # a path, or a session's name in the library
    source = make_replay_source(args.file, args)
    if args.record and Path(args.record).exists():
        raise UserError(f"{args.record}: file exists; not overwriting a recording")
    speed = "as fast as possible" if source.speed is None else f"at {source.speed:g}x"
    where = f", recording to {args.record}" if args.record else ""
    print(f"replaying {args.file} {speed}{where}", file=sys.stderr, flush=True)
    replayed: list[Beat] = []

    def keep_beats(item: SourceItem) -> None:
        if isinstance(item, Beat):
            replayed.append(item)

    title = f"replay of {Path(args.file).name}"
    publishers = lsl_publishers(source, args)
    try:
        controller, interrupted = play(
            source,
            title=title,
            window=dashboard(args, title),
            quiet=args.quiet,
            record_to=args.record,
            listeners=[keep_beats, *publishers],
            setup=lambda c: attach_snapshots(publishers, c),
            live_values=True if publishers else None,
        )
    finally:
        for pub in publishers:
            pub.close()
    print(summarise(controller.stats, args.file, interrupted))
    if not interrupted and args.duration is None:
        with SessionReader(args.file) as r:
            stored = r.recorded_beats()
        mine = sorted(replayed, key=lambda b: (b.seq, b.role, b.index))
        if stored:
            same = stored == mine
            print(
                f"beats identical to those recorded live: {'yes' if same else 'NO'} "
                f"({len(mine)} replayed, {len(stored)} recorded)"
            )
            if not same:
                return 1
    if args.record:
        print(f"recorded to {args.record}")
    return 130 if interrupted else 0


def register(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="play a recorded session back through the same pipeline",
        description="Play a recorded session back: the stored notification bytes "
        "go through the strap parser again, so beats equal the live run's.",
    )
    p.add_argument("file", help="a session file, or a session's name as listed by `sessions`")
    add_play_options(p, default_speed="1")
    p.add_argument("--record", metavar="OUT", help="record the replay to a new session file")
    p.set_defaults(func=run)
