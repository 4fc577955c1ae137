"""The fast sky composite (cached rays, memoised sky, numba fog pass) against the numpy reference."""

from __future__ import annotations

import functools

import numba
import numpy as np
import pytest

from studio.lighting import lighting_for, sun_direction
from studio.render import render
from studio.sky import (
    SkyCache,
    composite,
    composite_reference,
    pixel_rays,
    sky_colors,
    sky_colors_reference,
    sky_layers,
)
from studio.spec import Palette, WeatherSpec, WorldSpec
from studio.world import World

W, H = 320, 180
_SPECS = {
    "clear": {"hour": 10.0},
    "night": {"hour": 23.0},
    "fog": {"hour": 8.0, "weather": {"kind": "fog", "fog_density": 0.8}},
}


@functools.cache
def _scene(name: str):
    """A real frame of a small world: the splats over black plus everything composite needs."""
    spec = WorldSpec(seed=7, **_SPECS[name])
    w = World(spec, background=False)
    cam = w.spawn_camera(width=W, height=H)
    fr = render(w.gaussians_in_view(cam, 60_000), cam, width=W, height=H, backend="cpu")
    kw = {"seed": spec.seed, "weather": w.weather.kind, "fog_base_height": w.water_level + 2.0}
    return fr, cam, w.lighting, kw


@pytest.mark.parametrize("name", list(_SPECS))
def test_fast_composite_matches_reference_within_one_level(name):
    fr, cam, light, kw = _scene(name)
    assert (fr.alpha < 0.998).any() and (fr.alpha > 0.5).any()  # both sky and splats in view
    ref = composite_reference(fr.rgb, fr.alpha, fr.depth, cam, light, **kw)
    fast = composite(fr.rgb, fr.alpha, fr.depth, cam, light, cache=SkyCache(), **kw)
    diff = np.abs(ref.astype(int) - fast.astype(int))
    assert diff.max() <= 1
    assert (diff > 0).mean() < 1e-3  # rounding ties only, not a drifting formula


def test_float_colour_input_matches_reference():
    fr, cam, light, kw = _scene("clear")
    rgb = fr.rgb.astype(np.float32) / 255.0
    ref = composite_reference(rgb, fr.alpha, fr.depth, cam, light, **kw)
    fast = composite(rgb, fr.alpha, fr.depth, cam, light, **kw)
    assert np.abs(ref.astype(int) - fast.astype(int)).max() <= 1


def test_memo_hit_returns_identical_frames_and_layers():
    fr, cam, light, kw = _scene("night")
    cache = SkyCache()
    first = composite(fr.rgb, fr.alpha, fr.depth, cam, light, cache=cache, **kw)
    assert (cache.hits, cache.misses) == (0, 1)
    again = composite(fr.rgb, fr.alpha, fr.depth, cam, light, cache=cache, **kw)
    assert (cache.hits, cache.misses) == (1, 1)
    uncached = composite(fr.rgb, fr.alpha, fr.depth, cam, light, **kw)
    assert first.tobytes() == again.tobytes() == uncached.tobytes()
    fresh = sky_layers(cam, W, H, light, sky_rows=H, seed=kw["seed"], weather=kw["weather"])
    memo = sky_layers(
        cam, W, H, light, sky_rows=H, seed=kw["seed"], weather=kw["weather"], cache=cache
    )
    for a, b in zip(fresh, memo, strict=True):
        assert a.tobytes() == b.tobytes()
        assert not b.flags.writeable  # nobody can scribble on a shared entry


def test_translation_hits_rotation_misses_and_cache_stays_bounded():
    _fr, cam, light, _kw = _scene("clear")
    cache = SkyCache(entries=2)
    sky0, _ = sky_layers(cam, W, H, light, sky_rows=H, cache=cache)
    moved = cam.with_size(W, H)
    moved.position = cam.position + np.array([5.0, 1.0, -3.0])
    sky1, _ = sky_layers(moved, W, H, light, sky_rows=H, cache=cache)
    assert sky1 is sky0  # the sky is at infinity: moving does not change it
    for yaw in (10.0, 20.0, 30.0):
        turned = cam.with_size(W, H)
        turned.look_at(
            cam.position + np.array([np.sin(np.radians(yaw)), 0.0, np.cos(np.radians(yaw))])
        )
        sky_t, _ = sky_layers(turned, W, H, light, sky_rows=H, cache=cache)
        assert not np.array_equal(sky_t, sky0)
    assert len(cache._layers) <= 2 and len(cache._rays) <= 2
    assert cache.misses == 4 and cache.hits == 1


