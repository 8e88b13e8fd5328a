"""Which bleak backend the straps run on: the one seam between the product and its tests.

:class:`BleBackend` names the bleak scanner and client classes to use (``None``: bleak picks the
platform's own) and hooks awaited in the event loop around a session. The program always runs
with :data:`DEFAULT_BACKEND`; tests pass another one in (``biofeedback.cli.main(argv,
backend=...)``) whose classes drive virtual straps. This module imports nothing of ours and no
test code, so the product never depends on test support.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

__all__ = ["DEFAULT_BACKEND", "BleBackend"]


@dataclass(frozen=True)
class BleBackend:
    """Which bleak backend classes to use, and hooks to run in the event loop around a session.

    The default (all ``None``) lets bleak pick the platform backend. Other classes go to
    bleak through its own ``backend=`` arguments.

    Attributes
    ----------
    scanner, client : type or None
        Subclasses of bleak's ``BaseBleakScanner`` / ``BaseBleakClient``.
    start, stop : callable or None
        Coroutine functions awaited in the loop that runs the straps, before the first scan
        and after the last disconnect (a virtual radio powers on and off here).
    name : str
        Shown in logs and stored in the session metadata.
    """

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None
    start: Callable[[], Awaitable[None]] | None = field(default=None, compare=False)
    stop: Callable[[], Awaitable[None]] | None = field(default=None, compare=False)
    name: str = "platform"


#: The platform's own Bluetooth stack (what every real session uses).
DEFAULT_BACKEND = BleBackend()
