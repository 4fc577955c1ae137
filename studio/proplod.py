"""Props at levels of detail: each asset variant's surfels per LOD, and instances posed in batches.

A prop's LOD follows its own distance from the camera (not its chunk's), so the trees next to
the camera are drawn from a denser, crisper variant while thousands of far ones are a few
Gaussians each:

====  ==========================================================  ==================
plod  surfels                                                     used up to (m)
====  ==========================================================  ==================
0     the asset at ``NEAR_DETAIL`` times the density, discs a     PROP_LOD_DISTANCE[0]
      little narrower than they need to be for coverage (crisp)
1     the asset as built (detail 1)                               PROP_LOD_DISTANCE[1]
2, 3  seeded subsets (`KEEP`) whose discs grow to keep coverage   ...
4, 5  impostors: one Gaussian per height slice of the asset       VIEW_DISTANCE
====  ==========================================================  ==================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.gaussians import Gaussians
from studio.scatter import PropInstance
from studio.transforms import quat_multiply

PROP_LOD_DISTANCE = (14.0, 36.0, 75.0, 150.0, 280.0)
"""Camera-to-prop distances (metres) beyond which a prop uses its next coarser LOD."""
N_PLODS = len(PROP_LOD_DISTANCE) + 1
NEAR_FLOOR = 9.0
"""The nearest LOD reaches at least this far (metres) whatever the budget: crisp beside you."""
NEAR_DETAIL = 3.0
"""Surfel density of the nearest LOD relative to the built asset (discs 1/sqrt of the width)."""
NEAR_SHRINK = (0.8, 0.85)
"""In-plane shrink of the discs at LODs 0 and 1 (opacity raised to 0.99): sharper
silhouettes, neighbours still overlap (surfels are sampled ~0.6 spacing wide)."""
SMALL_RADIUS = 1.6
"""Props with a smaller bounding radius (metres, scaled) are not drawn at impostor LODs."""
KEEP = {2: 0.3, 3: 0.07}
"""Fraction of the built asset's surfels kept at the subset LODs."""
IMPOSTOR_SLICES = {4: 6, 5: 3}
IMPOSTOR_LOD = 4
INSTANCE_PLODS = 2
"""LODs below this are posed and cached per instance (few, large); coarser ones per chunk."""
LOW_KINDS = frozenset({"grass_tuft", "flowers", "mushroom", "reeds"})
"""Ground cover: casts no shadow or occlusion on the ground; not drawn from LOD 3 on."""
SMALL_KINDS = frozenset(
    {"bush", "rock", "log", "fence", "crate", "barrel", "lamp_post", "cart", "well", "campfire"}
)
"""Small props: not drawn at impostor LODs."""


def drawn_until(kind: str) -> int:
    """The first LOD at which props of `kind` are no longer drawn."""
    if kind in LOW_KINDS:
        return 3
    if kind in SMALL_KINDS:
        return 4
    return N_PLODS


def plod_for(dist: np.ndarray, bias: float, landmark: np.ndarray) -> np.ndarray:
    """(N,) LOD of props at distances `dist` (N,) metres; landmarks one LOD finer."""
    th = np.array(PROP_LOD_DISTANCE) * bias
    th[0] = max(th[0], NEAR_FLOOR)
    lod = np.searchsorted(th, dist)
    return np.maximum(lod - landmark.astype(int), 0)


