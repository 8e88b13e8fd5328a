"""Run a source to its end with the engine, an optional recording, and an optional view.

This is what ``demo``, ``replay`` and ``simulate``-style commands share: one asyncio loop that
drives :func:`biofeedback.recorder.record_source` with the :class:`~biofeedback.engine.Engine`
as a consumer, while the terminal view (or, later, the dashboard) pulls snapshots.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from biofeedback.beats import SourceItem
from biofeedback.engine import Engine
from biofeedback.recorder import RecordStats, record_source
from biofeedback.sources import BeatSource
from biofeedback.store import SessionWriter

__all__ = ["RunResult", "run_source"]


@dataclass
class RunResult:
    stats: RecordStats
    engine: Engine
    interrupted: bool


def run_source(
    source: BeatSource,
    *,
    record_to: str | os.PathLike[str] | None = None,
    view: bool = True,
    title: str = "co-regulation monitor",
    consumers: Iterable[Callable[[SourceItem], None]] = (),
    engine: Engine | None = None,
) -> RunResult:
    """Play ``source`` to its end (or until Ctrl-C / SIGTERM), returning what happened.

    A recording, when asked for, is opened before the first item and closed on every exit,
    so an interrupted session keeps everything received up to the interruption.
    """
    engine = engine if engine is not None else Engine(source.roles)
    writer = SessionWriter(record_to, source.metadata) if record_to is not None else None
    interrupted = False
    stats = RecordStats()

    async def main() -> RecordStats:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        # No signal handlers on Windows loops (NotImplementedError) or off the main thread
        # (RuntimeError); Ctrl-C still ends the run there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await record_source(source, writer, [engine.feed, *consumers], stats)

    try:
        if view:
            from biofeedback.terminal import TerminalView

            session_time = getattr(source, "session_time", None)
            clock = (lambda: session_time() or engine.snapshot().t_s) if session_time else None
            with TerminalView(engine, title=title, clock=clock):
                asyncio.run(main())
        else:
            asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        interrupted = True
    finally:
        if writer is not None:
            writer.close()
    return RunResult(stats, engine, interrupted)
