"""Replay reproduces the live beats; a killed replay-with-recording leaves a readable file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from biofeedback.beats import Beat
from biofeedback.cli import main
from biofeedback.session_reader import SessionReader
from biofeedback.sources import parse_speed
from biofeedback.sources.replay import ReplaySource, session_beats

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def test_replay_reproduces_the_recorded_beats_exactly():
    with SessionReader(DYAD) as r:
        stored = r.recorded_beats()
    replayed = session_beats(DYAD)
    assert (
        sorted((b for bs in replayed.values() for b in bs), key=lambda b: (b.seq, b.role, b.index))
        == stored
    )


def test_replay_command_says_the_beats_are_identical(capsys):
    with SessionReader(DYAD) as r:
        n = len(r.recorded_beats())
    assert main(["replay", str(DYAD), "--no-ui", "--speed", "max", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"beats identical to those recorded live: yes ({n} replayed, {n} recorded)" in out


async def _collect(source):
    return [i async for i in source]


def test_async_replay_at_speed_paces_items():
    import asyncio

    source = ReplaySource(DYAD, speed=parse_speed("200"), duration_s=20.0)
    t0 = time.monotonic()
    items = asyncio.run(_collect(source))
    elapsed = time.monotonic() - t0
    assert items and max(i.t_s for i in items) <= 20.0
    # 20 s of session at 200x cannot finish in less than 0.1 s of wall time.
    assert elapsed >= 20.0 / 200 * 0.9
    assert any(isinstance(i, Beat) for i in items)


def test_record_of_a_replay_survives_sigkill(tmp_path, capsys):
    out = tmp_path / "out.session"
    speed = 10.0
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "biofeedback",
            "replay",
            str(DYAD),
            "--no-ui",
            "--quiet",
            "--speed",
            str(speed),
            "--record",
            str(out),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stderr is not None
    proc.stderr.readline()  # "replaying ... recording to ..." just before the first item
    started = time.monotonic()
    time.sleep(3.0)
    proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    # The session time replayed by the kill, at most; everything up to one wall second
    # (10 s of session time) before it must be in the file.
    replayed_until = (killed - started) * speed
    with SessionReader(out) as r:
        packets = list(r.packets())
    with SessionReader(DYAD) as r:
        original = list(r.packets())
    assert packets == original[: len(packets)]  # exact bytes, nothing altered
    assert packets[-1].t_s >= replayed_until - speed * 1.0
    assert main(["analyze", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["participants"]) == {"therapist", "client"}
    assert result["participants"]["client"]["n_beats"] > 0


def test_playback_clock_slips_instead_of_running_ahead_of_the_data():
    import asyncio

    from biofeedback.sources import PlaybackClock

    async def play() -> list[tuple[float, float]]:
        clock = PlaybackClock(speed=10.0)
        seen = []
        for t_s in (0.0, 1.0, 2.0, 3.0):
            await clock.wait_until(t_s)
            if t_s == 1.0:
                time.sleep(1.0)  # a stall: 10 s of session time at 10x, far beyond SLIP_S
            now = clock.now()
            assert now is not None
            seen.append((t_s, now))
        return seen

    seen = asyncio.run(play())
    # During the stall the clock stops SLIP_S (wall) past the item being processed, instead of
    # the 10 s it would have run; afterwards the items are handed out from there on.
    for t_s, now in seen:
        assert t_s - 1e-9 <= now <= t_s + 10.0 * PlaybackClock.SLIP_S + 1e-9, seen
    # Shown time never steps back.
    shown = [now for _, now in seen]
    assert shown == sorted(shown)


def test_hold_at_end_keeps_the_session_running_at_its_duration_until_stopped():
    """For --screenshot: the window is saved during the session at --duration, not after it
    has ended (straps "ended", pacer stopped). The replay holds there until stopped."""
    from biofeedback.beats import EventKind
    from biofeedback.session import SessionController

    for speed in (None, 40.0):
        source = ReplaySource(DYAD, speed=speed, duration_s=20.0, hold_at_end=True)
        ctl = SessionController(source).start()
        try:
            deadline = time.monotonic() + 20.0
            while not source.holding and time.monotonic() < deadline:
                time.sleep(0.02)
            assert source.holding, speed
            time.sleep(0.3)  # held: the clock stays at 20 s and nothing ends
            assert ctl.running and not ctl.wait(0)
            assert 19.0 <= ctl.session_time() <= 20.0
            assert ctl.snapshot().state == "running"
            events, _ = ctl.events_since(0)
            assert all(e.kind != EventKind.END for e in events)
        finally:
            ctl.stop()
        assert ctl.wait(5.0) and ctl.snapshot().state == "ended"
