"""``biofeedback replay FILE [--speed X|max] [--no-ui] [--record OUT] [--duration S]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from biofeedback.errors import UserError
from biofeedback.sources import parse_speed
from biofeedback.sources.replay import ReplaySource
from biofeedback.store import SessionReader


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


def lsl_listeners(source, args: argparse.Namespace):
    """The engine and LSL publisher for ``--lsl`` (``(None, [])`` without it)."""
    if not getattr(args, "lsl", False):
        return None, []
    if not 0.0 <= getattr(args, "lsl_wait", 0.0) <= 3600.0:
        raise UserError(f"--lsl-wait must be between 0 and 3600 seconds, not {args.lsl_wait}")
    from biofeedback.engine import Engine
    from biofeedback.lsl.outlets import LslPublisher

    engine = Engine(source.roles)
    publisher = LslPublisher(source.roles, prefix=args.lsl_name, snapshot=engine.snapshot)
    print(
        "publishing to Lab Streaming Layer: " + ", ".join(publisher.stream_names()),
        file=sys.stderr,
        flush=True,
    )
    wait_s = getattr(args, "lsl_wait", 0.0)
    if wait_s > 0 and not publisher.wait_for_consumers(wait_s):
        print(
            f"no reader of every RR stream after {wait_s:g} s; playing anyway",
            file=sys.stderr,
        )
    return engine, [publisher]


def make_replay_source(path: str, args: argparse.Namespace) -> ReplaySource:
    try:
        speed = parse_speed(args.speed)
    except ValueError as exc:
        raise UserError(f"--speed: {exc}") from None
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}")
    return ReplaySource(path, speed=speed, duration_s=args.duration)


def summarise(result, path: str, *, check_against: str | None = None) -> str:
    beats = result.stats.beats
    parts = [f"{role} {n} beats" for role, n in sorted(beats.items())]
    line = f"{path}: {', '.join(parts) or 'no beats'}, {result.stats.last_t_s:.0f} s"
    if result.interrupted:
        line += " (stopped early)"
    return line


def run(args: argparse.Namespace) -> int:
    from biofeedback.runner import run_source

    source = make_replay_source(args.file, args)
    if args.record and Path(args.record).exists():
        raise UserError(f"{args.record}: file exists; not overwriting a recording")
    speed = "as fast as possible" if source.speed is None else f"at {source.speed:g}x"
    where = f", recording to {args.record}" if args.record else ""
    print(f"replaying {args.file} {speed}{where}", file=sys.stderr, flush=True)
    replayed: list = []
    engine, publishers = lsl_listeners(source, args)
    result = run_source(
        source,
        record_to=args.record,
        view=not args.quiet,
        title=f"replay of {Path(args.file).name}",
        consumers=[replayed.append, *publishers],
        engine=engine,
    )
    for pub in publishers:
        pub.close()
    print(summarise(result, args.file))
    if not result.interrupted and args.duration is None:
        from biofeedback.beats import Beat

        with SessionReader(args.file) as r:
            stored = r.recorded_beats()
        mine = sorted(
            (b for b in replayed if isinstance(b, Beat)), key=lambda b: (b.seq, b.role, b.index)
        )
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
    return 130 if result.interrupted else 0


def register(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="play a recorded session back through the same pipeline",
        description="Play a recorded session back: the stored notification bytes "
        "go through the strap parser again, so beats equal the live run's.",
    )
    p.add_argument("file", help="a session file")
    add_play_options(p, default_speed="1")
    p.add_argument("--record", metavar="OUT", help="record the replay to a new session file")
    p.set_defaults(func=run)
