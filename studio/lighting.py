"""Light that matches the hour and the weather: sun/moon direction, sky and ambient colours, shading.

Surfels keep their unlit albedo and normal; `shade` turns them into lit sRGB colours for one
`Lighting`, so changing the hour re-lights a world without regenerating geometry. Shading is
Lambert from the key light (sun by day, moon by night) times a heightfield shadow, plus a
hemisphere sky/ground ambient times baked occlusion, computed in linear light and graded by
the spec's palette mood. Sun position follows the standard solar-elevation formula
(latitude, declination, hour angle 15°/h); world axes: east = +X, north = -Z, up = +Y.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from studio.spec import Palette, WeatherSpec

LATITUDE = 45.0
"""Degrees north the default world sits at."""
DECLINATION = 23.0
"""Solar declination in degrees (midsummer: sunset near 19:40, so "dusk" and "sunset" hours
from the text pipeline, 18:30-19:30, show a low golden sun rather than twilight)."""


def sun_direction(
    hour: float, *, latitude: float = LATITUDE, declination: float = DECLINATION
) -> np.ndarray:
    """(3,) unit vector from the ground towards the sun at local solar `hour` (may point down)."""
    phi, dec = np.radians(latitude), np.radians(declination)
    H = np.radians(15.0 * (hour - 12.0))
    # Local east-north-up components of the direction to the sun.
    up = np.sin(phi) * np.sin(dec) + np.cos(phi) * np.cos(dec) * np.cos(H)
    east = -np.cos(dec) * np.sin(H)
    north = np.cos(phi) * np.sin(dec) - np.sin(phi) * np.cos(dec) * np.cos(H)
    d = np.array([east, up, -north])
    return d / np.linalg.norm(d)


def sun_elevation(hour: float, **kw: float) -> float:
    """Degrees of the sun above the horizon at `hour` (negative below)."""
    return float(np.degrees(np.arcsin(sun_direction(hour, **kw)[1])))


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


# Sky and light keyframes over sun elevation (degrees), sRGB; interpolated linearly.
_ELEV = np.array([-18.0, -8.0, -2.0, 3.0, 12.0, 30.0])
_ZENITH = np.array(
    [(0.03, 0.045, 0.11), (0.08, 0.11, 0.26), (0.20, 0.26, 0.50), (0.28, 0.40, 0.70),
     (0.30, 0.52, 0.86), (0.26, 0.52, 0.90)])  # fmt: skip
_HORIZON = np.array(
    [(0.04, 0.06, 0.12), (0.32, 0.28, 0.42), (0.92, 0.52, 0.36), (1.0, 0.66, 0.40),
     (0.96, 0.85, 0.70), (0.74, 0.86, 0.96)])  # fmt: skip
_SUN = np.array(
    [(0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (1.0, 0.52, 0.26),
     (1.0, 0.80, 0.58), (1.0, 0.96, 0.90)])  # fmt: skip
_SUN_I = np.array([0.0, 0.0, 0.0, 1.5, 2.2, 2.6])
_AMB_I = np.array([0.17, 0.26, 0.42, 0.55, 0.68, 0.75])

_OVERCAST = {"clear": 0.0, "cloudy": 0.6, "fog": 0.45, "rain": 0.85, "snow": 0.8, "storm": 0.95}

# Palette moods: (sRGB multiplier, saturation, contrast).
MOODS: dict[str, tuple[tuple[float, float, float], float, float]] = {
    "neutral": ((1.0, 1.0, 1.0), 1.05, 1.0),
    "warm": ((1.06, 1.0, 0.90), 1.1, 1.0),
    "cool": ((0.92, 0.98, 1.08), 0.95, 1.0),
    "golden": ((1.10, 1.0, 0.82), 1.15, 1.03),
    "eerie": ((0.88, 1.02, 0.94), 0.7, 1.08),
    "cosy": ((1.08, 0.98, 0.88), 1.1, 0.97),
    "vivid": ((1.0, 1.0, 1.0), 1.35, 1.06),
    "muted": ((1.0, 1.0, 1.0), 0.7, 0.94),
    "dark": ((0.85, 0.88, 0.95), 0.85, 1.1),
}


def _lerp_key(table: np.ndarray, e: float) -> np.ndarray:
    if table.ndim == 1:
        return np.array(np.interp(e, _ELEV, table))
    return np.stack([np.interp(e, _ELEV, table[:, k]) for k in range(table.shape[1])])


@dataclass(frozen=True)
class Lighting:
    """Everything shading, sky and fog need for one hour and weather (colours sRGB)."""

    hour: float
    sun_dir: np.ndarray  # (3,) towards the sun (may be below the horizon)
    moon_dir: np.ndarray  # (3,) towards the moon
    key_dir: np.ndarray  # (3,) the light that casts shadows: sun by day, moon by night
    key_color: np.ndarray  # (3,) linear radiance multiplier of the key light
    sky_ambient: np.ndarray  # (3,) linear ambient from above
    ground_ambient: np.ndarray  # (3,) linear ambient bounced from below
    zenith: np.ndarray  # (3,) sRGB sky straight up
    horizon: np.ndarray  # (3,) sRGB sky at the horizon (also the fog colour)
    overcast: float  # 0 clear .. 1 storm
    fog_density: float  # 1/m, extinction for distance fog
    night: float  # 0 day .. 1 full night (stars, moon)
    palette: Palette

    @property
    def sun_elevation(self) -> float:
        return float(np.degrees(np.arcsin(self.sun_dir[1])))


def lighting_for(hour: float, weather: WeatherSpec, palette: Palette) -> Lighting:
    """The light of a world at `hour` under `weather`, graded for `palette`."""
    sun = sun_direction(hour)
    moon = sun_direction(hour + 12.0)
    e = float(np.degrees(np.arcsin(sun[1])))
    oc = _OVERCAST[weather.kind]
    if weather.kind == "fog":  # thicker fog, greyer sky
        oc = min(oc + 0.5 * weather.fog_density, 0.9)
    night = float(np.clip((-e - 2.0) / 10.0, 0.0, 1.0))
    zenith = _lerp_key(_ZENITH, e)
    horizon = _lerp_key(_HORIZON, e)
    grey = np.array([0.62, 0.65, 0.68]) * np.clip(0.25 + (e + 8) / 25, 0.08, 1.0)
    zenith = zenith * (1 - oc) + grey * 0.85 * oc
    horizon = horizon * (1 - oc) + grey * oc
    sun_col = srgb_to_linear(_lerp_key(_SUN, e)) * float(_lerp_key(_SUN_I, e))
    amb_i = float(_lerp_key(_AMB_I, e))
    sky_amb = (
        srgb_to_linear(0.5 * zenith + 0.5 * horizon)
        * amb_i
        / max(float(srgb_to_linear(0.5 * zenith + 0.5 * horizon).mean()), 1e-3)
        * 0.35
    )
    if night > 0:  # the moon takes over as a cool, dim key light
        moon_col = np.array([0.32, 0.40, 0.62]) * 0.7 * night * float(moon[1] > 0)
        sun_col = sun_col * (1 - night) + moon_col
    key = sun if e > -2.0 else moon
    sun_col = sun_col * (1 - 0.9 * oc)
    sky_amb = sky_amb * (1 + 0.6 * oc)
    ground = np.array([0.45, 0.40, 0.32]) * float(sky_amb.mean()) * 0.6
    fog = 1 / 900 + 1 / 40 * weather.fog_density**1.5
    fog += {"fog": 1 / 60, "rain": 1 / 300, "storm": 1 / 200, "snow": 1 / 250}.get(weather.kind, 0)
    return Lighting(
        hour=float(hour),
        sun_dir=sun,
        moon_dir=moon,
        key_dir=key,
        key_color=sun_col,
        sky_ambient=sky_amb,
        ground_ambient=ground,
        zenith=np.clip(zenith, 0, 1),
        horizon=np.clip(horizon, 0, 1),
        overcast=oc,
        fog_density=float(fog),
        night=night,
        palette=palette,
    )


LUMA = np.array([0.2126, 0.7152, 0.0722])
"""Rec. 709 luma weights (sRGB primaries)."""


def grade_terms(palette: Palette) -> tuple[np.ndarray, float, float]:
    """The palette's grade as (per-channel gain (3,), saturation, contrast); see `grade`."""
    mult, sat, contrast = MOODS[palette.mood]
    gain = np.asarray(mult, np.float64) * palette.brightness
    if palette.tint is not None:
        tint = np.asarray(palette.tint, np.float64)
        gain = gain * (0.8 + 0.2 * tint / max(tint.max(), 1e-3))
    return gain, float(sat * palette.saturation), float(contrast)


