"""Shared helpers for asset tests: brute-force point-to-mesh queries (trimesh's exact triangle math)."""

from __future__ import annotations

import numpy as np
import trimesh


def closest_on_mesh(mesh: trimesh.Trimesh, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) distance from each point to `mesh` and (N,) index of the nearest face, by brute force."""
    tris = np.asarray(mesh.triangles)
    dist = np.empty(len(points))
    face = np.empty(len(points), np.int64)
    for i, p in enumerate(points):
        q = trimesh.triangles.closest_point(tris, np.repeat(p[None], len(tris), axis=0))
        d = np.linalg.norm(q - p, axis=1)
        face[i] = int(np.argmin(d))
        dist[i] = d[face[i]]
    return dist, face


def nearest_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a),) distance from each point of a to its nearest point of b (chunked brute force)."""
    out = np.empty(len(a))
    for s in range(0, len(a), 512):
        d = np.linalg.norm(a[s : s + 512, None, :] - b[None, :, :], axis=2)
        out[s : s + 512] = d.min(axis=1)
    return out
