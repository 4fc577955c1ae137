"""Cinematic camera rigs: each directed shot is a pure function of its subject's state and time.

`shot_camera(shot, subject, u, ...)` places the camera for progress `u` in [0, 1] of a shot:
the distance comes from the subject's bounds (its height fills a shot-specific fraction of the
frame), moves are eased with a quintic smoothstep (zero velocity and acceleration at both ends,
so angular acceleration stays bounded: no jitter), an orbit turns at a constant rate, and the
camera is kept `CLEARANCE` metres above the terrain and outside props' colliders. The same
(subject, u) always gives the same camera, so a take replays exactly. `blend` eases from the
previous camera into a shot (transition "blend"); a "cut" simply starts at the shot.
`studio.session` evaluates both views at the same tick while a blend runs, so a blend is as
deterministic as the rigs are.

Shots: orbit, wide, close_up, static, dolly_in/out, crane_up/down, low_angle, high_angle,
over_shoulder, tracking, pan.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from studio.camera import Camera

Shot = Literal[
    "orbit", "wide", "close_up", "static", "dolly_in", "dolly_out", "crane_up", "crane_down",
    "low_angle", "high_angle", "over_shoulder", "tracking", "pan",
]  # fmt: skip
SHOTS: tuple[str, ...] = Shot.__args__  # type: ignore[attr-defined]

CLEARANCE = 0.5
"""Metres the camera keeps above the ground."""
BLEND_PEAK_ACCEL = 10.0 / math.sqrt(3.0)
"""Peak |second derivative| of `ease` (at u = (3 - sqrt 3) / 6): a blend of duration T across
an angle A turns with angular acceleration at most this * A / T^2 on top of its two views'."""
VFOV = 60.0


@dataclass(frozen=True)
class Subject:
    """What a shot frames: feet position, heading (degrees, yaw 0 faces -Z) and bounds."""

    position: tuple[float, float, float]
    heading: float = 0.0
    height: float = 1.8
    radius: float = 0.5

    @property
    def centre(self) -> np.ndarray:
        """(3,) the point the camera looks at (a little above mid-height)."""
        x, y, z = self.position
        return np.array([x, y + 0.55 * self.height, z])


@dataclass(frozen=True)
class _Spec:
    fill: tuple[float, float]  # fraction of the frame height the subject fills, start -> end
    elevation: tuple[float, float]  # degrees above the subject's centre, start -> end
    azimuth: float  # degrees relative to the subject's heading (0: in front)
    turn: float = 0.0  # degrees the azimuth turns over the shot (orbit)


_SPECS: dict[str, _Spec] = {
    "orbit": _Spec((0.4, 0.4), (15.0, 15.0), 30.0, 360.0),
    "wide": _Spec((0.08, 0.08), (20.0, 20.0), 25.0),
    "close_up": _Spec((0.9, 0.9), (4.0, 4.0), 15.0),
    "static": _Spec((0.5, 0.5), (8.0, 8.0), 30.0),
    "dolly_in": _Spec((0.2, 0.75), (8.0, 6.0), 20.0),
    "dolly_out": _Spec((0.75, 0.2), (6.0, 8.0), 20.0),
    "crane_up": _Spec((0.35, 0.3), (3.0, 55.0), 25.0),
    "crane_down": _Spec((0.3, 0.35), (55.0, 3.0), 25.0),
    "low_angle": _Spec((0.55, 0.55), (-18.0, -18.0), 20.0),
    "high_angle": _Spec((0.35, 0.35), (55.0, 55.0), 20.0),
    "tracking": _Spec((0.4, 0.4), (8.0, 8.0), 90.0),
    "over_shoulder": _Spec((0.45, 0.45), (12.0, 12.0), 180.0),
    "pan": _Spec((0.3, 0.3), (6.0, 6.0), 40.0),
}


def ease(u: float) -> float:
    """Quintic smoothstep: 0 -> 1 with zero first and second derivatives at both ends."""
    u = min(1.0, max(0.0, u))
    return u * u * u * (u * (6.0 * u - 15.0) + 10.0)


def framing_distance(subject: Subject, fill: float, *, vfov: float = VFOV) -> float:
    """Distance at which the subject's height fills `fill` of the frame height."""
    extent = max(subject.height, 2.0 * subject.radius)
    return extent / (2.0 * fill * math.tan(math.radians(vfov) / 2.0)) + subject.radius


def _direction(yaw: float, elevation: float) -> np.ndarray:
    """(3,) unit vector toward heading `yaw` (0: -Z), raised by `elevation` degrees."""
    a, e = math.radians(yaw), math.radians(elevation)
    return np.array([-math.sin(a) * math.cos(e), math.sin(e), -math.cos(a) * math.cos(e)])


