"""Faults end to end (issue 14, item 6): killed recordings, a session clock that jumps, and a
disk that fills up while a session runs."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from biofeedback import gatt
from biofeedback.beats import Beat, Event, EventKind, Packet
from biofeedback.cli import main
from biofeedback.session import SessionController
from biofeedback.sources.replay import ReplaySource, iter_session
from biofeedback.store import SessionReader, SessionWriter

ROOT = Path(__file__).resolve().parents[2]
DYAD = ROOT / "sample_data" / "dyad_session.session"
SOLO = ROOT / "sample_data" / "solo_paced.session"

# One interpreter imports the program once, then forks a child per kill: each child runs the
# CLI (`replay --record`) and is SIGKILLed at a random moment. Forking keeps 20 kills cheap.
KILLER = textwrap.dedent(
    """
    import json, os, random, signal, sys, time
    from biofeedback.cli import main
    src, out_dir, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    # Warm up once, so every child starts with everything imported.
    main(["replay", src, "--speed", "max", "--quiet", "--duration", "5"])
    done = []
    for i in range(n):
        out = os.path.join(out_dir, f"killed_{i}.session")
        pid = os.fork()
        if pid == 0:
            try:
                main(["replay", src, "--speed", "40", "--quiet", "--record", out])
            finally:
                os._exit(0)
        # A random moment of the recording: once the file exists, up to 1.5 s into it.
        deadline = time.monotonic() + 30
        while not os.path.exists(out) and time.monotonic() < deadline:
            time.sleep(0.01)
        delay = rng.uniform(0.0, 1.5)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        done.append({"out": out, "delay_s": delay})
    print(json.dumps(done))
    """
)


@pytest.mark.slow
def test_twenty_sigkills_at_random_moments_leave_readable_prefixes(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(DYAD), str(tmp_path), "20", "14"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=240,
        check=True,
    )
    kills = json.loads(proc.stdout.splitlines()[-1])
    assert len(kills) == 20
    with SessionReader(DYAD) as r:
        original = list(r.packets())
    with_data = 0
    for k in kills:
        path = Path(k["out"])
        with SessionReader(path) as r:  # opens, WAL and all, without changing the file
            got = list(r.packets())
            assert r.meta["source"] == "simulator"
        # Everything committed is there, in order, exactly as recorded: a prefix.
        assert got == original[: len(got)], path
        with_data += bool(got)
    # Kills in the first half second (before the first commit) leave the bare session.
    assert with_data >= 6, kills


def _session_with_clock_jumps(path: Path) -> None:
    payload = gatt.encode(gatt.measurement(60, [1000.0]))
    times = [1.0 + k for k in range(120)]  # 2 minutes, one beat a second
    times += [3600.0 + 121 + k for k in range(120)]  # the machine slept for an hour
    times += [times[-1] - 30.0 + k for k in range(1, 60)]  # then the clock stepped back 30 s
    with SessionWriter(path, {"roles": ["solo"], "source": "ble"}) as w:
        w.write_event(Event(0.0, EventKind.CONNECT, "solo", {}))
        for seq, t in enumerate(times):
            w.write_packet(Packet(t, "solo", payload, seq))


def test_a_session_clock_jump_is_a_gap_never_a_giant_or_negative_interval(tmp_path, capsys):
    path = tmp_path / "slept.session"
    _session_with_clock_jumps(path)
    items = list(iter_session(path))
    beats = [i for i in items if isinstance(i, Beat)]
    gaps = [i for i in items if isinstance(i, Event) and i.kind == EventKind.GAP]
    assert len(beats) == 299
    assert all(b.rr_ms == 1000.0 for b in beats)  # no interval spans the sleep
    assert all(b.t_s > a.t_s for a, b in itertools.pairwise(beats))  # never backwards
    assert len(gaps) == 1 and gaps[0].data["end_s"] - gaps[0].data["start_s"] > 3500
    assert any(i.kind == EventKind.RESYNC for i in items if isinstance(i, Event))
    assert main(["analyze", str(path), "--json"]) == 0
    solo = json.loads(capsys.readouterr().out)["participants"]["solo"]
    assert solo["n_beats"] == 299 and solo["mean_rr_ms"] == pytest.approx(1000.0)
    assert solo["rmssd_ms"] == pytest.approx(0.0)


def test_a_full_disk_stops_the_recording_with_one_message_and_the_view_goes_on(
    tmp_path, monkeypatch
):
    from biofeedback.terminal import render_snapshot

    real_write = SessionWriter.write_packet
    written = []

    def fills_up(self, p):
        if len(written) >= 40:
            raise sqlite3.OperationalError("database or disk is full")
        real_write(self, p)
        written.append(p.seq)

    monkeypatch.setattr(SessionWriter, "write_packet", fills_up)
    out = tmp_path / "full.session"
    with SessionController(ReplaySource(SOLO, speed=None), record_to=out) as ctl:
        assert ctl.wait(60)
    snap = ctl.snapshot()
    assert ctl.error is None and snap.state == "ended"
    # The live values went on to the end of the session ...
    with SessionReader(SOLO) as r:
        n_live = len(r.recorded_beats())
    assert sum(p.n_beats for p in snap.participants.values()) == n_live
    # ... with one clear line for every view ...
    assert snap.message is not None and "\n" not in snap.message
    assert "recording stopped" in snap.message and "disk is full" in snap.message
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(render_snapshot(snap))
    assert "recording stopped" in console.export_text()
    # ... and what was written before stays readable.
    with SessionReader(out) as r:
        assert [p.seq for p in r.packets()] == written


def test_garbage_bytes_and_absurd_rr_are_kept_raw_and_never_become_beats(tmp_path, capsys):
    good = gatt.encode(gatt.measurement(60, [1000.0]))
    garbage = [b"", b"\x10", b"\xff" * 30, b"\x19\x4b"]  # empty, flags only, junk, cut short
    absurd = [bytes([0x10, 60, 0x00, 0x00]), bytes([0x10, 60, 0xFF, 0xFF])]  # 0 ms and 64 s
    payloads = []
    for k in range(120):
        payloads.append(good)
        if k % 20 == 10:
            payloads += garbage + absurd
    src = tmp_path / "noisy.session"
    with SessionWriter(src, {"roles": ["solo"], "source": "ble"}) as w:
        for seq, payload in enumerate(payloads):
            w.write_packet(Packet(1.0 + 0.5 * seq, "solo", payload, seq))
    out = tmp_path / "copy.session"
    argv = ["replay", str(src), "--speed", "max", "--quiet", "--record", str(out)]
    assert main(argv) == 0  # the session runs to its end
    with SessionReader(src) as a, SessionReader(out) as b:
        assert list(b.packets()) == list(a.packets())  # stored unchanged, garbage included
        malformed = [e for e in b.events(derived=True) if e.kind == EventKind.MALFORMED]
    assert len(malformed) == 6 * len(garbage + absurd)  # each one reported, none fatal
    beats = [i for i in iter_session(out) if isinstance(i, Beat)]
    assert len(beats) == 120 and {b.rr_ms for b in beats} == {1000.0}
    capsys.readouterr()
