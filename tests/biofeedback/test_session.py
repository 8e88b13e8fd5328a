"""The session controller: one worker thread, snapshots and events read from another."""

from __future__ import annotations

import itertools
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from biofeedback.beats import Event, EventKind
from biofeedback.engine import Engine
from biofeedback.session import SessionController
from biofeedback.session_reader import SessionReader
from biofeedback.sources.replay import ReplaySource, iter_session
from hrv.pacer import PacerSettings

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"

PERSON_VALUES = (
    "n_beats",
    "hr_bpm",
    "mean_hr_bpm",
    "rmssd_ms",
    "rmssd_extra_ms",
    "burden_pct",
    "rsa_amplitude_ms",
    "coherence_ratio",
    "breathing_rate_bpm",
    "gaps",
)


def _same(a, b) -> bool:
    return (a == b) or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def _check_lengths(snap) -> None:
    for p in snap.participants.values():
        b = p.beats
        assert (
            len({b.t_s.size, b.rr_ms.size, b.hr_bpm.size, b.artifact.size, b.after_gap.size}) == 1
        )
        assert b.t_s.dtype == np.float64 and np.all(np.diff(b.t_s) >= 0)
        s = p.series
        cols = [getattr(s, f) for f in s.__dataclass_fields__]
        assert len({c.size for c in cols}) == 1
    h = snap.synchrony_history
    assert len({getattr(h, f).size for f in h.__dataclass_fields__}) == 1


@pytest.mark.slow
def test_max_speed_replay_read_at_30_hz_equals_a_batch_run(tmp_path):
    out = tmp_path / "copy.session"
    ctl = SessionController(ReplaySource(DYAD, speed=None), record_to=out).start()
    snaps, events, cursor = [], [], 0
    early = None
    while True:
        done = ctl.wait(0)
        snap = ctl.snapshot()
        snaps.append(snap)
        new, cursor = ctl.events_since(cursor)
        events.extend(new)
        if early is None and snap.participants["client"].series.t_s.size > 30:
            early = snap
            early_copy = early.participants["client"].series.rmssd_ms.copy()
            early_beats = early.participants["client"].beats.t_s.copy()
        if done:
            break
        time.sleep(1 / 30)
    ctl.stop()
    assert ctl.error is None and not ctl.interrupted
    assert len(snaps) > 20  # really read while it ran
    versions = [s.version for s in snaps]
    assert versions == sorted(versions) and versions[-1] > versions[0]
    for s in snaps:
        _check_lengths(s)
    for a, b in itertools.pairwise(snaps):  # the series only grow
        for role in a.participants:
            assert b.participants[role].series.t_s.size >= a.participants[role].series.t_s.size
    # A snapshot held on to never changes afterwards.
    assert early is not None
    np.testing.assert_array_equal(early.participants["client"].series.rmssd_ms, early_copy)
    np.testing.assert_array_equal(early.participants["client"].beats.t_s, early_beats)

    # Every event, in order, exactly as written to the file.
    with SessionReader(out) as r:
        stored = r.events()
    assert len(events) == len(stored)
    assert [(e.kind, e.role, e.t_s) for e in events] == [(e.kind, e.role, e.t_s) for e in stored]
    assert events[-1].kind == EventKind.END

    # Final values equal a plain run of the engine over the same items.
    batch = Engine(("therapist", "client"))
    for item in iter_session(DYAD):
        batch.feed(item)
    # End where the session ended: the source's end event (the last notification's arrival),
    # which can be later than the last beat; Engine.finish() would end at the last beat.
    batch.feed(events[-1])
    want, got = batch.snapshot(), ctl.snapshot()
    assert got.state == "ended"
    for role in ("therapist", "client"):
        w, g = want.participants[role], got.participants[role]
        for key in PERSON_VALUES:
            assert _same(getattr(g, key), getattr(w, key)), (role, key)
        for f in w.series.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(g.series, f), getattr(w.series, f))
        np.testing.assert_array_equal(g.beats.rr_ms, w.beats.rr_ms)
        np.testing.assert_array_equal(g.beats.artifact, w.beats.artifact)
    for f in want.synchrony_history.__dataclass_fields__:
        np.testing.assert_array_equal(
            getattr(got.synchrony_history, f), getattr(want.synchrony_history, f)
        )
    # The whole session is there once a second: 10 minutes, two people.
    assert got.participants["client"].series.t_s.size == pytest.approx(600, abs=25)
    assert got.synchrony_history.t_s.size == pytest.approx(600, abs=25)


