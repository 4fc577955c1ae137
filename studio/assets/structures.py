"""Buildings and built structures: house, hut, tower, castle wall, gate, bridge, well, fence,
windmill, tent, pillar, ruins. Townscaper-like palettes: pastel plaster, terracotta and slate.

Each factory takes a seeded `Builder` and returns (colliders, surfel budget at detail 1).
"""

from __future__ import annotations

import numpy as np

from studio.assets.base import Collider
from studio.assets.geometry import Builder, axis_angle, hsv_jitter, vec

Result = tuple[list[Collider], int]

PLASTER = [(0.95, 0.90, 0.78), (0.93, 0.78, 0.62), (0.80, 0.88, 0.92), (0.96, 0.84, 0.52),
           (0.92, 0.70, 0.68), (0.78, 0.86, 0.70), (0.97, 0.96, 0.93)]  # fmt: skip
ROOF = [
    (0.72, 0.32, 0.22),
    (0.36, 0.42, 0.55),
    (0.55, 0.22, 0.20),
    (0.30, 0.32, 0.36),
    (0.62, 0.46, 0.30),
]
STONE = (0.66, 0.64, 0.60)
WOOD = (0.50, 0.35, 0.22)
THATCH = (0.78, 0.64, 0.36)
GLASS = (0.22, 0.28, 0.36)


def _pick(rng: np.random.Generator, options: list) -> np.ndarray:
    return hsv_jitter(options[int(rng.integers(len(options)))], rng)


def _box_collider(cx: float, cy: float, cz: float, hx: float, hy: float, hz: float) -> Collider:
    return Collider("box", (float(cx), float(cy), float(cz)), (float(hx), float(hy), float(hz)))


def _window(b: Builder, c, normal_axis: int, sign: float, w: float, h: float, frame) -> None:
    """A dark pane with a light frame, standing just proud of a wall whose normal is ±axis."""
    c = np.asarray(c, np.float64)
    half = [w / 2, h / 2, w / 2]
    half[normal_axis] = 0.03
    b.box(
        c, [x + 0.06 if i != normal_axis else 0.025 for i, x in enumerate(half)], frame, solid=False
    )
    off = np.zeros(3)
    off[normal_axis] = sign * 0.03
    b.box(c + off, half, GLASS, solid=False, jitter=0.02)


def house(b: Builder) -> Result:
    rng = b.rng
    w, d = rng.uniform(5.0, 7.0), rng.uniform(4.5, 6.0)
    wall_h = rng.uniform(3.0, 4.2) * (1.6 if rng.random() < 0.3 else 1.0)
    roof_h = rng.uniform(2.2, 3.2)
    plaster, roof, trim = _pick(rng, PLASTER), _pick(rng, ROOF), hsv_jitter((0.96, 0.94, 0.90), rng)
    b.box((0, 0.25, 0), (w / 2 + 0.1, 0.25, d / 2 + 0.1), hsv_jitter(STONE, rng), pattern="blocks",
          pattern_scale=0.5)  # fmt: skip
    b.box((0, wall_h / 2 + 0.25, 0), (w / 2, wall_h / 2, d / 2), plaster, jitter=0.02)
    top = wall_h + 0.25
    b.prism(
        (0, top, 0), w / 2 + 0.45, roof_h, d / 2 + 0.35, roof, pattern="planks", pattern_scale=0.35
    )
    b.box((0, top - 0.06, 0), (w / 2 + 0.05, 0.08, d / 2 + 0.05), trim, solid=False)
    cx = rng.choice([-1, 1]) * w * 0.25
    b.box((cx, top + roof_h * 0.6, 0.0), (0.3, roof_h * 0.6, 0.3), hsv_jitter((0.62, 0.40, 0.32), rng),
          pattern="blocks", pattern_scale=0.3)  # fmt: skip
    # door on the +z face, windows on both long faces
    door_x = rng.uniform(-w * 0.25, w * 0.25)
    b.box(
        (door_x, 1.25, d / 2 + 0.03),
        (0.5, 1.0, 0.04),
        hsv_jitter((0.42, 0.26, 0.16), rng),
        solid=False,
    )
    floors = 2 if wall_h > 4.5 else 1
    for f in range(floors):
        y = 0.25 + wall_h * (f + 0.6) / floors
        for sz in (-1, 1):
            for x in np.linspace(-w / 2 + 1.1, w / 2 - 1.1, 3):
                if f == 0 and sz > 0 and abs(x - door_x) < 1.0:
                    continue
                _window(b, (x, y, sz * (d / 2 + 0.02)), 2, sz, 0.8, 1.0, trim)
        for sx in (-1, 1):
            _window(b, (sx * (w / 2 + 0.02), y, 0.0), 0, sx, 0.8, 1.0, trim)
    return [_box_collider(0, top / 2, 0, w / 2 + 0.1, top / 2, d / 2 + 0.1)], 6000


