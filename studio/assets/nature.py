"""Stone and wood factories: rocks, boulders, cliffs, fallen logs, crystal clusters.

Each factory takes a seeded `Builder` and returns (colliders, surfel budget at detail 1).
"""

from __future__ import annotations

import numpy as np

from studio.assets.base import Collider
from studio.assets.geometry import Builder, axis_angle, hsv_jitter, vec

Result = tuple[list[Collider], int]

STONE = [(0.56, 0.55, 0.52), (0.60, 0.56, 0.50), (0.50, 0.52, 0.54), (0.64, 0.60, 0.54)]
MOSS = (0.36, 0.50, 0.20)


def _stone(rng: np.random.Generator) -> np.ndarray:
    return hsv_jitter(STONE[int(rng.integers(len(STONE)))], rng, val=0.1)


def rock(b: Builder) -> Result:
    rng = b.rng
    s = rng.uniform(0.35, 1.1)
    radii = s * np.array([rng.uniform(0.8, 1.2), rng.uniform(0.5, 0.75), rng.uniform(0.8, 1.2)])
    R = axis_angle((0, 1, 0), rng.uniform(0, 2 * np.pi))
    b.sphere((0, radii[1] * 0.55, 0), radii, _stone(rng), R=R, noise=0.2, freq=1.6, jitter=0.07,
             flatten_below=0.55, shade=(0.8, 1.08))  # fmt: skip
    return [Collider("sphere", (0.0, radii[1] * 0.55, 0.0), (float(radii.min()),) * 3)], int(
        500 * s + 100
    )


def boulder(b: Builder) -> Result:
    rng = b.rng
    s = rng.uniform(1.4, 3.2)
    stone = _stone(rng)
    mossy = rng.random() < 0.6
    radii = s * np.array([rng.uniform(0.85, 1.15), rng.uniform(0.6, 0.8), rng.uniform(0.85, 1.15)])
    R = axis_angle((0, 1, 0), rng.uniform(0, 2 * np.pi))
    p = b.sphere((0, radii[1] * 0.6, 0), radii, stone, R=R, subdivisions=3, noise=0.16, freq=1.4,
                 jitter=0.07, flatten_below=0.6, shade=(0.78, 1.08))  # fmt: skip
    if mossy:  # moss on the upward-facing top: tint vertices by their height
        _tint_top(b, p, MOSS, start=0.7)
    if rng.random() < 0.5:  # a smaller companion stone
        c = np.array([radii[0] * 0.9, 0.0, radii[2] * 0.5])
        b.sphere(c + vec(0, s * 0.2, 0), s * 0.35, stone * 0.95, noise=0.2, flatten_below=0.5)
    half = radii * 0.8
    return [Collider("box", (0.0, float(half[1]), 0.0), tuple(float(x) for x in half))], int(
        1800 * s / 2
    )


def _tint_top(b: Builder, prim: int, color, *, start: float) -> None:
    """Blend vertex colours of primitive `prim` toward `color` on its top (above `start` of its height)."""
    v, c = b._v[prim], b._c[prim]
    y0, y1 = v[:, 1].min(), v[:, 1].max()
    t = np.clip(((v[:, 1] - y0) / max(y1 - y0, 1e-6) - start) / (1 - start), 0.0, 1.0)[:, None]
    t = np.clip(t * 1.6 + 0.25 * b.rng.normal(size=t.shape), 0.0, 1.0)
    b._c[prim] = c * (1 - t) + np.asarray(color) * t * (0.85 + 0.3 * b.rng.random(t.shape))


