"""Creatures: every behaviour of every entity advanced at once with numpy (no per-entity loop).

Each tick an entity picks a desired horizontal velocity from its mode (its spec behaviour, or
fleeing / fighting after an attack, or a directed move-to / follow), steers toward it, moves,
follows the ground (walkers) or its flight height (flyers), turns to face where it goes (or the
player, when idle and near), and advances its gait phase for the part animation. Random choices
come from a counter-based hash of (state seed, entity id, tick), never from a global RNG.
"""

from __future__ import annotations

import numpy as np

from studio.sim.placed import BODY_RADIUS, DirectedProps, push_out_many
from studio.sim.player import DT, wrap_degrees
from studio.sim.state import (
    BEHAVIOURS,
    EMOTES,
    M_BEHAVE,
    M_DEAD,
    M_FIGHT,
    M_FLEE,
    M_FOLLOW,
    M_MOVE_TO,
    NO_REF,
    Player,
    SimState,
)
from studio.sim.world_view import WorldView
from studio.spec import CREATURE_KINDS
from studio.terrain import hash_uniform

# per kind, in CREATURE_KINDS order: walk m/s, run m/s, stride m, flyer, fights back
_KIND_TABLE = {
    "humanoid": (1.4, 4.5, 1.4, False, True),
    "deer": (1.5, 8.0, 1.6, False, False),
    "wolf": (1.8, 7.5, 1.5, False, True),
    "bird": (4.0, 9.0, 1.0, True, False),
    "dragon": (6.0, 14.0, 4.0, True, True),
    "horse": (1.8, 9.0, 2.2, False, False),
    "dog": (1.6, 6.5, 1.0, False, True),
    "sheep": (1.0, 4.0, 0.9, False, False),
}
_T = np.array([_KIND_TABLE[k] for k in CREATURE_KINDS], dtype=np.float64)
WALK = _T[:, 0]
RUN = _T[:, 1]
STRIDE = _T[:, 2]
FLYER = _T[:, 3].astype(bool)
FIGHTER = _T[:, 4].astype(bool)

FLEE_RADIUS = 10.0
"""A "flee" creature runs when the player comes closer than this (metres)."""
FACE_RADIUS = 6.0
"""Idle creatures turn to face a player closer than this."""
FOLLOW_DISTANCE = 2.5
WANDER_RADIUS = 10.0
PATROL_LENGTH = 12.0
CIRCLE_RADIUS = 12.0
FLIGHT_HEIGHT = 12.0
"""Flyers circle this high above the ground at their home."""
TURN_RATE = 240.0
"""Degrees per second."""
STEER = 8.0
"""1/s: how fast velocity approaches the desired velocity."""
BITE_REACH = 1.8
BITE_DAMAGE = 10.0
BITE_COOLDOWN = 30
"""Ticks between a fighting creature's attacks."""

_B = {name: i for i, name in enumerate(BEHAVIOURS)}
_LOOK = EMOTES.index("look")


def _rand(state: SimState, ids: np.ndarray, salt: int) -> np.ndarray:
    """(N,) uniform [0, 1) per entity for this tick (counter-based, process-independent)."""
    return hash_uniform(state.seed, ids, np.full(len(ids), state.tick), salt)


