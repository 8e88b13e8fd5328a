"""The Heart Rate Measurement codec against real captures, the spec, and random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biofeedback import gatt
from biofeedback.gatt import HeartRateMeasurement, MalformedNotification

# design.md section 5: value bytes captured from real straps, decoded by hand
# (RR ms = raw * 1000 / 1024, e.g. 0x0453 = 1107 -> 1081.0547 ms).
CAPTURES = [
    ("103b5304", 59, (1081.055,), None, None),
    ("10482c03", 72, (792.969,), None, None),
    ("10495e039603", 73, (841.797, 896.484), None, None),
    ("16468a034403", 70, (884.766, 816.406), True, None),
    ("104ed202c802", 78, (705.078, 695.312), None, None),
    ("164d1603", 77, (771.484,), True, None),
    ("194b0034120004", 75, (1000.0,), None, 4660),
    ("1040", 64, (), None, None),
]


@pytest.mark.parametrize(("hexbytes", "hr", "rr", "contact", "energy"), CAPTURES)
def test_real_captures_decode(hexbytes, hr, rr, contact, energy):
    m = gatt.decode(bytes.fromhex(hexbytes))
    assert m.heart_rate_bpm == hr
    assert m.rr_ms == pytest.approx(rr, abs=5e-4)
    assert m.contact_detected is contact
    assert m.energy_expended_kj == energy
    assert m.rr_present


@pytest.mark.parametrize(("hexbytes", "hr", "rr", "contact", "energy"), CAPTURES)
def test_real_captures_reencode_to_the_same_bytes(hexbytes, hr, rr, contact, energy):
    raw = bytes.fromhex(hexbytes)
    assert gatt.encode(gatt.decode(raw)) == raw


def test_polar_h7_contact_supported_flag():
    m = gatt.decode(bytes.fromhex("164d1603"))
    assert m.contact_supported and m.contact_detected
    h10 = gatt.decode(bytes.fromhex("103b5304"))
    assert not h10.contact_supported and h10.contact_detected is None


def test_u16_heart_rate_and_energy():
    m = gatt.decode(bytes.fromhex("194b0034120004"))
    assert m.hr_u16 and m.heart_rate_bpm == 75 and m.energy_expended_kj == 0x1234


def test_reserved_bits_are_masked_not_rejected():
    m = gatt.decode(bytes([0x10 | 0xE0, 60, 0x00, 0x04]))
    assert m.heart_rate_bpm == 60 and m.rr_ms == (1000.0,)
    assert gatt.encode(m)[0] == 0xF0


def test_contact_bit_without_support_means_unknown():
    m = gatt.decode(bytes([0x12, 60]))
    assert m.contact_detected is None


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"", "empty"),
        (bytes([0x01, 60]), "16-bit heart-rate"),
        (bytes([0x00]), "8-bit heart-rate"),
        (bytes([0x18, 60, 1]), "energy"),
        (bytes([0x10, 60, 0x00, 0x04, 0x01]), "odd number of RR bytes"),
    ],
)
def test_malformed_payloads_raise_a_specific_error(payload, words):
    with pytest.raises(MalformedNotification, match=words):
        gatt.decode(payload)
    assert issubclass(MalformedNotification, ValueError)


def test_rr_unit_conversion():
    assert gatt.rr_raw_to_ms(1024) == 1000.0
    assert gatt.ms_to_rr_raw(1000.0) == 1024
    assert gatt.rr_raw_to_ms(1) == pytest.approx(0.9765625)


@st.composite
def measurements(draw):
    hr_u16 = draw(st.booleans())
    energy = draw(st.one_of(st.none(), st.integers(0, 0xFFFF)))
    supported = draw(st.booleans())
    detected = draw(st.booleans()) if supported else None
    reserved = draw(st.integers(0, 7)) << 5
    room = 20 - 1 - (2 if hr_u16 else 1) - (2 if energy is not None else 0)
    raws = draw(st.lists(st.integers(0, 0xFFFF), max_size=room // 2))
    rr_flag = bool(raws) or draw(st.booleans())
    flags = reserved
    flags |= gatt.FLAG_HR_U16 if hr_u16 else 0
    flags |= gatt.FLAG_CONTACT_SUPPORTED if supported else 0
    flags |= gatt.FLAG_CONTACT_DETECTED if detected else 0
    flags |= gatt.FLAG_ENERGY if energy is not None else 0
    flags |= gatt.FLAG_RR if rr_flag else 0
    return HeartRateMeasurement(
        heart_rate_bpm=draw(st.integers(0, 0xFFFF if hr_u16 else 0xFF)),
        rr_ms=tuple(gatt.rr_raw_to_ms(r) for r in raws),
        contact_supported=supported,
        contact_detected=detected,
        energy_expended_kj=energy,
        flags=flags,
        hr_u16=hr_u16,
    )


@given(measurements())
def test_decode_encode_roundtrip(m):
    assert gatt.decode(gatt.encode(m)) == m


@given(st.binary(max_size=40))
def test_random_bytes_decode_or_raise_only_malformed(data):
    try:
        m = gatt.decode(data)
    except MalformedNotification:
        return
    assert isinstance(m, HeartRateMeasurement)
    # Whatever decodes re-encodes to a payload that decodes to the same measurement.
    assert gatt.decode(gatt.encode(m)) == m
