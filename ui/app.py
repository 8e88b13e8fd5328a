"""Composition: a running session controller, the dashboard window, and the Qt main loop.

The commands (``demo``, ``replay``, ``live``) build the
:class:`~biofeedback.session.SessionController` for their source and hand it to
:func:`run_dashboard`; the window pulls snapshots on a timer and never blocks on the source.
Closing the window stops the source and closes the recording (the caller's ``stop``);
Ctrl-C or SIGTERM in the terminal close the window the same way. A source error (a strap lost
for good, an unreadable file) is shown in the window as a message; the window stays open.

With ``screenshot`` the window runs offscreen at 1366x768 until ``duration_s`` seconds of
session time have been played (or the session ended), then saves a PNG of the window (and of
the full-screen pacer with ``screenshot_pacer``) and returns.

:func:`dashboard_unavailable` says in one line why no window can be opened (no display,
Qt missing), so the command can fall back to the terminal view.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DashboardOptions",
    "add_guided_steps",
    "dashboard_runner",
    "dashboard_unavailable",
    "run_dashboard",
]

log = logging.getLogger(__name__)

#: Window size of screenshots (the smallest common laptop screen we design for).
SCREENSHOT_SIZE = (1366, 768)


@dataclass(frozen=True)
class DashboardOptions:
    """What the command line asked of the window."""

    title: str = "co-regulation monitor"
    theme: str = "light"
    font_pt: float = 10.0
    screenshot: str | None = None
    screenshot_pacer: str | None = None
    duration_s: float | None = None
    #: A live session started from the window: its label and mode, and the user's settings
    #: (the guided steps panel is shown when ``settings`` is given).
    label: str | None = None
    mode: str | None = None
    settings: Any = None


def dashboard_unavailable(screenshot: bool = False) -> str | None:
    """``None`` when the dashboard can open, else one line saying why not.

    Screenshots render offscreen and need no display. Otherwise Linux and other X11/Wayland
    systems need ``DISPLAY`` or ``WAYLAND_DISPLAY``; ``QT_QPA_PLATFORM=offscreen`` (tests,
    CI) counts as no display, since nobody could see or close the window.
    """
    try:
        import pyqtgraph  # noqa: F401
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return (
            f"the dashboard needs PySide6-Essentials and pyqtgraph ({exc.name} is missing; "
            "pip install 'coregulation-monitor[ui]')"
        )
    if screenshot:
        return None
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return "no display available (QT_QPA_PLATFORM is offscreen)"
    if sys.platform.startswith(("linux", "freebsd", "openbsd")) and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display available (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def dashboard_runner(args: Any, title: str) -> Callable[[Any], bool] | None:
    """What a command runs its started controller with, from its parsed options.

    ``None`` (after one line on stderr saying why) when no window can be opened; the command
    then shows the terminal view. Screenshots (``--screenshot``, ``--screenshot-pacer``)
    render offscreen and need no display.
    """
    shot = bool(getattr(args, "screenshot", None) or getattr(args, "screenshot_pacer", None))
    problem = dashboard_unavailable(screenshot=shot)
    if problem is not None:
        if shot:
            from biofeedback.errors import UserError

            raise UserError(f"--screenshot: {problem}")
        print(f"{problem}: showing the terminal view", file=sys.stderr)
        return None
    options = DashboardOptions(
        title=title,
        theme=getattr(args, "theme", "light") or "light",
        screenshot=getattr(args, "screenshot", None),
        screenshot_pacer=getattr(args, "screenshot_pacer", None),
        duration_s=getattr(args, "duration", None),
    )
    return lambda controller: run_dashboard(controller, options)


def _application(offscreen: bool) -> Any:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if offscreen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([sys.argv[0] if sys.argv else "biofeedback"])
        app.setApplicationName("co-regulation monitor")
        _quiet_qt_messages()
    return app


def _quiet_qt_messages() -> None:
    """Send Qt's messages to ``logging``, dropping the offscreen platform's size-hint notice."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: Any, _context: Any, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        level = logging.DEBUG if kind == QtMsgType.QtDebugMsg else logging.WARNING
        log.log(level, "Qt: %s", message)

    qInstallMessageHandler(handler)


def _save(widget: Any, path: str) -> None:
    from PySide6.QtWidgets import QApplication

    target = Path(path)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    # Lay out what the last frame changed first (a button whose text grew, "session ended"),
    # else the picture shows the new text cut to the old width.
    QApplication.sendPostedEvents()
    image = widget.grab()
    if not image.save(str(target), "PNG"):
        raise OSError(f"{path}: could not write the screenshot")
    with contextlib.suppress(OSError):
        target.chmod(0o600)