def grade(rgb: np.ndarray, palette: Palette) -> np.ndarray:
    """(..., 3) sRGB -> sRGB graded by the palette's mood, saturation, brightness and tint."""
    gain, sat, contrast = grade_terms(palette)
    c = rgb * gain
    lum = c @ LUMA
    c = lum[..., None] + (c - lum[..., None]) * sat
    c = 0.5 + (c - 0.5) * contrast
    return np.clip(c, 0.0, 1.0)


@njit(inline="always")
def grade_one(c0, c1, c2, gain, sat, contrast):
    """`grade` of one colour, for numba kernels (gain, sat, contrast from `grade_terms`)."""
    c0, c1, c2 = c0 * gain[0], c1 * gain[1], c2 * gain[2]
    lum = LUMA[0] * c0 + LUMA[1] * c1 + LUMA[2] * c2
    c0 = min(max(0.5 + (lum + (c0 - lum) * sat - 0.5) * contrast, 0.0), 1.0)
    c1 = min(max(0.5 + (lum + (c1 - lum) * sat - 0.5) * contrast, 0.0), 1.0)
    c2 = min(max(0.5 + (lum + (c2 - lum) * sat - 0.5) * contrast, 0.0), 1.0)
    return c0, c1, c2


def shade(
    albedo: np.ndarray,
    normals: np.ndarray,
    light: Lighting,
    *,
    shadow: np.ndarray | None = None,
    occlusion: np.ndarray | None = None,
    wrap: float = 0.15,
) -> np.ndarray:
    """(N, 3) float32 lit sRGB colours of surfels.

    albedo (N, 3) sRGB; normals (N, 3) unit; shadow (N,) 1 = lit by the key light;
    occlusion (N,) 1 = open to the sky; `wrap` softens the terminator (stylised look).
    One numba pass (`_shade_kernel`, serial: world builds call it from the background
    thread), within float32 rounding of `shade_reference`.
    """
    n = len(albedo)
    gain, sat, contrast = grade_terms(light.palette)
    out = np.empty((n, 3), np.float32)
    _shade_kernel(
        np.ascontiguousarray(albedo, np.float32), np.ascontiguousarray(normals, np.float32),
        np.ones(n, np.float32) if shadow is None else np.ascontiguousarray(shadow, np.float32),
        np.ones(n, np.float32) if occlusion is None else np.ascontiguousarray(occlusion, np.float32),
        np.asarray(light.key_dir, np.float64), np.asarray(light.key_color, np.float64),
        np.asarray(light.sky_ambient, np.float64), np.asarray(light.ground_ambient, np.float64),
        float(wrap), gain, sat, contrast, _TO_LINEAR, _TO_SRGB, out,
    )  # fmt: skip
    return out


