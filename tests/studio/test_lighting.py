"""Sun position, shading and sky colours against analytic expectations."""

import numpy as np

from studio.lighting import lighting_for, shade, shade_reference, sun_direction, sun_elevation
from studio.sky import sky_colors
from studio.spec import Palette, WeatherSpec


def test_noon_equinox_elevation_is_ninety_minus_latitude():
    for lat in (0.0, 30.0, 45.0, 60.0):
        assert abs(sun_elevation(12.0, latitude=lat, declination=0.0) - (90.0 - lat)) < 1e-9


def test_equinox_sunrise_and_sunset_at_six_and_eighteen():
    assert abs(sun_elevation(6.0, latitude=45.0, declination=0.0)) < 1e-9
    assert abs(sun_elevation(18.0, latitude=45.0, declination=0.0)) < 1e-9
    # Morning sun in the east (+X), evening in the west, noon to the south (+Z) in the north.
    assert sun_direction(8.0)[0] > 0 > sun_direction(16.0)[0]
    assert sun_direction(12.0)[2] > 0


def _light(hour: float, kind: str = "clear"):
    return lighting_for(hour, WeatherSpec(kind=kind), Palette())


def test_surfel_facing_the_sun_is_brighter_than_one_facing_away():
    L = _light(10.0)
    n = np.stack([L.sun_dir, -L.sun_dir])
    c = shade(np.full((2, 3), 0.5), n, L)
    assert c[0].mean() > c[1].mean() + 0.2


def test_night_darker_than_noon_and_overcast_flatter():
    alb = np.full((1, 3), 0.5)
    up = np.array([[0.0, 1.0, 0.0]])
    noon, night = shade(alb, up, _light(12.0)), shade(alb, up, _light(1.0))
    assert night.mean() < 0.5 * noon.mean()
    # Overcast: the difference between sun-facing and shaded surfels shrinks.
    gaps = {}
    for kind in ("clear", "storm"):
        L = _light(12.0, kind)
        c = shade(np.full((2, 3), 0.5), np.stack([L.sun_dir, -L.sun_dir]), L)
        gaps[kind] = c[0].mean() - c[1].mean()
    assert gaps["storm"] < 0.5 * gaps["clear"]


def test_sky_dark_at_night_warm_at_dusk_blue_at_noon():
    horizon_dir = np.array([[0.0, 0.02, -1.0]]) / np.linalg.norm([0.0, 0.02, -1.0])
    zenith = np.array([[0.0, 1.0, 0.0]])
    night = sky_colors(zenith, _light(1.0), clouds=False)[0]
    assert night.max() < 0.15
    dusk = sky_colors(horizon_dir, _light(18.6), clouds=False)[0]
    assert dusk[0] > dusk[2] + 0.15  # red exceeds blue at the horizon
    noon = sky_colors(zenith, _light(12.0), clouds=False)[0]
    assert noon[2] > noon[0] + 0.2


def test_fast_shading_matches_the_numpy_definition():
    """`shade` (numba, tabulated sRGB curves) agrees with `shade_reference` far below one
    8-bit step: out-of-range albedo, every normal, shadows, occlusion, moods and tints."""
    rng = np.random.default_rng(3)
    n = 20_000
    albedo = rng.uniform(-0.1, 1.1, (n, 3)).astype(np.float32)
    normals = rng.normal(size=(n, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    shadow, occlusion = rng.uniform(0, 1, n), rng.uniform(0, 1, n).astype(np.float32)
    for hour, kind, palette in [
        (10.0, "clear", Palette()),
        (18.4, "fog", Palette(mood="golden", tint=(1.0, 0.6, 0.3), saturation=1.3)),
        (23.5, "storm", Palette(mood="eerie", brightness=0.8)),
    ]:
        L = lighting_for(hour, WeatherSpec(kind=kind), palette)
        for kw in ({}, {"shadow": shadow, "occlusion": occlusion}):
            got = shade(albedo, normals, L, **kw)
            assert got.dtype == np.float32 and got.shape == (n, 3)
            np.testing.assert_allclose(got, shade_reference(albedo, normals, L, **kw), atol=5e-6)
