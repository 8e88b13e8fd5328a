"""Beat timing: cumulative RR anchored on arrival, late bursts, empty packets, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from biofeedback import gatt
from biofeedback.beats import Beat, BeatTimer, Event, EventKind, NotificationDecoder, Packet


def _beats(items):
    return [i for i in items if isinstance(i, Beat)]


def _events(items, kind):
    return [i for i in items if isinstance(i, Event) and i.kind == kind]


def test_first_packet_is_anchored_on_arrival_then_cumulative():
    timer = BeatTimer("solo")
    out = timer.feed(10.0, [800.0, 900.0], seq=0)
    assert [b.t_s for b in out] == pytest.approx([9.1, 10.0])
    out = timer.feed(11.02, [1000.0], seq=1)  # arrives 20 ms after the beat
    assert out[0].t_s == pytest.approx(11.0)
    assert [b.index for b in _beats(out)] == [2]
    assert out[0].rr_ms == 1000.0 and out[0].seq == 1 and out[0].role == "solo"


def test_late_burst_keeps_cumulative_timing():
    rng = np.random.default_rng(3)
    rr = rng.uniform(700, 1000, 40)
    true_t = 5.0 + np.cumsum(rr) / 1000
    timer = BeatTimer("client")
    beats = []
    beats += timer.feed(true_t[0] + 0.03, rr[:1], 0)
    # beats 1..9 arrive one per packet, then 10..14 are held back and delivered in one
    # packet 3.5 s late, then normal delivery again.
    for k in range(1, 10):
        beats += timer.feed(true_t[k] + 0.03, rr[k : k + 1], k)
    beats += timer.feed(true_t[14] + 3.5, rr[10:15], 10)
    for k in range(15, 40):
        beats += timer.feed(true_t[k] + 0.03, rr[k : k + 1], k)
    assert not [b for b in beats if not isinstance(b, Beat)]
    t = np.array([b.t_s for b in beats])
    # Anchored on the first arrival (30 ms late), then exactly cumulative: the burst does not
    # shift anything.
    assert t == pytest.approx(true_t + 0.03, abs=1e-9)


def test_packets_without_rr_give_no_beats():
    dec = NotificationDecoder()
    out = dec.feed(Packet(1.0, "solo", bytes.fromhex("1040"), 0))
    assert out == []
    assert dec.last_measurement["solo"].heart_rate_bpm == 64


def test_lost_rr_becomes_an_explicit_gap_not_a_long_interval():
    timer = BeatTimer("solo")
    timer.feed(1.0, [1000.0], 0)
    timer.feed(2.0, [1000.0], 1)
    # 12 s of packets with no RR (contact lost), then RR again.
    out = timer.feed(15.0, [1000.0], 2)
    gaps = _events(out, EventKind.GAP)
    assert len(gaps) == 1
    assert gaps[0].data["start_s"] == pytest.approx(2.0)
    assert gaps[0].data["end_s"] == pytest.approx(14.0)
    b = _beats(out)[0]
    assert b.t_s == pytest.approx(15.0) and b.rr_ms == 1000.0


def test_disconnect_event_gives_a_gap_and_reanchors():
    dec = NotificationDecoder()
    enc = gatt.encode
    dec.feed(Packet(1.0, "therapist", enc(gatt.measurement(60, [1000.0])), 0))
    dec.feed(Packet(2.0, "therapist", enc(gatt.measurement(60, [1000.0])), 1))
    dec.feed(Event(2.5, EventKind.DISCONNECT, "therapist", {"reason": "link lost"}))
    out = dec.feed(Packet(4.0, "therapist", enc(gatt.measurement(60, [1000.0])), 2))
    (gap,) = _events(out, EventKind.GAP)
    assert gap.data["reason"] == "link lost"
    assert gap.data["start_s"] == pytest.approx(2.0)
    assert _beats(out)[0].t_s == pytest.approx(4.0)


def test_disconnect_of_one_role_does_not_touch_the_other():
    dec = NotificationDecoder()
    enc = gatt.encode
    dec.feed(Packet(1.0, "therapist", enc(gatt.measurement(60, [1000.0])), 0))
    dec.feed(Packet(1.0, "client", enc(gatt.measurement(60, [1000.0])), 1))
    dec.feed(Event(1.5, EventKind.DISCONNECT, "therapist"))
    out = dec.feed(Packet(2.1, "client", enc(gatt.measurement(60, [1000.0])), 2))
    assert _beats(out)[0].t_s == pytest.approx(2.0)
    assert not _events(out, EventKind.GAP)


def test_strap_clock_running_ahead_resyncs_without_stepping_back():
    timer = BeatTimer("solo", max_lead_s=1.0)
    timer.feed(10.0, [1000.0], 0)
    out = timer.feed(10.2, [1000.0, 1000.0], 1)  # 2 s of RR in 0.2 s of arrival
    assert _events(out, EventKind.RESYNC)
    t = [b.t_s for b in _beats(out)]
    assert all(x >= 10.0 for x in t)
    assert t == sorted(t)


def test_malformed_packet_is_counted_and_reported_not_raised():
    dec = NotificationDecoder()
    out = dec.feed(Packet(1.0, "client", b"\x10\x40\x01", 7))
    (ev,) = _events(out, EventKind.MALFORMED)
    assert "odd number of RR bytes" in ev.data["error"]
    assert ev.data["seq"] == 7
    assert dec.malformed == {"client": 1}


def test_absurd_rr_values_are_reported_and_never_become_beats():
    dec = NotificationDecoder()
    payload = gatt.encode(gatt.measurement(60, [0.0, 1000.0]))
    out = dec.feed(Packet(1.0, "client", payload, 3))
    (ev,) = _events(out, EventKind.MALFORMED)
    assert "RR 0 ms" in ev.data["error"] and ev.data["payload_hex"] == payload.hex()
    assert [b.rr_ms for b in _beats(out)] == [1000.0]
    assert dec.malformed == {"client": 1}


def test_the_first_beat_after_a_gap_carries_the_mark():
    timer = BeatTimer("solo")
    first = _beats(timer.feed(1.0, [1000.0], 0))
    second = _beats(timer.feed(2.0, [1000.0], 1))
    timer.reset("link lost")
    after = timer.feed(6.0, [900.0, 1000.0], 2)  # one packet, two beats, after the gap
    late = timer.feed(20.0, [1000.0], 3)  # RR fell 13 s behind arrival: another gap
    assert [b.after_gap for b in first + second] == [False, False]
    assert len(_events(after, EventKind.GAP)) == 1
    assert [b.after_gap for b in _beats(after)] == [True, False]
    assert len(_events(late, EventKind.GAP)) == 1 and _beats(late)[0].after_gap
    # A participant's first beat never follows a gap.
    assert not _beats(BeatTimer("x").feed(1.0, [1000.0], 0))[0].after_gap
