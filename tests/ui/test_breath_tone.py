"""The pacer's audio cue: pitch follows the breath, holds are silent, playback on a null device."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hrv.pacer import PacerSettings, PacerTimeline
from ui.breath_tone import F_HIGH_HZ, F_LOW_HZ, SAMPLE_RATE_HZ, BreathTone, tone_block

FS = SAMPLE_RATE_HZ


def _pitch_hz(samples: np.ndarray) -> float:
    """Frequency from the zero crossings of a short block (rising ones per second)."""
    s = np.asarray(samples, dtype=float)
    rising = np.flatnonzero((s[:-1] <= 0) & (s[1:] > 0))
    return (rising.size - 1) * FS / (rising[-1] - rising[0])


def test_pitch_rises_on_the_in_breath_and_falls_on_the_out_breath() -> None:
    # 6/min with 1 s holds: in [0, 4), hold [4, 5), out [5, 9), hold [9, 10).
    tl = PacerTimeline().changed(0.0, PacerSettings(6.0, 0.5, 1.0, 1.0))
    t = np.arange(0, 10 * FS) / FS
    samples, _ = tone_block(tl, t, 0.0)

    def pitch_at(t_s: float) -> float:
        i = int(t_s * FS)
        return _pitch_hz(samples[i - 1000 : i + 1000])

    # Volume (1 - cos(pi x)) / 2: at x = 1/4 and 3/4 of the inhale 0.146 and 0.854.
    lo, hi = F_LOW_HZ, F_HIGH_HZ
    assert pitch_at(1.0) == pytest.approx(lo + (hi - lo) * 0.1464, rel=0.02)
    assert pitch_at(3.0) == pytest.approx(lo + (hi - lo) * 0.8536, rel=0.02)
    assert pitch_at(6.0) == pytest.approx(lo + (hi - lo) * 0.8536, rel=0.02)
    assert pitch_at(8.0) == pytest.approx(lo + (hi - lo) * 0.1464, rel=0.02)
    # Silent in the holds and at stage edges; no step between samples anywhere.
    assert np.abs(samples[int(4.2 * FS) : int(4.8 * FS)]).max() == 0.0
    assert np.abs(samples[int(9.2 * FS) : int(9.8 * FS)]).max() == 0.0
    assert np.abs(np.diff(samples)).max() < 2 * np.pi * F_HIGH_HZ / FS * 0.12 * 1.05 + 0.01


def test_blocks_join_without_a_phase_jump() -> None:
    tl = PacerTimeline().changed(0.0, PacerSettings(6.0))
    t = np.arange(0, 2 * FS) / FS + 1.0
    whole, _ = tone_block(tl, t, 0.0)
    a, phase = tone_block(tl, t[:777], 0.0)
    b, _ = tone_block(tl, t[777:], phase)
    np.testing.assert_allclose(np.concatenate((a, b)), whole, atol=1e-5)


def test_off_is_silent() -> None:
    samples, _ = tone_block(PacerTimeline(), np.arange(1000) / FS, 0.0)
    assert not samples.any()


def test_plays_on_a_null_device() -> None:
    miniaudio = pytest.importorskip("miniaudio")
    tl = PacerTimeline().changed(0.0, PacerSettings(6.0))
    start = time.monotonic()
    tone = BreathTone(lambda: time.monotonic() - start, lambda: tl, [miniaudio.Backend.NULL])
    assert tone.start() is None and tone.playing
    time.sleep(0.3)
    tone.stop()
    assert tone.blocks >= 2 and not tone.playing
