"""Garmin FIT activity files with beat-to-beat (HRV) messages.

Layout (FIT SDK profile, as :mod:`fitdecode` implements it): a 12- or 14-byte header whose
bytes 8-11 are ``.FIT``; the ``hrv`` message (global number 78) holds field ``time``: up to
five beat-to-beat intervals in seconds (uint16, scale 1000), invalid slots empty. Garmin
devices write these messages when "log HRV" is on. The intervals carry no times, so beat times
are cumulative; the clock start is the activity's first timer start (``event`` message), else
the file's ``time_created``.

Read with ``fitdecode`` (a maintained FIT decoder, MIT licence): FIT's definition messages,
compressed timestamps, developer fields and CRC are a binary format not worth re-implementing.
"""

from __future__ import annotations

import datetime as _dt
import io
from dataclasses import replace

from biofeedback.formats import RRFileError, RRSeries
from biofeedback.formats.series import build_series

NAME = "fit"
LABEL = "Garmin FIT file with HRV messages"


def sniff(head: bytes) -> bool:
    return len(head) >= 12 and head[8:12] == b".FIT"


def _seconds(v: object) -> float | None:
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.UTC)
        return v.timestamp()
    return None


def read(name: str, raw: bytes) -> dict[str | None, RRSeries]:
    try:
        import fitdecode
    except ImportError:  # pragma: no cover - depends on the installation
        raise RRFileError(
            f"{name}: reading FIT files needs the 'fitdecode' package (pip install fitdecode)"
        ) from None
    rr_ms: list[float] = []
    records: list[int] = []
    timer_start: float | None = None
    created: float | None = None
    n = 0
    try:
        with fitdecode.FitReader(
            io.BytesIO(raw), error_handling=fitdecode.ErrorHandling.RAISE
        ) as fit:
            for frame in fit:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                n += 1
                if frame.name == "hrv" and frame.has_field("time"):
                    values = frame.get_value("time")
                    if not isinstance(values, (tuple, list)):
                        values = (values,)
                    for v in values:
                        if v is not None and v > 0:
                            rr_ms.append(float(v) * 1000.0)
                            records.append(n)
                elif frame.name == "file_id" and frame.has_field("time_created"):
                    created = _seconds(frame.get_value("time_created"))
                elif (
                    frame.name == "event"
                    and timer_start is None
                    and frame.has_field("event")
                    and frame.get_value("event") == "timer"
                    and frame.has_field("event_type")
                    and frame.get_value("event_type") == "start"
                    and frame.has_field("timestamp")
                ):
                    timer_start = _seconds(frame.get_value("timestamp"))
    except fitdecode.FitError as exc:
        raise RRFileError(f"{name}: damaged FIT file: {str(exc).splitlines()[0]}") from None
    if not rr_ms:
        raise RRFileError(
            f"{name}: this FIT file has no HRV (beat-to-beat) messages; switch on HRV logging "
            "on the watch for the next recording"
        )
    s = build_series(name, rr_ms, records, fmt=NAME, unit="s")
    start = timer_start if timer_start is not None else created
    if start is not None:
        s = replace(s, clock_start_s=start)
    return {None: s}
