"""Rain and snow as Gaussians around the camera, deterministic in (seed, time).

Particles live on a world-anchored lattice that wraps around the camera (so they parallax as
you walk) and fall at a fixed speed: a particle's position is a pure function of its index,
the world seed and `time_s`, so a rewound or replayed take shows the same drops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.terrain import hash_uniform, stable_seed

if TYPE_CHECKING:
    from studio.world import World

BOX = 36.0
"""Side (metres) of the wrapped particle box around the camera."""
TALL = 24.0
"""Height (metres) of the particle box."""


def _wrap(u: np.ndarray, centre: float, size: float) -> np.ndarray:
    return centre + np.mod(u - centre + size / 2, size) - size / 2


def particles(
    kind: str,
    camera_pos: np.ndarray,
    *,
    seed: int,
    time_s: float,
    wind: float = 0.3,
    count: int | None = None,
    light_scale: float = 1.0,
) -> Gaussians:
    """Rain streaks ("rain", "storm") or snow flakes ("snow") around `camera_pos` (3,)."""
    if kind not in ("rain", "storm", "snow"):
        return Gaussians.empty()
    n = count or {"rain": 9000, "storm": 14000, "snow": 7000}[kind]
    s = stable_seed("weather", seed, kind)
    i = np.arange(n)
    u = hash_uniform(s, i, 0, 1) * BOX
    v = hash_uniform(s, i, 0, 2) * BOX
    w = hash_uniform(s, i, 0, 3) * TALL
    phase = hash_uniform(s, i, 0, 4) * 2 * np.pi
    if kind == "snow":
        fall = 1.1 + 0.4 * hash_uniform(s, i, 0, 5)
        drift = np.array([0.6, 0.0, 0.25]) * (0.3 + wind)
        x = u + drift[0] * time_s + 0.35 * np.sin(0.9 * time_s + phase)
        z = v + drift[2] * time_s + 0.35 * np.cos(0.7 * time_s + phase)
    else:
        fall = 9.0 + 2.0 * hash_uniform(s, i, 0, 5)
        slant = 1.5 + 4.0 * wind
        x = u + slant * time_s
        z = v + 0.3 * slant * time_s
    y = w - fall * time_s
    cx, cy, cz = (float(c) for c in camera_pos)
    means = np.stack(
        [_wrap(x, cx, BOX), _wrap(y, cy + TALL * 0.3, TALL), _wrap(z, cz, BOX)], axis=1
    )
    if kind == "snow":
        scales = np.tile([0.035, 0.035, 0.035], (n, 1))
        quats = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
        colors = np.tile(np.array([0.95, 0.96, 1.0]) * light_scale, (n, 1))
        opac = np.full(n, 0.9)
    else:
        vel = np.array([1.5 + 4.0 * wind, -10.0, 0.3 * (1.5 + 4.0 * wind)])
        vel /= np.linalg.norm(vel)
        # Rotate local +y onto the fall direction (streaks are long along local y).
        axis = np.cross([0.0, 1.0, 0.0], -vel)
        ang = np.arccos(np.clip(np.dot([0.0, 1.0, 0.0], -vel), -1, 1))
        axis = axis / (np.linalg.norm(axis) + 1e-12)
        q = np.concatenate([[np.cos(ang / 2)], np.sin(ang / 2) * axis])
        quats = np.tile(q, (n, 1))
        scales = np.tile([0.008, 0.32, 0.008], (n, 1))
        colors = np.tile(np.array([0.78, 0.82, 0.88]) * light_scale, (n, 1))
        opac = np.full(n, 0.26 if kind == "rain" else 0.34)
    # Drops right at the lens would smear across the frame: they are invisible in a small
    # bubble (kept, so particle i stays particle i over time).
    near = np.linalg.norm(means - np.array([cx, cy, cz]), axis=1) < (0.8 if kind == "snow" else 2.5)
    opac = np.where(near, 0.0, opac)
    return Gaussians(means, quats, scales, opac, np.clip(colors, 0, 1))


def weather_particles(world: World, camera: Camera, *, time_s: float = 0.0) -> Gaussians:
    """The world's current weather particles around `camera`, lit for the current hour."""
    L = world.lighting
    brightness = float(np.clip(0.35 + 0.65 * (1 - L.night), 0.25, 1.0))
    return particles(
        world.weather.kind,
        camera.position,
        seed=world.spec.seed,
        time_s=time_s,
        wind=world.weather.wind,
        light_scale=brightness,
    )
