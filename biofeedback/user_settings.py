"""What the program remembers for the user between runs: the last strap per role (and each
strap's battery level at its last connection) and each session label's suggested breathing
rate.

One JSON file, ``settings.json`` in :func:`biofeedback.paths.user_config_dir`, readable by the
user alone (file 0600, folder 0700). JSON rather than ``QSettings`` so the command line and the
tests read the same file without Qt, and the permissions are ours to set. Writes go to a
temporary file beside it and replace it in one step, so a crash never leaves half a file. A
damaged file (not JSON, wrong shape) is moved aside to ``settings.json.damaged`` with one log
line, and the program starts from empty settings rather than failing.

Labels are the pseudonymous session labels the user types (a client code); nothing else about
a person is stored here.

Shape::

    {"version": 1,
     "straps": {"therapist": {"address": "...", "name": "Polar H10 ..."}, ...},
     "batteries": {"ADDRESS": 87},
     "labels": ["C-7K2P", ...],
     "resonance": {"LABEL": {"rate_bpm": 5.5, "reason": "...", "session": "file name"}}}
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from biofeedback.errors import UserError
from biofeedback.paths import make_private_dirs, user_config_dir

__all__ = ["ROLES", "UserSettings"]

log = logging.getLogger(__name__)

#: Roles a strap can be remembered for.
ROLES = ("therapist", "client", "solo")
_VERSION = 1


class UserSettings:
    """The settings file (see the module docstring).

    Parameters
    ----------
    path : path-like or None
        The file; ``None`` for ``settings.json`` in the user's settings folder.

    Notes
    -----
    Each change is saved at once. Not thread-safe: use it from one thread (the UI thread).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else user_config_dir() / "settings.json"
        self._data: dict[str, Any] = self._load()

    # -- file ----------------------------------------------------------------------------------

    def _empty(self) -> dict[str, Any]:
        return {"version": _VERSION, "straps": {}, "batteries": {}, "labels": [], "resonance": {}}

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._empty()
        except OSError as exc:
            log.warning("could not read the settings file %s (%s); using defaults", self.path, exc)
            return self._empty()
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            for key in ("straps", "batteries", "resonance"):
                if not isinstance(data.get(key, {}), dict):
                    raise ValueError(f"{key!r} is not an object")
        except ValueError as exc:
            aside = self.path.with_name(self.path.name + ".damaged")
            log.warning(
                "the settings file %s is damaged (%s); moved it to %s and started afresh",
                self.path,
                exc,
                aside,
            )
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            return self._empty()
        out = self._empty()
        out["straps"] = dict(data.get("straps", {}))
        out["batteries"] = dict(data.get("batteries", {}))
        labels = data.get("labels", [])
        out["labels"] = (
            [x for x in labels if isinstance(x, str)] if isinstance(labels, list) else []
        )
        out["resonance"] = dict(data.get("resonance", {}))
        return out

    def _save(self) -> None:
        """Write the file; a folder or file that cannot be written is logged (one line) and
        the settings stay in memory for this run."""
        try:
            folder = self.path.parent
            make_private_dirs(folder, own_from=folder)
            fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self._data, fh, indent=2, sort_keys=True)
                if os.name == "posix":
                    os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except (OSError, UserError) as exc:
            log.warning("could not save the settings to %s: %s", self.path, exc)

    # -- straps --------------------------------------------------------------------------------

    def strap(self, role: str) -> dict[str, str] | None:
        """The strap last connected for ``role``: ``{"address", "name"}``, or ``None``."""
        s = self._data["straps"].get(role)
        if isinstance(s, Mapping) and isinstance(s.get("address"), str):
            return {"address": str(s["address"]), "name": str(s.get("name") or "")}
        return None

    def remember_strap(self, role: str, address: str, name: str | None = None) -> None:
        """Remember ``address`` as ``role``'s strap (and forget it for any other role)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        straps = self._data["straps"]
        for other in [r for r, s in straps.items() if isinstance(s, Mapping)]:
            if other != role and straps[other].get("address") == address:
                del straps[other]
        straps[role] = {"address": str(address), "name": str(name or "")}
        self._save()

    def strap_battery(self, address: str) -> int | None:
        """The battery level (percent) ``address`` reported at its last connection."""
        v = self._data["batteries"].get(address.upper())
        return int(v) if isinstance(v, int | float) and 0 <= v <= 100 else None

    def remember_battery(self, address: str, battery_pct: int) -> None:
        """Remember a strap's battery level (saved only when it changed)."""
        key = address.upper()
        if self._data["batteries"].get(key) != int(battery_pct):
            self._data["batteries"][key] = int(battery_pct)
            self._save()

    # -- resonance rate per label ----------------------------------------------------------------

    def labels(self) -> list[str]:
        """Session labels used before, most recent first."""
        seen = [x for x in self._data["labels"] if isinstance(x, str) and x]
        seen += [k for k in self._data["resonance"] if k not in seen]
        return seen

    def remember_label(self, label: str) -> None:
        """Put ``label`` first in :meth:`labels` (at most 50 are kept)."""
        label = label.strip()
        if not label:
            return
        labels = [label] + [x for x in self._data["labels"] if x != label]
        if labels != self._data["labels"]:
            self._data["labels"] = labels[:50]
            self._save()

    def resonance_rate(self, label: str) -> float | None:
        """The suggested breathing rate (breaths/min) remembered for ``label``, or ``None``."""
        r = self._data["resonance"].get(label)
        try:
            rate = float(r["rate_bpm"]) if isinstance(r, Mapping) else math.nan
        except (KeyError, TypeError, ValueError):
            return None
        return rate if math.isfinite(rate) and rate > 0 else None

    def remember_resonance(
        self, label: str, rate_bpm: float, *, reason: str = "", session: str = ""
    ) -> None:
        """Remember the assessment's suggested rate for ``label`` (a pseudonymous code)."""
        if not label.strip():
            raise ValueError("a label is needed to remember a rate")
        if not (math.isfinite(rate_bpm) and 3.0 <= rate_bpm <= 10.0):
            raise ValueError(f"rate must be 3-10 breaths/min, not {rate_bpm}")
        self._data["resonance"][label] = {
            "rate_bpm": float(rate_bpm),
            "reason": str(reason),
            "session": str(session),
        }
        self._save()
