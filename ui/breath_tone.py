"""An optional soft audio cue for the pacer: the pitch rises on the in-breath, falls on the out.

The tone follows the pacer's target lung volume ``v`` of :mod:`hrv.pacer`::

    f(t) = f_low + (f_high - f_low) v(t)        (default 220 -> 330 Hz, a fifth)
    a(t) = gain sin(pi x)^0.5  while breathing in or out (x: progress in the stage), 0 in holds

so the pitch glides with the breath, the sound swells and fades within each stage (no clicks
at stage changes) and holds are silent. The phase is integrated sample by sample
(``phase += 2 pi f / fs``), so the waveform stays continuous across blocks and pacer changes.

Playback uses `miniaudio <https://pypi.org/project/miniaudio/>`_ (the single-file miniaudio C
library with wheels for Windows, macOS and Linux, no system packages; it picks WASAPI,
Core Audio, PulseAudio or ALSA at run time). Qt's own sound classes live in QtMultimedia,
which PySide6-Essentials does not ship. Without the package or without a sound device the
cue says so in one line and the dashboard carries on silent.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Generator

import numpy as np
from numpy.typing import NDArray

from hrv.pacer import PacerTimeline

__all__ = ["BreathTone", "tone_block"]

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 22050
F_LOW_HZ = 220.0
F_HIGH_HZ = 330.0
GAIN = 0.12


def tone_block(
    timeline: PacerTimeline,
    t_s: NDArray[np.float64],
    phase0: float,
    fs_hz: float = SAMPLE_RATE_HZ,
    f_low_hz: float = F_LOW_HZ,
    f_high_hz: float = F_HIGH_HZ,
    gain: float = GAIN,
) -> tuple[NDArray[np.float32], float]:
    """Samples of the cue at session times ``t_s`` and the phase to start the next block with.

    Parameters
    ----------
    timeline : PacerTimeline
    t_s : ndarray
        Session time of each sample, seconds (``fs_hz`` apart within a block).
    phase0 : float
        Oscillator phase (radians) at the first sample.

    Returns
    -------
    samples : ndarray of float32
        In ``[-gain, gain]``; silence while the pacer is off or holding.
    phase : float
        Phase after the last sample.
    """
    v = np.asarray(timeline.volume(t_s), dtype=float)
    stage = timeline.stage(t_s)
    x = np.asarray(timeline.stage_progress(t_s), dtype=float)
    on = np.isfinite(v)
    breathing = on & np.isin(np.asarray(stage, dtype=object), ("in", "out"))
    f = f_low_hz + (f_high_hz - f_low_hz) * np.where(on, v, 0.0)
    steps = 2.0 * math.pi * f / fs_hz
    phases = phase0 + np.concatenate(([0.0], np.cumsum(steps[:-1])))
    amp = np.where(breathing, gain * np.sqrt(np.sin(np.pi * np.clip(x, 0, 1))), 0.0)
    samples = (amp * np.sin(phases)).astype(np.float32)
    end = float((phases[-1] + steps[-1]) % (2.0 * math.pi)) if t_s.size else phase0
    return samples, end


class BreathTone:
    """Plays :func:`tone_block` for the pacer on a sound device (see the module docstring).

    Parameters
    ----------
    clock : callable
        Session time now, seconds (called from the audio thread: must be thread-safe).
    timeline : callable
        Returns the pacer timeline in force (called from the audio thread).
    backends : list, optional
        miniaudio backends to try (tests pass the silent ``NULL`` backend).
    """

    def __init__(
        self,
        clock: Callable[[], float],
        timeline: Callable[[], PacerTimeline],
        backends: list | None = None,
    ) -> None:
        self.clock = clock
        self.timeline = timeline
        self.backends = backends
        self.blocks = 0
        self._device = None
        self._lock = threading.Lock()

    @property
    def playing(self) -> bool:
        return self._device is not None

    def _generator(self) -> Generator[NDArray[np.float32], int, None]:
        phase = 0.0
        n = yield np.zeros((0, 1), np.float32)
        while True:
            t0 = self.clock()
            t = t0 + np.arange(n) / SAMPLE_RATE_HZ
            samples, phase = tone_block(self.timeline(), t, phase)
            self.blocks += 1
            n = yield samples.reshape(-1, 1)

    def start(self) -> str | None:
        """Start the sound; ``None`` when it plays, else one line saying why it cannot."""
        with self._lock:
            if self._device is not None:
                return None
            try:
                import miniaudio
            except ImportError:
                return "sound needs the miniaudio package (pip install miniaudio)"
            try:
                device = miniaudio.PlaybackDevice(
                    output_format=miniaudio.SampleFormat.FLOAT32,
                    nchannels=1,
                    sample_rate=SAMPLE_RATE_HZ,
                    buffersize_msec=40,
                    backends=self.backends,
                    app_name="co-regulation monitor",
                )
                gen = self._generator()
                next(gen)
                device.start(gen)
            except Exception as exc:  # miniaudio raises its own error types per platform
                log.info("no sound: %s", exc)
                return f"no sound device could be opened ({exc})"
            self._device = device
            return None

    def stop(self) -> None:
        with self._lock:
            if self._device is not None:
                self._device.close()
                self._device = None
