"""One session controller for every kind of session: straps, replays, the simulator.

A :class:`SessionController` runs any :class:`~biofeedback.sources.BeatSource` together with
the recorder (:class:`~biofeedback.recorder.Recorder`, writing a
:class:`~biofeedback.store.SessionWriter`) and the streaming
:class:`~biofeedback.engine.Engine` on **one worker thread with its own asyncio loop** (bleak
runs there; a Qt main loop never has to share it). Front ends (the terminal view, the
dashboard, scripts, tests) only call its thread-safe methods::

    from biofeedback.session import SessionController
    from biofeedback.sources.replay import ReplaySource

    ctl = SessionController(ReplaySource("sample_data/dyad_session.session", speed=5.0))
    ctl.start()
    cursor = 0
    while ctl.running:
        snap = ctl.snapshot()                  # frozen; redraw when snap.version moved
        events, cursor = ctl.events_since(cursor)
        ...
    stats = ctl.stop()

Public API (names kept stable)
------------------------------
``SessionController(source, *, record_to=None, overwrite=False, config=None, synchrony=None)``
    ``record_to``: a new session file (created by :meth:`~SessionController.start`, mode
    0600), or ``None`` to record nothing.
``start()``
    Open the file, start the worker; returns once the loop runs. Raises only for what the
    caller can fix before anything runs (the file exists, cannot be created).
``stop(timeout_s=15.0) -> RecordStats``
    Ask the source to end (straps disconnect), wait, close the file; cancels the loop after
    ``timeout_s``. The file is closed on every path: normal end, :meth:`stop`, a source
    error, Ctrl-C / SIGTERM (:func:`run_until_done`), and an exception in the caller (use the
    controller as a context manager).
``wait(timeout_s=None) -> bool``; ``running``, ``interrupted``, ``error``, ``stats``, ``path``
    The session ended by itself (True) or is still going; whether :meth:`stop` ended it; the
    exception that ended it early (also shown as ``snapshot().message``); the counts.
``set_pacer(settings)``
    Start or change the breathing pacer (:class:`hrv.pacer.PacerSettings`, or a bare rate in
    breaths/min) or, with ``None`` or 0, stop it; recorded as a ``pacer`` event holding every
    setting. ``snapshot().pacer_timeline`` then drives the breathing guide.
``add_marker(text)``, ``add_event(kind, data=None, role=None)``
    Record a marker, or another session event (e.g. ``EventKind.BASELINE``).
``connect(role, address=None)``, ``disconnect(role)``
    (Re)connect or drop one participant's strap (live sources only; other sources refuse
    with :class:`~biofeedback.sources.NoDevicesToConnect`, shown as ``snapshot().message``).
``snapshot() -> Snapshot``
    The frozen picture a front end draws (:mod:`biofeedback.snapshot`); cheap, and the same
    object while nothing changed.
``events_since(cursor) -> (events, cursor)``
    Every event after ``cursor`` (start with 0); none is lost however many arrive between
    two calls.
``session_time() -> float``
    Session time now on the source's clock (smooth between beats), seconds.
``add_listener(fn)``
    ``fn(item)`` is called on the worker thread with every packet, beat and event, after it
    was recorded and given to the engine (LSL outlets hook in here). An exception in a
    listener is logged and never stops the recording. Keep listeners quick.
``run_until_done(controller, *, duration_s=None, on_tick=None, tick_s=0.2) -> bool``
    For a command line: wait on the main thread until the session ends, ``duration_s``
    passes, or Ctrl-C / SIGTERM arrives; then stop it. True when a signal stopped it.

A source error (no Bluetooth, a damaged file) never crashes the program: the session ends,
``snapshot().state`` is ``failed`` and ``snapshot().message`` says what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from biofeedback.beats import Event, EventKind, SourceItem
from biofeedback.engine import Engine, EngineConfig
from biofeedback.recorder import Recorder, RecordStats
from biofeedback.snapshot import Snapshot
from biofeedback.sources import BeatSource, NoDevicesToConnect
from biofeedback.store import SessionWriter
from hrv.pacer import PacerSettings
from hrv.pacer import event_data as pacer_event_data

__all__ = ["Listener", "SessionController", "run_until_done"]

log = logging.getLogger(__name__)

Listener = Callable[[SourceItem], None]


class SessionController:
    """Run one session on a worker thread; every method is safe to call from any thread.

    Parameters
    ----------
    source : BeatSource
        Where the beats come from. It is driven only on the worker thread.
    record_to : path-like or None
        Session file to create (refused if it exists unless ``overwrite``).
    overwrite : bool
        Replace an existing file (regenerated simulations only).
    config : EngineConfig, optional
    synchrony : bool or None
        Live synchrony (default: on when the roles hold a therapist and a client).
    live_values : bool
        Feed the engine (default). ``False`` when nobody looks at the session while it runs
        (a headless replay that prints only counts): items are still decoded, recorded and
        given to listeners, but no live values are computed, which is most of the work
        (``benchmarks/long_session.py``); :meth:`snapshot` then stays at the start.

    Attributes
    ----------
    engine : Engine
        The one owner of per-person state; fed on the worker thread.
    source : BeatSource
    """

    def __init__(
        self,
        source: BeatSource,
        *,
        record_to: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        config: EngineConfig | None = None,
        synchrony: bool | None = None,
        live_values: bool = True,
    ) -> None:
        self.source = source
        self.engine = Engine(source.roles, config, synchrony, strap_state=source.initial_state)
        for role, info in source.participants.items():
            self.engine.set_device_info(role, info)
        self.path = None if record_to is None else os.fspath(record_to)
        self._overwrite = overwrite
        self._recorder = Recorder(None, [self.engine.feed] if live_values else [])
        # A full disk ends the recording, not the session: the message goes to every view.
        self._recorder.on_write_error = lambda msg: self.engine.set_status(message=msg)
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._stop_requested = False
        self._ended = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SessionController:
        """Create the session file and start the worker thread; returns once its loop runs.

        Raises
        ------
        SessionFileError
            The file exists (and ``overwrite`` is false) or cannot be created.
        RuntimeError
            Started twice.
        """
        if self._thread is not None:
            raise RuntimeError("a session controller starts once")
        if self.path is not None:
            self._recorder.writer = SessionWriter(
                self.path, self.source.metadata, overwrite=self._overwrite
            )
            self.engine.set_status(path=self.path)
        self._thread = threading.Thread(
            target=self._thread_main, name="biofeedback-session", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        return self

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # never let the worker die silently
            self._failed(exc)
        finally:
            writer = self._recorder.writer
            if writer is not None:
                try:
                    writer.close()
                except Exception as exc:
                    self._failed(exc)
            failed = self.error is not None
            self.engine.set_status("failed" if failed else "ended")
            self._done.set()
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self.engine.set_status("running")
        self._ready.set()
        recorder = self._recorder
        try:
            recorder.begin(self.source)
            async for item in self.source:
                recorder.handle(item)
        except asyncio.CancelledError:
            log.debug("session cancelled")
        except Exception as exc:
            self._failed(exc)
        finally:
            self._ended = True
            recorder.end()

    def _failed(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        log.info("the session ended early: %s", exc)
        self.engine.set_status(message=str(exc) or type(exc).__name__)

    @property
    def running(self) -> bool:
        """Started and not ended yet."""
        return self._thread is not None and not self._done.is_set()

    @property
    def interrupted(self) -> bool:
        """:meth:`stop` was called before the source ended by itself."""
        return self._stop_requested

    @property
    def stats(self) -> RecordStats:
        """Counts so far (final after :meth:`stop` or :meth:`wait`)."""
        return self._recorder.stats

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the session to end by itself; True when it has ended."""
        return self._done.wait(timeout_s)

    def stop(self, timeout_s: float = 15.0) -> RecordStats:
        """End the session: the source stops (straps disconnect), the ``end`` event is written
        and the file closed. Waits up to ``timeout_s`` before cancelling the loop."""
        if self._thread is None:
            return self.stats
        if not self._done.is_set():
            self._stop_requested = True
            self.engine.set_status("stopping")
            self._call(self.source.stop)
            if not self._done.wait(timeout_s):
                log.warning("the source did not stop within %g s; cancelling it", timeout_s)
                self._call(self._cancel)
                self._done.wait(5.0)
        self._thread.join(5.0)
        return self.stats

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def __enter__(self) -> SessionController:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- commands (any thread) -------------------------------------------------------------

    def _call(self, fn: Callable[[], Any]) -> bool:
        """Run ``fn`` on the worker loop; False when the session is not running."""
        loop = self._loop
        if loop is None or self._done.is_set() or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(self._guarded, fn)
        except RuntimeError:  # the loop closed in between
            return False
        return True

    def _guarded(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except NoDevicesToConnect as exc:  # a recording or the simulator: said, not a fault
            self.engine.set_status(message=str(exc))
        except Exception as exc:
            log.exception("a session command failed")
            self.engine.set_status(message=f"command failed: {exc}")

    def _refused(self, what: str) -> None:
        self.engine.set_status(message=f"the session is not running; {what} not recorded")

    def _emit(self, kind: str, data: Mapping[str, Any], role: str | None = None) -> None:
        """On the worker loop: record a session event at the source's current time."""
        if self._ended:
            self.engine.set_status(message=f"the session has ended; {kind} not recorded")
            return
        now = self.source.now()
        t = self.stats.last_t_s if now is None else max(now, self.stats.last_t_s)
        self._recorder.handle(Event(t, kind, role, data))

    def add_event(self, kind: str, data: Mapping[str, Any] | None = None, role: str | None = None):
        """Record a session event of ``kind`` (see :class:`~biofeedback.beats.EventKind`)."""
        payload = dict(data or {})
        if not self._call(lambda: self._emit(kind, payload, role)):
            self._refused(kind)

    def set_pacer(self, settings: PacerSettings | float | None) -> None:
        """Start or change the breathing pacer, or stop it (``None`` or 0).

        ``settings`` is a :class:`hrv.pacer.PacerSettings` (rate, inhale share, holds), or a
        bare rate in breaths/min (1-30, a 1:1 cycle without holds). The pacer event records
        every setting (:meth:`~hrv.pacer.PacerSettings.to_dict`; ``rate_bpm`` 0 for off).

        Raises
        ------
        ValueError
            A rate or setting out of range (nothing is recorded).
        """
        if settings is not None and not isinstance(settings, PacerSettings):
            rate = float(settings)
            settings = None if rate == 0.0 else PacerSettings(rate, strict=False)
        self.add_event(EventKind.PACER, pacer_event_data(settings))

    def add_marker(self, text: str) -> None:
        """Record a marker with ``text``."""
        self.add_event(EventKind.MARKER, {"text": str(text)})

    def connect(self, role: str, address: str | None = None) -> None:
        """(Re)connect the strap of ``role``, optionally to a new address."""
        if not self._call(lambda: self.source.connect(role, address)):
            self._refused("connect")

    def disconnect(self, role: str) -> None:
        """Disconnect the strap of ``role``; it stays disconnected until :meth:`connect`."""
        if not self._call(lambda: self.source.disconnect(role)):
            self._refused("disconnect")

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(item)`` on the worker thread for every item from now on."""
        self._recorder.add_consumer(fn)

    # -- reading (any thread) --------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The frozen picture of the session now (see :mod:`biofeedback.snapshot`)."""
        return self.engine.snapshot()

    def events_since(self, cursor: int) -> tuple[tuple[Event, ...], int]:
        """Every event after the first ``cursor`` ones and the next cursor (start with 0)."""
        return self.engine.events_since(cursor)

    def session_time(self) -> float:
        """Session time now, seconds: the source's clock, else the newest item's time."""
        now = self.source.now() if self.running else None
        t = self.engine.snapshot().t_s
        return t if now is None else max(now, t)


def run_until_done(
    controller: SessionController,
    *,
    duration_s: float | None = None,
    on_tick: Callable[[], None] | None = None,
    tick_s: float = 0.2,
    stop_timeout_s: float = 15.0,
) -> bool:
    """Wait until the session ends, ``duration_s`` of wall time pass, or Ctrl-C / SIGTERM.

    Then stop it (the file is closed). Signal handlers are installed only on the main thread
    and restored afterwards. ``on_tick`` is called every ``tick_s`` seconds meanwhile.

    Returns
    -------
    bool
        True when a signal ended the session.
    """
    signalled = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        signalled.set()

    handlers: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):
                handlers[sig] = signal.signal(sig, on_signal)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    try:
        while not signalled.is_set() and not controller.wait(0):
            if on_tick is not None:
                on_tick()
            if deadline is not None and time.monotonic() >= deadline:
                break
            signalled.wait(tick_s)
    finally:
        try:
            controller.stop(stop_timeout_s)
        finally:
            for sig, old in handlers.items():
                signal.signal(sig, old)
    return signalled.is_set()
