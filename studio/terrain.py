"""The terrain field: heights, biome weights, water and ground colours as pure functions of (x, z).

Everything here is a function of the spec and a world position only, never of which chunk asks,
so chunks agree exactly on their shared borders and `World.height_at` is the very function the
chunk grids sample. Noise comes from pyfastnoiselite (`gen_from_coords` over numpy arrays);
the river, lake and ocean shaping and the biome palettes are Tidepool's own.

Land sits at least ``water_level + LAND_LIFT`` above the water; only the spec's water features
(rivers, lakes, ocean) carve below it, so a world without water shows none.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pyfastnoiselite.pyfastnoiselite import FastNoiseLite, FractalType, NoiseType

from studio.spec import WorldSpec

LAND_LIFT = 1.2
"""Metres dry land keeps above the water level before the water features carve it."""

RGB = tuple[float, float, float]


def stable_seed(*parts: object, bits: int = 63) -> int:
    """A process-independent seed from any printable parts (blake2b; never Python's hash())."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return struct.unpack("<Q", h)[0] >> (64 - bits)


def hash_uniform(seed: int, ix: np.ndarray, iz: np.ndarray, salt: int = 0) -> np.ndarray:
    """Uniform [0, 1) per integer lattice cell, stable across processes (splitmix64 mixing).

    ix, iz: integer arrays of the same shape; returns float64 of that shape.
    """
    with np.errstate(over="ignore"):
        x = np.asarray(ix, dtype=np.int64).astype(np.uint64)
        z = np.asarray(iz, dtype=np.int64).astype(np.uint64)
        h = np.uint64(seed) ^ np.uint64((salt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
        h = h + x * np.uint64(0xBF58476D1CE4E5B9) + z * np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 at e0 to 1 at e1 (e0 > e1 gives the falling step)."""
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


SAND: RGB = (0.82, 0.74, 0.55)
RIVERBED: RGB = (0.40, 0.36, 0.28)
SNOW: RGB = (0.93, 0.95, 0.98)


@dataclass(frozen=True)
class BiomeLook:
    """How a biome shapes and colours the ground (sRGB albedo)."""

    relief: float  # multiplier on terrain.height_scale
    grass: RGB
    grass_alt: RGB  # the second tone patches blend towards
    soil: RGB
    rock: RGB
    shore: RGB = SAND  # the bank just above the water


BIOME_LOOK: dict[str, BiomeLook] = {
    "conifer_forest": BiomeLook(1.0, (0.30, 0.45, 0.22), (0.42, 0.50, 0.25), (0.36, 0.29, 0.20), (0.46, 0.45, 0.43)),
    "broadleaf_forest": BiomeLook(0.8, (0.38, 0.56, 0.22), (0.50, 0.60, 0.24), (0.40, 0.31, 0.20), (0.50, 0.48, 0.44)),
    "meadow": BiomeLook(0.55, (0.44, 0.63, 0.27), (0.56, 0.66, 0.29), (0.45, 0.36, 0.23), (0.55, 0.53, 0.48)),
    "desert": BiomeLook(0.45, (0.86, 0.72, 0.48), (0.80, 0.62, 0.40), (0.74, 0.55, 0.36), (0.70, 0.50, 0.36)),
    "snow": BiomeLook(1.2, (0.92, 0.94, 0.97), (0.84, 0.88, 0.94), (0.60, 0.60, 0.64), (0.50, 0.52, 0.56)),
    "beach": BiomeLook(0.3, (0.90, 0.82, 0.62), (0.84, 0.76, 0.56), (0.80, 0.70, 0.52), (0.60, 0.57, 0.52)),
    "swamp": BiomeLook(0.15, (0.30, 0.38, 0.20), (0.38, 0.40, 0.22), (0.27, 0.24, 0.16), (0.40, 0.40, 0.36)),
    "alpine": BiomeLook(2.2, (0.42, 0.56, 0.30), (0.56, 0.60, 0.36), (0.42, 0.36, 0.28), (0.52, 0.52, 0.52)),
    "volcanic": BiomeLook(1.8, (0.22, 0.20, 0.20), (0.30, 0.24, 0.20), (0.18, 0.15, 0.14), (0.14, 0.13, 0.13)),
    "canyon": BiomeLook(1.4, (0.76, 0.50, 0.32), (0.70, 0.42, 0.26), (0.66, 0.40, 0.26), (0.64, 0.36, 0.24)),
    "farmland": BiomeLook(0.3, (0.54, 0.66, 0.28), (0.74, 0.68, 0.34), (0.50, 0.38, 0.24), (0.55, 0.53, 0.48)),
    "village": BiomeLook(0.35, (0.48, 0.64, 0.28), (0.60, 0.66, 0.32), (0.50, 0.40, 0.28), (0.58, 0.56, 0.52)),
    "ruins": BiomeLook(0.7, (0.44, 0.54, 0.28), (0.54, 0.56, 0.32), (0.44, 0.38, 0.28), (0.56, 0.54, 0.50)),
}  # fmt: skip
BIOME_LOOK["swamp"] = BiomeLook(**{**BIOME_LOOK["swamp"].__dict__, "shore": (0.30, 0.29, 0.19)})
BIOME_LOOK["snow"] = BiomeLook(**{**BIOME_LOOK["snow"].__dict__, "shore": (0.80, 0.83, 0.88)})
BIOME_LOOK["volcanic"] = BiomeLook(
    **{**BIOME_LOOK["volcanic"].__dict__, "shore": (0.30, 0.27, 0.24)}
)
BIOME_LOOK["conifer_forest"] = BiomeLook(
    **{**BIOME_LOOK["conifer_forest"].__dict__, "shore": (0.55, 0.50, 0.36)}
)
HOT_BIOMES = frozenset({"desert", "canyon", "volcanic", "beach", "swamp"})
"""Biomes that never show snow on their peaks."""


def _noise(seed: int, frequency: float, *, octaves: int = 1, kind: str = "fbm") -> FastNoiseLite:
    n = FastNoiseLite(seed=int(seed % (2**31 - 1)))
    n.noise_type = NoiseType.NoiseType_OpenSimplex2
    n.frequency = frequency
    if octaves > 1:
        n.fractal_type = (
            FractalType.FractalType_Ridged if kind == "ridged" else FractalType.FractalType_FBm
        )
        n.fractal_octaves = octaves
        n.fractal_gain = 0.5
        n.fractal_lacunarity = 2.0
    else:
        n.fractal_type = FractalType.FractalType_None
    return n


def _sample(noise: FastNoiseLite, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    coords = np.stack([np.ravel(x), np.ravel(z)]).astype(np.float32)
    return noise.gen_from_coords(coords).astype(np.float64).reshape(np.shape(x))


class TerrainField:
    """The spec's ground as vectorised functions of world (x, z) in metres."""

    def __init__(self, spec: WorldSpec) -> None:
        t = spec.terrain
        self.spec = spec
        self.water_level = float(t.water_level)
        self.height_scale = float(t.height_scale)
        self.roughness = float(t.roughness)
        self.has_water = bool(t.rivers or t.lakes or t.ocean)
        s = spec.seed

        def seed(purpose: str) -> int:
            return stable_seed("terrain", s, purpose, bits=31)

        self._base = _noise(seed("base"), 1 / 190, octaves=5)
        self._ridge = _noise(seed("ridge"), 1 / 420, octaves=4, kind="ridged")
        self._macro = _noise(seed("macro"), 1 / 800, octaves=2)
        self._bumps = _noise(seed("bumps"), 1 / 14, octaves=2)
        self._warp_x = _noise(seed("warp_x"), 1 / 260, octaves=2)
        self._warp_z = _noise(seed("warp_z"), 1 / 260, octaves=2)
        self._river = _noise(seed("river"), 1 / 650)
        self._lake = _noise(seed("lake"), 1 / 380, octaves=2)
        self._tone = _noise(seed("tone"), 1 / 28, octaves=3)
        self._patch = _noise(seed("patch"), 1 / 9, octaves=2)
        self.biomes = [b.biome for b in spec.biomes]
        self._biome_w = np.array([b.weight for b in spec.biomes], dtype=np.float64)
        self._biome_noise = [_noise(seed(f"biome/{i}"), 1 / 330, octaves=2) for i in self.biomes]
        self._looks = [BIOME_LOOK[b] for b in self.biomes]
        # The river's zero contour is shifted to pass 28 m north of the origin, so a spec
        # with a river always has one near spawn.
        self._river_offset = 0.0
        if t.rivers:
            self._river_offset = float(self._river_value(np.array([0.0]), np.array([-28.0]))[0])

    # --- fields -------------------------------------------------------------------------

    def biome_weights(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(B, *shape) soft biome weights summing to 1 (B = len(spec.biomes))."""
        if len(self.biomes) == 1:
            return np.ones((1, *np.shape(x)))
        logits = np.stack([_sample(n, x, z) * 6.0 for n in self._biome_noise])
        logits += np.log(self._biome_w).reshape(-1, *([1] * np.ndim(x)))
        logits -= logits.max(axis=0, keepdims=True)
        w = np.exp(logits)
        return w / w.sum(axis=0, keepdims=True)

    def _river_value(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        xw = x + 35.0 * _sample(self._warp_x, x, z)
        zw = z + 35.0 * _sample(self._warp_z, x, z)
        return _sample(self._river, xw, zw)

    def river_channel(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """0..1, 1 in the river bed (0 everywhere when the spec has no rivers)."""
        if not self.spec.terrain.rivers:
            return np.zeros(np.shape(x))
        c = np.abs(self._river_value(x, z) - self._river_offset)
        return smoothstep(0.044, 0.018, c)

    def height(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Ground height (float64, metres) at world (x, z); any matching array shapes."""
        x = np.asarray(x, dtype=np.float64)
        z = np.asarray(z, dtype=np.float64)
        w = self.biome_weights(x, z)
        relief = sum(w[i] * lk.relief for i, lk in enumerate(self._looks))
        base = 0.5 + 0.5 * _sample(self._base, x, z)
        mountains = smoothstep(-0.15, 0.65, _sample(self._macro, x, z))
        ridge = np.clip(0.5 + 0.5 * _sample(self._ridge, x, z), 0.0, 1.0)
        H = self.height_scale * relief
        h = H * (0.6 * base**1.6 + 1.1 * mountains * ridge**2)
        if self.height_scale > 0:  # height_scale 0 is exactly flat ground (sim tests rely on it)
            h += (0.25 + 0.6 * self.roughness) * _sample(self._bumps, x, z)
        h = self.water_level + LAND_LIFT + np.maximum(h, 0.0)
        t = self.spec.terrain
        if t.rivers:
            c = np.abs(self._river_value(x, z) - self._river_offset)
            valley = smoothstep(0.2, 0.035, c)
            bank = self.water_level + LAND_LIFT + 0.3
            h = h + (np.minimum(h, bank + 0.15 * (h - bank)) - h) * valley
            bed = smoothstep(0.042, 0.014, c)
            h = h + (self.water_level - 1.6 - h) * bed
        if t.lakes:
            lake = smoothstep(0.32, 0.58, _sample(self._lake, x, z))
            h = h + (self.water_level - 3.0 - h) * lake
        if t.ocean:
            coast = x + 60.0 * _sample(self._warp_z, 0.5 * x, 0.5 * z)
            sea = smoothstep(140.0, 330.0, coast)
            h = h + (self.water_level - 14.0 - h) * sea
        return h

    def normals_from_grid(self, h: np.ndarray, spacing: float) -> np.ndarray:
        """(R-2, C-2, 3) unit normals by central differences of a grid with a one-sample margin.

        h: (R, C) heights on a regular grid (rows along +z, columns along +x).
        """
        dhdx = (h[1:-1, 2:] - h[1:-1, :-2]) / (2 * spacing)
        dhdz = (h[2:, 1:-1] - h[:-2, 1:-1]) / (2 * spacing)
        n = np.stack([-dhdx, np.ones_like(dhdx), -dhdz], axis=-1)
        return n / np.linalg.norm(n, axis=-1, keepdims=True)

    def normal(self, x: np.ndarray, z: np.ndarray, *, eps: float = 0.25) -> np.ndarray:
        """(*shape, 3) unit ground normals at world (x, z) by central differences."""
        x = np.asarray(x, dtype=np.float64)
        z = np.asarray(z, dtype=np.float64)
        dhdx = (self.height(x + eps, z) - self.height(x - eps, z)) / (2 * eps)
        dhdz = (self.height(x, z + eps) - self.height(x, z - eps)) / (2 * eps)
        n = np.stack([-dhdx, np.ones_like(dhdx), -dhdz], axis=-1)
        return n / np.linalg.norm(n, axis=-1, keepdims=True)

    # --- colour -------------------------------------------------------------------------

    def albedo(
        self,
        x: np.ndarray,
        z: np.ndarray,
        h: np.ndarray,
        normal_y: np.ndarray,
        *,
        grain: float | np.ndarray = 0.08,
    ) -> np.ndarray:
        """(N, 3) float32 sRGB ground albedo for flat arrays x, z, heights h, normal y (N,).

        `grain` is the amplitude of the per-position brightness jitter (scalar or (N,)): dense
        surfels near the camera can carry more of it than sparse far ones (which would sparkle).
        """
        w = self.biome_weights(x, z)  # (B, N)

        def mix(attr: str) -> np.ndarray:
            cols = np.array([getattr(lk, attr) for lk in self._looks])  # (B, 3)
            return w.T @ cols

        tone = smoothstep(-0.35, 0.45, _sample(self._tone, x, z))[:, None]
        patch = _sample(self._patch, x, z)[:, None]
        c = mix("grass") * (1 - tone) + mix("grass_alt") * tone
        soil = smoothstep(0.45, 0.8, patch) * (0.3 + 0.5 * self.roughness)
        c = c * (1 - soil) + mix("soil") * soil
        # Fine brightness variation (noise + a per-position hash) breaks up the surfel grid.
        grain_amp = grain
        grain = hash_uniform(7, np.round(x * 8).astype(np.int64), np.round(z * 8).astype(np.int64))
        c *= 1.0 + 0.07 * patch + np.reshape(grain_amp, (-1, 1)) * (grain[:, None] - 0.5)
        rock = smoothstep(0.86, 0.68, normal_y)[:, None]
        c = c * (1 - rock) + mix("rock") * rock
        wl = self.water_level
        if self.has_water:
            sand = smoothstep(wl + LAND_LIFT + 0.9, wl + LAND_LIFT + 0.1, h)[:, None]
            c = c * (1 - sand) + mix("shore") * sand
            bed = smoothstep(wl, wl - 1.0, h)[:, None]
            c = c * (1 - bed) + np.array(RIVERBED) * bed
        snowline = self.snowline()
        snow = smoothstep(snowline, snowline + 8.0, h + 6.0 * patch[:, 0])[:, None]
        snow *= smoothstep(0.55, 0.75, normal_y)[:, None]
        c = c * (1 - snow) + np.array(SNOW) * snow
        return np.clip(c, 0.0, 1.0).astype(np.float32)

    def snowline(self) -> float:
        """Height above which ground turns white (lower in a snowy world)."""
        if self.spec.weather.kind == "snow" or "snow" in self.biomes:
            return self.water_level - 50.0
        if all(b in HOT_BIOMES for b in self.biomes):
            return self.water_level + 1e4
        return self.water_level + 38.0

    def water_color(self, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """((N, 3) sRGB albedo, (N,) opacity) of water of the given depth in metres."""
        swampy = "swamp" in self.biomes
        shallow = np.array((0.30, 0.42, 0.30) if swampy else (0.30, 0.62, 0.66))
        deep = np.array((0.12, 0.20, 0.14) if swampy else (0.08, 0.26, 0.42))
        t = smoothstep(0.0, 4.0, depth)[:, None]
        col = shallow * (1 - t) + deep * t
        opacity = 0.8 + 0.17 * t[:, 0]
        return col.astype(np.float32), opacity.astype(np.float32)


def heightfield_grid(
    height: Callable[[np.ndarray, np.ndarray], np.ndarray], bounds: np.ndarray, spacing: float
) -> tuple[np.ndarray, np.ndarray]:
    """A triangulated heightfield over bounds ((2, 2) [[x_min, z_min], [x_max, z_max]] metres):
    (V, 3) vertices on a `spacing` grid with y = height(x, z), and (F, 3) faces wound so their
    normals point up (+Y). Raises ValueError for empty or inverted bounds."""
    b = np.asarray(bounds, dtype=float)
    if b.shape != (2, 2) or (b[1] <= b[0]).any():
        raise ValueError(
            f"bounds {b.tolist()} must be [[x_min, z_min], [x_max, z_max]] with max > min."
        )
    xs = np.arange(b[0, 0], b[1, 0] + 1e-9, spacing)
    zs = np.arange(b[0, 1], b[1, 1] + 1e-9, spacing)
    gx, gz = np.meshgrid(xs, zs)
    verts = np.stack([gx.ravel(), height(gx, gz).ravel(), gz.ravel()], axis=1)
    nx = len(xs)
    i, j = np.meshgrid(np.arange(nx - 1), np.arange(len(zs) - 1))
    a = (j * nx + i).ravel()
    faces = np.concatenate(
        [np.stack([a, a + nx, a + 1], 1), np.stack([a + 1, a + nx, a + nx + 1], 1)]
    )
    return verts, faces
