"""A whole live session from the window: the connect dialog, then the dashboard with the guided
steps (baseline, assessment) beside it.

:func:`open_live_session` is what the connect dialog calls: a :class:`BleSource` for the chosen
straps and a started :class:`~biofeedback.session.SessionController` recording to a new file in
the user's sessions folder (mode 0600), with the session label and mode in its metadata.
:func:`run_live_window` runs the dialog and then the window until it closes; closing the window
stops the straps and closes the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from biofeedback.ble_backend import DEFAULT_BACKEND, BleBackend
from biofeedback.paths import new_session_path
from biofeedback.session import SessionController
from biofeedback.sources.ble import BleSource
from biofeedback.straps import FoundStrap
from biofeedback.user_settings import UserSettings

__all__ = ["open_live_session", "run_live_window"]

log = logging.getLogger(__name__)


def open_live_session(
    targets: dict[str, FoundStrap],
    label: str,
    mode: str,
    *,
    backend: BleBackend = DEFAULT_BACKEND,
    out: str | Path | None = None,
    policy: Any = None,
) -> SessionController:
    """Start recording the chosen straps (role -> strap) to ``out`` (default: a new file in the
    user's sessions folder); ``label`` and ``mode`` are stored in the session's metadata."""
    # By address: the source scans for each strap again in its own event loop (a device
    # object found by the dialog's scan belongs to that scan's loop).
    source = BleSource(
        {role: s.address for role, s in targets.items()}, backend=backend, policy=policy
    )
    source.metadata["label"] = label
    source.metadata["mode"] = mode
    for role, s in targets.items():
        source.participants[role].update({"name": s.name, "rssi_dbm": s.rssi_dbm})
    path = Path(out) if out is not None else new_session_path()
    controller = SessionController(source, record_to=path)
    controller.start()
    log.info("recording %s (%s, %s) to %s", ", ".join(targets), label, mode, path)
    return controller


def run_live_window(
    settings: UserSettings | None = None,
    *,
    make_backend: Callable[[], BleBackend] = lambda: DEFAULT_BACKEND,
    out: str | Path | None = None,
    pace_bpm: float | None = None,
    duration_s: float | None = None,
) -> int:
    """The connect dialog, then the dashboard with the guided steps, until the window closes.

    ``pace_bpm`` (``live --pace-bpm``) starts the pacer at that rate, breaths/min, once the
    straps are connected (recorded as a pacer event; it takes precedence over a rate
    remembered for the label); ``duration_s`` (``live --duration``) closes the window, and so
    ends the session, that many seconds of session time after connecting.

    Returns 0, or 1 when the dialog was cancelled.
    """
    from PySide6.QtWidgets import QApplication

    from ui.app import DashboardOptions, run_dashboard
    from ui.connect_dialog import ConnectDialog

    app = QApplication.instance() or QApplication(["biofeedback"])
    settings = settings or UserSettings()
    chosen: dict[str, Any] = {}

    def open_session(targets: dict[str, FoundStrap], label: str, mode: str) -> Any:
        chosen.update(label=label, mode=mode)
        return open_live_session(targets, label, mode, backend=make_backend(), out=out)

    dialog = ConnectDialog(settings, open_session, make_backend=make_backend)
    dialog.show()
    dialog.start_scan()
    if dialog.exec() != dialog.DialogCode.Accepted or dialog.controller is None:
        return 1
    app.processEvents()
    if pace_bpm:
        dialog.controller.set_pacer(pace_bpm)
    options = DashboardOptions(
        title=f"{chosen['label']} - {chosen['mode']}",
        duration_s=duration_s,
        label=chosen["label"],
        mode=chosen["mode"],
        settings=settings,
    )
    run_dashboard(dialog.controller, options)
    return 0