_LUT_SIZE = 4097
_TO_LINEAR = srgb_to_linear(np.linspace(0.0, 1.0, _LUT_SIZE))
"""`srgb_to_linear` tabulated over [0, 1] (linear interpolation: within 1e-7)."""
_TO_SRGB = linear_to_srgb(np.linspace(0.0, 1.0, _LUT_SIZE) ** 2)
"""`linear_to_srgb` tabulated over the square root of [0, 1], where the curve is nearly
straight (linear interpolation: within 1e-6); pow() was most of a surfel's shading time."""


@njit(inline="always")
def _lookup(table, x):
    """`table` (over [0, 1] in equal steps) at x, interpolated; x clipped to [0, 1]."""
    f = min(max(x, 0.0), 1.0) * (table.shape[0] - 1)
    i = min(int(f), table.shape[0] - 2)
    return table[i] + (table[i + 1] - table[i]) * (f - i)


@njit(cache=True, nogil=True)
def _shade_kernel(albedo, normals, shadow, occlusion, key_dir, key_color, sky_ambient,
                  ground_ambient, wrap, gain, sat, contrast, to_linear, to_srgb, out):  # fmt: skip
    """`shade_reference` for each surfel (float64 arithmetic, float32 in and out)."""
    for i in range(albedo.shape[0]):
        nx, ny, nz = np.float64(normals[i, 0]), np.float64(normals[i, 1]), np.float64(normals[i, 2])
        ndl = (nx * key_dir[0] + ny * key_dir[1] + nz * key_dir[2] + wrap) / (1.0 + wrap)
        ndl = min(max(ndl, 0.0), 1.0) * shadow[i]
        up = min(max(0.5 + 0.5 * ny, 0.0), 1.0)
        for k in range(3):  # albedo times key light plus hemisphere ambient, in linear light
            amb = (sky_ambient[k] * up + ground_ambient[k] * (1.0 - up)) * occlusion[i]
            lin = _lookup(to_linear, np.float64(albedo[i, k])) * (key_color[k] * ndl + amb)
            out[i, k] = _lookup(to_srgb, math.sqrt(max(lin, 0.0)))
        c0, c1, c2 = np.float64(out[i, 0]), np.float64(out[i, 1]), np.float64(out[i, 2])
        out[i, 0], out[i, 1], out[i, 2] = grade_one(c0, c1, c2, gain, sat, contrast)


