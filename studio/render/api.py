"""`render` and `render_view`: the one entry to every splat backend."""

from __future__ import annotations

import functools
import logging
import shutil
from typing import Literal

import numpy as np

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.render.common import Cancel, Frame, RenderError, prepare_inputs

log = logging.getLogger(__name__)

Backend = Literal["auto", "cpu", "cuda", "reference"]
BACKENDS: tuple[str, ...] = ("auto", "cpu", "cuda", "reference")


@functools.cache
def auto_backend() -> Literal["cpu", "cuda"]:
    """What "auto" means on this machine: cuda when torch sees a GPU and gsplat's kernels load,
    else cpu. Probed once per process and logged, with the reason when it is cpu.
    """
    from studio.render.cuda import cuda_problem

    problem = cuda_problem()
    if problem is None:
        log.info("render backend 'auto' chose 'cuda'")
        return "cuda"
    log.info("render backend 'auto' chose 'cpu' (%s)", problem)
    return "cpu"


def describe_auto() -> str:
    """What "auto" renders with here, in a line for people (the studio prints it at start):
    the GPU's name, or the CPU's thread count and, where an NVIDIA driver is present, why the
    GPU is not used. Probes like `auto_backend` (seconds where gsplat is installed)."""
    from studio.render.cuda import cuda_problem

    if auto_backend() == "cuda":
        import torch

        return f"GPU ({torch.cuda.get_device_name(0)}, gsplat)"
    import numba

    line = f"CPU (numba, {numba.get_num_threads()} threads)"
    if shutil.which("nvidia-smi"):
        line += f"; the GPU is not used: {cuda_problem()}"
    return line


def resolve_backend(backend: Backend) -> Literal["cpu", "cuda", "reference"]:
    """The concrete backend for a name ("auto" resolved by `auto_backend`)."""
    if backend not in BACKENDS:
        raise RenderError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}.")
    return auto_backend() if backend == "auto" else backend


def render_view(
    gaussians: Gaussians,
    viewmat: np.ndarray,  # (4, 4) world -> OpenCV camera
    K: np.ndarray,  # (3, 3) pinhole intrinsics
    width: int,
    height: int,
    *,
    near: float = 0.01,
    far: float = 1e10,
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
    backend: Backend = "auto",
    cancel: Cancel | None = None,
) -> Frame:
    """Render Gaussians seen through an OpenCV view matrix and intrinsics K.

    Arrays may be float64 or non-contiguous: they are converted to contiguous float32 (a copy
    only where needed), and quaternions are normalised. Shapes are checked; values are not
    (call ``Gaussians.validate()`` on outside data), but non-finite Gaussians never draw.
    Gaussians whose mean lies outside (near, far) in depth are culled, as in gsplat.
    A set `cancel` stops the render early with `RenderCancelled`.
    """
    inp = prepare_inputs(
        gaussians, viewmat, K, width, height, near=near, far=far, background=background
    )
    chosen = resolve_backend(backend)
    if chosen == "cpu":
        from studio.render.cpu import render_cpu

        return render_cpu(inp, cancel=cancel)
    if cancel is not None:
        cancel.check()
    if chosen == "cuda":
        from studio.render.cuda import render_cuda

        frame = render_cuda(inp)
    else:
        from studio.render.reference import render_reference

        frame = render_reference(inp)
    if cancel is not None:
        cancel.check()
    return frame


def render(
    gaussians: Gaussians,
    camera: Camera,
    *,
    width: int | None = None,
    height: int | None = None,
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
    backend: Backend = "auto",
    cancel: Cancel | None = None,
) -> Frame:
    """Render Gaussians from a `Camera`: rgb uint8 (H, W, 3), depth and alpha float32 (H, W).

    width/height default to the camera's; other values render the same view at that size
    (``camera.with_size``: K scales with the size, vfov stays). The camera's near/far planes
    cull Gaussians by the depth of their mean. See `render_view` for how inputs are converted.
    """
    if width is not None or height is not None:
        w = camera.width if width is None else width
        h = camera.height if height is None else height
        if (w, h) != (camera.width, camera.height):
            camera = camera.with_size(w, h)
    return render_view(
        gaussians,
        camera.viewmat(),
        camera.K(),
        camera.width,
        camera.height,
        near=camera.near,
        far=camera.far,
        background=background,
        backend=backend,
        cancel=cancel,
    )
