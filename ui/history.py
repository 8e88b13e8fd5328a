"""The history page: the session library in a window, one session's report, and one label's trend.

Built on :class:`biofeedback.library.Library` and :func:`biofeedback.trends.label_trends`, the
same API as ``biofeedback sessions`` and ``biofeedback trends``. Numbers that need analysing a
file (first listing of new sessions, a label's trends) are computed on a worker thread and
shown when ready; the window never waits on them. Deleting asks first.

The trend plot shows each session's value at its place in the series (1, 2, 3 ...) and, from
3 sessions up, the least-squares line over exactly those sessions (never beyond them), with
the words "change per session, from N sessions". A reflective aid, not a diagnosis.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from biofeedback.library import Library, SessionEntry, date_words, duration_words
from biofeedback.paths import user_data_dir
from biofeedback.trends import label_trends

__all__ = ["HistoryWindow", "SessionReportButton", "session_file_of"]

log = logging.getLogger(__name__)

COLUMNS = ("name", "date (UTC)", "label", "mode", "duration", "people", "mean HR (beats/min)",
           "resting RMSSD (ms)", "resting from")  # fmt: skip
TREND_MEASURES = (
    ("resting_rmssd_ms", "resting RMSSD (ms)"),
    ("rsa_amplitude_ms", "RSA at the personal rate (ms)"),
)
INK = "#0072B2"  # Okabe-Ito blue; neutral, no judgement of up or down


def _per_person(e: SessionEntry, key: str, spec: str) -> str:
    people = (e.headline or {}).get("people", {})
    vals = []
    for r in e.facts.get("people") or []:
        v = people.get(r, {}).get(key)
        vals.append("–" if v is None else spec.format(v))
    return " / ".join(vals) or "–"


class _Job:
    """One background computation; :meth:`done` is polled from the Qt thread."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.result = fn()
        except Exception as exc:  # shown in the window, never raised into Qt
            log.exception("history: background work failed")
            self.error = str(exc) or type(exc).__name__

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