def shade_reference(
    albedo: np.ndarray,
    normals: np.ndarray,
    light: Lighting,
    *,
    shadow: np.ndarray | None = None,
    occlusion: np.ndarray | None = None,
    wrap: float = 0.15,
) -> np.ndarray:
    """`shade` in plain numpy: Lambert with a wrapped terminator times the shadow, plus the
    sky/ground hemisphere ambient times occlusion, in linear light, then graded. The
    definition the fast path is tested against."""
    alb = srgb_to_linear(np.asarray(albedo, dtype=np.float64))
    n = np.asarray(normals, dtype=np.float64)
    ndl = np.clip((n @ light.key_dir + wrap) / (1 + wrap), 0.0, 1.0)
    if shadow is not None:
        ndl = ndl * shadow
    up = np.clip(0.5 + 0.5 * n[:, 1], 0.0, 1.0)[:, None]
    amb = light.sky_ambient * up + light.ground_ambient * (1 - up)
    if occlusion is not None:
        amb = amb * occlusion[:, None]
    lin = alb * (light.key_color * ndl[:, None] + amb)
    rgb = linear_to_srgb(lin)
    return grade(rgb, light.palette).astype(np.float32)


def heightfield_shadow(
    height: Callable[[np.ndarray, np.ndarray], np.ndarray],
    points: np.ndarray,
    light_dir: np.ndarray,
    *,
    max_distance: float = 220.0,
    steps: int = 12,
    softness: float = 6.0,
) -> np.ndarray:
    """(N,) soft shadow factor (1 lit, 0 shadowed) of world points under a heightfield.

    Marches from each point towards the light with geometrically growing steps and keeps the
    smallest clearance/distance ratio (a soft-shadow cone), all points at once.
    points (N, 3); light_dir (3,) unit, towards the light.
    """
    p = np.asarray(points, dtype=np.float64)
    d = np.asarray(light_dir, dtype=np.float64)
    if d[1] <= 0.0:
        return np.zeros(len(p))
    lit = np.ones(len(p))
    dists = np.geomspace(1.5, max_distance, steps)
    for t in dists:
        q = p + t * d
        clearance = q[:, 1] - height(q[:, 0], q[:, 2])
        lit = np.minimum(lit, np.clip(0.5 + softness * clearance / t, 0.0, 1.0))
    return lit