def test_commands_from_another_thread_are_recorded_and_listeners_cannot_break_it(tmp_path):
    out = tmp_path / "s.session"
    seen = []

    def broken(item):
        raise RuntimeError("a listener that fails")

    ctl = SessionController(ReplaySource(DYAD, speed=20.0, duration_s=20.0), record_to=out)
    ctl.add_listener(broken)
    ctl.add_listener(seen.append)
    ctl.start()
    ctl.set_pacer(6.0)
    ctl.add_marker("breathing together")
    ctl.set_pacer(None)
    ctl.connect("client")  # a recording has no straps: refused in words, not a crash
    assert ctl.wait(20.0)
    ctl.stop()
    snap = ctl.snapshot()
    assert snap.state == "ended" and snap.message == "ReplaySource has no devices to connect"
    with SessionReader(out) as r:
        mine = [e for e in r.events() if e.kind in (EventKind.PACER, EventKind.MARKER)]
        n_packets = len(list(r.packets()))
    assert [(e.kind, dict(e.data)) for e in mine] == [
        (EventKind.PACER, PacerSettings(6.0).to_dict()),
        (EventKind.MARKER, {"text": "breathing together"}),
        (EventKind.PACER, {"rate_bpm": 0.0}),
    ]
    assert snap.pacer_bpm is None
    assert sum(isinstance(i, Event) and i.kind == EventKind.MARKER for i in seen) == 1
    assert ctl.stats.packets == n_packets > 0
    assert ctl.stats.consumer_errors == len(seen)  # the broken one failed on every item
    with pytest.raises(ValueError, match="1-30 breaths per minute"):
        ctl.set_pacer(45.0)


def test_stop_ends_a_slow_replay_at_once_and_closes_the_file(tmp_path):
    out = tmp_path / "s.session"
    ctl = SessionController(ReplaySource(DYAD, speed=1.0), record_to=out).start()
    time.sleep(0.5)
    t0 = time.monotonic()
    ctl.stop()
    assert time.monotonic() - t0 < 2.0
    assert ctl.interrupted and not ctl.running
    assert ctl.snapshot().state == "ended"
    with SessionReader(out) as r:
        assert r.events()[-1].kind == EventKind.END
    assert not (tmp_path / "s.session-wal").exists()  # closed cleanly


def test_a_damaged_recording_becomes_a_message_not_a_crash(tmp_path):
    bad = tmp_path / "bad.session"
    bad.write_bytes(DYAD.read_bytes())
    source = ReplaySource(bad, speed=None)
    bad.write_bytes(b"not a session any more")
    ctl = SessionController(source).start()
    assert ctl.wait(10.0)
    ctl.stop()
    snap = ctl.snapshot()
    assert snap.state == "failed"
    assert "not a session file" in snap.message
    assert ctl.error is not None


@pytest.mark.slow
def test_sigterm_ends_a_recording_replay_cleanly(tmp_path):
    """SIGTERM (and Ctrl-C, the same handler) stops the session and closes the file."""
    out = tmp_path / "out.session"
    argv = ["replay", str(DYAD), "--quiet", "--speed", "20", "--record", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "biofeedback", *argv],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stderr is not None
    proc.stderr.readline()  # "replaying ..." just before the session starts
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "(stopped early)" in stdout
    assert not (tmp_path / "out.session-wal").exists()  # closed: WAL checkpointed and gone
    with SessionReader(out) as r:
        events = r.events()
        packets = list(r.packets())
    with SessionReader(DYAD) as r:
        original = list(r.packets())
    assert events[-1].kind == EventKind.END
    assert 0 < len(packets) < len(original) and packets == original[: len(packets)]
