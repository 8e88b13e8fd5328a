"""``biofeedback demo [--no-ui] [--speed X] [--duration S]``: replay the bundled dyad sample."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from importlib.resources import as_file, files
from pathlib import Path

from biofeedback.commands.replay import (
    add_play_options,
    attach_snapshots,
    dashboard,
    lsl_publishers,
    make_replay_source,
    play,
    summarise,
)
from biofeedback.errors import UserError

#: The bundled two-person sample session, inside the package (a byte-identical copy of
#: ``sample_data/dyad_session.session``; see sample_data/README.md).
SAMPLE_NAME = "dyad_session.session"


@contextlib.contextmanager
def sample_session() -> Iterator[Path]:
    """The bundled sample as a file path, from the installed package (``importlib.resources``;
    a zipped installation gets a temporary copy for the duration)."""
    resource = files("biofeedback") / "data" / SAMPLE_NAME
    if not resource.is_file():
        raise UserError(
            f"{SAMPLE_NAME}: the bundled sample session is missing from this installation of "
            "biofeedback; reinstall the package"
        )
    with as_file(resource) as path:
        yield Path(path)


def run(args: argparse.Namespace) -> int:
    title = "demo: therapist and client (sample)"
    with sample_session() as sample:
        source = make_replay_source(str(sample), args)
        publishers = lsl_publishers(source, args)
        try:
            controller, interrupted = play(
                source,
                title=title,
                quiet=args.quiet,
                window=dashboard(args, title),
                listeners=publishers,
                setup=lambda c: attach_snapshots(publishers, c),
                live_values=True if publishers else None,
            )
        finally:
            for pub in publishers:
                pub.close()
    print(summarise(controller.stats, SAMPLE_NAME, interrupted))
    return 130 if interrupted else 0


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="replay the bundled two-person sample session",
        description="Replay the bundled 10-minute therapist-client sample session in the "
        "dashboard (the terminal view with --no-ui or without a display).",
    )
    add_play_options(p, default_speed="1")
    p.set_defaults(func=run)
