"""Strap delivery: a person's beats packed into Heart Rate Measurement notifications.

session clock, with the RR of the beats since its previous notification (0-3 typically; up to
9 fit one 20-byte notification) and the rounded instantaneous heart rate of the last beat.
Occasionally (``late_bursts_per_min``) a strap holds its notifications for 2-4 s and then sends
the held RR together. A drop-out is a stretch with no notifications: the source emits
``disconnect`` at its start and ``connect`` at its end, and beats inside it are lost. Packets
get one ``seq`` counter across participants, in arrival order.

Because a receiver anchors the first beats after a (re)connect on arrival, its beat times are
the true times plus a constant offset per connected stretch (the latency plus the wait from the
last beat to the notification, 0-1 s); :attr:`Simulation.ground_truth` lists the offsets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biofeedback import gatt
from biofeedback.simulate.settings import PersonConfig, SimulationConfig

__all__ = ["Notification", "packetize"]

RR_UNITS_PER_S = gatt.RR_UNITS_PER_S
_MAX_RR_PER_PACKET = 9  # flags + u8 HR + 9 * u16 = 20 bytes, the default ATT payload


@dataclass
class Notification:
    t_s: float
    role: str
    payload: bytes


def packetize(
    rng: np.random.Generator,
    cfg: SimulationConfig,
    p: PersonConfig,
    t_beats: NDArray[np.float64],
    raw: NDArray[np.int64],
) -> tuple[list[Notification], NDArray[np.bool_], list[dict[str, float]], list[dict[str, float]]]:
    """Notifications of one strap, the delivered mask, bursts and timing offsets."""
    interval = cfg.notify_interval_s
    lat_lo, lat_hi = cfg.latency_s
    dur = cfg.duration_s
    n_beats = t_beats.size
    delivered = np.zeros(n_beats, dtype=bool)
    out: list[Notification] = []
    bursts: list[dict[str, float]] = []
    offsets: list[dict[str, float]] = []
    p_burst = cfg.late_bursts_per_min * interval / 60.0
    dropouts = sorted(p.dropouts)
    schedule_t = float(rng.uniform(0.05, interval))
    sent_until = 0.0  # beats after this time are not yet sent
    cursor = 0  # first beat index not yet sent (or skipped)
    hr_field = round(p.mean_hr_bpm)
    need_anchor = True
    last_arrival = -math.inf

    def emit(t_arr: float, upto: float) -> None:
        nonlocal cursor, hr_field, need_anchor, last_arrival
        # Skip beats lost before the current connection.
        while cursor < n_beats and t_beats[cursor] <= sent_until:
            cursor += 1
        idx = []
        while cursor < n_beats and t_beats[cursor] <= upto:
            idx.append(cursor)
            cursor += 1
        chunks = [idx[i : i + _MAX_RR_PER_PACKET] for i in range(0, len(idx), _MAX_RR_PER_PACKET)]
        if not chunks:
            chunks = [[]]
        for j, chunk in enumerate(chunks):
            rr = [float(raw[i]) * 1000.0 / RR_UNITS_PER_S for i in chunk]
            if rr:
                hr_field = round(60000.0 / rr[-1])
            arr = max(t_arr + 0.002 * j, last_arrival + 1e-3)
            payload = gatt.encode(gatt.measurement(hr_field, rr, contact=p.contact))
            out.append(Notification(arr, p.role, payload))
            last_arrival = arr
            if chunk:
                delivered[chunk] = True
                if need_anchor:
                    offsets.append(
                        {
                            "connected_s": sent_until,
                            "from_s": arr,
                            "offset_s": arr - float(t_beats[chunk[-1]]),
                        }
                    )
                    need_anchor = False

    while schedule_t <= dur:
        drop = next(((a, b) for a, b in dropouts if a <= schedule_t < b), None)
        if drop is not None:
            # The strap is gone: beats until it is back are lost; the timer re-anchors.
            while schedule_t < drop[1]:
                schedule_t += interval
            sent_until = drop[1]
            need_anchor = True
            continue
        latency = float(rng.uniform(lat_lo, lat_hi))
        if p_burst > 0 and rng.uniform() < p_burst:
            delay = float(rng.uniform(2.0, 4.0))
            release = schedule_t + delay
            if release < dur and not any(
                a - interval <= release and schedule_t <= b + interval for a, b in dropouts
            ):
                emit(release + latency, release)
                sent_until = release
                bursts.append({"t_s": schedule_t, "delay_s": delay})
                while schedule_t <= release:
                    schedule_t += interval
                continue
        emit(schedule_t + latency, schedule_t)
        sent_until = schedule_t
        schedule_t += interval
    return out, delivered, bursts, offsets
