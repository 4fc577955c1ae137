"""Pathfinding: walkers go around walls to their goal, and an unreachable goal is refused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio import navigation
from studio.events import MoveTo
from studio.sim import run
from studio.sim.state import M_MOVE_TO, Entities, SimState
from studio.sim.step import _new_entities


@dataclass(frozen=True)
class Box:
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    shape: str = "box"
    yaw: float = 0.0
    owner: str = "castle_wall"


class Walled:
    """Flat ground with a 20 m wall across x = 0 (z in -10..10); optionally a closed ring."""

    water_level = -100.0

    def __init__(self, ring: bool = False) -> None:
        self.boxes = [Box((0.0, 1.5, 0.0), (0.5, 1.5, 10.0))]
        if ring:  # a closed square pen around (10, 0)
            self.boxes = [Box((10.0, 1.5, -4.0), (4.5, 1.5, 0.5)), Box((10.0, 1.5, 4.0), (4.5, 1.5, 0.5)),
                          Box((6.0, 1.5, 0.0), (0.5, 1.5, 4.5)), Box((14.0, 1.5, 0.0), (0.5, 1.5, 4.5))]  # fmt: skip

    def height_at(self, x, z):
        return np.zeros(np.shape(x)) if np.ndim(x) else 0.0

    def normal_at(self, x, z):
        return np.array([0.0, 1.0, 0.0])

    def colliders_near(self, x, z, radius):
        return self.boxes


def _state(pos) -> SimState:
    s = SimState()
    s.entities, s.next_id = _new_entities(
        [dict(kind="humanoid", behaviour="idle", pos=np.array(pos, float), yaw=0.0, scale=1.0,
              label="knight", seed=1)], 0, 0)  # fmt: skip
    return s


def test_the_path_goes_around_the_wall_never_through_it() -> None:
    w = Walled()
    p = navigation.path(w, (-6.0, 0.0, 0.0), (6.0, 0.0, 0.0))
    assert p is not None
    assert not np.any((np.abs(p[:, 0]) <= 0.5) & (np.abs(p[:, 1]) <= 10.0))
    assert np.abs(p[:, 1]).max() > 10.0  # it had to round an end of the wall
    length = np.linalg.norm(np.diff(p, axis=0), axis=1).sum()
    straight_around = 2 * np.hypot(6.0, 10.5)
    assert length < straight_around * 1.15  # close to the shortest way round


def test_a_walker_reaches_within_a_metre_going_around_the_wall() -> None:
    w = Walled()
    s = _state((-6.0, 0.0, 0.0))
    s = run(w, s, {0: [MoveTo(tick=0, target="knight", to=(6.0, 0.0, 0.0))]}, 30 * 30)
    e = s.entities
    assert np.hypot(e.pos[0, 0] - 6.0, e.pos[0, 2]) <= 1.0
    assert e.mode[0] != M_MOVE_TO


def test_no_path_is_refused_with_a_reason_in_the_ui_and_the_log() -> None:
    w = Walled(ring=True)
    s = _state((-6.0, 0.0, 0.0))
    s = run(w, s, {0: [MoveTo(tick=0, target="knight", to=(10.0, 0.0, 0.0))]}, 3)
    assert "no path" in s.subtitle
    assert any(ed.kind == "fail" for ed in s.edits)
    assert np.allclose(s.entities.pos[0], (-6.0, 0.0, 0.0), atol=0.2)  # it did not try
    assert isinstance(s.entities, Entities)
