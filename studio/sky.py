"""Sky behind the splats and fog in front of them, per pixel.

The sky is a gradient from horizon to zenith with a glow around the sun, the sun or moon disc,
stars at night and a stylised cloud layer (pyfastnoiselite over a plane far overhead, sampled
at quarter resolution). `composite` puts a frame rendered over black (premultiplied colour)
in front of that sky and applies distance + height fog per pixel from the renderer's depth.
Fog is done per pixel rather than per Gaussian so that it uses the same sky colour the
background shows at each pixel (the sun's glow bleeds into the haze at dusk) and fades the far
edge of the chunks into the horizon exactly.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np
from numba import njit, prange

from studio.camera import Camera
from studio.lighting import Lighting, grade, grade_one, grade_terms, linear_to_srgb, srgb_to_linear
from studio.render.cpu import parallel_launch
from studio.terrain import _noise, hash_uniform, smoothstep, stable_seed

_CLOUD_COVER = {"clear": 0.3, "cloudy": 0.7, "fog": 0.6, "rain": 0.9, "snow": 0.85, "storm": 1.0}


def _camera_rays(K: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """((H, W, 3) float32 unit rays in the OpenCV camera frame, (H, W) float32 their length
    per unit of optical-axis depth) for intrinsics K (3, 3)."""
    u = (np.arange(width, dtype=np.float32) + 0.5 - K[0, 2]) / K[0, 0]
    v = (np.arange(height, dtype=np.float32) + 0.5 - K[1, 2]) / K[1, 1]
    uu, vv = np.meshgrid(u, v)
    d_cam = np.stack([uu, vv, np.ones_like(uu)], axis=-1)  # OpenCV camera frame
    norm = np.linalg.norm(d_cam, axis=-1).astype(np.float32)
    unit = (d_cam / norm[..., None]).astype(np.float32)
    unit.setflags(write=False)
    norm.setflags(write=False)
    return unit, norm


def pixel_rays(
    camera: Camera, width: int, height: int, *, cache: SkyCache | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """((H, W, 3) unit world ray directions, (H, W) ray length per unit of optical-axis depth).

    With a `cache` the camera-frame rays are reused for the same intrinsics and size, so
    only the rotation is done per call (the result is identical either way).
    """
    K = camera.with_size(width, height).K()
    if cache is None:
        unit, norm = _camera_rays(K, width, height)
    else:
        unit, norm = cache.camera_rays(K, width, height)
    R = camera.T_world_camera[:3, :3].astype(np.float32)
    return unit @ R.T, norm


def sky_colors(
    dirs: np.ndarray, light: Lighting, *, seed: int = 0, weather: str = "clear", clouds: bool = True
) -> np.ndarray:
    """(..., 3) float32 sRGB sky seen along unit world directions `dirs` (..., 3).

    One fused numba pass per direction (`_sky_kernel`), within float32 rounding of
    `sky_colors_reference`; the cloud deck (noise from pyfastnoiselite) is added in numpy.
    """
    shape = dirs.shape
    flat = np.ascontiguousarray(dirs, np.float32).reshape(-1, 3)
    gain, sat, contrast = grade_terms(light.palette)
    sun = np.asarray(light.sun_dir, np.float64)
    sun_up = float(smoothstep(-0.12, 0.05, sun[1])) * (1 - light.overcast)
    warm = np.array([1.0, 0.62, 0.35]) if sun[1] < 0.3 else np.array([1.0, 0.93, 0.8])
    out = np.empty((len(flat), 3), np.float32)
    with parallel_launch():
        _sky_kernel(
            flat, np.asarray(light.horizon, np.float64), np.asarray(light.zenith, np.float64),
            sun, sun_up, warm, np.asarray(light.moon_dir, np.float64), float(light.night),
            float(light.overcast), _star_h0(seed), gain, sat, contrast, not clouds, out,
        )  # fmt: skip
    if clouds:  # the deck goes over the ungraded sky; grade after
        col = _clouds(flat.astype(np.float64), out.astype(np.float64), light, seed=seed,
                      cover=_CLOUD_COVER[weather])  # fmt: skip
        out = grade(np.clip(col, 0.0, 1.0), light.palette).astype(np.float32)
    return out.reshape(shape)


def _star_h0(seed: int) -> np.uint64:
    """`hash_uniform`'s starting state for seed and the star salt (17)."""
    return np.uint64(seed) ^ np.uint64((17 * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)


@njit(inline="always")
def _smooth(e0, e1, x):
    """`studio.terrain.smoothstep` for one value."""
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@njit(parallel=True, cache=True, nogil=True)
def _sky_kernel(dirs, horizon, zenith, sun, sun_up, warm, moon_dir, night, overcast, star_h0,
                gain, sat, contrast, graded, out):  # fmt: skip
    """The sky colour of each direction (N, 3): `sky_colors_reference` without clouds, graded
    when `graded` (left as it is otherwise, for the cloud deck to go over).
    star_h0 is `hash_uniform`'s starting state for the star cells (its seed and salt 17)."""
    for k in prange(dirs.shape[0]):
        dx, dy, dz = np.float64(dirs[k, 0]), np.float64(dirs[k, 1]), np.float64(dirs[k, 2])
        t = min(max(dy, 0.0), 1.0) ** 0.55
        dim = 1.0 - 0.25 * min(max(-dy * 4.0, 0.0), 1.0)
        cs = dx * sun[0] + dy * sun[1] + dz * sun[2]
        glow = (0.45 * math.exp((cs - 1.0) * 6.0) + 0.35 * math.exp((cs - 1.0) * 60.0)) * sun_up
        disc = _smooth(0.99965, 0.99985, cs) * sun_up * (1.0 if dy > -0.01 else 0.0)
        c0 = _sky_channel(horizon[0], zenith[0], t, dim, glow, warm[0], disc, 1.0)
        c1 = _sky_channel(horizon[1], zenith[1], t, dim, glow, warm[1], disc, 0.97)
        c2 = _sky_channel(horizon[2], zenith[2], t, dim, glow, warm[2], disc, 0.88)
        if night > 0:
            m = dx * moon_dir[0] + dy * moon_dir[1] + dz * moon_dir[2]
            moon = _smooth(0.99975, 0.99988, m) * night * (1.0 - overcast)
            halo = 0.25 * math.exp((m - 1.0) * 40.0) * night
            # Star cells: floor of the float32 direction * 700, hashed like `hash_uniform`.
            qx = np.int64(math.floor(np.float32(dx * 700.0)))
            qy = np.int64(math.floor(np.float32(dy * 700.0)))
            qz = np.int64(math.floor(np.float32(dz * 700.0)))
            h = star_h0 + np.uint64(qx * 7919 + qz) * np.uint64(0xBF58476D1CE4E5B9)
            h = h + np.uint64(qy) * np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
            star = np.float64(h >> np.uint64(11)) / 9007199254740992.0  # / 2**53
            bright = _smooth(0.9975, 0.9999, star) * night * (1.0 - overcast)
            bright *= _smooth(0.0, 0.15, dy) * 0.9
            c0 = (c0 + halo * 0.5) * (1.0 - moon) + moon * 0.92 + bright
            c1 = (c1 + halo * 0.6) * (1.0 - moon) + moon * 0.93 + bright
            c2 = (c2 + halo * 0.8) * (1.0 - moon) + moon * 0.88 + bright
        if graded:  # `studio.lighting.grade` of the clipped colour
            c0, c1, c2 = min(max(c0, 0.0), 1.0), min(max(c1, 0.0), 1.0), min(max(c2, 0.0), 1.0)
            c0, c1, c2 = grade_one(c0, c1, c2, gain, sat, contrast)
        out[k, 0] = c0
        out[k, 1] = c1
        out[k, 2] = c2


@njit(inline="always")
def _sky_channel(horizon, zenith, t, dim, glow, warm, disc, disc_c):
    """One channel of the day sky: gradient, dimmed below the horizon, sun glow and disc."""
    v = (horizon * (1.0 - t) + zenith * t) * dim
    v = v + glow * warm * (1.0 - v)
    return v * (1.0 - disc) + disc * disc_c


def sky_colors_reference(
    dirs: np.ndarray, light: Lighting, *, seed: int = 0, weather: str = "clear", clouds: bool = True
) -> np.ndarray:
    """`sky_colors` in plain numpy, the definition the fast path is tested against (and what
    `composite_reference` draws)."""
    y = dirs[..., 1]
    t = np.clip(y, 0.0, 1.0) ** 0.55
    col = light.horizon * (1 - t[..., None]) + light.zenith * t[..., None]
    below = np.clip(-y * 4.0, 0.0, 1.0)[..., None]
    col = col * (1 - 0.25 * below)
    # Glow around the sun (broad, warm at low sun) and the disc itself.
    sun = light.sun_dir
    cs = dirs @ sun
    sun_up = smoothstep(-0.12, 0.05, sun[1]) * (1 - light.overcast)
    warm = np.array([1.0, 0.62, 0.35]) if sun[1] < 0.3 else np.array([1.0, 0.93, 0.8])
    glow = (0.45 * np.exp((cs - 1) * 6.0) + 0.35 * np.exp((cs - 1) * 60.0)) * sun_up
    col = col + glow[..., None] * warm * (1 - col)
    disc = smoothstep(0.99965, 0.99985, cs) * sun_up * (y > -0.01)
    col = col * (1 - disc[..., None]) + disc[..., None] * np.array([1.0, 0.97, 0.88])
    if light.night > 0:
        m = dirs @ light.moon_dir
        moon = smoothstep(0.99975, 0.99988, m) * light.night * (1 - light.overcast)
        col = col + 0.25 * np.exp((m - 1) * 40.0)[..., None] * light.night * np.array(
            [0.5, 0.6, 0.8]
        )
        col = col * (1 - moon[..., None]) + moon[..., None] * np.array([0.92, 0.93, 0.88])
        q = np.floor(dirs * 700.0).astype(np.int64)
        star = hash_uniform(seed, q[..., 0] * 7919 + q[..., 2], q[..., 1], 17)
        bright = smoothstep(0.9975, 0.9999, star) * light.night * (1 - light.overcast)
        col = col + (bright * smoothstep(0.0, 0.15, y))[..., None] * 0.9
    if clouds:
        col = _clouds(dirs, col, light, seed=seed, cover=_CLOUD_COVER[weather])
    return grade(np.clip(col, 0.0, 1.0), light.palette).astype(np.float32)


def _clouds(dirs: np.ndarray, col: np.ndarray, light: Lighting, *, seed: int, cover: float):
    """Blend a stylised cloud deck into sky colours `col` for upward `dirs`."""
    y = dirs[..., 1]
    up = y > 0.01
    if not up.any():
        return col
    noise = _noise(stable_seed("clouds", seed, bits=31), 1 / 2600.0, octaves=4)
    d = dirs[up]
    px = d[:, 0] / (d[:, 1] + 0.08) * 1500.0
    pz = d[:, 2] / (d[:, 1] + 0.08) * 1500.0
    n = noise.gen_from_coords(np.stack([px, pz]).astype(np.float32)).astype(np.float64)
    density = smoothstep(0.45 - 0.8 * cover, 0.95 - 0.6 * cover, n) * 0.9
    density *= smoothstep(0.01, 0.12, d[:, 1])  # thin out towards the horizon haze
    lit = 0.5 + 0.5 * np.clip(d @ light.sun_dir, -1.0, 1.0)
    sun_tint = linear_to_srgb(np.clip(light.key_color / max(light.key_color.max(), 1e-3), 0, 1))
    base = 0.55 * light.horizon + 0.45 * np.array([0.9, 0.9, 0.92]) * (1 - light.night * 0.85)
    shade_col = base * (0.65 + 0.35 * (1 - light.overcast))
    bright = base * (1 - light.overcast) * 0.25 + sun_tint * 0.3 * (1 - light.night)
    c = shade_col[None, :] + lit[:, None] * bright[None, :]
    c = c * (1 - 0.45 * light.overcast * smoothstep(0.3, 1.0, n))[:, None]
    out = col.copy()
    out[up] = col[up] * (1 - density[:, None]) + np.clip(c, 0, 1) * density[:, None]
    return out


def composite_reference(
    rgb_premult: np.ndarray,
    alpha: np.ndarray,
    depth: np.ndarray,
    camera: Camera,
    light: Lighting,
    *,
    seed: int = 0,
    weather: str = "clear",
    fog_base_height: float = 0.0,
    fade_start: float = 320.0,
    fade_end: float = 520.0,
) -> np.ndarray:
    """The plain numpy `composite` (float64, full resolution, nothing cached): the reference.

    Slow (~200 ms at 1280x720); kept as the truth the fast path is tested against.
    rgb_premult (H, W, 3) uint8 or float in [0, 1]; alpha, depth (H, W) from `Frame`.
    Fog thickens towards `fog_base_height` (valley mist) and reaches the horizon colour at
    `fade_end` metres so the edge of the generated world melts into the sky.
    """
    H, W = alpha.shape
    c = np.asarray(rgb_premult, dtype=np.float32)
    if c.dtype != np.float32 or c.max() > 1.0:
        c = c / 255.0
    dirs, ray_len = pixel_rays(camera, W, H)
    # The sky only where splats leave it showing: rows below the last such row are skipped.
    open_rows = np.flatnonzero((alpha < 0.998).any(axis=1))
    sky = np.zeros((H, W, 3), np.float32)
    if len(open_rows):
        r1 = min(H, (int(open_rows[-1]) // 4 + 2) * 4)
        rows = dirs[:r1]
        sky[:r1] = _sky_lowres(
            rows[::2, ::2], rows[2::4, 2::4], r1, W, light, seed=seed, weather=weather,
            colors=sky_colors_reference,
        )  # fmt: skip
    dist = depth * ray_len
    # Height fog integrated along the ray: density falls off exponentially with height.
    hf = 22.0
    y0 = camera.position[1] - fog_base_height
    dy = np.maximum(np.abs(dirs[..., 1] * dist), 1e-3)
    k = dy / hf
    with np.errstate(over="ignore"):
        height_term = np.exp(-np.clip(y0 / hf, -4, 60)) * np.where(
            dirs[..., 1] < 0, (np.expm1(np.minimum(k, 40))) / k, (-np.expm1(-k)) / k
        )
    mist = np.clip(height_term, 0.0, 4.0)
    optical = light.fog_density * dist * (0.35 + 0.65 * mist)
    f = 1.0 - np.exp(-optical)
    f = np.maximum(f, smoothstep(fade_start, fade_end, dist))
    fog = _haze(
        dirs[2::4, 2::4], H, W, light, seed=seed, weather=weather, colors=sky_colors_reference
    )
    a = alpha[..., None]
    f = f[..., None].astype(np.float32)
    out = c * (1 - f) + a * f * fog + (1 - a) * sky
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class SkyCache:
    """Bounded memo for `composite`, owned by one World (or view): camera-frame rays per
    (intrinsics, size) and the sky and haze images per view.

    The sky and haze images depend only on the camera rotation, intrinsics, image size, the
    last row where sky shows, the lighting, seed and weather, so a camera that only moves
    (or a still camera) reuses them. Entries are immutable (read-only arrays); at most
    `entries` of each kind are kept, least recently used dropped first (one sky entry is
    about 22 MB at 1280x720). Safe to share between threads.
    """

    def __init__(self, *, entries: int = 2) -> None:
        if entries < 1:
            raise ValueError(f"SkyCache entries={entries} must be at least 1")
        self.entries = int(entries)
        self._rays: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._layers: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def camera_rays(self, K: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """`_camera_rays` for K (3, 3), memoised on its exact values and the size."""
        key = (np.asarray(K, np.float64).tobytes(), int(width), int(height))
        with self._lock:
            hit = self._rays.get(key)
            if hit is not None:
                self._rays.move_to_end(key)
                return hit
        hit = _camera_rays(K, width, height)
        with self._lock:
            _put(self._rays, key, hit, self.entries)
        return hit

    def _get_layers(self, key: tuple) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            hit = self._layers.get(key)
            if hit is None:
                self.misses += 1
            else:
                self._layers.move_to_end(key)
                self.hits += 1
            return hit

    def _put_layers(self, key: tuple, value: tuple[np.ndarray, np.ndarray]) -> None:
        with self._lock:
            _put(self._layers, key, value, self.entries)

    def clear(self) -> None:
        with self._lock:
            self._rays.clear()
            self._layers.clear()


def _put(memo: OrderedDict, key: tuple, value, entries: int) -> None:
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > entries:
        memo.popitem(last=False)


def _light_key(light: Lighting) -> tuple:
    """Everything of `light` that the sky and haze colours read, as a hashable key."""
    arrays = (light.sun_dir, light.moon_dir, light.key_color, light.zenith, light.horizon)
    return (
        tuple(np.asarray(a, np.float64).tobytes() for a in arrays),
        float(light.overcast),
        float(light.night),
        repr(light.palette),
    )


def sky_layers(
    camera: Camera,
    width: int,
    height: int,
    light: Lighting,
    *,
    sky_rows: int,
    seed: int = 0,
    weather: str = "clear",
    cache: SkyCache | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """((H, W, 3) float32 sky, (H, W, 3) float32 haze colour) for `camera` at width x height.

    The sky is drawn in rows [0, sky_rows) and zero below (where splats cover it); the haze
    is the horizon-ward sky colour fog fades to at each pixel. With a `cache`, the result
    for the same view, sky_rows, lighting, seed and weather is returned again (read-only).
    """
    H, W = int(height), int(width)
    if not 0 <= sky_rows <= H:
        raise ValueError(f"sky_rows={sky_rows} must lie in [0, {H}] (the image height)")
    key = None
    if cache is not None:
        cam = camera.with_size(W, H)
        key = (
            camera.T_world_camera[:3, :3].astype(np.float32).tobytes(),
            np.asarray(cam.K(), np.float64).tobytes(),
            W,
            H,
            int(sky_rows),
            _light_key(light),
            int(seed),
            str(weather),
        )
        hit = cache._get_layers(key)
        if hit is not None:
            return hit
    # Only the half- and quarter-resolution rays are ever looked at: rotate just those.
    rays = cache if cache is not None else SkyCache(entries=1)
    unit, _ = rays.camera_rays(camera.with_size(W, H).K(), W, H)
    R_t = camera.T_world_camera[:3, :3].astype(np.float32).T
    sky = np.zeros((H, W, 3), np.float32)
    if sky_rows:
        rows = unit[:sky_rows]
        sky[:sky_rows] = _sky_lowres(
            rows[::2, ::2] @ R_t, rows[2::4, 2::4] @ R_t, sky_rows, W, light, seed=seed,
            weather=weather,
        )  # fmt: skip
    fog = _haze(unit[2::4, 2::4] @ R_t, H, W, light, seed=seed, weather=weather)
    sky.setflags(write=False)
    fog.setflags(write=False)
    if cache is not None:
        cache._put_layers(key, (sky, fog))
    return sky, fog


def _sky_rows(alpha: np.ndarray) -> int:
    """Rows [0, r) hold every pixel where the sky shows through (alpha < 0.998), padded to
    the quarter-resolution grid; 0 when splats cover the whole frame."""
    H = alpha.shape[0]
    open_rows = np.flatnonzero((alpha < 0.998).any(axis=1))
    return min(H, (int(open_rows[-1]) // 4 + 2) * 4) if len(open_rows) else 0


_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)
_FOG_MATH = {"contract", "nsz", "arcp"}
"""Fast-math flags of the fog kernel: no "nnan"/"ninf" (clamps must hold), no reassociation, so
every pixel's arithmetic is fixed and frames are the same byte for byte for any thread count."""


@njit(inline="always", fastmath=_FOG_MATH)
def _exp32(x):
    """exp(x) for x in [-40, 40] to ~2e-5 relative: a Taylor polynomial of exp(x/256), squared
    eight times. Pure arithmetic, so the pixel loop around it vectorises (libm's exp does not:
    it was 80% of the composite)."""
    y = x * np.float32(1.0 / 256.0)
    p = np.float32(1.0 / 720.0)
    p = p * y + np.float32(1.0 / 120.0)
    p = p * y + np.float32(1.0 / 24.0)
    p = p * y + np.float32(1.0 / 6.0)
    p = p * y + np.float32(0.5)
    p = p * y + _ONE
    p = p * y + _ONE
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@njit(parallel=True, fastmath=_FOG_MATH, cache=True, nogil=True)
def _fog_composite(c, scale, alpha, depth, unit, ray_len, ry, sky, fog, y0, density, f0, f1, out):
    """out (H, W, 3) uint8 = c*scale*(1-f) + alpha*f*fog + (1-alpha)*sky, f the fog amount.

    c (H, W, 3) colour premultiplied by alpha; unit (H, W, 3) camera-frame unit rays;
    ry (3,) the world-up row of the camera rotation (so ry . unit is the ray's world y).
    float32 and branch-free per pixel (both sides of each choice are computed), with flat
    arrays and unsigned indices, so each row's loops compile to SIMD. Constants stay literal
    inside the loops: one hoisted into a variable outside `prange` became a value loaded
    from the worker's closure and the loops stopped vectorising (0.6 -> 3.3 ms).
    """
    H, W = alpha.shape
    rhf = np.float32(1.0 / 22.0)  # fog density falls by e every 22 m of height
    e = np.float32(math.exp(-min(max(y0 / 22.0, -4.0), 60.0)))
    ry0, ry1, ry2 = np.float32(ry[0]), np.float32(ry[1]), np.float32(ry[2])
    dens, sc = np.float32(density), np.float32(scale)
    ff0, rfade = np.float32(f0), np.float32(1.0 / (f1 - f0))
    c_f, al_f, d_f = c.reshape(-1), alpha.reshape(-1), depth.reshape(-1)
    u_f, rl_f, out_f = unit.reshape(-1), ray_len.reshape(-1), out.reshape(-1)
    sky_f, fog_f = sky.reshape(-1), fog.reshape(-1)
    for i in prange(H):
        f_row = np.empty(W, np.float32)
        r0 = np.uint64(i * W)
        for j in range(W):
            p = r0 + np.uint64(j)
            dist = d_f[p] * rl_f[p]
            p3 = np.uint64(3) * p
            dyv = u_f[p3] * ry0 + u_f[p3 + np.uint64(1)] * ry1 + u_f[p3 + np.uint64(2)] * ry2
            # Height fog integrated along the ray: e * expm1(s) / s with s = -+ the height
            # change over 22 m (clamped at 40 as the reference does), a series near 0.
            k = max(abs(dyv * dist), np.float32(1e-3)) * rhf
            kc = min(k, np.float32(40.0))
            s = kc if dyv < _ZERO else -kc
            series = s * (
                _ONE + s * (np.float32(0.5) + s * (np.float32(1.0 / 6.0)
                + s * (np.float32(1.0 / 24.0) + s * np.float32(1.0 / 120.0))))
            )  # fmt: skip
            exact = _exp32(s) - _ONE
            em1 = series if kc < np.float32(0.1) else exact
            mist = min(max(e * (em1 / s) * (kc / k), _ZERO), np.float32(4.0))
            optical = dens * dist * (np.float32(0.35) + np.float32(0.65) * mist)
            f = _ONE - _exp32(-min(optical, np.float32(40.0)))
            t = min(max((dist - ff0) * rfade, _ZERO), _ONE)
            f_row[j] = max(f, t * t * (np.float32(3.0) - np.float32(2.0) * t))
        for j in range(W):
            p = r0 + np.uint64(j)
            f = f_row[j]
            a = al_f[p]
            w_c, w_fog, w_sky = sc * (_ONE - f), a * f, _ONE - a
            for ch in range(3):
                q = np.uint64(3) * p + np.uint64(ch)
                v = np.float32(c_f[q]) * w_c + w_fog * fog_f[q] + w_sky * sky_f[q]
                out_f[q] = np.uint8(
                    np.int32(min(max(v, _ZERO), _ONE) * np.float32(255.0) + np.float32(0.5))
                )


def composite(
    rgb_premult: np.ndarray,
    alpha: np.ndarray,
    depth: np.ndarray,
    camera: Camera,
    light: Lighting,
    *,
    seed: int = 0,
    weather: str = "clear",
    fog_base_height: float = 0.0,
    fade_start: float = 320.0,
    fade_end: float = 520.0,
    cache: SkyCache | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 sRGB: splats rendered over black, fogged by depth, in front of the sky.

    rgb_premult (H, W, 3) uint8 or float in [0, 1]; alpha, depth (H, W) from `Frame`.
    Fog thickens towards `fog_base_height` (valley mist) and reaches the horizon colour at
    `fade_end` metres so the edge of the generated world melts into the sky. Pass the
    World's `SkyCache` as `cache` to reuse rays and sky images between frames; the output is
    the same with or without it, and within 1/255 of `composite_reference`.
    """
    H, W = alpha.shape
    if rgb_premult.shape != (H, W, 3) or depth.shape != (H, W):
        raise ValueError(
            f"rgb_premult {rgb_premult.shape} and depth {depth.shape} must be (H, W, 3) and "
            f"(H, W) for alpha {alpha.shape}: pass one Frame's arrays"
        )
    if fade_end <= fade_start:
        raise ValueError(f"fade_end={fade_end} must be greater than fade_start={fade_start}")
    cam = camera.with_size(W, H)
    if cache is None:  # one call: the memo only saves computing the rays twice
        cache = SkyCache(entries=1)
    c = np.ascontiguousarray(rgb_premult)
    if c.dtype == np.uint8:
        scale = 1.0 / 255.0
    else:
        c = c.astype(np.float32, copy=False)
        scale = 1.0 / 255.0 if c.max() > 1.0 else 1.0
    sky, fog = sky_layers(
        camera, W, H, light, sky_rows=_sky_rows(alpha), seed=seed, weather=weather, cache=cache
    )
    K = cam.K()
    unit, ray_len = cache.camera_rays(K, W, H)
    ry = np.ascontiguousarray(camera.T_world_camera[1, :3], np.float64)
    out = np.empty((H, W, 3), np.uint8)
    with parallel_launch():
        _fog_composite(
            c, scale, np.ascontiguousarray(alpha, np.float32),
            np.ascontiguousarray(depth, np.float32), unit, ray_len, ry, sky, fog,
            float(camera.position[1] - fog_base_height), float(light.fog_density),
            float(fade_start), float(fade_end), out,
        )  # fmt: skip
    return out


def _sky_lowres(
    half: np.ndarray, quarter: np.ndarray, H: int, W: int, light: Lighting, *, seed: int,
    weather: str, colors=sky_colors,
) -> np.ndarray:  # fmt: skip
    """(H, W, 3) sky: drawn along the half-resolution rays `half` (the image's [::2, ::2]),
    clouds along the quarter-resolution rays `quarter` ([2::4, 2::4]), upsampled bilinearly.
    `colors` is `sky_colors`, or `sky_colors_reference` for `composite_reference`."""
    clouds = colors(quarter, light, seed=seed, weather=weather)
    clouds -= colors(quarter, light, seed=seed, weather=weather, clouds=False)
    up = _upsample(colors(half, light, seed=seed, weather=weather, clouds=False), H, W)
    up += _upsample(clouds, H, W)
    return np.clip(up, 0.0, 1.0, out=up)


def _haze(
    quarter: np.ndarray, H: int, W: int, light: Lighting, *, seed: int, weather: str,
    colors=sky_colors,
) -> np.ndarray:  # fmt: skip
    """(H, W, 3) float32 colour fog fades to: the horizon-ward sky along the quarter-resolution
    rays (the haze varies slowly), upsampled bilinearly."""
    d = quarter.copy()
    d[..., 1] = np.clip(d[..., 1], 0.0, 0.05)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    fog = _upsample(colors(d, light, seed=seed, weather=weather, clouds=False), H, W)
    return np.ascontiguousarray(fog, np.float32)


def _upsample(img: np.ndarray, H: int, W: int) -> np.ndarray:
    """Bilinear resize of an (h, w, 3) float image to (H, W, 3) float32: pixel centres aligned,
    edges clamped (what Pillow's BILINEAR does when enlarging; tested against it)."""
    h, w = img.shape[:2]
    out = np.empty((H, W, 3), np.float32)
    with parallel_launch():
        _bilinear_up(np.ascontiguousarray(img, np.float32), h / H, w / W, out)
    return out


@njit(parallel=True, fastmath=False, cache=True, nogil=True)
def _bilinear_up(img, sy, sx, out):
    """out (H, W, 3) = img (h, w, 3) resized bilinearly (`_upsample`). The source columns and
    weights are worked out once per column; indices are flat and unsigned (no wrap checks)."""
    h, w = img.shape[0], img.shape[1]
    H, W = out.shape[0], out.shape[1]
    x0s = np.empty(W, np.uint64)
    x1s = np.empty(W, np.uint64)
    fxs = np.empty(W, np.float64)
    for j in range(W):
        x = min(max((j + 0.5) * sx - 0.5, 0.0), w - 1.0)
        x0 = int(x)
        x0s[j] = 3 * x0
        x1s[j] = 3 * min(x0 + 1, w - 1)
        fxs[j] = x - x0
    img_f = img.reshape(-1)
    out_f = out.reshape(-1)
    for i in prange(H):
        y = min(max((i + 0.5) * sy - 0.5, 0.0), h - 1.0)
        y0 = int(y)
        r0 = np.uint64(3 * w * y0)
        r1 = np.uint64(3 * w * min(y0 + 1, h - 1))
        fy = y - y0
        o = np.uint64(3 * W * i)
        for j in range(W):
            fx = fxs[j]
            a0, a1 = r0 + x0s[j], r0 + x1s[j]
            b0, b1 = r1 + x0s[j], r1 + x1s[j]
            for c in range(3):
                cc = np.uint64(c)
                top = img_f[a0 + cc] * (1.0 - fx) + img_f[a1 + cc] * fx
                bot = img_f[b0 + cc] * (1.0 - fx) + img_f[b1 + cc] * fx
                out_f[o + np.uint64(3 * j) + cc] = top * (1.0 - fy) + bot * fy


__all__ = [
    "SkyCache",
    "composite",
    "composite_reference",
    "pixel_rays",
    "sky_colors",
    "sky_colors_reference",
    "sky_layers",
    "srgb_to_linear",
]
