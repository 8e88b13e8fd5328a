"""Where the program keeps its files: the per-user data folder and new session file names."""

from __future__ import annotations

import datetime as _dt
import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "APP_DIR_NAME",
    "new_session_path",
    "sessions_dir",
    "user_config_dir",
    "user_data_dir",
]

APP_DIR_NAME = "coregulation-monitor"


def user_data_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The per-user data folder of the program (not created).

    ``$XDG_DATA_HOME/coregulation-monitor`` or ``~/.local/share/coregulation-monitor`` on Linux
    and other Unix systems, ``~/Library/Application Support/coregulation-monitor`` on macOS,
    ``%APPDATA%\\coregulation-monitor`` on Windows.
    """
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    home = Path(env.get("HOME") or Path.home())
    if plat.startswith("win"):
        base = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
    elif plat == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / APP_DIR_NAME


def user_config_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The per-user settings folder of the program (not created).

    ``$XDG_CONFIG_HOME/coregulation-monitor`` or ``~/.config/coregulation-monitor`` on Linux
    and other Unix systems; on macOS and Windows the same folder as :func:`user_data_dir`
    (``~/Library/Application Support/...``, ``%APPDATA%\\...``), where those systems keep
    application settings files.
    """
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if plat.startswith("win") or plat == "darwin":
        return user_data_dir(env, plat)
    home = Path(env.get("HOME") or Path.home())
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / APP_DIR_NAME


def sessions_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The folder for recorded sessions, created readable by the user alone (mode 0700)."""
    d = user_data_dir(environ, platform) / "sessions"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(d, 0o700)
    return d


def new_session_path(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    now: _dt.datetime | None = None,
) -> Path:
    """A new, not yet existing ``session-YYYYmmdd-HHMMSS.session`` in :func:`sessions_dir`."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    d = sessions_dir(environ, platform)
    path = d / f"session-{stamp}.session"
    n = 2
    while path.exists():
        path = d / f"session-{stamp}-{n}.session"
        n += 1
    return path
