"""``biofeedback demo [--no-ui] [--speed X] [--duration S]``: replay the bundled dyad sample."""

from __future__ import annotations

import argparse
from pathlib import Path

from biofeedback.commands.replay import (
    add_play_options,
    attach_snapshots,
    lsl_publishers,
    make_replay_source,
    play,
    summarise,
)
from biofeedback.errors import UserError

#: The bundled two-person sample session (see sample_data/README.md).
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "dyad_session.session"


def run(args: argparse.Namespace) -> int:
    if not SAMPLE.exists():
        raise UserError(
            f"{SAMPLE}: the bundled sample session is missing; run the demo from a full "
            "checkout of the project"
        )
    source = make_replay_source(str(SAMPLE), args)
    publishers = lsl_publishers(source, args)
    try:
        controller, interrupted = play(
            source,
            title="demo: therapist and client (sample)",
            quiet=args.quiet,
            listeners=publishers,
            setup=lambda c: attach_snapshots(publishers, c),
        )
    finally:
        for pub in publishers:
            pub.close()
    print(summarise(controller.stats, SAMPLE.name, interrupted))
    return 130 if interrupted else 0


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="replay the bundled two-person sample session",
        description="Replay the bundled 10-minute therapist-client sample session with live "
        "values. Until the dashboard exists this is the terminal view.",
    )
    add_play_options(p, default_speed="5")
    p.set_defaults(func=run)
