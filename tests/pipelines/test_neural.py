"""Neural backends end to end with tiny models built from the real transformers/diffusers classes.

Each model is saved with save_pretrained into a folder on $TIDEPOOL_MODELS, found by discovery,
loaded with local_files_only=True and run through the product code path.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("transformers")
pytest.importorskip("diffusers")

from pipelines.image import (
    EYE_HEIGHT,
    analyse_image,
    depth_backdrop,
    image_backdrop,
    image_to_spec,
    keyframe_image,
    load_image,
    photo_backdrop,
    popup_camera,
)
from pipelines.neural import NeuralUnavailable, discover, load_asr, load_text2image
from pipelines.neural.tiny import (
    save_tiny_depth,
    save_tiny_text2image,
    save_tiny_whisper,
)
from pipelines.voice import transcribe_file
from studio.world import World

SKY_RGB = (110, 160, 230)
GROUND_RGB = (90, 150, 60)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    save_tiny_whisper(root / "tiny-whisper", text="hi tidepool")
    save_tiny_depth(root / "tiny-depth")
    save_tiny_text2image(root / "tiny-sd")
    return root


@pytest.fixture
def on_disk(models, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDEPOOL_MODELS", str(models))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    return models


def meadow_photo(w: int = 160, h: int = 120):
    img = np.zeros((h, w, 3), np.uint8)
    img[: int(0.4 * h)] = SKY_RGB
    img[int(0.4 * h) :] = GROUND_RGB
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    photo = load_image(buf.getvalue())
    analysis = analyse_image(photo, seed=0)
    return photo, analysis, image_to_spec(analysis, seed=3)


def test_discovery_finds_every_saved_tiny_model(on_disk):
    found = {(m.role, m.name) for m in discover()}
    assert found == {("asr", "tiny-whisper"), ("depth", "tiny-depth"), ("text2image", "tiny-sd")}


def test_whisper_transcribes_a_wav_clip_to_the_text_its_decoder_spells(on_disk, tmp_path):
    # A 22.05 kHz stereo clip goes through read -> resample -> features -> generate -> decode.
    rate = 22050
    noise = np.random.default_rng(0).normal(0, 0.1, (rate, 2))
    clip = tmp_path / "said.wav"
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((noise * 32767).astype("<i2").tobytes())
    assert transcribe_file(clip) == "hi tidepool"
    asr = load_asr()
    with pytest.raises(ValueError, match="16000 Hz"):
        asr.transcribe(np.zeros(8000, np.float32), rate=8000)


def ground_depth(cam, h: int, w: int) -> np.ndarray:
    """(h, w) view-axis depth of the ground plane EYE_HEIGHT below the camera (inf above it)."""
    K = cam.K()
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rays_cv = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    dirs = rays_cv @ cam.viewmat()[:3, :3]  # camera -> world rotation (R^T), z-depth 1 per ray
    with np.errstate(divide="ignore"):
        return np.where(dirs[..., 1] < -1e-6, EYE_HEIGHT / -dirs[..., 1], np.inf)


def project(cam, pts: np.ndarray) -> np.ndarray:
    """(N, 3) world points -> (N, 2) pixel coordinates."""
    V = cam.viewmat()
    pc = pts @ V[:3, :3].T + V[:3, 3]
    uv = pc @ cam.K().T
    return uv[:, :2] / uv[:, 2:3]


@pytest.mark.parametrize("kind", ["relative", "disparity"])
def test_depth_that_is_affine_in_ground_depth_puts_the_ground_back_on_its_plane(kind):
    photo, analysis, spec = meadow_photo()
    world = World(spec, background=False)
    try:
        cam = popup_camera(world, photo, analysis)
        z = ground_depth(cam, cam.height, cam.width)
        finite = np.where(np.isfinite(z), z, 500.0)
        pred = (finite - 3.0) / 7.0 if kind == "relative" else 5.0 / finite
        b = depth_backdrop(world, photo, analysis, pred.astype(np.float32))
    finally:
        world.close()
    g = b.gaussians
    ground = np.all(np.abs(g.colors - np.array(GROUND_RGB) / 255) < 1e-6, axis=1)
    assert ground.sum() > 0.5 * cam.width * cam.height
    plane_y = cam.position[1] - EYE_HEIGHT
    # float32 depth input: about 1e-6 relative error, i.e. well under a millimetre at 60 m.
    assert np.allclose(g.means[ground, 1], plane_y, atol=2e-3)
    uv = project(cam, g.means[ground])
    assert np.allclose(uv % 1.0, 0.5, atol=1e-3)  # every surfel sits on its own pixel's ray
    depth_here = z[np.floor(uv[:, 1]).astype(int), np.floor(uv[:, 0]).astype(int)]
    cam_z = (g.means[ground] - cam.position) @ cam.forward
    assert np.allclose(cam_z, depth_here, rtol=1e-3)


def test_photo_lifted_by_a_found_depth_model_and_pop_up_without_one(on_disk, tmp_path, monkeypatch):
    photo, analysis, spec = meadow_photo()
    world = World(spec, background=False)
    try:
        cam = popup_camera(world, photo, analysis)
        lifted = photo_backdrop(world, photo, analysis, depth="auto")
        named = photo_backdrop(world, photo, analysis, depth="tiny-depth")
        popup = image_backdrop(world, photo, analysis)
        off = photo_backdrop(world, photo, analysis, depth="off")
        with pytest.raises(NeuralUnavailable, match="no-such-model"):
            photo_backdrop(world, photo, analysis, depth="no-such-model")
        monkeypatch.setenv("TIDEPOOL_MODELS", str(tmp_path))
        fallback = photo_backdrop(world, photo, analysis, depth="auto")
    finally:
        world.close()
    assert np.array_equal(lifted.gaussians.means, named.gaussians.means)
    assert np.array_equal(off.gaussians.means, popup.gaussians.means)
    assert np.array_equal(fallback.gaussians.means, popup.gaussians.means)
    assert not np.array_equal(lifted.gaussians.means, popup.gaussians.means)
    g = lifted.gaussians.validate()
    # Every lifted surfel is in front of the camera, on its own pixel's ray, in the photo's colour.
    assert np.all((g.means - cam.position) @ cam.forward > 0)
    assert np.allclose(project(cam, g.means) % 1.0, 0.5, atol=1e-3)
    photo_colours = np.array([SKY_RGB, GROUND_RGB]) / 255  # (2, 3)
    assert np.abs(g.colors[:, None] - photo_colours[None]).max(-1).min(-1).max() < 1e-6


def test_text_to_image_paints_the_requested_size_and_is_seeded(on_disk):
    t2i = load_text2image()
    a = t2i.generate("a red canyon", seed=1, width=64, height=48)
    again = t2i.generate("a red canyon", seed=1, width=64, height=48)
    other = t2i.generate("a red canyon", seed=2, width=64, height=48)
    assert a.shape == (48, 64, 3) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, again) and not np.array_equal(a, other)
    key = keyframe_image("a red canyon", seed=1, size=(64, 48))
    assert key.size == (64, 48)
    assert np.array_equal(np.asarray(key), (a * 255 + 0.5).astype(np.uint8))
    with pytest.raises(ValueError, match="multiples of 8"):
        keyframe_image("a red canyon", seed=1, size=(60, 48))
