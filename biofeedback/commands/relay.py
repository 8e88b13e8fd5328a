"""``biofeedback relay --strap ADDR [--role ROLE] [--lsl-name PREFIX] [--out FILE]``.

Runs one strap on this computer and publishes it to Lab Streaming Layer, nothing else: the
second computer of a two-laptop session. The other computer's ``live`` takes it as a strap
with ``--client lsl:PREFIX-ROLE-RR`` (or ``--therapist``), with LSL's clock synchronisation.
The strap reconnects on its own like in ``live``; beats are timed here and sent with their
time stamps, so network delays do not move them. Nothing is recorded unless ``--out`` asks.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from biofeedback.errors import UserError


def run(args: argparse.Namespace) -> int:
    from biofeedback.commands.live import live_publisher
    from biofeedback.live import LiveSession
    from biofeedback.lsl import rr_stream_name
    from biofeedback.sources.lsl import lsl_stream_of
    from biofeedback.straps import backend_from_options

    if lsl_stream_of(args.strap) is not None:
        raise UserError("--strap takes a Bluetooth strap address; this one is already on LSL")
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be a positive number of seconds, not {args.duration}")
    args.lsl = True
    backend = backend_from_options(args.virtual_straps)
    session = LiveSession({args.role: args.strap}, out=args.out, backend=backend)
    publisher = live_publisher(session, (args.role,), args)
    name = rr_stream_name(args.lsl_name, args.role)
    print(
        f"on the other computer: biofeedback live --{args.role} lsl:{name}",
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    session.start()
    try:
        deadline = None if args.duration is None else time.monotonic() + args.duration
        last = ""
        while session.running and not stop.is_set():
            st = session.snapshot().roles.get(args.role)
            line = f"{args.role}: {st.state} ({st.reason}), {st.beats} beats" if st else ""
            if line != last and not args.quiet:
                print(line, flush=True)
                last = line
            if deadline is not None and time.monotonic() >= deadline:
                break
            stop.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        publisher.close()
        stats = session.stop()
    beats = sum(stats.beats.values()) if stats is not None else 0
    print(f"relayed {beats} beats of the {args.role}'s strap to LSL stream {name}")
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
    p.add_argument("--virtual-straps", help=argparse.SUPPRESS)
    p.set_defaults(func=run)
