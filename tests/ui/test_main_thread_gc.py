"""While the window runs, cyclic garbage is freed on the GUI thread, never by a worker thread."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QLabel, QWidget

from ui.main_thread_gc import MainThreadCollector


def _cycle_holding_a_widget() -> weakref.ref:
    class Holder:
        pass

    h = Holder()
    h.me = h  # a reference cycle: only the cyclic collector frees it
    h.widget = QLabel("left behind")
    return weakref.ref(h)


def test_a_worker_thread_never_frees_the_window_garbage_the_gui_thread_does(qtbot) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    was_enabled = gc.isenabled()
    collector = MainThreadCollector(owner).start()
    try:
        assert not gc.isenabled()
        ref = _cycle_holding_a_widget()

        def worker() -> None:  # allocates far past every automatic threshold
            junk = [[i] for i in range(300_000)]
            del junk

        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert ref() is not None, "collected off the GUI thread"
        for _ in range(collector._full_every):  # one full round of ticks
            collector.collect()
        assert ref() is None
        qtbot.waitUntil(lambda: collector.timer.isActive(), timeout=1000)
    finally:
        collector.stop()
    assert gc.isenabled() == was_enabled
