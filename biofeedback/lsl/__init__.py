"""Lab Streaming Layer (LSL): publish a session's streams, and take beats from one.

Off unless asked for (``--lsl``, or ``lsl:NAME`` as a strap address): nothing here is imported
and no socket is opened otherwise. LSL discovers streams by multicast on the local network,
as configured by ``lsl_api.cfg`` or the file ``LSLAPICFG`` names (``ResolveScope`` decides how
far: ``machine``, ``link``, ``site``...); tests use a machine-only configuration.

Streams published for a session named ``NAME`` (default ``coregulation``):

* ``NAME-ROLE-RR`` (type ``RR``): one sample per beat, the RR interval in ms that ends at the
  beat, irregular rate, time-stamped with the beat time on the LSL clock;
* ``NAME-metrics`` (type ``Metrics``): once per second of session time, heart rate (the
  snapshot's ``hr_bpm``: 60000 / median of the newest 5 unflagged intervals), RMSSD and
  RSA amplitude per person and the live synchrony strength;
* ``NAME-markers`` (type ``Markers``): markers, pacer changes, connects, disconnects and gaps.

Each stream's ``desc`` names its channels with units, the role (``desc/role``), the program,
and ``session_start_lsl``: the LSL time of the session's time 0, so a reader can turn time
stamps back into session time.
"""

from __future__ import annotations

from types import ModuleType

from biofeedback.errors import UserError

__all__ = ["LSL_PREFIX", "load_pylsl", "rr_stream_name"]

#: Default prefix of the stream names this program publishes.
LSL_PREFIX = "coregulation"


def load_pylsl() -> ModuleType:
    """``pylsl``, or one line saying how to get it."""
    try:
        import pylsl
    except ImportError:
        raise UserError(
            "Lab Streaming Layer needs the pylsl package: pip install 'coregulation-monitor[lsl]'"
        ) from None
    except RuntimeError as exc:  # pylsl raises this when liblsl cannot be loaded
        raise UserError(f"Lab Streaming Layer library could not be loaded: {exc}") from None
    return pylsl


def rr_stream_name(prefix: str, role: str) -> str:
    """The name of one person's RR stream: ``PREFIX-ROLE-RR``."""
    return f"{prefix}-{role}-RR"
