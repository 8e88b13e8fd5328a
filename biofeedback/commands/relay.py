"""``biofeedback relay --strap ADDR [--role ROLE] [--lsl-name PREFIX] [--out FILE]``.

Runs one strap on this computer and publishes it to Lab Streaming Layer, nothing else: the
second computer of a two-laptop session. The other computer's ``live`` takes it as a strap
with ``--client lsl:PREFIX-ROLE-RR`` (or ``--therapist``), with LSL's clock synchronisation.
The strap reconnects on its own like in ``live``; beats are timed here and sent with their
time stamps, so network delays do not move them. Nothing is recorded unless ``--out`` asks.
Ctrl-C or SIGTERM ends it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from biofeedback.errors import UserError


def run(args: argparse.Namespace) -> int:
    from biofeedback.commands.live import lsl_publisher
    from biofeedback.lsl import rr_stream_name
    from biofeedback.session import SessionController, run_until_done
    from biofeedback.sources.ble import BleSource
    from biofeedback.sources.lsl import lsl_stream_of
    from biofeedback.status_view import StatusLines, summary

    if lsl_stream_of(args.strap) is not None:
        raise UserError("--strap takes a Bluetooth strap address; this one is already on LSL")
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}")
    args.lsl = True
    source = BleSource({args.role: args.strap}, backend=args.backend)
    controller = SessionController(source, record_to=args.out)
    publisher = lsl_publisher(controller, (args.role,), args)
    name = rr_stream_name(args.lsl_name, args.role)
    print(f"on the other computer: biofeedback live --{args.role} lsl:{name}", file=sys.stderr)
    lines = StatusLines(sys.stdout)
    cursor = 0

    def show_lines() -> None:
        nonlocal cursor
        events, cursor = controller.events_since(cursor)
        if not args.quiet:
            lines.update(controller.snapshot(), events)

    try:
        controller.start()
        run_until_done(controller, duration_s=args.duration, on_tick=show_lines)
    finally:
        publisher.close()
    show_lines()
    if controller.error is not None:
        if isinstance(controller.error, UserError):
            raise controller.error
        raise UserError(f"the relay ended early: {controller.error}") from controller.error
    for role, p in controller.snapshot().participants.items():
        print(f"{role}: {summary(p)}")
    beats = sum(controller.stats.beats.values())
    print(f"relayed {beats} beats to LSL stream {name}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "relay",
        help="publish one strap to Lab Streaming Layer for a session on another computer",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--strap", required=True, metavar="ADDR", help="the strap's address")
    p.add_argument(
        "--role",
        default="client",
        choices=("client", "therapist", "solo"),
        help="whose strap this is (default client); names the stream PREFIX-ROLE-RR",
    )
    p.add_argument(
        "--lsl-name",
        default="coregulation",
        metavar="PREFIX",
        help="LSL stream name prefix (default coregulation)",
    )
    p.add_argument("--out", metavar="FILE", help="also record the strap to this session file")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--quiet", action="store_true", help="no status lines")
    p.set_defaults(func=run)
