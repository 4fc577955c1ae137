"""Benchmarks of the image and capture inputs (registered with `studio.bench`).

- image -> world: a generated 1024x768 landscape photo made into a world (as `tidepool new
  --image` does), the seconds to its first frame (decode, analysis, spec, pop-up, first render; DESIGN.md's
  prompt -> first frame budget, <= 2 s on CPU);
- splat import: a generated 200k-splat 3DGS capture (INRIA PLY, y-down like COLMAP scenes) read
  and walkable (ground fitted) by `capture_world_spec`, and made into a world to its first frame.

The inputs are generated (seeded) so the benchmark needs no files and no network.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from plyfile import PlyData, PlyElement

from studio.bench import Measurement, benchmark

CAPTURE_SPLATS = 200_000
PHOTO_SIZE = (1024, 768)


def landscape_photo(path: Path, *, size: tuple[int, int] = PHOTO_SIZE, seed: int = 0) -> Path:
    """A JPEG of a sunny landscape: sky gradient, textured meadow, a dark tree line, a lake."""
    w, h = size
    rng = np.random.default_rng(seed)
    y = np.arange(h)[:, None] / h
    img = np.zeros((h, w, 3), np.float32)
    hz = 0.42
    sky = np.array([0.45, 0.65, 0.92]) * (1 - 0.4 * y[..., None]) + 0.08
    img[:] = sky
    ground = np.array([0.33, 0.55, 0.22]) + 0.06 * rng.standard_normal((h, w, 1))
    img = np.where((y > hz)[..., None], ground, img)
    trees = (y > hz - 0.07 - 0.03 * np.sin(np.arange(w) / 37.0)[None, :]) & (y <= hz + 0.02)
    img[trees] = np.array([0.12, 0.25, 0.1]) + 0.04 * rng.standard_normal((int(trees.sum()), 3))
    lake = (y > 0.55) & (y < 0.68) & (np.abs(np.arange(w) - 0.6 * w) < 0.2 * w)[None, :]
    img[lake] = [0.25, 0.42, 0.62]
    Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(path, quality=92)
    return path


def capture_ply(path: Path, *, n: int = CAPTURE_SPLATS, seed: int = 0) -> Path:
    """An INRIA-layout 3DGS PLY of `n` splats: a rolling y-down ground and some standing blobs."""
    rng = np.random.default_rng(seed)
    n_ground = int(0.75 * n)
    xz = rng.uniform(-20, 20, (n_ground, 2))
    height = 0.6 * np.sin(xz[:, 0] / 5.0) * np.cos(xz[:, 1] / 7.0)
    ground = np.stack([xz[:, 0], -height, xz[:, 1]], axis=1)  # y down
    centres = rng.uniform(-15, 15, (40, 2))
    k = rng.integers(0, 40, n - n_ground)
    blob = rng.normal(0, 0.6, (n - n_ground, 3)) * [1, 2.5, 1]
    blobs = np.stack([centres[k, 0], -2.0 * np.ones(len(k)), centres[k, 1]], axis=1) + blob
    means = np.concatenate([ground, blobs]).astype(np.float32)
    colours = np.concatenate(
        [
            np.tile([0.35, 0.5, 0.25], (n_ground, 1)) + 0.05 * rng.standard_normal((n_ground, 3)),
            np.tile([0.2, 0.35, 0.15], (n - n_ground, 1)),
        ]
    )
    sh0 = ((colours - 0.5) / 0.28209479177387814).astype(np.float32)  # SH degree-0 coefficient
    q = rng.standard_normal((n, 4)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    names = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
             "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]  # fmt: skip
    rec = np.empty(n, dtype=[(k_, "<f4") for k_ in names])
    for i, axis in enumerate("xyz"):
        rec[axis] = means[:, i]
        rec[f"f_dc_{i}"] = sh0[:, i]
        rec[f"scale_{i}"] = np.log(0.05)
    rec["opacity"] = 2.0  # logit
    for i in range(4):
        rec[f"rot_{i}"] = q[:, i]
    PlyData([PlyElement.describe(rec, "vertex")]).write(str(path))
    return path


THUMBNAIL = (640, 360)


def _first_frame_seconds(spec_and_backdrop) -> float:
    """Seconds from inputs to a world's first rendered frame (what `tidepool new` reports)."""
    from studio.backdrop import world_with_backdrop

    t0 = time.perf_counter()
    spec, backdrop = spec_and_backdrop()
    world = world_with_backdrop(spec, backdrop)
    try:
        world.frame(world.spawn_camera(width=THUMBNAIL[0], height=THUMBNAIL[1]))
        return time.perf_counter() - t0
    finally:
        world.close()


def _photo_world(photo: Path, seed: int):
    from pipelines.image import analyse_image, image_backdrop, image_to_spec, load_image
    from studio.world import World

    image = load_image(photo)
    analysis = analyse_image(image, seed=seed)
    spec = image_to_spec(analysis, seed=seed, name=image.name)
    plain = World(spec, background=False)
    try:
        return spec, image_backdrop(plain, image, analysis)
    finally:
        plain.close()


@benchmark("inputs")
def image_to_first_frame(quick: bool) -> list[Measurement]:
    """Photo -> world -> first frame, median seconds (model-free pop-up; first run is warm-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        photo = landscape_photo(Path(tmp) / "landscape.jpg")
        seconds = [
            _first_frame_seconds(lambda i=i: _photo_world(photo, i))
            for i in range(2 if quick else 4)
        ]
    return [
        Measurement("image_to_first_frame_s", statistics.median(seconds[1:]), "s", 2.0, "lower")
    ]


@benchmark("inputs")
def splat_import(quick: bool) -> list[Measurement]:
    """A 200k-splat PLY capture: read + ground fit, and to a world's first frame (seconds)."""
    from pipelines.splat_import import capture_world_spec

    with tempfile.TemporaryDirectory() as tmp:
        path = capture_ply(Path(tmp) / "capture.ply")
        capture_world_spec(path, seed=0)  # warm-up
        reads = []
        for i in range(1 if quick else 3):
            t0 = time.perf_counter()
            capture_world_spec(path, seed=i)
            reads.append(time.perf_counter() - t0)
        first = _first_frame_seconds(lambda: capture_world_spec(path, seed=0))
    return [
        Measurement("splat_import_200k_s", statistics.median(reads), "s", better="lower"),
        Measurement("splat_world_first_frame_200k_s", first, "s", better="lower"),
    ]
