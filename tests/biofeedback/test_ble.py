"""Straps over bleak, tested against virtual straps on a real Bluetooth host stack (bumble).

The product code runs unchanged: bleak's public ``BleakScanner`` / ``BleakClient`` are called
with a backend (``tests/support/bumble_backend.py``) whose scanner and client talk to bumble
controllers on an in-process link. Nothing of bleak's public API is mocked.

Source tests run the session clock 8 times faster than wall time (``clock=``), so a strap
script paced at real RR intervals takes an eighth of the time while beat timing sees the same
numbers as a live session.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bleak")
pytest.importorskip("bumble")

from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

from biofeedback import cli
from biofeedback.beats import Beat, Event, EventKind, Packet
from biofeedback.ble_backend import BleBackend
from biofeedback.paths import new_session_path, user_data_dir
from biofeedback.session import SessionController
from biofeedback.session_reader import SessionReader
from biofeedback.sources.ble import BleSource, ConnectionState, ReconnectPolicy
from biofeedback.straps import BluetoothUnavailable, bluetooth_unavailable, scan
from hrv.pacer import PacerSettings

from ..support.bumble_backend import StrapSpec, VirtualRadio, load_script

SPEED = 8.0

# design.md section 5: value bytes -> (HR, RR in ms), decoded by hand from the spec layout.
H10 = [
    ("103b5304", 59, [1081.055]),
    ("10482c03", 72, [792.969]),
    ("10495e039603", 73, [841.797, 896.484]),
    ("16468a034403", 70, [884.766, 816.406]),
]
H7 = [
    ("104ed202c802", 78, [705.078, 695.312]),
    ("164d1603", 77, [771.484]),
    ("194b0034120004", 75, [1000.0]),  # u16 HR, energy 4660 kJ
    ("1040", 64, []),  # RR flag without RR bytes
]

ADDR_A = "C1:00:00:00:00:0A"
ADDR_B = "C1:00:00:00:00:0B"
ADDR_C = "C1:00:00:00:00:0C"
FAST_POLICY = ReconnectPolicy(
    scan_timeout_s=2.0, connect_timeout_s=2.0, backoff_initial_s=0.05, backoff_max_s=0.2
)


def fast_clock() -> float:
    return time.monotonic() * SPEED


def paced(captures: Sequence[tuple[str, int, list[float]]], speed: float = SPEED) -> list[dict]:
    """Script steps sending each capture after its own RR time (a strap notifies after beats)."""
    steps = []
    for hexbytes, _hr, rr in captures:
        steps.append({"notify": hexbytes, "after_s": (sum(rr) or 1000.0) / 1000.0 / speed})
    return steps


def strap(name: str, address: str, script: list[dict], **kw: Any) -> StrapSpec:
    return StrapSpec(name=name, address=address, script=script, **kw)


async def run_source(
    radio: VirtualRadio,
    targets: dict[str, str],
    *,
    policy: ReconnectPolicy = FAST_POLICY,
    stop_when_scripts_done: bool = True,
    timeout_s: float = 20.0,
) -> tuple[BleSource, list[Any]]:
    src = BleSource(targets, backend=radio.backend(), policy=policy, clock=fast_clock)
    items: list[Any] = []

    async def consume() -> None:
        async for item in src:
            items.append(item)

    async with asyncio.timeout(timeout_s):
        task = asyncio.get_running_loop().create_task(consume())
        if stop_when_scripts_done:
            while len(radio.straps) < len(radio.specs):
                await asyncio.sleep(0.01)
            for s in radio.straps.values():
                await s.script_done.wait()
            await asyncio.sleep(0.1)
            src.stop()
        await task
    return src, items


def of(items: list[Any], cls: type, role: str | None = None, kind: str | None = None) -> list:
    out = [i for i in items if isinstance(i, cls) and (role is None or i.role == role)]
    if kind is not None:
        out = [e for e in out if e.kind == kind]
    return out


def states(items: list[Any], role: str) -> list[str]:
    return [e.data["state"] for e in of(items, Event, role, EventKind.STATE)]


# -- scanning ------------------------------------------------------------------------------


def test_scan_finds_heart_rate_straps_only_sorted_by_signal():
    radio = VirtualRadio(
        [
            strap("Polar H10 A", ADDR_A, [], rssi_dbm=-71),
            strap("TICKR B", ADDR_B, [], rssi_dbm=-44),
            strap("Kettle", ADDR_C, [], rssi_dbm=-30, advertise_heart_rate=False),
        ]
    )

    async def go() -> list:
        await radio.start()
        return await scan(0.3, backend=radio.backend())

    found = asyncio.run(go())
    assert [(s.name, s.address, s.rssi_dbm) for s in found] == [
        ("TICKR B", ADDR_B, -44),
        ("Polar H10 A", ADDR_A, -71),
    ]


def test_scan_command_json_with_virtual_straps(tmp_path, capsys):
    script = tmp_path / "straps.json"
    script.write_text(
        json.dumps(
            {
                "straps": [
                    {"name": "A", "address": ADDR_A, "rssi_dbm": -80},
                    {"name": "B", "address": ADDR_B, "rssi_dbm": -50},
                ]
            }
        )
    )
    backend = load_script(script).backend()
    assert cli.main(["scan", "--timeout", "0.3", "--json"], backend=backend) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {"name": "B", "address": ADDR_B, "rssi_dbm": -50},
        {"name": "A", "address": ADDR_A, "rssi_dbm": -80},
    ]


@pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or Path("/run/dbus/system_bus_socket").exists()
    or Path("/var/run/dbus/system_bus_socket").exists(),
    reason="needs a Linux machine without a D-Bus system bus (no BlueZ), like CI",
)
def test_scan_without_bluez_says_what_to_do(monkeypatch, capsys):
    monkeypatch.delenv("DBUS_SYSTEM_BUS_ADDRESS", raising=False)
    assert cli.main(["scan", "--timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "BlueZ" in err and "systemctl start bluetooth" in err


def test_bluetooth_errors_become_one_sentence():
    off = bluetooth_unavailable(
        BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF)
    )
    assert isinstance(off, BluetoothUnavailable) and "turned off" in str(off)
    none = bluetooth_unavailable(
        BleakBluetoothNotAvailableError("none", BleakBluetoothNotAvailableReason.NO_BLUETOOTH)
    )
    assert none is not None and "adapter" in str(none)
    denied = bluetooth_unavailable(
        BleakBluetoothNotAvailableError("no", BleakBluetoothNotAvailableReason.DENIED_BY_USER)
    )
    assert denied is not None and ("Bluetooth" in str(denied) or "bluetooth" in str(denied))
    bluez = bluetooth_unavailable(BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []))
    assert bluez is not None and "not running" in str(bluez)
    # One failed connection is not "Bluetooth unavailable": it is retried.
    assert bluetooth_unavailable(BleakError("failed to discover services")) is None
    assert bluetooth_unavailable(BleakDBusError("org.bluez.Error.Failed", [])) is None
    assert bluetooth_unavailable(TimeoutError()) is None


# -- two straps ----------------------------------------------------------------------------


def test_two_straps_connected_and_decoded_per_participant():
    radio = VirtualRadio(
        [
            strap(
                "Polar H10 T",
                ADDR_A,
                paced(H10),
                battery_pct=81,
                body_location=1,
                manufacturer="Polar Electro Oy",
                model="H10",
                firmware="5.0.0",
            ),
            strap("Polar H7 C", ADDR_B, paced(H7), battery_pct=55, body_location=2),
        ]
    )
    src, items = asyncio.run(run_source(radio, {"therapist": ADDR_A, "client": ADDR_B}))

    for role, captures, addr in (("therapist", H10, ADDR_A), ("client", H7, ADDR_B)):
        packets = of(items, Packet, role)
        assert [p.payload.hex() for p in packets] == [c[0] for c in captures]
        beats = of(items, Beat, role)
        expected_rr = [rr for c in captures for rr in c[2]]
        assert [round(b.rr_ms, 3) for b in beats] == expected_rr
        assert [b.index for b in beats] == list(range(len(expected_rr)))
        assert states(items, role)[:3] == ["scanning", "connecting", "connected"]
        assert states(items, role)[-1] == "stopped"
        assert len(of(items, Event, role, EventKind.CONNECT)) == 1
        assert not of(items, Event, role, EventKind.GAP)
        assert not of(items, Event, role, EventKind.RESYNC)
        assert src.participants[role]["address"] == addr
        assert src.decoder.last_measurement[role].heart_rate_bpm == captures[-1][1]

    assert src.participants["therapist"] == {
        "address": ADDR_A,
        "name": "Polar H10 T",
        "battery_pct": 81,
        "body_location": "chest",
        "manufacturer": "Polar Electro Oy",
        "model": "H10",
        "firmware": "5.0.0",
    }
    assert src.participants["client"]["battery_pct"] == 55
    assert src.participants["client"]["body_location"] == "wrist"
    # One sequence over both straps, increasing, and the session clock never runs backwards.
    seqs = [p.seq for p in of(items, Packet)]
    assert seqs == list(range(len(seqs)))
    times = [p.t_s for p in of(items, Packet)]
    assert times == sorted(times)


def test_drop_and_reconnect_records_a_gap_without_duplicates_other_strap_unaffected():
    first = H10[:3]
    after = [H10[0], *H10[1:]]
    therapist_script = [
        *paced(first),
        {"drop": True, "after_s": 0.05, "away_s": 0.4},
        # Right after the reconnect the first notification arrives twice (bleak issue 2002).
        {**paced(after[:1])[0], "repeat": 2},
        *paced(after[1:]),
    ]
    client_captures = [H10[1]] * 16  # keeps notifying while the therapist's strap is away
    radio = VirtualRadio(
        [
            strap("T", ADDR_A, therapist_script),
            strap("C", ADDR_B, paced(client_captures)),
        ]
    )
    src, items = asyncio.run(run_source(radio, {"therapist": ADDR_A, "client": ADDR_B}))
    t_strap = radio.strap(ADDR_A)
    assert t_strap.drops == 1
    assert len(t_strap.sent) == len(first) + len(after) + 1  # the duplicate was sent

    # Therapist: one disconnect, one gap, every notification once.
    packets = of(items, Packet, "therapist")
    assert [p.payload.hex() for p in packets] == [c[0] for c in first + after]
    assert src.links["therapist"].duplicates == 1
    disconnects = of(items, Event, "therapist", EventKind.DISCONNECT)
    assert [d.data["reason"] for d in disconnects] == ["link lost", "stopped by the user"]
    gaps = of(items, Event, "therapist", EventKind.GAP)
    assert len(gaps) == 1
    assert len(of(items, Event, "therapist", EventKind.CONNECT)) == 2
    s = states(items, "therapist")
    i = s.index("reconnecting")
    assert s[:i] == ["scanning", "connecting", "connected"]
    assert s[i:] == ["reconnecting", "scanning", "connecting", "connected", "stopped"]

    # Beat timing: cumulative RR within each connection, re-anchored after the gap, and no
    # interval spanning the gap (every beat carries an RR the strap sent).
    beats = of(items, Beat, "therapist")
    expected_rr = [rr for c in first + after for rr in c[2]]
    assert [round(b.rr_ms, 3) for b in beats] == expected_rr
    n_before = sum(len(c[2]) for c in first)
    before, resumed = beats[:n_before], beats[n_before:]
    for seg in (before, resumed):
        for a, b in itertools.pairwise(seg):
            assert b.t_s - a.t_s == pytest.approx(b.rr_ms / 1000.0, abs=1e-9)
    gap = gaps[0]
    assert gap.data["start_s"] == pytest.approx(before[-1].t_s)
    assert gap.data["end_s"] == pytest.approx(resumed[0].t_s - resumed[0].rr_ms / 1000.0)
    # The first beat after the gap ends at the arrival of its packet, on the same clock.
    first_back = next(p for p in packets if p.seq == resumed[0].seq)
    assert resumed[0].t_s == pytest.approx(first_back.t_s)
    assert first_back.t_s > disconnects[0].t_s > before[-1].t_s - 1.0

    # Client: untouched.
    assert [p.payload.hex() for p in of(items, Packet, "client")] == [c[0] for c in client_captures]
    assert len(of(items, Beat, "client")) == 16
    assert not of(items, Event, "client", EventKind.GAP)
    assert [d.data["reason"] for d in of(items, Event, "client", EventKind.DISCONNECT)] == [
        "stopped by the user"
    ]
    assert states(items, "client") == ["scanning", "connecting", "connected", "stopped"]


def test_strap_that_never_answers_times_out_and_is_lost():
    radio = VirtualRadio([strap("Asleep", ADDR_A, [], answers=False)])
    policy = ReconnectPolicy(
        scan_timeout_s=0.5, connect_timeout_s=0.4, backoff_initial_s=0.05, max_attempts=2
    )
    src, items = asyncio.run(
        run_source(
            radio,
            {"solo": ADDR_A, "client": ADDR_C},  # ADDR_C does not exist at all
            policy=policy,
            stop_when_scripts_done=False,
            timeout_s=15.0,
        )
    )
    assert states(items, "solo") == [
        "scanning",
        "connecting",
        "reconnecting",
        "scanning",
        "connecting",
        "lost",
    ]
    assert src.links["solo"].reason == "no answer within 0.4 s; gave up after 2 attempts"
    assert states(items, "client") == ["scanning", "reconnecting", "scanning", "lost"]
    assert src.links["client"].reason == (
        f"{ADDR_C} not seen within 0.5 s; gave up after 2 attempts"
    )
    assert not of(items, Event, kind=EventKind.CONNECT)
    assert not of(items, Packet)


def test_malformed_notifications_are_logged_counted_and_skipped(caplog):
    script = paced(
        [
            H10[0],
            ("10", 0, [1000.0]),  # flags only: no heart-rate byte
            ("11 48", 0, [1000.0]),  # 16-bit heart rate cut short
            ("10 48 2c", 0, [1000.0]),  # odd number of RR bytes
            H10[1],
            H10[2],
        ]
    )
    radio = VirtualRadio([strap("Glitchy", ADDR_A, script)])
    with caplog.at_level("WARNING", logger="biofeedback.beats"):
        src, items = asyncio.run(run_source(radio, {"solo": ADDR_A}))
    malformed = of(items, Event, "solo", EventKind.MALFORMED)
    assert [e.data["payload_hex"] for e in malformed] == ["10", "1148", "10482c"]
    assert src.decoder.malformed == {"solo": 3}
    assert sum("malformed notification" in r.getMessage() for r in caplog.records) == 3
    assert [round(b.rr_ms, 3) for b in of(items, Beat, "solo")] == [
        1081.055,
        792.969,
        841.797,
        896.484,
    ]
    assert states(items, "solo") == ["scanning", "connecting", "connected", "stopped"]


# -- the live session controller and the command ------------------------------------------


def _wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_live_session_thread_commands_and_snapshots(tmp_path):
    radio = VirtualRadio(
        [
            strap("T", ADDR_A, paced([H10[1]] * 6, speed=4.0), battery_pct=81, rssi_dbm=-52),
            strap("C", ADDR_B, paced([H7[1]] * 6, speed=4.0)),
        ]
    )
    out = tmp_path / "s.session"
    source = BleSource(
        {"therapist": ADDR_A, "client": ADDR_B}, backend=radio.backend(), policy=FAST_POLICY
    )
    session = SessionController(source, record_to=out)
    assert {p.strap.state for p in session.snapshot().participants.values()} == {"scanning"}
    session.start()
    people = lambda: session.snapshot().participants  # noqa: E731
    _wait_for(lambda: all(p.strap.state == "connected" for p in people().values()))
    session.set_pacer(PacerSettings(6.0, inhale_share=0.4))
    session.add_marker("start of breathing")
    _wait_for(lambda: people()["therapist"].n_beats >= 2)
    session.disconnect("client")
    _wait_for(lambda: people()["client"].strap.state == ConnectionState.STOPPED)
    snap = session.snapshot()
    assert snap.pacer_bpm == 6.0 and snap.pacer == PacerSettings(6.0, inhale_share=0.4)
    therapist = snap.participants["therapist"]
    assert therapist.hr_bpm == pytest.approx(60000 / 792.969, abs=1e-3)
    assert therapist.last_rr_ms == pytest.approx(792.969, abs=1e-3)
    assert therapist.strap.name == "T" and therapist.strap.battery_pct == 81
    assert therapist.strap.rssi_dbm == -52 and therapist.strap.address == ADDR_A
    assert snap.participants["client"].strap.name == "C"
    stats = session.stop()
    assert not session.running and session.error is None
    events, _ = session.events_since(0)
    assert sum(e.kind == EventKind.MARKER for e in events) == 1
    with SessionReader(out) as r:
        kinds = [e.kind for e in r.events(derived=False)]
        assert kinds.count(EventKind.PACER) == 1 and kinds.count(EventKind.MARKER) == 1
        pacer = next(e for e in r.events() if e.kind == EventKind.PACER)
        assert dict(pacer.data) == {
            "rate_bpm": 6.0,
            "inhale_share": 0.4,
            "hold_after_inhale_s": 0.0,
            "hold_after_exhale_s": 0.0,
        }
        assert pacer.role is None
        assert r.participants["therapist"]["name"] == "T"
        assert len(r.recorded_beats("therapist")) == stats.beats["therapist"]
        assert len(events) == len(r.events())  # every event reached the front end


class _RadioOffScanner(BaseBleakScanner):
    """A bleak scanner backend on a machine whose Bluetooth is switched off."""

    def __init__(self, detection_callback: Any, service_uuids: Any, *_a: Any, **_kw: Any) -> None:
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        raise BleakBluetoothNotAvailableError(
            "powered off", BleakBluetoothNotAvailableReason.POWERED_OFF
        )

    async def stop(self) -> None:
        pass


def test_no_bluetooth_ends_the_session_with_a_message_and_the_file_closed(tmp_path):
    out = tmp_path / "s.session"
    backend = BleBackend(scanner=_RadioOffScanner, name="off")
    session = SessionController(BleSource({"solo": ADDR_A}, backend=backend), record_to=out)
    session.start()
    assert session.wait(10.0)
    session.stop()
    snap = session.snapshot()
    assert snap.state == "failed" and "turned off" in snap.message
    assert isinstance(session.error, BluetoothUnavailable)
    with SessionReader(out) as r:
        assert r.events()[-1].kind == EventKind.END
    # The command says it in one line, exit status 2, and leaves no empty recording.
    live_out = tmp_path / "live.session"
    argv = ["live", "--client", ADDR_A, "--out", str(live_out), "--duration", "5"]
    assert cli.main(argv, backend=backend) == 2
    assert not live_out.exists()


def test_live_command_records_two_virtual_straps(tmp_path, capsys):
    script = tmp_path / "straps.json"
    t_caps = [H10[1], H10[0]]  # 1.9 s of beats in real time
    c_caps = [H7[1], H10[1]]  # 1.6 s
    script.write_text(
        json.dumps(
            {
                "straps": [
                    {"name": "Polar H10 T", "address": ADDR_A, "script": paced(t_caps, 1.0)},
                    {"name": "Polar H7 C", "address": ADDR_B, "script": paced(c_caps, 1.0)},
                ]
            }
        )
    )
    out = tmp_path / "live.session"
    rc = cli.main(
        [
            "live",
            "--therapist",
            ADDR_A,
            "--client",
            ADDR_B,
            "--out",
            str(out),
            "--no-ui",
            "--duration",
            "8",  # the scripts take 1.9 s after connecting; room for a loaded machine
        ],
        backend=load_script(script).backend(),
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "therapist: connected" in printed and "client: connected" in printed
    with SessionReader(out) as r:
        assert set(r.roles) == {"therapist", "client"}
        assert r.participants["therapist"]["name"] == "Polar H10 T"
        assert r.participants["client"]["address"] == ADDR_B
        t_rr = [round(b.rr_ms, 3) for b in r.recorded_beats("therapist")]
        c_rr = [round(b.rr_ms, 3) for b in r.recorded_beats("client")]
        assert t_rr == [rr for c in t_caps for rr in c[2]]
        assert c_rr == [rr for c in c_caps for rr in c[2]]
        assert r.meta["source"] == "ble"
    assert cli.main(["analyze", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["participants"]["therapist"]["n_beats"] == len(t_rr)
    assert result["participants"]["client"]["n_beats"] == len(c_rr)


def test_live_command_with_a_pacer_records_it(tmp_path, capsys):
    script = tmp_path / "straps.json"
    script.write_text(
        json.dumps(
            {
                "straps": [
                    {
                        "name": "Polar H10 S",
                        "address": ADDR_A,
                        "script": paced([H10[1], H10[0]], 1.0),
                    }
                ]
            }
        )
    )
    out = tmp_path / "paced.session"
    argv = [
        "live",
        "--client",
        ADDR_A,
        "--out",
        str(out),
        "--duration",
        "2.5",
        "--pace-bpm",
        "6",
    ]
    assert cli.main(argv, backend=load_script(script).backend()) == 0
    with SessionReader(out) as r:
        pacer = [e for e in r.events() if e.kind == EventKind.PACER]
    assert [dict(e.data) for e in pacer] == [PacerSettings(6.0).to_dict()]
    assert cli.main([*argv[:-2], "--pace-bpm", "90"]) == 2
    assert "--pace-bpm must be between 1 and 30" in capsys.readouterr().err


def test_live_command_without_addresses_takes_the_strongest_strap(tmp_path, capsys):
    script = tmp_path / "straps.json"
    script.write_text(
        json.dumps(
            {
                "straps": [
                    {"name": "Far", "address": ADDR_A, "rssi_dbm": -80, "script": []},
                    {
                        "name": "Near",
                        "address": ADDR_B,
                        "rssi_dbm": -45,
                        "script": paced([H10[1], H10[0]], 1.0),
                    },
                ]
            }
        )
    )
    out = tmp_path / "solo.session"
    argv = ["live", "--out", str(out), "--duration", "6", "--scan-timeout", "1.5"]
    assert cli.main(argv, backend=load_script(script).backend()) == 0
    assert f"using the strongest strap: Near {ADDR_B} (-45 dBm) as solo" in capsys.readouterr().err
    with SessionReader(out) as r:
        assert r.roles == ("solo",)
        assert r.participants["solo"]["name"] == "Near"
        assert [round(b.rr_ms, 3) for b in r.recorded_beats("solo")] == [792.969, 1081.055]


# -- files ---------------------------------------------------------------------------------


def test_user_data_folder_per_platform(tmp_path):
    home = str(tmp_path)
    assert user_data_dir({"HOME": home}, "linux") == tmp_path / ".local/share/coregulation-monitor"
    assert user_data_dir({"HOME": home, "XDG_DATA_HOME": "/x/d"}, "linux") == Path(
        "/x/d/coregulation-monitor"
    )
    assert user_data_dir({"HOME": home}, "darwin") == (
        tmp_path / "Library/Application Support/coregulation-monitor"
    )
    assert user_data_dir({"HOME": home, "APPDATA": "/w/r"}, "win32") == Path(
        "/w/r/coregulation-monitor"
    )
    p = new_session_path({"HOME": home}, "linux")
    assert p.parent == tmp_path / ".local/share/coregulation-monitor/sessions"
    assert p.suffix == ".session" and not p.exists()
    assert p.parent.stat().st_mode & 0o777 == 0o700


# -- real hardware (opt in) ----------------------------------------------------------------


@pytest.mark.hardware
def test_real_strap_sends_decodable_heart_rate(ble_address):
    policy = ReconnectPolicy(scan_timeout_s=15.0, connect_timeout_s=20.0, max_attempts=3)

    async def go() -> list[Any]:
        src = BleSource({"solo": ble_address}, policy=policy)
        items: list[Any] = []

        async def consume() -> None:
            async for item in src:
                items.append(item)

        task = asyncio.get_running_loop().create_task(consume())
        await asyncio.sleep(30.0)
        src.stop()
        await task
        return items

    items = asyncio.run(go())
    assert of(items, Event, "solo", EventKind.CONNECT), "the strap did not connect"
    assert len(of(items, Packet, "solo")) >= 10
    assert len(of(items, Beat, "solo")) >= 10, "no RR intervals: is the strap worn and moist?"
    assert not of(items, Event, "solo", EventKind.MALFORMED)
