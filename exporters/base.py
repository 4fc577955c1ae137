"""What every exporter shares: the request, progress and cancellation, atomic writes, the take.

An exporter is a function ``(request, *, progress, cancel) -> bytes | Path``: with
``request.output`` set it writes that file (through a temporary name renamed into place, so a
failed or cancelled export never leaves a partial file) and returns the path; without it, it
returns the file's bytes (trimesh style).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from studio.camera import Camera
from studio.conventions import TICK_HZ
from studio.storage import ProjectFile, TakeRow

Axes = Literal["y-up", "inria"]
ProgressFn = Callable[[float], None]


class ExportError(ValueError):
    """An export was asked for something that cannot be made; the message says what to change."""


class ExportCancelled(RuntimeError):
    """The export was cancelled through its `cancel` event; nothing was written."""


@dataclass(frozen=True)
class ExportRequest:
    """One export: which take of which project, where to, and the format's options.

    `radius` (metres) bounds the region around the take's camera path for splat and mesh
    exports; None takes the whole area the take's cameras can see (`studio.world.VIEW_DISTANCE`).
    `axes` applies to PLY and .splat: "inria" is the y-down frame of the 3DGS reference code
    (what SuperSplat, antimatter15's viewer and most web viewers expect), "y-up" is Tidepool's
    world as it is (glTF/Unity/Blender-after-import orientation).
    """

    project: Path
    take: str | None
    """None: the world around its spawn point (splats and meshes only; see `load_take`)."""
    output: Path | None = None
    width: int = 1280
    height: int = 720
    fps: Literal[24, 30, 60] = 30
    radius: float | None = 48.0
    axes: Axes = "inria"
    spz_version: Literal[2, 3, 4] = 2
    backend: str = "auto"
    audio: bool = True

    def __post_init__(self) -> None:
        if self.fps not in (24, 30, 60):
            raise ExportError(f"fps {self.fps} is not supported; use 24, 30 or 60.")
        if not (2 <= self.width <= 8192 and 2 <= self.height <= 8192):
            raise ExportError(f"size {self.width}x{self.height} must be 2..8192 pixels per side.")
        if self.width % 2 or self.height % 2:
            raise ExportError(
                f"size {self.width}x{self.height}: H.264 yuv420p needs even sides; "
                f"use e.g. {self.width + self.width % 2}x{self.height + self.height % 2}."
            )
        if self.radius is not None and not (0 < self.radius <= 2000):
            raise ExportError(f"radius {self.radius} m must be in (0, 2000], or None for all.")
        if self.axes not in ("y-up", "inria"):
            raise ExportError(f"axes {self.axes!r} must be 'y-up' or 'inria'.")
        if self.spz_version not in (2, 3, 4):
            raise ExportError(f"spz version {self.spz_version} must be 2, 3 or 4.")


class Exporter(Protocol):
    def __call__(
        self,
        request: ExportRequest,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> bytes | Path: ...


class Steps:
    """Progress in [0, 1] and cancellation checks for a loop of known length."""

    def __init__(self, progress: ProgressFn | None, cancel: threading.Event | None) -> None:
        self.progress = progress
        self.cancel = cancel

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ExportCancelled("export cancelled; no file was written")

    def report(self, fraction: float) -> None:
        self.check()
        if self.progress is not None:
            self.progress(float(min(1.0, max(0.0, fraction))))


@contextlib.contextmanager
def atomic_path(output: Path) -> Iterator[Path]:
    """A temporary path beside `output`, renamed onto it only if the block succeeds."""
    output = Path(output)
    if not output.parent.exists():
        raise ExportError(f"-o {output}: folder {output.parent} does not exist; create it first.")
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        tmp_path.chmod(0o666 & ~umask)  # mkstemp makes 0600; exports are ordinary files
        os.replace(tmp_path, output)
    finally:
        tmp_path.unlink(missing_ok=True)


def deliver(request: ExportRequest, write: Callable[[Path], None]) -> bytes | Path:
    """Run `write(path)` into request.output atomically, or into a temp file whose bytes return."""
    if request.output is not None:
        with atomic_path(request.output) as tmp:
            write(tmp)
        return Path(request.output)
    with tempfile.TemporaryDirectory(prefix="tidepool-export-") as d:
        tmp = Path(d) / "out"
        write(tmp)
        return tmp.read_bytes()


def open_take(project: Path) -> ProjectFile:
    return ProjectFile.open(project, readonly=True)


SPAWN_TAKE = "spawn"
"""What a world exported without a take is named after: the view from its spawn point."""


def load_take(store: ProjectFile, name: str | None) -> TakeRow:
    """The take `name`, or an ExportError listing the takes the file has. None is the spawn
    view: one tick at the start of the main branch, from the camera a world opens with, so
    splats and meshes of a world export without recording a take first."""
    if name is None:
        return spawn_take(store)
    names = [t.name for t in store.takes()]
    if name not in names:
        have = ", ".join(repr(n) for n in names) or "none (record one in the studio first)"
        raise ExportError(f"take {name!r} is not in {store.path.name}; it has: {have}.")
    take = store.take(name)
    if len(take.cameras) == 0:
        raise ExportError(f"take {name!r} is empty (no ticks); record it again.")
    return take


def spawn_take(store: ProjectFile) -> TakeRow:
    """The spawn view as a one-tick take on the main branch (see `load_take`)."""
    from studio.session import camera_row
    from studio.storage import MAIN_BRANCH
    from studio.world import World

    main = next(b for b in store.branches() if b.name == MAIN_BRANCH)
    cam = World(store.spec, background=False).spawn_camera()
    return TakeRow(SPAWN_TAKE, main.id, 0, 1, np.array([camera_row(cam)], np.float64))


def take_camera(take: TakeRow, i: int, *, width: int = 1280, height: int = 720) -> Camera:
    """The camera of row `i` of a take (row i is tick start_tick + i)."""
    x, y, z, yaw, pitch, roll, vfov = (float(v) for v in take.cameras[i])
    return Camera(np.array([x, y, z]), yaw, pitch, roll, vfov, width, height)


def take_seconds(take: TakeRow) -> float:
    return len(take.cameras) / TICK_HZ


def frame_ticks(take: TakeRow, fps: int) -> np.ndarray:
    """(F,) take rows drawn by each video frame: frame k shows the tick at time k / fps."""
    n = int(np.floor(len(take.cameras) * fps / TICK_HZ + 1e-9))
    return np.floor(np.arange(n) * TICK_HZ / fps + 1e-9).astype(np.int64)
