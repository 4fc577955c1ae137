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
from studio.conventions import seconds_to_tick, tick_to_seconds
from studio.render import Frame
from studio.spec import WorldSpec
from studio.storage import ProjectFile
from studio.view import render_state
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
    world: World | None = None
    """The generated world, still open, when create_world was asked to keep it."""


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
    image: Path | None = None,
    capture: Path | None = None,
    max_splats: int = 1_000_000,
    up: str = "auto",
    scale: float = 1.0,
    keep_world: bool = False,
    depth: str = "off",
) -> CreatedWorld:
    """Prompt -> WorldSpec -> World -> first frame (thumbnail) -> a new .tidepool file.

    With `image`, the photo's light, palette and regions shape the spec (what the prompt names
    wins) and the photo pops up at spawn; with `capture` (.ply/.spz/.splat), the world is that
    3DGS capture. `depth` ("off", "auto" or a local model's name) lifts the photo with a depth
    model instead (pipelines.image.photo_backdrop). Both are stored in the project file
    (studio.backdrop).
    `seconds` is the prompt-to-first-frame time the user waits for (file writing excluded).
    With `keep_world` the generated World (chunks cached) is returned open in `.world` for a
    live session to continue with; the caller closes it.
    Raises pipelines.text.PromptError for a bad prompt, pipelines.image.ImageError /
    pipelines.splat_import.SplatImportError for bad inputs and ProjectFileError for a bad path.
    """
    from pipelines.text import text_to_spec
    from studio.backdrop import save_backdrop, world_with_backdrop

    if seed is None:
        seed = secrets.randbelow(2**31)
    t0 = time.perf_counter()
    backdrop = None
    if capture is not None:
        from pipelines.splat_import import capture_world_spec

        spec, backdrop = capture_world_spec(
            capture,
            prompt=prompt,
            seed=seed,
            max_splats=max_splats,
            up=up,
            scale=scale,  # type: ignore[arg-type]
        )
    elif image is not None:
        from pipelines.image import analyse_image, image_to_spec, load_image, photo_backdrop

        photo = load_image(image)
        analysis = analyse_image(photo, seed=seed)
        spec = image_to_spec(analysis, prompt=prompt, seed=seed, name=photo.name)
        plain = World(spec, background=False)
        try:
            backdrop = photo_backdrop(plain, photo, analysis, depth=depth)
        finally:
            plain.close()
    else:
        spec = text_to_spec(prompt, seed)
    world = world_with_backdrop(spec, backdrop)
    try:
        camera = world.spawn_camera(width=THUMBNAIL_SIZE[0], height=THUMBNAIL_SIZE[1])
        frame = world.frame(camera)
        seconds = time.perf_counter() - t0
        n_view = world.last_view_count
    except BaseException:
        world.close()
        raise
    if not keep_world:
        world.close()
    source = capture if capture is not None else image
    stem = slugify(prompt) if prompt.strip() or source is None else slugify(source.stem)
    path = output if output is not None else unused_path(library, stem)
    thumbnail = png_bytes(frame.rgb)
    project = ProjectFile.create(path, spec, overwrite=overwrite)
    try:
        project.set_thumbnail(thumbnail)
        if backdrop is not None:
            save_backdrop(project, backdrop)
    finally:
        project.close()
    log.info("created %s in %.2f s (%d Gaussians in view)", path, seconds, n_view)
    return CreatedWorld(path, spec, seconds, n_view, thumbnail, world if keep_world else None)


def paint_keyframe(prompt: str, *, seed: int, model: str | None = None) -> Path:
    """A keyframe painted from `prompt` by a local text-to-image model (`model`, or the first
    found), saved as keyframe.png in a new temporary folder for `create_world(image=...)`.

    Raises pipelines.neural.NeuralUnavailable when no such model is on disk.
    """
    import tempfile

    from pipelines.image import keyframe_image

    keyframe = keyframe_image(prompt, seed=seed, model=model)
    path = Path(tempfile.mkdtemp(prefix="tidepool-look-")) / "keyframe.png"
    keyframe.save(path)
    return path


class RenderRequestError(ValueError):
    """A render asked for a branch or moment the file does not have; the message says which exist."""


def render_world_file(
    path: Path,
    *,
    size: tuple[int, int],
    camera: tuple[tuple[float, float, float], float, float] | None = None,
    branch: str | None = None,
    at: float | None = None,
    backend: str = "auto",
) -> Frame:
    """Render a .tidepool world at a moment of a branch (default: its start, the spawn view).

    Without `at` the camera is the world's spawn view; with `at` it is the session's camera at
    that moment (the player's eyes, third person or a directed shot). `camera` overrides both.
    """
    from studio.session import Session

    width, height = size
    session = Session(ProjectFile.open(path, readonly=True))
    try:
        if branch is not None:
            names = [b.name for b in session.timeline.branches.values()]
            if branch not in names:
                raise RenderRequestError(
                    f"--branch {branch!r} is not in {path.name}; it has: {', '.join(names)}."
                )
            session.branch = session.timeline.by_name(branch)
        head = session.branch.head_tick
        tick = 0 if at is None else seconds_to_tick(at)
        if not 0 <= tick <= head:
            raise RenderRequestError(
                f"--at {at} is outside branch {session.branch.name!r}, which runs 0..{tick_to_seconds(head):.2f} s."
            )
        state = session.timeline.seek(session.branch, tick)
        world = session.world
        if camera is not None:
            pos, yaw, pitch = camera
            cam = Camera(np.array(pos, float), yaw=yaw, pitch=pitch, width=width, height=height)
        elif at is None:
            cam = world.spawn_camera(width=width, height=height)
        else:
            cam = session.camera_for(state, width=width, height=height)
        return render_state(world, state, cam, backend=backend)
    finally:
        session.close()
        session.world.close()
