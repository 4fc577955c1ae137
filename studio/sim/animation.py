"""Procedural part animation of the creatures in a `SimState` (legs, wings, heads).

The simulation keeps each creature's gait phase, speed, heading and head turn; this module turns
them into what the renderer poses: the root transform of each creature and its joint angles from
`studio.assets.creatures.gait_angles`. A creature's model faces +Z in its own frame, while
headings follow the camera convention (yaw 0 faces -Z), hence the extra half turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.sim.state import EMOTES, M_DEAD, SimState
from studio.spec import CREATURE_KINDS
from studio.transforms import rot_y, rot_z


@dataclass(frozen=True)
class CreaturePose:
    """One creature ready to draw: `make_creature(kind, seed)` posed by `angles` at `T_world_root`."""

    id: int
    kind: str
    seed: int
    label: str
    T_world_root: np.ndarray  # (4, 4) similarity (uniform scale)
    angles: dict[str, float]  # joint name -> radians
    head_yaw: float  # degrees, relative to the body (+ turns left)
    emote: str


def creature_poses(state: SimState) -> list[CreaturePose]:
    """Poses of every creature in `state` (dead ones lie on their side, unanimated)."""
    from studio.assets.creatures import gait_angles

    e = state.entities
    out = []
    for i in range(len(e)):
        kind = CREATURE_KINDS[e.kind[i]]
        dead = e.mode[i] == M_DEAD
        T = np.eye(4)
        R = rot_y(float(e.yaw[i]) + 180.0)
        if dead:
            R = R @ rot_z(90.0)
        T[:3, :3] = R * float(e.scale[i])
        T[:3, 3] = e.pos[i]
        angles = {} if dead else gait_angles(kind, float(e.phase[i]), float(e.speed[i]))
        out.append(
            CreaturePose(
                int(e.id[i]),
                kind,
                int(e.seed[i]),
                e.labels[i],
                T,
                angles,
                float(e.head_yaw[i]),
                EMOTES[e.emote[i]],
            )
        )
    return out
