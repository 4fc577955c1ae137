"""Plant factories: trees, bushes, grass, flowers, reeds, mushrooms, cacti.

Foliage is always a cluster of overlapping noise-displaced lumps (never one primitive), with a
darker underside baked into the albedo, so crowns read as volumes when splatted.
Each factory takes a `Builder` (seeded) and returns (colliders, surfel budget at detail 1).
"""

from __future__ import annotations

import numpy as np

from studio.assets.base import Collider
from studio.assets.geometry import Builder, hsv_jitter, vec

Result = tuple[list[Collider], int]

BARK = (0.38, 0.26, 0.17)
PINE_GREENS = [(0.13, 0.33, 0.20), (0.10, 0.28, 0.22), (0.18, 0.38, 0.19)]
LEAF_GREENS = [(0.33, 0.55, 0.20), (0.44, 0.62, 0.22), (0.26, 0.48, 0.18), (0.36, 0.58, 0.26)]
AUTUMN = [(0.86, 0.50, 0.14), (0.80, 0.30, 0.12), (0.90, 0.70, 0.20)]
FLOWER_COLOURS = [
    (0.92, 0.24, 0.26), (0.98, 0.82, 0.20), (0.96, 0.96, 0.94), (0.62, 0.38, 0.86),
    (0.98, 0.56, 0.72), (0.30, 0.52, 0.92), (0.98, 0.55, 0.18),
]  # fmt: skip


def _pick(rng: np.random.Generator, options: list) -> tuple[float, float, float]:
    return options[int(rng.integers(len(options)))]


def trunk_collider(radius: float, height: float, *, x: float = 0.0, z: float = 0.0) -> Collider:
    return Collider("cylinder", (x, height / 2, z), (radius, height / 2, radius))


