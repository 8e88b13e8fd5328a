"""Errors that mean "bad input" and are shown to the user as one line with exit status 2."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input from the user: the message names the file or option and the problem."""


def input_errors() -> tuple[type[BaseException], ...]:
    """Every exception class the CLI reports as bad input (one line, exit 2)."""
    from biofeedback.gatt import MalformedNotification
    from biofeedback.rrfiles import RRFileError
    from biofeedback.store import SessionFileError

    return (UserError, SessionFileError, RRFileError, MalformedNotification)
