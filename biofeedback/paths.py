"""Where the program keeps its files: the per-user data folder and new session file names."""

from __future__ import annotations

import datetime as _dt
import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "APP_DIR_NAME",
    "make_private_dirs",
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


def make_private_dirs(path: Path, own_from: Path | None = None) -> None:
    """Create ``path`` and any missing folders above it, each readable by the user alone.

    Every folder this creates gets mode 0700 (``mkdir(parents=True)`` would give the parents
    the umask's 0755). Folders from ``own_from`` down to ``path`` belong to the program and are
    made 0700 even when they exist already; other existing folders are left as they are.

    Raises
    ------
    UserError
        A folder cannot be created or made private (the message names it and says why).
    """
    from biofeedback.errors import UserError

    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    try:
        for d in reversed(missing):
            d.mkdir(mode=0o700)
            if os.name == "posix":
                os.chmod(d, 0o700)  # mkdir's mode is filtered by the umask
        if not path.is_dir():
            raise UserError(f"{path}: exists and is not a folder; cannot keep sessions there")
        if own_from is not None and os.name == "posix":
            d = path
            while True:
                os.chmod(d, 0o700)
                if d == own_from or d.parent == d:
                    break
                d = d.parent
    except OSError as exc:
        where = exc.filename or path
        raise UserError(f"{where}: cannot create the folder {path}: {exc.strerror}") from None


def sessions_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The folder for recorded sessions, created readable by the user alone (mode 0700).

    The program's own folder above it (:func:`user_data_dir`) is made 0700 too, and any folder
    created on the way (``~/.local/share`` on a fresh account) as well.

    Raises
    ------
    UserError
        The folder cannot be created (one line naming it).
    """
    app = user_data_dir(environ, platform)
    d = app / "sessions"
    make_private_dirs(d, own_from=app)
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