def heading_to(dx: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """Yaw (degrees) that faces the direction (dx, dz): yaw 0 faces -Z, +90 faces -X."""
    return np.degrees(np.arctan2(-dx, -dz))


def update_creatures(w: WorldView, s: SimState, *, directed: DirectedProps | None = None) -> None:
    """Advance every entity of `s` one tick in place; fighting creatures may hurt the player.
    Walkers are kept out of the props directed edits placed (`directed`)."""
    e = s.entities
    n = len(e)
    if n == 0:
        return
    p = s.player
    tick = s.tick
    k = e.kind.astype(np.intp)
    walk, run, flyer = WALK[k] * e.scale, RUN[k] * e.scale, FLYER[k]
    alive = e.mode != M_DEAD

    to_p = np.array([p.x, p.y, p.z]) - e.pos  # (N, 3)
    dist = np.hypot(to_p[:, 0], to_p[:, 2])
    beh = np.where(e.mode == M_BEHAVE, e.behaviour, -1)

    # modes that end on a timer return to their behaviour
    ended = ((e.mode == M_FLEE) | (e.mode == M_FIGHT)) & (tick >= e.timer)
    e.mode[ended] = M_BEHAVE
    e.timer[ended] = tick

    # wander / flee-when-far: a new goal around home when the timer fires
    roam = (beh == _B["wander"]) | (beh == _B["flee"])
    pick = roam & (tick >= e.timer)
    if pick.any():
        ids = e.id[pick]
        ang = 2 * np.pi * _rand(s, ids, 1)
        rad = WANDER_RADIUS * np.sqrt(_rand(s, ids, 2))
        e.goal[pick, 0] = e.home[pick, 0] + rad * np.cos(ang)
        e.goal[pick, 2] = e.home[pick, 2] + rad * np.sin(ang)
        e.timer[pick] = tick + 60 + (180 * _rand(s, ids, 3)).astype(np.int64)
    # patrol: between home and a point PATROL_LENGTH away, switching on arrival
    pat = beh == _B["patrol"]
    if pat.any():
        ang = 2 * np.pi * hash_uniform(s.seed, e.id[pat], np.zeros(pat.sum(), np.int64), 7)
        far = e.home[pat].copy()
        far[:, 0] += PATROL_LENGTH * np.cos(ang)
        far[:, 2] += PATROL_LENGTH * np.sin(ang)
        out = (e.timer[pat] % 2) == 0
        e.goal[pat] = np.where(out[:, None], far, e.home[pat])
        arrived = np.hypot(*(e.goal[pat] - e.pos[pat])[:, [0, 2]].T) < 0.5
        idx = np.flatnonzero(pat)[arrived]
        e.timer[idx] += 1

    to_g = e.goal - e.pos
    dist_g = np.hypot(to_g[:, 0], to_g[:, 2])
    safe = np.maximum(dist_g, 1e-9)
    toward_goal = to_g[:, [0, 2]] / safe[:, None]  # (N, 2)
    safe_p = np.maximum(dist, 1e-9)
    toward_p = to_p[:, [0, 2]] / safe_p[:, None]

    desired = np.zeros((n, 2))
    going = (roam | pat) & (dist_g > 0.5)
    desired[going] = toward_goal[going] * walk[going, None]
    scared = ((beh == _B["flee"]) & (dist < FLEE_RADIUS)) | (e.mode == M_FLEE)
    desired[scared] = -toward_p[scared] * run[scared, None]
    chase = (beh == _B["follow"]) | (e.mode == M_FOLLOW) | (e.mode == M_FIGHT)
    gap = np.where(e.mode == M_FIGHT, BITE_REACH * 0.8, FOLLOW_DISTANCE)
    chase_go = chase & (dist > gap)
    spd = np.where((dist > 8.0) | (e.mode == M_FIGHT), run, walk)
    desired[chase_go] = toward_p[chase_go] * spd[chase_go, None]
    mv = (e.mode == M_MOVE_TO) & (dist_g > 0.5)
    pace = np.where(e.gait == 1, run, walk)  # a directed "run to" runs
    desired[mv] = toward_goal[mv] * pace[mv, None]
    arrived_mv = (e.mode == M_MOVE_TO) & (dist_g <= 0.5)
    if arrived_mv.any():  # stay there, idle
        e.mode[arrived_mv] = M_BEHAVE
        e.behaviour[arrived_mv] = _B["idle"]
        e.home[arrived_mv] = e.goal[arrived_mv]

    # circle overhead (flyers): chase a point running around the home circle
    circ = (beh == _B["circle"]) | ((beh >= 0) & flyer & (beh != _B["flee"]) & ~scared)
    if circ.any():
        omega = walk[circ] / CIRCLE_RADIUS
        a0 = 2 * np.pi * hash_uniform(s.seed, e.id[circ], np.zeros(circ.sum(), np.int64), 9)
        ang = a0 + omega * tick * DT
        tx = e.home[circ, 0] + CIRCLE_RADIUS * np.cos(ang)
        tz = e.home[circ, 2] + CIRCLE_RADIUS * np.sin(ang)
        d = np.stack([tx - e.pos[circ, 0], tz - e.pos[circ, 2]], axis=1)
        desired[circ] = d * 2.0
        m = np.hypot(d[:, 0], d[:, 1]) * 2.0
        over = m > run[circ]
        desired[np.flatnonzero(circ)[over]] *= (run[circ][over] / m[over])[:, None]

    # "look at": stand (unless directed elsewhere) and turn toward the point, following a
    # character or the player as it moves
    looking = alive & (e.emote == _LOOK) & (e.emote_until > tick)
    if looking.any():
        _follow_face(s, looking)
        desired[looking & (e.mode == M_BEHAVE)] = 0.0
    desired[~alive] = 0.0
    blend = 1.0 - np.exp(-STEER * DT)
    e.vel[:, [0, 2]] += (desired - e.vel[:, [0, 2]]) * blend
    e.vel[~alive] *= 0.5

    new = e.pos + e.vel * DT
    ground = np.asarray(w.height_at(new[:, 0], new[:, 2]), dtype=np.float64).reshape(n)
    walker = ~flyer
    wet = walker & (ground < w.water_level - 0.3)  # walkers do not wade into deep water
    new[wet, 0], new[wet, 2] = e.pos[wet, 0], e.pos[wet, 2]
    e.vel[wet, 0] = e.vel[wet, 2] = 0.0
    e.timer[wet & roam] = tick  # pick another goal next tick
    if wet.any():
        ground[wet] = np.asarray(w.height_at(new[wet, 0], new[wet, 2])).reshape(-1)
    if directed is not None and len(directed.colliders) and walker.any():
        wk = np.flatnonzero(walker & alive)
        xz = push_out_many(directed.colliders, new[wk][:, [0, 2]], BODY_RADIUS * e.scale[wk],
                           e.pos[wk, 1])  # fmt: skip
        new[wk, 0], new[wk, 2] = xz[:, 0], xz[:, 1]
        ground[wk] = np.asarray(w.height_at(xz[:, 0], xz[:, 1])).reshape(-1)
    new[walker, 1] = ground[walker]
    e.vel[walker, 1] = 0.0
    alt = np.maximum(e.home[:, 1], ground + FLIGHT_HEIGHT)
    alt = np.where(alive, alt, ground)
    fly_y = e.pos[:, 1] + np.clip(alt - e.pos[:, 1], -4.0 * DT, 4.0 * DT) * np.where(alive, 1, 3)
    new[flyer, 1] = np.maximum(fly_y[flyer], ground[flyer])
    e.pos[:] = new

    # heading: where it goes, or toward a near player when standing
    sp = np.hypot(e.vel[:, 0], e.vel[:, 2])
    e.speed[:] = sp
    target = e.yaw.copy()
    moving = sp > 0.3
    target[moving] = heading_to(e.vel[moving, 0], e.vel[moving, 2])
    face = alive & ~moving & (dist < FACE_RADIUS) & ~scared
    target[face] = heading_to(to_p[face, 0], to_p[face, 2])
    if looking.any():
        to_f = e.face[looking] - e.pos[looking]
        target[looking] = heading_to(to_f[:, 0], to_f[:, 2])
    dyaw = (target - e.yaw + 180.0) % 360.0 - 180.0
    step = TURN_RATE * DT
    e.yaw[alive] = (e.yaw + np.clip(dyaw, -step, step))[alive]
    e.yaw[:] = (e.yaw + 180.0) % 360.0 - 180.0
    look = heading_to(to_p[:, 0], to_p[:, 2]) - e.yaw
    look = (look + 180.0) % 360.0 - 180.0
    e.head_yaw[:] = np.where(alive & (dist < FACE_RADIUS * 2), np.clip(look, -60, 60), 0.0)
    if looking.any():
        to_f = e.face[looking] - e.pos[looking]
        off = (heading_to(to_f[:, 0], to_f[:, 2]) - e.yaw[looking] + 180.0) % 360.0 - 180.0
        e.head_yaw[looking] = np.clip(off, -60, 60)
    e.phase[:] = (e.phase + sp * DT / (STRIDE[k] * e.scale)) % 1.0
    done = e.emote_until <= tick
    e.emote[done] = EMOTES.index("none")

    # fighters bite a near player
    bite = alive & (e.mode == M_FIGHT) & (dist < BITE_REACH) & (tick >= e.next_attack)
    for i in np.flatnonzero(bite):
        e.next_attack[i] = tick + BITE_COOLDOWN
        hurt_player(p, toward_p[i], BITE_DAMAGE)


def _follow_face(s: SimState, rows: np.ndarray) -> None:
    """Move each looking row's `face` point onto the character (or player) it watches."""
    e = s.entities
    for i in np.flatnonzero(rows & (e.face_ref != NO_REF)):
        if e.face_ref[i] == -1:
            e.face[i] = (s.player.x, s.player.y, s.player.z)
            continue
        hit = np.flatnonzero(e.id == e.face_ref[i])
        if len(hit):
            e.face[i] = e.pos[hit[0]]


def hurt_player(p: Player, push_xz: np.ndarray, damage: float) -> None:
    """Damage and knock back the player (down to 0 health: no dying in a creative studio)."""
    p.health = max(0.0, p.health - damage)
    p.kx += float(push_xz[0]) * 5.0
    p.kz += float(push_xz[1]) * 5.0


def yaw_delta(a: float, b: float) -> float:
    """Signed smallest rotation (degrees) from heading a to heading b."""
    return wrap_degrees(b - a)
