"""The CUDA backend: gsplat's `rasterization`, called with Tidepool's conventions.

gsplat is imported lazily, so the CPU path never needs it. Inputs and outputs match the other
backends: OpenCV viewmat, K, wxyz quaternions (gsplat normalises them), sRGB colours blended as
stored, `eps2d` = `EPS2D`, "classic" rasterisation, expected depth ("RGB+ED") and background.
gsplat clamps a Gaussian's alpha at 0.999 where the reference and CPU backends use `ALPHA_MAX`
(0.99); the difference shows only behind nearly opaque splats.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

from studio.render.common import EPS2D, Frame, RenderError, SplatInputs

GSPLAT_ALPHA_MAX = 0.999
"""The per-Gaussian alpha clamp hard-coded in gsplat's CUDA kernels."""

_INSTALL_HINT = "install it on a CUDA machine with: pip install 'tidepool-studio[gpu]'"


@functools.cache
def cuda_problem() -> str | None:
    """Why backend='cuda' cannot render on this machine, or None when it can. Probed once.

    gsplat builds its CUDA kernels the first time they load (a few minutes; `make studio`
    does it at setup) and disables itself where it finds no CUDA toolkit, so a GPU and an
    importable gsplat are not enough: the kernels must load. Looks for gsplat first:
    importing torch costs over a second, wasted where gsplat is absent.
    """
    if importlib.util.find_spec("gsplat") is None:
        return f"gsplat is not installed; {_INSTALL_HINT}"
    try:
        import torch
    except ImportError as err:
        return f"torch does not import ({err})"
    if not torch.cuda.is_available():
        return "torch sees no NVIDIA GPU; use backend='cpu' or 'auto'"
    toolkit = f"the CUDA toolkit whose version matches torch's (CUDA {torch.version.cuda})"
    try:
        # gsplat's documented way to build (or load the built) kernels ahead of a first render.
        from gsplat.cuda._backend import _C
    except Exception as err:  # a failed build raises whatever the compiler run raised
        return f"gsplat's CUDA kernels failed to build ({err}); install {toolkit} and try again"
    if _C is None:
        return f"gsplat found no CUDA toolkit (nvcc) to build its kernels; install {toolkit}"
    return None


def cuda_available() -> bool:
    """True when torch sees a CUDA device and gsplat's kernels load (see `cuda_problem`)."""
    return cuda_problem() is None


def render_cuda(inp: SplatInputs) -> Frame:
    """Render on the GPU with gsplat.rasterization; raises RenderError where it cannot."""
    problem = cuda_problem()
    if problem is not None:
        raise RenderError(f"backend='cuda' cannot render here: {problem}.")
    import torch
    from gsplat import rasterization

    H, W = inp.height, inp.width
    if len(inp) == 0:  # gsplat does not accept N = 0
        rgb = np.broadcast_to(inp.background, (H, W, 3))
        from studio.render.common import to_uint8

        return Frame(to_uint8(rgb), np.zeros((H, W), np.float32), np.zeros((H, W), np.float32))
    dev = torch.device("cuda")

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(dev)

    with torch.no_grad():
        colors, alphas, _ = rasterization(
            means=t(inp.means),  # [N, 3]
            quats=t(inp.quats),  # [N, 4] wxyz
            scales=t(inp.scales),  # [N, 3]
            opacities=t(inp.opacities),  # [N]
            colors=t(inp.colors),  # [N, 3] sRGB, blended as stored
            viewmats=t(inp.viewmat)[None],  # [1, 4, 4] world -> OpenCV camera
            Ks=t(inp.K)[None],  # [1, 3, 3]
            width=W,
            height=H,
            near_plane=inp.near,
            far_plane=inp.far,
            eps2d=EPS2D,
            packed=False,
            backgrounds=t(inp.background)[None],  # [1, 3]
            render_mode="RGB+ED",
            rasterize_mode="classic",
        )
        rgb = colors[0, :, :, :3].clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
        depth = colors[0, :, :, 3]
        alpha = alphas[0, :, :, 0]
        depth = torch.where(alpha > 0, depth, torch.zeros_like(depth))
        return Frame(
            rgb.cpu().numpy(),
            depth.float().cpu().numpy(),
            alpha.float().cpu().numpy(),
        )


if __name__ == "__main__":  # `make` runs this where nvidia-smi exists: build the kernels at setup
    problem = cuda_problem()
    print("CUDA renderer (gsplat): " + ("ready" if problem is None else f"not used ({problem})"))
