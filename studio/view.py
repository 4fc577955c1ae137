"""Draw a simulation state: the world as the state has it, from a camera, as a `Frame`.

The world (`World`) holds what never changes for a spec; a `SimState` holds what does: the
hour and weather, the creatures' poses, debris of broken props, the player. `render_state` is
the one place that combines them, so the live viewport, `tidepool render --at` and video
export all show the same pixels for the same tick.

Props the state changed are hidden from the world's view by id (`studio.scatter.prop_id`) and
drawn again as the state has them (`prop_changes`): toppling and toppled props tilted about
their base, broken ones not at all (their debris is drawn), directed spawns at their places,
moved props at their new places and removed ones nowhere.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from studio.assets import make_creature
from studio.camera import Camera
from studio.conventions import TICK_HZ
from studio.gaussians import Gaussians
from studio.render import Cancel, Frame
from studio.scatter import PropInstance
from studio.sim.animation import creature_poses
from studio.sim.placed import directed_props
from studio.sim.state import SimState
from studio.transforms import matrix_to_quat, quat_multiply, rot_y
from studio.world import World, stable_seed_kind

CREATURE_VARIANTS = 2
"""Distinct looks per creature kind (bounded so the creature model cache stays small)."""
DEBRIS_COLOR = (0.45, 0.32, 0.2)
PLAYER_SEED = 1


@dataclasses.dataclass(frozen=True)
class PropsShown:
    """How a state changes the world's props: ids to hide, and props to draw instead, each
    tilted `angle` degrees about its base toward heading `fall_yaw` (0 = upright)."""

    hidden: frozenset[str]
    placed: tuple[tuple[PropInstance, float, float], ...]


def _tilt(angle: float, fall_yaw: float) -> np.ndarray:
    """(3, 3) rotation taking +Y `angle` degrees toward heading `fall_yaw` (yaw 0 faces -Z)."""
    a = math.radians(fall_yaw)
    d = np.array([-math.sin(a), 0.0, -math.cos(a)])
    k = np.cross([0.0, 1.0, 0.0], d)  # unit: d is horizontal
    t = math.radians(angle)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(t) * K + (1 - math.cos(t)) * K @ K


def prop_changes(world: World, state: SimState) -> PropsShown:
    """The state's prop changes (toppled, broken) and directed prop edits (spawned, removed,
    moved: `studio.sim.placed.directed_props`, the same props the simulation collides with)."""
    hidden: set[str] = set()
    tilted: dict[str, tuple[PropInstance, float, float]] = {}
    for c in state.props:
        hidden.add(c.prop)
        if c.change != "broken":
            inst = world.prop_instance(c.prop)
            if inst is not None:
                tilted[c.prop] = (inst, c.angle, c.fall_yaw)
    directed = directed_props(world, state)
    hidden |= directed.hidden
    placed = [t for pid, t in tilted.items() if pid in hidden]
    placed += [(p, 0.0, 0.0) for p in directed.added]
    return PropsShown(frozenset(hidden), tuple(placed))


def placed_gaussians(world: World, shown: PropsShown) -> Gaussians:
    """Unlit Gaussians of the props a state places or tilts (see `PropsShown`)."""
    parts = []
    for p, angle, fall_yaw in shown.placed:
        g = world.asset(p.kind, p.variant_seed).gaussians
        R = _tilt(angle, fall_yaw) @ rot_y(p.yaw)  # (3, 3)
        base = np.asarray(p.position, dtype=np.float64)
        means = (g.means.astype(np.float64) * p.scale) @ R.T + base
        q = matrix_to_quat(R[None])[0]
        quats = quat_multiply(q[None], g.quats.astype(np.float64))
        parts.append(Gaussians(means, quats, g.scales * p.scale, g.opacities, g.colors))
    return Gaussians.concat(parts)


def sync_world(world: World, state: SimState) -> None:
    """Set the world's hour and weather to the state's (re-lights only when they changed)."""
    if world.hour != state.hour:
        world.set_hour(state.hour)
    if world.weather.kind != state.weather:
        world.set_weather(world.weather.model_copy(update={"kind": state.weather}))


def creature_variant(kind: str, seed: int) -> int:
    """The creature model seed drawn for an entity (the same rule as the world's rest poses)."""
    return seed % CREATURE_VARIANTS + stable_seed_kind(kind)


def state_gaussians(
    world: World, state: SimState, *, player: bool, shown: PropsShown | None = None
) -> Gaussians:
    """Lit Gaussians of what the state adds to the world: creatures, debris, the player, and
    the props it placed or tilted (`prop_changes`; hide the rest with its `hidden`)."""
    colors = {c.kind: c.color for c in world.spec.characters}
    parts = []
    for pose in creature_poses(state):
        model = make_creature(
            pose.kind, creature_variant(pose.kind, pose.seed), color=colors.get(pose.kind)
        )
        g = model.pose_gaussians(pose.angles, T_world_root=pose.T_world_root)
        parts.append(g)
    if player:
        p = state.player
        T = np.eye(4)
        T[:3, :3] = rot_y(p.yaw + 180.0)  # creatures face +Z; the player's yaw 0 faces -Z
        T[:3, 3] = (p.x, p.y, p.z)
        model = make_creature("humanoid", PLAYER_SEED, variant="knight")
        g = model.pose_gaussians(None, T_world_root=T)
        parts.append(g)
    d = state.debris
    if len(d.pos):
        n = len(d.pos)
        parts.append(
            Gaussians(
                means=d.pos,
                quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
                scales=np.repeat(d.size[:, None] * 0.6, 3, axis=1),
                opacities=np.full(n, 0.95),
                colors=np.tile(DEBRIS_COLOR, (n, 1)),
            )
        )
    parts.append(placed_gaussians(world, shown or prop_changes(world, state)))
    return world.lit(Gaussians.concat(parts))


def render_state(
    world: World,
    state: SimState,
    camera: Camera,
    *,
    width: int | None = None,
    height: int | None = None,
    budget: int = 250_000,
    backend: str = "auto",
    draw_player: bool | None = None,
    cancel: Cancel | None = None,
    borrow: bool = False,
) -> Frame:
    """The frame `camera` sees at `state`: world, sky, weather, creatures, debris, the player
    and props as the state changed them.

    The player's body is drawn unless the camera is at the eye (first person);
    pass `draw_player` to override. A set `cancel` stops it with `RenderCancelled`.
    `borrow=True` lets a live frame draw the neighbouring view while this one is built
    (`World.gaussians_in_view`); exports and stills leave it off and get the exact view.
    """
    sync_world(world, state)
    if draw_player is None:
        draw_player = state.camera_mode != "first"
    shown = prop_changes(world, state)
    extra = state_gaussians(world, state, player=draw_player, shown=shown)
    return world.frame(
        camera,
        hidden=shown.hidden,
        width=width,
        height=height,
        budget=budget,
        time_s=state.tick / TICK_HZ,
        backend=backend,
        creatures=False,
        extra=extra,
        cancel=cancel,
        borrow=borrow,
    )
