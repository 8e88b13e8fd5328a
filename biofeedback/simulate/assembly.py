"""Session assembly: the people's beats, their notifications, the source events and the ground
truth of one simulated session (:func:`simulate_session`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biofeedback.beats import Event, EventKind, Packet
from biofeedback.simulate.delivery import Notification, packetize
from biofeedback.simulate.physiology import (
    BEAT_JITTER_SD_MS,
    FS_HZ,
    RR_UNITS_PER_S,
    arousal_drivers,
    beats_from_signal,
    episode_bpm,
    episode_truth,
    insert_artifacts,
    person_signal,
    rsa_response,
)
from biofeedback.simulate.settings import PersonConfig, SimulationConfig, jsonable

__all__ = ["MODEL_VERSION", "PersonBeats", "Simulation", "simulate_session"]

#: Version of the model; stored in the ground truth so analyses can tell models apart.
MODEL_VERSION = 1


@dataclass(frozen=True)
class PersonBeats:
    """The beats a strap measured for one person (what a perfect receiver would get).

    Attributes
    ----------
    t_s : ndarray
        True beat times on the session clock, seconds.
    rr_ms : ndarray
        RR intervals ending at each beat, ms, on the strap's 1/1024 s grid.
    label : ndarray of str
        ``"normal"``, ``"ectopic"`` (premature beat), ``"compensatory"`` (the pause after it)
        or ``"missed"`` (two intervals reported as one).
    delivered : ndarray of bool
        Whether the beat reached the receiver (false inside drop-outs and after the last
        notification).
    """

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]
    label: NDArray[np.str_]
    delivered: NDArray[np.bool_]


@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate_session`.

    Attributes
    ----------
    config : SimulationConfig
    packets : tuple of Packet
        Notifications in arrival order (``seq`` 0, 1, ...).
    events : tuple of Event
        Source events (``connect``, ``disconnect``, ``pacer``) in time order.
    true_beats : mapping role -> PersonBeats
    ground_truth : dict
        JSON-serialisable description of what was simulated (see :func:`simulate_session`).
    """

    config: SimulationConfig
    packets: tuple[Packet, ...]
    events: tuple[Event, ...]
    true_beats: Mapping[str, PersonBeats]
    ground_truth: dict[str, Any]

    def raw_items(self) -> list[Packet | Event]:
        """Packets and source events merged in arrival order (events first on equal times)."""
        keyed: list[tuple[float, int, int, Packet | Event]] = [
            (e.t_s, 0, i, e) for i, e in enumerate(self.events)
        ]
        keyed += [(p.t_s, 1, p.seq, p) for p in self.packets]
        keyed.sort(key=lambda k: (k[0], k[1], k[2]))
        return [k[3] for k in keyed]


