"""`World`: the fixed model a `WorldSpec` defines, generated lazily in chunks around the camera.

A chunk is a pure function of (spec, cx, cz): terrain surfels on the heightfield grid at several
levels of detail, water surfels, scattered props with their Gaussians, and colliders in the world
frame. Chunks are cached (LRU, bounded in bytes) and generated in a background thread ahead of the
camera; the first view is generated synchronously, in batches of chunks per LOD so numpy and the
noise library see large arrays. Lighting is applied on top of stored albedo + normals and cached
per lighting state, so `set_hour` re-lights without regenerating geometry.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import trimesh

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.lighting import Lighting, heightfield_shadow, lighting_for, shade
from studio.scatter import FLYERS, CreatureSpawn, PropInstance, Scatter, SpawnPoint
from studio.spec import WorldSpec
from studio.terrain import TerrainField, stable_seed
from studio.transforms import quat_multiply

log = logging.getLogger(__name__)

CHUNK_SIZE = 32.0
"""Metres per chunk side."""
LOD_SPACING = (0.4, 0.8, 1.6, 3.2, 6.4)
"""Terrain surfel spacing (metres) at each level of detail."""
LOD_DISTANCE = (36.0, 80.0, 160.0, 300.0)
"""Camera-to-chunk distances (metres) beyond which the next coarser LOD is used."""
VIEW_DISTANCE = 520.0
"""How far (metres) chunks are drawn; fog takes over near the end."""
PROP_LOD_KEEP = (1.0, 0.3, 0.07)
"""Fraction of each asset's Gaussians kept at LODs below `IMPOSTOR_LOD` (the rest grow to cover)."""
LOW_KINDS = frozenset({"grass_tuft", "flowers", "mushroom", "reeds"})
"""Ground cover: no shadow or occlusion on the ground, dropped from LOD 2 on."""
SMALL_KINDS = frozenset({"bush", "rock", "log"})
"""Small props dropped from LOD 3 on."""
IMPOSTOR_LOD = 3
"""From this LOD on, a prop is a few big Gaussians (one per height slice of the asset)."""
SURFEL_SIGMA = 0.62
"""Terrain surfel standard deviation as a fraction of the grid spacing (overlap, no holes)."""
SHADOW_STEP = 4.0
"""Metres between heightfield-shadow samples (interpolated in between)."""
DEFAULT_CACHE_BYTES = 512 * 2**20


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
        return SurfelSet(
            Gaussians.concat([p.gaussians for p in parts]),
            np.concatenate([p.normals for p in parts]),
            np.concatenate([p.occlusion for p in parts]),
        )

    def nbytes(self) -> int:
        return self.gaussians.nbytes() + self.normals.nbytes + self.occlusion.nbytes


@dataclass(frozen=True)
class WorldCollider:
    """A collider in the world frame. cylinder: size = (radius, half_height, radius);
    box: half extents in its own frame turned by `yaw` degrees about +Y; sphere: (r, r, r)."""

    shape: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    owner: str


@dataclass
class ChunkLayer:
    """One chunk at one LOD: terrain, water and prop surfels (unlit), and the lit cache."""

    terrain: SurfelSet
    water: SurfelSet
    props: SurfelSet
    lit: Gaussians | None = None
    lit_key: int = -1

    def nbytes(self) -> int:
        n = self.terrain.nbytes() + self.water.nbytes() + self.props.nbytes()
        return n + (self.lit.colors.nbytes if self.lit is not None else 0)


@dataclass
class Chunk:
    """Everything in one chunk: heights (65, 65) on the 0.5 m grid with both borders included
    (rows along +z, columns along +x), per-LOD terrain/water/prop surfels, props and colliders."""

    cx: int
    cz: int
    heights: np.ndarray  # (S+1, S+1) float32
    terrain: list[SurfelSet]
    water: list[SurfelSet]
    prop_surfels: list[SurfelSet]
    props: list[PropInstance]
    colliders: list[WorldCollider] = field(default_factory=list)

    @property
    def origin(self) -> tuple[float, float]:
        return self.cx * CHUNK_SIZE, self.cz * CHUNK_SIZE


def _quats_z_to(normals: np.ndarray) -> np.ndarray:
    """(N, 4) wxyz rotations taking local +z to each unit normal (shortest arc; n != -z)."""
    n = normals.astype(np.float64)
    q = np.stack([1.0 + n[:, 2], -n[:, 1], n[:, 0], np.zeros(len(n))], axis=1)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def stable_seed_kind(kind: str) -> int:
    return stable_seed("creature-build", kind, bits=20)


