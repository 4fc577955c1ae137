"""Props placed by directing are solid: the player cannot walk through a directed cart, a
character told to walk past it routes around it, and removing a prop clears the way."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio import navigation
from studio.events import InputEvent, MoveTo, PropEdit
from studio.sim import initial_state, step
from studio.sim.creatures import heading_to
from studio.sim.placed import directed_props
from studio.sim.player import RADIUS
from studio.sim.state import M_MOVE_TO
from studio.spec import CharacterSpec, LandmarkSpec, Terrain, WorldSpec
from studio.world import World


@pytest.fixture(scope="module")
def world() -> World:
    spec = WorldSpec(
        seed=9,
        terrain=Terrain(height_scale=0.0),
        landmarks=[LandmarkSpec(kind="well")],
        characters=[CharacterSpec(kind="humanoid", label="knight", behaviour="idle")],
    )
    return World(spec, background=False)


@pytest.fixture(scope="module")
def cart(world: World):
    """A state with a cart directed next to the well, the cart, and a line through it
    (unit xz direction perpendicular to the well -> cart offset, so the well is not in the way)."""
    s = initial_state(world)
    s = step(world, s, [PropEdit(tick=0, op="spawn", prop="cart", near="well")])
    (inst,) = directed_props(world, s).added
    (box,) = world.instance_colliders(inst)
    well = next(lm for lm in world.landmarks if lm.kind == "well")
    off = np.array(inst.position)[[0, 2]] - np.array(well.position)[[0, 2]]
    line = np.array([-off[1], off[0]]) / np.hypot(*off)
    return s, box, line


def _inside(box, x: float, z: float, pad: float) -> bool:
    """Is (x, z) within the box's footprint grown by `pad` (its own turned frame)?"""
    a = math.radians(box.yaw)
    dx, dz = x - box.center[0], z - box.center[2]
    lx, lz = math.cos(a) * dx - math.sin(a) * dz, math.sin(a) * dx + math.cos(a) * dz
    return abs(lx) < box.size[0] + pad and abs(lz) < box.size[2] + pad


def _walk_player(world, s, start: np.ndarray, line: np.ndarray, ticks: int):
    p = s.player
    p.x, p.z = float(start[0]), float(start[1])
    p.y = float(world.height_at(p.x, p.z))
    yaw = float(heading_to(np.array(line[0]), np.array(line[1])))
    s = step(world, s, [InputEvent(tick=s.tick, held=("w",), look=(yaw - p.yaw, 0.0))])
    track = []
    for _ in range(ticks):
        s = step(world, s)
        track.append((s.player.x, s.player.z))
    return np.array(track)


def test_the_player_cannot_walk_through_a_directed_cart(world: World, cart) -> None:
    s, box, line = cart
    centre = np.array([box.center[0], box.center[2]])
    start = centre - 6.0 * line
    track = _walk_player(world, s.copy(), start, line, 90)  # 12 m of walking at 4 m/s
    assert not any(_inside(box, x, z, RADIUS - 0.02) for x, z in track)
    assert np.hypot(*(track[-1] - start)) < 6.0  # stopped (or slid) at the cart, not past it
    # without the edit the same walk goes straight through where the cart stands
    free = _walk_player(world, initial_state(world), start, line, 90)
    assert any(_inside(box, x, z, 0.0) for x, z in free)


def test_a_character_routes_around_a_directed_cart(world: World, cart) -> None:
    s, box, line = cart
    s = s.copy()
    centre = np.array([box.center[0], box.center[2]])
    a, b = centre - 6.0 * line, centre + 6.0 * line
    k = s.entities.labels.index("knight")
    s.entities.pos[k] = (a[0], float(world.height_at(*a)), a[1])
    goal = (float(b[0]), float(world.height_at(*b)), float(b[1]))
    s = step(world, s, [MoveTo(tick=s.tick, target="knight", to=goal)])
    track = []
    while s.entities.mode[k] == M_MOVE_TO:
        s = step(world, s)
        track.append(s.entities.pos[k, [0, 2]].copy())
        assert len(track) < 30 * 30
    assert np.hypot(*(track[-1] - b)) <= navigation.ARRIVE
    assert not any(_inside(box, x, z, 0.0) for x, z in track)
    # pathfinding sees the cart: the route detours; the world alone would go straight through
    edits = navigation.edits_of(world, s)
    start3 = (float(a[0]), 0.0, float(a[1]))
    around = navigation.path(world, start3, goal, edits=edits)
    straight = navigation.path(world, start3, goal)
    assert not any(_inside(box, x, z, 0.0) for x, z in around)
    assert any(_inside(box, x, z, 0.0) for x, z in straight)


def test_removing_the_cart_clears_the_way(world: World, cart) -> None:
    s, box, line = cart
    s = step(world, s.copy(), [PropEdit(tick=s.tick, op="remove", prop="cart", near="well")])
    assert directed_props(world, s).added == ()
    centre = np.array([box.center[0], box.center[2]])
    track = _walk_player(world, s, centre - 6.0 * line, line, 90)
    assert any(_inside(box, x, z, 0.0) for x, z in track)
