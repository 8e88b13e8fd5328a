"""A simulated person who breathes with a pacer that someone else runs (the window's guided
steps in the tests): the simulation's own pacer and assessment events are left out, so the
session's events come only from the window."""

from __future__ import annotations

import asyncio
import threading

from biofeedback.beats import Event, EventKind
from biofeedback.simulate import PacedSegment, PersonConfig, SimulationConfig
from biofeedback.sources.simulated import SimulatedSource

#: The simulated person's schedule in these tests: baseline 0-60 s, then the protocol.
LEAD_S = 60.0


class FollowingPerson(SimulatedSource):
    """Plays a simulation without its pacer and assessment events.

    With ``pause_at_s`` the play holds at that session time (``paused`` is set) until
    ``resume`` is set, so a test can act in the window at a known time of a max-speed session.
    """

    def __init__(self, config, *, pause_at_s: float | None = None, **kw):
        super().__init__(config, **kw)
        self.pause_at_s = pause_at_s
        self.paused = threading.Event()
        self.resume = threading.Event()

    async def raw(self):
        async for item in super().raw():
            if self.pause_at_s is not None and item.t_s >= self.pause_at_s:
                self.paused.set()
                while not self.resume.is_set() and not self.stopped:
                    await asyncio.sleep(0.01)
            if isinstance(item, Event) and item.kind in (EventKind.PACER, EventKind.ASSESSMENT):
                continue
            yield item


def assessment_person(
    resonance_bpm: float,
    plan,
    *,
    seed: int = 4,
    start_s: float = LEAD_S,
    tail_s: float = 20.0,
    role: str = "solo",
) -> SimulationConfig:
    """One person who follows ``plan`` (PlannedStep items) from ``start_s`` and responds most
    at ``resonance_bpm`` (the sharp resonance of ``simulate --assessment``)."""
    segs, t = [], start_s
    for s in plan:
        segs.append(PacedSegment(t, t + s.duration_s, s.rate_bpm, transition_s=10.0))
        t += s.duration_s + s.rest_s
    person = PersonConfig(
        role, arousal_sd_bpm=1.5, resonance_bpm=resonance_bpm, baroreflex_share=0.6
    )
    return SimulationConfig((person,), duration_s=t + tail_s, seed=seed, pacing=tuple(segs))
