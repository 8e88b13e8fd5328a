"""Lab Streaming Layer: published streams read back by another process, an inlet as a beat
source, and no socket without ``--lsl``.

LSL stays on this machine: every test process (and its children, through the environment)
uses a configuration with ``ResolveScope = machine`` (multicast to 127.0.0.1 only, TTL 0),
IPv6 off and the loopback interface (design.md section 6).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pylsl")

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "dyad_session.session"

LOOPBACK_CFG = """\
[ports]
IPv6 = disable
[multicast]
ResolveScope = machine
ListenAddress = 127.0.0.1
Interfaces = {127.0.0.1}
[log]
level = -3
"""


@pytest.fixture(scope="module", autouse=True)
def lsl_on_loopback(tmp_path_factory):
    cfg = tmp_path_factory.mktemp("lsl") / "lsl_api.cfg"
    cfg.write_text(LOOPBACK_CFG)
    old = os.environ.get("LSLAPICFG")
    os.environ["LSLAPICFG"] = str(cfg)
    yield
    if old is None:
        os.environ.pop("LSLAPICFG", None)
    else:
        os.environ["LSLAPICFG"] = old


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "biofeedback", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _inlet(pylsl, name: str):
    found = pylsl.resolve_byprop("name", name, 1, 15.0)
    assert found, f"stream {name} not found"
    inlet = pylsl.StreamInlet(found[0], max_buflen=600)
    info = inlet.info(5.0)
    inlet.open_stream(5.0)
    inlet.correction = inlet.time_correction(5.0)  # while the sender is there
    return inlet, info


@pytest.mark.slow
def test_replay_with_lsl_is_read_back_by_another_process_beat_for_beat():
    import pylsl

    from biofeedback.beats import Beat, Packet
    from biofeedback.sources.replay import iter_session

    prefix = f"t-readback-{os.getpid()}"
    proc = _cli(
        "replay", str(SAMPLE), "--lsl", "--lsl-name", prefix, "--lsl-wait", "20",
        "--speed", "40", "--duration", "40", "--quiet",
    )  # fmt: skip
    try:
        metrics, m_info = _inlet(pylsl, f"{prefix}-metrics")
        inlets = {r: _inlet(pylsl, f"{prefix}-{r}-RR") for r in ("therapist", "client")}
        got: dict[str, tuple[list, list]] = {r: ([], []) for r in inlets}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for r, (inlet, _) in inlets.items():
                x, ts = inlet.pull_chunk(timeout=0.05)
                got[r][0].extend(v[0] for v in x)
                got[r][1].extend(ts)
            if proc.poll() is not None and all(
                i.samples_available() == 0 for i, _ in inlets.values()
            ):
                break
        _, err = proc.communicate(timeout=10)
        m_rows, _ = metrics.pull_chunk(timeout=1.0)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    # the 1 Hz metrics stream: HR, RMSSD, RSA per person and synchrony, named with units
    ch = m_info.desc().child("channels").child("channel")
    assert (ch.child_value("label"), ch.child_value("unit")) == ("therapist_hr", "bpm")
    assert m_info.channel_count() == 8 and len(m_rows) >= 10
    assert 40 < np.nanmax(np.array(m_rows)[:, 0]) < 120  # the therapist's heart rate
    # The replay stops at the first notification after 40 s: every beat of the notifications
    # before it is sent (a notification's last beat may be timed a little after its arrival).
    expected: dict[str, list] = {"therapist": [], "client": []}
    for item in iter_session(SAMPLE):
        if isinstance(item, Packet) and item.t_s > 40.0:
            break
        if isinstance(item, Beat):
            expected[item.role].append(item)
    for role, (inlet, info) in inlets.items():
        start = float(info.desc().child_value("session_start_lsl"))
        assert info.desc().child_value("role") == role
        unit = info.desc().child("channels").child("channel").child_value("unit")
        assert unit == "ms"
        want = expected[role]
        rr, ts = np.array(got[role][0]), np.array(got[role][1])
        assert rr.size == len(want) > 20  # every beat
        assert rr.tolist() == [b.rr_ms for b in want]  # in order, values exact
        t = ts + inlet.correction - start
        assert np.max(np.abs(t - [b.t_s for b in want])) < 1e-3  # within 1 ms


@pytest.mark.slow
def test_dyad_through_lsl_inlet_analyses_like_the_direct_replay(tmp_path):
    from biofeedback.session import SessionController
    from biofeedback.sources.ble import BleSource

    session = tmp_path / "sim.session"
    from biofeedback.cli import main

    assert main(["simulate", "--out", str(session), "--minutes", "3", "--seed", "4",
                 "--coupling", "0.6", "--lag-s", "2"]) == 0  # fmt: skip
    prefix = f"t-dyad-{os.getpid()}"
    # both people arrive as "straps" on another computer: lsl:NAME addresses
    targets = {r: f"lsl:{prefix}-{r}-RR" for r in ("therapist", "client")}
    source = BleSource(targets, lsl_end_after_silence_s=3.0)
    proc = _cli(
        "replay", str(session), "--lsl", "--lsl-name", prefix, "--lsl-wait", "20",
        "--speed", "30", "--quiet",
    )  # fmt: skip
    try:
        via = tmp_path / "via_lsl.session"
        controller = SessionController(source, record_to=via)
        controller.start()
        assert controller.wait(120)  # ends when both streams have gone quiet
        controller.stop()
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert controller.error is None and not controller.interrupted

    def analysed(path: Path) -> dict:
        from biofeedback.analysis import analyze, load_input

        return analyze(load_input([str(path)]))

    direct, lsl = analysed(session), analysed(via)
    for role in ("therapist", "client"):
        a, b = direct["participants"][role], lsl["participants"][role]
        assert b["n_beats"] == a["n_beats"]
        for key in ("mean_rr_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "lf_ms2", "hf_ms2"):
            assert b[key] == pytest.approx(a[key], rel=1e-6), key
    sa, sb = direct["synchrony"], lsl["synchrony"]
    assert sb["z_mean"] == pytest.approx(sa["z_mean"], abs=0.03)
    assert sb["peak_lag_s"] == pytest.approx(sa["peak_lag_s"], abs=0.5)
    assert sb["leader"] == sa["leader"]


PROBE = r"""
import os, sys, threading, time

