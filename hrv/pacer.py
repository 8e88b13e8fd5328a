"""The breathing pacer as a pure model: target lung volume and stage as functions of session time.

**One cycle.** A pacer at ``rate_bpm`` breaths per minute has the cycle length
``T = 60 / rate_bpm`` seconds, and **the holds are inside that cycle**, so ``rate_bpm`` is the
true number of breaths per minute whatever the holds. With the hold after the inhalation ``h1``
and after the exhalation ``h2`` (seconds) the time left for moving air is ``B = T - h1 - h2``;
the inhale share ``s`` splits it into inhalation ``I = s B`` and exhalation ``E = (1 - s) B``.
A cycle runs, from its start (inhalation onset, pacer phase 0)::

    in [0, I)   hold_in [I, I + h1)   out [I + h1, I + h1 + E)   hold_out [T - h2, T)

As fractions of the cycle the stage boundaries are ``c0 = 0``, ``c1 = I / T``,
``c2 = (I + h1) / T``, ``c3 = (I + h1 + E) / T`` and ``c4 = 1``. Within a stage of length
``D`` the progress is ``x = (time into the stage) / D`` in ``[0, 1)``.

**Target lung volume** (0 empty .. 1 full) is a raised cosine per stage, smooth with zero
slope at every stage boundary::

    in: (1 - cos(pi x)) / 2     hold_in: 1     out: (1 + cos(pi x)) / 2     hold_out: 0

Its steepest slope is ``pi / (2 D)`` per second, at the middle of a stage of length ``D``.

**Changes keep the shape continuous.** The pacer's state is the continuous cycle count
``p = k + u`` (``k`` whole cycles since the pacer was switched on, ``u`` the fraction of the
current cycle). Between changes ``p`` grows by ``rate_bpm / 60`` per second. When the settings
change at ``t_c`` from A to B while the pacer runs, the stage ``j`` (``c_j <= u < c_{j+1}``) and
the progress in it are kept, and the cycle fraction is remapped from A's boundaries to B's::

    x  = (u - c_j^A) / (c_{j+1}^A - c_j^A)
    u' = c_j^B + x (c_{j+1}^B - c_j^B)
    p(t) = k + u' + (t - t_c) rate_B / 60      for t >= t_c

The volume depends only on ``(j, x)``, so it is the same just before and just after the change
(no jump), and the stage (rising, full, falling, empty) is kept, so the direction never
reverses. Only the speed changes: the slope is scaled by the ratio of the two stage lengths.
If B has no hold where A was holding (``h = 0``) the remapped point is the end of that empty
stage, the start of the next one, at the same volume (1 after the inhale, 0 after the exhale).
With holds of zero a pure rate change leaves ``u`` unchanged (the boundaries do not depend on
the rate), so ``p`` itself is continuous; a change of the inhale share or of a hold moves ``u``
within the current cycle (never ``k``). Switching the pacer on (from off) starts a new cycle
count at 0 with an inhalation at the switch-on time.

Recorded events hold :meth:`PacerSettings.to_dict` (``rate_bpm`` 0 for off); an event with
only ``rate_bpm`` (older recordings) reads as a 1:1 cycle without holds.

Pure: NumPy only, no I/O. Short or empty input gives empty arrays; times before the first
change, or while the pacer is off, give ``nan`` (and stage ``None``), never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .pacer_schedule import rate_in_force

__all__ = [
    "HOLD_RANGE_S",
    "INHALE_SHARE_RANGE",
    "MIN_BREATH_STAGE_S",
    "RATE_RANGE_BPM",
    "RATE_STEP_BPM",
    "RECORDED_RATE_RANGE_BPM",
    "STAGES",
    "PacerSettings",
    "PacerTimeline",
    "event_data",
]

FloatArray = NDArray[np.float64]

#: Pacer rates a user can choose, breaths per minute (slow resonance breathing to calm rest).
RATE_RANGE_BPM = (3.0, 10.0)
#: Rates are set in steps of 0.1 breaths per minute.
RATE_STEP_BPM = 0.1
#: Rates accepted from a recording with ``strict=False`` (the simulator paces up to 30/min).
RECORDED_RATE_RANGE_BPM = (1.0, 30.0)
#: Inhalation as a share of the breathing time (the cycle without the holds).
INHALE_SHARE_RANGE = (0.3, 0.7)
#: Each hold, seconds.
HOLD_RANGE_S = (0.0, 5.0)
#: The holds must leave at least this long for each of inhalation and exhalation, seconds.
MIN_BREATH_STAGE_S = 1.0
#: Stage names in cycle order.
STAGES = ("in", "hold_in", "out", "hold_out")


@dataclass(frozen=True, slots=True)
class PacerSettings:
    """One setting of the breathing pacer (validated on construction).

    Parameters
    ----------
    rate_bpm : float
        Breaths per minute, 3-10 in steps of 0.1. The cycle ``60 / rate_bpm`` s includes the
        holds, so this is the true breathing rate.
    inhale_share : float
        Inhalation as a share of the breathing time (cycle minus holds), 0.3-0.7; 0.5 is 1:1,
        0.4 the common 4:6.
    hold_after_inhale_s, hold_after_exhale_s : float
        Holds with full and with empty lungs, 0-5 s each.
    strict : bool, keyword only, not stored
        ``False`` accepts a recorded rate anywhere in 1-30 breaths/min at any resolution (for
        reading recordings made with the simulator); everything else is checked as usual.

    Raises
    ------
    ValueError
        A value out of range, a rate off the 0.1 grid, or holds leaving less than
        :data:`MIN_BREATH_STAGE_S` for the inhalation or the exhalation.
    """

    rate_bpm: float
    inhale_share: float = 0.5
    hold_after_inhale_s: float = 0.0
    hold_after_exhale_s: float = 0.0
    strict: InitVar[bool] = True

    def __post_init__(self, strict: bool) -> None:
        values = (self.rate_bpm, self.inhale_share, self.hold_after_inhale_s)
        if not all(math.isfinite(float(v)) for v in (*values, self.hold_after_exhale_s)):
            raise ValueError(f"pacer settings must be finite numbers, not {self!r}")
        lo, hi = RATE_RANGE_BPM if strict else RECORDED_RATE_RANGE_BPM
        rate = float(self.rate_bpm)
        if not lo <= rate <= hi:
            raise ValueError(f"pacer rate must be {lo:g}-{hi:g} breaths per minute, not {rate:g}")
        steps = rate / RATE_STEP_BPM
        if strict and abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"pacer rate goes in steps of 0.1 breaths per minute, not {rate:g}")
        if strict:
            rate = round(steps) * RATE_STEP_BPM  # 5.499999999 -> 5.5 exactly as the user meant
        object.__setattr__(self, "rate_bpm", round(rate, 9))
        share = float(self.inhale_share)
        if not INHALE_SHARE_RANGE[0] <= share <= INHALE_SHARE_RANGE[1]:
            raise ValueError(f"inhale share must be 0.3-0.7 of the breath, not {share:g}")
        object.__setattr__(self, "inhale_share", share)
        for name in ("hold_after_inhale_s", "hold_after_exhale_s"):
            hold = float(getattr(self, name))
            if not HOLD_RANGE_S[0] <= hold <= HOLD_RANGE_S[1]:
                raise ValueError(f"{name.replace('_', ' ')[:-2]} must be 0-5 s, not {hold:g} s")
            object.__setattr__(self, name, hold)
        shortest = min(self.inhale_s, self.exhale_s)
        if shortest < MIN_BREATH_STAGE_S - 1e-9:
            raise ValueError(
                f"holds of {self.hold_after_inhale_s:g} s and {self.hold_after_exhale_s:g} s "
                f"leave {shortest:.1f} s to breathe in or out at {self.rate_bpm:g} breaths per "
                f"minute; each needs at least {MIN_BREATH_STAGE_S:g} s"
            )

    @property
    def cycle_s(self) -> float:
        """Cycle length ``60 / rate_bpm`` in seconds, holds included."""
        return 60.0 / self.rate_bpm

    @property
    def breathing_s(self) -> float:
        """Time for moving air per cycle: the cycle minus both holds, seconds."""
        return self.cycle_s - self.hold_after_inhale_s - self.hold_after_exhale_s

    @property
    def inhale_s(self) -> float:
        """Inhalation length, seconds."""
        return self.inhale_share * self.breathing_s

    @property
    def exhale_s(self) -> float:
        """Exhalation length, seconds."""
        return (1.0 - self.inhale_share) * self.breathing_s

    @property
    def stage_s(self) -> tuple[float, float, float, float]:
        """Lengths of the four stages (in, hold_in, out, hold_out), seconds."""
        return (self.inhale_s, self.hold_after_inhale_s, self.exhale_s, self.hold_after_exhale_s)

    @property
    def boundaries(self) -> tuple[float, float, float, float, float]:
        """Stage boundaries as cycle fractions ``(0, c1, c2, c3, 1)`` (see module docstring)."""
        t = self.cycle_s
        i, h1, e, _ = self.stage_s
        return (0.0, i / t, (i + h1) / t, (i + h1 + e) / t, 1.0)

    def to_dict(self) -> dict[str, float]:
        """The settings as recorded in a pacer event (plain floats, JSON-ready)."""
        return {
            "rate_bpm": self.rate_bpm,
            "inhale_share": self.inhale_share,
            "hold_after_inhale_s": self.hold_after_inhale_s,
            "hold_after_exhale_s": self.hold_after_exhale_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = True) -> PacerSettings | None:
        """Settings from a recorded pacer event; ``None`` when the event switches it off.

        Parameters
        ----------
        data : mapping
            ``rate_bpm`` (0 or absent: off) and optionally ``inhale_share``,
            ``hold_after_inhale_s``, ``hold_after_exhale_s``; missing ones take the defaults
            (1:1, no holds), as events recorded before these settings existed hold only the
            rate. Other keys are ignored.
        strict : bool
            See :class:`PacerSettings`; ``False`` when reading recordings.

        Raises
        ------
        ValueError
            A value that is not a number or is out of range.
        """
        try:
            rate = float(data.get("rate_bpm", 0.0) or 0.0)
            share = float(data.get("inhale_share", 0.5))
            hold_in = float(data.get("hold_after_inhale_s", 0.0))
            hold_out = float(data.get("hold_after_exhale_s", 0.0))
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"pacer event data is not a set of numbers: {data!r}") from exc
        if rate == 0.0:
            return None
        return cls(rate, share, hold_in, hold_out, strict=strict)


def event_data(settings: PacerSettings | None) -> dict[str, float]:
    """What a pacer event records: :meth:`PacerSettings.to_dict`, or ``{"rate_bpm": 0.0}`` (off)."""
    return {"rate_bpm": 0.0} if settings is None else settings.to_dict()


def _stage_and_progress(settings: PacerSettings, u: float) -> tuple[int, float]:
    """Stage index and progress ``x`` in it for the cycle fraction ``u`` in ``[0, 1)``."""
    c = settings.boundaries
    for j in range(4):
        width = c[j + 1] - c[j]
        if width > 0 and u < c[j + 1]:
            return j, min(max((u - c[j]) / width, 0.0), 1.0)
    return 3, 1.0  # u rounded up to 1.0: the end of the cycle


def _remap(old: PacerSettings, new: PacerSettings, u: float) -> float:
    """Cycle fraction under ``new`` with the same stage and progress as ``u`` under ``old``."""
    j, x = _stage_and_progress(old, u)
    c = new.boundaries
    return c[j] + x * (c[j + 1] - c[j])


@dataclass(frozen=True)
class PacerTimeline:
    """The pacer's settings over a session: an immutable list of changes.

    Parameters
    ----------
    changes : tuple of (float, PacerSettings or None)
        ``(t_s, settings)`` in non-decreasing session time (s); ``None`` switches the pacer
        off. Before the first change the pacer is off. At equal times the later entry is in
        force. Build it with :meth:`changed` (each call returns a new timeline).

    Notes
    -----
    Cycle count, volume and stage follow the module docstring; every query is vectorised
    over ``t_s`` (scalar in, scalar out; array in, array out).
    """

    changes: tuple[tuple[float, PacerSettings | None], ...] = ()
    _t: FloatArray = field(init=False, repr=False, compare=False)
    _p0: FloatArray = field(init=False, repr=False, compare=False)
    _rate: FloatArray = field(init=False, repr=False, compare=False)
    _c: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.changes)
        t = np.empty(n)
        p0 = np.full(n, np.nan)
        rate = np.full(n, np.nan)
        c = np.full((n, 5), np.nan)
        prev: PacerSettings | None = None
        prev_t = -math.inf
        for i, (t_s, settings) in enumerate(self.changes):
            t_s = float(t_s)
            if not math.isfinite(t_s) or t_s < prev_t:
                raise ValueError(f"pacer changes must come in time order, not {t_s:g} s")
            if settings is not None and not isinstance(settings, PacerSettings):
                raise TypeError(f"pacer change needs PacerSettings or None, not {settings!r}")
            t[i] = t_s
            if settings is not None:
                rate[i] = settings.rate_bpm
                c[i] = settings.boundaries
                if prev is None:
                    p0[i] = 0.0
                else:
                    p = p0[i - 1] + (t_s - prev_t) * prev.rate_bpm / 60.0
                    k = math.floor(p)
                    p0[i] = k + _remap(prev, settings, p - k)
            prev, prev_t = settings, t_s
        for name, arr in (("_t", t), ("_p0", p0), ("_rate", rate), ("_c", c)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def changed(self, t_s: float, settings: PacerSettings | None) -> PacerTimeline:
        """A new timeline with the pacer set to ``settings`` (``None``: off) from ``t_s`` on.

        Raises
        ------
        ValueError
            ``t_s`` before the last change.
        """
        return PacerTimeline((*self.changes, (float(t_s), settings)))

    @classmethod
    def from_events(
        cls, events: list[tuple[float, Mapping[str, Any]]], *, strict: bool = False
    ) -> PacerTimeline:
        """A timeline from recorded pacer events ``(t_s, data)``, oldest first.

        See :meth:`PacerSettings.from_dict`; ``strict=False`` by default, as recordings may hold
        simulator rates outside the user range.
        """
        tl = cls()
        for t_s, data in events:
            tl = tl.changed(t_s, PacerSettings.from_dict(data, strict=strict))
        return tl

    # -- queries -------------------------------------------------------------------------------

    def _index(self, t: FloatArray) -> NDArray[np.intp]:
        """Index of the change in force at each time (-1 before the first)."""
        return np.searchsorted(self._t, t, side="right") - 1

    def settings_at(self, t_s: float) -> PacerSettings | None:
        """Settings in force at session time ``t_s`` (``None``: off)."""
        i = int(self._index(np.asarray([float(t_s)]))[0])
        return None if i < 0 else self.changes[i][1]

    def after_event(self, t_s: float, data: Mapping[str, Any]) -> PacerTimeline:
        """The timeline after a recorded pacer event: the one rule the engine and analysis share.

        Parameters
        ----------
        t_s : float
            The event's session time (s). An event earlier than the last change (or than 0
            for the first one) takes effect at that time instead, so a clock step back never
            reorders the pacer.
        data : mapping
            The event's data, read by :meth:`PacerSettings.from_dict` with ``strict=False``.

        Raises
        ------
        ValueError
            Data that are not valid pacer settings: the event is not applied (the caller
            leaves it out and says so).
        """
        settings = PacerSettings.from_dict(data, strict=False)
        last = self.changes[-1][0] if self.changes else 0.0
        return self.changed(max(float(t_s), last), settings)

    def rate_changes(self) -> list[tuple[float, float]]:
        """The rate-only schedule ``[(t_s, rate_bpm)]`` (0 = off) that synchrony and RSA take.

        The one place such schedules are derived from the pacer (see
        :mod:`hrv.pacer_schedule`). Every change is listed, in order; of several at one time
        the last is in force, so a schedule may be sorted by time only (a stable sort), never
        by ``(t_s, rate_bpm)``.
        """
        return [(t_s, 0.0 if s is None else s.rate_bpm) for t_s, s in self.changes]

    def rate_bpm_at(self, t_s: ArrayLike) -> FloatArray | float:
        """Pacer rate in breaths per minute at ``t_s``; ``nan`` while off.

        The rule of :func:`hrv.pacer_schedule.rate_in_force` (as for rate-only schedules).
        """
        return rate_in_force(self._t, self._rate, t_s)

    def phase_cycles(self, t_s: ArrayLike) -> FloatArray | float:
        """Cycle count since the pacer was last switched on (``nan`` while off).

        The integer part counts whole cycles, the fraction is the position in the current
        cycle (0 = inhalation onset); see the module docstring for changes.
        """
        t = np.asarray(t_s, dtype=float)
        if not self._t.size:
            return np.full(t.shape, np.nan)[()]
        i = np.maximum(self._index(t), 0)
        before = t < self._t[0]
        p = self._p0[i] + (t - self._t[i]) * self._rate[i] / 60.0
        return np.where(before, np.nan, p)[()]

    def cycle_origin_s(self, t_s: float) -> float:
        """A session time at which a cycle of the settings in force at ``t_s`` starts.

        The inhalation onset of the current cycle, extrapolated back with the current rate:
        the reference time ``t0_s`` of :func:`hrv.rsa.rsa_at_rate`. ``nan`` while off.
        """
        i = int(self._index(np.asarray([float(t_s)]))[0])
        if i < 0 or self.changes[i][1] is None:
            return math.nan
        p0 = float(self._p0[i])
        return float(self._t[i] - (p0 - math.floor(p0)) * 60.0 / self._rate[i])

    def _stage_arrays(self, t_s: ArrayLike) -> tuple[NDArray[np.intp], FloatArray, np.ndarray]:
        """Stage index (-1 when off), progress in it, and whether the input was a scalar."""
        t = np.asarray(t_s, dtype=float)
        p = np.asarray(self.phase_cycles(t), dtype=float)
        on = np.isfinite(p)
        u = np.where(on, p - np.floor(np.where(on, p, 0.0)), 0.0)
        i = np.maximum(self._index(t), 0)
        c = self._c[i] if self._c.size else np.zeros((*t.shape, 5))
        # First stage whose end lies beyond u (empty stages are skipped by the strict compare).
        j = np.sum(u[..., None] >= c[..., 1:4], axis=-1)
        j = np.where(on, j, -1)
        jj = np.clip(j, 0, 3)
        lo = np.take_along_axis(c, jj[..., None], axis=-1)[..., 0]
        hi = np.take_along_axis(c, jj[..., None] + 1, axis=-1)[..., 0]
        width = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(on & (width > 0), (u - lo) / np.where(width > 0, width, 1.0), 0.0)
        return j, np.clip(x, 0.0, 1.0), t

    def volume(self, t_s: ArrayLike) -> FloatArray | float:
        """Target lung volume 0 (empty) .. 1 (full) at ``t_s``; ``nan`` while off."""
        j, x, _ = self._stage_arrays(t_s)
        rise = 0.5 * (1.0 - np.cos(np.pi * x))
        v = np.select([j == 0, j == 1, j == 2, j == 3], [rise, 1.0, 1.0 - rise, 0.0], np.nan)
        return v[()]

    def stage(self, t_s: ArrayLike) -> str | np.ndarray | None:
        """Stage at ``t_s``: ``"in"``, ``"hold_in"``, ``"out"``, ``"hold_out"``, ``None`` if off.

        A scalar time gives a string or ``None``; an array gives an object array.
        """
        j, _, t = self._stage_arrays(t_s)
        if t.ndim == 0:
            k = int(j)
            return STAGES[k] if k >= 0 else None
        names = np.array([*STAGES, None], dtype=object)
        return names[np.where(j < 0, 4, j)]

    def stage_progress(self, t_s: ArrayLike) -> FloatArray | float:
        """Progress ``x`` in 0..1 through the current stage (``nan`` while off)."""
        j, x, _ = self._stage_arrays(t_s)
        return np.where(j < 0, np.nan, x)[()]