def shot_camera(
    shot: str,
    subject: Subject,
    u: float,
    *,
    azimuth0: float | None = None,
    height_at: Callable[[float, float], float] | None = None,
    colliders: Callable[[float, float], Any] | None = None,
    width: int = 1280,
    height: int = 720,
    vfov: float = VFOV,
) -> Camera:
    """The camera at progress `u` in [0, 1] of `shot` framing `subject`.

    `azimuth0`: world yaw (degrees) the shot is set up from (default: the subject's heading,
    i.e. in front of it); fix it at the shot's start so a turning subject does not swing the
    camera. `height_at(x, z)` and `colliders(x, z)` (a `ColliderArrays`) keep it clear of the
    ground and props.
    """
    if shot not in _SPECS:
        raise ValueError(f"unknown shot {shot!r}; use one of {', '.join(SHOTS)}")
    sp = _SPECS[shot]
    k = ease(u)
    base = subject.heading if azimuth0 is None else azimuth0
    fill = sp.fill[0] + (sp.fill[1] - sp.fill[0]) * k
    elev = sp.elevation[0] + (sp.elevation[1] - sp.elevation[0]) * k
    yaw = base + sp.azimuth + sp.turn * u  # an orbit turns at a constant rate
    dist = framing_distance(subject, fill, vfov=vfov)
    focus = subject.centre
    pos = focus + dist * _direction(yaw, elev)
    look = focus
    if shot == "over_shoulder":
        behind = _direction(base + 180.0, 0.0)
        right = np.array([-behind[2], 0.0, behind[0]])
        pos = focus + 1.6 * behind + 0.55 * right + np.array([0.0, 0.35, 0.0])
        look = focus - 8.0 * behind
    elif shot == "pan":  # the camera stays put and turns across the subject
        sweep = math.radians(40.0 * (k - 0.5))
        d = focus - pos
        c, s = math.cos(sweep), math.sin(sweep)
        look = pos + np.array([c * d[0] + s * d[2], d[1], -s * d[0] + c * d[2]])
    if shot == "low_angle" and height_at is not None:
        pos[1] = max(pos[1], float(height_at(pos[0], pos[2])) + CLEARANCE)
    pos = _clear(pos, focus, height_at, colliders)
    cam = Camera(pos, vfov=vfov, width=width, height=height)
    cam.look_at(look)
    return cam


def _clear(
    pos: np.ndarray,
    focus: np.ndarray,
    height_at: Callable[[float, float], float] | None,
    colliders: Callable[[float, float], Any] | None,
) -> np.ndarray:
    """Pull the camera toward the focus until it is outside every collider, then lift it
    above the ground."""
    pos = pos.copy()
    if colliders is not None:
        cols = colliders(float(pos[0]), float(pos[2]))
        for _ in range(24):
            if not _inside(cols, pos):
                break
            pos = focus + (pos - focus) * 0.85
    if height_at is not None:
        pos[1] = max(pos[1], float(height_at(float(pos[0]), float(pos[2]))) + CLEARANCE)
    return pos


def _inside(cols: Any, p: np.ndarray, margin: float = 0.2) -> bool:
    if cols is None or not len(cols):
        return False
    d = p[None, :] - cols.center  # (K, 3)
    within_y = np.abs(d[:, 1]) <= cols.size[:, 1] + margin
    r = np.hypot(d[:, 0], d[:, 2])
    a = np.radians(cols.yaw)
    u = np.abs(np.cos(a) * d[:, 0] - np.sin(a) * d[:, 2])
    v = np.abs(np.sin(a) * d[:, 0] + np.cos(a) * d[:, 2])
    box = (u <= cols.size[:, 0] + margin) & (v <= cols.size[:, 2] + margin)
    round_ = r <= cols.size[:, 0] + margin
    hit = np.where(cols.shape == 1, box, round_) & within_y
    return bool(hit.any())


def blend(a: Camera, b: Camera, u: float) -> Camera:
    """From camera `a` into `b` at progress `u` (eased position; the shorter way round for yaw)."""
    k = ease(u)
    pos = a.position + (b.position - a.position) * k
    dyaw = (b.yaw - a.yaw + 180.0) % 360.0 - 180.0
    return Camera(
        pos, a.yaw + dyaw * k, a.pitch + (b.pitch - a.pitch) * k, 0.0, b.vfov, b.width, b.height
    )


def subject_of(state: Any, target: str) -> Subject | None:
    """The subject a shot's target names in a SimState: "player", "#id", a label or a kind."""
    from studio.sim.step import _select
    from studio.spec import CREATURE_KINDS

    if target == "player":
        p = state.player
        return Subject((p.x, p.y, p.z), heading=float(p.yaw))
    if "," in target:  # a world point ("x,y,z")
        x, y, z = (float(v) for v in target.split(","))
        return Subject((x, y, z), height=8.0, radius=3.0)
    rows = np.flatnonzero(_select(state, target))
    if not len(rows):
        return None
    i = int(rows[0])
    e = state.entities
    kind = CREATURE_KINDS[int(e.kind[i])]
    h, r = _SIZES.get(kind, (1.5, 0.5))
    sc = float(e.scale[i])
    return Subject(tuple(float(v) for v in e.pos[i]), float(e.yaw[i]), h * sc, r * sc)


_SIZES = {
    "humanoid": (1.8, 0.4), "deer": (1.6, 0.9), "wolf": (0.9, 0.8), "bird": (0.4, 0.4),
    "dragon": (4.0, 4.0), "horse": (1.8, 1.2), "dog": (0.7, 0.5), "sheep": (1.0, 0.7),
}  # fmt: skip
"""Approximate (height, radius) in metres of each creature kind at scale 1."""
