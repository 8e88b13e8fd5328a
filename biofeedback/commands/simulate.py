"""``biofeedback simulate``: write a synthetic session whose ground truth is in its metadata."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from biofeedback.errors import UserError
from biofeedback.recorder import record_to_file
from biofeedback.simulate import (
    ActivationEpisode,
    CouplingConfig,
    PacedSegment,
    PersonConfig,
    SimulationConfig,
)
from biofeedback.sources.simulated import SimulatedSource
from biofeedback.store import SessionFileError, SessionReader

__all__ = ["build_config", "register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="write a synthetic session (ground truth stored in its metadata)",
        description="Simulate one or two people's heart beats as chest-strap notifications "
        "and write them to a session file. Without --solo the roles are therapist and client "
        "(therapist 68 bpm breathing 13/min, client 76 bpm breathing 15/min). --pace-bpm makes "
        "everyone follow the pacer for the whole session; --coupling couples the two people's "
        "slow heart-rate changes for the whole session.",
    )
    p.add_argument("--out", required=True, type=Path, help="session file to write")
    p.add_argument("--minutes", type=float, default=10.0, help="session length (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--pace-bpm",
        type=float,
        default=None,
        help="pacer rate for the whole session, breaths per minute (3-30; 0 or absent: none)",
    )
    p.add_argument("--coupling", type=float, default=0.0, help="coupling strength 0..1 (default 0)")
    p.add_argument(
        "--lag-s", type=float, default=3.0, help="follower's delay behind the leader, s (default 3)"
    )
    p.add_argument(
        "--leader", choices=("therapist", "client"), default="client", help="default client"
    )
    p.add_argument(
        "--ectopic-per-min", type=float, default=0.0, help="ectopic beats per minute (default 0)"
    )
    p.add_argument("--solo", action="store_true", help="one person (role 'solo')")
    p.add_argument(
        "--episode-at",
        type=float,
        action="append",
        default=[],
        metavar="S",
        help="an activation episode (heart rate rises, then settles) starting S seconds into "
        "the session; repeat for more",
    )
    p.add_argument(
        "--episode-person",
        choices=("client", "therapist"),
        default="client",
        help="whose heart rate rises (default client; ignored with --solo)",
    )
    p.add_argument(
        "--episode-rise-bpm", type=float, default=18.0, help="rise, beats/min (default 18)"
    )
    p.add_argument(
        "--episode-settle-tau-s",
        type=float,
        default=30.0,
        help="time constant of the return, seconds (default 30)",
    )
    p.add_argument(
        "--episode-other",
        choices=("steady", "rose"),
        default="steady",
        help="the other person's heart rate meanwhile (default steady)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace any existing file")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> SimulationConfig:
    """Check the options and build the simulation; bad values raise :class:`UserError`."""

    def finite(name: str, v: float) -> float:
        if not math.isfinite(v):
            raise UserError(f"{name} must be a finite number, not {v}")
        return v

    minutes = finite("--minutes", args.minutes)
    if not 0 < minutes <= 24 * 60:
        raise UserError(f"--minutes must be above 0 and at most 1440, not {args.minutes:g}")
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, not {args.seed}")
    coupling = finite("--coupling", args.coupling)
    if not 0 <= coupling <= 1:
        raise UserError(f"--coupling must be between 0 and 1, not {args.coupling:g}")
    lag = finite("--lag-s", args.lag_s)
    if not 0 <= lag <= 30:
        raise UserError(f"--lag-s must be between 0 and 30 seconds, not {args.lag_s:g}")
    ectopic = finite("--ectopic-per-min", args.ectopic_per_min)
    if not 0 <= ectopic <= 20:
        raise UserError(f"--ectopic-per-min must be between 0 and 20, not {args.ectopic_per_min:g}")
    pace = args.pace_bpm
    if pace is not None and pace != 0 and not (math.isfinite(pace) and 3 <= pace <= 30):
        raise UserError(
            f"--pace-bpm must be between 3 and 30 breaths per minute (0 for none), not {pace:g}"
        )
    if args.solo and coupling > 0:
        raise UserError("--coupling needs two people; leave out --solo")
    duration = minutes * 60.0
    if args.solo:
        people: tuple[PersonConfig, ...] = (
            PersonConfig("solo", mean_hr_bpm=70.0, ectopic_per_min=ectopic),
        )
    else:
        people = (
            PersonConfig(
                "therapist", mean_hr_bpm=68.0, breathing_rate_bpm=13.0, ectopic_per_min=ectopic
            ),
            PersonConfig(
                "client",
                mean_hr_bpm=76.0,
                breathing_rate_bpm=15.0,
                ectopic_per_min=ectopic,
                contact=True,
            ),
        )
    pacing = (PacedSegment(0.0, duration, pace, transition_s=0.0),) if pace else ()
    return SimulationConfig(
        people=people,
        duration_s=duration,
        seed=args.seed,
        pacing=pacing,
        coupling=CouplingConfig(coupling, lag, args.leader) if coupling > 0 else CouplingConfig(),
        episodes=_episodes(args, duration),
    )


def _episodes(args: argparse.Namespace, duration_s: float) -> tuple[ActivationEpisode, ...]:
    """The ``--episode-*`` options as episodes; bad values raise :class:`UserError`."""
    starts = [float(x) for x in getattr(args, "episode_at", None) or []]
    if not starts:
        return ()
    rise = float(args.episode_rise_bpm)
    tau = float(args.episode_settle_tau_s)
    if not (math.isfinite(rise) and 1 <= rise <= 60):
        raise UserError(f"--episode-rise-bpm must be between 1 and 60, not {rise:g}")
    if not (math.isfinite(tau) and 2 <= tau <= 300):
        raise UserError(f"--episode-settle-tau-s must be between 2 and 300 seconds, not {tau:g}")
    for s in starts:
        if not (math.isfinite(s) and 0 <= s < duration_s):
            raise UserError(f"--episode-at {s:g} is not inside the {duration_s:g} s session")
    if args.solo and args.episode_other == "rose":
        raise UserError("--episode-other rose needs two people; leave out --solo")
    person = "solo" if args.solo else args.episode_person
    return tuple(
        ActivationEpisode(
            person,
            s,
            rise_bpm=rise,
            settle_tau_s=tau,
            other="steady" if args.solo else args.episode_other,
        )
        for s in sorted(starts)
    )


def run(args: argparse.Namespace) -> int:
    config = build_config(args)
    out: Path = args.out
    overwrite = bool(args.overwrite)
    if out.is_dir():
        raise UserError(f"{out}: is a folder; give a file name for the session")
    if out.exists() and not overwrite:
        try:
            with SessionReader(out) as r:
                simulated = r.meta.get("source") == "simulator"
        except SessionFileError:
            simulated = False
        if not simulated:
            raise UserError(
                f"{out}: file exists and is not a simulated session; pass --overwrite to replace it"
            )
        overwrite = True
    source = SimulatedSource(config)
    stats = record_to_file(source, out, overwrite=overwrite)
    beats = ", ".join(f"{r} {stats.beats.get(r, 0)} beats" for r in source.roles)
    print(f"wrote {out}: {beats}, {stats.last_t_s:.1f} s")
    return 0
