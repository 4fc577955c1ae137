"""A deterministic benchmark scene: surfel-like ground plus objects, seen by a walking-height camera.

It stands in for a typical world view until the world generator exists: flat Gaussians tiling
rolling ground (thin along the normal, like surfels) and trees, rocks and crates whose surfaces
are covered by tangent splats. Arrays are generated in a spatially coherent order (ground row by
row, then object by object), as a world chunk would hand them over.
"""

from __future__ import annotations

import numpy as np

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.transforms import matrix_to_quat

GROUND_SHARE = 0.6
"""Fraction of the Gaussians on the ground; the rest cover objects."""


def bench_camera(width: int = 640, height: int = 360) -> Camera:
    """The camera the benchmarks use: eye height 1.7 m, looking along -Z, slightly down."""
    return Camera(position=np.array([0.0, 1.7, 0.0]), yaw=0.0, pitch=-8.0, vfov=60.0,
                  width=width, height=height, near=0.05, far=500.0)  # fmt: skip


def _ground_height(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    return 0.6 * np.sin(0.11 * x) * np.cos(0.07 * z) + 0.25 * np.sin(0.31 * x + 0.23 * z)


def _tangent_frames(normals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, 3) unit normals -> (N, 4) wxyz rotations whose local z axis is the normal."""
    helper = np.where(np.abs(normals[:, 1:2]) < 0.9, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]])
    t1 = np.cross(helper, normals)
    t1 /= np.linalg.norm(t1, axis=1, keepdims=True)
    t2 = np.cross(normals, t1)
    spin = rng.uniform(0, 2 * np.pi, len(normals))[:, None]
    a = np.cos(spin) * t1 + np.sin(spin) * t2
    b = np.cross(normals, a)
    R = np.stack([a, b, normals], axis=2)  # columns: local x, y, z in the world
    return matrix_to_quat(R)


def _ground(n: int, rng: np.random.Generator) -> Gaussians:
    side_x, z0, z1 = 80.0, -75.0, 5.0
    nx = max(int(np.sqrt(n * side_x / (z1 - z0))), 1)
    nz = max(n // nx, 1)
    gx, gz = np.meshgrid(np.linspace(-side_x / 2, side_x / 2, nx), np.linspace(z1, z0, nz))
    spacing = side_x / nx
    x = gx.ravel() + rng.uniform(-0.3, 0.3, gx.size) * spacing
    z = gz.ravel() + rng.uniform(-0.3, 0.3, gz.size) * spacing
    y = _ground_height(x, z)
    eps = 1e-3
    dx = (_ground_height(x + eps, z) - y) / eps
    dz = (_ground_height(x, z + eps) - y) / eps
    normals = np.stack([-dx, np.ones_like(x), -dz], axis=1)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    s = spacing * rng.uniform(0.55, 0.8, (len(x), 1))
    scales = np.concatenate([s, s * rng.uniform(0.8, 1.2, (len(x), 1)), 0.08 * s], axis=1)
    patch = 0.5 + 0.5 * np.sin(0.37 * x) * np.sin(0.29 * z)
    grass = np.array([0.22, 0.45, 0.16])
    soil = np.array([0.45, 0.36, 0.22])
    colors = grass + patch[:, None] * (soil - grass) + rng.normal(0, 0.04, (len(x), 3))
    return Gaussians(
        means=np.stack([x, y, z], axis=1),
        quats=_tangent_frames(normals, rng),
        scales=scales,
        opacities=rng.uniform(0.8, 1.0, len(x)),
        colors=np.clip(colors, 0, 1),
    )


def _sphere_points(n: int, rng: np.random.Generator) -> np.ndarray:
    p = rng.normal(size=(n, 3))
    return p / np.linalg.norm(p, axis=1, keepdims=True)


def _object(
    kind: int, n: int, base: np.ndarray, size: float, rng: np.random.Generator
) -> Gaussians:
    if kind == 0:  # tree: a trunk (cylinder) and a canopy (ellipsoid)
        n_trunk = n // 5
        ang = rng.uniform(0, 2 * np.pi, n_trunk)
        h = rng.uniform(0, 2.5 * size, n_trunk)
        r = 0.15 * size
        nrm_t = np.stack([np.cos(ang), np.zeros_like(ang), np.sin(ang)], axis=1)
        p_t = base + nrm_t * r + np.stack([np.zeros_like(h), h, np.zeros_like(h)], axis=1)
        d = _sphere_points(n - n_trunk, rng)
        radii = np.array([1.2, 1.0, 1.2]) * size
        p_c = base + [0, 2.8 * size, 0] + d * radii
        nrm_c = d / radii
        nrm_c /= np.linalg.norm(nrm_c, axis=1, keepdims=True)
        means = np.concatenate([p_t, p_c])
        normals = np.concatenate([nrm_t, nrm_c])
        colors = np.concatenate([
            np.tile([0.35, 0.24, 0.14], (n_trunk, 1)),
            np.tile([0.16, 0.38, 0.12], (n - n_trunk, 1)),
        ])  # fmt: skip
    elif kind == 1:  # rock: a squashed ellipsoid
        d = _sphere_points(n, rng)
        radii = np.array([1.0, 0.6, 0.8]) * size
        means = base + [0, 0.3 * size, 0] + d * radii
        normals = d / radii
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        colors = np.tile([0.5, 0.5, 0.52], (n, 1))
    else:  # crate: a cube's faces
        face = rng.integers(0, 6, n)
        axis, sign = face // 2, np.where(face % 2 == 0, 1.0, -1.0)
        uv = rng.uniform(-1, 1, (n, 3))
        uv[np.arange(n), axis] = sign
        normals = np.zeros((n, 3))
        normals[np.arange(n), axis] = sign
        means = base + [0, size * 0.5, 0] + uv * (0.5 * size)
        colors = np.tile([0.6, 0.42, 0.2], (n, 1))
    area = {0: 30.0, 1: 6.0, 2: 6.0}[kind] * size * size
    s = np.sqrt(area / n) * rng.uniform(0.6, 0.9, (n, 1))
    scales = np.concatenate([s, s, 0.1 * s], axis=1)
    return Gaussians(
        means=means,
        quats=_tangent_frames(normals, rng),
        scales=scales,
        opacities=rng.uniform(0.7, 1.0, n),
        colors=np.clip(colors + rng.normal(0, 0.05, (n, 3)), 0, 1),
    )


def ground_and_objects(n: int, *, seed: int = 0) -> Gaussians:
    """About n Gaussians: surfel ground (60%) and trees, rocks and crates (40%), deterministic."""
    rng = np.random.default_rng(seed)
    parts = [_ground(int(n * GROUND_SHARE), rng)]
    n_obj_total = n - len(parts[0])
    n_objects = max(1, min(60, n_obj_total // 500))
    per = n_obj_total // n_objects
    for k in range(n_objects):
        x = rng.uniform(-30, 30)
        z = rng.uniform(-65, -4)
        base = np.array([x, float(_ground_height(np.array([x]), np.array([z]))[0]), z])
        n_k = per if k < n_objects - 1 else n_obj_total - per * (n_objects - 1)
        parts.append(_object(k % 3, n_k, base, rng.uniform(0.6, 1.6), rng))
    return Gaussians.concat(parts)
