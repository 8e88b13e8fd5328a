"""Plain, hedged, non-clinical words for synchrony results, always against chance.

The words describe how the two heart-rate signals moved, never the people or the
relationship, and never call more or less synchrony better or worse (a reflective aid, not a
diagnosis). Lead/lag is hedged: "tended to precede ... by about 3 s".
"""

from __future__ import annotations

import math

from .live import LiveSnapshot
from .result import SynchronyResult

__all__ = ["describe"]


def _lead_words(leader: str | None, lag_s: float, when: str = "") -> str:
    """Who tended to change first, hedged; ``when`` ends the sentence (e.g. " in the last
    half minute"): empty for a whole session or stretch, which the caller names."""
    if leader not in ("client", "therapist") or not math.isfinite(lag_s):
        return ""
    first, second = ("client", "therapist") if leader == "client" else ("therapist", "client")
    secs = max(0.5, round(abs(lag_s) * 2) / 2)
    num = f"{secs:g}"
    return (
        f" The {first}'s heart-rate changes tended to precede the {second}'s by about {num} s"
        f"{when}."
    )


def describe(result: SynchronyResult | LiveSnapshot) -> str:
    """Plain, hedged, non-clinical words for a synchrony result, always against chance.

    Used by both the dashboard (:class:`LiveSnapshot`) and the session report
    (:class:`SynchronyResult`). The words describe how the two heart-rate signals moved, never
    the people or the relationship, and never call more or less synchrony better or worse.
    """
    if isinstance(result, LiveSnapshot):
        return _describe_live(result)
    r = result
    found = r.shared_rhythm.source == "shared rhythm"
    if r.n_segments == 0 or not math.isfinite(r.z_mean):
        if r.pacer_driven:
            return _shared_words(r, short=True)
        return (
            "Not enough clean heart-rate data from both people to compare their heart-rate "
            "changes with chance."
        )
    chance = (
        f"(p = {r.p_value:.2g} against {r.n_surrogates} pairings of segments from different times)"
    )
    parts = []
    if r.pacer_driven:
        parts.append(_shared_words(r))
        prefix = "Apart from that shared rhythm, " if found else "Apart from the pacer rhythm, "
    else:
        prefix = ""
    if r.p_value < r.alpha:
        phase = (
            "rose and fell together"
            if r.p_in_phase <= r.p_anti_phase
            else "tended to move in opposite directions"
        )
        text = (
            f"{prefix}the two heart rates {phase} more than expected by chance {chance}."
            + _lead_words(r.leader, r.peak_lag_s)
        )
        if r.leader == "none":
            text += " Neither person's changes clearly came first."
    else:
        text = f"{prefix}no more synchrony than expected by chance {chance}."
    parts.append(text[0].upper() + text[1:])
    return " ".join(parts)


def _shared_words(r: SynchronyResult, short: bool = False) -> str:
    """The sentence for a stretch where both followed one breathing rhythm."""
    if r.shared_rhythm.source == "shared rhythm":
        rate = r.shared_rhythm.shared_rate_bpm
        about = f" (about {rate:.1f} per minute)" if math.isfinite(rate) else ""
        head = (
            f"Both heart rates rose and fell with the same slow rhythm{about} for most of this "
            "stretch, as with both breathing to the same rhythm (one pacer or guided recording)"
        )
    elif short:
        head = (
            "Both were following the pacer, so their heart rates rose and fell with the same "
            "breathing rhythm"
        )
    else:
        head = (
            "Both were following the pacer for most of this stretch, so their heart rates rose "
            "and fell with the same breathing rhythm"
        )
    if short:
        return head + "; the stretch is too short to compare anything beyond that with chance."
    return head + "; that shared rhythm is not counted as synchrony."


def _describe_live(s: LiveSnapshot) -> str:
    if s.pacer_driven and math.isfinite(s.shared_rhythm_bpm):
        return (
            "Both breathing to the same rhythm, it seems: both heart rates rise and fall with "
            f"the same slow rhythm (about {s.shared_rhythm_bpm:.1f} per minute), which is not "
            "synchrony between them."
        )
    if s.pacer_driven:
        return (
            "Both following the pacer: their heart rates rise and fall with the same breathing "
            "rhythm, which is not synchrony between them."
        )
    if not math.isfinite(s.value):
        if s.status == "not enough data yet":
            return "Not enough data yet to compare the two heart rates."
        return "Waiting for clean beats from both straps."
    if s.band is None:
        return "Not enough data yet for a chance comparison."
    if s.phase is None:
        return "No more synchrony than expected by chance right now (within the chance band)."
    how = "moving together" if s.phase == "in-phase" else "moving in opposite directions"
    text = f"The two heart rates are {how} more than the chance band."
    lag = s.lag_s if s.phase == "in-phase" else s.anti_lag_s
    return text + _lead_words(s.leader, lag, " in the last half minute")
