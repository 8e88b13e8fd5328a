"""The ``biofeedback`` command line (contract: design.md section 8).

Each subcommand lives in :mod:`biofeedback.commands` as a module with ``register(subparsers)``
that adds its parser and sets ``func``. Bad input raises :class:`UserError` (or one of the
specific input errors below); :func:`main` prints it as one line naming the file and the
problem and exits with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from biofeedback import __version__
from biofeedback.ble_backend import DEFAULT_BACKEND, BleBackend
from biofeedback.errors import input_errors

__all__ = ["main"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (
    "demo",
    "scan",
    "live",
    "relay",
    "replay",
    "simulate",
    "analyze",
    "export",
    "report",
    "sessions",
    "trends",
    "recover",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="biofeedback",
        description="Heart-rate variability biofeedback and therapist-client synchrony from "
        "Bluetooth heart-rate straps: a reflective aid, not a diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"biofeedback.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"biofeedback.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, backend: BleBackend | None = None) -> int:
    """Run one command; returns the exit status.

    ``backend`` is the Bluetooth backend for ``scan`` and ``live`` (default: the platform's
    own); tests pass one that drives virtual straps.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.backend = backend if backend is not None else DEFAULT_BACKEND
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("stopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except input_errors() as exc:
        print(f"biofeedback {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
