"""The dashboard window: pacer, each person's trace and numbers, synchrony, events.

:class:`Dashboard` draws what it is given and asks a session controller (duck-typed: the
methods of :class:`biofeedback.session.SessionController`) for everything else:

* ``refresh()`` runs on a data timer (20-30 Hz): one ``snapshot()``, the events since the
  last frame (``events_since(cursor)``) and ``session_time()``; nothing here waits on the
  source, every call returns at once. Plots are reset only when the snapshot's version moved.
* the pacer repaints on its own timer at the screen's refresh rate, reading the session
  clock directly, so it stays smooth between snapshots;
* user actions (pacer, markers) go to the controller, which records them as events; the pacer
  drawn is rebuilt from the recorded events, so the screen shows what the recording holds.

Keyboard: the one table :data:`ui.keys.DASHBOARD_KEYS` (``docs/client.md`` lists the same
keys; a test keeps them equal). The keys work wherever the focus is, except that the marker
field keeps what is typed into it and a focused pacer field keeps its arrow keys.

Ending the session ("end session", Ctrl+E) stops the source and closes the recording but not
the window: the final values stay, the title says so, "report" and "sessions" still work.
Closing the window ends the session too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from biofeedback.terminal import clock_text
from hrv.episode_words import describe_episode
from hrv.pacer import PacerSettings, PacerTimeline
from ui.breath_tone import BreathTone
from ui.events_list import EventsList
from ui.keys import DASHBOARD_KEYS, PACER_WINDOW_KEYS, install_keys
from ui.pacer_controls import PacerControls
from ui.pacer_window import PacerWindow
from ui.person_panel import PersonPanel
from ui.synchrony_panel import SynchronyPanel
from ui.theme import THEMES, stylesheet
from ui.trace import WINDOW_CHOICES_S, HeartRateTrace

__all__ = ["DATA_HZ", "FONT_RANGE_PT", "Dashboard"]

log = logging.getLogger(__name__)

#: Snapshot pulls per second.
DATA_HZ = 25
#: Font sizes Ctrl+/Ctrl- move between, points.
FONT_RANGE_PT = (7.0, 22.0)
#: How long a pacer change sent to the controller may take to come back as a recorded event
#: before the window stops waiting for it (s of wall time; it normally takes one frame).
ECHO_TIMEOUT_S = 2.0


def _beats_key(p: Any) -> tuple:
    """What decides whether a person's trace must be redrawn: a new beat, a beat whose artifact
    class was settled, or the window sliding past its oldest beat (not the other person's
    beats, which also move the snapshot's version)."""
    b = p.beats
    if not b.t_s.size:
        return (0,)
    flags = b.artifact
    return (p.n_beats, b.t_s.size, float(b.t_s[0]), int((flags > 0).sum()), int((flags < 0).sum()))


def _clock_text(t_s: float) -> str:
    t = max(0, int(t_s))
    return f"{t // 3600:d}:{t % 3600 // 60:02d}:{t % 60:02d}"


class Dashboard(QMainWindow):
    """The main window (see the module docstring).

    Parameters
    ----------
    controller : object
        ``snapshot()``, ``events_since(cursor)``, ``session_time()``,
        ``set_pacer(settings or None)``, ``add_marker(text)``.
    roles : sequence of str
        The people, in the order the source lists them (``therapist`` and ``client``, or one).
    title : str
    theme : str
        ``light`` or ``dark``.
    font_pt : float
    """

    def __init__(
        self,
        controller: Any,
        roles: Sequence[str],
        *,
        title: str = "co-regulation monitor",
        theme: str = "light",
        font_pt: float = 10.0,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.roles = list(roles)
        self.dyad = {"therapist", "client"} <= set(self.roles)
        self.theme = THEMES[theme]
        self.font_pt = font_pt
        self.event_cursor = 0  # (not `cursor`: that is QWidget's mouse cursor)
        self.timeline = PacerTimeline()
        # Pacer changes sent but not yet back as recorded events: (monotonic s, settings).
        self._in_flight: list[tuple[float, PacerSettings | None]] = []
        self.frames = 0
        self._snap_version = -1
        self._episodes_shown = 0
        self._last_snap: Any = None
        self.pacer_window: PacerWindow | None = None
        self.report_work: Any = None  # ui.history.SessionReportButton, made on first use
        self.history_window: Any = None  # ui.history.HistoryWindow, made on first use
        self.tone = BreathTone(self.clock, lambda: self.timeline)
        self._title = title
        self._end_requested = False  # "end session" was confirmed
        self._ended = False  # the session has ended (by itself, by "end session", or failed)
        self._message_shown: str | None = None
        self.setWindowTitle(title)
        self._build(title)
        self._shortcuts()
        self.apply_theme()
        self.data_timer = QTimer(self)
        self.data_timer.setInterval(int(1000 / DATA_HZ))
        self.data_timer.timeout.connect(self.refresh)
        self.pacer_timer = QTimer(self)
        self.pacer_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.pacer_timer.timeout.connect(self._tick_pacer)

    # -- building --------------------------------------------------------------------------

    def _build(self, title: str) -> None:
        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        root.setContentsMargins(6, 4, 6, 4)
        root.setSpacing(4)
        head = QHBoxLayout()
        self.title_label = QLabel(title)
        self.title_label.setObjectName("title")
        self.clock_label = QLabel("session time 0:00:00")
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.window_choice = QComboBox()
        for s in WINDOW_CHOICES_S:
            self.window_choice.addItem(f"last {s // 60} min", s)
        self.window_choice.setCurrentIndex(1)
        self.window_choice.currentIndexChanged.connect(self._window_changed)
        self.theme_button = QPushButton("dark")
        self.theme_button.clicked.connect(self.toggle_theme)
        smaller, larger = QPushButton("A−"), QPushButton("A+")
        smaller.clicked.connect(lambda: self.change_font(-1))
        larger.clicked.connect(lambda: self.change_font(+1))
        head.addWidget(self.title_label)
        head.addWidget(self.clock_label)
        head.addWidget(self.message, 1)
        self.end_button = QPushButton("end session")
        self.end_button.setToolTip(
            "stop the straps (or the replay) and close the recording; the window stays open "
            "(Ctrl+E)"
        )
        self.end_button.clicked.connect(self.end_session)
        self.report_button = QPushButton("report")
        self.report_button.setToolTip("write this session's report (HTML) to the reports folder")
        self.report_button.clicked.connect(self.write_report)
        self.history_button = QPushButton("sessions")
        self.history_button.setToolTip("the session library: earlier sessions, reports, trends")
        self.history_button.clicked.connect(self.open_history)
        for w in (self.window_choice, self.end_button, self.report_button, self.history_button,
                  self.theme_button, smaller, larger):  # fmt: skip
            head.addWidget(w)
        root.addLayout(head)

        body = QHBoxLayout()
        body.setSpacing(6)
        root.addLayout(body, 1)
        body.addWidget(self._build_pacer_column())
        right = QVBoxLayout()
        right.setSpacing(4)
        body.addLayout(right, 1)
        self._body = body
        people = QHBoxLayout()
        people.setSpacing(6)
        self.traces: dict[str, HeartRateTrace] = {}
        self.panels: dict[str, PersonPanel] = {}
        for role in self.roles:
            col = QVBoxLayout()
            col.setSpacing(2)
            trace = HeartRateTrace(role, self.theme, self.font_pt)
            trace.scroll_phase = len(self.traces) / len(self.roles)  # one trace moves a frame
            panel = PersonPanel(role, self.theme, self.font_pt)
            col.addWidget(panel)
            col.addWidget(trace, 1)
            people.addLayout(col, 1)
            self.traces[role], self.panels[role] = trace, panel
        right.addLayout(people, 3 if self.dyad else 5)
        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        self.synchrony: SynchronyPanel | None = None
        if self.dyad:
            self.synchrony = SynchronyPanel(self.theme, self.font_pt)
            bottom.addWidget(self.synchrony, 3)
        events_col = QVBoxLayout()
        self.events = EventsList()
        events_col.addWidget(self.events, 1)
        marker_row = QHBoxLayout()
        self.marker_text = QLineEdit()
        self.marker_text.setPlaceholderText("marker text")
        self.marker_text.returnPressed.connect(self.add_marker)
        self.marker_button = QPushButton("add marker")
        self.marker_button.clicked.connect(self.add_marker)
        marker_row.addWidget(self.marker_text, 1)
        marker_row.addWidget(self.marker_button)
        events_col.addLayout(marker_row)
        bottom.addLayout(events_col, 2 if self.dyad else 1)
        right.addLayout(bottom, 2 if self.dyad else 1)

    def add_side_panel(self, panel: QWidget, width_px: int = 420) -> None:
        """Show ``panel`` (the session's guided steps) in a column on the right, scrolling when
        the window is too short for it."""
        from PySide6.QtWidgets import QScrollArea

        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(panel)
        area.setFixedWidth(width_px)
        self._body.addWidget(area)
        self.side_panel = panel

    def _build_pacer_column(self) -> QWidget:
        column = PacerControls(self.theme, self.clock, 250 if self.dyad else 330)
        self.pacer_controls, self.pacer = column, column.pacer
        self.rate_spin, self.share_spin, self.hold_in_spin, self.hold_out_spin = column.spins
        self.start_button, self.shape_button = column.start_button, column.shape_button
        self.sound_button = column.sound_button
        for spin in column.spins:
            spin.valueChanged.connect(self._settings_edited)
        self.start_button.clicked.connect(self.toggle_pacer)
        self.shape_button.clicked.connect(self.toggle_shape)
        column.full_button.clicked.connect(self.open_pacer_window)
        self.sound_button.clicked.connect(self.toggle_sound)
        return column

    def _key_actions(self) -> dict[str, Any]:
        """What each action of :mod:`ui.keys` does in this window."""
        return {
            "rate_up": lambda: self.step_rate(+1),
            "rate_down": lambda: self.step_rate(-1),
            "toggle_pacer": self.toggle_pacer,
            "full_screen": self.open_pacer_window,
            "sound": self.toggle_sound,
            "marker": self.marker_text.setFocus,
            "font_up": lambda: self.change_font(+1),
            "font_down": lambda: self.change_font(-1),
            "theme": self.toggle_theme,
            "end_session": self.end_session,
        }

    def _shortcuts(self) -> None:
        install_keys(self, DASHBOARD_KEYS, self._key_actions())
        # Esc in the marker field leaves it (nothing recorded), so Space paces again.
        leave = QShortcut(QKeySequence("Esc"), self.marker_text)
        leave.setContext(Qt.ShortcutContext.WidgetShortcut)
        leave.activated.connect(self._leave_marker_field)

    # -- look and feel ---------------------------------------------------------------------

    def apply_theme(self) -> None:
        th, pt = self.theme, self.font_pt
        self.setStyleSheet(stylesheet(th, pt))
        themed: list[Any] = [*self.traces.values(), *self.panels.values(), self.pacer]
        for w in themed:
            w.apply_theme(th, pt)
        if self.synchrony is not None:
            self.synchrony.apply_theme(th, pt)
        if self.pacer_window is not None:
            self.pacer_window.apply_theme(th, pt)
        self.theme_button.setText("light" if th.name == "dark" else "dark")
        self._snap_version = -1

    def toggle_theme(self) -> None:
        self.theme = THEMES["light" if self.theme.name == "dark" else "dark"]
        self.apply_theme()

    def change_font(self, step: float) -> None:
        lo, hi = FONT_RANGE_PT
        self.font_pt = min(max(self.font_pt + step, lo), hi)
        self.apply_theme()

    def _window_changed(self) -> None:
        for trace in self.traces.values():
            trace.set_window_s(self.window_choice.currentData())

    # -- the pacer ---------------------------------------------------------------------------

    def clock(self) -> float:
        """Session time now (smooth between snapshots when the controller has a clock)."""
        now = getattr(self.controller, "session_time", None)
        if now is not None:
            return float(now())
        return float(self._last_snap.t_s) if self._last_snap is not None else 0.0

    def settings_from_controls(self) -> PacerSettings:
        return self.pacer_controls.settings()

    def pacer_running(self) -> bool:
        """Whether the recorded pacer is on now."""
        return self.timeline.settings_at(self.clock()) is not None

    def _asked_pacer(self) -> PacerSettings | None:
        """The pacer last asked for: the newest change still on its way to the recording,
        else the newest recorded one. Key presses faster than the frames (a held arrow key
        repeats about 30 times a second) each act on the one before, not on a stale frame."""
        now = time.monotonic()
        self._in_flight = [(t, s) for t, s in self._in_flight if now - t < ECHO_TIMEOUT_S]
        if self._in_flight:
            return self._in_flight[-1][1]
        return self.timeline.changes[-1][1] if self.timeline.changes else None

    def _send_pacer(self, settings: PacerSettings | None) -> None:
        """Record a pacer change with all its settings (the controller's ``set_pacer``)."""
        try:
            self.controller.set_pacer(settings)
        except (ValueError, RuntimeError) as exc:
            self.show_message(f"pacer not changed: {exc}")
            return
        self._in_flight.append((time.monotonic(), settings))

    def toggle_pacer(self) -> None:
        if self._asked_pacer() is not None:
            self._send_pacer(None)
            return
        settings = self._controls_or_message()
        if settings is not None:
            self._send_pacer(settings)

    def _settings_edited(self) -> None:
        asked = self._asked_pacer()
        if asked is None:
            return
        settings = self._controls_or_message()
        if settings is not None and settings != asked:
            self._send_pacer(settings)

    def _controls_or_message(self) -> PacerSettings | None:
        """The settings the controls hold, or ``None`` with the reason shown."""
        try:
            return self.settings_from_controls()
        except ValueError as exc:
            self.show_message(str(exc))
            return None

    def _show_settings(self, settings: PacerSettings | None) -> None:
        """Make the controls show the settings in force (without sending them back)."""
        self.pacer_controls.show_settings(settings)

    def step_rate(self, direction: int) -> None:
        self.rate_spin.setValue(round(self.rate_spin.value() + 0.1 * direction, 1))

    def toggle_shape(self) -> None:
        shape = "bar" if self.pacer.shape == "circle" else "circle"
        self.pacer.set_shape(shape)
        if self.pacer_window is not None:
            self.pacer_window.pacer.set_shape(shape)
        self.shape_button.setText("circle" if shape == "bar" else "bar")

    def toggle_sound(self) -> None:
        """Switch the pacer's audio cue on or off (a message says why it cannot play)."""
        if self.tone.playing:
            self.tone.stop()
        else:
            problem = self.tone.start()
            if problem:
                self.show_message(problem)
        self.sound_button.setText("sound off" if self.tone.playing else "sound on")

    def open_pacer_window(self) -> PacerWindow:
        """Show the full-screen pacer for the client (or the one person)."""
        if self.pacer_window is None:
            role = "client" if "client" in self.roles else self.roles[0]
            self.pacer_window = PacerWindow(role, self.theme, self.font_pt, self.clock)
            self.pacer_window.pacer.set_timeline(self.timeline)
            self.pacer_window.pacer.set_shape(self.pacer.shape)
            # The pacer keys work there too (the window handles its own full-screen keys).
            install_keys(self.pacer_window, PACER_WINDOW_KEYS, self._key_actions())
            self._snap_version = -1
        self.pacer_window.showFullScreen()
        return self.pacer_window

    def _tick_pacer(self) -> None:
        self.pacer.tick()
        if self.pacer_window is not None and self.pacer_window.isVisible():
            self.pacer_window.pacer.tick()

    # -- data --------------------------------------------------------------------------------

    def start_timers(self) -> None:
        """Start pulling snapshots and painting the pacer (at the screen's refresh rate)."""
        screen = self.screen()
        hz = screen.refreshRate() if screen is not None else 60.0
        self.pacer_timer.setInterval(max(int(1000 / max(min(hz, 144.0), 20.0)), 4))
        self.data_timer.start()
        self.pacer_timer.start()

    def stop_timers(self) -> None:
        self.data_timer.stop()
        self.pacer_timer.stop()

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def write_report(self) -> None:
        """The "report" button: this session's report, written in the background."""
        from ui.history import SessionReportButton

        if self.report_work is None:
            self.report_work = SessionReportButton(self, self.show_message)
        self.report_work.start(self.controller)

    def open_history(self) -> None:
        """The "sessions" button: the history page (library, reports, trends)."""
        from biofeedback.library import Library
        from ui.history import HistoryWindow

        if self.history_window is None:
            self.history_window = HistoryWindow(Library())
            self.history_window.resize(1100, 700)
        self.history_window.show()
        self.history_window.raise_()

    def confirm_end(self) -> bool:
        """Ask before ending the session: a closed recording cannot be continued."""
        answer = QMessageBox.question(
            self,
            "End session",
            "End the session now? The straps are disconnected (a replay stops) and the "
            "recording is closed; it cannot be continued. The window stays open with the final "
            "values and the report.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def end_session(self) -> None:
        """The "end session" button (Ctrl+E): after :meth:`confirm_end`, stop the source and
        close the recording (the controller's ``stop``, on a helper thread: straps can take a
        moment to disconnect and the window never waits); the window stays open. Does nothing
        once the session has ended or is ending."""
        if self._end_requested or self._ended or not getattr(self.controller, "running", False):
            return
        if not self.confirm_end():
            return
        self._end_requested = True
        self.end_button.setEnabled(False)
        self.show_message("ending the session …")
        threading.Thread(target=self.controller.stop, name="end-session", daemon=True).start()

    def _session_ended(self, snap: Any) -> None:
        """The session ended (by itself, by "end session", or failed): the title and the status
        line say so, the final values stay, and what needs a running session (pacer, markers,
        sound) is switched off. A failure's own message is left standing."""
        self._ended = True
        self.setWindowTitle(f"{self._title} — session ended")
        self.end_button.setText("session ended")
        for w in (self.end_button, self.start_button, self.marker_text, self.marker_button):
            w.setEnabled(False)
        if self.tone.playing:
            self.toggle_sound()
        # The pacer stops with the session: the window's pacer is off from the session's end
        # on (the recording and the snapshot keep what was in force until then).
        changes = self.timeline.changes
        if changes and changes[-1][1] is not None:
            end_s = max(float(getattr(snap, "t_s", 0.0)), changes[-1][0])
            self.timeline = self.timeline.changed(end_s, None)
            self.pacer.set_timeline(self.timeline)
            if self.pacer_window is not None:
                self.pacer_window.pacer.set_timeline(self.timeline)
        self.pacer.set_off_hint("the session has ended")
        if not getattr(snap, "message", None):
            path = getattr(snap, "path", None)
            closed = f"; recording closed: {Path(path).name}" if path else ""
            self.show_message(f"session ended{closed}")

    def add_marker(self) -> None:
        """Record the marker field's text (``marker`` when empty) and leave the field, so
        that Space and the other keys act on the window again."""
        text = self.marker_text.text().strip() or "marker"
        self.controller.add_marker(text)
        self._leave_marker_field()

    def _leave_marker_field(self) -> None:
        self.marker_text.clear()
        if self.marker_text.hasFocus():
            self.marker_text.clearFocus()

    def refresh(self) -> None:
        """One data frame: pull the snapshot and new events, redraw what moved."""
        snap = self.controller.snapshot()
        events, self.event_cursor = self.controller.events_since(self.event_cursor)
        self.show_snapshot(snap, events, self.clock())

    def _take_pacer_events(self, events: Sequence[Any]) -> None:
        changed = False
        for e in events:
            if e.kind != "pacer":
                continue
            try:  # the engine's and analysis's rule (PacerTimeline.after_event)
                self.timeline = self.timeline.after_event(e.t_s, e.data)
                settings = self.timeline.changes[-1][1]
                changed = True
            except ValueError as exc:
                log.warning("pacer event at %.1f s not shown: %s", e.t_s, exc)
                continue
            if self._in_flight and self._in_flight[0][1] == settings:
                self._in_flight.pop(0)  # our own change, back from the recording
            else:
                self._in_flight.clear()  # a change from elsewhere (the guided steps)
        if changed:
            if not self._in_flight:  # else the controls already show what is on its way
                self._show_settings(self.timeline.changes[-1][1])
            self.pacer.set_timeline(self.timeline)
            if self.pacer_window is not None:
                self.pacer_window.pacer.set_timeline(self.timeline)

    def show_snapshot(self, snap: Any, events: Sequence[Any], now_s: float) -> None:
        """Draw ``snap`` with the new ``events`` at session time ``now_s``."""
        self.frames += 1
        self._last_snap = snap
        if events:
            self._take_pacer_events(events)
            self.events.add_events(events)
        running = self.timeline.settings_at(now_s) is not None
        self.start_button.setText("stop pacer" if running else "start pacer")
        self.clock_label.setText(f"session time {_clock_text(now_s)}")
        version = snap.version
        moved = version != self._snap_version
        self._snap_version = version
        coreg = getattr(snap, "coregulation", None)
        for role, trace in self.traces.items():
            p = snap.participants.get(role)
            if p is not None and moved:
                b = p.beats
                key = _beats_key(p)
                trace.update_beats(key, b.t_s, b.hr_bpm, b.artifact, b.after_gap, now_s)
                rise = coreg.states.get(role) if coreg is not None else None
                self.panels[role].update_person(version, p, now_s, running, rise)
            trace.scroll(now_s, self.timeline)
        if self.pacer_window is not None and self.pacer_window.isVisible():
            p = snap.participants.get(self.pacer_window.role)
            if p is not None and moved:
                b = p.beats
                self.pacer_window.trace.update_beats(
                    _beats_key(p), b.t_s, b.hr_bpm, b.artifact, b.after_gap, now_s
                )
            self.pacer_window.trace.scroll(now_s, self.timeline)
        episodes = coreg.episodes if coreg is not None else ()
        if len(episodes) > self._episodes_shown:  # finished heart-rate rises, in words
            self.events.add_lines(
                f"{clock_text(e.start_s)}  {describe_episode(e)}"
                for e in episodes[self._episodes_shown :]
            )
            self._episodes_shown = len(episodes)
        if self.synchrony is not None:
            self.synchrony.update_synchrony(snap.synchrony_history, snap.synchrony, now_s)
        message = getattr(snap, "message", None)
        state = getattr(snap, "state", "")
        if state in ("ended", "failed") and not self._ended:
            self._session_ended(snap)
        # Shown when it changes, so a later line of the window's own (the report's) stays.
        if message and message != self._message_shown:
            self._message_shown = message
            self.show_message(message)

    def closeEvent(self, event) -> None:
        self.stop_timers()
        self.tone.stop()
        if self.pacer_window is not None:
            self.pacer_window.close()
        if self.history_window is not None:
            self.history_window.close()
        super().closeEvent(event)
