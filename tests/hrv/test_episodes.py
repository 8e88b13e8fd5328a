"""Activation-and-settling episodes on hand-made heart-rate profiles (hrv/episodes.py).

The profiles are piecewise linear heart rates with no noise, so the robust spread is 0 and the
thresholds are the beats/min floors: band 5 above the reference, onset 8 above it. With a 60
beats/min reference and the 11 s centred moving average, the crossings can be worked out by
hand from the profile (a linear ramp stays linear under a centred average).
"""

from __future__ import annotations

import numpy as np
import pytest

from hrv.episode_records import PersonBeats, find_coregulation, find_episodes
from hrv.episode_words import describe_episode
from hrv.episodes import (
    CoregulationTracker,
    Episode,
    EpisodeTracker,
    Reference,
)


def beats_from_hr(times_s, hr_bpm, duration_s):
    """Beats whose instantaneous HR follows the piecewise-linear profile (t, hr)."""
    t, out_t, out_rr = 0.0, [], []
    while True:
        rr = 60000.0 / float(np.interp(t, times_s, hr_bpm))
        t += rr / 1000.0
        if t > duration_s:
            break
        out_t.append(t)
        out_rr.append(rr)
    return np.array(out_t), np.array(out_rr)


# 60 bpm for 300 s; up to 80 over 300-310 s; 80 until 340 s; down to 60 over 340-360 s.
RISE = ([0, 300, 310, 340, 360, 900], [60, 60, 80, 80, 60, 60])


def test_a_rise_is_found_with_start_peak_rise_and_settle_time() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    [e] = find_episodes("client", t, rr)
    # Above the band (65) from 302.5 s on the ramp (smoothing keeps a linear ramp): start 303.
    assert e.start_s == pytest.approx(303, abs=1)
    # The plateau is 80 from 310 to 340 s; the moving average is flat at 80 from 315 to 335 s.
    assert 314 <= e.peak_s <= 336
    assert e.rise_bpm == pytest.approx(20.0, abs=0.3)
    assert e.reference_bpm == pytest.approx(60.0, abs=0.1)
    # Back to 65 at 355 s on the way down: end 355.
    assert e.end_s == pytest.approx(355, abs=1)
    assert e.settle_s == pytest.approx(e.end_s - e.peak_s)


def test_no_rise_no_episode_and_small_rises_are_not_episodes() -> None:
    t, rr = beats_from_hr([0, 900], [70, 70], 900)
    assert find_episodes("client", t, rr) == []
    # 7 beats/min is above the band (5) but under the onset floor (8).
    t, rr = beats_from_hr([0, 300, 310, 400, 410, 900], [60, 60, 67, 67, 60, 60], 900)
    assert find_episodes("client", t, rr) == []
    assert find_episodes("client", np.array([]), np.array([])) == []


def test_a_rise_that_never_comes_back_has_no_settle_time() -> None:
    t, rr = beats_from_hr([0, 300, 310, 600], [60, 60, 80, 80], 600)
    [e] = find_episodes("client", t, rr)
    assert e.end_s is None and e.settle_s is None
    assert "had not settled by the end of the record" in describe_episode(e)


def test_a_gap_never_creates_an_episode() -> None:
    # HR is steady before a 60 s drop-out and 20 beats/min higher after it: the climb was not
    # seen, so there is no episode (and the level after the gap slowly becomes the reference).
    t, rr = beats_from_hr([0, 330, 331, 900], [60, 60, 80, 80], 900)
    keep = (t < 300) | (t > 360)
    after_gap = np.zeros(keep.sum(), dtype=bool)
    after_gap[np.argmax(t[keep] > 360)] = True
    assert find_episodes("client", t[keep], rr[keep], after_gap=after_gap) == []
    # Without the gap the same profile is an episode.
    assert len(find_episodes("client", t, rr)) == 1


def test_artifact_stretches_never_create_an_episode() -> None:
    # A run of flagged short intervals (a strap glitch: 150 beats/min for 20 s).
    t, rr = beats_from_hr([0, 900], [60, 60], 900)
    glitch_t = np.arange(400.4, 420.0, 0.4)
    keep = (t < 400) | (t > 420)
    tt = np.concatenate([t[keep], glitch_t])
    rrr = np.concatenate([rr[keep], np.full(glitch_t.size, 400.0)])
    order = np.argsort(tt, kind="stable")
    tt, rrr = tt[order], rrr[order]
    flagged = rrr < 500
    assert find_episodes("client", tt, rrr, flagged=flagged) == []
    assert len(find_episodes("client", tt, rrr)) == 1  # the same data unflagged


