"""Heart Rate Measurement (GATT characteristic 0x2A37) codec.

The layout is little-endian (Bluetooth SIG, Heart Rate Service 1.0, section 3.1)::

    flags:u8 | hr:u8 or u16 | [energy_kj:u16] | [rr:u16]*

Flag bit 0: HR is u16; bit 1: skin contact detected; bit 2: contact detection supported;
bit 3: energy expended present; bit 4: RR intervals present; bits 5-7 reserved (masked, not
rejected). RR intervals are in units of 1/1024 s.

:func:`decode` never raises anything but :class:`MalformedNotification` (a ``ValueError``), so a
strap that sends garbage is logged, counted and skipped by the caller.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "BODY_SENSOR_LOCATIONS",
    "BODY_SENSOR_LOCATION_UUID",
    "DEVICE_INFORMATION_SERVICE_UUID",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "HeartRateMeasurement",
    "MalformedNotification",
    "decode",
    "encode",
    "ms_to_rr_raw",
    "rr_raw_to_ms",
]

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION_UUID = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFORMATION_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"

BODY_SENSOR_LOCATIONS = {
    0: "other",
    1: "chest",
    2: "wrist",
    3: "finger",
    4: "hand",
    5: "ear lobe",
    6: "foot",
}

FLAG_HR_U16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10
_KNOWN_FLAGS = 0x1F

RR_UNITS_PER_S = 1024


class MalformedNotification(ValueError):
    """A Heart Rate Measurement payload that cannot be decoded; the message names the problem."""


def rr_raw_to_ms(raw: int) -> float:
    """Convert an RR value in 1/1024 s units to milliseconds."""
    return raw * 1000.0 / RR_UNITS_PER_S


def ms_to_rr_raw(rr_ms: float) -> int:
    """Convert milliseconds to the nearest 1/1024 s unit (what a strap would send)."""
    return int(round(rr_ms * RR_UNITS_PER_S / 1000.0))  # noqa: RUF046 (numpy scalars)


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded notification.

    Attributes
    ----------
    heart_rate_bpm : int
        Heart rate in beats per minute as the strap reports it.
    rr_ms : tuple of float
        RR intervals in milliseconds (raw 1/1024 s units times 1000/1024), oldest first.
    contact_supported : bool
        Bit 2: the strap can tell whether it touches skin.
    contact_detected : bool or None
        Bit 1, or ``None`` when contact detection is not supported.
    energy_expended_kj : int or None
        Cumulative energy expended in kJ when bit 3 is set.
    flags : int
        The flags byte as received, reserved bits included.
    hr_u16 : bool
        Bit 0: heart rate was sent as a 16-bit value.
    """

    heart_rate_bpm: int
    rr_ms: tuple[float, ...] = ()
    contact_supported: bool = False
    contact_detected: bool | None = None
    energy_expended_kj: int | None = None
    flags: int = FLAG_RR
    hr_u16: bool = False

    @property
    def rr_raw(self) -> tuple[int, ...]:
        """The RR intervals in the strap's 1/1024 s units."""
        return tuple(ms_to_rr_raw(v) for v in self.rr_ms)

    @property
    def rr_present(self) -> bool:
        """Whether the RR flag (bit 4) was set, with or without RR bytes."""
        return bool(self.flags & FLAG_RR)


