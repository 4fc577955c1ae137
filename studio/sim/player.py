"""The player's movement: walking on the heightfield, jumping, flying, swimming, colliding.

Numbers a tester can check on flat ground: walk 4 m/s, sprint 7 m/s, fly 12 m/s (speed is set
directly from the keys, no acceleration ramp), jump apex 1.2 m.

Vertical motion in the air uses the **exact ballistic update** within a tick
(``y += vy*dt - g*dt²/2; vy -= g*dt``), so every tick's height lies on the analytic parabola of
a launch at ``JUMP_SPEED = sqrt(2*g*1.2)``; the highest sampled tick is within
``g*(dt/2)²/2 ≈ 1.4 mm`` of the analytic apex, and a fall from height h lands at
``t = sqrt(2h/g)`` rounded up to the next tick.

The body is an upright cylinder (radius `RADIUS`, height `HEIGHT`). Solids whose top is within
`STEP_UP` of the feet are stood on; taller ones push the body out horizontally. Ground steeper
than `MAX_SLOPE_DEG` cannot be walked up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from studio.conventions import TICK_HZ
from studio.sim.state import Player, PropChange
from studio.sim.world_view import ColliderArrays, WorldView, concat_colliders

if TYPE_CHECKING:
    from studio.sim.placed import DirectedProps

DT = 1.0 / TICK_HZ
GRAVITY = 9.81
WALK_SPEED = 4.0
SPRINT_SPEED = 7.0
FLY_SPEED = 12.0
SWIM_FACTOR = 0.5
JUMP_APEX = 1.2
JUMP_SPEED = math.sqrt(2.0 * GRAVITY * JUMP_APEX)
COYOTE_TICKS = 4
"""A jump still works this many ticks after walking off an edge (~0.13 s)."""
MAX_SLOPE_DEG = 45.0
RADIUS = 0.35
HEIGHT = 1.8
EYE_HEIGHT = 1.6
STEP_UP = 0.4
SNAP_DOWN = 0.45
"""Ground this far below the feet (plus the tick's travel) is followed, not fallen to."""
FLOAT_DEPTH = 1.3
"""Swimming, the feet float this far below the water surface."""
KNOCKBACK_DECAY = 6.0
"""1/s: knockback velocity decays as exp(-KNOCKBACK_DECAY t)."""
PITCH_LIMIT = 89.0


def view_vectors(yaw_deg: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Horizontal (forward, right) unit vectors (x, z) for a heading (yaw 0 looks along -Z)."""
    a = math.radians(yaw_deg)
    s, c = math.sin(a), math.cos(a)
    return (-s, -c), (c, -s)


def wrap_degrees(a: float) -> float:
    """Angle in (-180, 180]."""
    a = math.fmod(a + 180.0, 360.0)
    if a <= 0.0:
        a += 360.0
    return a - 180.0


def _blocking(cols: ColliderArrays, props: tuple[PropChange, ...]) -> np.ndarray:
    """(K,) True for colliders still standing (not of a broken or toppled prop)."""
    keep = np.ones(len(cols), dtype=bool)
    for p in props:
        for k in range(len(cols)):
            if cols.owner[k] == p.kind:
                dx, dz = cols.center[k, 0] - p.x, cols.center[k, 2] - p.z
                if dx * dx + dz * dz <= max(p.radius, 1.0) ** 2:
                    keep[k] = False
    return keep


def _local_xz(cols: ColliderArrays, x: float, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Player position in each collider's horizontal frame (boxes turned by yaw)."""
    dx = x - cols.center[:, 0]
    dz = z - cols.center[:, 2]
    a = np.radians(cols.yaw)
    c, s = np.cos(a), np.sin(a)
    # inverse of rot_y(yaw): local = R^T d
    return c * dx - s * dz, s * dx + c * dz


def support_height(
    cols: ColliderArrays, keep: np.ndarray, x: float, z: float, feet: float
) -> float:
    """Highest top of a solid under (x, z) that the feet can stand on (-inf if none)."""
    if not len(cols):
        return -math.inf
    lx, lz = _local_xz(cols, x, z)
    r, hz = cols.size[:, 0], cols.size[:, 2]
    round_ = cols.shape != 1
    under = np.where(round_, lx * lx + lz * lz <= r * r, (np.abs(lx) <= r) & (np.abs(lz) <= hz))
    top = cols.top
    ok = keep & under & (top <= feet + STEP_UP)
    return float(top[ok].max()) if ok.any() else -math.inf


def push_out(
    cols: ColliderArrays, keep: np.ndarray, x: float, z: float, feet: float
) -> tuple[float, float]:
    """Move (x, z) out of every solid the body overlaps that is too tall to stand on."""
    if not len(cols):
        return x, z
    for _ in range(2):  # two passes settle corners between neighbouring solids
        lx, lz = _local_xz(cols, x, z)
        r, hz = cols.size[:, 0], cols.size[:, 2]
        tall = keep & (cols.top > feet + STEP_UP) & (cols.bottom < feet + HEIGHT)
        moved = False
        for k in np.flatnonzero(tall):
            if cols.shape[k] != 1:
                d = math.hypot(lx[k], lz[k])
                need = r[k] + RADIUS
                if d >= need:
                    continue
                nx, nz = (lx[k] / d, lz[k] / d) if d > 1e-9 else (1.0, 0.0)
                px, pz = nx * (need - d), nz * (need - d)
            else:
                ox = r[k] + RADIUS - abs(lx[k])
                oz = hz[k] + RADIUS - abs(lz[k])
                if ox <= 0 or oz <= 0:
                    continue
                if ox < oz:
                    px, pz = math.copysign(ox, lx[k]), 0.0
                else:
                    px, pz = 0.0, math.copysign(oz, lz[k])
            a = math.radians(cols.yaw[k])
            c, s = math.cos(a), math.sin(a)
            x += c * px + s * pz
            z += -s * px + c * pz
            moved = True
        if not moved:
            break
    return x, z


def ground_at(
    w: WorldView, cols: ColliderArrays, keep: np.ndarray, x: float, z: float, feet: float
) -> float:
    """Terrain height, or a solid's top under the feet if higher and reachable."""
    return max(w.height1(x, z), support_height(cols, keep, x, z, feet))


def move_player(
    w: WorldView,
    p: Player,
    presses: frozenset[str],
    props: tuple[PropChange, ...],
    *,
    directed: DirectedProps | None = None,
) -> None:
    """Advance the player one tick in place (after its inputs were applied). `directed`: the
    props world edits added (collided with) and removed (no longer blocking)."""
    held = set(p.held)
    (fx, fz), (rx, rz) = view_vectors(p.yaw)
    fwd = (("w" in held) - ("s" in held)) * 1.0
    side = (("d" in held) - ("a" in held)) * 1.0
    dx, dz = fwd * fx + side * rx, fwd * fz + side * rz
    n = math.hypot(dx, dz)
    if n > 0:
        dx, dz = dx / n, dz / n

    cols = w.colliders(p.x, p.z)
    keep = _blocking(cols, props) if props else np.ones(len(cols), dtype=bool)
    if directed is not None and (directed.hidden or len(directed.colliders)):
        keep &= np.array([pid not in directed.hidden for pid in cols.prop], dtype=bool)
        cols = concat_colliders(cols, directed.colliders)
        keep = np.concatenate([keep, np.ones(len(directed.colliders), dtype=bool)])
    decay = math.exp(-KNOCKBACK_DECAY * DT)
    p.kx, p.kz = p.kx * decay, p.kz * decay
    if abs(p.kx) < 1e-3 and abs(p.kz) < 1e-3:
        p.kx = p.kz = 0.0

    if p.move == "fly":
        up = (("space" in held) - ("c" in held)) * 1.0
        m = math.sqrt(dx * dx + dz * dz + up * up)
        s = FLY_SPEED / m if m > 0 else 0.0
        p.vx, p.vy, p.vz = dx * s, up * s, dz * s
        x, z = p.x + (p.vx + p.kx) * DT, p.z + (p.vz + p.kz) * DT
        y = p.y + p.vy * DT
        x, z = push_out(cols, keep, x, z, y)
        g = ground_at(w, cols, keep, x, z, y)
        if y < g:
            y = g
        p.x, p.y, p.z = x, y, z
        p.on_ground, p.in_water, p.air_ticks, p.jumped = False, False, 0, False
        return

    h0 = w.height1(p.x, p.z)
    surface = w.water_level
    p.in_water = h0 < surface - FLOAT_DEPTH * 0.5 and p.y < surface - FLOAT_DEPTH + 0.3
    speed = SPRINT_SPEED if "shift" in held else WALK_SPEED
    if p.in_water:
        speed *= SWIM_FACTOR
    p.vx, p.vz = dx * speed, dz * speed

    # jump: on the ground or within coyote time, once per landing
    if "space" in presses and not p.in_water and not p.jumped:
        if p.on_ground or p.air_ticks <= COYOTE_TICKS:
            p.vy = JUMP_SPEED
            p.on_ground = False
            p.jumped = True

    x = p.x + (p.vx + p.kx) * DT
    z = p.z + (p.vz + p.kz) * DT
    # slopes over MAX_SLOPE_DEG are not walkable uphill
    run = math.hypot(x - p.x, z - p.z)
    if run > 0 and p.on_ground:
        rise = w.height1(x, z) - h0
        if rise > run * math.tan(math.radians(MAX_SLOPE_DEG)) + 1e-9:
            x, z = p.x, p.z
    x, z = push_out(cols, keep, x, z, p.y)
    g = ground_at(w, cols, keep, x, z, p.y)

    if p.in_water:
        float_y = surface - FLOAT_DEPTH
        p.vy = min(max((float_y - p.y) * 3.0, -3.0), 2.0)
        y = max(p.y + p.vy * DT, g)
        p.on_ground = y <= g + 1e-9
        p.air_ticks, p.jumped = 0, False
    elif p.on_ground and p.y - g <= SNAP_DOWN + run:
        y, p.vy = g, 0.0  # follow the ground, up steps and down slopes
        p.air_ticks, p.jumped = 0, False
    else:
        y = p.y + p.vy * DT - 0.5 * GRAVITY * DT * DT
        p.vy -= GRAVITY * DT
        if y <= g:
            y, p.vy = g, 0.0
            p.on_ground, p.air_ticks, p.jumped = True, 0, False
        else:
            p.on_ground = False
            p.air_ticks += 1
    p.x, p.y, p.z = x, y, z
