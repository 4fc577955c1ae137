"""Draw a simulation state: the world as the state has it, from a camera, as a `Frame`.

The world (`World`) holds what never changes for a spec; a `SimState` holds what does: the
hour and weather, the creatures' poses, debris of broken props, the player. `render_state` is
the one place that combines them, so the live viewport, `tidepool render --at` and video
export all show the same pixels for the same tick.
"""

from __future__ import annotations

import numpy as np

from studio.assets import make_creature
from studio.camera import Camera
from studio.conventions import TICK_HZ
from studio.gaussians import Gaussians
from studio.render import Frame
from studio.sim.animation import creature_poses
from studio.sim.state import SimState
from studio.transforms import rot_y
from studio.world import World, stable_seed_kind

CREATURE_VARIANTS = 2
"""Distinct looks per creature kind (bounded so the creature model cache stays small)."""
DEBRIS_COLOR = (0.45, 0.32, 0.2)
PLAYER_SEED = 1


def sync_world(world: World, state: SimState) -> None:
    """Set the world's hour and weather to the state's (re-lights only when they changed)."""
    if world.hour != state.hour:
        world.set_hour(state.hour)
    if world.weather.kind != state.weather:
        world.set_weather(world.weather.model_copy(update={"kind": state.weather}))


def creature_variant(kind: str, seed: int) -> int:
    """The creature model seed drawn for an entity (the same rule as the world's rest poses)."""
    return seed % CREATURE_VARIANTS + stable_seed_kind(kind)


def state_gaussians(world: World, state: SimState, *, player: bool) -> Gaussians:
    """Lit Gaussians of what the state adds to the world: creatures, debris, the player."""
    colors = {c.kind: c.color for c in world.spec.characters}
    parts = []
    for pose in creature_poses(state):
        model = make_creature(
            pose.kind, creature_variant(pose.kind, pose.seed), color=colors.get(pose.kind)
        )
        g, _ = model.pose(pose.angles, T_world_root=pose.T_world_root)
        parts.append(g)
    if player:
        p = state.player
        T = np.eye(4)
        T[:3, :3] = rot_y(p.yaw + 180.0)  # creatures face +Z; the player's yaw 0 faces -Z
        T[:3, 3] = (p.x, p.y, p.z)
        model = make_creature("humanoid", PLAYER_SEED, variant="knight")
        g, _ = model.pose(None, T_world_root=T)
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
) -> Frame:
    """The frame `camera` sees at `state`: world, sky, weather, creatures, debris and player.

    The player's body is drawn unless the camera is at the eye (first person);
    pass `draw_player` to override.
    """
    sync_world(world, state)
    if draw_player is None:
        draw_player = state.camera_mode != "first"
    extra = state_gaussians(world, state, player=draw_player)
    return world.frame(
        camera,
        width=width,
        height=height,
        budget=budget,
        time_s=state.tick / TICK_HZ,
        backend=backend,
        creatures=False,
        extra=extra,
    )
