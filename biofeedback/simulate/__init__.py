"""A physiological simulator: realistic RR intervals for one or two people, delivered as strap
notifications.

One module per part:

* :mod:`~biofeedback.simulate.settings`: what to simulate (:class:`SimulationConfig` and its
  parts) and its validation;
* :mod:`~biofeedback.simulate.physiology`: the model, a continuous heart period per person
  (RSA, Mayer waves, slow variability, arousal and coupling) and beats drawn from it, with
  ectopic and missed beats;
* :mod:`~biofeedback.simulate.delivery`: strap delivery, the beats packed into Heart Rate
  Measurement notifications with latency, late bursts and drop-outs;
* :mod:`~biofeedback.simulate.assembly`: the session, :func:`simulate_session`, which puts them
  together and writes the ground truth.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same configuration gives
byte-identical packets.
"""

from biofeedback.simulate.assembly import MODEL_VERSION, PersonBeats, Simulation, simulate_session
from biofeedback.simulate.physiology import rsa_amplitude_ms, rsa_response
from biofeedback.simulate.settings import (
    ROLES,
    ActivationEpisode,
    CouplingConfig,
    PacedSegment,
    PersonConfig,
    SimulationConfig,
)

__all__ = [
    "MODEL_VERSION",
    "ROLES",
    "ActivationEpisode",
    "CouplingConfig",
    "PacedSegment",
    "PersonBeats",
    "PersonConfig",
    "Simulation",
    "SimulationConfig",
    "rsa_amplitude_ms",
    "rsa_response",
    "simulate_session",
]
