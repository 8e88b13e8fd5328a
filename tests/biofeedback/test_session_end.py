"""Once a session is over, no strap is read: each person's strap state says so.

A replay's recording says "connected" (the straps were connected when it was made) and a live
strap's last state is "stopped"; after the session ends (by itself or by ``stop``) the snapshot,
and so the dashboard and the terminal view, read "ended".
"""

from __future__ import annotations

import io
import time

from rich.console import Console

from biofeedback.session import SessionController
from biofeedback.sources.replay import ReplaySource
from biofeedback.terminal import render_snapshot

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def _strap_states(ctl: SessionController) -> dict[str, str]:
    return {role: p.strap.state for role, p in ctl.snapshot().participants.items()}


def test_a_replay_that_reaches_its_end_reads_ended(tmp_path):
    ctl = SessionController(ReplaySource(DYAD, speed=None, duration_s=45.0)).start()
    assert ctl.wait(30.0)
    ctl.stop()
    snap = ctl.snapshot()
    assert snap.state == "ended"
    assert _strap_states(ctl) == {"therapist": "ended", "client": "ended"}
    # The terminal view shows the same.
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(render_snapshot(ctl.snapshot()))
    text = console.export_text()
    rows = [line.split() for line in text.splitlines()]
    assert [r[:2] for r in rows if r[:1] in (["therapist"], ["client"])] == [
        ["therapist", "ended"],
        ["client", "ended"],
    ]


def test_a_session_stopped_early_reads_ended():
    ctl = SessionController(ReplaySource(DYAD, speed=1.0)).start()
    deadline = time.monotonic() + 10.0
    while not ctl.snapshot().participants and time.monotonic() < deadline:
        time.sleep(0.05)
    running = _strap_states(ctl)
    assert running and "ended" not in running.values()  # while running: the recorded state
    ctl.stop()
    assert ctl.snapshot().state == "ended"
    assert set(_strap_states(ctl).values()) == {"ended"}
