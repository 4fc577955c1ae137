"""Directed characters and the free camera against analytic answers on a flat real World:
a run arrives at distance / run speed, "look at" turns to the bearing, the free camera flies
at FLY_SPEED while the body stays put."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio import navigation
from studio.events import CameraMode, Emote, InputEvent, MoveTo
from studio.sim import DT, FLY_SPEED, initial_state, step
from studio.sim.creatures import RUN, STEER, TURN_RATE, WALK
from studio.sim.player import view_vectors
from studio.sim.state import M_MOVE_TO
from studio.spec import CREATURE_KINDS, CharacterSpec, Terrain, WorldSpec
from studio.world import World

HUMANOID = CREATURE_KINDS.index("humanoid")


@pytest.fixture(scope="module")
def flat() -> World:
    spec = WorldSpec(
        seed=5,
        terrain=Terrain(height_scale=0.0),
        characters=[
            CharacterSpec(kind="humanoid", label="knight", behaviour="idle"),
            CharacterSpec(kind="dragon", behaviour="idle"),
        ],
    )
    return World(spec, background=False)


def _placed(world: World, x: float, z: float, yaw: float = 0.0):
    """The initial state with the knight standing still at (x, z) facing `yaw`."""
    s = initial_state(world)
    k = s.entities.labels.index("knight")
    s.entities.pos[k] = (x, float(world.height_at(x, z)), z)
    s.entities.home[k] = s.entities.goal[k] = s.entities.pos[k]
    s.entities.yaw[k] = yaw
    return s, k


def _arrival_s(world: World, gait: str) -> tuple[float, float, float]:
    """Seconds the knight takes to reach a point 30 m along +X, and its top speed."""
    s, k = _placed(world, 0.0, 0.0, yaw=-90.0)
    goal = (30.0, float(world.height_at(30.0, 0.0)), 0.0)
    s = step(world, s, [MoveTo(tick=0, target="knight", to=goal, gait=gait)])
    top = 0.0
    while s.entities.mode[k] == M_MOVE_TO:
        s = step(world, s)
        top = max(top, float(s.entities.speed[k]))
        assert s.tick < 30 * 40
    return s.tick * DT, top, float(s.entities.pos[k, 0])


def test_a_directed_run_arrives_at_distance_over_run_speed(flat: World) -> None:
    """Steering approaches the pace exponentially (rate STEER), so a straight run of d metres
    lags the ideal d / v by 1 / STEER; it stops within ARRIVE of the goal."""
    run_s, run_top, x = _arrival_s(flat, "run")
    stop = 30.0 - (navigation.ARRIVE - 0.1)
    expect = stop / RUN[HUMANOID] + 1.0 / STEER
    assert run_s == pytest.approx(expect, abs=0.15)
    assert run_top == pytest.approx(RUN[HUMANOID], rel=0.02)  # run speed, the run gait's input
    assert 30.0 - x <= navigation.ARRIVE
    walk_s, walk_top, _ = _arrival_s(flat, "walk")
    assert walk_s == pytest.approx(stop / WALK[HUMANOID] + 1.0 / STEER, abs=0.15)
    assert walk_top == pytest.approx(WALK[HUMANOID], rel=0.02)


def test_the_run_gait_swings_the_legs_wider_than_the_walk(flat: World) -> None:
    from studio.assets.creatures import gait_angles

    def swing(speed: float) -> float:
        return max(abs(gait_angles("humanoid", p, speed)["thigh_l"]) for p in np.linspace(0, 1, 9))

    assert swing(RUN[HUMANOID]) > 1.4 * swing(WALK[HUMANOID])


def _bearing(a: np.ndarray, b: np.ndarray) -> float:
    """Heading (degrees) from a to b: yaw 0 faces -Z, +90 faces -X (DESIGN.md)."""
    return math.degrees(math.atan2(-(b[0] - a[0]), -(b[2] - a[2])))


def _off(yaw: float, bearing: float) -> float:
    return abs((yaw - bearing + 180.0) % 360.0 - 180.0)


def test_look_at_turns_to_face_the_target_over_a_short_time(flat: World) -> None:
    s, k = _placed(flat, 5.0, 5.0)
    d = s.entities.labels.index("")  # the dragon
    want = _bearing(s.entities.pos[k], s.entities.pos[d])
    s.entities.yaw[k] = want + 180.0  # facing away
    s = step(flat, s, [Emote(tick=0, target="knight", emote="look", at="dragon")])
    quarter = s
    for _ in range(int(0.25 / DT) - 1):
        quarter = step(flat, quarter)
    assert _off(quarter.entities.yaw[k], want) > 90.0  # it turns, it does not snap
    s = quarter
    for _ in range(int(180.0 / TURN_RATE / DT) + 3 - int(0.25 / DT)):
        s = step(flat, s)
    want = _bearing(s.entities.pos[k], s.entities.pos[d])
    assert _off(s.entities.yaw[k], want) < 3.0
    # and its forward (the player's convention for a yaw) points at the dragon
    (fx, fz), _ = view_vectors(float(s.entities.yaw[k]))
    to = (s.entities.pos[d] - s.entities.pos[k])[[0, 2]]
    assert (fx * to[0] + fz * to[1]) / np.hypot(*to) > math.cos(math.radians(3.0))
    assert np.allclose(s.entities.pos[k, [0, 2]], (5.0, 5.0), atol=0.05)  # it stood to look


def test_look_at_follows_the_player_as_they_move(flat: World) -> None:
    s, k = _placed(flat, 5.0, 5.0)
    s = step(flat, s, [Emote(tick=0, target="knight", emote="look", at="player")])
    s = step(flat, s, [InputEvent(tick=s.tick, held=("d",))])
    for _ in range(40):
        s = step(flat, s)
    assert _off(s.entities.yaw[k], _bearing(s.entities.pos[k], s.player.pos)) < 5.0


def test_the_free_camera_flies_while_the_body_stays(flat: World) -> None:
    s = initial_state(flat)
    body = s.player.pos.copy()
    yaw0 = s.player.yaw
    s = step(flat, s, [CameraMode(tick=0, mode="free")])
    assert s.camera_mode == "free"
    eye = np.array(s.free_cam[:3])
    # back 1 s (through and behind the body: nothing pushes it), then forward 2 s
    s = step(flat, s, [InputEvent(tick=s.tick, held=("s",))])
    for _ in range(29):
        s = step(flat, s)
    s = step(flat, s, [InputEvent(tick=s.tick, held=("w",))])
    for _ in range(59):
        s = step(flat, s)
    (fx, fz), _ = view_vectors(yaw0)
    moved = np.array(s.free_cam[:3]) - eye
    assert moved[[0, 2]] == pytest.approx(np.array([fx, fz]) * FLY_SPEED * 1.0, abs=1e-6)
    assert np.array_equal(s.player.pos, body) and s.player.yaw == yaw0
    # looking turns the free camera, not the player
    s = step(flat, s, [InputEvent(tick=s.tick, held=(), look=(30.0, -10.0))])
    assert s.free_cam[3] == pytest.approx(yaw0 + 30.0) and s.free_cam[4] == -10.0
    assert s.player.yaw == yaw0 and s.player.pitch == 0.0
    # back to first person: the camera is the body's eye again
    s = step(flat, s, [CameraMode(tick=s.tick, mode="first")])
    assert s.camera_mode == "first" and s.free_cam is None
