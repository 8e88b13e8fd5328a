"""Writers of tiny FIT and XDF files for the reader tests, written from the published layouts
(FIT SDK: file header, definition and data messages, CRC-16; XDF 1.0 specification: chunks
with variable-length sizes, stream header XML, samples with time stamps). Test support only.
"""

from __future__ import annotations

import datetime as _dt
import struct

import numpy as np

FIT_EPOCH = _dt.datetime(1989, 12, 31, tzinfo=_dt.UTC).timestamp()
_CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def fit_crc(data: bytes, crc: int = 0) -> int:
    """FIT's CRC-16 (FIT SDK, "File CRC"), nibble by nibble."""
    for byte in data:
        for nibble in (byte & 0xF, (byte >> 4) & 0xF):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ _CRC_TABLE[nibble]
    return crc


def _definition(local: int, global_num: int, fields: list[tuple[int, int, int]]) -> bytes:
    out = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
    for num, size, base in fields:
        out += struct.pack("<BBB", num, size, base)
    return out


def fit_file(rr_ms: list[float], start_utc_s: float) -> bytes:
    """An activity FIT file: file_id, a timer-start event at ``start_utc_s`` and ``hrv``
    messages holding ``rr_ms`` five to a message (missing slots 0xFFFF)."""
    ts = round(start_utc_s - FIT_EPOCH)
    body = _definition(0, 0, [(0, 1, 0x00), (1, 2, 0x84), (4, 4, 0x86)])
    body += struct.pack("<BBHI", 0, 4, 1, ts)  # type activity, manufacturer garmin
    body += _definition(1, 21, [(253, 4, 0x86), (0, 1, 0x00), (1, 1, 0x00)])
    body += struct.pack("<BIBB", 1, ts, 0, 0)  # timer start
    body += _definition(2, 78, [(0, 10, 0x84)])
    for k in range(0, len(rr_ms), 5):
        chunk = [round(v) for v in rr_ms[k : k + 5]]  # ms = s * 1000 (scale 1000)
        chunk += [0xFFFF] * (5 - len(chunk))
        body += struct.pack("<B5H", 2, *chunk)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    data = header + body
    return data + struct.pack("<H", fit_crc(data))


def _varlen(n: int) -> bytes:
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 2**32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def xdf_file(streams: list[dict]) -> bytes:
    """An XDF file. Each stream: ``name``, ``type``, ``t`` (time stamps), ``x`` (one value per
    sample, or ``None`` for a marker-like stream of beats), optional ``unit`` and ``role``."""
    out = b"XDF:" + _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')
    for sid, st in enumerate(streams, 1):
        desc = ""
        if st.get("role"):
            desc += f"<role>{st['role']}</role>"
        if st.get("unit"):
            desc += f"<channels><channel><unit>{st['unit']}</unit></channel></channels>"
        xml = (
            f'<?xml version="1.0"?><info><name>{st["name"]}</name><type>{st["type"]}</type>'
            "<channel_count>1</channel_count><nominal_srate>0</nominal_srate>"
            f"<channel_format>double64</channel_format><desc>{desc}</desc></info>"
        )
        out += _chunk(2, struct.pack("<I", sid) + xml.encode())
        t = np.asarray(st["t"], dtype=float)
        x = np.zeros(t.size) if st.get("x") is None else np.asarray(st["x"], dtype=float)
        samples = _varlen(t.size)
        for ti, xi in zip(t, x, strict=True):
            samples += struct.pack("<Bdd", 8, ti, xi)
        out += _chunk(3, struct.pack("<I", sid) + samples)
        footer = (
            f'<?xml version="1.0"?><info><first_timestamp>{t[0]}</first_timestamp>'
            f"<last_timestamp>{t[-1]}</last_timestamp><sample_count>{t.size}</sample_count>"
            "</info>"
        )
        out += _chunk(6, struct.pack("<I", sid) + footer.encode())
    return out