@dataclass
class SurfelSet:
    """Unlit surfels: Gaussians with albedo colours, plus their normals and baked sky occlusion."""

    gaussians: Gaussians
    normals: np.ndarray  # (N, 3) float32 unit
    occlusion: np.ndarray  # (N,) float32, 1 = open sky

    @staticmethod
    def empty() -> SurfelSet:
        return SurfelSet(Gaussians.empty(), np.zeros((0, 3), np.float32), np.zeros(0, np.float32))

    @staticmethod
    def concat(parts: list[SurfelSet]) -> SurfelSet:
        parts = [p for p in parts if len(p.gaussians)]
        if not parts:
            return SurfelSet.empty()
        if len(parts) == 1:
            return parts[0]
        return SurfelSet(
            Gaussians.concat([p.gaussians for p in parts]),
            np.concatenate([p.normals for p in parts]),
            np.concatenate([p.occlusion for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.gaussians)

    def nbytes(self) -> int:
        return self.gaussians.nbytes() + self.normals.nbytes + self.occlusion.nbytes


def _impostor(g: Gaussians, *, slices: int, top: float) -> SurfelSet:
    """A far-away stand-in: one Gaussian per height slice with the slice's centroid, spread and
    mean albedo, facing up (crowns read as lit from above)."""
    y = g.means[:, 1]
    edges = np.quantile(y, np.linspace(0, 1, slices + 1))
    which = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, slices - 1)
    means, scales, cols = [], [], []
    for k in range(slices):
        m = which == k
        if m.sum() < 3:
            continue
        p = g.means[m]
        means.append(p.mean(axis=0))
        scales.append(np.maximum(p.std(axis=0) * 1.1, 0.05))
        cols.append(g.colors[m].mean(axis=0))
    k = len(means)
    means_a = np.array(means)
    sub = Gaussians(
        means_a,
        np.tile([1.0, 0.0, 0.0, 0.0], (k, 1)),
        np.array(scales),
        np.full(k, 0.95),
        np.array(cols),
    )
    up = np.tile(np.array([0.0, 1.0, 0.0], np.float32), (k, 1))
    occ = (0.6 + 0.4 * np.clip(means_a[:, 1] / top, 0.0, 1.0)).astype(np.float32)
    return SurfelSet(sub, up, occ)


class PropLods:
    """Per-variant LOD surfels (memoised) and batched posing of instances into the world."""

    def __init__(self) -> None:
        self._lods: dict[tuple[str, int, int], SurfelSet] = {}
        self._bounds: dict[tuple[str, int], tuple[float, float, int]] = {}

    @staticmethod
    def asset(kind: str, seed: int, detail: float = 1.0):  # -> studio.assets.Asset
        from studio.assets import make_asset

        return make_asset(kind, seed, detail=detail)

    def bound(self, kind: str, seed: int) -> tuple[float, float, int]:
        """(centre height, bounding radius, Gaussians at detail 1) of a variant, unscaled."""
        key = (kind, seed)
        b = self._bounds.get(key)
        if b is None:
            a = self.asset(kind, seed)
            lo, hi = np.asarray(a.mesh.bounds)
            c = 0.5 * (lo + hi)
            b = (float(c[1]), float(np.linalg.norm(hi - lo) / 2), len(a.gaussians))
            self._bounds[key] = b
        return b

    @staticmethod
    def size_estimate(n_detail1: int, plod: int) -> int:
        """Gaussians a variant with `n_detail1` surfels at detail 1 has at `plod` (for budgets)."""
        if plod == 0:
            return round(n_detail1 * NEAR_DETAIL)
        if plod == 1:
            return n_detail1
        if plod in KEEP:
            return max(min(n_detail1, 12), round(n_detail1 * KEEP[plod]))
        return IMPOSTOR_SLICES[plod]

    def surfels(self, kind: str, seed: int, plod: int) -> SurfelSet:
        """A variant's unlit surfels at a LOD (see the module docstring)."""
        key = (kind, seed, plod)
        s = self._lods.get(key)
        if s is not None:
            return s
        from studio.assets.base import surfel_normals

        g = self.asset(kind, seed).gaussians
        top = max(float(g.means[:, 1].max()), 0.5)
        if plod in IMPOSTOR_SLICES:
            s = _impostor(g, slices=IMPOSTOR_SLICES[plod], top=top)
        else:
            if plod < 2:
                src = self.asset(kind, seed, NEAR_DETAIL).gaussians if plod == 0 else g
                sub = src.subset(np.arange(len(src)))  # a copy: never scale the cached asset
                sub.scales[:, :2] *= np.float32(NEAR_SHRINK[plod])
                sub.opacities[:] = np.maximum(sub.opacities, 0.99)
            else:
                n = len(g)
                keep = max(min(n, 12), round(n * KEEP[plod]))
                order = np.sort(np.random.default_rng(seed + 7919 * plod).permutation(n)[:keep])
                sub = g.subset(order)
                grow = np.float32(min(np.sqrt(n / keep), 4.0))
                sub.scales[:, :2] *= grow
                sub.scales[:, 2] *= np.sqrt(grow)
            occ = (0.55 + 0.45 * np.clip(sub.means[:, 1] / top, 0.0, 1.0)).astype(np.float32)
            s = SurfelSet(sub, surfel_normals(sub), occ)
        self._lods[key] = s
        return s

    def pose(
        self, props: list[PropInstance], plods: list[int]
    ) -> tuple[SurfelSet, np.ndarray, np.ndarray]:
        """World surfels of `props`, each at its LOD, with (n,) start and (n,) length of each
        prop's block. Instances of one (variant, LOD) are posed in one batch."""
        groups: dict[tuple[str, int, int], list[int]] = {}
        for i, (p, lod) in enumerate(zip(props, plods, strict=True)):
            groups.setdefault((p.kind, p.variant_seed, lod), []).append(i)
        parts: list[SurfelSet] = []
        starts = np.zeros(len(props), np.int64)
        sizes = np.zeros(len(props), np.int64)
        cursor = 0
        for key, idx in groups.items():
            src = self.surfels(*key)
            m = len(src)
            parts.append(self._pose_batch(src, [props[i] for i in idx]))
            starts[idx] = cursor + m * np.arange(len(idx))
            sizes[idx] = m
            cursor += m * len(idx)
        return SurfelSet.concat(parts), starts, sizes

    @staticmethod
    def _pose_batch(src: SurfelSet, inst: list[PropInstance]) -> SurfelSet:
        yaw = np.radians([p.yaw for p in inst])
        sc = np.array([p.scale for p in inst])
        pos = np.array([p.position for p in inst])
        c, s_ = np.cos(yaw), np.sin(yaw)
        m = src.gaussians.means.astype(np.float64)
        x = (c[:, None] * m[None, :, 0] + s_[:, None] * m[None, :, 2]) * sc[:, None]
        z = (-s_[:, None] * m[None, :, 0] + c[:, None] * m[None, :, 2]) * sc[:, None]
        y = m[None, :, 1] * sc[:, None]
        means = np.stack([x + pos[:, 0:1], y + pos[:, 1:2], z + pos[:, 2:3]], -1)
        q_yaw = np.stack([np.cos(yaw / 2), 0 * yaw, np.sin(yaw / 2), 0 * yaw], -1)
        quats = quat_multiply(q_yaw[:, None, :], src.gaussians.quats[None].astype(np.float64))
        nr = src.normals
        nx = c[:, None] * nr[None, :, 0] + s_[:, None] * nr[None, :, 2]
        nz = -s_[:, None] * nr[None, :, 0] + c[:, None] * nr[None, :, 2]
        ny = np.broadcast_to(nr[None, :, 1], nx.shape)
        k = len(inst) * len(m)
        g = Gaussians(
            means.reshape(k, 3),
            quats.reshape(k, 4),
            (src.gaussians.scales[None] * sc[:, None, None]).reshape(k, 3),
            np.tile(src.gaussians.opacities, len(inst)),
            np.tile(src.gaussians.colors, (len(inst), 1)),
        )
        normals = np.stack([nx, ny, nz], -1).reshape(k, 3).astype(np.float32)
        return SurfelSet(g, normals, np.tile(src.occlusion, len(inst)))
