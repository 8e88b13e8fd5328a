"""The connect dialog: find straps, say who wears which, connect, and remember the choice.

Steps, all without blocking the window:

1. **Scan** (:func:`biofeedback.straps.scan` on a worker thread with its own event loop) lists
   heart-rate straps with name, signal strength (dBm and in words) and battery (read when a
   strap connects; the value from its last connection until then).
2. **Assign** a role per strap: therapist, client or solo (one person). The straps remembered
   for each role (:class:`biofeedback.user_settings.UserSettings`) are preselected.
3. **Connect** asks the caller's ``open_session(targets, label, mode)`` for a started session
   controller and follows each strap's state in its snapshots until every strap is connected
   and sending beats. Problems are said in plain words: Bluetooth off or not allowed (the scan's own
   sentence, including where macOS grants the permission), a strap that does not answer (held
   by another app or phone; for a Polar H10 how to allow a second connection), a strap that
   sends heart rate but no RR intervals (many optical sensors), a strap lost for good.
4. On success the straps are remembered per role and the dialog accepts; :attr:`controller`
   holds the running session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from threading import Thread
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from biofeedback.ble_backend import DEFAULT_BACKEND, BleBackend
from biofeedback.errors import UserError
from biofeedback.straps import FoundStrap, scan
from biofeedback.user_settings import UserSettings

__all__ = [
    "MODES",
    "ROLE_CHOICES",
    "ConnectDialog",
    "assignment_problem",
    "mode_problem",
    "new_label",
    "signal_words",
]

log = logging.getLogger(__name__)

#: Role choices per strap: (shown, role or None).
ROLE_CHOICES = (
    ("not used", None),
    ("therapist", "therapist"),
    ("client", "client"),
    ("solo (one person)", "solo"),
)
#: How long a connected strap may send no beats before the dialog says so, s.
NO_RR_AFTER_S = 15.0
#: Session modes: shown, stored in the session's metadata (``mode``).
MODES = ("solo breathing", "two-person session", "resonance assessment")
_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_label() -> str:
    """A pseudonymous session label, e.g. ``C-7K2P`` (never a name unless the user types one)."""
    import secrets

    return "C-" + "".join(secrets.choice(_CODE_LETTERS) for _ in range(4))


def mode_problem(mode: str, roles: set[str]) -> str | None:
    """Why ``mode`` does not fit the chosen roles, or ``None``."""
    if mode == "two-person session" and roles != {"therapist", "client"}:
        return "A two-person session needs a therapist strap and a client strap."
    if mode == "solo breathing" and len(roles) != 1:
        return "Solo breathing is one person: choose one strap."
    if mode == "resonance assessment" and not (len(roles) == 1 or "client" in roles):
        return "The assessment is for one person (or the client of two)."
    return None


def signal_words(rssi_dbm: int | None) -> str:
    """Signal strength in words: strong (-60 dBm or more), fair (to -75), weak (below)."""
    if rssi_dbm is None:
        return "unknown"
    words = "strong" if rssi_dbm >= -60 else "fair" if rssi_dbm >= -75 else "weak"
    return f"{words} ({rssi_dbm} dBm)"


def assignment_problem(roles: Mapping[str, str]) -> str | None:
    """Why an address -> role assignment cannot start a session, or ``None`` when it can.

    One strap per role; ``solo`` alone; at least one strap.
    """
    chosen = [r for r in roles.values() if r]
    if not chosen:
        return "Choose who wears which strap."
    if len(set(chosen)) != len(chosen):
        twice = sorted({r for r in chosen if chosen.count(r) > 1})
        return f"Each role takes one strap: {', '.join(twice)} is chosen twice."
    if "solo" in chosen and len(chosen) > 1:
        return "Solo is a one-person session: leave the other straps unused."
    return None


def _not_answering(name: str | None) -> str:
    who = name or "the strap"
    text = (
        f"{who} did not answer. It may be connected to another app or phone: close that "
        "app or switch off Bluetooth on that phone, then connect again."
    )
    if name and "polar" in name.lower():
        text += (
            " A Polar H10 serves one app at a time unless its second connection is allowed: "
            "in the Polar Flow app, open the sensor's settings and switch on two Bluetooth "
            "connections (dual connection)."
        )
    return text


class ConnectDialog(QDialog):
    """Scan, assign roles, connect (see the module docstring).

    Parameters
    ----------
    settings : UserSettings
        Where the last strap per role is remembered.
    open_session : callable
        ``open_session(targets, label, mode)`` with ``targets`` mapping role ->
        :class:`FoundStrap` returns a started :class:`~biofeedback.session.SessionController`
        recording those straps (``label`` and ``mode`` go into the session's metadata).
    make_backend : callable
        Returns the bleak backend for one scan (a fresh virtual radio in tests: a virtual
        radio lives in the event loop that started it). Default: the platform's Bluetooth.
    scan_s : float
        How long one scan listens, seconds.
    no_rr_after_s : float
        How long a connected strap may send no beats before the dialog says so, seconds.
    """

    def __init__(
        self,
        settings: UserSettings,
        open_session: Callable[[dict[str, FoundStrap], str, str], Any],
        *,
        make_backend: Callable[[], BleBackend] = lambda: DEFAULT_BACKEND,
        scan_s: float = 4.0,
        no_rr_after_s: float = NO_RR_AFTER_S,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect straps")
        self.settings = settings
        self.open_session = open_session
        self.make_backend = make_backend
        self.scan_s = scan_s
        self.no_rr_after_s = no_rr_after_s
        self.found: list[FoundStrap] = []
        self.controller: Any = None
        self._scan_future: Future[list[FoundStrap]] | None = None
        self._targets: dict[str, FoundStrap] = {}
        self._connected_at: dict[str, float] = {}
        self._build()
        self._poll = QTimer(self)
        self._poll.setInterval(150)
        self._poll.timeout.connect(self._tick)

    # -- building --------------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        intro = QLabel(
            "Put the straps on (moisten the electrodes so they wake up), then scan. Choose who "
            "wears which strap and connect."
        )
        intro.setWordWrap(True)
        root.addWidget(intro)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["strap", "signal", "battery", "worn by"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        root.addWidget(self.table)
        form = QHBoxLayout()
        form.addWidget(QLabel("session label"))
        self.label_box = QComboBox()
        self.label_box.setEditable(True)
        self.label_box.addItem(new_label())
        for known in self.settings.labels():
            self.label_box.addItem(known)
        self.label_box.setToolTip(
            "A code for the client (pseudonymous by default); avoid real names."
        )
        form.addWidget(self.label_box, 1)
        form.addWidget(QLabel("mode"))
        self.mode_box = QComboBox()
        for m in MODES:
            self.mode_box.addItem(m)
        self.mode_box.currentIndexChanged.connect(self._check_roles)
        form.addWidget(self.mode_box, 1)
        root.addLayout(form)
        self.status = QLabel("Not scanned yet.")
        self.status.setObjectName("message")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        buttons = QHBoxLayout()
        self.scan_button = QPushButton("Scan")
        self.scan_button.clicked.connect(self.start_scan)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setEnabled(False)
        self.connect_button.clicked.connect(self.start_connect)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.scan_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.connect_button)
        root.addLayout(buttons)
        self.resize(620, 360)

    # -- scanning --------------------------------------------------------------------------

    def start_scan(self) -> None:
        """Scan on a worker thread; the table fills when it is done."""
        if self._scan_future is not None and not self._scan_future.done():
            return
        self.scan_button.setEnabled(False)
        self.connect_button.setEnabled(False)
        self.status.setText(f"Scanning for {self.scan_s:g} s ...")
        future: Future[list[FoundStrap]] = Future()
        backend = self.make_backend()
        seconds = self.scan_s

        def work() -> None:
            async def go() -> list[FoundStrap]:
                if backend.start is not None:
                    await backend.start()
                try:
                    return await scan(seconds, backend=backend)
                finally:
                    if backend.stop is not None:
                        await backend.stop()

            try:
                future.set_result(asyncio.run(go()))
            except BaseException as exc:  # shown in the dialog, never raised in Qt
                future.set_exception(exc)

        self._scan_future = future
        Thread(target=work, name="strap-scan", daemon=True).start()
        self._poll.start()

    def _scan_finished(self, future: Future[list[FoundStrap]]) -> None:
        self.scan_button.setEnabled(True)
        exc = future.exception()
        if exc is not None:
            if isinstance(exc, UserError):
                self.status.setText(str(exc))  # Bluetooth off, permission, no adapter ...
            else:
                log.warning("scan failed: %r", exc)
                self.status.setText(f"The scan failed: {exc}")
            return
        self.found = future.result()
        self._fill_table()
        if not self.found:
            self.status.setText(
                "No heart-rate strap found. Put the strap on (moisten the electrodes), make "
                "sure no other app holds it, and scan again."
            )
        else:
            n = len(self.found)
            self.status.setText(f"Found {n} strap{'s' if n != 1 else ''}.")
        self._check_roles()

    def _fill_table(self) -> None:
        remembered = {
            s["address"].upper(): role
            for role in ("therapist", "client", "solo")
            if (s := self.settings.strap(role)) is not None
        }
        self.table.setRowCount(len(self.found))
        for row, strap in enumerate(self.found):
            self.table.setItem(
                row, 0, QTableWidgetItem(f"{strap.name or '(no name)'}\n{strap.address}")
            )
            self.table.setItem(row, 1, QTableWidgetItem(signal_words(strap.rssi_dbm)))
            battery = self.settings.strap_battery(strap.address)
            text = "after connecting" if battery is None else f"{battery} % (last time)"
            self.table.setItem(row, 2, QTableWidgetItem(text))
            box = QComboBox()
            for shown, role in ROLE_CHOICES:
                box.addItem(shown, role)
            role = remembered.get(strap.address.upper())
            if role is not None:
                box.setCurrentIndex([r for _s, r in ROLE_CHOICES].index(role))
            box.currentIndexChanged.connect(self._check_roles)
            self.table.setCellWidget(row, 3, box)
        self.table.resizeRowsToContents()

    # -- roles -----------------------------------------------------------------------------

    def role_box(self, row: int) -> QComboBox:
        box = self.table.cellWidget(row, 3)
        assert isinstance(box, QComboBox)
        return box

    def assignments(self) -> dict[str, FoundStrap]:
        """Role -> strap as chosen in the table."""
        out = {}
        for row, strap in enumerate(self.found):
            role = self.role_box(row).currentData()
            if role:
                out[role] = strap
        return out

    def label(self) -> str:
        return self.label_box.currentText().strip()

    def mode(self) -> str:
        return self.mode_box.currentText()

    def _check_roles(self) -> None:
        chosen = {
            s.address: self.role_box(row).currentData() or "" for row, s in enumerate(self.found)
        }
        problem = assignment_problem(chosen) if self.found else None
        roles = {r for r in chosen.values() if r}
        if self.found and problem is None:
            # Follow the roles with the mode unless the user picked the assessment.
            if self.mode() != "resonance assessment":
                want = (
                    "two-person session" if roles == {"therapist", "client"} else "solo breathing"
                )
                if want != self.mode():
                    self.mode_box.blockSignals(True)
                    self.mode_box.setCurrentText(want)
                    self.mode_box.blockSignals(False)
            problem = mode_problem(self.mode(), roles)
        self.connect_button.setEnabled(bool(self.found) and problem is None)
        if self.found and problem is not None:
            self.status.setText(problem)
        elif self.found:
            self.status.setText("Ready to connect.")

    # -- connecting ------------------------------------------------------------------------

    def start_connect(self) -> None:
        """Open the session for the chosen straps and follow them until they send beats."""
        targets = self.assignments()
        if not targets or assignment_problem({s.address: r for r, s in targets.items()}):
            return
        if mode_problem(self.mode(), set(targets)) or not self.label():
            self.status.setText("Give the session a label (a code, not a name).")
            return
        self.connect_button.setEnabled(False)
        self.scan_button.setEnabled(False)
        self.status.setText("Connecting ...")
        try:
            self.controller = self.open_session(targets, self.label(), self.mode())
        except UserError as exc:
            self.status.setText(str(exc))
            self.scan_button.setEnabled(True)
            self._check_roles()
            return
        self._targets = targets
        self._connected_at = {}
        self._poll.start()

    def connection_words(self) -> tuple[bool, str]:
        """(all straps connected and sending beats, what to say)."""
        snap = self.controller.snapshot()
        if snap.message and snap.state in ("failed", "ended"):
            return False, snap.message
        now = time.monotonic()
        ready, lines = True, []
        for role, strap in self._targets.items():
            p = snap.participants.get(role)
            name = strap.name or strap.address
            state = p.strap.state if p is not None else "scanning"
            beats = p.n_beats if p is not None else 0
            if state == "connected":
                first = self._connected_at.setdefault(role, now)
                battery = p.strap.battery_pct if p is not None else None
                if battery is not None:
                    self.settings.remember_battery(strap.address, battery)
                if beats > 0:
                    lines.append(
                        f"{role}: {name} connected, beats arriving"
                        + (f", battery {battery} %" if battery is not None else "")
                    )
                    continue
                ready = False
                if now - first >= self.no_rr_after_s:
                    lines.append(
                        f"{role}: {name} is connected but has sent no beat-to-beat (RR) "
                        f"intervals in {self.no_rr_after_s:g} s. It may send heart rate only (many "
                        "optical sensors do), or it is not worn: this program needs a strap "
                        "that sends RR intervals."
                    )
                else:
                    lines.append(f"{role}: {name} connected, waiting for the first beats ...")
                continue
            ready = False
            if state in ("reconnecting", "lost"):
                lines.append(f"{role}: {_not_answering(strap.name)}")
            else:
                lines.append(f"{role}: {name} {state} ...")
        return ready, "\n".join(lines)

    def _connect_tick(self) -> None:
        ready, words = self.connection_words()
        self.status.setText(words)
        if ready:
            self._poll.stop()
            for role, strap in self._targets.items():
                self.settings.remember_strap(role, strap.address, strap.name)
            self.settings.remember_label(self.label())
            self.accept()

    def _tick(self) -> None:
        if self._scan_future is not None:
            if self._scan_future.done():
                future, self._scan_future = self._scan_future, None
                if self.controller is None:
                    self._poll.stop()
                self._scan_finished(future)
            return
        if self.controller is not None:
            self._connect_tick()

    def reject(self) -> None:
        """Cancel: a session opened for connecting is stopped (its file closed)."""
        self._poll.stop()
        if self.controller is not None and self.result() != QDialog.DialogCode.Accepted:
            self.controller.stop()
            self.controller = None
        super().reject()
