"""`Builder`: composes coloured, noise-displaced primitives into one asset mesh, fast.

Factories describe an asset as a few dozen primitives (lumpy spheres, tapered cylinders and
cones, boxes, gable prisms). The builder keeps flat numpy arrays (no trimesh objects per
primitive: unit templates are cached and transformed with one matrix product), per-vertex
sRGB albedo with jitter and a baked vertical gradient, and a conservative *solid* per
primitive. The solids let `Builder.finish` drop surfels hidden inside other primitives (a
trunk inside its crown, overlapping foliage lumps) and under the ground, so the Gaussian
budget goes to the visible surface.

Written by hand because no library composes low-poly stylised props procedurally; trimesh
supplies the unit primitives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import trimesh

from studio.assets.base import Asset, Collider
from studio.assets.surfels import sample_surfels
from studio.transforms import rot_x

Pattern = Literal["none", "blocks", "planks", "ribs", "rings"]
_PATTERN_ID: dict[str, int] = {"none": 0, "blocks": 1, "planks": 2, "ribs": 3, "rings": 4}

MIN_SPACING = 0.008
"""Smallest surfel spacing (metres) a budget may ask for."""
MAX_SPACING = 0.35
"""Largest surfel spacing (metres) at detail 1."""


# ---------------------------------------------------------------- unit templates (cached)


@lru_cache(maxsize=8)
def _unit_sphere(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    m = trimesh.creation.icosphere(subdivisions=subdivisions)
    return np.asarray(m.vertices, np.float64), np.asarray(m.faces, np.int64)


@lru_cache(maxsize=32)
def _unit_cylinder(sections: int) -> tuple[np.ndarray, np.ndarray]:
    """Radius 1, from y=0 to y=1, capped; outward winding."""
    m = trimesh.creation.cylinder(radius=1.0, height=1.0, sections=sections)
    v = np.asarray(m.vertices, np.float64) @ rot_x(-90.0).T  # z axis -> y axis
    v[:, 1] += 0.5
    return v, np.asarray(m.faces, np.int64)


@lru_cache(maxsize=1)
def _unit_box() -> tuple[np.ndarray, np.ndarray]:
    """Half extents 1 (the cube [-1, 1]^3)."""
    m = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    return np.asarray(m.vertices, np.float64), np.asarray(m.faces, np.int64)


@lru_cache(maxsize=1)
def _unit_prism() -> tuple[np.ndarray, np.ndarray]:
    """Gable roof prism: base [-1, 1] in x and z at y=0, ridge along z at (0, 1)."""
    v = np.array(
        [[-1, 0, -1], [1, 0, -1], [0, 1, -1], [-1, 0, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64
    )
    f = np.array(
        [[0, 2, 1], [3, 4, 5], [0, 3, 5], [0, 5, 2], [1, 2, 5], [1, 5, 4], [0, 1, 4], [0, 4, 3]],
        dtype=np.int64,
    )
    return v, f


# ---------------------------------------------------------------- small math helpers


def vec(x: float, y: float, z: float) -> np.ndarray:
    """(3,) float vector (offsets added to points: ``p + vec(0, h, 0)``)."""
    return np.array([x, y, z], np.float64)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3, 3) smallest rotation taking direction a onto direction b."""
    a = np.asarray(a, np.float64) / np.linalg.norm(a)
    b = np.asarray(b, np.float64) / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(a @ b)
    if c < -1 + 1e-9:  # opposite: turn half a circle about any perpendicular axis
        axis = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [0.0, 0.0, 1.0])
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """(3, 3) rotation by `angle` radians about unit `axis` (right-handed)."""
    # Python floats: creatures pose a dozen joints each every frame, and numpy scalars made
    # this 17 us a call.
    x, y, z = (float(v) for v in np.asarray(axis, np.float64) / np.linalg.norm(axis))
    c, s = math.cos(angle), math.sin(angle)
    C = 1 - c
    return np.array(
        [
            [c + x * x * C, x * y * C - z * s, x * z * C + y * s],
            [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
            [z * x * C - y * s, z * y * C + x * s, c + z * z * C],
        ]
    )


def smooth_noise(p: np.ndarray, rng: np.random.Generator, *, freq: float = 1.0) -> np.ndarray:
    """(N,) smooth pseudo-random field in about [-1, 1] at points p (N, 3): a sum of 5 random plane waves."""
    dirs = rng.normal(size=(5, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    k = dirs * (freq * rng.uniform(0.7, 2.2, size=(5, 1)))
    phase = rng.uniform(0, 2 * np.pi, size=5)
    return np.sin(p @ k.T + phase).sum(axis=1) / 2.2


def hsv_jitter(rgb: tuple[float, float, float], rng: np.random.Generator, *, hue: float = 0.02,
               sat: float = 0.08, val: float = 0.08) -> np.ndarray:  # fmt: skip
    """(3,) sRGB colour moved a little in hue / saturation / value (seeded per-variant tint)."""
    r, g, b = np.clip(np.asarray(rgb, np.float64), 0, 1)
    mx, mn = max(r, g, b), min(r, g, b)
    v = mx
    s = 0.0 if mx == 0 else (mx - mn) / mx
    if mx == mn:
        h = 0.0
    elif mx == r:
        h = ((g - b) / (mx - mn)) % 6
    elif mx == g:
        h = (b - r) / (mx - mn) + 2
    else:
        h = (r - g) / (mx - mn) + 4
    h = (h / 6 + rng.uniform(-hue, hue)) % 1.0
    s = float(np.clip(s * (1 + rng.uniform(-sat, sat) * 2), 0, 1))
    v = float(np.clip(v * (1 + rng.uniform(-val, val)), 0, 1))
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


# ---------------------------------------------------------------- the builder


@dataclass(frozen=True)
class _Solid:
    """Conservative interior of one primitive, for culling hidden surfels."""

    kind: Literal["ellipsoid", "cylinder", "box"]
    center: np.ndarray  # (3,)
    R: np.ndarray  # (3, 3) local axes as columns
    size: np.ndarray  # ellipsoid radii / box half extents / cylinder (radius, length, 0)
    prim: int

    def contains(self, p: np.ndarray) -> np.ndarray:
        q = (p - self.center) @ self.R  # (N, 3) in the solid's frame
        if self.kind == "ellipsoid":
            return ((q / self.size) ** 2).sum(axis=1) < 1.0
        if self.kind == "box":
            return (np.abs(q) < self.size).all(axis=1)
        r, length = self.size[0], self.size[1]  # finite cylinder along local +y
        return (q[:, 1] > 0.0) & (q[:, 1] < length) & (q[:, 0] ** 2 + q[:, 2] ** 2 < r * r)


class Builder:
    """Accumulates coloured primitives; `finish` returns the `Asset` (mesh + surfels + colliders).

    Every primitive method takes sRGB `color`, per-vertex `jitter` (relative brightness std),
    a vertical albedo gradient `shade=(bottom, top)` across the primitive, and `solid` (whether
    it hides surfels of other primitives inside it).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._v: list[np.ndarray] = []
        self._f: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._prim: list[np.ndarray] = []
        self._pattern: list[int] = []
        self._pattern_scale: list[float] = []
        self._solids: list[_Solid] = []
        self._nv = 0

    # -- low level
    def add(self, v: np.ndarray, f: np.ndarray, colors: np.ndarray, *, pattern: Pattern = "none",
            pattern_scale: float = 0.5) -> int:  # fmt: skip
        """Append raw arrays: vertices (V, 3), faces (F, 3) local to v, colours (V, 3) sRGB; returns prim id."""
        prim = len(self._pattern)
        self._v.append(np.asarray(v, np.float64))
        self._f.append(np.asarray(f, np.int64) + self._nv)
        self._c.append(np.clip(colors, 0.0, 1.0))
        self._prim.append(np.full(len(f), prim, np.int32))
        self._pattern.append(_PATTERN_ID[pattern])
        self._pattern_scale.append(pattern_scale)
        self._nv += len(v)
        return prim

    def _colors(self, v_unit_y: np.ndarray, n: int, color, jitter: float, shade) -> np.ndarray:
        base = np.asarray(color, np.float64)
        t = np.clip(v_unit_y, 0.0, 1.0)[:, None]
        grad = shade[0] + (shade[1] - shade[0]) * t
        noise = 1.0 + jitter * self.rng.normal(size=(n, 1))
        return base[None, :] * grad * noise

    # -- primitives
    def sphere(self, center, radii, color, *, R: np.ndarray | None = None, subdivisions: int = 2,
               noise: float = 0.0, freq: float = 1.5, jitter: float = 0.05,
               shade: tuple[float, float] = (0.85, 1.08), solid: bool = True,
               flatten_below: float | None = None, pattern: Pattern = "none",
               pattern_scale: float = 0.5) -> int:  # fmt: skip
        """Lumpy ellipsoid: radial noise `noise` (relative) at `freq` cycles per radius."""
        u, f = _unit_sphere(subdivisions)
        radii = np.broadcast_to(np.asarray(radii, np.float64), (3,))
        d = 1.0 + noise * smooth_noise(u, self.rng, freq=freq) if noise > 0 else 1.0
        local = u * (d if np.isscalar(d) else d[:, None]) * radii
        if flatten_below is not None:  # flat bottom (rocks resting on ground)
            local[:, 1] = np.maximum(local[:, 1], -flatten_below * radii[1])
        Rm = np.eye(3) if R is None else R
        v = local @ Rm.T + np.asarray(center, np.float64)
        c = self._colors(0.5 * (u[:, 1] + 1), len(u), color, jitter, shade)
        prim = self.add(v, f, c, pattern=pattern, pattern_scale=pattern_scale)
        if solid:
            self._solids.append(
                _Solid(
                    "ellipsoid",
                    np.asarray(center, np.float64),
                    Rm,
                    radii * (1 - noise) * 0.92,
                    prim,
                )
            )
        return prim

    def cylinder(self, p0, p1, r0: float, r1: float | None = None, color=(0.5, 0.5, 0.5), *,
                 sections: int = 10, noise: float = 0.0, freq: float = 2.0, jitter: float = 0.04,
                 shade: tuple[float, float] = (0.9, 1.05), solid: bool = True,
                 spin: float = 0.0, pattern: Pattern = "none", pattern_scale: float = 0.5) -> int:  # fmt: skip
        """Tapered cylinder (a cone when r1=0) from p0 (radius r0) to p1 (radius r1)."""
        r1 = r0 if r1 is None else r1
        p0 = np.asarray(p0, np.float64)
        axis = np.asarray(p1, np.float64) - p0
        length = float(np.linalg.norm(axis))
        u, f = _unit_cylinder(sections)
        rad = r0 + (r1 - r0) * u[:, 1]
        if noise > 0:
            rad = rad * (1.0 + noise * smooth_noise(u * np.array([1, 3, 1]), self.rng, freq=freq))
        c_, s_ = np.cos(spin), np.sin(spin)
        x = (u[:, 0] * c_ - u[:, 2] * s_) * rad
        z = (u[:, 0] * s_ + u[:, 2] * c_) * rad
        local = np.stack([x, u[:, 1] * length, z], axis=1)
        Rm = rotation_between(np.array([0.0, 1.0, 0.0]), axis)
        v = local @ Rm.T + p0
        c = self._colors(u[:, 1], len(u), color, jitter, shade)
        prim = self.add(v, f, c, pattern=pattern, pattern_scale=pattern_scale)
        if solid and min(r0, r1) > 0:
            self._solids.append(
                _Solid(
                    "cylinder",
                    p0,
                    Rm,
                    np.array([min(r0, r1) * (1 - noise) * 0.9, length, 0.0]),
                    prim,
                )
            )
        return prim

    def lathe(self, base, heights: np.ndarray, radii: np.ndarray, colors: np.ndarray, *,
              sections: int = 14, jitter: float = 0.03, solid: bool = True,
              pattern: Pattern = "none", pattern_scale: float = 0.5) -> int:  # fmt: skip
        """Upright surface of revolution through rings (heights (K,), radii (K,), colours (K, 3)), capped."""
        y = np.asarray(heights, np.float64)
        r = np.asarray(radii, np.float64)
        k = len(y)
        a = np.linspace(0.0, 2 * np.pi, sections, endpoint=False)
        ring = np.stack(
            [np.cos(a), np.zeros(sections), -np.sin(a)], axis=1
        )  # counter-clockwise from above
        v = (
            ring[None, :, :] * r[:, None, None]
            + np.stack([np.zeros(k), y, np.zeros(k)], 1)[:, None, :]
        ).reshape(-1, 3)
        v = np.concatenate([v, [[0.0, y[0], 0.0], [0.0, y[-1], 0.0]]]) + np.asarray(
            base, np.float64
        )
        i = np.arange(k - 1)[:, None] * sections
        j = np.arange(sections)[None, :]
        j1 = (j + 1) % sections
        a0, a1, b0, b1 = (
            (i + j).ravel(),
            (i + j1).ravel(),
            (i + sections + j).ravel(),
            (i + sections + j1).ravel(),
        )
        side = np.concatenate([np.stack([a0, a1, b1], 1), np.stack([a0, b1, b0], 1)])
        bottom = np.stack([np.full(sections, k * sections), (j1 % sections).ravel(), j.ravel()], 1)
        top_ring = (k - 1) * sections
        top = np.stack(
            [np.full(sections, k * sections + 1), top_ring + j.ravel(), top_ring + j1.ravel()], 1
        )
        c = np.repeat(np.asarray(colors, np.float64), sections, axis=0)
        c = np.concatenate([c, c[:1], c[-1:]]) * (1.0 + jitter * self.rng.normal(size=(len(v), 1)))
        prim = self.add(
            v, np.concatenate([side, bottom, top]), c, pattern=pattern, pattern_scale=pattern_scale
        )
        if solid:
            self._solids.append(
                _Solid(
                    "cylinder",
                    np.asarray(base, np.float64) + vec(0.0, y[0], 0.0),
                    np.eye(3),
                    np.array([r.min() * 0.9, y[-1] - y[0], 0.0]),
                    prim,
                )
            )
        return prim

    def cone(self, base, height: float, radius: float, color, **kw) -> int:
        """Upright cone standing on `base`."""
        base = np.asarray(base, np.float64)
        solid = kw.pop("solid", True)
        prim = self.cylinder(
            base, base + vec(0.0, height, 0.0), radius, 0.0, color, solid=False, **kw
        )
        if solid:
            # the inscribed lower half of the cone as an ellipsoid-ish interior
            c = base + vec(0.0, height * 0.25, 0.0)
            self._solids.append(
                _Solid(
                    "ellipsoid",
                    c,
                    np.eye(3),
                    np.array([radius * 0.55, height * 0.22, radius * 0.55]),
                    prim,
                )
            )
        return prim

    def box(self, center, half, color, *, R: np.ndarray | None = None, jitter: float = 0.03,
            shade: tuple[float, float] = (0.92, 1.04), solid: bool = True,
            pattern: Pattern = "none", pattern_scale: float = 0.5) -> int:  # fmt: skip
        """Box with half extents `half`, rotated by R about its centre."""
        u, f = _unit_box()
        half = np.asarray(half, np.float64)
        Rm = np.eye(3) if R is None else R
        v = (u * half) @ Rm.T + np.asarray(center, np.float64)
        c = self._colors(0.5 * (u[:, 1] + 1), len(u), color, jitter, shade)
        prim = self.add(v, f, c, pattern=pattern, pattern_scale=pattern_scale)
        if solid:
            self._solids.append(
                _Solid("box", np.asarray(center, np.float64), Rm, half * 0.97, prim)
            )
        return prim

    def prism(self, base_center, half_width: float, height: float, half_depth: float, color, *,
              R: np.ndarray | None = None, jitter: float = 0.03,
              shade: tuple[float, float] = (0.9, 1.05), pattern: Pattern = "none",
              pattern_scale: float = 0.5) -> int:  # fmt: skip
        """Gable roof: a triangular prism, ridge along local z."""
        u, f = _unit_prism()
        Rm = np.eye(3) if R is None else R
        v = (u * (half_width, height, half_depth)) @ Rm.T + np.asarray(base_center, np.float64)
        c = self._colors(u[:, 1], len(u), color, jitter, shade)
        return self.add(v, f, c, pattern=pattern, pattern_scale=pattern_scale)

    # -- output
    def area(self) -> float:
        """Total surface area of what was added so far (m²)."""
        v = np.concatenate(self._v)
        f = np.concatenate(self._f)
        tri = v[f]
        return float(
            0.5
            * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
        )

    def mesh(self) -> tuple[trimesh.Trimesh, np.ndarray]:
        """The coloured mesh (vertex colours, uint8 sRGB) and its (F,) primitive ids."""
        v = np.concatenate(self._v)
        f = np.concatenate(self._f)
        c = np.concatenate(self._c)
        rgba = np.empty((len(c), 4), np.uint8)
        rgba[:, :3] = np.round(c * 255)
        rgba[:, 3] = 255
        mesh = trimesh.Trimesh(
            vertices=v, faces=f, vertex_colors=rgba, process=False, validate=False
        )
        return mesh, np.concatenate(self._prim)

    def finish(self, kind: str, *, budget: int, detail: float, seed: int,
               colliders: list[Collider] | None = None, opacity: float = 0.96,
               color_jitter: float = 0.045, spacing: float | None = None,
               ground: bool = True) -> Asset:  # fmt: skip
        """Mesh + surfels (about `budget * detail` before culling) + colliders as an `Asset`.

        `spacing` (metres at detail 1) overrides the budget; `ground=False` keeps surfels below
        y=0 (creature parts, whose frames are not on the ground).
        """
        mesh, prim = self.mesh()
        solids = self._solids
        face_prim = prim

        def keep(points: np.ndarray, face_index: np.ndarray, normals: np.ndarray) -> np.ndarray:
            ok = np.ones(len(points), bool)
            if ground:
                ok &= points[:, 1] > -0.01  # below the ground: never seen
                ok &= ~(
                    (normals[:, 1] < -0.9) & (points[:, 1] < 0.05)
                )  # bottoms resting on the ground
            sp = face_prim[face_index]
            for s in solids:
                ok &= ~(s.contains(points) & (sp != s.prim))
            return ok

        if spacing is None:
            # The budget counts visible surfels: a coarse pilot pass measures how much of the
            # area survives culling (hidden caps, trunks inside crowns) and the spacing adapts.
            spacing = float(np.sqrt(self.area() / max(budget, 1)))
            pilot = sample_surfels(mesh, spacing=spacing * 2.0, seed=seed, keep=keep)
            spacing *= float(np.sqrt(max(len(pilot), 1) * 4.0 / budget))
            spacing = float(np.clip(spacing, MIN_SPACING, MAX_SPACING))
        spacing = float(spacing / np.sqrt(detail))
        g, face_index = sample_surfels(
            mesh, spacing=spacing, seed=seed, keep=keep, opacity=opacity,
            color_jitter=color_jitter, return_faces=True,
        )  # fmt: skip
        pat = np.asarray(self._pattern, np.int32)[face_prim[face_index]]
        if (pat > 0).any():
            g.colors = np.clip(
                g.colors * _pattern_factor(g.means, pat, np.asarray(self._pattern_scale)[face_prim[face_index]], seed)[:, None],
                0.0, 1.0,
            ).astype(np.float32)  # fmt: skip
        return Asset(
            kind=kind, mesh=mesh, gaussians=g, colliders=list(colliders or []), spacing=spacing
        )


def _hash01(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray, seed: int) -> np.ndarray:
    """Deterministic per-cell value in [0, 1) from integer cell coordinates."""
    h = (
        (ix.astype(np.int64) * 73856093)
        ^ (iy.astype(np.int64) * 19349663)
        ^ (iz.astype(np.int64) * 83492791)
    )
    h = (h ^ ((seed * 2654435761) & 0xFFFFFFFF)) & 0xFFFFFFFF
    h = (h * 2246822519 + 3266489917) & 0xFFFFFFFF
    return ((h >> 8) & 0xFFFF) / 65536.0


def _pattern_factor(p: np.ndarray, pat: np.ndarray, scale: np.ndarray, seed: int) -> np.ndarray:
    """(N,) brightness multipliers painting masonry blocks, planks, ribs or rings on surfels."""
    out = np.ones(len(p))
    x, y, z = p[:, 0] / scale, p[:, 1] / scale, p[:, 2] / scale
    blocks = pat == 1
    if blocks.any():  # running-bond masonry: rows of height s/2, blocks offset every other row
        row = np.floor(y * 2)
        off = 0.5 * (row % 2)
        cx, cz = np.floor(x + off), np.floor(z + off)
        v = _hash01(cx, row, cz, seed)
        fy = (y * 2) % 1.0
        mortar = (fy < 0.1) | ((x + off) % 1.0 < 0.06) | ((z + off) % 1.0 < 0.06)
        out[blocks] = (0.82 + 0.3 * v - 0.28 * mortar)[blocks]
    planks = pat == 2
    if planks.any():
        row = np.floor(y * 3)
        v = _hash01(row, np.zeros_like(row), np.floor((x + z) * 0.5), seed)
        gap = (y * 3) % 1.0 < 0.08
        out[planks] = (0.86 + 0.24 * v - 0.25 * gap)[planks]
    ribs = pat == 3
    if ribs.any():
        ang = np.arctan2(p[:, 2], p[:, 0])
        out[ribs] = (0.9 + 0.14 * np.cos(ang * 12))[ribs]
    rings = pat == 4
    if rings.any():
        out[rings] = (0.9 + 0.12 * np.sin(y * 2 * np.pi))[rings]
    return out