def simulate_session(config: SimulationConfig) -> Simulation:
    """Simulate a session (the model: :mod:`biofeedback.simulate.physiology`;
    the strap delivery: :mod:`biofeedback.simulate.delivery`).

    Parameters
    ----------
    config : SimulationConfig

    Returns
    -------
    Simulation
        ``ground_truth`` holds ``model_version``, ``seed``, ``duration_s``, ``config`` (the
        full configuration), ``pacer`` (segments with ``start_s``, ``end_s``, ``rate_bpm``),
        ``coupling`` (``strength``, ``lag_s``, ``leader``, ``follower``, ``windows``,
        ``sign_convention``), ``episodes`` (every heart-rate rise: ``person``, ``start_s``,
        ``peak_s``, ``end_s``, ``rise_bpm``, ``rise_s``, ``settle_tau_s``, ``settle_s``,
        ``other``; see :func:`~biofeedback.simulate.physiology.episode_truth`), and per role in
        ``participants``: ``mean_hr_bpm`` (configured),
        ``mean_hr_bpm_actual`` (60000 / mean RR of all beats), ``n_beats``,
        ``n_beats_delivered``, ``segments`` (each with ``start_s``, ``end_s``, ``breathing``
        ``"spontaneous"`` or ``"paced"``, ``breathing_rate_bpm``, ``rsa_amplitude_ms``,
        ``rsa_peak_to_trough_ms`` and for paced ones ``steady_from_s``), ``ectopic_beats_s``,
        ``missed_beats_s``, ``dropouts``, ``late_bursts`` (``t_s`` the held notification was
        due, ``delay_s``) and ``timing_offsets``: per connected stretch, ``connected_s`` (its
        start: 0 or a drop-out's end; it holds the beats after that time), ``from_s`` (arrival
        of its first beats) and ``offset_s`` (receiver beat time minus true beat time).
        With a ``baroreflex_share``, paced segments also give ``rsa_phase_deg`` (heart-rate
        peak against the lung-volume peak, degrees; negative: later). An assessment adds
        ``assessment``: ``rates_bpm`` (the steps) and ``largest_response_bpm`` per role (the
        step rate with the largest RSA).

    Raises
    ------
    ValueError
        An invalid configuration (the message names the field).
    """
    config.validate()
    rng = np.random.default_rng(config.seed)
    dur = config.duration_s
    fs = FS_HZ
    margin = 5.0
    t = np.arange(-margin, dur + margin, 1.0 / fs)
    roles = config.roles
    c = config.coupling
    coupled = c.strength > 0 and len(roles) == 2
    # Arousal drivers: own per person, plus a shared one for coupling.
    arousal, follower, windows = arousal_drivers(rng, config, t)

    beats: dict[str, PersonBeats] = {}
    notes: list[Notification] = []
    participants: dict[str, Any] = {}
    events: list[Event] = []
    slow_hr: dict[str, NDArray[np.float64]] = {}
    for p in config.people:
        drive_bpm = p.arousal_sd_bpm * arousal[p.role]
        if config.episodes:
            drive_bpm = drive_bpm + episode_bpm(t, config.episodes, p.role, roles)
        sig = person_signal(rng, p, t, config.pacing, drive_bpm)
        slow_hr[p.role] = sig.slow_hr_bpm
        tb, raw = beats_from_signal(rng, t, sig.rr_ms, dur, BEAT_JITTER_SD_MS * p.hrv_scale)
        tb, raw, label, ectopic_t, missed_t = insert_artifacts(rng, p, tb, raw, dur)
        pn, delivered, bursts, offsets = packetize(rng, config, p, tb, raw)
        notes += pn
        rr_ms = raw.astype(np.float64) * 1000.0 / RR_UNITS_PER_S
        beats[p.role] = PersonBeats(t_s=tb, rr_ms=rr_ms, label=label, delivered=delivered)
        events.append(Event(0.0, EventKind.CONNECT, p.role, {"device": "simulated strap"}))
        for a, b in p.dropouts:
            events.append(
                Event(
                    float(a), EventKind.DISCONNECT, p.role, {"reason": "simulated strap drop-out"}
                )
            )
            events.append(Event(float(b), EventKind.CONNECT, p.role, {"device": "simulated strap"}))
        participants[p.role] = {
            "mean_hr_bpm": p.mean_hr_bpm,
            "mean_hr_bpm_actual": 60000.0 / float(np.mean(rr_ms)) if rr_ms.size else None,
            "hrv_scale": p.hrv_scale,
            "resonance_bpm": p.resonance_bpm,
            "n_beats": int(tb.size),
            "n_beats_delivered": int(delivered.sum()),
            "segments": _segments(config, p, sig.spont_rate_bpm, t),
            "ectopic_beats_s": ectopic_t,
            "missed_beats_s": missed_t,
            "dropouts": [{"start_s": float(a), "end_s": float(b)} for a, b in p.dropouts],
            "late_bursts": bursts,
            "timing_offsets": offsets,
        }

    for seg in sorted(config.pacing, key=lambda s: s.start_s):
        events.append(
            Event(float(seg.start_s), EventKind.PACER, None, {"rate_bpm": float(seg.rate_bpm)})
        )
        if config.assessment or not any(o.start_s == seg.end_s for o in config.pacing):
            events.append(Event(float(seg.end_s), EventKind.PACER, None, {"rate_bpm": 0.0}))
    if config.assessment:
        events += _assessment_events(config)
    order = {r: i for i, r in enumerate(roles)}
    # On equal times: strap events (disconnects first) before session-wide ones (the pacer).
    events.sort(
        key=lambda e: (
            e.t_s,
            e.role is None,
            e.kind != EventKind.DISCONNECT,
            order.get(e.role or "", 0),
        )
    )
    notes.sort(key=lambda x: (x.t_s, order[x.role]))
    packets = tuple(Packet(x.t_s, x.role, x.payload, i) for i, x in enumerate(notes))

    ground_truth: dict[str, Any] = {
        "model_version": MODEL_VERSION,
        "seed": config.seed,
        "duration_s": float(dur),
        "roles": list(roles),
        "pacer": [
            {
                "start_s": float(s.start_s),
                "end_s": float(s.end_s),
                "rate_bpm": float(s.rate_bpm),
                "followers": list(s.followers) if s.followers is not None else list(roles),
            }
            for s in sorted(config.pacing, key=lambda s: s.start_s)
        ],
        "episodes": episode_truth(config.episodes, roles, t, slow_hr),
        "coupling": {
            "strength": float(c.strength) if coupled else 0.0,
            "lag_s": float(c.lag_s),
            "leader": c.leader if coupled else None,
            "follower": follower if coupled else None,
            "windows": [[float(a), float(b)] for a, b in windows] if coupled else [],
            "sign_convention": "the follower's slow heart-rate changes repeat the leader's "
            "lag_s seconds later",
        },
        "participants": participants,
        "config": config.to_dict(),
    }
    if config.assessment:
        ground_truth["assessment"] = _assessment_truth(config)
    return Simulation(
        config=config,
        packets=packets,
        events=tuple(events),
        true_beats=beats,
        ground_truth=jsonable(ground_truth),
    )


