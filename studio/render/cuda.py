"""The CUDA backend: gsplat's `rasterization`, called with Tidepool's conventions.

gsplat is imported lazily, so the CPU path never needs it. Inputs and outputs match the other
backends: OpenCV viewmat, K, wxyz quaternions (gsplat normalises them), sRGB colours blended as
stored, `eps2d` = `EPS2D`, "classic" rasterisation, expected depth ("RGB+ED") and background.
gsplat clamps a Gaussian's alpha at 0.999 where the reference and CPU backends use `ALPHA_MAX`
(0.99); the difference shows only behind nearly opaque splats.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from studio.render.common import EPS2D, Frame, RenderError, SplatInputs

GSPLAT_ALPHA_MAX = 0.999
"""The per-Gaussian alpha clamp hard-coded in gsplat's CUDA kernels."""

_INSTALL_HINT = "install it on a CUDA machine with: pip install 'tidepool-studio[gpu]'"


def cuda_available() -> bool:
    """True when torch sees a CUDA device and gsplat imports.

    Looks for gsplat first: importing torch costs over a second, wasted where gsplat is absent.
    """
    if importlib.util.find_spec("gsplat") is None:
        return False
    try:
        import torch

        if not torch.cuda.is_available():
            return False
        import gsplat  # noqa: F401
    except ImportError:
        return False
    return True


def render_cuda(inp: SplatInputs) -> Frame:
    """Render on the GPU with gsplat.rasterization; raises RenderError without CUDA or gsplat."""
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is a core dependency
        raise RenderError(f"backend='cuda' needs torch with CUDA ({err}).") from err
    if not torch.cuda.is_available():
        raise RenderError(
            "backend='cuda' needs an NVIDIA GPU, but torch sees none; use backend='cpu' or 'auto'."
        )
    try:
        from gsplat import rasterization
    except ImportError as err:
        raise RenderError(
            f"backend='cuda' needs gsplat, which is not installed; {_INSTALL_HINT}."
        ) from err

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
