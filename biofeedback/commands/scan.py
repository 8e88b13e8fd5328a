"""``biofeedback scan``: list heart-rate straps in range (name, address, RSSI)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from biofeedback.errors import UserError
from biofeedback.straps import run_scan

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "scan",
        help="list heart-rate straps in range",
        description="List Bluetooth heart-rate straps in range (those advertising the Heart "
        "Rate service), strongest signal first. Addresses are UUIDs on macOS.",
    )
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds to listen (default 5)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.timeout > 0:
        raise UserError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    found = run_scan(args.timeout, args.backend)
    if args.json:
        print(json.dumps([s.as_dict() for s in found], indent=2))
        return 0
    if not found:
        print(
            f"No heart-rate strap found within {args.timeout:g} s. Wear the strap (most sleep "
            "when dry or not worn) and check that no other app holds its connection."
        )
        return 0
    width = max(len(s.address) for s in found)
    print(f"{'RSSI':>8}  {'ADDRESS':<{width}}  NAME")
    for s in found:
        print(f"{s.rssi_dbm:>4} dBm  {s.address:<{width}}  {s.name or '(no name)'}")
    return 0
