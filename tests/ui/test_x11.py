"""The dashboard in a real X window (Xvfb, Qt's xcb platform) with real key presses.

Offscreen tests send Qt key events directly; here the keys come from the X server (XTEST, via
``xdotool``), through its keyboard map and Qt's xcb input handling, so a shortcut that only
works with synthetic events (``Ctrl++`` needs Shift on a US keyboard) would fail. Skipped
without Xvfb and xdotool (Debian: ``xvfb xdotool``; ``.ci/run`` installs them with the xcb
platform plugin's libraries). Xvfb runs no window manager: windows cannot go full screen there,
so the full-screen pacer is only checked to open.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("pytestqt")

from ..conftest import ROOT

XVFB, XDOTOOL = shutil.which("Xvfb"), shutil.which("xdotool")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (XVFB and XDOTOOL) or not sys.platform.startswith("linux"),
        reason="needs Linux with Xvfb and xdotool (Debian packages xvfb, xdotool)",
    ),
]


@pytest.fixture
def x_display():
    """A private Xvfb server at 1366x768 (its display number from -displayfd)."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [XVFB, "-displayfd", str(write_fd), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        number = b""
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], 20.0)
            chunk = os.read(read_fd, 16) if ready else b""
            if not chunk:
                pytest.fail("Xvfb did not start")
            number += chunk
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        server.terminate()
        server.wait(10)


def test_real_x11_key_presses_reach_the_dashboard(x_display) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = x_display
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.x11_keys"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if 'platform plugin "xcb"' in done.stderr:
        pytest.skip("Qt's xcb platform plugin cannot load here (see .ci/run for its libraries)")
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["platform"] == "xcb" and out["active"] and out["size"] == [1366, 768]
    # Space starts the pacer at 6/min; Up, Up, Down, Up: each step recorded.
    assert out["pacer_rates"] == [6.0, 6.1, 6.2, 6.1, 6.2]
    assert out["rate_field"] == "6.2 /min"
    # Ctrl++ (Shift+= here), Ctrl+=, keypad Ctrl++, Ctrl+-, keypad Ctrl+-.
    assert out["font_pt"] == [10.0, 11.0, 12.0, 13.0, 12.0, 11.0]
    assert out["theme"] == "dark"  # Ctrl+T
    assert out["pacer_window_shown"]  # F11
    assert out["pacer_rates_end"][-1] == 0.0  # Esc, then Space stops the pacer
