"""The slow, obviously correct splat renderer (numpy, float64) that the fast backends are tested against.

It follows `studio.render.common`'s conventions step by step: 3D covariance R·S·Sᵀ·Rᵀ, rotated
into the camera and projected through the pinhole Jacobian to a 2D covariance plus `EPS2D`;
one global depth sort; front-to-back blending with alpha = min(ALPHA_MAX, opacity·exp(-q/2)).
It loops over Gaussians in Python and evaluates each one over the pixels of its bounding box,
so use it at small sizes (about 200x150 with a few thousand Gaussians).
"""

from __future__ import annotations

import numpy as np

from studio.render.common import (
    ALPHA_MAX,
    ALPHA_MIN,
    EPS2D,
    FOV_CLAMP,
    T_MIN,
    Frame,
    SplatInputs,
    to_uint8,
)


def quat_scale_to_covariance(quats: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """(N, 4) unit wxyz quaternions and (N, 3) scales -> (N, 3, 3) covariances R·S·Sᵀ·Rᵀ."""
    q = np.asarray(quats, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # a zero quaternion becomes NaN: dropped
        q = q / np.linalg.norm(q, axis=1, keepdims=True)  # unit rotations, as gsplat normalises
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    R = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=1,
    )  # (N, 3, 3)
    M = R * np.asarray(scales, dtype=np.float64)[:, None, :]  # R·S
    return M @ M.transpose(0, 2, 1)


def project(inp: SplatInputs) -> dict[str, np.ndarray]:
    """Project every Gaussian: (N, 2) means2d, (N, 2, 2) cov2d, (N,) depth, (N,) bool valid."""
    V, K = inp.viewmat, inp.K
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    means_c = inp.means.astype(np.float64) @ V[:3, :3].T + V[:3, 3]  # (N, 3)
    cov_c = V[:3, :3] @ quat_scale_to_covariance(inp.quats, inp.scales) @ V[:3, :3].T  # (N, 3, 3)
    x, y, z = means_c.T
    valid = (z > inp.near) & (z < inp.far)
    zs = np.where(valid, z, 1.0)  # avoid dividing by 0 for culled Gaussians
    # Jacobian of (fx x/z + cx, fy y/z + cy), evaluated at a view direction clamped near the image.
    lim_x = (inp.width - cx) / fx + FOV_CLAMP * 0.5 * inp.width / fx
    lim_x_neg = cx / fx + FOV_CLAMP * 0.5 * inp.width / fx
    lim_y = (inp.height - cy) / fy + FOV_CLAMP * 0.5 * inp.height / fy
    lim_y_neg = cy / fy + FOV_CLAMP * 0.5 * inp.height / fy
    tx = zs * np.clip(x / zs, -lim_x_neg, lim_x)
    ty = zs * np.clip(y / zs, -lim_y_neg, lim_y)
    J = np.zeros((len(z), 2, 3))
    J[:, 0, 0] = fx / zs
    J[:, 0, 2] = -fx * tx / zs**2
    J[:, 1, 1] = fy / zs
    J[:, 1, 2] = -fy * ty / zs**2
    cov2d = J @ cov_c @ J.transpose(0, 2, 1) + EPS2D * np.eye(2)
    means2d = np.stack([fx * x / zs + cx, fy * y / zs + cy], axis=1)
    finite = np.isfinite(means2d).all(1) & np.isfinite(cov2d).all((1, 2))
    finite &= np.isfinite(inp.colors).all(1) & np.isfinite(inp.opacities)
    finite &= np.isfinite(cov_c).all((1, 2))  # also drops zero quaternions
    return {"means2d": means2d, "cov2d": cov2d, "depth": z, "valid": valid & finite}


def render_reference(inp: SplatInputs, *, alpha_max: float = ALPHA_MAX) -> Frame:
    """Render with the reference algorithm. `alpha_max` exists to compare with gsplat (0.999)."""
    H, W = inp.height, inp.width
    C = np.zeros((H, W, 3))
    D = np.zeros((H, W))
    T = np.ones((H, W))
    done = np.zeros((H, W), dtype=bool)
    if len(inp):
        p = project(inp)
        ids = np.flatnonzero(p["valid"])
        ids = ids[np.argsort(p["depth"][ids], kind="stable")]  # one global front-to-back order
        for i in ids:
            op = float(inp.opacities[i])
            if op < ALPHA_MIN:
                continue  # alpha <= opacity: it can never reach ALPHA_MIN
            mx, my = p["means2d"][i]
            cov = p["cov2d"][i]
            conic = np.linalg.inv(cov)
            # Pixels whose alpha can reach ALPHA_MIN lie inside q <= 2 ln(op / ALPHA_MIN); its
            # bounding box (plus a pixel) bounds the work without changing the result.
            level = 2.0 * np.log(op / ALPHA_MIN)
            hx = np.sqrt(level * cov[0, 0]) + 1.0
            hy = np.sqrt(level * cov[1, 1]) + 1.0
            u0, u1 = max(int(np.floor(mx - hx)), 0), min(int(np.ceil(mx + hx)), W)
            v0, v1 = max(int(np.floor(my - hy)), 0), min(int(np.ceil(my + hy)), H)
            if u0 >= u1 or v0 >= v1:
                continue
            dx = (np.arange(u0, u1) + 0.5)[None, :] - mx  # pixel centres at +0.5
            dy = (np.arange(v0, v1) + 0.5)[:, None] - my
            q = conic[0, 0] * dx * dx + 2 * conic[0, 1] * dx * dy + conic[1, 1] * dy * dy
            alpha = np.minimum(alpha_max, op * np.exp(-0.5 * q))
            Tw = T[v0:v1, u0:u1]
            live = (alpha >= ALPHA_MIN) & ~done[v0:v1, u0:u1]
            next_T = Tw * (1.0 - alpha)
            stop = live & (next_T < T_MIN)
            done[v0:v1, u0:u1] |= stop
            blend = live & ~stop
            w = np.where(blend, alpha * Tw, 0.0)
            C[v0:v1, u0:u1] += w[..., None] * inp.colors[i].astype(np.float64)
            D[v0:v1, u0:u1] += w * p["depth"][i]
            T[v0:v1, u0:u1] = np.where(blend, next_T, Tw)
    alpha_img = 1.0 - T
    rgb = C + T[..., None] * inp.background.astype(np.float64)
    depth = np.where(alpha_img > 0, D / np.maximum(alpha_img, 1e-300), 0.0)
    return Frame(to_uint8(rgb), depth.astype(np.float32), alpha_img.astype(np.float32))
