"""World-level actions shared by the CLI and the studio: create a world, render a world file.

They compose `pipelines` (prompt -> WorldSpec) with `studio` (World, renderer, project file);
the CLI and the Gradio callbacks only translate arguments and report results.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from studio.camera import Camera
from studio.render import Frame
from studio.spec import WorldSpec
from studio.storage import ProjectFile
from studio.world import World

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = (480, 270)


@dataclass
class CreatedWorld:
    """What `create_world` made: the file, its spec and how long the first frame took."""

    path: Path
    spec: WorldSpec
    seconds: float
    gaussians_in_view: int
    thumbnail: bytes  # PNG


def slugify(text: str, *, limit: int = 48) -> str:
    """A file-name-safe slug of a prompt ("A misty forest!" -> "a-misty-forest")."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return slug or "world"


def unused_path(folder: Path, stem: str, suffix: str = ".tidepool") -> Path:
    """folder/stem.suffix, or folder/stem-2.suffix, ... — the first that does not exist."""
    path = folder / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


def png_bytes(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG file bytes."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def create_world(
    prompt: str,
    *,
    seed: int | None = None,
    output: Path | None = None,
    library: Path,
    overwrite: bool = False,
) -> CreatedWorld:
    """Prompt -> WorldSpec -> World -> first frame (thumbnail) -> a new .tidepool file.

    `seconds` is the prompt-to-first-frame time the user waits for (file writing excluded).
    Raises pipelines.text.PromptError for a bad prompt and ProjectFileError for a bad path.
    """
    from pipelines.text import text_to_spec

    if seed is None:
        seed = secrets.randbelow(2**31)
    t0 = time.perf_counter()
    spec = text_to_spec(prompt, seed)
    world = World(spec)
    try:
        camera = world.spawn_camera(width=THUMBNAIL_SIZE[0], height=THUMBNAIL_SIZE[1])
        n_view = len(world.gaussians_in_view(camera))
        frame = world.frame(camera)
        seconds = time.perf_counter() - t0
    finally:
        world.close()
    path = output if output is not None else unused_path(library, slugify(prompt))
    thumbnail = png_bytes(frame.rgb)
    project = ProjectFile.create(path, spec, overwrite=overwrite)
    try:
        project.set_thumbnail(thumbnail)
    finally:
        project.close()
    log.info("created %s in %.2f s (%d Gaussians in view)", path, seconds, n_view)
    return CreatedWorld(path, spec, seconds, n_view, thumbnail)


def render_world_file(
    path: Path,
    *,
    size: tuple[int, int],
    camera: tuple[tuple[float, float, float], float, float] | None = None,
    backend: str = "auto",
) -> Frame:
    """Render a .tidepool world from its spawn view (or a given position, yaw, pitch)."""
    project = ProjectFile.open(path, readonly=True)
    try:
        spec = project.spec
    finally:
        project.close()
    world = World(spec, background=False)
    try:
        width, height = size
        if camera is None:
            cam = world.spawn_camera(width=width, height=height)
        else:
            pos, yaw, pitch = camera
            cam = Camera(np.array(pos, float), yaw=yaw, pitch=pitch, width=width, height=height)
        return world.frame(cam, backend=backend)
    finally:
        world.close()