def conifer(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(6.0, 14.0)
    r = h * rng.uniform(0.20, 0.27)
    trunk_r = 0.035 * h
    green = hsv_jitter(_pick(rng, PINE_GREENS), rng)
    b.cylinder(
        (0, 0, 0), (0, h * 0.35, 0), trunk_r * 1.2, trunk_r, hsv_jitter(BARK, rng), sections=8
    )
    tiers = int(rng.integers(4, 7))
    lean = rng.normal(0, 0.02, 2) * h
    for i in range(tiers):
        t = i / tiers
        base_y = h * (0.18 + 0.72 * t)
        rad = r * (1.0 - 0.75 * t) * rng.uniform(0.9, 1.1)
        tier_h = h * 0.32 * (1.0 - 0.35 * t)
        col = green * rng.uniform(0.9, 1.1) * (0.92 + 0.16 * t)
        b.cone((lean[0] * t, base_y, lean[1] * t), tier_h, rad, col, sections=11, noise=0.12,
               freq=2.5, jitter=0.07, shade=(0.7, 1.1), spin=rng.uniform(0, 6.3))  # fmt: skip
    return [trunk_collider(trunk_r * 1.2, h)], int(2600 * h / 10)


def broadleaf_tree(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(5.0, 10.0)
    trunk_h = h * rng.uniform(0.38, 0.5)
    trunk_r = 0.045 * h
    bark = hsv_jitter((0.40, 0.30, 0.22), rng)
    autumn = rng.random() < 0.08
    leaf = hsv_jitter(_pick(rng, AUTUMN if autumn else LEAF_GREENS), rng)
    b.cylinder(
        (0, 0, 0), (0, trunk_h, 0), trunk_r * 1.3, trunk_r * 0.8, bark, sections=9, noise=0.08
    )
    crown_c = np.array(
        [rng.normal(0, 0.04 * h), trunk_h + (h - trunk_h) * 0.48, rng.normal(0, 0.04 * h)]
    )
    crown_r = (h - trunk_h) * 0.55 * rng.uniform(0.95, 1.25)
    for _ in range(int(rng.integers(2, 4))):  # a few boughs reaching into the crown
        d = rng.normal(size=3) * (1, 0.2, 1)
        tip = crown_c + crown_r * 0.6 * d / np.linalg.norm(d) + (0, crown_r * 0.1, 0)
        b.cylinder((0, trunk_h * 0.9, 0), tip, trunk_r * 0.55, trunk_r * 0.2, bark, sections=6)
    lumps = int(rng.integers(6, 10))
    for i in range(lumps):
        d = rng.normal(size=3) * (1.0, 0.55, 1.0)
        d /= max(np.linalg.norm(d), 1e-6)
        c = crown_c + d * crown_r * rng.uniform(0.35, 0.7)
        rr = crown_r * rng.uniform(0.45, 0.65)
        col = leaf * rng.uniform(0.88, 1.12)
        b.sphere(c, (rr, rr * rng.uniform(0.8, 0.95), rr), col, noise=0.14, freq=1.8, jitter=0.08,
                 shade=(0.68, 1.1), subdivisions=2 if i else 3)  # fmt: skip
    b.sphere(crown_c, crown_r * 0.75, leaf, noise=0.12, jitter=0.08, shade=(0.7, 1.1))
    return [trunk_collider(trunk_r * 1.3 * 1.1, trunk_h)], int(3200 * h / 8)


def palm(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(6.0, 10.0)
    r = 0.16 * rng.uniform(0.9, 1.15)
    bend = rng.uniform(0.08, 0.22) * h
    yaw = rng.uniform(0, 2 * np.pi)
    dirh = np.array([np.cos(yaw), 0.0, np.sin(yaw)])
    bark = hsv_jitter((0.58, 0.46, 0.32), rng)
    segs = 7
    pts = [np.array([0.0, 0.0, 0.0])]
    for i in range(1, segs + 1):
        t = i / segs
        pts.append(dirh * bend * t * t + np.array([0.0, h * t, 0.0]))
    for i in range(segs):
        col = bark * (0.9 if i % 2 else 1.05)
        b.cylinder(pts[i], pts[i + 1], r * (1.15 - 0.25 * i / segs), r * (1.1 - 0.25 * (i + 1) / segs),
                   col, sections=8, jitter=0.05)  # fmt: skip
    top = pts[-1]
    leaf = hsv_jitter((0.30, 0.56, 0.18), rng)
    fronds = int(rng.integers(7, 11))
    for k in range(fronds):
        a = 2 * np.pi * k / fronds + rng.normal(0, 0.15)
        d = np.array([np.cos(a), 0.0, np.sin(a)])
        length = h * rng.uniform(0.3, 0.42)
        droop = rng.uniform(0.25, 0.55)
        p0 = top
        for s in range(3):  # each frond: 3 flat leaflet lumps, drooping outward
            t0, t1 = s / 3, (s + 1) / 3
            q0 = p0 + d * length * t0 + (0, length * (0.25 * t0 - droop * t0 * t0), 0)
            q1 = p0 + d * length * t1 + (0, length * (0.25 * t1 - droop * t1 * t1), 0)
            mid = 0.5 * (q0 + q1)
            seg = q1 - q0
            yaxis = seg / np.linalg.norm(seg)
            xaxis = np.cross(yaxis, (0.0, 1.0, 0.0))
            xaxis /= np.linalg.norm(xaxis)
            zaxis = np.cross(xaxis, yaxis)
            R = np.stack([xaxis, yaxis, zaxis], axis=1)
            w = length * 0.16 * (1.0 - 0.35 * s)
            b.sphere(mid, (w, np.linalg.norm(seg) * 0.62, w * 0.18), leaf * rng.uniform(0.9, 1.1), R=R,
                     subdivisions=1, jitter=0.06, shade=(0.85, 1.1), solid=False)  # fmt: skip
    for _ in range(int(rng.integers(2, 5))):
        off = rng.normal(size=3) * (0.22, 0.05, 0.22)
        b.sphere(top + off - (0, 0.25, 0), 0.13, (0.42, 0.30, 0.14), subdivisions=1)
    return [trunk_collider(r * 1.15, h)], 2000


def dead_tree(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(4.0, 8.0)
    r = 0.04 * h
    wood = hsv_jitter((0.45, 0.40, 0.35), rng)
    b.cylinder((0, 0, 0), (0, h * 0.7, 0), r * 1.4, r * 0.7, wood, sections=8, noise=0.1)

    def branch(p0: np.ndarray, d: np.ndarray, length: float, rad: float, depth: int) -> None:
        p1 = p0 + d * length
        b.cylinder(p0, p1, rad, rad * 0.45, wood * rng.uniform(0.9, 1.05), sections=6)
        if depth == 0:
            return
        for _ in range(2):
            nd = d + rng.normal(size=3) * 0.6 + (0, 0.25, 0)
            branch(
                p1, nd / np.linalg.norm(nd), length * rng.uniform(0.5, 0.75), rad * 0.5, depth - 1
            )

    for _ in range(int(rng.integers(3, 5))):
        d = rng.normal(size=3) * (1, 0.4, 1) + (0, 0.8, 0)
        start = np.array([0.0, h * rng.uniform(0.35, 0.65), 0.0])
        branch(start, d / np.linalg.norm(d), h * rng.uniform(0.25, 0.4), r * 0.6, 2)
    return [trunk_collider(r * 1.4, h * 0.7)], 1600


def bush(b: Builder) -> Result:
    rng = b.rng
    s = rng.uniform(0.7, 1.6)
    leaf = hsv_jitter(_pick(rng, LEAF_GREENS), rng) * 0.9
    n = int(rng.integers(4, 7))
    for _ in range(n):
        d = rng.normal(size=3) * (1.0, 0.3, 1.0)
        c = d * s * 0.3 + (0, s * rng.uniform(0.35, 0.55), 0)
        rr = s * rng.uniform(0.35, 0.5)
        b.sphere(c, (rr, rr * 0.85, rr), leaf * rng.uniform(0.88, 1.12), noise=0.16, freq=2.0,
                 jitter=0.08, shade=(0.65, 1.1))  # fmt: skip
    if rng.random() < 0.4:  # berries or blossoms dotted on the outside
        dot = _pick(rng, FLOWER_COLOURS)
        for _ in range(int(rng.integers(6, 14))):
            d = rng.normal(size=3) * (1, 0.6, 1)
            d /= np.linalg.norm(d)
            b.sphere(d * s * 0.55 + (0, s * 0.5, 0), s * 0.05, dot, subdivisions=1, solid=False)
    return [], int(900 * s)


def grass_tuft(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(0.25, 0.6)
    green = hsv_jitter((0.42, 0.62, 0.22), rng, hue=0.03)
    for _ in range(int(rng.integers(7, 13))):
        a = rng.uniform(0, 2 * np.pi)
        lean = rng.uniform(0.1, 0.45)
        base = np.array([np.cos(a), 0.0, np.sin(a)]) * rng.uniform(0, 0.06)
        tip = base + np.array([np.cos(a) * lean, 1.0, np.sin(a) * lean]) * h * rng.uniform(0.6, 1.1)
        b.cylinder(base, tip, h * 0.045, 0.0, green * rng.uniform(0.85, 1.15), sections=3,
                   shade=(0.6, 1.15), solid=False, spin=rng.uniform(0, 6.3))  # fmt: skip
    return [], 110


def flowers(b: Builder) -> Result:
    rng = b.rng
    petal = _pick(rng, FLOWER_COLOURS)
    stem = (0.30, 0.52, 0.18)
    n = int(rng.integers(3, 7))
    for _ in range(n):
        a = rng.uniform(0, 2 * np.pi)
        base = np.array([np.cos(a), 0.0, np.sin(a)]) * rng.uniform(0, 0.12)
        top = base + vec(rng.normal(0, 0.03), rng.uniform(0.2, 0.45), rng.normal(0, 0.03))
        b.cylinder(base, top, 0.008, 0.006, stem, sections=4, solid=False)
        col = hsv_jitter(petal, rng, hue=0.02)
        b.sphere(top, (0.05, 0.018, 0.05), col, subdivisions=1, jitter=0.05, solid=False)
        b.sphere(top + vec(0, 0.014, 0), 0.016, (0.95, 0.78, 0.18), subdivisions=1, solid=False)
    for _ in range(4):  # leaves at the foot
        a = rng.uniform(0, 2 * np.pi)
        tip = np.array([np.cos(a) * 0.12, 0.12, np.sin(a) * 0.12])
        b.cylinder((0, 0, 0), tip, 0.02, 0.0, stem, sections=3, solid=False, spin=a)
    return [], 150


def reeds(b: Builder) -> Result:
    rng = b.rng
    green = hsv_jitter((0.45, 0.55, 0.25), rng)
    for _ in range(int(rng.integers(6, 12))):
        base = np.array([rng.normal(0, 0.15), 0.0, rng.normal(0, 0.15)])
        hh = rng.uniform(0.9, 1.8)
        top = base + vec(rng.normal(0, 0.08), hh, rng.normal(0, 0.08))
        b.cylinder(base, top, 0.012, 0.006, green * rng.uniform(0.85, 1.1), sections=4, solid=False)
        if rng.random() < 0.6:  # cattail head
            d = (top - base) / np.linalg.norm(top - base)
            b.cylinder(top - d * 0.22, top - d * 0.04, 0.025, 0.025, (0.42, 0.26, 0.14), sections=6)
    return [], 250


def mushroom(b: Builder) -> Result:
    rng = b.rng
    red = rng.random() < 0.5
    cap_col = (0.82, 0.14, 0.12) if red else hsv_jitter((0.62, 0.45, 0.30), rng)
    for i in range(int(rng.integers(1, 4))):
        s = rng.uniform(0.12, 0.35) * (1.0 if i == 0 else 0.6)
        p = np.array([rng.normal(0, 0.12), 0.0, rng.normal(0, 0.12)]) if i else np.zeros(3)
        b.cylinder(p, p + vec(0, s, 0), s * 0.16, s * 0.12, (0.92, 0.88, 0.78), sections=8)
        b.sphere(
            p + vec(0, s, 0), (s * 0.5, s * 0.3, s * 0.5), cap_col, flatten_below=0.0, jitter=0.05
        )
        if red:
            for _ in range(6):
                d = rng.normal(size=3) * (1, 0.4, 1) + (0, 0.9, 0)
                d /= np.linalg.norm(d)
                b.sphere(p + (0, s, 0) + d * (s * 0.5, s * 0.3, s * 0.5), s * 0.06, (0.98, 0.96, 0.92),
                         subdivisions=1, solid=False)  # fmt: skip
    return [], 200


def cactus(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(1.8, 4.5)
    r = h * 0.085
    green = hsv_jitter((0.30, 0.52, 0.28), rng)
    b.cylinder(
        (0, 0, 0), (0, h - r, 0), r, r, green, sections=12, pattern="ribs", shade=(0.85, 1.05)
    )
    b.sphere((0, h - r, 0), r, green * 1.03, subdivisions=2)
    for _ in range(int(rng.integers(1, 4))):
        a = rng.uniform(0, 2 * np.pi)
        d = np.array([np.cos(a), 0.0, np.sin(a)])
        y0 = h * rng.uniform(0.3, 0.55)
        out = r * rng.uniform(2.0, 2.8)
        ra = r * 0.7
        elbow = np.array([0.0, y0, 0.0]) + d * out
        b.cylinder((0, y0, 0), elbow, ra, ra, green, sections=10)
        b.sphere(elbow, ra, green, subdivisions=1)
        top = elbow + vec(0, h * rng.uniform(0.2, 0.35), 0)
        b.cylinder(elbow, top, ra, ra, green, sections=10)
        b.sphere(top, ra, green * 1.03, subdivisions=1)
    return [trunk_collider(r, h)], int(900 * h / 3)
