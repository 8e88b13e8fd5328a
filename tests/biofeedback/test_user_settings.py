"""Per-user settings: remembered straps, batteries and rates survive a restart; the file is
private; a damaged file is set aside, never fatal."""

from __future__ import annotations

import json
import os
import stat

import pytest

from biofeedback.paths import user_config_dir
from biofeedback.user_settings import UserSettings


def test_remembered_across_instances_and_private(tmp_path):
    path = tmp_path / "cfg" / "settings.json"
    s = UserSettings(path)
    assert s.strap("client") is None and s.resonance_rate("C-17") is None
    s.remember_strap("client", "AA:BB", "Polar H10 1")
    s.remember_strap("therapist", "CC:DD", None)
    s.remember_strap("therapist", "AA:BB", "Polar H10 1")  # moved: client forgets it
    s.remember_battery("aa:bb", 81)
    s.remember_resonance("C-17", 5.5, reason="5.5 breaths/min: ...", session="x.session")
    again = UserSettings(path)
    assert again.strap("therapist") == {"address": "AA:BB", "name": "Polar H10 1"}
    assert again.strap("client") is None
    assert again.strap_battery("AA:BB") == 81
    assert again.resonance_rate("C-17") == 5.5 and again.resonance_rate("other") is None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".settings-")]
    with pytest.raises(ValueError):
        s.remember_strap("bystander", "EE", "x")
    with pytest.raises(ValueError):
        s.remember_resonance("C-17", 12.0)
    with pytest.raises(ValueError):
        s.remember_resonance(" ", 6.0)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"straps": []}'])
def test_damaged_file_is_set_aside(tmp_path, caplog, text):
    path = tmp_path / "settings.json"
    path.write_text(text)
    s = UserSettings(path)
    assert s.strap("solo") is None
    assert (tmp_path / "settings.json.damaged").read_text() == text
    assert "damaged" in caplog.text
    s.remember_strap("solo", "AA", "x")
    assert json.loads(path.read_text())["straps"]["solo"]["address"] == "AA"


def test_unwritable_folder_keeps_settings_in_memory(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    s = UserSettings(blocker / "settings.json")  # its folder is a file
    s.remember_strap("solo", "AA", "x")
    assert s.strap("solo") == {"address": "AA", "name": "x"}
    assert "could not save the settings" in caplog.text


def test_config_folder_per_platform():
    env = {"HOME": "/home/u"}
    assert str(user_config_dir(env, "linux")) == "/home/u/.config/coregulation-monitor"
    xdg = {"HOME": "/home/u", "XDG_CONFIG_HOME": "/x"}
    assert str(user_config_dir(xdg, "linux")) == "/x/coregulation-monitor"
    mac = user_config_dir(env, "darwin")
    assert str(mac) == "/home/u/Library/Application Support/coregulation-monitor"
