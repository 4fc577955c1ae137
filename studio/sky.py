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

import numpy as np

from studio.camera import Camera
from studio.lighting import Lighting, grade, linear_to_srgb, srgb_to_linear
from studio.terrain import _noise, hash_uniform, smoothstep, stable_seed

_CLOUD_COVER = {"clear": 0.3, "cloudy": 0.7, "fog": 0.6, "rain": 0.9, "snow": 0.85, "storm": 1.0}


def pixel_rays(camera: Camera, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """((H, W, 3) unit world ray directions, (H, W) ray length per unit of optical-axis depth)."""
    K = camera.with_size(width, height).K()
    u = (np.arange(width, dtype=np.float32) + 0.5 - K[0, 2]) / K[0, 0]
    v = (np.arange(height, dtype=np.float32) + 0.5 - K[1, 2]) / K[1, 1]
    uu, vv = np.meshgrid(u, v)
    d_cam = np.stack([uu, vv, np.ones_like(uu)], axis=-1)  # OpenCV camera frame
    norm = np.linalg.norm(d_cam, axis=-1)
    R = camera.T_world_camera[:3, :3].astype(np.float32)
    d = (d_cam / norm[..., None]) @ R.T
    return d, norm


def sky_colors(
    dirs: np.ndarray, light: Lighting, *, seed: int = 0, weather: str = "clear", clouds: bool = True
) -> np.ndarray:
    """(..., 3) float32 sRGB sky seen along unit world directions `dirs` (..., 3)."""
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
) -> np.ndarray:
    """(H, W, 3) uint8 sRGB: splats rendered over black, fogged by depth, in front of the sky.

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
        sky[:r1] = _sky_lowres(dirs[:r1], light, seed=seed, weather=weather)
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
    fog_dirs = dirs[2::4, 2::4].copy()  # the haze colour varies slowly: quarter resolution
    fog_dirs[..., 1] = np.clip(fog_dirs[..., 1], 0.0, 0.05)
    fog_dirs /= np.linalg.norm(fog_dirs, axis=-1, keepdims=True)
    fog = _upsample(sky_colors(fog_dirs, light, seed=seed, weather=weather, clouds=False), H, W)
    a = alpha[..., None]
    f = f[..., None].astype(np.float32)
    out = c * (1 - f) + a * f * fog + (1 - a) * sky
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _sky_lowres(dirs: np.ndarray, light: Lighting, *, seed: int, weather: str) -> np.ndarray:
    """Sky at half resolution and clouds at quarter resolution, upsampled bilinearly."""
    H, W = dirs.shape[:2]
    small = dirs[2::4, 2::4]
    cl = sky_colors(small, light, seed=seed, weather=weather)
    nocl = sky_colors(small, light, seed=seed, weather=weather, clouds=False)
    cloud_delta = _upsample(cl - nocl, H, W)
    half = sky_colors(dirs[::2, ::2], light, seed=seed, weather=weather, clouds=False)
    return np.clip(_upsample(half, H, W) + cloud_delta, 0.0, 1.0)


def _upsample(img: np.ndarray, H: int, W: int) -> np.ndarray:
    """Bilinear resize of an (h, w, 3) float image to (H, W, 3) via Pillow's float mode."""
    from PIL import Image

    chans = [
        np.asarray(
            Image.fromarray(img[..., k].astype(np.float32), mode="F").resize((W, H), Image.BILINEAR)
        )
        for k in range(3)
    ]
    return np.stack(chans, axis=-1)


__all__ = ["composite", "pixel_rays", "sky_colors", "srgb_to_linear"]