def _impostor(g: Gaussians, normals: np.ndarray, *, slices: int, top: float) -> SurfelSet:
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
    del normals
    return SurfelSet(sub, up, occ)


def _bilinear(grid: np.ndarray, cx: int, cz: int, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Sample a per-chunk (n+1, n+1) grid (spacing SHADOW_STEP) at world (x, z)."""
    n = grid.shape[0] - 1
    u = np.clip((x - cx * CHUNK_SIZE) / SHADOW_STEP, 0, n - 1e-6)
    v = np.clip((z - cz * CHUNK_SIZE) / SHADOW_STEP, 0, n - 1e-6)
    i, j = u.astype(int), v.astype(int)
    fu, fv = u - i, v - j
    a = grid[j, i] * (1 - fu) + grid[j, i + 1] * fu
    b = grid[j + 1, i] * (1 - fu) + grid[j + 1, i + 1] * fu
    return a * (1 - fv) + b * fv


class World:
    """The world a spec describes; see the module docstring."""

    def __init__(
        self,
        spec: WorldSpec,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        background: bool = True,
    ) -> None:
        self.spec = spec
        self.terrain = TerrainField(spec)
        self.scatter = Scatter(spec, self.terrain)
        self.landmarks: list[PropInstance] = self.scatter.landmarks
        self.cache_bytes = int(cache_bytes)
        self._layers: OrderedDict[tuple[int, int, int], ChunkLayer] = OrderedDict()
        self._layer_bytes = 0
        self._props: OrderedDict[tuple[int, int], list[PropInstance]] = OrderedDict()
        self._assets: dict[tuple[str, int], object] = {}
        self._asset_lods: dict[tuple[str, int, int], SurfelSet] = {}
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="chunks") if background else None
        self._pending: set[tuple[int, int, int]] = set()
        self.hour = spec.hour
        self.weather = spec.weather
        self.lighting: Lighting = lighting_for(self.hour, self.weather, spec.palette)
        self._light_key = 0

    # --- queries the simulation uses --------------------------------------------------

    @property
    def water_level(self) -> float:
        return self.terrain.water_level

    def height_at(self, x: float | np.ndarray, z: float | np.ndarray) -> float | np.ndarray:
        """Ground height at world (x, z): a float for scalars, an array for arrays."""
        h = self.terrain.height(np.asarray(x, float), np.asarray(z, float))
        return float(h) if np.ndim(h) == 0 else h

    def normal_at(self, x: float | np.ndarray, z: float | np.ndarray) -> np.ndarray:
        """(..., 3) unit ground normal at world (x, z)."""
        return self.terrain.normal(np.asarray(x, float), np.asarray(z, float))

    def is_water(self, x: float | np.ndarray, z: float | np.ndarray) -> bool | np.ndarray:
        """True where the ground lies below the water level (rivers, lakes, ocean)."""
        w = np.asarray(self.terrain.height(np.asarray(x, float), np.asarray(z, float)))
        w = w < self.water_level
        return bool(w) if w.ndim == 0 else w

    def spawn_point(self) -> SpawnPoint:
        """A dry, gentle start facing the first landmark (which is visible from it)."""
        return self.scatter.spawn

    def spawn_camera(self, *, width: int = 1280, height: int = 720, eye: float = 1.7) -> Camera:
        """A camera at eye height on the spawn point, looking at the first landmark."""
        s = self.spawn_point()
        cam = Camera(s.position + np.array([0.0, eye, 0.0]), vfov=60.0, width=width, height=height)
        cam.look_at(s.look_at)
        cam.pitch = float(np.clip(cam.pitch, -8.0, 6.0)) - 2.0
        return cam

    def creature_spawns(self) -> list[CreatureSpawn]:
        return self.scatter.creature_spawns()

    def props_in_chunk(self, cx: int, cz: int) -> list[PropInstance]:
        """Scattered props plus landmarks whose base lies in chunk (cx, cz)."""
        return self._props_many([(cx, cz)])[0]

    def _props_many(self, keys: list[tuple[int, int]]) -> list[list[PropInstance]]:
        with self._lock:
            found = {k: self._props.get(k) for k in keys}
        missing = [k for k, v in found.items() if v is None]
        if missing:
            origins = [(cx * CHUNK_SIZE, cz * CHUNK_SIZE) for cx, cz in missing]
            for k, (x0, z0), props in zip(
                missing, origins, self.scatter.props_in_many(origins, CHUNK_SIZE), strict=True
            ):
                props += [
                    lm
                    for lm in self.landmarks
                    if x0 <= lm.position[0] < x0 + CHUNK_SIZE
                    and z0 <= lm.position[2] < z0 + CHUNK_SIZE
                ]
                found[k] = props
            with self._lock:
                for k in missing:
                    self._props[k] = found[k]
                while len(self._props) > 8192:
                    self._props.popitem(last=False)
        return [found[k] for k in keys]

    def colliders_near(self, x: float, z: float, radius: float) -> list[WorldCollider]:
        """World-frame colliders of props whose base lies within `radius` (+ 8 m) of (x, z)."""
        out = []
        r = radius + 8.0
        for cx in range(
            int(np.floor((x - r) / CHUNK_SIZE)), int(np.floor((x + r) / CHUNK_SIZE)) + 1
        ):
            for cz in range(
                int(np.floor((z - r) / CHUNK_SIZE)), int(np.floor((z + r) / CHUNK_SIZE)) + 1
            ):
                for p in self.props_in_chunk(cx, cz):
                    if (p.position[0] - x) ** 2 + (p.position[2] - z) ** 2 <= r * r:
                        out.extend(self._instance_colliders(p))
        return out

    def _instance_colliders(self, p: PropInstance) -> list[WorldCollider]:
        asset = self._asset(p.kind, p.variant_seed)
        T = p.T_world_instance
        out = []
        for c in asset.colliders:
            centre = T[:3, :3] @ np.asarray(c.center) + T[:3, 3]
            size = tuple(float(v) * p.scale for v in c.size)
            out.append(WorldCollider(c.shape, tuple(map(float, centre)), size, p.yaw, p.kind))
        return out

    # --- assets --------------------------------------------------------------------------

    def _asset(self, kind: str, seed: int):  # -> studio.assets.Asset
        key = (kind, seed)
        a = self._assets.get(key)
        if a is None:
            from studio.assets import make_asset

            a = make_asset(kind, seed)
            self._assets[key] = a
        return a

    def _asset_lod(self, kind: str, seed: int, lod: int) -> SurfelSet:
        """An asset's surfels at a LOD: a seeded subset whose discs grow to keep coverage."""
        key = (kind, seed, lod)
        s = self._asset_lods.get(key)
        if s is not None:
            return s
        from studio.assets.base import surfel_normals

        g = self._asset(kind, seed).gaussians
        normals = surfel_normals(g)
        top = max(float(g.means[:, 1].max()), 0.5)
        if lod >= IMPOSTOR_LOD:
            s = _impostor(g, normals, slices=6 if lod == IMPOSTOR_LOD else 3, top=top)
        else:
            n = len(g)
            keep = max(min(n, 12), round(n * PROP_LOD_KEEP[lod]))
            order = np.sort(np.random.default_rng(seed + 7919 * lod).permutation(n)[:keep])
            sub = g.subset(order)
            grow = np.float32(min(np.sqrt(n / keep), 4.0))
            sub.scales[:, :2] *= grow
            sub.scales[:, 2] *= np.sqrt(grow)
            occ = (0.55 + 0.45 * np.clip(sub.means[:, 1] / top, 0.0, 1.0)).astype(np.float32)
            s = SurfelSet(sub, normals[order], occ)
        self._asset_lods[key] = s
        return s

    # --- chunk generation ----------------------------------------------------------------

    def _grid(self, cxs: np.ndarray, czs: np.ndarray, spacing: float, margin: int):
        """World (x, z) grids (C, R, R) for chunks, R = CHUNK/spacing + 2*margin (+1 border)."""
        n = round(CHUNK_SIZE / spacing)
        idx = np.arange(-margin, n + margin + 1)
        ix = (cxs[:, None] * n)[:, None, :] + idx[None, None, :]
        iz = (czs[:, None] * n)[:, :, None] + idx[None, :, None]
        ix, iz = np.broadcast_arrays(ix, iz)
        return ix * spacing, iz * spacing

    def _build_layers(self, keys: list[tuple[int, int]], lod: int) -> list[ChunkLayer]:
        """Generate the layers of many chunks at one LOD in one vectorised pass."""
        s = LOD_SPACING[lod]
        n = round(CHUNK_SIZE / s)
        cxs = np.array([k[0] for k in keys])
        czs = np.array([k[1] for k in keys])
        gx, gz = self._grid(cxs, czs, s, 1)  # (C, n+3, n+3)
        h = self.terrain.height(gx, gz)
        all_props = self._props_many(list(keys))
        out = []
        sig = SURFEL_SIGMA * s
        for c in range(len(keys)):
            hc = h[c]
            nrm = self.terrain.normals_from_grid(hc, s)[:n, :n].reshape(-1, 3)
            x = gx[c, 1 : n + 1, 1 : n + 1].ravel()
            z = gz[c, 1 : n + 1, 1 : n + 1].ravel()
            y = hc[1 : n + 1, 1 : n + 1].ravel()
            alb = self.terrain.albedo(x, z, y, nrm[:, 1])
            props = all_props[c]
            occ = self._ground_occlusion(x, z, props)
            m = len(x)
            terrain = SurfelSet(
                Gaussians(
                    np.stack([x, y, z], axis=1),
                    _quats_z_to(nrm),
                    np.tile(np.array([sig, sig, 0.08 * sig], np.float32), (m, 1)),
                    np.ones(m, np.float32),
                    alb,
                ),
                nrm.astype(np.float32),
                occ,
            )
            out.append(ChunkLayer(terrain, self._water(x, z, y, s), self._prop_surfels(props, lod)))
        return out

    def _water(self, x: np.ndarray, z: np.ndarray, y: np.ndarray, s: float) -> SurfelSet:
        """Flat translucent surfels at the water level where the ground lies below it."""
        wet = y < self.water_level + 0.05
        if not wet.any():
            return SurfelSet.empty()
        depth = self.water_level - y[wet]
        col, opa = self.terrain.water_color(depth)
        m = int(wet.sum())
        up = np.tile(np.array([0.0, 1.0, 0.0], np.float32), (m, 1))
        sig = SURFEL_SIGMA * s * 1.05
        return SurfelSet(
            Gaussians(
                np.stack([x[wet], np.full(m, self.water_level), z[wet]], axis=1),
                _quats_z_to(up),
                np.tile(np.array([sig, sig, 0.02 * sig], np.float32), (m, 1)),
                opa,
                col,
            ),
            up,
            np.ones(m, np.float32),
        )

    def _ground_occlusion(
        self, x: np.ndarray, z: np.ndarray, props: list[PropInstance]
    ) -> np.ndarray:
        """(N,) sky occlusion of ground surfels: darker under and around trees and buildings."""
        tall = [p for p in props if p.kind not in LOW_KINDS]
        if not tall:
            return np.ones(len(x), np.float32)
        px = np.array([p.position[0] for p in tall])
        pz = np.array([p.position[2] for p in tall])
        r = np.array([2.2 * p.scale * (2.0 if p.landmark else 1.0) for p in tall])
        d2 = (x[:, None] - px[None]) ** 2 + (z[:, None] - pz[None]) ** 2
        return np.prod(1.0 - 0.45 * np.exp(-d2 / (r * r)[None]), axis=1).astype(np.float32)

    def _prop_surfels(self, props: list[PropInstance], lod: int) -> SurfelSet:
        """World surfels of props at a LOD; instances of one variant are posed in one batch."""
        groups: dict[tuple[str, int, int], list[PropInstance]] = {}
        for p in props:
            if p.landmark:
                plod = max(0, lod - 1)
            elif (lod >= 2 and p.kind in LOW_KINDS) or (lod >= 3 and p.kind in SMALL_KINDS):
                continue
            else:
                plod = lod
            groups.setdefault((p.kind, p.variant_seed, plod), []).append(p)
        parts = []
        for (kind, seed, plod), inst in groups.items():
            src = self._asset_lod(kind, seed, plod)
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
            parts.append(SurfelSet(g, normals, np.tile(src.occlusion, len(inst))))
        return SurfelSet.concat(parts)

    def _layer(self, cx: int, cz: int, lod: int) -> ChunkLayer:
        return self._layers_for([(cx, cz)], lod)[0]

    def _layers_for(self, keys: list[tuple[int, int]], lod: int) -> list[ChunkLayer]:
        """Cached layers for chunk keys at a LOD, generating the missing ones in one batch."""
        with self._lock:
            found = {k: self._layers.get((*k, lod)) for k in keys}
            for k, v in found.items():
                if v is not None:
                    self._layers.move_to_end((*k, lod))
        missing = [k for k, v in found.items() if v is None]
        if missing:
            for k, layer in zip(missing, self._build_layers(missing, lod), strict=True):
                found[k] = layer
                self._store((*k, lod), layer)
        return [found[k] for k in keys]

    def _store(self, key: tuple[int, int, int], layer: ChunkLayer) -> None:
        with self._lock:
            old = self._layers.pop(key, None)
            if old is not None:
                self._layer_bytes -= old.nbytes()
            self._layers[key] = layer
            self._layer_bytes += layer.nbytes()
            while self._layer_bytes > self.cache_bytes and len(self._layers) > 1:
                _, ev = self._layers.popitem(last=False)
                self._layer_bytes -= ev.nbytes()

    def cache_nbytes(self) -> int:
        """Bytes held by cached chunk layers (the LRU's budgeted memory)."""
        with self._lock:
            return sum(v.nbytes() for v in self._layers.values())

    def chunk(self, cx: int, cz: int) -> Chunk:
        """The full chunk (cx, cz) at every LOD; a pure function of (spec, cx, cz)."""
        layers = [self._layer(cx, cz, lod) for lod in range(len(LOD_SPACING))]
        gx, gz = self._grid(np.array([cx]), np.array([cz]), LOD_SPACING[0], 0)
        heights = self.terrain.height(gx[0], gz[0]).astype(np.float32)
        props = self.props_in_chunk(cx, cz)
        colliders = [c for p in props for c in self._instance_colliders(p)]
        return Chunk(
            cx,
            cz,
            heights,
            [la.terrain for la in layers],
            [la.water for la in layers],
            [la.props for la in layers],
            props,
            colliders,
        )

    # --- lighting ------------------------------------------------------------------------

    def set_hour(self, hour: float) -> None:
        """Move the sun (or moon); cached geometry stays, lighting is recomputed lazily."""
        if not 0.0 <= hour < 24.0:
            raise ValueError(f"hour {hour} is outside [0, 24); pass local solar time, e.g. 18.5.")
        self.hour = float(hour)
        self._relight()

    def set_weather(self, weather) -> None:  # weather: studio.spec.WeatherSpec
        """Change the weather's light, fog and particles (geometry stays)."""
        self.weather = weather
        self._relight()

    def _relight(self) -> None:
        self.lighting = lighting_for(self.hour, self.weather, self.spec.palette)
        with self._lock:
            self._light_key += 1

    def _relight_many(self, items: list[tuple[int, int, int, ChunkLayer]]) -> list[Gaussians]:
        """Lit Gaussians of chunk layers; stale ones are re-shaded, their shadows in one batch."""
        stale = [it for it in items if it[3].lit is None or it[3].lit_key != self._light_key]
        if stale:
            grids = self._shadow_grids([(cx, cz) for cx, cz, _, _ in stale])
            for (cx, cz, lod, layer), grid in zip(stale, grids, strict=True):
                self._lit(cx, cz, lod, layer, grid)
        return [it[3].lit for it in items]

    def _lit(self, cx: int, cz: int, lod: int, layer: ChunkLayer, grid: np.ndarray) -> Gaussians:
        L = self.lighting
        parts = []
        for s, kind in ((layer.terrain, "ground"), (layer.water, "water"), (layer.props, "prop")):
            if not len(s.gaussians):
                continue
            means = s.gaussians.means
            sh = _bilinear(grid, cx, cz, means[:, 0], means[:, 2])
            if kind == "ground" and lod <= 2:
                sh = sh * self._tree_shadows(cx, cz, means, L)
            col = shade(s.gaussians.colors, s.normals, L, shadow=sh, occlusion=s.occlusion)
            if kind == "water":  # water mirrors the horizon sky
                col = 0.55 * col + 0.45 * L.horizon.astype(np.float32) * (0.35 + 0.65 * sh[:, None])
            g = s.gaussians
            parts.append(Gaussians(g.means, g.quats, g.scales, g.opacities, col))
        lit = Gaussians.concat(parts)
        layer.lit, layer.lit_key = lit, self._light_key
        return lit

    def _shadow_grids(self, keys: list[tuple[int, int]]) -> list[np.ndarray]:
        """Heightfield shadow of the key light on a SHADOW_STEP grid over each chunk (batched)."""
        L = self.lighting
        n = round(CHUNK_SIZE / SHADOW_STEP)
        gx, gz = self._grid(
            np.array([k[0] for k in keys]), np.array([k[1] for k in keys]), SHADOW_STEP, 0
        )
        if L.key_dir[1] <= 0.02:
            return [np.zeros((n + 1, n + 1)) for _ in keys]
        gy = self.terrain.height(gx, gz) + 0.6
        pts = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1)
        sh = heightfield_shadow(self.terrain.height, pts, L.key_dir)
        return list(sh.reshape(len(keys), n + 1, n + 1))

    def _shadow_sampler(self, cx: int, cz: int, L: Lighting):
        grid = self._shadow_grids([(cx, cz)])[0]
        return lambda x, z: _bilinear(grid, cx, cz, x, z)

    def _tree_shadows(self, cx: int, cz: int, means: np.ndarray, L: Lighting) -> np.ndarray:
        """(N,) soft cast shadows of tall props on the ground, offset away from the key light."""
        d = L.key_dir
        if d[1] <= 0.05:
            return np.ones(len(means))
        keys = [(cx + dx, cz + dz) for dx in (-1, 0, 1) for dz in (-1, 0, 1)]
        tall = [p for ps in self._props_many(keys) for p in ps if p.kind not in LOW_KINDS]
        tall = [p for p in tall if p.kind not in SMALL_KINDS]
        if not tall:
            return np.ones(len(means))
        off = -d[[0, 2]] / max(d[1], 0.25)
        hgt = np.array([8.0 if p.landmark else 5.0 * p.scale for p in tall])
        c = (
            np.array([[p.position[0], p.position[2]] for p in tall])
            + off[None] * hgt[:, None] * 0.55
        )
        r = np.array([1.8 * p.scale * (2.0 if p.landmark else 1.0) for p in tall])
        near = (np.abs(c[:, 0] - (cx + 0.5) * CHUNK_SIZE) < CHUNK_SIZE / 2 + 3 * r) & (
            np.abs(c[:, 1] - (cz + 0.5) * CHUNK_SIZE) < CHUNK_SIZE / 2 + 3 * r
        )
        c, r = c[near], r[near]
        out = np.ones(len(means))
        for i0 in range(0, len(c), 64):  # bounded (N, 64) temporaries
            cc, rr = c[i0 : i0 + 64], r[i0 : i0 + 64]
            d2 = (means[:, 0:1] - cc[None, :, 0]) ** 2 + (means[:, 2:3] - cc[None, :, 1]) ** 2
            out *= np.prod(1.0 - 0.55 * np.exp(-d2 / (rr * rr)[None]), axis=1)
        return out

    # --- view --------------------------------------------------------------------------

    def _visible_chunks(
        self, camera: Camera, view_distance: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """((M, 2) chunk indices, (M,) distances) of chunks in the frustum within reach."""
        p = camera.position
        r = int(np.ceil(view_distance / CHUNK_SIZE)) + 1
        ci, ck = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
        cx = ci.ravel() + int(np.floor(p[0] / CHUNK_SIZE))
        cz = ck.ravel() + int(np.floor(p[2] / CHUNK_SIZE))
        centre = np.stack([(cx + 0.5) * CHUNK_SIZE, (cz + 0.5) * CHUNK_SIZE], axis=1)
        dist = np.hypot(centre[:, 0] - p[0], centre[:, 1] - p[2])
        ok = dist < view_distance + CHUNK_SIZE
        # Conservative frustum test on each chunk's box (heights bounded loosely).
        wl = self.water_level
        y_lo, y_hi = wl - 20.0, wl + 3.5 * self.terrain.height_scale + 40.0
        corners = np.array(
            [[dx, y, dz] for dx in (0, 1) for dz in (0, 1) for y in (y_lo, y_hi)], dtype=float
        )
        pts = np.empty((len(cx), 8, 3))
        pts[:, :, 0] = (cx[:, None] + corners[None, :, 0]) * CHUNK_SIZE
        pts[:, :, 1] = corners[None, :, 1]
        pts[:, :, 2] = (cz[:, None] + corners[None, :, 2]) * CHUNK_SIZE
        V = camera.viewmat()
        pc = pts @ V[:3, :3].T + V[:3, 3]
        K = camera.K()
        tx = (camera.width / 2) / K[0, 0] * 1.1
        ty = (camera.height / 2) / K[1, 1] * 1.1
        zc = pc[..., 2]
        outside = (
            (zc < 0.05).all(axis=1)
            | (pc[..., 0] > tx * zc).all(axis=1)
            | (pc[..., 0] < -tx * zc).all(axis=1)
            | (pc[..., 1] > ty * zc).all(axis=1)
            | (pc[..., 1] < -ty * zc).all(axis=1)
        )
        ok &= ~outside
        # Always keep the chunks around the camera (they may hold what is just below it).
        ok |= dist < CHUNK_SIZE * 1.2
        idx = np.argsort(dist[ok], kind="stable")
        return np.stack([cx[ok], cz[ok]], axis=1)[idx], dist[ok][idx]

    @staticmethod
    def _lod_for(dist: np.ndarray, bias: float) -> np.ndarray:
        return np.searchsorted(np.array(LOD_DISTANCE) * bias, dist)

    def gaussians_in_view(
        self,
        camera: Camera,
        budget: int = 250_000,
        *,
        time_s: float = 0.0,
        creatures: bool = True,
        weather: bool = True,
    ) -> Gaussians:
        """Lit, LOD-selected Gaussians of the chunks in view (+ creatures and weather particles).

        The LOD distances shrink until the terrain and props fit `budget`; creatures and weather
        particles are added on top (a few thousand).
        """
        keys, dist = self._visible_chunks(camera, VIEW_DISTANCE)
        bias = 1.0
        for _ in range(4):
            lods = self._lod_for(dist, bias)
            groups: dict[int, list[tuple[int, int]]] = {}
            for (cx, cz), lod in zip(keys.tolist(), lods.tolist(), strict=True):
                groups.setdefault(lod, []).append((cx, cz))
            layers: list[tuple[int, int, int, ChunkLayer]] = []
            for lod, ks in sorted(groups.items()):
                for k, layer in zip(ks, self._layers_for(ks, lod), strict=True):
                    layers.append((k[0], k[1], lod, layer))
            total = sum(
                len(la.terrain.gaussians) + len(la.water.gaussians) + len(la.props.gaussians)
                for *_, la in layers
            )
            if total <= budget:
                break
            bias *= 0.7
        parts = self._relight_many(layers)
        if creatures:
            parts.append(self.creature_gaussians(time_s=time_s))
        if weather:
            from studio.weather import weather_particles

            parts.append(weather_particles(self, camera, time_s=time_s))
        self._prefetch(camera)
        return Gaussians.concat(parts)

    def creature_gaussians(self, *, time_s: float = 0.0) -> Gaussians:
        """Lit Gaussians of the spec's creatures posed at rest at their spawns; flyers circle."""
        from studio.assets import make_creature, surfel_normals
        from studio.transforms import rot_y

        parts = []
        L = self.lighting
        for c in self.creature_spawns():
            spec = self.spec.characters[[ch.kind for ch in self.spec.characters].index(c.kind)]
            creature = make_creature(
                c.kind, c.seed % 2 + stable_seed_kind(c.kind), color=spec.color
            )
            pos, yaw = c.position.copy(), c.yaw
            if c.kind in FLYERS:  # circle the spawn's view centre at ~6 m/s
                centre = pos.copy()
                ang = time_s * 6.0 / 14.0 + np.radians(c.yaw)
                pos = centre + 14.0 * np.array([np.cos(ang), 0.0, np.sin(ang)])
                yaw = float(np.degrees(-ang))
            T = np.eye(4)
            T[:3, :3] = rot_y(yaw) * c.scale
            T[:3, 3] = pos
            g, _ = creature.pose(T_world_root=T)
            nrm = surfel_normals(g)
            cx, cz = int(np.floor(pos[0] / CHUNK_SIZE)), int(np.floor(pos[2] / CHUNK_SIZE))
            sh = self._shadow_sampler(cx, cz, L)(g.means[:, 0], g.means[:, 2])
            col = shade(g.colors, nrm, L, shadow=sh)
            parts.append(Gaussians(g.means, g.quats, g.scales, g.opacities, col))
        return Gaussians.concat(parts)

    def frame(
        self,
        camera: Camera,
        *,
        width: int | None = None,
        height: int | None = None,
        budget: int = 250_000,
        time_s: float = 0.0,
        backend: str = "auto",
    ):  # -> studio.render.Frame
        """Render what `camera` sees: splats in view, sky behind, fog in front (a `Frame`)."""
        from studio.render import Frame, render
        from studio.sky import composite

        W = width or camera.width
        H = height or camera.height
        g = self.gaussians_in_view(camera, budget, time_s=time_s)
        fr = render(g, camera, width=W, height=H, background=(0.0, 0.0, 0.0), backend=backend)
        rgb = composite(
            fr.rgb, fr.alpha, fr.depth, camera.with_size(W, H), self.lighting,
            seed=self.spec.seed, weather=self.weather.kind,
            fog_base_height=self.water_level + 2.0,
        )  # fmt: skip
        return Frame(rgb, fr.depth, fr.alpha)

    def _prefetch(self, camera: Camera) -> None:
        """Queue generation of nearby chunks around the camera (all directions) in the background."""
        if self._pool is None:
            return
        p = camera.position
        c0 = (int(np.floor(p[0] / CHUNK_SIZE)), int(np.floor(p[2] / CHUNK_SIZE)))
        want = []
        for dx in range(-3, 4):
            for dz in range(-3, 4):
                d = np.hypot(dx * CHUNK_SIZE, dz * CHUNK_SIZE)
                lod = int(self._lod_for(np.array([d]), 1.0)[0])
                key = (c0[0] + dx, c0[1] + dz, lod)
                with self._lock:
                    if key in self._layers or key in self._pending:
                        continue
                    self._pending.add(key)
                want.append(key)
        if want:
            self._pool.submit(self._generate_keys, want)

    def _generate_keys(self, keys: list[tuple[int, int, int]]) -> None:
        try:
            for cx, cz, lod in keys:
                self._layer(cx, cz, lod)
        finally:
            with self._lock:
                self._pending.difference_update(keys)

    def close(self) -> None:
        """Stop the background generator (pending work is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # --- export ----------------------------------------------------------------------------

    def meshes_in(
        self, bounds: np.ndarray, *, terrain_spacing: float = 1.0
    ) -> list[tuple[str, trimesh.Trimesh, np.ndarray]]:
        """(name, mesh in its local frame, (4, 4) T_world_local) for terrain and props in
        bounds ((2, 2) [[x_min, z_min], [x_max, z_max]] metres)."""
        b = np.asarray(bounds, dtype=float)
        if b.shape != (2, 2) or (b[1] <= b[0]).any():
            raise ValueError(
                f"bounds {b.tolist()} must be [[x_min, z_min], [x_max, z_max]] with max > min."
            )
        out: list[tuple[str, trimesh.Trimesh, np.ndarray]] = []
        xs = np.arange(b[0, 0], b[1, 0] + 1e-9, terrain_spacing)
        zs = np.arange(b[0, 1], b[1, 1] + 1e-9, terrain_spacing)
        gx, gz = np.meshgrid(xs, zs)
        gy = self.terrain.height(gx, gz)
        verts = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1)
        nx = len(xs)
        i, j = np.meshgrid(np.arange(len(xs) - 1), np.arange(len(zs) - 1))
        a = (j * nx + i).ravel()
        faces = np.concatenate(
            [np.stack([a, a + nx, a + 1], 1), np.stack([a + 1, a + nx, a + nx + 1], 1)]
        )
        nrm = self.terrain.normal(verts[:, 0], verts[:, 2])
        col = self.terrain.albedo(verts[:, 0], verts[:, 2], verts[:, 1], nrm[:, 1])
        mesh = trimesh.Trimesh(
            verts, faces, vertex_colors=(np.clip(col, 0, 1) * 255).astype(np.uint8), process=False
        )
        out.append(("terrain", mesh, np.eye(4)))
        c0 = np.floor(b[0] / CHUNK_SIZE).astype(int)
        c1 = np.floor(b[1] / CHUNK_SIZE).astype(int)
        for cx in range(c0[0], c1[0] + 1):
            for cz in range(c0[1], c1[1] + 1):
                for k, p in enumerate(self.props_in_chunk(cx, cz)):
                    x, _, z = p.position
                    if b[0, 0] <= x <= b[1, 0] and b[0, 1] <= z <= b[1, 1]:
                        name = p.label if p.landmark and p.label else p.kind
                        mesh = self._asset(p.kind, p.variant_seed).mesh
                        out.append((f"{name}_{cx}_{cz}_{k}", mesh, p.T_world_instance))
        return out


__all__ = [
    "CHUNK_SIZE",
    "Chunk",
    "ChunkLayer",
    "CreatureSpawn",
    "PropInstance",
    "SpawnPoint",
    "SurfelSet",
    "World",
    "WorldCollider",
]
