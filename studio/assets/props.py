"""Small man-made props: campfire, lamp post, crate, barrel, cart, statue, shipwreck, generic stand-in.

Each factory takes a seeded `Builder` and returns (colliders, surfel budget at detail 1).
"""

from __future__ import annotations

import numpy as np

from studio.assets.base import Collider
from studio.assets.geometry import Builder, axis_angle, hsv_jitter, vec

Result = tuple[list[Collider], int]

WOOD = [(0.55, 0.38, 0.22), (0.62, 0.45, 0.28), (0.48, 0.33, 0.20)]
IRON = (0.22, 0.22, 0.24)


def _wood(rng: np.random.Generator) -> np.ndarray:
    return hsv_jitter(WOOD[int(rng.integers(len(WOOD)))], rng)


def generic(b: Builder) -> Result:
    """A labelled stand-in for nouns outside the vocabulary: a magenta-capped obelisk on a plinth."""
    rng = b.rng
    h = rng.uniform(1.6, 2.2)
    b.box((0, 0.1, 0), (0.45, 0.1, 0.45), (0.85, 0.84, 0.80))
    b.cylinder((0, 0.2, 0), (0, h, 0), 0.2, 0.12, (0.92, 0.90, 0.86), sections=4, spin=np.pi / 4)
    b.cylinder(
        (0, h, 0), (0, h + 0.3, 0), 0.12, 0.0, (0.90, 0.20, 0.70), sections=4, spin=np.pi / 4
    )
    b.box((0, h * 0.6, 0.16), (0.14, 0.14, 0.02), (0.90, 0.20, 0.70), solid=False)
    return [Collider("cylinder", (0.0, (h + 0.3) / 2, 0.0), (0.45, (h + 0.3) / 2, 0.45))], 700


def campfire(b: Builder) -> Result:
    rng = b.rng
    n = int(rng.integers(7, 11))
    for k in range(n):
        a = 2 * np.pi * k / n + rng.normal(0, 0.1)
        c = np.array([np.cos(a), 0.0, np.sin(a)]) * 0.55
        b.sphere(
            c + vec(0, 0.06, 0), (0.13, 0.1, 0.12), (0.55, 0.54, 0.52), noise=0.2, flatten_below=0.5
        )
    for k in range(int(rng.integers(3, 6))):
        a = rng.uniform(0, np.pi)
        d = np.array([np.cos(a), 0.0, np.sin(a)]) * 0.4
        b.cylinder(
            -d + (0, 0.06, 0),
            d + vec(0, 0.12 + 0.05 * k, 0),
            0.06,
            0.06,
            _wood(rng) * 0.8,
            sections=6,
        )
    b.cone((0, 0.1, 0), rng.uniform(0.5, 0.8), 0.28, (1.0, 0.55, 0.12), sections=7, noise=0.2,
           shade=(1.0, 1.2), solid=False)  # fmt: skip
    b.cone((0, 0.1, 0), 0.42, 0.16, (1.0, 0.88, 0.35), sections=6, noise=0.2, solid=False)
    return [Collider("cylinder", (0.0, 0.2, 0.0), (0.65, 0.2, 0.65))], 600


