"""``biofeedback simulate``: write a synthetic session whose ground truth is in its metadata."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
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
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="session length (default 10; with --assessment it follows from the steps)",
    )
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
        "--ectopic-per-min",
        type=float,
        default=0.0,
        help="irregular short-long beat pairs inserted per minute (default 0)",
    )
    p.add_argument("--solo", action="store_true", help="one person (role 'solo')")
    p.add_argument(
        "--resonance-bpm",
        type=float,
        default=None,
        help="breathing rate (3-10 breaths/min) where the simulated heart responds most "
        "(default 6; with --assessment a sharper response than in ordinary sessions)",
    )
    p.add_argument(
        "--assessment",
        action="store_true",
        help="one person doing the resonance-frequency assessment: 1 min resting, then each "
        "rate of --assessment-rates for --step-s with --rest-s rests, then 30 s",
    )
    p.add_argument(
        "--assessment-rates",
        default="6.5,6.0,5.5,5.0,4.5",
        metavar="R,R,...",
        help="assessment step rates, breaths/min, in order (default 6.5,6.0,5.5,5.0,4.5)",
    )
    p.add_argument("--step-s", type=float, default=120.0, help="assessment step length, s (120)")
    p.add_argument("--rest-s", type=float, default=30.0, help="rest between steps, s (default 30)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing file (refused without it)"
    )
    p.add_argument(
        "--series",
        type=int,
        metavar="N",
        help="write N sessions of one --label, a week apart, into the folder --out: a resting "
        "baseline then the pacer at 6/min, the client's (or --solo person's) resting RMSSD "
        "changing by --drift-rmssd-ms per session; the truth is in each file's metadata",
    )
    p.add_argument("--label", help="session label of a --series (e.g. a client code)")
    p.add_argument(
        "--drift-rmssd-ms",
        type=float,
        default=0.0,
        help="change of resting RMSSD per session in a --series, ms (default 0)",
    )
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
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> SimulationConfig:
    """Check the options and build the simulation; bad values raise :class:`UserError`."""

    def finite(name: str, v: float) -> float:
        if not math.isfinite(v):
            raise UserError(f"{name} must be a finite number, not {v}")
        return v

    if getattr(args, "assessment", False):
        return _assessment_config(args, finite)
    minutes = finite("--minutes", 10.0 if args.minutes is None else args.minutes)
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
    resonance = _resonance(args, finite)
    if args.solo:
        people: tuple[PersonConfig, ...] = (
            PersonConfig(
                "solo", mean_hr_bpm=70.0, ectopic_per_min=ectopic, resonance_bpm=resonance
            ),
        )
    else:
        people = (
            PersonConfig(
                "therapist",
                mean_hr_bpm=68.0,
                breathing_rate_bpm=13.0,
                ectopic_per_min=ectopic,
                resonance_bpm=resonance,
            ),
            PersonConfig(
                "client",
                mean_hr_bpm=76.0,
                breathing_rate_bpm=15.0,
                ectopic_per_min=ectopic,
                contact=True,
                resonance_bpm=resonance,
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


def _resonance(args: argparse.Namespace, finite) -> float:
    r = getattr(args, "resonance_bpm", None)
    if r is None:
        return 6.0
    if not 3 <= finite("--resonance-bpm", r) <= 10:
        raise UserError(f"--resonance-bpm must be between 3 and 10 breaths per minute, not {r:g}")
    return r


#: Lead-in before the first step and time after the last, s.
_ASSESSMENT_LEAD_S = 60.0
_ASSESSMENT_TAIL_S = 30.0


def _assessment_config(args: argparse.Namespace, finite) -> SimulationConfig:
    """One person doing the resonance-frequency assessment (``--assessment``).

    The person sits quietly (slow heart-rate fluctuations of 1.5 beats/min standard deviation
    instead of the 3 of a conversation) and has a sharp baroreflex resonance at
    ``--resonance-bpm`` (``baroreflex_share`` 0.6, half-width 0.8 breaths/min; see
    :mod:`biofeedback.simulate.physiology`), and follows the pacer in every step (10 s to
    settle on a new rate).
    """
    if args.minutes is not None:
        raise UserError("--minutes does not go with --assessment: the steps set the length")
    if args.coupling > 0:
        raise UserError("--coupling needs two people; an assessment is one person")
    if args.pace_bpm:
        raise UserError("--pace-bpm does not go with --assessment: the steps set the pacer")
    try:
        rates = [float(x) for x in str(args.assessment_rates).split(",") if x.strip()]
    except ValueError:
        raise UserError(
            f"--assessment-rates must be numbers separated by commas, not {args.assessment_rates!r}"
        ) from None
    if not rates or not all(math.isfinite(r) and 3 <= r <= 10 for r in rates):
        raise UserError(
            f"--assessment-rates must be 3-10 breaths per minute each, not {args.assessment_rates}"
        )
    step = finite("--step-s", args.step_s)
    rest = finite("--rest-s", args.rest_s)
    if not 30 <= step <= 600:
        raise UserError(f"--step-s must be between 30 and 600 seconds, not {step:g}")
    if not 0 <= rest <= 600:
        raise UserError(f"--rest-s must be between 0 and 600 seconds, not {rest:g}")
    ectopic = finite("--ectopic-per-min", args.ectopic_per_min)
    if not 0 <= ectopic <= 20:
        raise UserError(f"--ectopic-per-min must be between 0 and 20, not {ectopic:g}")
    if args.seed < 0:
        raise UserError(f"--seed must be 0 or more, not {args.seed}")
    segments, t = [], _ASSESSMENT_LEAD_S
    for i, r in enumerate(rates):
        segments.append(PacedSegment(t, t + step, r, transition_s=10.0))
        t += step + (rest if i < len(rates) - 1 else 0.0)
    person = PersonConfig(
        "solo",
        mean_hr_bpm=70.0,
        arousal_sd_bpm=1.5,
        ectopic_per_min=ectopic,
        resonance_bpm=_resonance(args, finite),
        baroreflex_share=0.6,
        baroreflex_width_bpm=0.8,
    )
    return SimulationConfig(
        people=(person,),
        duration_s=t + _ASSESSMENT_TAIL_S,
        seed=args.seed,
        pacing=tuple(segments),
        assessment=True,
    )


def run(args: argparse.Namespace) -> int:
    if getattr(args, "series", None) is not None:
        return _run_series(args)
    config = build_config(args)
    out: Path = args.out
    overwrite = bool(args.overwrite)
    if out.is_dir():
        raise UserError(f"{out}: is a folder; give a file name for the session")
    if out.exists() and not overwrite:
        raise UserError(f"{out}: file exists; pass --overwrite to replace it")
    # Written beside the target and moved into place at the end, so a failure (or Ctrl-C)
    # never leaves a half-written session, and --overwrite replaces the old file only then.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    source = SimulatedSource(config)
    try:
        stats = record_to_file(source, tmp)
        if not overwrite and out.exists():
            raise UserError(f"{out}: file exists; pass --overwrite to replace it")
        for suffix in ("-wal", "-shm", "-journal"):  # the replaced file's, never the new one's
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{out}{suffix}")
        os.replace(tmp, out)
    except OSError as exc:
        raise UserError(f"{out}: cannot write the session: {exc.strerror or exc}") from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{tmp}{suffix}")
    beats = ", ".join(f"{r} {stats.beats.get(r, 0)} beats" for r in source.roles)
    print(f"wrote {out}: {beats}, {stats.last_t_s:.1f} s")
    return 0


def _run_series(args: argparse.Namespace) -> int:
    """``--series N``: sessions of one label with a known drift (see ``simulate.series``)."""
    from biofeedback.simulate.series import simulate_series

    if not 1 <= args.series <= 100:
        raise UserError(f"--series must be between 1 and 100 sessions, not {args.series}")
    if not args.label or "/" in args.label or args.label.startswith("."):
        raise UserError("--series needs a --label (a client code; no '/' and not starting '.')")
    if args.pace_bpm or args.coupling or args.ectopic_per_min:
        raise UserError("--series uses its own layout; leave out --pace-bpm, --coupling, --ectopic")
    if not math.isfinite(args.drift_rmssd_ms) or not math.isfinite(args.minutes):
        raise UserError("--drift-rmssd-ms and --minutes must be finite numbers")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"{args.out}: is a file; --series writes into a folder")
    try:
        paths = simulate_series(
            args.out,
            n=args.series,
            label=args.label,
            drift_rmssd_ms=args.drift_rmssd_ms,
            minutes=args.minutes,
            seed=args.seed,
            solo=args.solo,
            overwrite=args.overwrite,
        )
    except ValueError as exc:
        raise UserError(f"--series: {exc}") from exc
    print(f"wrote {len(paths)} sessions labelled {args.label!r} into {args.out}")
    return 0
