"""Splat rendering: `render(gaussians, camera) -> Frame` on CUDA (gsplat) or CPU (numba).

Backends: "cpu" (numba tile rasteriser), "cuda" (gsplat), "reference" (numpy, slow, the truth
for tests) and "auto" (cuda when torch sees a GPU and gsplat's kernels load, else cpu; it logs
which, and why not cuda).
"""

from studio.render.api import Backend, render, render_view, resolve_backend
from studio.render.common import Cancel, Frame, RenderCancelled, RenderError

__all__ = [
    "Backend",
    "Cancel",
    "Frame",
    "RenderCancelled",
    "RenderError",
    "render",
    "render_view",
    "resolve_backend",
]