def _segments(
    cfg: SimulationConfig, p: PersonConfig, spont_rate: NDArray[np.float64], t: NDArray[np.float64]
) -> list[dict[str, Any]]:
    """Breathing segments of one person with their RSA amplitude."""
    paced = sorted(
        (s for s in cfg.pacing if s.followers is None or p.role in s.followers),
        key=lambda s: s.start_s,
    )
    out: list[dict[str, Any]] = []
    edge = 0.0

    def spontaneous(a: float, b: float) -> None:
        if b <= a:
            return
        sel = (t >= a) & (t < b)
        rate = float(np.mean(spont_rate[sel])) if sel.any() else p.breathing_rate_bpm
        amp = abs(rsa_response(rate, p))
        out.append(
            {
                "start_s": float(a),
                "end_s": float(b),
                "breathing": "spontaneous",
                "breathing_rate_bpm": round(rate, 3),
                "rsa_amplitude_ms": round(amp, 3),
                "rsa_peak_to_trough_ms": round(2 * amp, 3),
            }
        )

    for s in paced:
        spontaneous(edge, s.start_s)
        h = rsa_response(s.rate_bpm, p)
        amp = abs(h)
        out.append(
            {
                "start_s": float(s.start_s),
                "end_s": float(s.end_s),
                "breathing": "paced",
                "breathing_rate_bpm": float(s.rate_bpm),
                "rsa_amplitude_ms": round(amp, 3),
                "rsa_peak_to_trough_ms": round(2 * amp, 3),
                "steady_from_s": float(s.start_s + s.transition_s),
                "rsa_phase": "RR shortest at the end of each inhalation (pacer phase 0.5)",
            }
        )
        if p.baroreflex_share:
            out[-1]["rsa_phase"] = "RR shortest rsa_phase_deg after the end of each inhalation"
            out[-1]["rsa_phase_deg"] = round(float(np.degrees(np.angle(h))), 3)
        edge = s.end_s
    spontaneous(edge, cfg.duration_s)
    return out


def _assessment_events(cfg: SimulationConfig) -> list[Event]:
    """``assessment`` events for the pacer segments taken as the steps of one run."""
    steps = sorted(cfg.pacing, key=lambda s: s.start_s)
    out = []
    for i, seg in enumerate(steps):
        data = {"state": "step", "index": i, "rate_bpm": float(seg.rate_bpm)}
        data["duration_s"] = float(seg.end_s - seg.start_s)
        out.append(Event(float(seg.start_s), EventKind.ASSESSMENT, None, data))
        nxt = steps[i + 1].start_s if i + 1 < len(steps) else None
        if nxt is not None and nxt > seg.end_s:
            rest = {"state": "rest", "index": i, "duration_s": float(nxt - seg.end_s)}
            out.append(Event(float(seg.end_s), EventKind.ASSESSMENT, None, rest))
    out.append(Event(float(steps[-1].end_s), EventKind.ASSESSMENT, None, {"state": "end"}))
    return out


def _assessment_truth(cfg: SimulationConfig) -> dict[str, Any]:
    """Per person: the step rate where the simulated heart responds most."""
    rates = [float(s.rate_bpm) for s in sorted(cfg.pacing, key=lambda s: s.start_s)]
    out: dict[str, Any] = {"rates_bpm": rates, "largest_response_bpm": {}}
    for p in cfg.people:
        amps = [abs(rsa_response(r, p)) for r in rates]
        out["largest_response_bpm"][p.role] = rates[int(np.argmax(amps))]
    return out