def hut(b: Builder) -> Result:
    rng = b.rng
    r = rng.uniform(1.8, 2.6)
    wall_h = rng.uniform(1.8, 2.4)
    wall = hsv_jitter((0.72, 0.58, 0.42), rng)
    b.cylinder((0, 0, 0), (0, wall_h, 0), r, r * 0.97, wall, sections=14, noise=0.03, pattern="planks",
               pattern_scale=0.6)  # fmt: skip
    b.cone((0, wall_h - 0.2, 0), r * rng.uniform(1.0, 1.4), r * 1.3, hsv_jitter(THATCH, rng), sections=16,
           noise=0.06, freq=4.0, jitter=0.08, shade=(0.75, 1.1), pattern="rings", pattern_scale=0.4)  # fmt: skip
    b.box((0, 0.9, r - 0.02), (0.45, 0.9, 0.08), (0.30, 0.20, 0.12), solid=False)
    return [Collider("cylinder", (0.0, wall_h / 2, 0.0), (r, wall_h / 2, r))], 3500


def tower(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(11.0, 16.0)
    r = rng.uniform(2.4, 3.2)
    stone = hsv_jitter(STONE, rng, val=0.1)
    b.cylinder(
        (0, 0, 0), (0, h, 0), r * 1.08, r, stone, sections=16, pattern="blocks", pattern_scale=0.8
    )
    for k in range(int(h // 4)):  # arrow slits spiralling up
        a = k * 2.1
        y = 3.0 + k * 3.6
        if y > h - 2:
            break
        p = np.array([np.sin(a) * r, y, np.cos(a) * r])
        b.box(p, (0.18, 0.6, 0.18), (0.12, 0.12, 0.14), R=axis_angle((0, 1, 0), a), solid=False)
    b.box((0, 1.3, r * 1.06), (0.7, 1.3, 0.12), (0.38, 0.25, 0.15), solid=False)
    if rng.random() < 0.5:  # conical roof
        b.cylinder((0, h, 0), (0, h + 0.4, 0), r * 1.15, r * 1.15, stone * 0.95, sections=16)
        b.cone((0, h + 0.4, 0), r * rng.uniform(1.4, 2.0), r * 1.25, _pick(rng, ROOF), sections=16,
               pattern="planks", pattern_scale=0.5)  # fmt: skip
        top = h + 0.4 + r * 2.0
    else:  # crenellations
        b.cylinder(
            (0, h, 0), (0, h + 0.5, 0), r * 1.15, r * 1.15, stone, sections=16, pattern="blocks"
        )
        n = 10
        for k in range(n):
            a = 2 * np.pi * k / n
            p = np.array([np.sin(a) * r * 1.05, h + 0.95, np.cos(a) * r * 1.05])
            b.box(p, (0.4, 0.45, 0.3), stone, R=axis_angle((0, 1, 0), a))
        top = h + 1.4
        if rng.random() < 0.7:  # a banner
            b.cylinder((0, h, 0), (0, h + 4.0, 0), 0.06, 0.05, (0.3, 0.25, 0.2), sections=6)
            b.box(
                (0.6, h + 3.5, 0),
                (0.6, 0.35, 0.02),
                _pick(rng, [(0.8, 0.15, 0.15), (0.15, 0.3, 0.7)]),
                solid=False,
            )
    return [Collider("cylinder", (0.0, top / 2, 0.0), (r * 1.1, top / 2, r * 1.1))], 8000


def castle_wall(b: Builder) -> Result:
    rng = b.rng
    L, h, t = rng.uniform(10.0, 14.0), rng.uniform(6.0, 8.0), rng.uniform(1.8, 2.4)
    stone = hsv_jitter(STONE, rng, val=0.1)
    b.box((0, h / 2, 0), (L / 2, h / 2, t / 2), stone, pattern="blocks", pattern_scale=0.9)
    n = int(L // 1.6)
    for k in range(n):
        x = -L / 2 + (k + 0.5) * L / n
        for sz in (-1, 1):
            b.box((x, h + 0.45, sz * (t / 2 - 0.25)), (L / n * 0.3, 0.45, 0.25), stone * rng.uniform(0.92, 1.05),
                  pattern="blocks", pattern_scale=0.9)  # fmt: skip
    return [_box_collider(0, h / 2 + 0.45, 0, L / 2, h / 2 + 0.45, t / 2)], 7000


def gate(b: Builder) -> Result:
    rng = b.rng
    w = rng.uniform(3.0, 4.5)
    h = rng.uniform(4.0, 5.5)
    stone = hsv_jitter(STONE, rng, val=0.1)
    pw = 0.8
    for sx in (-1, 1):
        b.box(
            (sx * (w / 2 + pw / 2), h / 2, 0),
            (pw / 2, h / 2, 0.7),
            stone,
            pattern="blocks",
            pattern_scale=0.7,
        )
    b.box(
        (0, h + 0.5, 0), (w / 2 + pw, 0.5, 0.75), stone * 0.95, pattern="blocks", pattern_scale=0.7
    )
    wood = hsv_jitter(WOOD, rng)
    opened = rng.random() < 0.5
    for sx in (-1, 1):  # two door leaves, closed or swung open
        if opened:
            c = (sx * (w / 2 - 0.06), h * 0.42, w / 4)
            half = (0.06, h * 0.42, w / 4)
        else:
            c = (sx * w / 4, h * 0.42, 0.0)
            half = (w / 4 - 0.02, h * 0.42, 0.06)
        b.box(c, half, wood, pattern="planks", pattern_scale=0.5, solid=False)
    return [
        _box_collider(-(w / 2 + pw / 2), h / 2, 0, pw / 2, h / 2, 0.7),
        _box_collider(w / 2 + pw / 2, h / 2, 0, pw / 2, h / 2, 0.7),
    ], 4000


def bridge(b: Builder) -> Result:
    rng = b.rng
    L = rng.uniform(8.0, 12.0)
    W = rng.uniform(2.2, 3.0)
    rise = rng.uniform(0.6, 1.4)
    stone_bridge = rng.random() < 0.4
    mat = hsv_jitter(STONE if stone_bridge else WOOD, rng)
    n = 10
    colliders = []
    xs = np.linspace(-L / 2, L / 2, n + 1)
    ys = rise * (1 - (2 * xs / L) ** 2) + 0.35
    for i in range(n):  # deck segments following a shallow arch
        p0, p1 = np.array([xs[i], ys[i], 0.0]), np.array([xs[i + 1], ys[i + 1], 0.0])
        c = 0.5 * (p0 + p1)
        seg = p1 - p0
        R = axis_angle((0, 0, 1), np.arctan2(seg[1], seg[0]))
        half = (np.linalg.norm(seg) / 2 + 0.02, 0.15, W / 2)
        b.box(c, half, mat * rng.uniform(0.92, 1.06), R=R, pattern="blocks" if stone_bridge else "planks",
              pattern_scale=0.5)  # fmt: skip
        colliders.append(_box_collider(c[0], c[1], 0, half[0], 0.15, W / 2))
    rail = mat * 0.85
    for sz in (-1, 1):
        for i in range(0, n + 1, 2):
            b.cylinder(
                (xs[i], ys[i], sz * W / 2),
                (xs[i], ys[i] + 1.0, sz * W / 2),
                0.07,
                0.07,
                rail,
                sections=6,
            )
        for i in range(n):
            b.cylinder((xs[i], ys[i] + 0.95, sz * W / 2), (xs[i + 1], ys[i + 1] + 0.95, sz * W / 2), 0.05, 0.05,
                       rail, sections=5, solid=False)  # fmt: skip
    return colliders, 4000


def well(b: Builder) -> Result:
    rng = b.rng
    r = rng.uniform(0.7, 0.95)
    stone = hsv_jitter(STONE, rng, val=0.1)
    b.cylinder(
        (0, 0, 0), (0, 0.9, 0), r, r, stone, sections=14, pattern="blocks", pattern_scale=0.35
    )
    b.cylinder(
        (0, 0.9, 0), (0, 0.93, 0), r * 0.8, r * 0.8, (0.15, 0.28, 0.35), sections=14, solid=False
    )
    wood = hsv_jitter(WOOD, rng)
    for sx in (-1, 1):
        b.cylinder((sx * r * 0.9, 0.9, 0), (sx * r * 0.9, 2.2, 0), 0.07, 0.07, wood, sections=6)
    b.cylinder((-r, 2.0, 0), (r, 2.0, 0), 0.05, 0.05, wood, sections=6)
    b.prism((0, 2.2, 0), r * 0.6, 0.6, r * 1.15, _pick(rng, ROOF), R=axis_angle((0, 1, 0), np.pi / 2),
            pattern="planks", pattern_scale=0.3)  # fmt: skip
    b.cylinder((0, 1.3, 0), (0, 1.55, 0), 0.14, 0.16, wood * 0.8, sections=8)
    return [Collider("cylinder", (0.0, 0.45, 0.0), (r, 0.45, r))], 1500


def fence(b: Builder) -> Result:
    rng = b.rng
    L = rng.uniform(3.0, 4.5)
    wood = hsv_jitter(WOOD if rng.random() < 0.7 else (0.86, 0.84, 0.80), rng)
    n = 3
    for x in np.linspace(-L / 2, L / 2, n):
        b.box((x, 0.55, 0), (0.06, 0.55, 0.06), wood * rng.uniform(0.9, 1.05))
    for y in (0.4, 0.85):
        b.box(
            (0, y, 0.0),
            (L / 2 + 0.1, 0.05, 0.03),
            wood,
            R=axis_angle((0, 0, 1), rng.normal(0, 0.015)),
        )
    return [_box_collider(0, 0.55, 0, L / 2, 0.55, 0.08)], 500


def windmill(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(8.0, 12.0)
    r = h * 0.2
    body = _pick(rng, [(0.95, 0.93, 0.88), (0.82, 0.72, 0.58), (0.70, 0.68, 0.64)])
    b.cylinder(
        (0, 0, 0), (0, h, 0), r, r * 0.7, body, sections=12, pattern="planks", pattern_scale=0.8
    )
    b.cone((0, h, 0), r * 0.9, r * 0.85, _pick(rng, ROOF), sections=12)
    hub = np.array([0.0, h * 0.9, r * 0.85])
    b.cylinder(hub - (0, 0, 0.3), hub + vec(0, 0, 0.3), 0.25, 0.2, (0.3, 0.25, 0.2), sections=8)
    sail = hsv_jitter((0.92, 0.88, 0.80), rng)
    a0 = rng.uniform(0, np.pi / 2)
    for k in range(4):
        a = a0 + k * np.pi / 2
        d = np.array([np.cos(a), np.sin(a), 0.0])
        arm = h * 0.45
        R = axis_angle((0, 0, 1), a)
        b.cylinder(
            hub + vec(0, 0, 0.3),
            hub + (0, 0, 0.3) + d * arm,
            0.07,
            0.05,
            (0.35, 0.26, 0.18),
            sections=5,
        )
        perp = np.array([-d[1], d[0], 0.0])
        b.box(
            hub + (0, 0, 0.35) + d * arm * 0.58 + perp * 0.42,
            (arm * 0.4, 0.38, 0.02),
            sail,
            R=R,
            solid=False,
        )
    b.box((0, 1.1, r * 0.98), (0.55, 1.1, 0.1), (0.40, 0.26, 0.16), solid=False)
    return [Collider("cylinder", (0.0, h / 2, 0.0), (r, h / 2, r))], 6000


def tent(b: Builder) -> Result:
    rng = b.rng
    canvas = _pick(
        rng, [(0.88, 0.82, 0.66), (0.72, 0.36, 0.26), (0.38, 0.52, 0.40), (0.36, 0.46, 0.62)]
    )
    if rng.random() < 0.5:  # ridge tent
        w, h, d = rng.uniform(1.2, 1.8), rng.uniform(1.3, 1.9), rng.uniform(1.6, 2.6)
        b.prism((0, 0, 0), w, h, d, canvas, jitter=0.04, shade=(0.8, 1.08))
        b.prism((0, 0.01, d + 0.01), w * 0.35, h * 0.6, 0.01, canvas * 0.45)
        return [_box_collider(0, h / 2, 0, w * 0.8, h / 2, d)], 1800
    r, h = rng.uniform(1.3, 2.0), rng.uniform(2.4, 3.4)  # tipi
    b.cone((0, 0, 0), h, r, canvas, sections=9, jitter=0.04, shade=(0.85, 1.08))
    for k in range(5):
        a = k * 2 * np.pi / 5
        p = np.array([np.cos(a) * r * 0.15, h * 1.12, np.sin(a) * r * 0.15])
        b.cylinder((np.cos(a) * r * 0.05, h * 0.8, np.sin(a) * r * 0.05), p, 0.03, 0.025, (0.40, 0.28, 0.18),
                   sections=4, solid=False)  # fmt: skip
    return [Collider("cylinder", (0.0, h / 3, 0.0), (r * 0.75, h / 3, r * 0.75))], 1800


def pillar(b: Builder) -> Result:
    rng = b.rng
    h = rng.uniform(3.0, 6.0)
    r = rng.uniform(0.3, 0.45)
    marble = hsv_jitter((0.90, 0.88, 0.82), rng, val=0.06)
    broken = rng.random() < 0.45
    b.box((0, 0.15, 0), (r * 1.5, 0.15, r * 1.5), marble * 0.95)
    shaft_h = h * (rng.uniform(0.4, 0.8) if broken else 1.0)
    b.cylinder(
        (0, 0.3, 0), (0, shaft_h, 0), r, r * 0.9, marble, sections=14, pattern="ribs", noise=0.02
    )
    if not broken:
        b.box((0, h + 0.15, 0), (r * 1.4, 0.15, r * 1.4), marble * 0.97)
        top = h + 0.3
    else:
        b.sphere(
            (0, shaft_h, 0), (r * 0.95, r * 0.35, r * 0.95), marble * 0.92, noise=0.3, solid=False
        )
        top = shaft_h
        if rng.random() < 0.7:  # a fallen drum beside it
            a = rng.uniform(0, 2 * np.pi)
            d = np.array([np.cos(a), 0.0, np.sin(a)])
            p = d * (r * 2.5) + (0, r * 0.9, 0)
            side = np.cross(d, (0, 1, 0))
            b.cylinder(p - side * 0.5, p + side * 0.5, r * 0.9, r * 0.9, marble * 0.9, sections=14)
    return [Collider("cylinder", (0.0, top / 2, 0.0), (r * 1.2, top / 2, r * 1.2))], int(
        900 * h / 4
    )


def ruins(b: Builder) -> Result:
    rng = b.rng
    stone = hsv_jitter(STONE, rng, val=0.1)
    w, d = rng.uniform(5.0, 8.0), rng.uniform(4.0, 6.0)
    t = 0.45
    colliders = []
    walls = [((0, -d / 2), (w / 2, t / 2)), ((-w / 2, 0), (t / 2, d / 2)), ((w / 2, 0), (t / 2, d / 2)),
             ((0, d / 2), (w / 2, t / 2))]  # fmt: skip
    keep = rng.permutation(4)[: int(rng.integers(2, 4))]
    for i in keep:
        (cx, cz), (hx, hz) = walls[i]
        n = 4
        for k in range(n):  # jagged broken top: segments of random height
            f = (k + 0.5) / n - 0.5
            hh = rng.uniform(0.6, 3.5)
            sx = cx + (f * 2 * hx if hx > hz else 0.0)
            sz = cz + (f * 2 * hz if hz > hx else 0.0)
            half = (hx / n if hx > hz else hx, hh / 2, hz / n if hz > hx else hz)
            b.box(
                (sx, hh / 2, sz),
                half,
                stone * rng.uniform(0.88, 1.06),
                pattern="blocks",
                pattern_scale=0.7,
            )
            colliders.append(_box_collider(sx, hh / 2, sz, *half))
    for _ in range(int(rng.integers(3, 7))):  # tumbled blocks and rubble
        p = np.array([rng.uniform(-w / 2, w / 2), 0.0, rng.uniform(-d / 2, d / 2)])
        s = rng.uniform(0.25, 0.45)
        b.box(p + vec(0, s * 0.8, 0), (s * 1.3, s, s), stone * 0.9, R=axis_angle(rng.normal(size=3), rng.uniform(0, 0.5)),
              pattern="blocks", pattern_scale=0.7)  # fmt: skip
    for _ in range(int(rng.integers(3, 6))):  # weeds at the foot
        p = np.array([rng.uniform(-w / 2, w / 2), 0.0, rng.uniform(-d / 2, d / 2)])
        b.sphere(p + vec(0, 0.15, 0), (0.45, 0.3, 0.45), (0.34, 0.50, 0.20), noise=0.2, jitter=0.08,
                 shade=(0.7, 1.1), subdivisions=1)  # fmt: skip
    return colliders, 5000