def add_guided_steps(window: Any, controller: Any, roles: list[str], settings: Any, label: str):
    """Put the session's guided steps (baseline, assessment) beside the dashboard; the pacer
    starts at the rate an earlier assessment suggested for ``label``, when there is one."""
    from ui.guided_panel import GuidedPanel

    panel = GuidedPanel(
        controller,
        settings,
        label=lambda: label,
        role="client" if "client" in roles else None,
        pacer_base=window.settings_from_controls,
    )
    window.add_side_panel(panel)
    rate = settings.resonance_rate(label) if label else None
    if rate is not None:
        window.rate_spin.setValue(rate)
    return panel


def run_dashboard(controller: Any, options: DashboardOptions) -> bool:
    """Show the dashboard for a started ``controller`` until the window closes.

    Returns
    -------
    bool
        True when Ctrl-C or SIGTERM ended it (the caller then reports "stopped"). The
        controller is stopped (the file closed) before this returns, on every path.
    """
    from PySide6.QtCore import QTimer

    from ui.dashboard import Dashboard
    from ui.main_thread_gc import MainThreadCollector

    shot = options.screenshot is not None or options.screenshot_pacer is not None
    app = _application(offscreen=shot)
    roles = list(getattr(controller.source, "roles", ())) or list(
        controller.snapshot().participants
    )
    window = Dashboard(
        controller, roles, title=options.title, theme=options.theme, font_pt=options.font_pt
    )
    if options.settings is not None:
        add_guided_steps(window, controller, roles, options.settings, options.label or "")
    # Cyclic garbage (a closed window in a reference cycle) is collected here, on the GUI
    # thread: collected by the worker thread, Qt widgets would be destroyed off it (deadlock).
    collector = MainThreadCollector(window).start()
    signalled = {"hit": False}
    handlers: dict[signal.Signals, Any] = {}

    def on_signal(_signum: int, _frame: Any) -> None:
        signalled["hit"] = True
        QTimer.singleShot(0, window.close)

    if not shot:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):
                handlers[sig] = signal.signal(sig, on_signal)
    # Python runs signal handlers only between bytecodes: wake it up now and then.
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        if shot:
            _run_for_screenshot(app, window, controller, options)
        else:
            window.resize(*SCREENSHOT_SIZE)
            window.show()
            window.start_timers()
            if options.duration_s is not None:
                # A live session stops after --duration; a replay ends by itself there and
                # its window stays open to be looked at.
                def check_duration() -> None:
                    if controller.running and controller.session_time() >= options.duration_s:
                        window.close()

                wake.timeout.connect(check_duration)
            app.exec()
    finally:
        window.stop_timers()
        wake.stop()
        for sig, old in handlers.items():
            signal.signal(sig, old)
        controller.stop()
        window.deleteLater()
        if window.pacer_window is not None:
            window.pacer_window.deleteLater()
        app.processEvents()
        collector.stop()
    return signalled["hit"]


def _run_for_screenshot(app: Any, window: Any, controller: Any, options: DashboardOptions) -> None:
    """Play until ``duration_s`` of session time (or the end), then save the PNG(s)."""
    from PySide6.QtCore import QEventLoop, QTimer

    window.resize(*SCREENSHOT_SIZE)
    window.show()
    pacer_window = None
    if options.screenshot_pacer is not None:
        pacer_window = window.open_pacer_window()
        pacer_window.showNormal()
        pacer_window.resize(*SCREENSHOT_SIZE)
    window.start_timers()
    loop = QEventLoop()
    limit = options.duration_s

    def check() -> None:
        ended = controller.wait(0) if hasattr(controller, "wait") else False
        # A replay holds at --duration (still running, its clock stopped there) until the
        # window has been saved: wait for that, not for the clock, which on a loaded machine
        # can run up to half a wall second past the data being waited for.
        source = controller.source
        if getattr(source, "hold_at_end", False):
            if ended or getattr(source, "holding", False):
                loop.quit()
        elif ended or (limit is not None and controller.session_time() >= limit):
            loop.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(50)
    loop.exec()
    poll.stop()
    # Let the last snapshot reach every plot, then paint the pacer once more.
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        window.refresh()
        app.processEvents()
        time.sleep(0.02)
    if options.screenshot is not None:
        _save(window, options.screenshot)
    if pacer_window is not None and options.screenshot_pacer is not None:
        _save(pacer_window, options.screenshot_pacer)
