"""A beat source that plays a simulated session (see :mod:`biofeedback.simulate`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from biofeedback.beats import Event, Packet
from biofeedback.simulate import Simulation, SimulationConfig, simulate_session
from biofeedback.sources import BeatSource, PlaybackClock

__all__ = ["SimulatedSource"]


class SimulatedSource(BeatSource):
    """Plays the packets and source events of a simulation in arrival order.

    Parameters
    ----------
    config : SimulationConfig
        What to simulate; the whole session is computed up front (a 10-minute dyad takes well
        under a second).
    speed : float or None
        ``None`` as fast as possible, 1.0 real time, 10.0 ten times faster.
    metadata : mapping, optional
        Extra session metadata; it overrides the defaults (e.g. a fixed ``created_utc`` for
        reproducible files).

    Attributes
    ----------
    simulation : Simulation
        The simulated session, with its true beats and ground truth.
    metadata : dict
        ``source: "simulator"``, ``settings`` (the configuration), ``ground_truth`` and anything
        passed in ``metadata``.
    """

    def __init__(
        self,
        config: SimulationConfig,
        *,
        speed: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.speed = speed
        self._clock = PlaybackClock(speed)
        self.simulation: Simulation = simulate_session(config)
        self.roles = config.roles
        self.participants: dict[str, dict[str, Any]] = {
            p.role: {
                "name": f"Simulated strap ({p.role})",
                "address": f"simulated:{p.role}",
                "body_location": "chest",
            }
            for p in config.people
        }
        self.metadata = {
            "source": "simulator",
            "settings": config.to_dict(),
            "ground_truth": self.simulation.ground_truth,
        }
        self.metadata.update(metadata or {})

    @property
    def ground_truth(self) -> dict[str, Any]:
        return self.simulation.ground_truth

    initial_state = "simulated"

    def now(self) -> float | None:
        """The session time being played now (``None`` before the start or at max speed)."""
        return self._clock.now()

    def stop(self) -> None:
        """End after the current item, without waiting for the next one's time."""
        super().stop()
        self._clock.interrupt()

    async def raw(self) -> AsyncIterator[Packet | Event]:
        clock = self._clock = PlaybackClock(self.speed)
        for item in self.simulation.raw_items():
            await clock.wait_until(item.t_s)
            yield item
            if self.stopped:
                return
