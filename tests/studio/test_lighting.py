"""Sun position, shading and sky colours against analytic expectations."""

import numpy as np

from studio.lighting import lighting_for, shade, sun_direction, sun_elevation
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
