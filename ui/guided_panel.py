"""The guided steps of a session in the window: a resting baseline with a calm countdown, and
the resonance-frequency assessment with the pacer driving each step, its result table and the
suggested rate.

The steps themselves are :class:`biofeedback.guided.BaselineStep` and
:class:`biofeedback.guided.AssessmentRun`; this panel starts, skips and cancels them, and moves
them on from two places: a 5 Hz timer on the session clock (the countdown) and a controller
listener on the worker thread that sees every item as it is recorded, so step boundaries land
at their planned session times even when a recording replays faster than real time. The pacer
changes they make are recorded events, which the dashboard's pacer follows like any other.

When the run ends the panel measures it with :class:`biofeedback.guided.AssessmentCollector`
(the same code as ``analyze``), shows one row per step and the suggestion with its reasoning;
"Use this rate" sets the pacer to it and remembers it for the session label
(:class:`biofeedback.user_settings.UserSettings`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from biofeedback.assessment import DEFAULT_RATES_BPM, PlannedStep, default_plan
from biofeedback.beats import EventKind
from biofeedback.guided import (
    BASELINE_S,
    Action,
    AssessmentCollector,
    AssessmentRun,
    BaselineStep,
    apply,
)
from hrv.pacer import PacerSettings

__all__ = ["RESULT_COLUMNS", "GuidedPanel", "parse_rates"]

log = logging.getLogger(__name__)

#: Result table columns: header, step key, format.
RESULT_COLUMNS = (
    ("breaths\n/min", "rate_bpm", "{:.1f}"),
    ("RSA\n(ms)", "rsa_amplitude_ms", "{:.0f}"),
    ("HR swing\n(beats/min)", "peak_to_trough_bpm", "{:.1f}"),
    ("LF peak\n(ms²)", "lf_peak_ms2", "{:,.0f}"),
    ("phase\n(°)", "phase_deg", "{:+.0f}"),
    ("followed", "followed", "{:.0%}"),
)


def parse_rates(text: str) -> tuple[float, ...]:
    """Rates from "6.5, 6, 5.5" (commas or spaces), breaths/min, each 3-10.

    Raises
    ------
    ValueError
        A value that is not a number or is outside 3-10 (the message names it).
    """
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise ValueError("give at least one rate, e.g. 6.5, 6.0, 5.5, 5.0, 4.5")
    out = []
    for p in parts:
        try:
            r = float(p)
        except ValueError:
            raise ValueError(f"{p!r} is not a rate in breaths/min") from None
        if not 3.0 <= r <= 10.0:
            raise ValueError(f"{p} breaths/min is outside 3-10")
        out.append(round(r, 1))
    return tuple(out)


def _mmss(s: float) -> str:
    """m:ss of the seconds left, rounded up (a countdown shows 0:01 in its last second)."""
    n = max(0, math.ceil(s - 1e-6))
    return f"{n // 60}:{n % 60:02d}"


class GuidedPanel(QFrame):
    """Baseline and assessment controls (see the module docstring).

    Parameters
    ----------
    controller : SessionController
        The running session (``session_time``, ``add_event``, ``set_pacer``, ``add_listener``).
    settings : UserSettings
        Where the suggested rate is remembered per label.
    label : callable
        Returns the session label (pseudonymous code) now.
    role : str or None
        The person assessed (``None``: the one person of a solo session).
    pacer_base : callable
        Returns the pacer settings the user chose (inhale share, holds) or ``None``; the
        assessment keeps them and changes only the rate.
    baseline_s : float
        Planned baseline length, seconds.
    """

    def __init__(
        self,
        controller: Any,
        settings: Any,
        *,
        label: Callable[[], str],
        role: str | None = None,
        pacer_base: Callable[[], PacerSettings | None] = lambda: None,
        baseline_s: float = BASELINE_S,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.controller = controller
        self.settings = settings
        self.label = label
        self.role = role
        self.pacer_base = pacer_base
        self.baseline = BaselineStep(baseline_s)
        self.run: AssessmentRun | None = None
        self.collector: AssessmentCollector | None = None
        self.result: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._build()
        controller.add_listener(self._on_item)
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.tick()

    # -- building --------------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        title = QLabel("Resting baseline")
        title.setObjectName("title")
        root.addWidget(title)
        self.countdown = QLabel(_mmss(self.baseline.duration_s))
        self.countdown.setObjectName("countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Large and light: a calm clock, not an alarm (the window's style sheet sets sizes,
        # so the label carries its own).
        self.countdown.setStyleSheet("font-size: 30pt; font-weight: 300;")
        root.addWidget(self.countdown)
        self.baseline_hint = QLabel(
            "A few quiet minutes as a reference: sit comfortably and breathe as you like."
        )
        self.baseline_hint.setWordWrap(True)
        self.baseline_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.baseline_hint)
        row = QHBoxLayout()
        self.baseline_start = QPushButton("start baseline")
        self.baseline_start.clicked.connect(self.start_baseline)
        self.baseline_skip = QPushButton("skip")
        self.baseline_skip.clicked.connect(self.skip_baseline)
        row.addWidget(self.baseline_start)
        row.addWidget(self.baseline_skip)
        root.addLayout(row)

        title = QLabel("Resonance-frequency assessment")
        title.setObjectName("title")
        root.addWidget(title)
        grid = QGridLayout()
        self.rates_edit = QLineEdit(", ".join(f"{r:.1f}" for r in DEFAULT_RATES_BPM))
        self.step_spin = QDoubleSpinBox()
        self.step_spin.setRange(0.5, 10.0)
        self.step_spin.setSingleStep(0.5)
        self.step_spin.setValue(2.0)
        self.step_spin.setSuffix(" min")
        self.rest_spin = QDoubleSpinBox()
        self.rest_spin.setRange(0.0, 300.0)
        self.rest_spin.setSingleStep(15.0)
        self.rest_spin.setDecimals(0)
        self.rest_spin.setValue(30.0)
        self.rest_spin.setSuffix(" s rest")
        grid.addWidget(QLabel("rates"), 0, 0)
        grid.addWidget(self.rates_edit, 0, 1, 1, 2)
        grid.addWidget(self.step_spin, 1, 1)
        grid.addWidget(self.rest_spin, 1, 2)
        grid.addWidget(QLabel("each"), 1, 0)
        root.addLayout(grid)
        row = QHBoxLayout()
        self.assess_start = QPushButton("start assessment")
        self.assess_start.clicked.connect(self.start_assessment)
        self.assess_cancel = QPushButton("cancel")
        self.assess_cancel.clicked.connect(self.cancel_assessment)
        row.addWidget(self.assess_start)
        row.addWidget(self.assess_cancel)
        root.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        root.addWidget(self.status)
        self.table = QTableWidget(0, len(RESULT_COLUMNS))
        self.table.setHorizontalHeaderLabels([c[0] for c in RESULT_COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVisible(False)
        root.addWidget(self.table)
        self.suggestion = QLabel("")
        self.suggestion.setObjectName("title")
        self.suggestion.setWordWrap(True)
        root.addWidget(self.suggestion)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        root.addWidget(self.reason)
        self.use_rate = QPushButton("use this rate")
        self.use_rate.setVisible(False)
        self.use_rate.clicked.connect(self.use_suggested_rate)
        root.addWidget(self.use_rate)
        root.addStretch(1)

    # -- actions -----------------------------------------------------------------------------

    def _apply(self, actions: list[Action]) -> None:
        apply(self.controller, actions, self.pacer_base())

    def _advance(self, t_s: float) -> None:
        with self._lock:
            acts = self.baseline.advance(t_s)
            if self.run is not None:
                acts += self.run.advance(t_s)
        self._apply(acts)

    def _on_item(self, item: Any) -> None:
        """Controller listener (worker thread): move the steps on with every recorded item."""
        run = self.run
        if self.baseline.state == "running" or (
            run is not None and run.phase in ("scheduled", "step", "rest")
        ):
            self._advance(float(item.t_s))

    def now(self) -> float:
        return float(self.controller.session_time())

    def _now_for_start(self) -> float:
        """Session time now; before the session runs, earlier than any time (so a step
        scheduled for its very start is recorded with the first item, not refused)."""
        return self.now() if getattr(self.controller, "running", True) else -math.inf

    @staticmethod
    def _at(at_s: float | None, now: float) -> float:
        if at_s is not None:
            return float(at_s)
        return now if math.isfinite(now) else 0.0

    def start_baseline(self, at_s: float | None = None) -> None:
        """Start the baseline now, or schedule it for session time ``at_s``."""
        now = self._now_for_start()
        with self._lock:
            acts = self.baseline.start(self._at(at_s, now), now)
        self._apply(acts)
        self.tick()

    def skip_baseline(self) -> None:
        with self._lock:
            acts = self.baseline.skip(self.now())
        self._apply(acts)
        self.tick()

    def plan(self) -> tuple[PlannedStep, ...]:
        """The plan from the controls (raises ``ValueError`` with a sentence)."""
        rates = parse_rates(self.rates_edit.text())
        return default_plan(rates, self.step_spin.value() * 60.0, self.rest_spin.value())

    def start_assessment(self, at_s: float | None = None) -> None:
        """Start the assessment now, or schedule it for session time ``at_s``."""
        if self.run is not None and self.run.phase in ("scheduled", "step", "rest"):
            return
        try:
            plan = self.plan()
        except ValueError as exc:
            self.status.setText(f"Not started: {exc}.")
            return
        collector = AssessmentCollector(self.role)
        self.controller.add_listener(collector)
        run = AssessmentRun(plan, role=self.role)
        now = self._now_for_start()
        with self._lock:
            self.collector, self.run, self.result = collector, run, None
            acts = run.start(self._at(at_s, now), now)
        self.table.setVisible(False)
        self.suggestion.setText("")
        self.reason.setText("")
        self.use_rate.setVisible(False)
        self._apply(acts)
        self.tick()

    def cancel_assessment(self) -> None:
        if self.run is None:
            return
        with self._lock:
            acts = self.run.cancel(self.now())
        self._apply(acts)
        self.tick()

    def use_suggested_rate(self) -> None:
        """Pacer to the suggested rate; remember it for the session label."""
        if not self.result or self.result.get("suggested_bpm") is None:
            return
        rate = float(self.result["suggested_bpm"])
        self._apply([Action(self.now(), EventKind.PACER, {"rate_bpm": rate})])
        label = self.label().strip()
        if label:
            path = getattr(self.controller, "path", None) or ""
            self.settings.remember_resonance(
                label, rate, reason=str(self.result.get("reason") or ""), session=str(path)
            )
            self.status.setText(f"Pacer set to {rate:g} breaths/min; remembered for {label}.")
        else:
            self.status.setText(f"Pacer set to {rate:g} breaths/min (no label to remember it).")

    # -- display -----------------------------------------------------------------------------

    def tick(self) -> None:
        """Countdown and status from the session clock; the result once the run has ended."""
        running = getattr(self.controller, "running", True)
        t = self.now()
        if running:
            self._advance(t)
        b = self.baseline
        self.countdown.setText(_mmss(b.remaining_s(t)))
        # Only the buttons that apply now are shown (the window's style does not grey out
        # disabled ones).
        self.baseline_start.setVisible(b.state == "ready")
        self.baseline_skip.setVisible(b.state in ("ready", "running"))
        if b.state == "running":
            self.baseline_hint.setText("Resting baseline: sit comfortably and breathe as you like.")
        elif b.state == "done":
            self.baseline_hint.setText("Baseline recorded.")
        elif b.state == "skipped":
            self.baseline_hint.setText("Baseline skipped.")
        run = self.run
        active = run is not None and run.phase in ("scheduled", "step", "rest")
        self.assess_start.setVisible(not active)
        self.assess_cancel.setVisible(active)
        if run is None:
            return
        st = run.status(t)
        if st.phase == "step":
            self.status.setText(
                f"Step {st.index + 1} of {st.n_steps}: breathe with the pacer at "
                f"{st.rate_bpm:g} breaths/min, {_mmss(st.remaining_s)} left."
            )
        elif st.phase == "rest":
            self.status.setText(
                f"Rest: breathe as you like. Next {st.rate_bpm:g} breaths/min in "
                f"{_mmss(st.remaining_s)}."
            )
        elif st.phase == "scheduled":
            self.status.setText(f"The assessment starts in {_mmss(st.remaining_s)}.")
        elif st.phase in ("done", "cancelled") and self.result is None:
            assert self.collector is not None
            if self.collector.finished.is_set() or not running:
                self.show_result(st.phase)

    def show_result(self, phase: str) -> None:
        assert self.collector is not None
        self.result = self.collector.result() or {}
        steps = self.result.get("steps") or []
        self.table.setRowCount(len(steps))
        suggested = self.result.get("suggested_bpm")
        for row, step in enumerate(steps):
            for col, (_h, key, fmt) in enumerate(RESULT_COLUMNS):
                v = step.get(key)
                text = "–" if v is None else fmt.format(v)
                if col == 0 and v == suggested:
                    text = f"▶ {text}"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(height)
        self.table.setVisible(True)
        done = "Assessment complete." if phase == "done" else "Assessment stopped early."
        self.status.setText(done)
        if suggested is not None:
            self.suggestion.setText(f"Suggested rate: {suggested:g} breaths/min")
            self.use_rate.setText(f"use {suggested:g} breaths/min for the pacer")
            self.use_rate.setVisible(True)
        else:
            self.suggestion.setText("No suggested rate")
        self._set_wrapped(self.reason, str(self.result.get("reason") or ""))

    @staticmethod
    def _set_wrapped(label: QLabel, text: str) -> None:
        """Set word-wrapped text and make room for all its lines (a scroll area would
        otherwise keep the label at one line)."""
        label.setText(text)
        width = max(label.width(), 200)
        rect = label.fontMetrics().boundingRect(
            0, 0, width, 100_000, int(Qt.TextFlag.TextWordWrap), text
        )
        label.setMinimumHeight(rect.height() + 6)
        label.updateGeometry()
