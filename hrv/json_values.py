"""Results as plain JSON values: the one place where ``nan`` becomes ``null``.

Numbers that cannot be computed are ``nan`` inside the program (design.md: short windows give
``nan``, never exceptions); JSON has no ``nan``, and the ``analyze --json`` contract says
unknown values are ``null``, never missing keys. :func:`json_safe` makes that one conversion
for every JSON the program writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["json_safe"]


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Mappings become dicts (keys kept), lists and tuples become lists, NumPy scalars become
    Python numbers and booleans, and non-finite floats (``nan``, ``inf``) become ``None``.
    Other values (str, int, bool, None) are returned as they are.
    """
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    return value
