"""Image -> world: odd and bad inputs, what the analysis reads, and the photo pop-up geometry."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from pipelines.image import (
    ImageError,
    analyse_image,
    correlated_colour_temperature,
    fit_depth_scale,
    image_to_spec,
    load_image,
)
from studio.backdrop import GROUND, SKY, UPRIGHT, Backdrop, photo_popup
from studio.camera import Camera
from studio.render import render


def scene(h: int = 240, w: int = 320, *, sky=(110, 160, 230), ground=(90, 150, 60), horizon=0.4):
    img = np.zeros((h, w, 3), np.uint8)
    hz = int(horizon * h)
    img[:hz] = sky
    img[hz:] = ground
    return img


def save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


# --- bad and odd inputs ---------------------------------------------------------------------


def test_not_an_image_is_refused_by_name(tmp_path):
    p = tmp_path / "notes.png"
    p.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ImageError, match="not an image"):
        load_image(p)


def test_truncated_file_is_refused(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 300, 3), np.uint8)).save(
        buf, "JPEG"
    )
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match="truncated or damaged"):
        load_image(p)


def test_tiny_image_is_refused_with_the_minimum(tmp_path):
    p = save(Image.new("RGB", (16, 16), (10, 200, 10)), tmp_path / "tiny.png")
    with pytest.raises(ImageError, match=r"16x16 .* at least 32"):
        load_image(p)


def test_fifty_megapixel_image_is_downscaled_with_a_notice_quickly(tmp_path):
    p = save(Image.new("RGB", (8000, 6250), (120, 140, 90)), tmp_path / "huge.png")
    t0 = time.perf_counter()
    li = load_image(p, max_side=1024)
    assert time.perf_counter() - t0 < 30  # generous: the point is no hang
    assert max(li.rgb.shape[:2]) == 1024
    assert li.original_size == (8000, 6250)
    assert any("50 MP" in n and "downscaled" in n for n in li.notes)
    assert np.allclose(li.rgb[500, 500], np.array([120, 140, 90]) / 255, atol=1 / 255)


def test_absurd_size_is_refused_from_the_header(tmp_path):
    # A PNG header claiming 20000x20000 (400 MP): refused before decoding.
    p = save(Image.new("1", (20000, 20000)), tmp_path / "bomb.png", optimize=True)
    with pytest.raises(ImageError, match=r"too large|megapixels"):
        load_image(p)


def test_cmyk_is_converted_with_a_note(tmp_path):
    p = save(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), tmp_path / "print.jpg")  # red ink
    li = load_image(p)
    assert li.rgb[32, 32, 0] > 0.8 and li.rgb[32, 32, 1:].max() < 0.2
    assert any("CMYK" in n for n in li.notes)


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    a = np.full((64, 64), 32768, np.uint16)  # mid grey in 16 bits
    p = save(Image.fromarray(a), tmp_path / "deep.png")
    li = load_image(p)
    assert li.rgb[10, 10] == pytest.approx([0.5, 0.5, 0.5], abs=0.01)


def test_transparent_pixels_are_left_out(tmp_path):
    a = np.zeros((64, 64, 4), np.uint8)
    a[:, :32] = (200, 50, 50, 255)
    p = save(Image.fromarray(a, "RGBA"), tmp_path / "cutout.png")
    li = load_image(p)
    assert li.valid[:, :32].all() and not li.valid[:, 32:].any()
    assert any("transparent" in n for n in li.notes)
    all_clear = save(
        Image.fromarray(np.zeros((64, 64, 4), np.uint8), "RGBA"), tmp_path / "clear.png"
    )
    with pytest.raises(ImageError, match="transparent"):
        load_image(all_clear)


def test_exif_rotation_is_applied(tmp_path):
    a = np.zeros((40, 80, 3), np.uint8)  # stored landscape, left half red
    a[:, :40] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    p = save(Image.fromarray(a), tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    li = load_image(p)
    assert li.rgb.shape[:2] == (80, 40)  # displayed portrait
    assert li.rgb[5, 20, 0] > 0.8 and li.rgb[75, 20, 0] < 0.3  # red moved to the top


# --- analysis -----------------------------------------------------------------------------------


def test_cct_matches_known_white_points():
    assert correlated_colour_temperature(np.array([1.0, 1.0, 1.0])) == pytest.approx(6504, abs=60)
    # Incandescent (about 2856 K, CIE A) white balanced in sRGB is orange.
    warm = correlated_colour_temperature(np.array([1.0, 0.71, 0.42]))
    assert 2400 < warm < 3300


def test_horizon_regions_and_biome_of_a_meadow(tmp_path):
    p = save(Image.fromarray(scene(horizon=0.4)), tmp_path / "meadow.png")
    a = analyse_image(load_image(p))
    assert a.horizon == pytest.approx(0.4, abs=0.02)
    assert a.sky_visible and a.fractions["sky"] == pytest.approx(0.4, abs=0.03)
    assert a.biomes[0][0] == "meadow"
    assert 10 <= a.hour <= 14 and a.weather == "clear"


def test_light_sets_the_hour_night_and_sunset(tmp_path):
    night = analyse_image(
        load_image(
            save(Image.fromarray(scene(sky=(5, 8, 20), ground=(10, 12, 10))), tmp_path / "n.png")
        )
    )
    sunset = analyse_image(
        load_image(
            save(
                Image.fromarray(scene(sky=(240, 140, 60), ground=(60, 40, 30))), tmp_path / "s.png"
            )
        )
    )
    assert night.hour >= 20 or night.hour < 5
    assert 17 <= sunset.hour <= 20
    assert sunset.cct_kelvin < 4000 < night.cct_kelvin or sunset.warmth > 0.2


def test_beach_and_snow_photos_pick_their_biomes(tmp_path):
    img = scene(ground=(220, 200, 150), horizon=0.35)
    img[84:130] = (40, 90, 170)  # sea band below the horizon
    beach = analyse_image(load_image(save(Image.fromarray(img), tmp_path / "b.png")))
    assert beach.water and beach.biomes[0][0] == "beach"
    snow = analyse_image(
        load_image(save(Image.fromarray(scene(ground=(240, 244, 250))), tmp_path / "w.png"))
    )
    assert snow.biomes[0][0] == "snow"


def test_prompt_wins_where_it_is_explicit(tmp_path):
    a = analyse_image(load_image(save(Image.fromarray(scene()), tmp_path / "m.png")))
    spec = image_to_spec(a, prompt="a snowy valley at night", seed=4)
    assert spec.biomes[0].biome == "snow"
    assert spec.hour >= 20 or spec.hour < 5
    plain = image_to_spec(a, seed=4)
    assert plain.biomes[0].biome == "meadow" and plain.hour == a.hour


# --- pop-up geometry ----------------------------------------------------------------------------


def test_popup_seen_from_the_photo_camera_reproduces_the_photo():
    h, w = 60, 80
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:24] = (0.4, 0.6, 0.9)
    rgb[24:] = np.linspace(0.2, 0.8, h - 24)[:, None, None] * np.array([0.5, 1.0, 0.3])
    rgb[10:40, 50:60] = (0.6, 0.1, 0.1)
    labels = np.full((h, w), GROUND, np.uint8)
    labels[:24] = SKY
    labels[10:40, 50:60] = UPRIGHT
    cam = Camera(np.array([0.0, 1.7, 0.0]), yaw=30.0, pitch=0.0, vfov=60.0, width=w, height=h)
    cam.pitch = float(np.degrees(np.arctan((24 / h - 0.5) * h / cam.K()[0, 0])))
    g = photo_popup(rgb, labels, cam, ground_height=0.0).validate()
    fr = render(g, cam, width=w, height=h, background=(0.0, 0.0, 0.0), backend="reference")
    inner = (labels != SKY) & (np.arange(h)[:, None] > 27)  # away from the horizon's edge
    err = np.abs(fr.rgb[inner].astype(float) / 255 - rgb[inner]).mean(-1)
    assert np.median(err) < 0.06 and np.quantile(err, 0.9) < 0.12
    # Ground points lie on the plane; the upright block stands where its column's ground ends.
    on_ground = np.abs(g.means[:, 1]) < 1e-4
    assert on_ground.mean() > 0.7
    red = np.all(np.abs(g.colors - [0.6, 0.1, 0.1]) < 1e-3, axis=1)
    block = g.means[red]
    assert np.ptp(np.linalg.norm(block[:, [0, 2]], axis=1)) < 0.6  # one vertical layer
    assert block[:, 1].min() == pytest.approx(0.0, abs=0.15)  # its foot touches the ground


def test_depth_alignment_recovers_scale_and_shift_and_disparity():
    rng = np.random.default_rng(0)
    true = rng.uniform(2, 40, 500)
    rel = (true - 3.0) / 7.0
    assert np.allclose(fit_depth_scale(rel, true, rel), true)
    disp = 5.0 / true
    assert np.allclose(fit_depth_scale(disp, true, disp), true, rtol=1e-6)


def test_backdrop_round_trips_through_bytes():
    cam = Camera(np.array([0.0, 1.7, 0.0]), width=40, height=30)
    labels = np.full((30, 40), GROUND, np.uint8)
    labels[:10] = SKY
    g = photo_popup(np.full((30, 40, 3), 0.5, np.float32), labels, cam, ground_height=0.0)
    b = Backdrop("photo", g, spawn=cam.position, look_at=cam.position + cam.forward, source="x.png")
    back = Backdrop.from_bytes(b.to_bytes())
    assert back.kind == "photo" and back.source == "x.png"
    assert np.array_equal(back.gaussians.means, g.means)
    assert np.array_equal(back.spawn, b.spawn)
