"""A source without devices refuses (dis)connecting with its own exception, which the session
controller shows as a plain message; a genuine fault in a command is reported as one."""

from __future__ import annotations

import pytest

from biofeedback.session import SessionController
from biofeedback.sources import NoDevicesToConnect
from biofeedback.sources.replay import ReplaySource

from ..conftest import ROOT

DYAD = ROOT / "sample_data" / "dyad_session.session"


def test_replay_refuses_with_no_devices_to_connect():
    src = ReplaySource(DYAD)
    with pytest.raises(NoDevicesToConnect, match=r"^ReplaySource has no devices to connect$"):
        src.connect("client")
    with pytest.raises(NoDevicesToConnect, match=r"^ReplaySource has no devices to disconnect$"):
        src.disconnect("client")
    # Its own type: not the "unfinished method" NotImplementedError it used to be.
    assert not issubclass(NoDevicesToConnect, NotImplementedError)


class _Broken(ReplaySource):
    def connect(self, role, address=None):
        raise NotImplementedError("connect is not written yet")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (ReplaySource, "ReplaySource has no devices to disconnect"),
        (_Broken, "command failed: connect is not written yet"),
    ],
)
def test_controller_says_a_refusal_plainly_and_a_fault_as_a_failed_command(source, message):
    ctl = SessionController(source(DYAD, speed=20.0, duration_s=30.0))
    ctl.start()
    try:
        (ctl.disconnect if source is ReplaySource else ctl.connect)("client")
        deadline_ok = ctl.wait(20.0)
    finally:
        ctl.stop()
    assert deadline_ok
    assert ctl.snapshot().message == message
