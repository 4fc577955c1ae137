"""What every render backend shares: the `Frame` it returns, the blending constants, and input checks.

The constants follow the 3DGS papers and gsplat's "classic" mode, so the three backends
(`reference`, `cpu`, `cuda`) agree to within rounding:

- the projected 2D covariance gets `EPS2D` px² added on its diagonal (a low-pass filter that
  keeps every splat at least about a pixel wide);
- a Gaussian's alpha at a pixel is ``min(ALPHA_MAX, opacity * exp(-q / 2))`` with ``q`` the
  Mahalanobis distance² of the pixel centre; alphas below `ALPHA_MIN` are skipped;
- a pixel stops blending at the first Gaussian that would bring its transmittance below
  `T_MIN` (that Gaussian is not blended, as in gsplat);
- the Jacobian of the pinhole projection is evaluated at the Gaussian's view direction clamped
  to `FOV_CLAMP` x the half-field of view beyond the image border (gsplat's clamp), so splats
  far off-screen do not blow up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.gaussians import Gaussians

EPS2D = 0.3
"""px² added to the diagonal of every projected 2D covariance (low-pass filter)."""
ALPHA_MAX = 0.99
"""Largest alpha a single Gaussian may have at a pixel."""
ALPHA_MIN = 1.0 / 255.0
"""Alphas below this are skipped."""
T_MIN = 1e-4
"""A pixel stops at the first Gaussian that would bring its transmittance below this."""
FOV_CLAMP = 0.3
"""How far beyond the image (as a fraction of the half field of view) the Jacobian is clamped."""


class RenderError(ValueError):
    """A render input is unusable; the message names it and the fix."""


class RenderCancelled(Exception):
    """A render stopped early because its `Cancel` was set; it produced no frame."""


class Cancel:
    """A flag another thread sets to stop a render that is no longer wanted (the live viewport
    sets it when a key press arrives during a frame that cannot show it).

    The CPU kernels read the flag between chunks of work (a tile, a few thousand Gaussians), so
    a render stops within about a millisecond and raises `RenderCancelled`; the other backends
    check it between stages. `clear()` before each render.
    """

    def __init__(self) -> None:
        self.flag = np.zeros(1, np.int64)  # read atomically by the kernels

    def set(self) -> None:
        self.flag[0] = 1

    def clear(self) -> None:
        self.flag[0] = 0

    @property
    def is_set(self) -> bool:
        return bool(self.flag[0])

    def check(self) -> None:
        """Raise `RenderCancelled` if the flag is set."""
        if self.flag[0]:
            raise RenderCancelled("render cancelled")


@dataclass(eq=False)
class Frame:
    """One rendered image.

    rgb (H, W, 3) uint8 sRGB, background included; depth (H, W) float32 alpha-weighted expected
    depth along the camera's optical axis in metres (``sum(w_i z_i) / sum(w_i)``; 0 where
    alpha is 0); alpha (H, W) float32 accumulated opacity in [0, 1).
    """

    rgb: np.ndarray
    depth: np.ndarray
    alpha: np.ndarray

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


@dataclass(eq=False)
class SplatInputs:
    """Render inputs after checking: contiguous float32 arrays and a float64 camera."""

    means: np.ndarray  # (N, 3) float32
    quats: np.ndarray  # (N, 4) float32 wxyz (backends normalise them)
    scales: np.ndarray  # (N, 3) float32
    opacities: np.ndarray  # (N,) float32
    colors: np.ndarray  # (N, 3) float32
    viewmat: np.ndarray  # (4, 4) float64 world -> OpenCV camera
    K: np.ndarray  # (3, 3) float64
    width: int
    height: int
    near: float
    far: float
    background: np.ndarray  # (3,) float32 sRGB in [0, 1]

    def __len__(self) -> int:
        return int(self.means.shape[0])


def _f32(name: str, value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise RenderError(f"gaussians.{name} has dtype {arr.dtype}; expected a float array.")
    if arr.shape != shape:
        raise RenderError(
            f"gaussians.{name} has shape {arr.shape}; expected {shape}. "
            "Check the Gaussians with validate()."
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def prepare_inputs(
    gaussians: Gaussians,
    viewmat: np.ndarray,
    K: np.ndarray,
    width: int,
    height: int,
    *,
    near: float,
    far: float,
    background: tuple[float, float, float] | np.ndarray,
) -> SplatInputs:
    """Check shapes and convert every array to what the kernels take (copies only when needed).

    float64 or non-contiguous arrays are converted to contiguous float32; every backend
    normalises quaternions (as gsplat does). Values are trusted otherwise: call
    ``Gaussians.validate()`` on data from outside. Non-finite Gaussians are dropped by every backend.
    """
    n = int(np.asarray(gaussians.means).shape[0]) if np.ndim(gaussians.means) == 2 else -1
    if n < 0:
        raise RenderError(
            f"gaussians.means has shape {np.shape(gaussians.means)}; expected (N, 3) positions."
        )
    means = _f32("means", gaussians.means, (n, 3))
    quats = _f32("quats", gaussians.quats, (n, 4))
    scales = _f32("scales", gaussians.scales, (n, 3))
    opacities = _f32("opacities", gaussians.opacities, (n,))
    colors = _f32("colors", gaussians.colors, (n, 3))

    V = np.asarray(viewmat, dtype=np.float64)
    if V.shape != (4, 4) or not np.isfinite(V).all():
        raise RenderError(
            f"viewmat must be a finite (4, 4) world-to-camera matrix; got shape {V.shape}."
        )
    Km = np.asarray(K, dtype=np.float64)
    if Km.shape != (3, 3) or not np.isfinite(Km).all() or Km[0, 0] <= 0 or Km[1, 1] <= 0:
        raise RenderError(
            f"K must be finite (3, 3) pinhole intrinsics with fx, fy > 0; got {Km.tolist()}."
        )
    if int(width) != width or int(height) != height or width < 1 or height < 1:
        raise RenderError(f"image size {width}x{height} must be positive integers.")
    if not 0 < near < far:
        raise RenderError(f"near {near} and far {far} must satisfy 0 < near < far.")
    bg = np.asarray(background, dtype=np.float32).reshape(-1)
    if bg.shape != (3,) or not np.all((bg >= 0) & (bg <= 1)):
        raise RenderError(
            f"background must be an sRGB triple in [0, 1], e.g. (0, 0, 0); got {np.asarray(background).tolist()}."
        )
    return SplatInputs(
        means, quats, scales, opacities, colors, V, Km, int(width), int(height),
        float(near), float(far), bg,
    )  # fmt: skip


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) float colours in [0, 1] -> uint8 via round(clip(x, 0, 1) * 255)."""
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
