"""Publish a session to Lab Streaming Layer: one RR outlet per person, live metrics at 1 Hz,
and markers (stream layout in :mod:`biofeedback.lsl`).

:class:`LslPublisher` is a listener: call it with every session item (beats, events), as the
session controller does for its listeners
(:meth:`biofeedback.session.SessionController.add_listener`). Beat
``t_s`` on the session clock becomes the LSL time stamp ``session_start_lsl + t_s``, where
``session_start_lsl`` is the LSL clock at the session's time 0. In a live session or a
real-time replay that is the moment the beat happened; in a faster replay it is the
session's own timeline laid on the LSL clock, so a reader still gets every beat's recorded
time (stamp minus ``session_start_lsl``).
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Callable, Sequence
from typing import Any

from biofeedback import __version__
from biofeedback.beats import Beat, Event, EventKind, SourceItem
from biofeedback.lsl import LSL_PREFIX, load_pylsl, rr_stream_name

__all__ = ["LslPublisher"]

log = logging.getLogger(__name__)

#: Per-person metrics channels: (label, unit, ParticipantSnapshot attribute).
METRICS = (
    ("hr", "bpm", "hr_bpm"),
    ("rmssd", "ms", "rmssd_ms"),
    ("rsa_amplitude", "ms", "rsa_amplitude_ms"),
)


class LslPublisher:
    """LSL outlets for one session.

    Parameters
    ----------
    roles : sequence of str
        The people in the session (one RR outlet each).
    prefix : str
        Stream name prefix (``PREFIX-ROLE-RR``, ``PREFIX-metrics``, ``PREFIX-markers``).
    snapshot : callable, optional
        Returns the engine's current :class:`~biofeedback.engine.Snapshot`; without it no
        metrics stream is published. Can be set later (``publisher.snapshot = ...``).
    session_start_lsl : float, optional
        LSL time of session time 0; now by default (create the publisher as the session
        starts).
    """

    def __init__(
        self,
        roles: Sequence[str],
        *,
        prefix: str = LSL_PREFIX,
        snapshot: Callable[[], Any] | None = None,
        session_start_lsl: float | None = None,
    ) -> None:
        self._lsl = pylsl = load_pylsl()
        self.roles = tuple(roles)
        self.prefix = prefix
        self.snapshot = snapshot
        self.session_start_lsl = (
            pylsl.local_clock() if session_start_lsl is None else float(session_start_lsl)
        )
        self._next_metrics_s = 1.0
        self._closed = False
        self.rr: dict[str, Any] = {}
        for role in self.roles:
            info = self._info(
                rr_stream_name(prefix, role), "RR", [("RR", "ms")], pylsl.IRREGULAR_RATE, role
            )
            self.rr[role] = pylsl.StreamOutlet(info, chunk_size=1, max_buffered=600)
        labels = [(f"{r}_{label}", unit) for r in self.roles for label, unit, _ in METRICS]
        if {"therapist", "client"} <= set(self.roles):
            labels += [("synchrony_z", "z"), ("synchrony_lag", "s")]
        self._metric_labels = labels
        self.metrics = pylsl.StreamOutlet(
            self._info(f"{prefix}-metrics", "Metrics", labels, 1.0, None), max_buffered=600
        )
        self.markers = pylsl.StreamOutlet(
            self._info(f"{prefix}-markers", "Markers", [("marker", "")], pylsl.IRREGULAR_RATE,
                       None, fmt="string"),
            max_buffered=600,
        )  # fmt: skip
        log.info("publishing to LSL: %s", ", ".join(self.stream_names()))

    def _info(
        self,
        name: str,
        kind: str,
        channels: list[tuple[str, str]],
        rate: float,
        role: str | None,
        fmt: str = "double64",
    ) -> Any:
        pylsl = self._lsl
        info = pylsl.StreamInfo(
            name, kind, len(channels), rate, fmt, f"{name}@{socket.gethostname()}"
        )
        desc = info.desc()
        if role is not None:
            desc.append_child_value("role", role)
        desc.append_child_value("session_start_lsl", repr(self.session_start_lsl))
        desc.append_child_value("program", f"coregulation-monitor {__version__}")
        chans = desc.append_child("channels")
        for label, unit in channels:
            ch = chans.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", unit)
            ch.append_child_value("type", kind)
        return info

    def wait_for_consumers(self, timeout_s: float) -> bool:
        """Wait until every RR stream has a reader (at most ``timeout_s`` in all); ``True`` if
        all were there. For replays that a recorder must receive from the first beat. The
        session clock keeps counting from when the streams were opened (``session_start_lsl``
        in their description cannot change), so time stamps stay what the description says."""
        deadline = self._lsl.local_clock() + timeout_s
        return all(
            outlet.wait_for_consumers(max(0.0, deadline - self._lsl.local_clock()))
            for outlet in self.rr.values()
        )

    def stream_names(self) -> list[str]:
        """Names of every stream this publisher serves."""
        return [
            *(rr_stream_name(self.prefix, r) for r in self.roles),
            f"{self.prefix}-metrics",
            f"{self.prefix}-markers",
        ]

    def lsl_time(self, t_s: float) -> float:
        """The LSL time stamp of session time ``t_s``."""
        return self.session_start_lsl + t_s

    def __call__(self, item: SourceItem) -> None:
        """Publish what ``item`` holds (beats, markers and the like); other items only move the
        1 Hz metrics clock."""
        if self._closed:
            return
        if isinstance(item, Beat):
            outlet = self.rr.get(item.role)
            if outlet is not None:
                outlet.push_sample([item.rr_ms], self.lsl_time(item.t_s))
        elif isinstance(item, Event):
            text = _marker_text(item)
            if text is not None:
                self.markers.push_sample([text], self.lsl_time(item.t_s))
        t = getattr(item, "t_s", None)
        if t is not None:
            self._metrics_until(float(t))

    def _metrics_until(self, t_s: float) -> None:
        if self.snapshot is None or t_s < self._next_metrics_s:
            return
        snap = self.snapshot()
        values: list[float] = []
        for role in self.roles:
            p = snap.participants.get(role) if snap is not None else None
            for _, _, attr in METRICS:
                v = getattr(p, attr, math.nan) if p is not None else math.nan
                values.append(float(v) if v is not None else math.nan)
        if len(values) < len(self._metric_labels):
            sync = getattr(snap, "synchrony", None)
            values += [
                float(getattr(sync, "value", math.nan) if sync is not None else math.nan),
                float(getattr(sync, "lag_s", math.nan) if sync is not None else math.nan),
            ]
        stamp_s = math.floor(t_s)
        self.metrics.push_sample(values, self.lsl_time(stamp_s))
        self._next_metrics_s = stamp_s + 1.0

    def close(self) -> None:
        """Withdraw every stream (readers see them end); later items are ignored."""
        self.rr.clear()
        self.snapshot = None
        self._closed = True


def _marker_text(e: Event) -> str | None:
    """The markers-stream text of an event, ``None`` for events not published there."""
    who = f"{e.role} " if e.role else ""
    if e.kind == EventKind.MARKER:
        return f"marker: {e.data.get('text', '')}"
    if e.kind == EventKind.PACER:
        rate = float(e.data.get("rate_bpm") or 0.0)
        return f"pacer {rate:g}/min" if rate > 0 else "pacer off"
    if e.kind in (EventKind.CONNECT, EventKind.DISCONNECT):
        return f"{who}{e.kind}"
    if e.kind == EventKind.GAP:
        return f"{who}gap {e.data.get('start_s', e.t_s):.1f}-{e.data.get('end_s', e.t_s):.1f} s"
    if e.kind == EventKind.BASELINE:
        return f"baseline {e.data.get('state', '')}"
    return None
