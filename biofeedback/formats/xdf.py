"""XDF files from LabRecorder holding RR-interval or heartbeat-time streams.

Layout (XDF 1.0, read with ``pyxdf``, the reference reader): streams with an XML header
(``name``, ``type``, ``channel_count``, ``channel_format``, ``desc``) and time-stamped samples
on the recording's LSL clock, already clock-corrected by ``pyxdf``. Two kinds of streams are
read:

* **RR streams**: ``type`` ``RR``, ``IBI`` or ``RRI`` (any case), one numeric channel holding
  the interval that ends at the sample's time stamp. The unit comes from the channel's
  ``unit`` in ``desc`` (``ms`` or ``s``); without one, the median decides. This is what
  ``biofeedback ... --lsl`` publishes.
* **Heartbeat streams**: ``type`` ``Heartbeat``, ``Beats`` or ``RPeaks``: one sample per beat;
  the intervals are the differences of the time stamps.

Each stream is one person, named by ``desc/role`` when present (this program writes it), else
by the stream name. Beat times are the LSL time stamps, so two people in one XDF file share a
clock and align.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from biofeedback.formats import RRFileError, RRSeries
from biofeedback.formats.series import build_series, to_milliseconds

NAME = "xdf"
LABEL = "XDF from LabRecorder with RR or heartbeat streams"

RR_TYPES = {"rr", "ibi", "rri"}
BEAT_TYPES = {"heartbeat", "beats", "rpeaks"}


def sniff(head: bytes) -> bool:
    return head[:4] == b"XDF:"


def _first(d: Any, *keys: str) -> Any:
    """``d[k0][0][k1][0]...`` of pyxdf's nested header dicts, or ``None``."""
    for k in keys:
        if not isinstance(d, dict) or not d.get(k):
            return None
        d = d[k][0]
    return d


def _unit(info: dict[str, Any]) -> str | None:
    ch = _first(info, "desc", "channels", "channel")
    unit = _first(ch, "unit") if isinstance(ch, dict) else None
    return str(unit).strip().lower() if unit else None


def _load(name: str) -> list[dict[str, Any]]:
    try:
        import pyxdf
    except ImportError:  # pragma: no cover - depends on the installation
        raise RRFileError(
            f"{name}: reading XDF files needs the 'pyxdf' package (pip install pyxdf)"
        ) from None
    logging.getLogger("pyxdf").setLevel(logging.CRITICAL)
    try:  # pyxdf opens the file read-only ("rb")
        streams, _ = pyxdf.load_xdf(name, dejitter_timestamps=False)
    except Exception as exc:  # pyxdf raises many kinds on damaged files
        raise RRFileError(f"{name}: damaged XDF file: {str(exc).splitlines()[0][:80]}") from None
    return streams


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    out: dict[str | None, RRSeries] = {}
    seen: list[str] = []
    for st in _load(name):
        info = st.get("info", {})
        stype = str(_first(info, "type") or "").strip().lower()
        sname = str(_first(info, "name") or "stream")
        seen.append(f"{sname} ({stype or 'no type'})")
        stamps = np.asarray(st.get("time_stamps", []), dtype=np.float64)
        role = str(_first(info, "desc", "role") or sname)
        label = f"{name} [{sname}]"
        if stype in RR_TYPES:
            values = np.asarray(st.get("time_series", []), dtype=np.float64)
            if values.ndim != 2 or values.shape[0] == 0:
                continue
            v = values[:, 0]
            idx = list(range(1, v.size + 1))
            unit = _unit(info)
            if unit in ("ms", "milliseconds"):
                rr_ms, unit = v, "ms"
            elif unit in ("s", "seconds"):
                rr_ms, unit = v * 1000.0, "s"
            else:
                rr_ms, unit = to_milliseconds(v, idx, label)
            if np.any(~np.isfinite(rr_ms) | (rr_ms <= 0)):
                k = int(np.flatnonzero(~np.isfinite(rr_ms) | (rr_ms <= 0))[0])
                raise RRFileError(f"{label}, sample {k + 1}: RR interval must be positive")
            out[role] = build_series(label, rr_ms, idx, fmt=NAME, unit=unit, beat_s=stamps)
        elif stype in BEAT_TYPES and stamps.size >= 2:
            rr_ms = np.diff(stamps) * 1000.0
            idx = list(range(2, stamps.size + 1))
            out[role] = build_series(label, rr_ms, idx, fmt=NAME, beat_s=stamps[1:])
    if not out:
        kinds = ", ".join(seen) or "none"
        raise RRFileError(
            f"{name}: no RR or heartbeat stream in this XDF file (streams: {kinds}); an RR "
            "stream has type RR or IBI, a heartbeat stream type Heartbeat"
        )
    return out
