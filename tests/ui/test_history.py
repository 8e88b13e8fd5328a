"""The history page: the library in a window, a report of a session, deletion, a label's trend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("pyqtgraph")

from PySide6.QtWidgets import QWidget

from biofeedback.library import Library
from biofeedback.simulate.series import simulate_series
from ui.history import HistoryWindow


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("history") / "sessions"
    simulate_series(d, n=3, label="H-3", drift_rmssd_ms=3.0, minutes=3.0, seed=21, solo=True,
                    first_date=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))  # fmt: skip
    simulate_series(d / "..", n=1, label="H-1", drift_rmssd_ms=0.0, minutes=2.0, seed=5, solo=True)
    (d / ".." / "H-1-series-01.session").rename(d / "single.session")
    return d


def test_history_lists_reports_trends_and_deletes(qtbot, folder, tmp_path):
    w = HistoryWindow(Library(folder), reports_dir=tmp_path, ask=False)
    qtbot.addWidget(w)
    w.wait_idle()
    w.wait_idle()  # the trend of the label chosen by the listing
    names = [e.name for e in w.entries]
    assert names[:3] == ["H-3-series-01", "H-3-series-02", "H-3-series-03"]
    assert w.table.rowCount() == 4
    assert w.table.item(0, 2).text() == "H-3" and w.table.item(0, 8).text() == "baseline"
    labels = [w.label_choice.itemText(i) for i in range(w.label_choice.count())]
    assert labels == ["H-1", "H-3"]
    w.label_choice.setCurrentText("H-3")
    w.wait_idle()
    rest = w.trend["trends"]["resting_rmssd_ms"]
    assert rest["n_sessions"] == 3 and rest["slope_per_session"] == pytest.approx(3.0, rel=0.2)
    assert "from 3 sessions" in w.plots["resting_rmssd_ms"].plotItem.titleLabel.text
    w.label_choice.setCurrentText("H-1")
    w.wait_idle()
    assert "at least 3 sessions" in w.trend["trends"]["resting_rmssd_ms"]["note"]
    # Report of the selected session.
    w.select("H-3-series-02")
    out = tmp_path / "r.html"
    w.write_report(w.selected(), out)
    w.wait_idle()
    assert out.read_text(encoding="utf-8").count("A reflective aid, not a diagnosis") >= 1
    assert "report written" in w.status.text()
    # Delete (confirmed): the file is gone and the list shrinks.
    w.select("single")
    w.delete_selected()
    w.wait_idle()
    assert not (folder / "single.session").exists()
    assert [e.name for e in w.entries] == names[:3]


def test_dashboard_report_and_sessions_buttons(qtbot, tmp_path, monkeypatch):
    """The dashboard's "report" writes the replayed session's report into the reports folder;
    "sessions" opens the history page on the data folder."""
    import shutil

    from biofeedback.session import SessionController
    from biofeedback.sources.replay import ReplaySource
    from ui.dashboard import Dashboard

    from ..conftest import ROOT

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    sessions = tmp_path / "data" / "coregulation-monitor" / "sessions"
    sessions.mkdir(parents=True)
    played = sessions / "monday.session"
    shutil.copy(ROOT / "sample_data" / "solo_paced.session", played)
    ctl = SessionController(ReplaySource(str(played), speed=None, duration_s=60.0)).start()
    try:
        assert ctl.wait(60.0)
        w = Dashboard(ctl, list(ctl.source.roles))
        qtbot.addWidget(w)
        w.report_button.click()
        w.report_work.wait()
        out = tmp_path / "data" / "coregulation-monitor" / "reports" / "monday.html"
        assert out.exists() and oct(out.stat().st_mode & 0o777) == "0o600"
        assert "report written" in w.message.text()
        w.history_button.click()
        w.history_window.wait_idle()
        assert [e.name for e in w.history_window.entries] == ["monday"]
        w.close()
    finally:
        ctl.stop()


def test_a_running_recording_is_not_reported_yet(qtbot):
    from ui.history import SessionReportButton

    class Recording:
        path = "/nowhere/live.session"
        running = True

    messages: list[str] = []
    host = QWidget()  # owns the button's timer
    qtbot.addWidget(host)
    button = SessionReportButton(host, messages.append)
    assert button.start(Recording()) is None
    assert "once the session has ended" in messages[-1]