class HistoryWindow(QWidget):
    """The session library, a report of the selected session, and one label's trend.

    Parameters
    ----------
    library : Library
    reports_dir : path, optional
        Where "report" suggests saving (default: a ``reports`` folder beside the sessions).
    ask : bool
        Ask for a file name and confirm deletions with dialogs (tests pass ``False`` and call
        :meth:`write_report` / :meth:`delete_selected` with the answer).
    """

    def __init__(self, library: Library, *, reports_dir: Path | None = None, ask: bool = True):
        super().__init__()
        self.library = library
        self.reports_dir = reports_dir or library.folder.parent / "reports"
        self.ask = ask
        self.entries: list[SessionEntry] = []
        self.trend: dict[str, Any] | None = None
        self._jobs: list[tuple[_Job, Callable[[_Job], None]]] = []
        self.setWindowTitle("Sessions: history and trends")
        self._build()
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check_jobs)
        self.reload()

    # -- layout ----------------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        head = QHBoxLayout()
        title = QLabel("<b>Sessions</b> (oldest first)")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        head.addWidget(title)
        head.addWidget(self.status, 1)
        self.report_button = QPushButton("report of the selected session…")
        self.report_button.clicked.connect(self._report_clicked)
        self.delete_button = QPushButton("delete…")
        self.delete_button.clicked.connect(self._delete_clicked)
        refresh = QPushButton("refresh")
        refresh.clicked.connect(self.reload)
        for w in (self.report_button, self.delete_button, refresh):
            head.addWidget(w)
        root.addLayout(head)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        root.addWidget(self.table, 3)
        trend_head = QHBoxLayout()
        trend_head.addWidget(QLabel("<b>Trend of</b>"))
        self.label_choice = QComboBox()
        self.label_choice.currentTextChanged.connect(self._label_chosen)
        trend_head.addWidget(self.label_choice)
        self.trend_words = QLabel("")
        self.trend_words.setWordWrap(True)
        trend_head.addWidget(self.trend_words, 1)
        root.addLayout(trend_head)
        plots = QHBoxLayout()
        self.plots: dict[str, pg.PlotWidget] = {}
        for key, words in TREND_MEASURES:
            p = pg.PlotWidget(background="w")
            for side in ("left", "bottom"):
                p.getAxis(side).setTextPen("#333333")
                p.getAxis(side).setPen("#777777")
            p.setLabel("left", words, color="#333333")
            p.setLabel("bottom", "session (in date order)", color="#333333")
            p.showGrid(x=False, y=True, alpha=0.25)
            p.setMouseEnabled(x=False, y=False)
            plots.addWidget(p)
            self.plots[key] = p
        root.addLayout(plots, 2)
        foot = QLabel(
            "A reflective aid, not a diagnosis: change in either direction is not better or "
            "worse. A trend is shown from 3 sessions up and describes only the sessions it "
            "rests on."
        )
        foot.setWordWrap(True)
        root.addWidget(foot)

    # -- background work -------------------------------------------------------------------

    def _start(self, fn: Callable[[], Any], then: Callable[[_Job], None]) -> _Job:
        job = _Job(fn)
        self._jobs.append((job, then))
        self._poll.start()
        return job

    def _check_jobs(self) -> None:
        still = []
        for job, then in self._jobs:
            if job.done():
                then(job)
            else:
                still.append((job, then))
        self._jobs = still
        if not self._jobs:
            self._poll.stop()

    def wait_idle(self, timeout_s: float = 120.0) -> None:
        """Finish all background work and show its results (tests, screenshots)."""
        for job, _ in list(self._jobs):
            job.wait(timeout_s)
        self._check_jobs()

    # -- the list --------------------------------------------------------------------------

    def reload(self) -> None:
        """List the sessions (cached numbers at once; new files are analysed in the background)."""
        self.status.setText("reading the session folder…")
        self._start(lambda: self.library.entries(numbers="headline"), self._listed)

    def _listed(self, job: _Job) -> None:
        if job.error:
            self.status.setText(f"could not list the sessions: {job.error}")
            return
        self.entries = job.result
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            f = e.facts
            sources = {
                p.get("resting_from") for p in ((e.headline or {}).get("people") or {}).values()
            } - {None}
            cells = [
                e.name, date_words(f.get("date_utc")), f.get("label") or "–", f.get("mode") or "–",
                duration_words(f.get("duration_s")), " / ".join(f.get("people") or []),
                _per_person(e, "mean_hr_bpm", "{:.1f}"),
                _per_person(e, "resting_rmssd_ms", "{:.1f}"),
                " / ".join(sorted(sources)) or "–",
            ]  # fmt: skip
            if e.error:
                cells = [e.name, "", "", "", "", "", "", "", e.error]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                if col in (4, 6, 7):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, col, item)
        n = len(self.entries)
        self.status.setText(f"{n} session{'s' if n != 1 else ''} in {self.library.folder}")
        labels = sorted({str(e.facts["label"]) for e in self.entries if e.facts.get("label")})
        current = self.label_choice.currentText()
        self.label_choice.blockSignals(True)
        self.label_choice.clear()
        self.label_choice.addItems(labels)
        self.label_choice.blockSignals(False)
        if labels:
            self.label_choice.setCurrentText(current if current in labels else labels[-1])
            self._label_chosen(self.label_choice.currentText())

    def selected(self) -> SessionEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def select(self, name: str) -> None:
        for row, e in enumerate(self.entries):
            if e.name == name:
                self.table.selectRow(row)

    # -- report and delete -----------------------------------------------------------------

    def _report_clicked(self) -> None:
        e = self.selected()
        if e is None:
            self.status.setText("select a session first")
            return
        self.reports_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        out, _ = QFileDialog.getSaveFileName(
            self,
            "Save the session report",
            str(self.reports_dir / f"{e.name}.html"),
            "HTML (*.html)",
        )
        if out:
            self.write_report(e, Path(out))

    def write_report(self, e: SessionEntry, out: Path) -> _Job:
        """Write ``e``'s report to ``out`` in the background; the status line says when done."""
        from biofeedback.report.build import write_report

        self.status.setText(f"writing the report of {e.name}…")

        def done(job: _Job) -> None:
            self.status.setText(
                f"could not write the report: {job.error}"
                if job.error
                else f"report written: {out}"
            )

        return self._start(lambda: write_report(str(e.path), out), done)

    def _delete_clicked(self) -> None:
        e = self.selected()
        if e is None:
            self.status.setText("select a session first")
            return
        answer = QMessageBox.question(
            self,
            "Delete session",
            f"Delete the session {e.name!r} ({e.facts.get('label') or 'no label'}, "
            f"{date_words(e.facts.get('date_utc'))})? The file is removed; this cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_selected()

    def delete_selected(self) -> None:
        """Delete the selected session (the caller has confirmed) and list again."""
        e = self.selected()
        if e is None:
            return
        self.library.delete(e.name)
        self.status.setText(f"deleted {e.name}")
        self.reload()

    # -- the trend -------------------------------------------------------------------------

    def _label_chosen(self, label: str) -> None:
        if not label:
            return
        self.trend_words.setText(f"analysing the sessions of {label}…")
        self._start(lambda: label_trends(self.library, label), self._show_trend)

    def _show_trend(self, job: _Job) -> None:
        if job.error:
            self.trend_words.setText(f"could not compute the trend: {job.error}")
            return
        res = job.result
        if res["label"] != self.label_choice.currentText():
            return  # an older request
        self.trend = res
        rows = res["sessions"]
        for key, _ in TREND_MEASURES:
            plot = self.plots[key]
            plot.clear()
            x = np.array([r["position"] + 1 for r in rows], dtype=float)
            y = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
            ok = np.isfinite(y)
            plot.plot(x[ok], y[ok], pen=pg.mkPen(INK, width=2), symbol="o", symbolBrush=INK,
                      symbolPen=INK, symbolSize=8)  # fmt: skip
            tr = res["trends"][key]
            if tr["slope_per_session"] is not None:
                xs = x[ok]
                ys = y[ok]
                mid_x, mid_y = xs.mean(), ys.mean()
                ends = np.array([xs.min(), xs.max()])  # only over the sessions it rests on
                line = mid_y + tr["slope_per_session"] * (ends - mid_x)
                plot.plot(
                    ends, line, pen=pg.mkPen("#555555", width=1.5, style=Qt.PenStyle.DashLine)
                )
            plot.setTitle(tr["note"], size="9pt", color="#222222")
            plot.getAxis("bottom").setTicks([[(float(v), f"{int(v)}") for v in x]])
        s = res["synchrony_above_chance"]
        extra = (
            f"; synchrony above chance in {s['sessions_above_chance']} of {s['sessions_tested']} "
            "two-person sessions"
            if s["sessions_tested"]
            else ""
        )
        person = ", ".join(res["person"]) or "–"
        self.trend_words.setText(
            f"{res['n_sessions']} sessions of {res['label']} ({person}){extra}."
        )


def session_file_of(controller: Any) -> str | None:
    """The session file a dashboard shows: the recording, else the replayed file."""
    path = getattr(controller, "path", None)
    if path:
        return str(path)
    source_path = getattr(getattr(controller, "source", None), "path", None)
    return str(source_path) if source_path else None


class SessionReportButton:
    """What the dashboard's "report" button does: the current session's report, in the background.

    The report goes to ``reports_dir`` (default: ``reports`` in the program's data folder,
    created private) as ``NAME.html``; an earlier report of the same session is replaced. A
    recording still running is refused with a message: its last data is still being written.
    ``say`` shows one line in the window.
    """

    def __init__(
        self, parent: QWidget, say: Callable[[str], None], reports_dir: Path | None = None
    ) -> None:
        self.say = say
        self.reports_dir = reports_dir
        self.job: _Job | None = None
        self.out: Path | None = None
        self._timer = QTimer(parent)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._check)

    def start(self, controller: Any) -> Path | None:
        """Begin writing the report of ``controller``'s session; the path, or ``None``."""
        from biofeedback.report.build import write_report

        if self.job is not None and not self.job.done():
            self.say("the report is still being written…")
            return None
        path = session_file_of(controller)
        if path is None:
            self.say("this session is not being recorded, so there is no file to report on")
            return None
        recording = getattr(controller, "path", None) is not None
        if recording and getattr(controller, "running", False):
            self.say("the report can be written once the session has ended (end session first)")
            return None
        folder = self.reports_dir or user_data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.out = folder / f"{Path(path).stem}.html"
        out = self.out
        self.say(f"writing the report of {Path(path).name}…")
        self.job = _Job(lambda: write_report(path, out))
        self._timer.start()
        return out

    def _check(self) -> None:
        if self.job is None or not self.job.done():
            return
        self._timer.stop()
        if self.job.error:
            self.say(f"could not write the report: {self.job.error}")
        else:
            self.say(f"report written: {self.out}")

    def wait(self, timeout_s: float = 120.0) -> None:
        """Finish the work and show its message (tests)."""
        if self.job is not None:
            self.job.wait(timeout_s)
        self._check()
