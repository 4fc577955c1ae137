"""`World`: the fixed model a `WorldSpec` defines, generated lazily in chunks around the camera.

A chunk is a pure function of (spec, cx, cz): terrain surfels on the heightfield grid at several
levels of detail, water surfels, scattered props with their Gaussians, and colliders in the world
frame. Chunks are cached (LRU, bounded in bytes) and generated in a background thread ahead of the
camera; the first view is generated synchronously, in batches of chunks per LOD so numpy and the
noise library see large arrays. Lighting is applied on top of stored albedo + normals and cached
per lighting state, so `set_hour` re-lights without regenerating geometry.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import trimesh
from numba import njit

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.lighting import Lighting, heightfield_shadow, lighting_for, shade
from studio.proplod import (
    IMPOSTOR_LOD,
    INSTANCE_PLODS,
    LOW_KINDS,
    N_PLODS,
    PROP_LOD_DISTANCE,
    SMALL_KINDS,
    SMALL_RADIUS,
    PropLods,
    SurfelSet,
    drawn_until,
    plod_for,
)
from studio.render.common import Cancel
from studio.scatter import FLYERS, CreatureSpawn, PropInstance, Scatter, SpawnPoint
from studio.sky import SkyCache
from studio.spec import WorldSpec
from studio.terrain import TerrainField, heightfield_grid, smoothstep, stable_seed
from studio.transforms import matrix_to_quat

log = logging.getLogger(__name__)

CHUNK_SIZE = 32.0
"""Metres per chunk side."""
LOD_SPACING = (0.4, 0.8, 1.6, 3.2, 6.4)
"""Terrain surfel spacing (metres) at each level of detail."""
LOD_DISTANCE = (36.0, 80.0, 160.0, 300.0)
"""Camera-to-chunk distances (metres) beyond which the next coarser LOD is used."""
VIEW_DISTANCE = 520.0
"""How far (metres) chunks are drawn; fog takes over near the end."""
SURFEL_SIGMA = 0.66
"""Terrain surfel standard deviation as a fraction of the grid spacing (overlap, no holes)."""
SHADOW_STEP = 8.0
"""Metres between heightfield-shadow samples (interpolated in between)."""
NEAR_GROUND_SPACING = 0.15
"""Ground surfel spacing (metres) right around the camera, where LOD 0 looks soft."""
NEAR_GROUND_RADIUS = 6.0
"""Metres around the camera drawn at `NEAR_GROUND_SPACING`."""
VIEW_ANCHOR_STEP = (1.0, 6.0)
"""The view's chunks, props and LODs are chosen for the camera snapped to this grid (metres,
degrees) with its frustum widened to hold every camera that snaps there (`view_anchor`):
consecutive frames share one selection, and a frame stays a pure function of its camera."""
VIEW_CACHE_ENTRIES = 4
"""View anchors kept built (each is one view's Gaussians, ~15 MB at the 250k budget)."""
BACKGROUND_NICE = 19
"""Nice value of the thread that builds chunks and views ahead of the camera (see
`_background_priority`). Measured walking at 320x180 on 2 cores: frame p95 41 ms at nice 0,
32 ms at 10, 29 ms at 19, the median unchanged."""
VIEW_LOOKAHEAD = 6
"""Frames ahead at the camera's current pace whose view anchor is built in the background."""
DEFAULT_CACHE_BYTES = 512 * 2**20
TIER_SKIP = (frozenset(), LOW_KINDS, LOW_KINDS | SMALL_KINDS)
"""Prop kinds left out of a chunk's props at each tier (see `World._props_many`)."""


def view_anchor(camera: Camera) -> tuple[Camera, float]:
    """The camera a view's selection is made for, and the slack (metres) its culling allows.

    Position snaps to `VIEW_ANCHOR_STEP[0]` metres, yaw and pitch to `VIEW_ANCHOR_STEP[1]`
    degrees, roll to 0 and vfov up to a 5 degree step. The camera's rotation is the anchor's
    times at most half a step of yaw and half a step of pitch, a turn of at most one step, so
    every ray it sees is within a step of its (rolled) image rectangle seen from the anchor:
    that rectangle's extent widened by a step plus one degree on each side is the anchor's
    image. Grown by the slack (the farthest a camera can be from its snapped position), the
    anchor's frustum holds the frustum of every camera that snaps to it.
    """
    step, deg = VIEW_ANCHOR_STEP
    t_v = np.tan(np.radians(np.ceil(camera.vfov / 5.0) * 5.0) / 2)
    t_h = t_v * camera.width / camera.height
    roll = abs(np.radians(camera.roll))
    t_h, t_v = _rolled_extent(t_h, t_v, roll), _rolled_extent(t_v, t_h, roll)
    grow = np.radians(deg + 1.0)
    half_v = min(np.arctan(t_v) + grow, np.radians(84.0))
    half_h = min(np.arctan(t_h) + grow, np.radians(84.0))
    aspect = np.tan(half_h) / np.tan(half_v)
    anchor = Camera(
        np.round(camera.position / step) * step,
        yaw=round(camera.yaw / deg) * deg % 360.0,
        pitch=float(np.clip(round(camera.pitch / deg) * deg, -90.0, 90.0)),
        vfov=float(np.degrees(2 * half_v)),
        width=max(1, round(1000 * aspect)),
        height=1000,
    )
    return anchor, 0.5 * step * np.sqrt(3.0)


def _rolled_extent(a: float, b: float, roll: float) -> float:
    """Largest half-extent along a's axis of an a x b half-extent rectangle rolled by any angle
    in [0, roll] radians: a cos r + b sin r grows until r = atan2(b, a), then shrinks."""
    if roll >= np.arctan2(b, a):
        return float(np.hypot(a, b))
    return float(a * np.cos(roll) + b * np.sin(roll))


@dataclass(frozen=True)
class WorldCollider:
    """A collider in the world frame. cylinder: size = (radius, half_height, radius);
    box: half extents in its own frame turned by `yaw` degrees about +Y; sphere: (r, r, r)."""

    shape: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    owner: str
    prop: str = ""
    """The owning prop's stable id (`studio.scatter.prop_id`)."""


@dataclass
class ChunkLayer:
    """One chunk's ground at one LOD: terrain and water surfels (unlit), and the lit cache."""

    terrain: SurfelSet
    water: SurfelSet
    lit: Gaussians | None = None
    lit_key: int = -1

    def nbytes(self) -> int:
        n = self.terrain.nbytes() + self.water.nbytes()
        return n + (self.lit.nbytes() if self.lit is not None else 0)


@dataclass
class PosedProps:
    """Props posed in the world at their LODs (unlit), which instance each Gaussian belongs to,
    and the lit cache. Held per instance near the camera and per (chunk, LOD) farther out."""

    surfels: SurfelSet
    inst: np.ndarray  # (N,) int32 index of the prop (in its chunk's list) of each Gaussian
    lit: Gaussians | None = None
    lit_key: int = -1

    def nbytes(self) -> int:
        n = self.surfels.nbytes() + self.inst.nbytes
        return n + (self.lit.nbytes() if self.lit is not None else 0)


@dataclass
class ChunkProps:
    """A chunk's props as arrays for per-frame LOD and culling decisions."""

    props: list[PropInstance]
    centre: np.ndarray  # (n, 3) bounding-sphere centres
    radius: np.ndarray  # (n,) bounding-sphere radii
    landmark: np.ndarray  # (n,) bool
    until: np.ndarray  # (n,) first LOD at which the prop is not drawn
    sizes: np.ndarray  # (n, N_PLODS) Gaussians at each LOD (estimates for LOD 0)
    _drawn: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def drawn_at(self, lod: int) -> np.ndarray:
        """Indices of the props drawn at `lod` (those a (chunk, LOD) part poses; cached)."""
        got = self._drawn.get(lod)
        if got is None:
            got = self._drawn[lod] = np.flatnonzero(self.until > lod)
        return got


@dataclass
class Chunk:
    """Everything in one chunk: heights (81, 81) on the 0.4 m grid with both borders included
    (rows along +z, columns along +x), terrain/water surfels per LOD (`LOD_SPACING`), prop
    surfels per prop LOD (`studio.proplod`), props and colliders."""

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


def _chunks_of(x: float, z: float) -> set[tuple[int, int]]:
    """Chunks a base position read back from a prop id (rounded to 1 cm) may lie in."""
    return {
        (int(np.floor((x + dx) / CHUNK_SIZE)), int(np.floor((z + dz) / CHUNK_SIZE)))
        for dx in (-0.006, 0.006)
        for dz in (-0.006, 0.006)
    }


def stable_seed_kind(kind: str) -> int:
    return stable_seed("creature-build", kind, bits=20)


def _slope_frames(normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((N, 4) wxyz, (N,) stretch) for heightfield surfels: local z = the normal, local x up the
    slope, where a grid cell's footprint is 1/n_y longer than its spacing (capped at 4), so
    steep ground keeps the same overlap as flat ground (no stripes or holes on slopes)."""
    n = normals.astype(np.float64)
    g = -n[:, [0, 2]] / np.maximum(n[:, 1:2], 1e-3)  # (N, 2) height gradient dh/dx, dh/dz
    gl = np.linalg.norm(g, axis=1)
    d = np.where(gl[:, None] > 1e-9, g / np.maximum(gl, 1e-9)[:, None], [1.0, 0.0])
    t1 = np.stack([d[:, 0], gl, d[:, 1]], axis=1)
    t1 /= np.linalg.norm(t1, axis=1, keepdims=True)
    t2 = np.cross(n, t1)
    R = np.stack([t1, t2, n], axis=2)  # columns: local x, y, z in the world
    stretch = np.minimum(np.sqrt(1.0 + gl * gl), 4.0).astype(np.float32)
    return matrix_to_quat(R), stretch


def _by_chunk(x: np.ndarray, z: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """(cx, cz, mask) for each chunk that world points (x, z) fall in."""
    cx = np.floor(x / CHUNK_SIZE).astype(np.int64)
    cz = np.floor(z / CHUNK_SIZE).astype(np.int64)
    # One int key per chunk (|cz| < 2^30): sorting N ints, where np.unique(axis=0) sorted
    # N rows as records (7 ms a frame for a few deer and the player).
    _, first, inverse = np.unique(cx * (1 << 31) + cz, return_index=True, return_inverse=True)
    return [(int(cx[i]), int(cz[i]), inverse == j) for j, i in enumerate(first.tolist())]


@njit(cache=True, nogil=True)
def _occlusion(x, z, px, pz, r, out):
    """out[i] = the product over props j of 1 - 0.45 exp(-d_ij^2 / r_j^2), d_ij the ground
    distance from (x[i], z[i]) to prop j at (px[j], pz[j]). Props beyond 4 r_j are skipped:
    their factors are within 1e-7 of 1 (a dense (N, props) pass cost 30 ms a near patch)."""
    for i in range(x.shape[0]):
        o = 1.0
        for j in range(px.shape[0]):
            dx, dz, rr = x[i] - px[j], z[i] - pz[j], r[j] * r[j]
            d2 = dx * dx + dz * dz
            if d2 < 16.0 * rr:
                o *= 1.0 - 0.45 * math.exp(-d2 / rr)
        out[i] = o


def _one_step_apart(a: Camera, b: Camera) -> bool:
    """Whether view anchors `a` and `b` (see `view_anchor`) differ by at most one step in each
    of position, yaw and pitch, with the same field of view."""
    step, deg = VIEW_ANCHOR_STEP
    turn = abs((a.yaw - b.yaw + 180.0) % 360.0 - 180.0)
    return (
        bool(np.all(np.abs(a.position - b.position) <= step * 1.001))
        and turn <= deg * 1.001
        and abs(a.pitch - b.pitch) <= deg * 1.001
        and (a.vfov, a.width, a.height) == (b.vfov, b.width, b.height)
    )


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The indices of the ranges [starts[j], starts[j] + sizes[j]), one after another."""
    return np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())


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


def _background_priority() -> None:
    """Lower the calling thread's CPU priority (Linux, where nice is per thread): work done
    ahead of the camera then takes the cores only when frames leave them idle, instead of
    stretching the frame in flight."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)


class World:
    """The world a spec describes; see the module docstring."""

    def __init__(
        self,
        spec: WorldSpec,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        background: bool = True,
        extra_static: Gaussians | None = None,
    ) -> None:
        self.spec = spec
        self.extra_static = extra_static
        """Lit Gaussians always drawn with the world (an image backdrop; studio.backdrop)."""
        self.terrain = TerrainField(spec)
        self.scatter = Scatter(spec, self.terrain)
        self.landmarks: list[PropInstance] = self.scatter.landmarks
        self.cache_bytes = int(cache_bytes)
        self._layers: OrderedDict[tuple, ChunkLayer | PosedProps] = OrderedDict()
        """Terrain layers keyed (cx, cz, lod); posed props keyed ("i", cx, cz, index, plod) near
        the camera and ("p", cx, cz, plod) farther out. One LRU bounded by `cache_bytes`."""
        self._layer_bytes = 0
        self._props: OrderedDict[tuple[int, int, int], list[PropInstance]] = OrderedDict()
        self._assets: dict[tuple[str, int], object] = {}
        self._plods = PropLods()
        self._chunk_props: OrderedDict[tuple[int, int], ChunkProps] = OrderedDict()
        self.last_view_count = 0
        """Gaussians the last `gaussians_in_view` (or `frame`) drew, creatures and weather included."""
        self._last_view: tuple[tuple, Gaussians] | None = None
        self._near_cache: tuple[tuple, Gaussians] | None = None
        self._anchor_views: OrderedDict[tuple, Gaussians] = OrderedDict()  # LRU, see _static_view
        self._view_lock = threading.Lock()  # one view build at a time (frame thread or worker)
        self._view_pending: set[tuple] = set()
        self._prev_pose: tuple[np.ndarray, float, float] | None = None
        self._drawn_view: tuple[Camera, tuple, Gaussians] | None = None
        """The anchor, key and view `_static_view` last returned as built for its camera."""
        self.last_view_borrowed = False
        """Whether the last view drew a neighbouring anchor's (see `gaussians_in_view`)."""
        self._shadows: dict[tuple[int, int], np.ndarray] = {}
        self._shadow_key = -1
        self._last_bias = 1.0
        self._lock = threading.RLock()
        self._pool = (
            ThreadPoolExecutor(1, thread_name_prefix="chunks", initializer=_background_priority)
            if background
            else None
        )
        self._pending: set[tuple[int, int, int]] = set()
        self.hour = spec.hour
        self.weather = spec.weather
        self.lighting: Lighting = lighting_for(self.hour, self.weather, spec.palette)
        self._light_key = 0
        self._sky = SkyCache()
        """Rays and sky/haze images `frame` reuses while the camera's rotation holds (bounded)."""

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

    def _props_many(self, keys: list[tuple[int, int]], tier: int = 0) -> list[list[PropInstance]]:
        """Props of chunks (cached); tier 1 leaves out ground cover, tier 2 small props too
        (what views of far chunks and ground shading need), landmarks always included."""
        skip = TIER_SKIP[tier]
        with self._lock:
            found = {k: self._props.get((*k, tier)) for k in keys}
            for k, v in found.items():
                full = self._props.get((*k, 0)) if v is None and tier else None
                if full is not None:
                    found[k] = [p for p in full if p.landmark or p.kind not in skip]
        missing = [k for k, v in found.items() if v is None]
        if missing:
            origins = [(cx * CHUNK_SIZE, cz * CHUNK_SIZE) for cx, cz in missing]
            scattered = self.scatter.props_in_many(origins, CHUNK_SIZE, skip=skip)
            for k, (x0, z0), props in zip(missing, origins, scattered, strict=True):
                props += [
                    lm
                    for lm in self.landmarks
                    if x0 <= lm.position[0] < x0 + CHUNK_SIZE
                    and z0 <= lm.position[2] < z0 + CHUNK_SIZE
                ]
                found[k] = props
        with self._lock:
            for k in keys:
                self._props[(*k, tier)] = found[k]
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
                        out.extend(self.instance_colliders(p))
        return out

    def instance_colliders(self, p: PropInstance) -> list[WorldCollider]:
        """World-frame colliders of one placed prop (its asset's, posed by the instance)."""
        asset = self._asset(p.kind, p.variant_seed)
        T = p.T_world_instance
        out = []
        for c in asset.colliders:
            centre = T[:3, :3] @ np.asarray(c.center) + T[:3, 3]
            size = tuple(float(v) * p.scale for v in c.size)
            out.append(WorldCollider(c.shape, tuple(map(float, centre)), size, p.yaw, p.kind, p.id))
        return out

    def prop_instance(self, pid: str) -> PropInstance | None:
        """The scattered prop or landmark with stable id `pid` ("kind@x,z" in centimetres, see
        `studio.scatter.prop_id`), or None when no prop of the world has that id."""
        kind, _, where = pid.partition("@")
        try:
            x, z = (int(v) / 100.0 for v in where.split(","))
        except ValueError:
            return None
        for key in _chunks_of(x, z):
            for p in self.props_in_chunk(*key):
                if p.kind == kind and p.id == pid:
                    return p
        return None

    def props_near(
        self, x: float, z: float, radius: float, *, kind: str | None = None
    ) -> list[PropInstance]:
        """Props (landmarks included) whose base lies within `radius` metres of (x, z), nearest
        first; only those of `kind` when given."""
        out = []
        for cx in range(
            int(np.floor((x - radius) / CHUNK_SIZE)), int(np.floor((x + radius) / CHUNK_SIZE)) + 1
        ):
            for cz in range(
                int(np.floor((z - radius) / CHUNK_SIZE)),
                int(np.floor((z + radius) / CHUNK_SIZE)) + 1,
            ):
                for p in self.props_in_chunk(cx, cz):
                    d = float(np.hypot(p.position[0] - x, p.position[2] - z))
                    if d <= radius and (kind is None or p.kind == kind):
                        out.append((d, p.id, p))
        return [p for _, _, p in sorted(out, key=lambda t: t[:2])]

    # --- assets --------------------------------------------------------------------------

    def asset(self, kind: str, seed: int):  # -> studio.assets.Asset
        """The asset variant `make_asset(kind, seed)` (cached), in its local frame."""
        return self._asset(kind, seed)

    def _asset(self, kind: str, seed: int):  # -> studio.assets.Asset
        key = (kind, seed)
        a = self._assets.get(key)
        if a is None:
            from studio.assets import make_asset

            a = make_asset(kind, seed)
            self._assets[key] = a
        return a

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
        all_props = self._props_many(list(keys), tier=1 if lod <= 1 else 2)
        sig = SURFEL_SIGMA * s
        # Every chunk at once: normals by central differences, albedo, slope frames.
        inner = (slice(None), slice(1, n + 1), slice(1, n + 1))
        dhdx = (h[:, 1 : n + 1, 2 : n + 2] - h[:, 1 : n + 1, 0:n]) / (2 * s)
        dhdz = (h[:, 2 : n + 2, 1 : n + 1] - h[:, 0:n, 1 : n + 1]) / (2 * s)
        nrm = np.stack([-dhdx, np.ones_like(dhdx), -dhdz], axis=-1).reshape(-1, 3)
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        x, z, y = gx[inner].ravel(), gz[inner].ravel(), h[inner].ravel()
        alb = self.terrain.albedo(x, z, y, nrm[:, 1])
        quats, stretch = _slope_frames(nrm)
        M = len(x)
        scales = np.empty((M, 3), np.float32)
        scales[:, 0] = sig * stretch
        scales[:, 1] = sig
        scales[:, 2] = 0.08 * sig
        means = np.stack([x, y, z], axis=1)
        nrm32 = nrm.astype(np.float32)
        m = n * n
        out = []
        for c in range(len(keys)):
            sl = slice(c * m, (c + 1) * m)
            occ = self._ground_occlusion(x[sl], z[sl], all_props[c])
            terrain = SurfelSet(
                Gaussians(means[sl], quats[sl], scales[sl], np.ones(m, np.float32), alb[sl]),
                nrm32[sl],
                occ,
            )
            out.append(ChunkLayer(terrain, self._water(x[sl], z[sl], y[sl], s)))
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
        out = np.empty(len(x), np.float32)
        _occlusion(np.asarray(x, np.float64), np.asarray(z, np.float64), px, pz, r, out)
        return out

    def _props_info(self, keys: list[tuple[int, int, int]]) -> list[ChunkProps]:
        """Per-chunk prop arrays (bounds, LOD sizes) for (cx, cz, tier) keys, cached."""
        with self._lock:
            found = {k: self._chunk_props.get(k) for k in keys}
        missing = [k for k, v in found.items() if v is None]
        by_tier: dict[int, list[tuple[int, int, int]]] = {}
        for k in missing:
            by_tier.setdefault(k[2], []).append(k)
        fresh = []
        for tier, ks in by_tier.items():
            fresh += zip(ks, self._props_many([k[:2] for k in ks], tier), strict=True)
        for k, props in fresh:
            n = len(props)
            centre = np.zeros((n, 3))
            radius = np.zeros(n)
            sizes = np.zeros((n, N_PLODS), np.int64)
            until = np.zeros(n, np.int64)
            per_variant: dict[tuple[str, int], tuple[float, float, np.ndarray, int]] = {}
            for i, p in enumerate(props):
                v = per_variant.get((p.kind, p.variant_seed))
                if v is None:
                    cy, r, n1 = self._plods.bound(p.kind, p.variant_seed)
                    u = drawn_until(p.kind)
                    sz = np.array(
                        [
                            self._plods.size_estimate(n1, lod) if lod < u else 0
                            for lod in range(N_PLODS)
                        ]
                    )
                    v = per_variant[(p.kind, p.variant_seed)] = (cy, r, sz, u)
                cy, r, sz, u = v
                centre[i] = p.position
                centre[i, 1] += cy * p.scale
                radius[i] = r * p.scale
                sizes[i] = sz
                small = r * p.scale < SMALL_RADIUS
                until[i] = N_PLODS if p.landmark else min(u, IMPOSTOR_LOD if small else N_PLODS)
            landmark = np.array([p.landmark for p in props], bool)
            found[k] = ChunkProps(props, centre, radius, landmark, until, sizes)
        with self._lock:
            for k in missing:
                self._chunk_props[k] = found[k]
            while len(self._chunk_props) > 8192:
                self._chunk_props.popitem(last=False)
        return [found[k] for k in keys]

    def _posed(self, key: tuple, props: list[PropInstance], plods: list[int]) -> PosedProps:
        """Props posed at their LODs, cached under `key` (built on a miss)."""
        with self._lock:
            got = self._layers.get(key)
            if got is not None:
                self._layers.move_to_end(key)
                return got
        surf, starts, sizes = self._plods.pose(props, plods)
        inst = np.zeros(len(surf), np.int32)
        for i, (a, m) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
            inst[a : a + m] = i
        posed = PosedProps(surf, inst)
        self._store(key, posed)
        return posed

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

    def _store(self, key: tuple, layer: ChunkLayer | PosedProps) -> None:
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
        colliders = [c for p in props for c in self.instance_colliders(p)]
        prop_surfels = []
        for lod in range(N_PLODS):
            drawn = [p for p in props if p.landmark or lod < drawn_until(p.kind)]
            prop_surfels.append(self._plods.pose(drawn, [lod] * len(drawn))[0])
        return Chunk(
            cx,
            cz,
            heights,
            [la.terrain for la in layers],
            [la.water for la in layers],
            prop_surfels,
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
        for s, kind in ((layer.terrain, "ground"), (layer.water, "water")):
            if not len(s.gaussians):
                continue
            means = s.gaussians.means
            sh = _bilinear(grid, cx, cz, means[:, 0], means[:, 2])
            if kind == "ground" and lod <= 2:
                sh = sh * self._tree_shadows(cx, cz, means, L)
            col = shade(s.gaussians.colors, s.normals, L, shadow=sh, occlusion=s.occlusion)
            if kind == "water":  # mirrors the sky; ripple bands catch the light
                x, z = means[:, 0], means[:, 2]
                # Bands ~6-9 m apart, only where surfels are dense enough to draw them
                # (coarse LODs would alias them into a grid of dots).
                rip = np.sin(0.7 * x + 2.5 * np.sin(0.11 * z + 0.07 * x)) + 0.6 * np.sin(
                    0.45 * z + 1.7 * np.sin(0.13 * x)
                )  # a sum, not a product: crest lines, not a lattice of dots
                rip = smoothstep(0.4, 1.4, rip)
                rip *= float(np.clip((1.2 - LOD_SPACING[lod]) / 0.8, 0.0, 1.0))
                sky = (0.6 * L.horizon + 0.4 * L.zenith).astype(np.float32)
                glint = (0.06 + 0.2 * (1 - L.overcast) * (1 - L.night)) * rip
                col = 0.65 * col + 0.35 * sky * (0.4 + 0.6 * sh[:, None])
                col = np.clip(col + glint[:, None].astype(np.float32) * (1 - col), 0, 1)
            g = s.gaussians
            parts.append(Gaussians(g.means, g.quats, g.scales, g.opacities, col))
        lit = Gaussians.concat(parts)
        layer.lit, layer.lit_key = lit, self._light_key
        return lit

    def _light_posed(
        self, items: list[tuple[PosedProps, ChunkProps, np.ndarray, tuple[int, int]]]
    ) -> None:
        """Shade stale posed props; each prop takes its chunk's heightfield shadow at its centre
        (items: posed props, their chunk's props, which of those `inst` indexes, the chunk)."""
        stale = [it for it in items if it[0].lit is None or it[0].lit_key != self._light_key]
        if not stale:
            return
        L = self.lighting
        grids = self._shadow_grids([k for _, _, _, k in stale])
        for (posed, cp, idx, (cx, cz)), grid in zip(stale, grids, strict=True):
            centre = cp.centre[idx]
            sh = _bilinear(grid, cx, cz, centre[:, 0], centre[:, 2])
            s = posed.surfels
            g = s.gaussians
            col = shade(g.colors, s.normals, L, shadow=sh[posed.inst], occlusion=s.occlusion)
            posed.lit = Gaussians(g.means, g.quats, g.scales, g.opacities, col)
            posed.lit_key = self._light_key

    def _shadow_grids(self, keys: list[tuple[int, int]]) -> list[np.ndarray]:
        """Heightfield shadow of the key light on a SHADOW_STEP grid over each chunk (batched,
        cached for the current lighting)."""
        L = self.lighting
        with self._lock:
            if self._shadow_key != self._light_key:
                self._shadows.clear()
                self._shadow_key = self._light_key
            found = {k: self._shadows.get(k) for k in keys}
        missing = [k for k, v in found.items() if v is None]
        n = round(CHUNK_SIZE / SHADOW_STEP)
        if missing:
            if L.key_dir[1] <= 0.02:
                sh = np.zeros((len(missing), n + 1, n + 1))
            else:
                gx, gz = self._grid(
                    np.array([k[0] for k in missing]),
                    np.array([k[1] for k in missing]),
                    SHADOW_STEP,
                    0,
                )
                gy = self.terrain.height(gx, gz) + 0.6
                pts = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], axis=1)
                sh = heightfield_shadow(self.terrain.height, pts, L.key_dir)
                sh = sh.reshape(len(missing), n + 1, n + 1)
            with self._lock:
                for k, g in zip(missing, sh, strict=True):
                    found[k] = self._shadows[k] = g
                while len(self._shadows) > 8192:
                    self._shadows.pop(next(iter(self._shadows)))
        return [found[k] for k in keys]

    def _shadow_sampler(self, cx: int, cz: int, L: Lighting):
        grid = self._shadow_grids([(cx, cz)])[0]
        return lambda x, z: _bilinear(grid, cx, cz, x, z)

    def _near_ground(self, camera: Camera) -> Gaussians | None:
        """Lit ground surfels at `NEAR_GROUND_SPACING` within `NEAR_GROUND_RADIUS` of the camera
        (on a world-anchored grid, cached per 2 m camera cell and lighting), or None when the
        camera is too high above the ground for it to matter."""
        p = camera.position
        ground = float(self.terrain.height(np.array([p[0]]), np.array([p[2]]))[0])
        if p[1] - ground > 6.0:
            return None
        key = (round(p[0] / 2.0), round(p[2] / 2.0), self._light_key)
        if self._near_cache is not None and self._near_cache[0] == key:
            return self._near_cache[1]
        s = NEAR_GROUND_SPACING
        R = NEAR_GROUND_RADIUS + 1.0  # a margin, so the cached patch still covers a 2 m cell
        cx0, cz0 = key[0] * 2.0, key[1] * 2.0
        i0, i1 = int(np.floor((cx0 - R) / s)) - 1, int(np.ceil((cx0 + R) / s)) + 1
        k0, k1 = int(np.floor((cz0 - R) / s)) - 1, int(np.ceil((cz0 + R) / s)) + 1
        gx, gz = np.meshgrid(np.arange(i0, i1 + 1) * s, np.arange(k0, k1 + 1) * s)
        h = self.terrain.height(gx, gz)
        nrm = self.terrain.normals_from_grid(h, s).reshape(-1, 3)
        x, z, y = gx[1:-1, 1:-1].ravel(), gz[1:-1, 1:-1].ravel(), h[1:-1, 1:-1].ravel()
        m = np.hypot(x - cx0, z - cz0) < R
        x, z, y, nrm = x[m], z[m], y[m], nrm[m]
        # Stronger grain close by (grass texture), fading to LOD 0's at the patch's rim.
        d = np.hypot(x - cx0, z - cz0)
        grain = 0.08 + 0.2 * smoothstep(NEAR_GROUND_RADIUS, NEAR_GROUND_RADIUS - 3.0, d)
        alb = self.terrain.albedo(x, z, y, nrm[:, 1], grain=grain)
        quats, stretch = _slope_frames(nrm)
        sig = SURFEL_SIGMA * s
        n = len(x)
        scales = np.empty((n, 3), np.float32)
        scales[:, 0] = sig * stretch
        scales[:, 1] = sig
        scales[:, 2] = 0.08 * sig
        L = self.lighting
        sh = np.ones(n)
        occ = np.ones(n, np.float32)
        for ccx, ccz, sel in _by_chunk(x, z):
            means = np.stack([x[sel], y[sel], z[sel]], axis=1)
            grid = self._shadow_grids([(ccx, ccz)])[0]
            sh[sel] = _bilinear(grid, ccx, ccz, x[sel], z[sel]) * self._tree_shadows(
                ccx, ccz, means, L
            )
            near_props = [p for ps in self._props_many(
                [(ccx + a, ccz + b) for a in (-1, 0, 1) for b in (-1, 0, 1)], tier=1
            ) for p in ps]  # fmt: skip
            occ[sel] = self._ground_occlusion(x[sel], z[sel], near_props)
        col = shade(alb, nrm, L, shadow=sh, occlusion=occ)
        g = Gaussians(np.stack([x, y, z], axis=1), quats, scales, np.ones(n, np.float32), col)
        self._near_cache = (key, g)
        return g

    def _tree_shadows(self, cx: int, cz: int, means: np.ndarray, L: Lighting) -> np.ndarray:
        """(N,) soft cast shadows of tall props on the ground, offset away from the key light."""
        d = L.key_dir
        if d[1] <= 0.05:
            return np.ones(len(means))
        keys = [(cx + dx, cz + dz) for dx in (-1, 0, 1) for dz in (-1, 0, 1)]
        tall = [p for ps in self._props_many(keys, tier=2) for p in ps]
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
        self, camera: Camera, view_distance: float, slack: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """((M, 2) chunk indices, (M,) distances) of chunks in the frustum (grown by `slack`
        metres) within reach."""
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
        sx, sy = slack * np.hypot(1.0, tx), slack * np.hypot(1.0, ty)  # plane distance -> offset
        outside = (
            (zc < 0.05 - slack).all(axis=1)
            | (pc[..., 0] > tx * zc + sx).all(axis=1)
            | (pc[..., 0] < -tx * zc - sx).all(axis=1)
            | (pc[..., 1] > ty * zc + sy).all(axis=1)
            | (pc[..., 1] < -ty * zc - sy).all(axis=1)
        )
        ok &= ~outside
        # Always keep the chunks around the camera (they may hold what is just below it).
        ok |= dist < CHUNK_SIZE * 1.2
        idx = np.argsort(dist[ok], kind="stable")
        return np.stack([cx[ok], cz[ok]], axis=1)[idx], dist[ok][idx]

    @staticmethod
    def _lod_for(dist: np.ndarray, bias: float) -> np.ndarray:
        return np.searchsorted(np.array(LOD_DISTANCE) * bias, dist)

    def _frustum_spheres(self, camera: Camera, centre: np.ndarray, radius: np.ndarray):
        """(N,) True where a sphere (centre (N, 3), radius (N,)) may be inside the view."""
        V = camera.viewmat()
        pc = centre @ V[:3, :3].T + V[:3, 3]
        K = camera.K()
        ok = pc[:, 2] > -radius
        for f, half, k in ((K[0, 0], camera.width / 2, 0), (K[1, 1], camera.height / 2, 1)):
            t = half / f
            cos = 1.0 / np.sqrt(1.0 + t * t)  # plane normal scale: distance = (|x| - t z) cos
            ok &= (np.abs(pc[:, k]) - t * pc[:, 2]) * cos < radius
        return ok

    def _select(self, camera: Camera, budget: int, bias: float, slack: float = 0.0):
        """The view's chunks and props, LODs chosen so the estimated count fits `budget`
        (culled against `camera`'s frustum grown by `slack` metres)."""
        keys, dist = self._visible_chunks(camera, VIEW_DISTANCE, slack)
        p = camera.position
        lo = keys * CHUNK_SIZE
        gap = np.maximum(np.maximum(lo - p[[0, 2]], p[[0, 2]] - lo - CHUNK_SIZE), 0.0)
        near = np.hypot(gap[:, 0], gap[:, 1])
        tiers = (near > PROP_LOD_DISTANCE[2]).astype(int) + (near > PROP_LOD_DISTANCE[3])
        klist = [(cx, cz, t) for (cx, cz), t in zip(keys.tolist(), tiers.tolist(), strict=True)]
        info = self._props_info(klist)
        counts = np.array([len(cp.props) for cp in info], np.int64)
        if counts.sum():
            centre = np.concatenate([cp.centre for cp in info])
            radius = np.concatenate([cp.radius for cp in info])
            landmark = np.concatenate([cp.landmark for cp in info])
            until = np.concatenate([cp.until for cp in info])
            sizes = np.concatenate([cp.sizes for cp in info])
        else:
            centre, radius = np.zeros((0, 3)), np.zeros(0)
            landmark, until = np.zeros(0, bool), np.zeros(0, np.int64)
            sizes = np.zeros((0, N_PLODS), np.int64)
        # Distance to the prop's near side, so a house beside the camera counts as near.
        pdist = np.maximum(np.linalg.norm(centre - camera.position, axis=1) - 0.6 * radius, 0.0)
        seen = self._frustum_spheres(camera, centre, radius + slack)
        per_lod = np.array([(CHUNK_SIZE / s) ** 2 for s in LOD_SPACING])
        for _ in range(12):
            lods = self._lod_for(dist, bias)
            plods = plod_for(pdist, bias, landmark)
            draw = seen & (plods < until)
            est = per_lod[lods].sum() + sizes[np.flatnonzero(draw), plods[draw]].sum()
            if est <= 0.97 * budget:
                break
            bias *= 0.85
        owner = np.repeat(np.arange(len(klist)), counts)
        return klist, lods, info, owner, plods, draw, bias

    def gaussians_in_view(
        self,
        camera: Camera,
        budget: int = 250_000,
        *,
        time_s: float = 0.0,
        creatures: bool = True,
        weather: bool = True,
        hidden: frozenset[str] = frozenset(),
        extra: Gaussians | None = None,
        borrow: bool = False,
    ) -> Gaussians:
        """Lit, LOD-selected Gaussians in view (+ creatures and weather particles).

        Terrain LOD follows each chunk's distance and prop LOD each prop's own distance (props
        outside the view are culled); both distances scale down until the estimated count fits
        `budget`, for the camera's `view_anchor`. Creatures, weather particles and `extra`
        (already lit) are added on top (a few thousand).
        Props whose ids (`studio.scatter.prop_id`) are in `hidden` are left out (a mask over
        the cached Gaussians: a simulation's broken, toppled, removed or moved props).
        `last_view_count` holds the total drawn.

        `borrow=True` (the live viewport, with a background worker) never waits for a view
        build when the camera has just crossed into a new anchor: if the view drawn last is
        built for an anchor one step away (position, yaw, pitch; same budget, lighting and
        hidden props), that view is drawn while the worker builds this anchor's, and
        `last_view_borrowed` says so. Its frustum misses at most a step's sliver at the
        image's edge, for the frame or two the build takes. Without `borrow` the result is
        exactly this anchor's view, whenever it was built.
        """
        memo = (
            camera.viewmat().tobytes(),
            camera.K().tobytes(),
            budget,
            time_s,
            creatures,
            weather,
            self._light_key,
            hidden,
        )
        if extra is None and self._last_view is not None and self._last_view[0] == memo:
            return self._last_view[1]
        parts = [self._static_view(camera, budget, hidden, borrow=borrow)]
        if self.extra_static is not None:
            parts.append(self.extra_static)
        if creatures:
            parts.append(self.creature_gaussians(time_s=time_s))
        if weather:
            from studio.weather import weather_particles

            parts.append(weather_particles(self, camera, time_s=time_s))
        if extra is not None:
            parts.append(extra)
        self._prefetch(camera)
        out = Gaussians.concat(parts)  # the one copy a frame makes of what it draws
        self.last_view_count = len(out)
        if extra is None and not self.last_view_borrowed:
            self._last_view = (memo, out)
        return out

    def _static_view(
        self, camera: Camera, budget: int, hidden: frozenset[str], *, borrow: bool = False
    ) -> Gaussians:
        """The terrain, water and props `camera`'s view anchor selects (cached per anchor).

        With a background worker, the anchor the camera is heading for is built ahead of time
        (`_prefetch_view`); the result is the same either way, only when it is computed differs.
        With `borrow`, see `gaussians_in_view`.
        """
        anchor, slack = view_anchor(camera)
        key = self._view_key(anchor, budget, hidden)
        out = self._cached_view(key)
        drawn = self._drawn_view
        self.last_view_borrowed = (
            out is None
            and borrow
            and self._pool is not None
            and drawn is not None
            and drawn[1][2:] == key[2:]
            and _one_step_apart(drawn[0], anchor)
        )
        if self.last_view_borrowed:
            self._queue_view(anchor, slack, budget, hidden, key)
            out = drawn[2]
        else:
            if out is None:
                with self._view_lock:  # a worker building this very anchor finishes first
                    out = self._cached_view(key) or self._build_view(anchor, slack, budget, hidden)
            self._drawn_view = (anchor, key, out)
        self._prefetch_view(camera, budget, hidden, here=key)
        return out

    def _view_key(self, anchor: Camera, budget: int, hidden: frozenset[str]) -> tuple:
        return (anchor.viewmat().tobytes(), anchor.K().tobytes(), budget, self._light_key, hidden)

    def _cached_view(self, key: tuple) -> Gaussians | None:
        with self._lock:
            out = self._anchor_views.get(key)
            if out is not None:
                self._anchor_views.move_to_end(key)
            return out

    def _build_view(
        self, anchor: Camera, slack: float, budget: int, hidden: frozenset[str]
    ) -> Gaussians:
        """Gather and concatenate the anchor's view and cache it (the caller holds _view_lock)."""
        key = self._view_key(anchor, budget, hidden)
        bias = 1.0
        for _ in range(3):  # over budget (the estimate was low): gather again at less detail
            out = Gaussians.gather(self._gather(anchor, budget, bias, hidden, slack))
            if len(out) <= budget:
                break
            bias = self._last_bias * 0.85
        with self._lock:
            self._anchor_views[key] = out
            while len(self._anchor_views) > VIEW_CACHE_ENTRIES:
                self._anchor_views.popitem(last=False)
        return out

    def _prefetch_view(
        self, camera: Camera, budget: int, hidden: frozenset[str], *, here: tuple
    ) -> None:
        """Queue building the next view anchor `camera` will reach at its current pace
        (position and yaw, looking up to `VIEW_LOOKAHEAD` frames ahead), so walking or turning
        does not stall on it: the next one, since the frame thread waits for a build under way.
        `here` is the key of the anchor `camera` is at."""
        prev, self._prev_pose = self._prev_pose, (camera.position.copy(), camera.yaw, camera.pitch)
        if self._pool is None or prev is None:
            return
        step = camera.position - prev[0]
        if float(np.linalg.norm(step)) > 5.0:  # a cut or a teleport: no pace to follow
            return
        turn = (camera.yaw - prev[1] + 180.0) % 360.0 - 180.0
        tilt = camera.pitch - prev[2]
        for k in range(1, VIEW_LOOKAHEAD + 1):
            ahead = Camera(
                camera.position + k * step, yaw=camera.yaw + k * turn,
                pitch=float(np.clip(camera.pitch + k * tilt, -89.0, 89.0)), roll=camera.roll,
                vfov=camera.vfov, width=camera.width, height=camera.height,
            )  # fmt: skip
            anchor, slack = view_anchor(ahead)
            key = self._view_key(anchor, budget, hidden)
            if key != here:
                self._queue_view(anchor, slack, budget, hidden, key)
                return

    def _queue_view(
        self, anchor: Camera, slack: float, budget: int, hidden: frozenset[str], key: tuple
    ) -> None:
        """Have the worker build the view for `anchor` (unless it is built or queued)."""
        with self._lock:
            if key in self._anchor_views or key in self._view_pending:
                return
            self._view_pending.add(key)
        self._pool.submit(self._prefetched_view, anchor, slack, budget, hidden, key)

    def _prefetched_view(
        self, anchor: Camera, slack: float, budget: int, hidden: frozenset[str], key: tuple
    ) -> None:
        try:
            with self._view_lock:
                if self._cached_view(self._view_key(anchor, budget, hidden)) is None:
                    self._build_view(anchor, slack, budget, hidden)
        except Exception:  # the frame thread builds it itself when it gets there
            log.exception("building a view ahead of the camera failed")
        finally:
            with self._lock:
                self._view_pending.discard(key)

    def _gather(
        self,
        camera: Camera,
        budget: int,
        bias: float,
        hidden: frozenset[str] = frozenset(),
        slack: float = 0.0,
    ) -> list[tuple[Gaussians, np.ndarray | None]]:
        """The view's parts as (Gaussians, row mask or None) for `Gaussians.gather`: masks
        leave out props drawn at another LOD, hidden props and the ground under the finer
        near ground, without copying each part first."""
        klist, lods, info, owner, plods, draw, self._last_bias = self._select(
            camera, budget, bias, slack
        )
        # Terrain and water, per chunk LOD.
        groups: dict[int, list[tuple[int, int]]] = {}
        for k, lod in zip(klist, lods.tolist(), strict=True):
            groups.setdefault(lod, []).append(k[:2])
        layers: list[tuple[int, int, int, ChunkLayer]] = []
        for lod, ks in sorted(groups.items()):
            for k, layer in zip(ks, self._layers_for(ks, lod), strict=True):
                layers.append((k[0], k[1], lod, layer))
        parts: list[tuple[Gaussians, np.ndarray | None]] = [
            (g, None) for g in self._relight_many(layers)
        ]
        near = self._near_ground(camera)
        if near is not None:  # finer ground at the camera's feet replaces LOD 0 there
            p = self._near_cache[0][0] * 2.0, 0.0, self._near_cache[0][1] * 2.0  # its centre
            for k, (_, _, lod, layer) in enumerate(layers):
                if lod != 0:
                    continue
                g = parts[k][0]
                nt = len(layer.terrain.gaussians)
                d = np.hypot(g.means[:nt, 0] - p[0], g.means[:nt, 2] - p[2])
                inside = d < NEAR_GROUND_RADIUS - 0.5
                if inside.any():
                    keep = np.ones(len(g), bool)
                    keep[:nt] = ~inside
                    parts[k] = (g, keep)
            parts.append((near, None))
        # Props: near ones per instance, the rest per (chunk, LOD, tier) with unwanted ones
        # masked; everything missing is posed in one batch, then split. Parts go in chunk
        # order, each chunk's instances before its LODs.
        starts = np.concatenate([[0], np.cumsum([len(cp.props) for cp in info])])
        pl = np.where(draw, plods, -1)
        near = np.flatnonzero((pl >= 0) & (pl < INSTANCE_PLODS))
        far = np.unique((owner * N_PLODS + pl)[pl >= INSTANCE_PLODS])
        wanted = sorted(
            [(c, 0, j) for c, j in zip(owner[near].tolist(), near.tolist(), strict=True)]
            + [(k // N_PLODS, 1, k % N_PLODS) for k in far.tolist()]
        )
        hide_chunks: set[tuple[int, int]] = set()
        for pid in hidden:
            _, _, where = pid.partition("@")
            with contextlib.suppress(ValueError):
                hide_chunks |= _chunks_of(*(int(v) / 100.0 for v in where.split(",")))
        items: list[
            tuple[PosedProps | None, ChunkProps, np.ndarray, tuple[int, int], np.ndarray | None]
        ] = []
        missing: list[tuple[int, tuple, np.ndarray, ChunkProps, int]] = []
        for c, per_lod, v in wanted:
            cx, cz, tier = klist[c]
            cp = info[c]
            want: np.ndarray | None = None
            if per_lod:
                lod, idx = v, cp.drawn_at(v)
                key: tuple = ("p", cx, cz, lod, tier)
                shown = pl[starts[c] + idx] == lod
                want = None if shown.all() else shown
            else:
                lod, idx = int(pl[v]), np.array([v - starts[c]])
                key = ("i", cx, cz, tier, int(idx[0]), lod)
            if (cx, cz) in hide_chunks:
                gone = np.array([cp.props[j].id in hidden for j in idx.tolist()], bool)
                if gone.any():
                    want = ~gone if want is None else want & ~gone
            with self._lock:
                got = self._layers.get(key)
                if got is not None:
                    self._layers.move_to_end(key)
            if got is None:
                missing.append((len(items), key, idx, cp, lod))
            items.append((got, cp, idx, (cx, cz), want))
        if missing:
            surf, st, sz = self._plods.pose(
                [m[3].props[j] for m in missing for j in m[2].tolist()],
                [m[4] for m in missing for _ in range(len(m[2]))],
            )
            k = 0
            for slot, key, idx, _cp, _lod in missing:
                a0, n0 = st[k : k + len(idx)], sz[k : k + len(idx)]
                k += len(idx)
                sel = slice(int(a0[0]), int(a0[0] + n0[0])) if len(idx) == 1 else _ranges(a0, n0)
                posed = PosedProps(
                    SurfelSet(surf.gaussians.subset(sel), surf.normals[sel], surf.occlusion[sel]),
                    np.repeat(np.arange(len(idx), dtype=np.int32), n0),
                )
                self._store(key, posed)
                items[slot] = (posed, *items[slot][1:])
        self._light_posed([it[:4] for it in items])
        for posed, _, _, _, want in items:
            parts.append((posed.lit, None if want is None else want[posed.inst]))
        return parts

    def lit(self, g: Gaussians) -> Gaussians:
        """Shade unlit surfels (albedo colours, normals = local z) with the current lighting,
        heightfield shadows included (used for a simulation state's creatures; studio.view)."""
        from studio.assets import surfel_normals

        if len(g) == 0:
            return g
        L = self.lighting
        x, z = g.means[:, 0], g.means[:, 2]
        sh = np.empty(len(g), np.float32)
        for cx, cz, m in _by_chunk(x, z):
            sh[m] = self._shadow_sampler(cx, cz, L)(x[m], z[m])
        col = shade(g.colors, surfel_normals(g), L, shadow=sh)
        return Gaussians(g.means, g.quats, g.scales, g.opacities, col)

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
            if c.kind in FLYERS:  # circle at ~6 m/s, through the spawn position at t = 0
                a0 = -np.radians(c.yaw)
                ang = a0 + time_s * 6.0 / 14.0
                pos = pos + 14.0 * np.array(
                    [np.cos(ang) - np.cos(a0), 0.0, np.sin(ang) - np.sin(a0)]
                )
                yaw = float(np.degrees(-ang))
            T = np.eye(4)
            T[:3, :3] = rot_y(yaw) * c.scale
            T[:3, 3] = pos
            g = creature.pose_gaussians(T_world_root=T)
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
        creatures: bool = True,
        extra: Gaussians | None = None,
        hidden: frozenset[str] = frozenset(),
        cancel: Cancel | None = None,
        borrow: bool = False,
    ):  # -> studio.render.Frame
        """Render what `camera` sees: splats in view, sky behind, fog in front (a `Frame`).

        `creatures=False` leaves out the spec's creatures at rest; `extra` adds already-lit
        Gaussians (a simulation state's creatures, debris, the player: see studio.view);
        props whose ids are in `hidden` are left out (see `gaussians_in_view`, which also
        says what `borrow` does). A set `cancel` stops the frame with
        `studio.render.RenderCancelled`.
        """
        from studio.render import Frame, render
        from studio.sky import composite

        W = width or camera.width
        H = height or camera.height
        g = self.gaussians_in_view(
            camera, budget, time_s=time_s, creatures=creatures, hidden=frozenset(hidden),
            extra=extra, borrow=borrow,
        )  # fmt: skip
        fr = render(
            g, camera, width=W, height=H, background=(0.0, 0.0, 0.0), backend=backend,
            cancel=cancel,
        )  # fmt: skip
        if cancel is not None:
            cancel.check()
        rgb = composite(
            fr.rgb, fr.alpha, fr.depth, camera.with_size(W, H), self.lighting,
            seed=self.spec.seed, weather=self.weather.kind,
            fog_base_height=self.water_level + 2.0, cache=self._sky,
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
        verts, faces = heightfield_grid(self.terrain.height, b, terrain_spacing)
        out: list[tuple[str, trimesh.Trimesh, np.ndarray]] = []
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