def lamp_post(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(2.8, 4.0)
    iron = hsv_jitter(IRON, rng, val=0.2)
    b.cylinder((0, 0, 0), (0, 0.3, 0), 0.16, 0.12, iron, sections=8)
    b.cylinder((0, 0.3, 0), (0, h, 0), 0.06, 0.05, iron, sections=8)
    b.box((0, h - 0.05, 0), (0.08, 0.05, 0.08), iron)
    b.box((0, h + 0.2, 0), (0.16, 0.2, 0.16), (1.0, 0.86, 0.45), jitter=0.02, shade=(1.0, 1.1))
    b.cylinder((0, h + 0.4, 0), (0, h + 0.6, 0), 0.24, 0.0, iron, sections=4, spin=np.pi / 4)
    return [Collider("cylinder", (0.0, h / 2, 0.0), (0.16, h / 2, 0.16))], 700


def crate(b: Builder) -> Result:
    rng = b.rng
    wood = _wood(rng)
    stack = int(rng.integers(1, 4))
    boxes = []
    y = 0.0
    for i in range(stack):
        s = rng.uniform(0.35, 0.6) * (1.0 if i == 0 else 0.85)
        off = np.array([rng.normal(0, 0.08), 0.0, rng.normal(0, 0.08)]) if i else np.zeros(3)
        c = off + vec(0, y + s, 0)
        R = axis_angle((0, 1, 0), rng.normal(0, 0.2))
        b.box(
            c, (s, s, s), wood * rng.uniform(0.9, 1.1), R=R, pattern="planks", pattern_scale=s * 1.2
        )
        dark = wood * 0.7
        for sx in (-1, 1):  # corner battens
            for sz in (-1, 1):
                b.box(
                    c + R @ np.array([sx * s, 0, sz * s]), (0.04, s, 0.04), dark, R=R, solid=False
                )
        boxes.append(Collider("box", tuple(c), (s * 1.1, s, s * 1.1)))
        y += 2 * s
    return boxes, 1000 * stack


def barrel(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(0.9, 1.2)
    r = h * 0.33
    wood = _wood(rng)
    t = np.linspace(0.0, 1.0, 13)
    radii = r * (1.0 + 0.15 * np.sin(np.pi * t))  # bulging staves
    hoop = (np.abs(t - 0.125) < 0.05) | (np.abs(t - 0.875) < 0.05)
    cols = np.where(hoop[:, None], np.asarray(IRON), wood[None, :] * (0.95 + 0.1 * t[:, None]))
    b.lathe((0, 0, 0), h * t, radii, cols, sections=16, pattern="ribs")
    return [Collider("cylinder", (0.0, h / 2, 0.0), (r * 1.15, h / 2, r * 1.15))], 900


def cart(b: Builder) -> Result:
    rng = b.rng
    wood = _wood(rng)
    wheel_r = rng.uniform(0.45, 0.6)
    L, W = rng.uniform(1.8, 2.6), rng.uniform(1.0, 1.3)
    y = wheel_r + 0.1
    b.box((0, y, 0), (W / 2, 0.06, L / 2), wood, pattern="planks")
    for sx in (-1, 1):
        b.box((sx * W / 2, y + 0.25, 0), (0.04, 0.25, L / 2), wood * 0.9, pattern="planks")
    for sz in (-1, 1):
        b.box((0, y + 0.25, sz * L / 2), (W / 2, 0.25, 0.04), wood * 0.9, pattern="planks")
    for sx in (-1, 1):
        c = np.array([sx * (W / 2 + 0.12), wheel_r, 0.0])
        b.cylinder(c - (0.05, 0, 0), c + vec(0.05, 0, 0), wheel_r, wheel_r, wood * 0.7, sections=12)
        b.cylinder(c - (0.08, 0, 0), c + vec(0.08, 0, 0), 0.08, 0.08, IRON, sections=8)
    for sx in (-1, 1):  # shafts
        b.cylinder((sx * W * 0.35, y, L / 2), (sx * W * 0.3, y - 0.3, L / 2 + 1.6), 0.04, 0.035, wood,
                   sections=6)  # fmt: skip
    if rng.random() < 0.6:  # a load of hay or sacks
        col = (0.88, 0.76, 0.40) if rng.random() < 0.5 else (0.78, 0.70, 0.55)
        b.sphere((0, y + 0.35, 0), (W * 0.45, 0.35, L * 0.42), col, noise=0.15, jitter=0.08)
    return [Collider("box", (0.0, y / 2 + 0.3, 0.0), (W / 2 + 0.2, y / 2 + 0.3, L / 2))], 2000


def shipwreck(b: Builder) -> Result:
    rng = b.rng
    L = rng.uniform(8.0, 13.0)
    W = L * 0.3
    wood = hsv_jitter((0.42, 0.31, 0.22), rng)
    tilt = axis_angle((0, 0, 1), rng.uniform(0.25, 0.45)) @ axis_angle(
        (1, 0, 0), rng.uniform(-0.1, 0.1)
    )
    hull = b.sphere((0, W * 0.25, 0), (W / 2, W * 0.55, L / 2), wood, R=tilt, subdivisions=3,
                    noise=0.05, jitter=0.06, pattern="planks", pattern_scale=0.8)  # fmt: skip
    v = b._v[hull]
    top = tilt @ np.array([0.0, 1.0, 0.0])
    h_along = (v - (0, W * 0.25, 0)) @ top
    cut = W * rng.uniform(0.05, 0.2)  # hull open above this: clamp vertices onto the deck plane
    over = h_along > cut
    b._v[hull] = v - np.outer(np.where(over, h_along - cut, 0.0), top)
    deck_c = np.array([0.0, W * 0.25, 0.0]) + top * cut
    b.box(deck_c, (W * 0.38, 0.05, L * 0.36), wood * 0.8, R=tilt, solid=False, pattern="planks")
    mast_base = deck_c + tilt @ np.array([0.0, 0.0, L * 0.08])
    mast_dir = tilt @ np.array([0.3, 1.0, 0.1])
    mast_top = mast_base + mast_dir / np.linalg.norm(mast_dir) * L * rng.uniform(0.3, 0.5)
    b.cylinder(mast_base, mast_top, 0.16, 0.1, wood * 0.9, sections=8)
    if rng.random() < 0.7:  # torn sail rag
        sail_c = mast_base + (mast_top - mast_base) * 0.6 + tilt @ np.array([0.0, 0.0, -0.3])
        b.box(sail_c, (0.03, L * 0.08, L * 0.12), (0.86, 0.80, 0.66), R=tilt, solid=False)
    return [Collider("box", (0.0, W * 0.4, 0.0), (W * 0.6, W * 0.4, L / 2))], 6000


def statue(b: Builder) -> Result:
    """A stone figure on a plinth: the humanoid creature at rest, recoloured as stone."""
    from studio.assets.creatures import make_creature

    rng = b.rng
    stone = hsv_jitter((0.72, 0.70, 0.66), rng, val=0.1)
    ph = rng.uniform(0.8, 1.6)
    b.box((0, ph / 2, 0), (0.7, ph / 2, 0.7), stone * 0.92, pattern="blocks", pattern_scale=0.6)
    b.box((0, ph + 0.06, 0), (0.8, 0.06, 0.8), stone)
    scale = rng.uniform(1.1, 1.6)
    figure = make_creature("humanoid", int(rng.integers(1 << 30)))
    angles = {
        "upper_arm_r": float(rng.uniform(1.5, 2.8)),
        "forearm_r": float(rng.uniform(0.0, 0.8)),
    }
    T = np.eye(4)
    T[:3, :3] = scale * np.eye(3)
    T[1, 3] = ph + 0.12
    mesh = figure.pose_mesh(angles, T_world_root=T)
    v = np.asarray(mesh.vertices)
    shade = 0.9 + 0.1 * (v[:, 1] - v[:, 1].min()) / np.ptp(v[:, 1])
    cols = stone[None, :] * shade[:, None] * (1.0 + 0.04 * rng.normal(size=(len(v), 1)))
    b.add(v, np.asarray(mesh.faces), cols)
    top = ph + 0.12 + figure.height * scale
    return [Collider("box", (0.0, top / 2, 0.0), (0.8, top / 2, 0.8))], 3500
