"""The session store: round trip, permissions, clear errors, and survival of SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from biofeedback import gatt
from biofeedback.beats import Beat, Event, EventKind, NotificationDecoder, Packet
from biofeedback.session_reader import SessionReader
from biofeedback.store import SCHEMA_VERSION, SessionFileError, SessionWriter

ROOT = Path(__file__).resolve().parents[2]


def _packets(n, role="solo", start_seq=0):
    return [
        Packet(1.0 + k, role, gatt.encode(gatt.measurement(60, [1000.0])), start_seq + k)
        for k in range(n)
    ]


def test_round_trip_of_packets_events_beats_and_meta(tmp_path):
    path = tmp_path / "s.session"
    dec = NotificationDecoder()
    items = []
    for p in _packets(3, "therapist"):
        items.append(p)
        items += dec.feed(p)
    marker = Event(2.5, EventKind.MARKER, None, {"text": "breathing starts"})
    with SessionWriter(
        path,
        {"roles": ["therapist"], "settings": {"x": 1}},
        {"therapist": {"name": "Polar H10 1234"}},
    ) as w:
        w.write_all(items[:4])
        w.write(marker)
        w.write_all(items[4:])
    with SessionReader(path) as r:
        assert r.roles == ("therapist",)
        assert r.meta["settings"] == {"x": 1}
        assert r.meta["schema_version"] == SCHEMA_VERSION
        assert r.participants == {"therapist": {"name": "Polar H10 1234"}}
        assert list(r.packets()) == [i for i in items if isinstance(i, Packet)]
        assert r.recorded_beats() == [i for i in items if isinstance(i, Beat)]
        raw = list(r.raw_items())
        # The marker was written after the second packet and stays there.
        assert [type(i).__name__ for i in raw] == ["Packet", "Packet", "Event", "Packet"]
        assert raw[2] == marker
        assert r.duration_s == 3.0


def test_files_are_readable_by_the_user_alone(tmp_path):
    path = tmp_path / "private.session"
    w = SessionWriter(path, {"roles": ["solo"]})
    w.write_all(_packets(2))
    w.flush()
    for f in [path, Path(f"{path}-wal")]:
        if f.exists():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    w.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not Path(f"{path}-wal").exists()  # a clean close leaves one self-contained file


def test_an_existing_recording_is_never_overwritten(tmp_path):
    path = tmp_path / "s.session"
    with SessionWriter(path, {"roles": ["solo"]}) as w:
        w.write_all(_packets(2))
    with pytest.raises(SessionFileError, match="exists"):
        SessionWriter(path, {"roles": ["solo"]})
    with SessionReader(path) as r:
        assert len(list(r.packets())) == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "not an SQLite"),
        (b"0.8\n0.9\n", "not an SQLite"),
        (b"SQLite format 3\x00" + b"\x00" * 50, "not a session"),
    ],
)
def test_not_a_session_file(tmp_path, content, words):
    path = tmp_path / "bad.session"
    path.write_bytes(content)
    with pytest.raises(SessionFileError, match=words) as info:
        SessionReader(path)
    assert str(path) in str(info.value)


def test_sqlite_file_of_another_program(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(SessionFileError, match="not a session file"):
        SessionReader(path)


def test_newer_schema_is_refused_with_advice(tmp_path):
    path = tmp_path / "future.session"
    with SessionWriter(path, {"roles": ["solo"]}) as w:
        w.write_all(_packets(1))
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (json.dumps(99),))
    db.commit()
    db.close()
    with pytest.raises(SessionFileError, match="newer than this program reads"):
        SessionReader(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SessionFileError, match="no such file"):
        SessionReader(tmp_path / "nope.session")
    with pytest.raises(SessionFileError, match="folder"):
        SessionReader(tmp_path)


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from biofeedback import gatt
    from biofeedback.beats import Packet
    from biofeedback.store import SessionWriter
    w = SessionWriter(sys.argv[1], {"roles": ["solo"]})
    payload = gatt.encode(gatt.measurement(60, [1000.0]))
    seq = 0
    while True:
        w.write_packet(Packet(time.monotonic(), "solo", payload, seq))
        print(seq, time.monotonic(), flush=True)
        seq += 1
        time.sleep(0.02)
    """
)


def test_a_file_left_by_sigkill_is_readable_with_at_most_a_second_lost(tmp_path):
    path = tmp_path / "killed.session"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    written = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seq, t = line.split()
        written.append((int(seq), float(t)))
        if written[-1][1] - written[0][1] > 2.5:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Everything the writer had reported by the kill, except its last second, is in the file.
    last_t = written[-1][1]
    must_have = [s for s, t in written if t <= last_t - 1.0]
    assert must_have
    with SessionReader(path) as r:
        seqs = [p.seq for p in r.packets()]
    assert seqs == list(range(len(seqs)))
    assert max(seqs) >= max(must_have)


def test_a_failing_consumer_never_stops_the_recording(tmp_path, caplog):
    import asyncio

    from biofeedback.recorder import record_source
    from biofeedback.sources.replay import ReplaySource

    sample = ROOT / "sample_data" / "solo_paced.session"
    calls = []

    def broken(item):
        calls.append(item)
        raise RuntimeError("display fell over")

    out = tmp_path / "copy.session"
    with SessionWriter(out, {"roles": ["solo"]}) as w:
        stats = asyncio.run(record_source(ReplaySource(sample), w, [broken]))
    with SessionReader(sample) as a, SessionReader(out) as b:
        assert list(a.packets()) == list(b.packets())
    assert stats.consumer_errors == len(calls) > 100
    assert "recording goes on" in caplog.text


def test_a_damaged_file_is_named_and_left_unchanged(tmp_path):
    sample = ROOT / "sample_data" / "dyad_session.session"
    data = bytearray(sample.read_bytes())
    data[60000:63000] = b"\xab" * 3000  # garbage over a page of packets
    bad = tmp_path / "damaged.session"
    bad.write_bytes(bytes(data))
    with pytest.raises(SessionFileError, match="damaged") as info:
        SessionReader(bad)
    assert str(bad) in str(info.value)
    assert bad.read_bytes() == bytes(data)