def inet_inodes():
    out = set()
    for name in ("tcp", "udp", "tcp6", "udp6"):
        try:
            with open(f"/proc/self/net/{name}") as fh:
                next(fh)
                out |= {line.split()[9] for line in fh if line.strip()}
        except OSError:
            pass
    return out

seen = set()
inet = set()
done = False

def watch():
    while not done:
        new = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] not in seen:
                new.add(link[8:-1])
        if new:
            seen.update(new)
            inet.update(new & inet_inodes())
        time.sleep(0.005)

th = threading.Thread(target=watch, daemon=True)
th.start()
from biofeedback.cli import main
rc = main(sys.argv[1:])
done = True
th.join()
print("RESULT", rc, len(inet), "pylsl" in sys.modules)
"""


@pytest.mark.slow
@pytest.mark.parametrize("lsl", [False, True])
def test_demo_opens_no_network_socket_unless_lsl_is_asked_for(lsl):
    args = ["demo", "--no-ui", "--quiet", "--speed", "max", "--duration", "5"]
    if lsl:
        args += ["--lsl", "--lsl-name", f"t-probe-{os.getpid()}"]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    _, rc, n_inet, has_pylsl = line.split()
    assert rc == "0", proc.stderr
    if lsl:
        assert int(n_inet) > 0 and has_pylsl == "True"  # the probe sees LSL's sockets
    else:
        assert int(n_inet) == 0 and has_pylsl == "False"


@pytest.mark.slow
def test_relay_on_one_computer_joins_a_live_session_on_another(tmp_path, capsys):
    """The two-laptop recipe in one process (LSL does not mind): `relay` publishes the
    client's strap, `live` takes it as `--client lsl:NAME` next to the therapist's own strap."""
    import json as _json
    import threading

    from biofeedback.cli import main
    from biofeedback.session_reader import SessionReader
    from tests.biofeedback.test_ble import ADDR_A, ADDR_B, H10, paced
    from tests.support.bumble_backend import load_script

    client_caps = [H10[1], H10[2], H10[3]]
    script = tmp_path / "straps.json"
    steps_c = paced(client_caps, 1.0)
    steps_c[0]["after_s"] = 4.0  # time for the other computer to open the stream
    script.write_text(
        _json.dumps(
            {
                "straps": [
                    {"name": "Polar H10 T", "address": ADDR_A, "script": paced(H10 * 3, 1.0)},
                    {"name": "Polar H10 C", "address": ADDR_B, "script": steps_c},
                ]
            }
        )
    )
    prefix = f"t-relay-{os.getpid()}"
    out = tmp_path / "live.session"
    live_rc: list[int] = []
    # the practitioner's computer starts first and keeps looking for the client's stream
    live = threading.Thread(
        target=lambda: live_rc.append(
            main(
                ["live", "--therapist", ADDR_A, "--client", f"lsl:{prefix}-client-RR",
                 "--out", str(out), "--no-ui", "--duration", "17"],
                backend=load_script(script).backend(),
            )
        )
    )  # fmt: skip
    live.start()
    try:
        time.sleep(1.0)
        relay_rc = main(
            ["relay", "--strap", ADDR_B, "--role", "client", "--lsl-name", prefix,
             "--duration", "12", "--quiet"],
            backend=load_script(script).backend(),
        )  # fmt: skip
    finally:
        live.join(60)
    assert relay_rc == 0 and live_rc == [0]
    with SessionReader(out) as r:
        assert r.participants["client"]["name"] == f"LSL stream {prefix}-client-RR"
        assert r.participants["therapist"]["name"] == "Polar H10 T"
        client_rr = [round(b.rr_ms, 3) for b in r.recorded_beats("client")]
        assert client_rr == [rr for c in client_caps for rr in c[2]]  # every beat, exact
        assert len(r.recorded_beats("therapist")) > 0
    capsys.readouterr()


def test_markers_stream_carries_pacer_changes_and_markers_at_their_session_time():
    import pylsl

    from biofeedback.beats import Event, EventKind
    from biofeedback.lsl.outlets import LslPublisher

    pub = LslPublisher(["client"], prefix=f"t-markers-{os.getpid()}")
    inlet, info = _inlet(pylsl, f"{pub.prefix}-markers")
    assert info.type() == "Markers" and info.channel_format() == pylsl.cf_string
    pub.markers.wait_for_consumers(5.0)
    pub(Event(12.5, EventKind.PACER, None, {"rate_bpm": 6.0}))
    pub(Event(30.0, EventKind.MARKER, None, {"text": "topic change"}))
    pub(Event(45.0, EventKind.PACER, None, {"rate_bpm": 0.0}))
    rows: list = []
    stamps: list = []
    deadline = time.monotonic() + 5
    while len(rows) < 3 and time.monotonic() < deadline:
        x, ts = inlet.pull_chunk(timeout=0.2)
        rows += [r[0] for r in x]
        stamps += ts
    pub.close()
    assert rows == ["pacer 6/min", "marker: topic change", "pacer off"]
    t = np.array(stamps) + inlet.correction - pub.session_start_lsl
    assert t == pytest.approx([12.5, 30.0, 45.0], abs=1e-3)
