"""The three forms of one asset (DESIGN.md): a mesh for export, Gaussians for rendering, colliders.

Surfel convention: each Gaussian sampled on a surface is a flat disc whose local **z axis is
the outward surface normal** (`scales[:, 2]` is its small thickness). Colours on an asset's
Gaussians are its unlit albedo (sRGB); the world lights them from the sun and sky using those
normals, so changing the hour re-lights without regenerating geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import trimesh

from studio.gaussians import Gaussians


@dataclass(frozen=True)
class Collider:
    """A simple solid in the asset's local frame (metres, +Y up).

    shape "cylinder": upright, size = (radius, half_height, radius);
    "box": axis-aligned, size = half extents; "sphere": size = (r, r, r).
    """

    shape: Literal["cylinder", "box", "sphere"]
    center: tuple[float, float, float]
    size: tuple[float, float, float]


@dataclass
class Asset:
    """One asset instance's geometry in its local frame (origin at its base, on the ground)."""

    kind: str
    mesh: trimesh.Trimesh
    gaussians: Gaussians
    colliders: list[Collider] = field(default_factory=list)
    spacing: float = 0.0
    """Surfel spacing (metres) the Gaussians were sampled at; 0 when not sampled from the mesh."""

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) local axis-aligned bounds of the mesh."""
        return np.asarray(self.mesh.bounds)


def surfel_normals(g: Gaussians) -> np.ndarray:
    """(N, 3) outward normals of flat surfels: each Gaussian's rotated local z axis (the third
    column of `quat_to_matrix`, without building the other two)."""
    w, x, y, z = g.quats.T
    return np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], axis=1)