def decode(payload: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement notification.

    Parameters
    ----------
    payload : bytes
        The characteristic value as notified.

    Returns
    -------
    HeartRateMeasurement

    Raises
    ------
    MalformedNotification
        Empty payload, truncated heart-rate or energy field, or an odd number of RR bytes.
        An RR flag with no RR bytes is valid and gives ``rr_ms == ()``.
    """
    data = bytes(payload)
    if not data:
        raise MalformedNotification("empty heart-rate notification (0 bytes)")
    flags = data[0]
    pos = 1
    hr_u16 = bool(flags & FLAG_HR_U16)
    hr_size = 2 if hr_u16 else 1
    if len(data) < pos + hr_size:
        raise MalformedNotification(
            f"heart-rate notification of {len(data)} bytes is too short for its "
            f"{'16' if hr_u16 else '8'}-bit heart-rate field (flags 0x{flags:02x})"
        )
    if hr_u16:
        (hr,) = struct.unpack_from("<H", data, pos)
    else:
        hr = data[pos]
    pos += hr_size
    energy: int | None = None
    if flags & FLAG_ENERGY:
        if len(data) < pos + 2:
            raise MalformedNotification(
                f"heart-rate notification of {len(data)} bytes ends inside its energy field "
                f"(flags 0x{flags:02x})"
            )
        (energy,) = struct.unpack_from("<H", data, pos)
        pos += 2
    rest = data[pos:]
    rr: tuple[float, ...] = ()
    if flags & FLAG_RR:
        if len(rest) % 2:
            raise MalformedNotification(
                f"heart-rate notification has an odd number of RR bytes ({len(rest)}); "
                "RR values are 16-bit"
            )
        rr = tuple(rr_raw_to_ms(v) for v in struct.unpack_from(f"<{len(rest) // 2}H", rest))
    # Bytes after the fields with no RR flag are ignored: the heart rate is still valid and
    # dropping it would lose data from a strap that pads its notifications.
    supported = bool(flags & FLAG_CONTACT_SUPPORTED)
    return HeartRateMeasurement(
        heart_rate_bpm=int(hr),
        rr_ms=rr,
        contact_supported=supported,
        contact_detected=bool(flags & FLAG_CONTACT_DETECTED) if supported else None,
        energy_expended_kj=energy,
        flags=flags,
        hr_u16=hr_u16,
    )


def encode(m: HeartRateMeasurement) -> bytes:
    """Encode a measurement as a strap would send it.

    The flags byte is rebuilt from the fields; reserved bits 5-7 of ``m.flags`` are kept so that
    ``decode(encode(m)) == m`` for any decodable ``m``. RR values are rounded to 1/1024 s.

    Raises
    ------
    ValueError
        A field does not fit its wire format (HR over 255 without ``hr_u16``, negative values,
        RR over 65535/1024 s).
    """
    flags = m.flags & ~_KNOWN_FLAGS & 0xFF
    if m.hr_u16:
        flags |= FLAG_HR_U16
    if m.contact_supported:
        flags |= FLAG_CONTACT_SUPPORTED
        if m.contact_detected:
            flags |= FLAG_CONTACT_DETECTED
    else:
        # Without support the detected bit carries no meaning, but keep it as received.
        flags |= m.flags & FLAG_CONTACT_DETECTED
    if m.energy_expended_kj is not None:
        flags |= FLAG_ENERGY
    if m.rr_ms or m.rr_present:
        flags |= FLAG_RR
    limit = 0xFFFF if m.hr_u16 else 0xFF
    if not 0 <= m.heart_rate_bpm <= limit:
        raise ValueError(f"heart rate {m.heart_rate_bpm} does not fit the HR field")
    out = bytearray([flags])
    out += struct.pack("<H" if m.hr_u16 else "<B", m.heart_rate_bpm)
    if m.energy_expended_kj is not None:
        if not 0 <= m.energy_expended_kj <= 0xFFFF:
            raise ValueError(f"energy {m.energy_expended_kj} kJ does not fit 16 bits")
        out += struct.pack("<H", m.energy_expended_kj)
    for v in m.rr_ms:
        raw = ms_to_rr_raw(v)
        if not 0 <= raw <= 0xFFFF:
            raise ValueError(f"RR {v} ms does not fit 16 bits of 1/1024 s")
        out += struct.pack("<H", raw)
    return bytes(out)


def measurement(
    heart_rate_bpm: int,
    rr_ms: tuple[float, ...] | list[float] = (),
    *,
    contact: bool | None = None,
    energy_expended_kj: int | None = None,
) -> HeartRateMeasurement:
    """Build a measurement the way a Polar H10 reports it (flags 0x10, or 0x16 with contact).

    RR values are snapped to the 1/1024 s grid so the result round-trips exactly.
    """
    rr = tuple(rr_raw_to_ms(ms_to_rr_raw(v)) for v in rr_ms)
    flags = FLAG_RR if rr else 0
    return HeartRateMeasurement(
        heart_rate_bpm=heart_rate_bpm,
        rr_ms=rr,
        contact_supported=contact is not None,
        contact_detected=contact,
        energy_expended_kj=energy_expended_kj,
        flags=flags
        | (FLAG_CONTACT_SUPPORTED if contact is not None else 0)
        | (FLAG_CONTACT_DETECTED if contact else 0)
        | (FLAG_ENERGY if energy_expended_kj is not None else 0),
        hr_u16=heart_rate_bpm > 255,
    )