def test_lighting_change_is_a_miss():
    _fr, cam, light, _kw = _scene("clear")
    _, _, night, _ = _scene("night")
    cache = SkyCache()
    day_sky, _ = sky_layers(cam, W, H, light, sky_rows=H, cache=cache)
    night_sky, _ = sky_layers(cam, W, H, night, sky_rows=H, cache=cache)
    assert cache.misses == 2
    assert night_sky.mean() < day_sky.mean()


def test_cached_rays_equal_fresh_rays():
    _, cam, _, _ = _scene("fog")
    cache = SkyCache()
    d0, n0 = pixel_rays(cam, W, H)
    pixel_rays(cam, W, H, cache=cache)
    d1, n1 = pixel_rays(cam, W, H, cache=cache)
    assert d0.tobytes() == d1.tobytes() and n0.tobytes() == n1.tobytes()
    np.testing.assert_allclose(np.linalg.norm(d1, axis=-1), 1.0, atol=1e-5)


def test_output_identical_for_any_thread_count():
    fr, cam, light, kw = _scene("fog")
    n = numba.get_num_threads()
    many = composite(fr.rgb, fr.alpha, fr.depth, cam, light, **kw)
    try:
        numba.set_num_threads(1)
        one = composite(fr.rgb, fr.alpha, fr.depth, cam, light, **kw)
    finally:
        numba.set_num_threads(n)
    assert many.tobytes() == one.tobytes()


def test_bad_shapes_name_the_fix():
    fr, cam, light, kw = _scene("clear")
    with pytest.raises(ValueError, match="one Frame's arrays"):
        composite(fr.rgb[:-1], fr.alpha, fr.depth, cam, light, **kw)
    with pytest.raises(ValueError, match="at least 1"):
        SkyCache(entries=0)


@pytest.mark.parametrize(
    "small, big", [((90, 160), (360, 640)), ((45, 80), (180, 320)), ((7, 5), (30, 17))]
)
def test_sky_upsampling_is_pillows_bilinear(small, big):
    """The sky's upsampler equals Pillow's BILINEAR enlargement (float mode), channel by channel."""
    from PIL import Image

    from studio.sky import _upsample

    img = np.random.default_rng(3).random((*small, 3)).astype(np.float32)
    got = _upsample(img, *big)
    for k in range(3):
        pil = Image.fromarray(img[..., k], mode="F").resize(big[::-1], Image.BILINEAR)
        np.testing.assert_allclose(got[..., k], np.asarray(pil), atol=1e-5)


@pytest.mark.parametrize("hour", [1.0, 6.4, 12.0, 18.6, 22.0])
@pytest.mark.parametrize("weather", ["clear", "storm"])
def test_fused_sky_matches_the_numpy_sky(hour, weather):
    """The numba sky pass against `sky_colors_reference` over the whole sphere of directions:
    gradient, sun glow and disc, moon, the hashed stars at night, clouds and a tinted grade."""
    rng = np.random.default_rng(int(hour * 10))
    dirs = rng.normal(size=(60_000, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    sun = sun_direction(hour)  # and directions within the sun's disc and glow
    near_sun = sun + rng.normal(scale=0.01, size=(2_000, 3))
    dirs = np.concatenate([dirs, near_sun / np.linalg.norm(near_sun, axis=1, keepdims=True)])
    dirs = dirs.astype(np.float32).reshape(-1, 31, 3)
    palette = Palette(mood="warm", tint=(1.0, 0.6, 0.4), brightness=1.1, saturation=0.9)
    light = lighting_for(hour, WeatherSpec(kind=weather), palette)
    for clouds in (False, True):
        fast = sky_colors(dirs, light, seed=5, weather=weather, clouds=clouds)
        ref = sky_colors_reference(dirs, light, seed=5, weather=weather, clouds=clouds)
        assert fast.shape == ref.shape == dirs.shape and fast.dtype == np.float32
        np.testing.assert_allclose(fast, ref, atol=2e-5)
    if hour in (1.0, 22.0) and weather == "clear":  # stars were drawn, and drawn alike
        lum = sky_colors_reference(dirs, light, seed=5, weather=weather, clouds=False).sum(-1)
        assert (lum > np.median(lum) + 0.5).sum() > 10