def cliff(b: Builder) -> Result:
    """A rock face of faceted, flat-topped columns in two staggered rows, strata in the albedo."""
    rng = b.rng
    w = rng.uniform(8.0, 15.0)
    h = rng.uniform(6.0, 12.0)
    d = rng.uniform(4.0, 7.0)
    base = hsv_jitter(((0.68, 0.56, 0.42) if rng.random() < 0.5 else (0.58, 0.57, 0.55)), rng)
    strata = rng.uniform(0.7, 1.3)
    for z, hmul in ((-d * 0.2, 1.0), (d * 0.22, 0.7)):
        n = int(rng.integers(4, 7))
        for i in range(n):
            x = ((i + 0.5) / n - 0.5) * w + rng.normal(0, 0.3)
            top = h * hmul * rng.uniform(0.65, 1.0)
            rad = np.array(
                [w / n * rng.uniform(0.7, 0.9), top * 0.62, d * 0.3 * rng.uniform(0.8, 1.2)]
            )
            p = b.sphere((x, top * 0.42, z + rng.normal(0, 0.3)), rad, base * rng.uniform(0.88, 1.08),
                         R=axis_angle((0, 1, 0), rng.normal(0, 0.25)), subdivisions=1, noise=0.08,
                         freq=2.0, jitter=0.05, flatten_below=0.65, pattern="rings",
                         pattern_scale=strata, shade=(0.85, 1.05))  # fmt: skip
            v = b._v[p]
            v[:, 1] = np.minimum(v[:, 1], top)  # a flat, walkable top
            _tint_top(b, p, MOSS, start=0.9)
    return [Collider("box", (0.0, h / 2, 0.0), (w / 2, h / 2, d / 2))], 7000


def log(b: Builder) -> Result:
    rng = b.rng
    length = rng.uniform(2.0, 4.2)
    r = rng.uniform(0.18, 0.34)
    yaw = axis_angle((0, 1, 0), rng.uniform(0, 2 * np.pi))
    a = yaw @ np.array([-length / 2, r * 0.9, 0.0])
    c = yaw @ np.array([length / 2, r * 0.9, 0.0])
    bark = hsv_jitter((0.40, 0.29, 0.19), rng)
    p = b.cylinder(a, c, r, r * 0.92, bark, sections=10, noise=0.06, shade=(1.0, 1.0))
    _tint_top(b, p, MOSS, start=0.75)
    cap = np.array([0.80, 0.66, 0.46])
    axis = (c - a) / length
    b.cylinder(a - axis * 0.01, a + axis * 0.005, r * 0.9, r * 0.9, cap, sections=10, solid=False)
    b.cylinder(c - axis * 0.005, c + axis * 0.01, r * 0.85, r * 0.85, cap, sections=10, solid=False)
    half = np.abs(yaw @ np.array([length / 2, 0.0, r])) + vec(0.0, 0.0, 0.0)
    return [
        Collider(
            "box", (0.0, r * 0.9, 0.0), (float(half[0]) + r * 0.5, r, float(half[2]) + r * 0.5)
        )
    ], 900


def crystal(b: Builder) -> Result:
    rng = b.rng
    hue = [(0.45, 0.85, 0.95), (0.70, 0.45, 0.95), (0.98, 0.50, 0.78), (0.55, 0.95, 0.70)]
    col = hsv_jitter(hue[int(rng.integers(len(hue)))], rng)
    s = rng.uniform(0.6, 2.4)
    for i in range(int(rng.integers(3, 8))):
        tilt = 0.0 if i == 0 else rng.uniform(0.25, 0.8)
        a = rng.uniform(0, 2 * np.pi)
        d = np.array([np.sin(tilt) * np.cos(a), np.cos(tilt), np.sin(tilt) * np.sin(a)])
        length = s * (1.0 if i == 0 else rng.uniform(0.35, 0.75))
        rr = length * 0.16
        base = np.array([np.cos(a), 0.0, np.sin(a)]) * (0.0 if i == 0 else rr)
        mid = base + d * length * 0.78
        c = col * rng.uniform(0.85, 1.15)
        b.cylinder(
            base - d * 0.1 * length, mid, rr, rr, c, sections=6, shade=(0.75, 1.1), jitter=0.06
        )
        b.cylinder(
            mid, base + d * length, rr, 0.0, c * 1.1, sections=6, shade=(1.0, 1.25), solid=False
        )
    b.sphere(
        (0, 0, 0), (s * 0.35, s * 0.12, s * 0.35), (0.42, 0.40, 0.42), noise=0.2, flatten_below=0.0
    )
    return [Collider("cylinder", (0.0, s / 2, 0.0), (s * 0.3, s / 2, s * 0.3))], int(900 * s)
