"""Words for activation-and-settling episodes (:mod:`hrv.episodes`): one neutral sentence each.

They say what the heart rate did (when it rose, by how much, how long it took to come back,
what the other person's did), never why or whether that was good or bad; they are shown
beside "a reflective aid, not a diagnosis".
"""

from __future__ import annotations

from hrv.episodes import Episode

__all__ = ["describe_episode"]


def _clock(t_s: float) -> str:
    s = round(t_s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


_OTHER_WORDS = {
    "steady": "stayed steady meanwhile",
    "rose": "rose too",
    "unknown": "could not be followed meanwhile (gap or irregular beats)",
}


def describe_episode(e: Episode) -> str:
    """One neutral sentence, e.g. "The client's heart rate rose by 18 beats/min at 12:30 and
    settled within 95 s; the therapist's stayed steady meanwhile." (``at`` is the start of
    the rise; ``within`` counts from its peak)."""
    other_role = {"client": "therapist", "therapist": "client"}.get(e.person)
    who = "The" if e.person == "solo" else f"The {e.person}'s"
    text = f"{who} heart rate rose by {e.rise_bpm:.0f} beats/min at {_clock(e.start_s)}"
    if e.settle_s is not None:
        text += f" and settled within {e.settle_s:.0f} s of its peak"
    else:
        text += " and had not settled by the end of the record"
    if e.other is not None and other_role is not None:
        text += f"; the {other_role}'s {_OTHER_WORDS[e.other]}"
    return text + "."
