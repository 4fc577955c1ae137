"""The simulation against analytic answers on the real World, and its determinism."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from studio.events import Attack, InputEvent, ModeEvent, Remove, Spawn, TimeOfDay, WeatherEvent
from studio.sim import (
    DT,
    FLY_SPEED,
    GRAVITY,
    JUMP_APEX,
    SPRINT_SPEED,
    WALK_SPEED,
    SimState,
    initial_state,
    step,
)
from studio.sim.creatures import FLEE_RADIUS
from studio.sim.player import COYOTE_TICKS, JUMP_SPEED, MAX_SLOPE_DEG
from studio.spec import CharacterSpec, PropSpec, Terrain, WorldSpec
from studio.world import World


@pytest.fixture(scope="module")
def flat() -> World:
    return World(WorldSpec(terrain=Terrain(height_scale=0.0)), background=False)


@pytest.fixture(scope="module")
def lively() -> World:
    spec = WorldSpec(
        seed=11,
        props=[PropSpec(kind="conifer", density=2), PropSpec(kind="crate", density=2)],
        characters=[
            CharacterSpec(kind="deer", count=6, behaviour="flee"),
            CharacterSpec(kind="wolf", count=4, behaviour="wander"),
            CharacterSpec(kind="bird", count=3, behaviour="circle"),
            CharacterSpec(kind="humanoid", count=2, behaviour="patrol", label="guard"),
        ],
    )
    return World(spec, background=False)


def _steps(world, s: SimState, n: int, events: dict[int, list] | None = None) -> SimState:
    for _ in range(n):
        s = step(world, s, (events or {}).get(s.tick, ()))
    return s


def test_jump_apex_is_analytic(flat) -> None:
    s = initial_state(flat)
    ground = s.player.y
    s = step(flat, s, [InputEvent(tick=0, press=("space",))])
    heights, t_land = [s.player.y - ground], None
    for _ in range(60):
        s = step(flat, s)
        heights.append(s.player.y - ground)
        if t_land is None and s.player.on_ground:
            t_land = s.tick
    assert max(heights) == pytest.approx(JUMP_APEX, abs=0.02)
    # each tick's height lies on the analytic parabola y(t) = v t - g t²/2
    v = math.sqrt(2 * GRAVITY * JUMP_APEX)
    t = np.arange(1, 12) * DT
    np.testing.assert_allclose(heights[:11], v * t - GRAVITY * t * t / 2, atol=1e-9)
    assert t_land == math.ceil(2 * v / GRAVITY / DT)


def test_fall_time_from_a_height(flat) -> None:
    s = initial_state(flat)
    ground = s.player.y
    h = 5.0
    s.player.y, s.player.on_ground = ground + h, False
    ticks = 0
    while not s.player.on_ground:
        s = step(flat, s)
        ticks += 1
    assert ticks == math.ceil(math.sqrt(2 * h / GRAVITY) / DT)
    assert s.player.y == ground


@pytest.mark.parametrize(
    ("keys", "speed"), [(("w",), WALK_SPEED), (("w", "shift"), SPRINT_SPEED), (("d",), WALK_SPEED)]
)
def test_walk_and_sprint_distance_in_two_seconds(flat, keys, speed) -> None:
    s = initial_state(flat)
    start = s.player.pos
    s = step(flat, s, [InputEvent(tick=0, held=keys)])
    s = _steps(flat, s, 59)
    travelled = np.linalg.norm(s.player.pos - start)
    assert travelled == pytest.approx(2.0 * speed, abs=1e-9)
    assert s.player.y == start[1]


def test_wasd_is_relative_to_the_view(flat) -> None:
    s = initial_state(flat)
    start = s.player.pos
    # turn 90° left (yaw +90 looks along -X), then walk forward one second
    s = step(flat, s, [InputEvent(tick=0, held=("w",), look=(90.0, 0.0))])
    s = _steps(flat, s, 29)
    np.testing.assert_allclose(s.player.pos - start, [-WALK_SPEED, 0, 0], atol=1e-9)


def test_fly_speed_and_vertical_keys(flat) -> None:
    s = initial_state(flat)
    s = step(flat, s, [InputEvent(tick=0, press=("f",))])
    assert s.player.move == "fly"
    a = s.player.pos
    s = step(flat, s, [InputEvent(tick=1, held=("space",))])
    s = _steps(flat, s, 29)
    assert s.player.pos[1] - a[1] == pytest.approx(FLY_SPEED, abs=1e-9)
    b = s.player.pos
    s = step(flat, s, [InputEvent(tick=s.tick, held=("w",))])
    s = _steps(flat, s, 29)
    assert np.linalg.norm(s.player.pos - b) == pytest.approx(FLY_SPEED, abs=1e-9)
    # back to walking: the player falls to the ground
    s = step(flat, s, [ModeEvent(tick=s.tick, move="walk")])
    s = _steps(flat, s, 90)
    assert s.player.on_ground and s.player.y == pytest.approx(a[1])


def test_coyote_time_allows_a_late_jump_but_not_a_second_one(flat) -> None:
    def walked_off(late: int, presses: int = 1) -> SimState:
        s = initial_state(flat)
        s.player.y += 3.0  # standing on a ledge that ends here: the next tick falls
        s = _steps(flat, s, late)
        for _ in range(presses):
            s = step(flat, s, [InputEvent(tick=s.tick, press=("space",))])
        return s

    assert walked_off(COYOTE_TICKS).player.vy == pytest.approx(JUMP_SPEED - GRAVITY * DT)
    assert walked_off(COYOTE_TICKS + 2).player.vy < 0  # too late: still falling
    twice, once = walked_off(1, presses=2), walked_off(1)
    once = step(flat, once)
    assert twice.player.y == once.player.y  # no double jump


def test_steep_slopes_are_not_walkable() -> None:
    world = World(
        WorldSpec(seed=5, terrain=Terrain(height_scale=120.0, roughness=1.0)), background=False
    )
    xs, zs = np.meshgrid(np.linspace(-300, 300, 241), np.linspace(-300, 300, 241))
    n = world.normal_at(xs.ravel(), zs.ravel())
    steep = np.degrees(np.arccos(np.clip(n[:, 1], -1, 1))) > MAX_SLOPE_DEG + 15
    if not steep.any():
        pytest.skip("no slope over 60° in this terrain sample")
    i = int(np.flatnonzero(steep)[0])
    x, z = xs.ravel()[i], zs.ravel()[i]
    # stand downhill of the steep spot, facing up the slope, and walk for two seconds
    g = -n[i, [0, 2]] / np.linalg.norm(n[i, [0, 2]])  # uphill direction (x, z)
    s = initial_state(world)
    s.player.x, s.player.z = x - 0.3 * g[0], z - 0.3 * g[1]
    s.player.y = float(world.height_at(s.player.x, s.player.z))
    yaw = math.degrees(math.atan2(-g[0], -g[1]))
    s = step(world, s, [InputEvent(tick=0, held=("w",), look=(yaw, 0.0))])
    start_h = s.player.y
    s = _steps(world, s, 59)
    climbed = s.player.y - start_h
    walked = 2 * WALK_SPEED
    assert climbed < walked * math.sin(math.radians(MAX_SLOPE_DEG + 15))


def test_fleeing_creature_ends_farther_away(flat) -> None:
    s = initial_state(flat)
    p = s.player.pos
    s = step(
        flat,
        s,
        [Spawn(tick=0, creature="deer", count=3, behaviour="flee", near=(p[0], p[1], p[2] - 4))],
    )
    before = np.hypot(*(s.entities.pos - p)[:, [0, 2]].T)
    s = _steps(flat, s, 90)
    after = np.hypot(*(s.entities.pos - s.player.pos)[:, [0, 2]].T)
    assert np.all(after > before)
    assert np.all(after > FLEE_RADIUS - 1.0)  # they run until out of the flee radius


def test_follower_approaches_and_idle_creature_faces_the_player(flat) -> None:
    s = initial_state(flat)
    p = s.player.pos
    s = step(flat, s, [
        Spawn(tick=0, creature="dog", behaviour="follow", near=(p[0] + 20, p[1], p[2])),
        Spawn(tick=0, creature="sheep", behaviour="idle", near=(p[0], p[1], p[2] + 3), label="dolly"),
    ])  # fmt: skip
    e = s.entities
    dog, sheep = int(np.flatnonzero(e.kind == 6)[0]), int(np.flatnonzero(e.kind == 7)[0])
    e.pos[sheep] = e.home[sheep] = p + np.array([3.0, 0.0, 2.0])  # within FACE_RADIUS, to the side
    s = _steps(flat, s, 150)
    e = s.entities
    assert np.hypot(*(e.pos[dog] - s.player.pos)[[0, 2]]) < 4.0
    d = s.player.pos - e.pos[sheep]
    want = math.degrees(math.atan2(-d[0], -d[2]))
    assert abs((e.yaw[sheep] - want + 180) % 360 - 180) < 2.0


def test_attack_knocks_back_damages_and_the_victim_reacts(flat) -> None:
    s = initial_state(flat)
    p = s.player.pos
    s = step(flat, s, [
        Spawn(tick=0, creature="wolf", behaviour="idle", near=(p[0], p[1], p[2] - 1.5)),
        Spawn(tick=0, creature="deer", behaviour="idle", near=(p[0] + 1.0, p[1], p[2] - 1.0)),
    ])  # fmt: skip
    # spawns scatter on a ring around `near`; put them where the test wants them
    s.entities.pos[0] = p + np.array([0.0, 0.0, -1.5])
    s.entities.pos[1] = p + np.array([0.5, 0.0, -1.5])
    s = step(flat, s, [InputEvent(tick=s.tick, press=("e",))])
    e = s.entities
    assert np.all(e.health < 100.0)
    assert e.mode[0] == 2 and e.mode[1] == 1  # the wolf fights back, the deer flees
    # cooldown: an immediate second swing does nothing
    h = e.health.copy()
    s = step(flat, s, [InputEvent(tick=s.tick, press=("e",))])
    np.testing.assert_array_equal(s.entities.health, h)
    s = _steps(flat, s, 60)
    assert s.player.health < 100.0  # the wolf bit back


def test_directed_events_change_the_state(flat) -> None:
    s = initial_state(flat)
    s = step(flat, s, [
        TimeOfDay(tick=0, hour=22.0), WeatherEvent(tick=0, weather="rain"),
        Spawn(tick=0, creature="horse", count=2, label="bess"),
    ])  # fmt: skip
    assert (s.hour, s.weather, len(s.entities)) == (22.0, "rain", 2)
    s = step(flat, s, [Remove(tick=1, target="bess")])
    assert len(s.entities) == 0
    assert [e.kind for e in s.edits] == ["spawn", "spawn", "remove", "remove"]
    s = step(flat, s, [Attack(tick=2, target="nobody")])
    assert "nobody" in s.subtitle


def test_breaking_a_prop_leaves_debris_where_it_fell() -> None:
    world = World(WorldSpec(seed=2, props=[PropSpec(kind="crate", density=30)]), background=False)
    s = initial_state(world)
    from studio.sim.world_view import view

    cols = view(world).colliders(s.player.x, s.player.z)
    k = [i for i, o in enumerate(cols.owner) if o == "crate"]
    assert k, "the spec must scatter crates near spawn"
    c = cols.center[k[0]]
    # stand 1 m from the crate, facing it
    s.player.x, s.player.z = c[0], c[2] + cols.size[k[0], 0] + 1.0
    s.player.y = float(world.height_at(s.player.x, s.player.z))
    s = step(world, s, [InputEvent(tick=0, press=("e",), look=(-s.player.yaw, 0.0))])
    assert [e.kind for e in s.edits] == ["break"]
    s = _steps(world, s, 90)
    kinds = [e.kind for e in s.edits]
    assert kinds == ["break", "debris"]
    pieces = np.array(s.edits[1].data).reshape(-1, 3)
    ground = world.height_at(pieces[:, 0], pieces[:, 2])
    assert np.all(s.debris.rest)
    np.testing.assert_allclose(pieces[:, 1] - ground, s.debris.size, atol=1e-9)
    later = _steps(world, s, 30)
    np.testing.assert_array_equal(later.debris.pos, s.debris.pos)  # they stay where they landed


def _scripted(world, n: int) -> SimState:
    s = initial_state(world)
    ev = {
        0: [InputEvent(tick=0, held=("w",))],
        40: [InputEvent(tick=40, look=(35.0, -5.0), held=("w", "shift"))],
        70: [InputEvent(tick=70, press=("space", "e"))],
        100: [InputEvent(tick=100, held=("a",), press=("q",))],
    }
    return _steps(world, s, n, ev)


def test_same_events_same_hash_in_another_process(lively) -> None:
    here = _scripted(lively, 160).state_hash()
    assert _scripted(lively, 160).state_hash() == here
    code = (
        "from tests.studio.sim.test_sim import _scripted\n"
        "from studio.spec import *\nfrom studio.world import World\n"
        "spec = WorldSpec(seed=11, props=[PropSpec(kind='conifer', density=2), PropSpec(kind='crate', density=2)],"
        " characters=[CharacterSpec(kind='deer', count=6, behaviour='flee'), CharacterSpec(kind='wolf', count=4,"
        " behaviour='wander'), CharacterSpec(kind='bird', count=3, behaviour='circle'),"
        " CharacterSpec(kind='humanoid', count=2, behaviour='patrol', label='guard')])\n"
        "print(_scripted(World(spec, background=False), 160).state_hash())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=str(__import__("pathlib").Path(__file__).parents[3]),
    )  # fmt: skip
    assert out.stdout.strip() == here


def test_snapshot_round_trip_is_exact(lively) -> None:
    s = _scripted(lively, 120)
    back = SimState.from_bytes(s.to_bytes(compress=True))
    assert back.state_hash() == s.state_hash()
    assert _steps(lively, back, 20).state_hash() == _steps(lively, s, 20).state_hash()


def test_walking_creatures_animate_and_face_where_they_go(flat) -> None:
    from studio.sim.animation import creature_poses

    s = initial_state(flat)
    p = s.player.pos
    s = step(
        flat, s, [Spawn(tick=0, creature="dog", behaviour="follow", near=(p[0] + 15, p[1], p[2]))]
    )
    s = _steps(flat, s, 20)
    a = creature_poses(s)[0]
    s = _steps(flat, s, 5)
    b = creature_poses(s)[0]
    assert a.angles.keys() == b.angles.keys() and a.angles != b.angles  # legs swing
    # the model's +Z (its front) points along its velocity, toward the player
    front = b.T_world_root[:3, :3] @ np.array([0.0, 0.0, 1.0])
    v = s.entities.vel[0]
    cos = front[[0, 2]] @ v[[0, 2]] / np.linalg.norm(front[[0, 2]]) / np.linalg.norm(v[[0, 2]])
    assert cos > 0.99
    assert (s.player.pos - s.entities.pos[0])[[0, 2]] @ v[[0, 2]] > 0


def test_toppled_tree_is_recorded_and_stops_blocking() -> None:
    world = World(WorldSpec(seed=3, props=[PropSpec(kind="conifer", density=20)]), background=False)
    from studio.sim.world_view import view

    s = initial_state(world)
    cols = view(world).colliders(s.player.x, s.player.z)
    k = [i for i, o in enumerate(cols.owner) if o == "conifer" and cols.shape[i] == 0]
    assert k, "the spec must scatter conifers near spawn"
    c, r = cols.center[k[0]], cols.size[k[0], 0]
    s.player.x, s.player.z = c[0], c[2] + r + 1.0
    s.player.y = float(world.height_at(s.player.x, s.player.z))
    s = step(world, s, [InputEvent(tick=0, press=("e",), look=(-s.player.yaw, 0.0))])
    assert s.props and s.props[0].change == "toppling"
    s = _steps(world, s, 120)
    assert s.props[0].change == "toppled" and s.props[0].angle == 90.0
    assert [e.kind for e in s.edits] == ["topple"]
    # its trunk no longer blocks; the other trees still do
    from studio.sim.player import _blocking

    keep = _blocking(cols, s.props)
    t = s.props[0]
    hit = int(np.argmin(np.hypot(cols.center[:, 0] - t.x, cols.center[:, 2] - t.z)))
    assert not keep[hit] and keep.sum() >= len(cols) - 2


def test_water_floats_the_player_and_slows_them() -> None:
    from studio.sim.player import FLOAT_DEPTH, SWIM_FACTOR

    world = World(WorldSpec(seed=1, terrain=Terrain(lakes=True, height_scale=10)), background=False)
    xs, zs = np.meshgrid(np.arange(-400, 400, 4.0), np.arange(-400, 400, 4.0))
    deep = np.flatnonzero(world.height_at(xs.ravel(), zs.ravel()) < world.water_level - 2.5)
    assert len(deep), "the spec must make a lake"
    s = initial_state(world)
    s.player.x, s.player.z = xs.ravel()[deep[0]], zs.ravel()[deep[0]]
    s.player.y, s.player.on_ground = world.water_level + 0.5, False  # dropped into the lake
    s = _steps(world, s, 90)
    assert s.player.in_water
    assert s.player.y - world.water_level == pytest.approx(-FLOAT_DEPTH, abs=0.01)
    s = step(world, s, [InputEvent(tick=s.tick, held=("w",))])
    a = s.player.pos
    s = _steps(world, s, 30)
    assert np.linalg.norm((s.player.pos - a)[[0, 2]]) == pytest.approx(
        WALK_SPEED * SWIM_FACTOR, abs=1e-6
    )
