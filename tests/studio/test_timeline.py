"""Timeline: seeks are exact at random ticks, branches never see each other's events."""

from __future__ import annotations

import numpy as np
import pytest

from studio.events import InputEvent, Spawn, TimeOfDay
from studio.session import Session
from studio.spec import CharacterSpec, PropSpec, WorldSpec
from studio.timeline import TimelineError

SPEC = WorldSpec(
    seed=4,
    props=[PropSpec(kind="broadleaf_tree", density=1), PropSpec(kind="barrel", density=2)],
    characters=[
        CharacterSpec(kind="sheep", count=5, behaviour="wander"),
        CharacterSpec(kind="dog", count=2, behaviour="follow"),
        CharacterSpec(kind="bird", count=2, behaviour="circle"),
    ],
)


def _drive(s: Session, n: int, rng: np.random.Generator, hashes: dict[int, str]) -> None:
    keys = ["w", "a", "s", "d", "shift", "space", "e", "q"]
    for _ in range(n):
        if rng.random() < 0.1:
            held = tuple(k for k in keys[:5] if rng.random() < 0.3)
            s.apply(InputEvent(tick=0, held=held, look=tuple(rng.uniform(-20, 20, 2))))
        if rng.random() < 0.03:
            s.apply(InputEvent(tick=0, press=(str(rng.choice(["space", "e", "q"])),)))
        hashes[s.tick] = s.state.state_hash()
        s.advance()
    hashes[s.tick] = s.state.state_hash()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    s = Session.create(tmp_path_factory.mktemp("tl") / "w.tidepool", SPEC, snapshot_every=30)
    s.world_hashes = {}
    _drive(s, 400, np.random.default_rng(0), s.world_hashes)
    yield s
    s.close()


def test_seek_is_exact_at_random_ticks(session) -> None:
    rng = np.random.default_rng(1)
    for tick in [0, 1, 29, 30, 31, 399, 400, *rng.integers(0, 401, 12).tolist()]:
        assert (
            session.timeline.seek(session.branch, tick).state_hash() == session.world_hashes[tick]
        )


def test_seek_after_reopening_uses_the_file(session, tmp_path) -> None:
    session.store.set_head(session.branch.id, session.branch.head_tick)
    other = Session.open(session.store.path)
    try:
        for tick in (13, 200, 377):
            assert other.timeline.seek("main", tick).state_hash() == session.world_hashes[tick]
    finally:
        other.store.close()


def test_branches_are_isolated(tmp_path) -> None:
    s = Session.create(tmp_path / "b.tidepool", SPEC)
    main_hashes: dict[int, str] = {}
    _drive(s, 120, np.random.default_rng(2), main_hashes)
    s.rewind(2.0)
    assert s.tick == 60
    s.fork("alt")
    s.apply([TimeOfDay(tick=0, hour=21.0), Spawn(tick=0, creature="dragon", label="smaug")])
    alt_hashes: dict[int, str] = {}
    _drive(s, 90, np.random.default_rng(3), alt_hashes)
    assert s.state.hour == 21.0
    # main is untouched: same states, no dragon, the old hour
    for tick in (61, 90, 120):
        st = s.timeline.seek("main", tick)
        assert st.state_hash() == main_hashes[tick]
        assert "smaug" not in st.entities.labels
    # alt shares main's past exactly
    assert s.timeline.seek("alt", 45).state_hash() == main_hashes[45]
    assert s.timeline.seek("alt", 100).state_hash() == alt_hashes[100]
    s.switch("main")
    assert s.tick == 120 and s.state.state_hash() == main_hashes[120]
    tree = {b["name"]: b for b in s.branches()}
    assert tree["alt"]["parent"] == "main" and tree["alt"]["fork_tick"] == 60
    assert {"tick": 60, "kind": "fork", "label": "alt"} in tree["main"]["markers"]
    s.close()


def test_acting_in_the_past_forks_instead_of_rewriting(tmp_path) -> None:
    s = Session.create(tmp_path / "c.tidepool", SPEC)
    hashes: dict[int, str] = {}
    _drive(s, 90, np.random.default_rng(4), hashes)
    s.rewind(1.0)
    s.advance(10)  # playback of recorded history: same states
    assert s.state.state_hash() == hashes[70] and s.branch.name == "main"
    s.apply(InputEvent(tick=0, held=("d",)))
    assert s.branch.name == "main-2" and s.branch.fork_tick == 70
    assert s.timeline.seek("main", 90).state_hash() == hashes[90]
    with pytest.raises(TimelineError, match="before the start"):
        s.rewind(100.0)
    with pytest.raises(TimelineError, match="spans ticks"):
        s.timeline.seek("main", 5000)
    s.close()


def test_memory_snapshots_stay_bounded(tmp_path) -> None:
    s = Session.create(tmp_path / "m.tidepool", WorldSpec(seed=1), snapshot_every=5)
    s.timeline.memory_snapshots = 20
    s.timeline.dense_ticks = 50
    s.timeline.sparse_every = 100
    s.advance(1000)
    assert len(s.timeline._cache) <= 20
    assert len(s.store.snapshot_ticks(s.branch.id)) == 200  # the file keeps them all
    s.close()