def test_a_gap_while_it_settles_does_not_end_the_episode() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    # 20 s drop-out on the way down (345-365 s): HR is back in the band after it.
    keep = (t < 345) | (t > 365)
    after_gap = np.zeros(keep.sum(), dtype=bool)
    after_gap[np.argmax(t[keep] > 365)] = True
    [e] = find_episodes("client", t[keep], rr[keep], after_gap=after_gap)
    # No end inside the gap: the first usable smoothed point after it (the moving average needs
    # 8 of its 11 seconds) is where it is seen back in the band.
    assert e.end_s is not None and e.end_s >= 365
    assert e.end_s <= 372


def test_a_fixed_baseline_reference_is_used() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    [e] = find_episodes("client", t, rr, reference=Reference(70.0, 0.0))
    # Against 70 beats/min: band 75, rise 10.
    assert e.rise_bpm == pytest.approx(10.0, abs=0.3)
    assert e.start_s == pytest.approx(307.5, abs=1.5)


def test_streaming_gives_the_batch_episodes_and_walks_through_the_states() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    tr = EpisodeTracker("client")
    states = []
    for ti, ri in zip(t, rr, strict=True):
        tr.add_beat(float(ti), float(ri))
        if not states or states[-1] != tr.state:
            states.append(tr.state)
    tr.finish()
    assert states == [None, "rising", "settling", "settled"]
    assert tr.episodes == find_episodes("client", t, rr)


def test_the_other_persons_response() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    steady_t, steady_rr = beats_from_hr([0, 900], [70, 70], 900)
    # The other rises 10 s later by 15 beats/min.
    rose_t, rose_rr = beats_from_hr([0, 310, 320, 350, 370, 900], [70, 70, 85, 85, 70, 70], 900)
    ref, eps = find_coregulation(
        {"client": PersonBeats(t, rr), "therapist": PersonBeats(steady_t, steady_rr)}
    )
    assert ref == "rolling"
    [e] = eps
    assert (e.person, e.other) == ("client", "steady")
    _, eps = find_coregulation(
        {"client": PersonBeats(t, rr), "therapist": PersonBeats(rose_t, rose_rr)}
    )
    assert [(e.person, e.other) for e in eps] == [("client", "rose"), ("therapist", "rose")]
    # The therapist's strap is silent from 280 to 420 s: unknown.
    keep = (steady_t < 280) | (steady_t > 420)
    gap = np.zeros(keep.sum(), dtype=bool)
    gap[np.argmax(steady_t[keep] > 420)] = True
    _, eps = find_coregulation(
        {
            "client": PersonBeats(t, rr),
            "therapist": PersonBeats(steady_t[keep], steady_rr[keep], after_gap=gap),
        }
    )
    assert [(e.person, e.other) for e in eps] == [("client", "unknown")]


def test_baseline_stretch_is_the_reference_when_given() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    st, srr = beats_from_hr([0, 900], [70, 70], 900)
    ref, [e] = find_coregulation(
        {"client": PersonBeats(t, rr), "therapist": PersonBeats(st, srr)}, baseline=(20.0, 200.0)
    )
    assert ref == "baseline"
    assert e.reference_bpm == pytest.approx(60.0, abs=0.1)


def test_live_dyad_lists_an_episode_once_the_other_has_caught_up() -> None:
    t, rr = beats_from_hr(*RISE, 900)
    st, srr = beats_from_hr([0, 900], [70, 70], 900)
    co = CoregulationTracker(["client", "therapist"])
    # Feed the client to the end first: the episode waits for the therapist's data.
    for ti, ri in zip(t, rr, strict=True):
        co.add_beat("client", float(ti), float(ri))
    assert co.states()["client"] == "settled"
    assert co.episodes() == []
    for ti, ri in zip(st, srr, strict=True):
        co.add_beat("therapist", float(ti), float(ri))
    [e] = co.episodes()
    assert e.other == "steady"


def test_sentence_is_neutral_and_says_the_numbers() -> None:
    e = Episode("client", 750.0, 770.0, 865.0, 18.4, 95.0, 76.0, "steady")
    assert describe_episode(e) == (
        "The client's heart rate rose by 18 beats/min at 12:30 and settled within 95 s of its "
        "peak; the therapist's stayed steady meanwhile."
    )
    solo = Episode("solo", 3725.0, 3740.0, None, 12.0, None, 70.0, None)
    assert describe_episode(solo) == (
        "The heart rate rose by 12 beats/min at 1:02:05 and had not settled by the end of the "
        "record."
    )
    for word in ("good", "bad", "stress", "anxi", "panic", "trauma"):
        assert word not in describe_episode(e).lower()
