"""RR interval files: reading (any supported format, see :mod:`biofeedback.formats`) and
writing Kubios-style RR text.

Reading lives in :mod:`biofeedback.formats`, one module per format; the names below are
re-exported for the callers that read "an RR file" without caring which kind.
"""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

from biofeedback.formats import RRFileError, RRSeries, read_rr_file, read_rr_people

__all__ = ["RRFileError", "RRSeries", "read_rr_file", "read_rr_people", "write_rr_txt"]


def write_rr_txt(path: str | os.PathLike[str], rr_ms: NDArray[np.float64]) -> None:
    """Write intervals one per line in ms, user-readable only (mode 0600).

    Up to 7 decimals, trailing zeros dropped: strap values (multiples of 1000/1024 ms) are
    written exactly.
    """
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as fh:
        for v in np.asarray(rr_ms, dtype=float):
            fh.write(f"{v:.7f}".rstrip("0").rstrip(".") + "\n")
