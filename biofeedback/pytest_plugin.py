"""pytest fixtures for replaying recorded sessions in your own tests.

Installed as a pytest plugin (entry point ``pytest11``), so with the package installed these
fixtures are available in any test suite:

``replay_session``
    A function ``replay_session(path) -> ReplayedSession`` that replays a session file and gives
    its items, beats per role and events. ::

        def test_my_metric(replay_session):
            s = replay_session("sample_data/dyad_session.session")
            rr = [b.rr_ms for b in s.beats["client"]]
            assert len(rr) > 500

``sample_session_path``
    The path of the bundled two-person sample session.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from biofeedback.beats import Beat, Event, SourceItem
from biofeedback.sources.replay import iter_session

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


@dataclass(frozen=True)
class ReplayedSession:
    """Everything a replay of one session file produced."""

    path: Path
    items: tuple[SourceItem, ...]
    beats: dict[str, list[Beat]]
    events: tuple[Event, ...]


def replay(path: str | os.PathLike[str]) -> ReplayedSession:
    """Replay ``path`` synchronously and collect its items (see :func:`iter_session`)."""
    items = tuple(iter_session(path))
    beats: dict[str, list[Beat]] = {}
    for i in items:
        if isinstance(i, Beat):
            beats.setdefault(i.role, []).append(i)
    return ReplayedSession(
        Path(path), items, beats, tuple(i for i in items if isinstance(i, Event))
    )


@pytest.fixture
def replay_session() -> Callable[[str | os.PathLike[str]], ReplayedSession]:
    return replay


@pytest.fixture
def sample_session_path() -> Path:
    path = SAMPLE_DATA / "dyad_session.session"
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path
