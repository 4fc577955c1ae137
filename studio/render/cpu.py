"""The CPU splat rasteriser: numba kernels, parallel over Gaussians and over 16x16 tiles.

Written by hand because no maintained library renders Gaussian splats fast on a CPU (gsplat
and the INRIA rasteriser are CUDA-only; splax on JAX/CPU reached 1.5 fps on our scene).

Stages (each a compiled kernel; nothing loops over Gaussians in Python):

1. project — camera transform, near/far culling, a cheap frustum cull on a bound of each
   splat's extent, then the 2D covariance (`EPS2D` added), conic, and the exact ellipse where
   alpha can reach 1/255 (`q <= L`, L = 2 ln(255·opacity)), written straight into one 64-byte
   record per Gaussian (rows stay in memory order). Blocks of 64 Gaussians go through the
   covariance without branches (a SIMD loop); only the kept ones take the scalar rest (the
   log, the exact bounds, the record), and the rare covariances that need their eigenvalues
   clamped take the scalar path whole.
2. sort — one global LSD radix sort (two 16-bit passes) of the visible Gaussians on their
   depth's float bits (depths are positive, so the bits order like the floats).
3. bin — every Gaussian is listed in the tiles its ellipse covers (exact per tile row, not
   its bounding square). The depth-sorted list is cut into chunks; counts per (chunk, tile)
   and a prefix sum give a stable parallel scatter, so each tile's list is depth-ordered
   without sorting per tile.
4. blend — workers take tiles costliest first (longest list) from a shared atomic counter;
   a tile's records are copied a block at a time (the cache misses overlap), then each
   Gaussian runs on the tile rows its ellipse crosses, 16 lanes a row in SIMD, front to back,
   with early termination per pixel, per row and per tile.

Every parallel stage hands out work dynamically (chunks taken from an atomic counter), not
split evenly up front, so a core taken by another process slows the frame instead of
stalling it. No result depends on which worker did what: the output is identical for any
thread count.

The conventions (constants, pixel centres at +0.5, the Jacobian clamp) are those of
`studio.render.common`, and `studio.render.reference` is the truth tests compare against.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import threading
import time
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from studio.render.common import (
    ALPHA_MAX,
    ALPHA_MIN,
    EPS2D,
    FOV_CLAMP,
    T_MIN,
    Cancel,
    Frame,
    SplatInputs,
)

TILE = 16
"""Tile side in pixels."""


def _threadsafe_layer() -> bool:
    """Whether numba's threading layer lets several threads launch parallel regions at once:
    tbb and omp do; the fallback workqueue (used when neither library is installed) aborts."""
    if numba.config.THREADING_LAYER == "workqueue":
        return False
    for pool in ("numba.np.ufunc.tbbpool", "numba.np.ufunc.omppool"):
        try:
            importlib.import_module(pool)
            return True
        except Exception:  # a missing shared library is an ImportError or an OSError
            continue
    return False


_THREADSAFE = _threadsafe_layer()
_LAUNCH_LOCK = threading.Lock()


def parallel_launch() -> contextlib.AbstractContextManager:
    """Hold around parallel kernels. The kernels release the GIL (``nogil=True``), so the
    server's event loop and other sessions keep running during a frame; where the threading
    layer cannot take launches from two threads at once, this serialises them."""
    return contextlib.nullcontext() if _THREADSAFE else _LAUNCH_LOCK


# Record layout of one projected, sorted Gaussian (float32, 16 fields = 64 bytes).
_X, _Y, _A, _B, _C, _L, _OP, _Z, _R, _G, _BL, _HX, _HY, _DET, _DYM, _INVA = range(16)
_REC = 16

_ALPHA_MAX = np.float32(ALPHA_MAX)
_ALPHA_MIN = np.float32(ALPHA_MIN)
_T_MIN = np.float32(T_MIN)


@dataclass
class StageTimes:
    """Milliseconds spent in each stage of the last frame, and what they worked on."""

    project_ms: float = 0.0
    sort_bin_ms: float = 0.0
    blend_ms: float = 0.0
    visible: int = 0
    tile_entries: int = 0
    extra: dict = field(default_factory=dict)


_CHUNK = 4096
"""Gaussians a worker takes at a time in the parallel stages (dynamic scheduling)."""
_DEPTH_CHUNKS = 4
"""Depth chunks per worker in the scatter, so a worker whose core is busy holds up little."""

LEVEL_OPAQUE = 2.0 * math.log(1.0 / ALPHA_MIN) * 1.001 + 1e-3
"""An upper bound of an opacity-1 Gaussian's level (q where its alpha falls to ALPHA_MIN)."""
SIGMA2_MAX = 1e10
"""px²: larger eigenvalues of a projected covariance are clamped (the splat is flat over any image)."""


@intrinsic
def _fetch_add(typingctx, arr, idx, val):
    """arr[idx] += val atomically on an int64 array; returns the old value (work counters)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        return None
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
        return builder.atomic_rmw("add", ptr, args[2], "monotonic")

    return sig, codegen


# No "nnan"/"ninf" fast-math flags here: the culling tests must see NaN and inf.
_PROJECT_MATH = {"nsz", "arcp", "contract"}


@njit(parallel=True, cache=True, nogil=True, fastmath=_PROJECT_MATH)
def _project(means, quats, scales, opacities, colors, V, v_norm2, fx, fy, cx, cy, width, height,
             near, far, out, vis, ub, n_workers, stop):  # fmt: skip
    """Project N Gaussians into (N, 16) float32 records (fields above).

    vis (N,) uint8 marks the Gaussians drawn; ub (N,) int64 bounds how many tiles each touches
    (its bounding box in tiles, a pixel wider), the room `_list_tiles` gets for its tile ids.
    Workers take _CHUNK Gaussians at a time until none are left, or until stop[0] is set.
    """
    n = means.shape[0]
    next_chunk = np.zeros(1, np.int64)
    for _w in prange(n_workers):
        lims = (  # the rays' clamp (x/z, -x/z, y/z, -y/z): FOV_CLAMP beyond the image's edges
            (width - cx) / fx + FOV_CLAMP * 0.5 * width / fx,
            cx / fx + FOV_CLAMP * 0.5 * width / fx,
            (height - cy) / fy + FOV_CLAMP * 0.5 * height / fy,
            cy / fy + FOV_CLAMP * 0.5 * height / fy,
        )
        blk = np.empty(_NB * _VB, np.float64)
        while True:
            c0 = _fetch_add(next_chunk, 0, _CHUNK)
            if c0 >= n or _fetch_add(stop, 0, 0):
                break
            for b0 in range(c0, min(c0 + _CHUNK, n), _VB):
                m = min(_VB, n - b0)
                _project_block(means, quats, scales, opacities, colors, V, v_norm2, fx, fy, cx,
                               cy, width, height, near, far, lims, b0, m, blk)  # fmt: skip
                for u in range(m):
                    i = b0 + u
                    flag = blk[_B_FLAG * _VB + u]
                    if flag == 2.0:  # a clamped eigenvalue: the scalar path, rarely taken
                        _project_one(means, quats, scales, opacities, colors, V, v_norm2, fx, fy,
                                     cx, cy, width, height, near, far, lims, out, vis, ub,
                                     i)  # fmt: skip
                    elif flag == 1.0:
                        _finish_one(blk, u, opacities[i], colors, width, height, out, vis, ub, i)
                    else:
                        vis[i] = 0
                        ub[i] = 0


_VB = 64
"""Gaussians per block of the branch-free (SIMD) part of the projection."""
_B_MX, _B_MY, _B_SXX, _B_SXY, _B_SYY, _B_Z, _B_FLAG = range(7)
_NB = 7


@njit(inline="always", fastmath=_PROJECT_MATH)
def _project_block(means, quats, scales, opacities, colors, V, v_norm2, fx, fy, cx, cy, width,
                   height, near, far, lims, b0, m, blk):  # fmt: skip
    """Gaussians b0..b0+m up to their 2D covariance, without branches (so LLVM vectorises the
    loop): blk (_NB * _VB,) gets the centre, covariance, depth and a flag per Gaussian:
    0 culled, 1 kept, 2 kept but its covariance needs the eigenvalue clamp (`_project_one`)."""
    m_f, q_f, s_f = means.reshape(-1), quats.reshape(-1), scales.reshape(-1)
    c_f = colors.reshape(-1)
    Vr = _view_rotation(V)
    v03, v13, v23 = V[0, 3], V[1, 3], V[2, 3]
    for u in range(m):
        i = np.uint64(b0 + u)
        i3 = np.uint64(3) * i
        i4 = np.uint64(4) * i
        px = np.float64(m_f[i3])
        py = np.float64(m_f[i3 + np.uint64(1)])
        pz = np.float64(m_f[i3 + np.uint64(2)])
        z = Vr[6] * px + Vr[7] * py + Vr[8] * pz + v23
        op = np.float64(opacities[i])
        csum = c_f[i3] + c_f[i3 + np.uint64(1)] + c_f[i3 + np.uint64(2)]
        ok = (z > near) & (z < far) & (op >= ALPHA_MIN) & (csum - csum == 0.0)
        x = Vr[0] * px + Vr[1] * py + Vr[2] * pz + v03
        y = Vr[3] * px + Vr[4] * py + Vr[5] * pz + v13
        sx = np.float64(s_f[i3])
        sy = np.float64(s_f[i3 + np.uint64(1)])
        sz = np.float64(s_f[i3 + np.uint64(2)])
        mx, my, rz, j02, j12, hx, hy = _centre_and_bound(x, y, z, sx, sy, sz, op, v_norm2, fx,
                                                         fy, cx, cy, lims)  # fmt: skip
        ok = ok & (mx + hx >= 0.5) & (mx - hx <= width - 0.5) & (my + hy >= 0.5)
        ok = ok & (my - hy <= height - 0.5)
        qw = np.float64(q_f[i4])
        qx = np.float64(q_f[i4 + np.uint64(1)])
        qy = np.float64(q_f[i4 + np.uint64(2)])
        qz = np.float64(q_f[i4 + np.uint64(3)])
        ok = ok & (qw * qw + qx * qx + qy * qy + qz * qz > 0.0)
        sxx, sxy, syy = _covariance_2d(Vr, qw, qx, qy, qz, sx, sy, sz, fx, fy, rz, j02, j12)
        half_tr = 0.5 * (sxx + syy)
        root = math.sqrt(0.25 * (sxx - syy) ** 2 + sxy * sxy)
        rare = half_tr + root > SIGMA2_MAX
        det = sxx * syy - sxy * sxy
        ok = ok & (rare | (det > 0.0))
        blk[np.uint64(_B_MX * _VB + u)] = mx
        blk[np.uint64(_B_MY * _VB + u)] = my
        blk[np.uint64(_B_SXX * _VB + u)] = sxx
        blk[np.uint64(_B_SXY * _VB + u)] = sxy
        blk[np.uint64(_B_SYY * _VB + u)] = syy
        blk[np.uint64(_B_Z * _VB + u)] = z
        blk[np.uint64(_B_FLAG * _VB + u)] = np.float64(ok) * (1.0 + np.float64(rare))


@njit(inline="always")
def _view_rotation(V):
    """The view matrix's 3x3 rotation part, row-major, as a tuple (values, not loads)."""
    return (V[0, 0], V[0, 1], V[0, 2], V[1, 0], V[1, 1], V[1, 2], V[2, 0], V[2, 1], V[2, 2])


@njit(inline="always", fastmath=_PROJECT_MATH)
def _centre_and_bound(x, y, z, sx, sy, sz, op, v_norm2, fx, fy, cx, cy, lims):
    """For a Gaussian at (x, y, z) in the camera frame: its centre (mx, my) in pixels, the
    pinhole Jacobian's terms (rz = 1/z, j02, j12; the ray clamped FOV_CLAMP beyond the image),
    and (hx, hy) bounding its ellipse's half extents from above. A row of P = J·V_R·R·S has
    norm <= |J row|·v_norm·max scale; the bound takes the level of opacity 1 (or ln y <= y - 1
    above it), so culling on it needs no log."""
    lim_x, lim_xn, lim_y, lim_yn = lims
    rz = 1.0 / z
    tx = z * min(lim_x, max(-lim_xn, x * rz))
    ty = z * min(lim_y, max(-lim_yn, y * rz))
    j02 = -fx * tx * rz * rz
    j12 = -fy * ty * rz * rz
    mx = fx * x * rz + cx
    my = fy * y * rz + cy
    lvl = LEVEL_OPAQUE if op <= 1.0 else LEVEL_OPAQUE + 2.002 * (op - 1.0)
    s2 = max(sx * sx, sy * sy, sz * sz) * v_norm2 * 1.001
    hx = math.sqrt(lvl * (((fx * rz) ** 2 + j02 * j02) * s2 + EPS2D))
    hy = math.sqrt(lvl * (((fy * rz) ** 2 + j12 * j12) * s2 + EPS2D))
    return mx, my, rz, j02, j12, hx, hy


@njit(inline="always", fastmath=_PROJECT_MATH)
def _covariance_2d(Vr, qw, qx, qy, qz, sx, sy, sz, fx, fy, rz, j02, j12):
    """(sxx, sxy, syy) of Σ2 = P Pᵀ + EPS2D·I, P = J · V_R · R · S, with R the rotation of the
    wxyz quaternion (normalised as gsplat does: each product of two components over |q|²)."""
    v00, v01, v02, v10, v11, v12, v20, v21, v22 = Vr
    rn2 = 1.0 / (qw * qw + qx * qx + qy * qy + qz * qz)
    r00 = 1 - 2 * (qy * qy + qz * qz) * rn2
    r01 = 2 * (qx * qy - qw * qz) * rn2
    r02 = 2 * (qx * qz + qw * qy) * rn2
    r10 = 2 * (qx * qy + qw * qz) * rn2
    r11 = 1 - 2 * (qx * qx + qz * qz) * rn2
    r12 = 2 * (qy * qz - qw * qx) * rn2
    r20 = 2 * (qx * qz - qw * qy) * rn2
    r21 = 2 * (qy * qz + qw * qx) * rn2
    r22 = 1 - 2 * (qx * qx + qy * qy) * rn2
    m00 = (v00 * r00 + v01 * r10 + v02 * r20) * sx
    m01 = (v00 * r01 + v01 * r11 + v02 * r21) * sy
    m02 = (v00 * r02 + v01 * r12 + v02 * r22) * sz
    m10 = (v10 * r00 + v11 * r10 + v12 * r20) * sx
    m11 = (v10 * r01 + v11 * r11 + v12 * r21) * sy
    m12 = (v10 * r02 + v11 * r12 + v12 * r22) * sz
    m20 = (v20 * r00 + v21 * r10 + v22 * r20) * sx
    m21 = (v20 * r01 + v21 * r11 + v22 * r21) * sy
    m22 = (v20 * r02 + v21 * r12 + v22 * r22) * sz
    p00 = fx * rz * m00 + j02 * m20
    p01 = fx * rz * m01 + j02 * m21
    p02 = fx * rz * m02 + j02 * m22
    p10 = fy * rz * m10 + j12 * m20
    p11 = fy * rz * m11 + j12 * m21
    p12 = fy * rz * m12 + j12 * m22
    sxx = p00 * p00 + p01 * p01 + p02 * p02 + EPS2D
    sxy = p00 * p10 + p01 * p11 + p02 * p12
    syy = p10 * p10 + p11 * p11 + p12 * p12 + EPS2D
    return sxx, sxy, syy


@njit(inline="always", fastmath=_PROJECT_MATH)
def _finish_one(blk, u, op32, colors, width, height, out, vis, ub, i):
    """The record of Gaussian i (kept by `_project_block`, its values at u of blk)."""
    mx, my = blk[_B_MX * _VB + u], blk[_B_MY * _VB + u]
    sxx, sxy, syy = blk[_B_SXX * _VB + u], blk[_B_SXY * _VB + u], blk[_B_SYY * _VB + u]
    det = sxx * syy - sxy * sxy
    vis[i] = 0
    ub[i] = 0
    _write_record(mx, my, sxx, sxy, syy, det, np.float64(op32), blk[_B_Z * _VB + u], colors,
                  width, height, out, vis, ub, i)  # fmt: skip


@njit(inline="always", fastmath=_PROJECT_MATH)
def _project_one(means, quats, scales, opacities, colors, V, v_norm2, fx, fy, cx, cy, width,
                 height, near, far, lims, out, vis, ub, i):  # fmt: skip
    """Gaussian i of `_project`, whole and with branches (`_project_block` is the fast path)."""
    vis[i] = 0
    ub[i] = 0
    px, py, pz = np.float64(means[i, 0]), np.float64(means[i, 1]), np.float64(means[i, 2])
    z = V[2, 0] * px + V[2, 1] * py + V[2, 2] * pz + V[2, 3]
    op = np.float64(opacities[i])
    if not (z > near and z < far and op >= ALPHA_MIN):  # also rejects NaN
        return
    if not math.isfinite(colors[i, 0] + colors[i, 1] + colors[i, 2]):
        return
    x = V[0, 0] * px + V[0, 1] * py + V[0, 2] * pz + V[0, 3]
    y = V[1, 0] * px + V[1, 1] * py + V[1, 2] * pz + V[1, 3]
    sx, sy, sz = np.float64(scales[i, 0]), np.float64(scales[i, 1]), np.float64(scales[i, 2])
    mx, my, rz, j02, j12, hx, hy = _centre_and_bound(x, y, z, sx, sy, sz, op, v_norm2, fx, fy,
                                                     cx, cy, lims)  # fmt: skip
    if not (
        mx + hx >= 0.5 and mx - hx <= width - 0.5 and my + hy >= 0.5 and my - hy <= height - 0.5
    ):
        return
    qw, qx, qy, qz = (
        np.float64(quats[i, 0]),
        np.float64(quats[i, 1]),
        np.float64(quats[i, 2]),
        np.float64(quats[i, 3]),
    )
    if not qw * qw + qx * qx + qy * qy + qz * qz > 0.0:
        return
    sxx, sxy, syy = _covariance_2d(_view_rotation(V), qw, qx, qy, qz, sx, sy, sz, fx, fy, rz,
                                   j02, j12)  # fmt: skip
    # Clamp huge eigenvalues (keeping the eigenvectors) so float32 conics stay representable.
    half_tr = 0.5 * (sxx + syy)
    root = math.sqrt(0.25 * (sxx - syy) ** 2 + sxy * sxy)
    lam1 = half_tr + root
    if lam1 > SIGMA2_MAX:
        lam2 = min(half_tr - root, SIGMA2_MAX)
        if root > 0.0:
            ex, ey = (lam1 - syy, sxy) if abs(lam1 - syy) >= abs(lam1 - sxx) else (sxy, lam1 - sxx)
            norm = math.sqrt(ex * ex + ey * ey)
            ex, ey = ex / norm, ey / norm
        else:
            ex, ey = 1.0, 0.0
        sxx = SIGMA2_MAX * ex * ex + lam2 * ey * ey
        syy = SIGMA2_MAX * ey * ey + lam2 * ex * ex
        sxy = (SIGMA2_MAX - lam2) * ex * ey
    det = sxx * syy - sxy * sxy
    if not det > 0.0:
        return
    _write_record(mx, my, sxx, sxy, syy, det, op, z, colors, width, height, out, vis, ub, i)


@njit(inline="always", fastmath=_PROJECT_MATH)
def _write_record(mx, my, sxx, sxy, syy, det, op, z, colors, width, height, out, vis, ub, i):
    """Gaussian i's record from its 2D centre and covariance, unless its ellipse (where alpha
    can reach ALPHA_MIN) misses every pixel centre."""
    # alpha >= ALPHA_MIN  <=>  q <= level. float32 log is cheaper; the level only bounds the
    # pixels visited (blending tests each alpha), so round it up a little.
    level = 2.0 * math.log(np.float32(op) * np.float32(1.0 / ALPHA_MIN)) * (1.0 + 1e-5) + 1e-5
    hx = math.sqrt(level * sxx)
    hy = math.sqrt(level * syy)
    # Some pixel centre (u + 0.5, v + 0.5) must lie in the ellipse's bounding box.
    if not (
        mx + hx >= 0.5 and mx - hx <= width - 0.5 and my + hy >= 0.5 and my - hy <= height - 0.5
    ):
        return
    out[i, _X] = mx
    out[i, _Y] = my
    rdet = 1.0 / det
    out[i, _A] = syy * rdet  # conic = Σ2⁻¹
    out[i, _B] = -sxy * rdet
    out[i, _C] = sxx * rdet
    out[i, _L] = level
    out[i, _OP] = op
    out[i, _Z] = z
    out[i, _R] = colors[i, 0]
    out[i, _G] = colors[i, 1]
    out[i, _BL] = colors[i, 2]
    out[i, _HX] = hx
    out[i, _HY] = hy
    out[i, _DET] = rdet  # det of the conic, exact (not a*c - b*b in float32)
    out[i, _DYM] = sxy * math.sqrt(level / sxx)  # dy of the ellipse's rightmost point
    out[i, _INVA] = det / syy
    # Tile bounding box, a pixel wider; clamped first, so int() truncation is the floor.
    bx0 = int(max(mx - hx - 1.0, 0.0)) // TILE
    bx1 = int(max(min(mx + hx + 1.0, width - 1.0), 0.0)) // TILE
    by0 = int(max(my - hy - 1.0, 0.0)) // TILE
    by1 = int(max(min(my + hy + 1.0, height - 1.0), 0.0)) // TILE
    ub[i] = (bx1 - bx0 + 1) * (by1 - by0 + 1)
    vis[i] = 1


@njit(cache=True, nogil=True)
def _visible_keys(vis, rec):
    """The visible Gaussians in memory order, order (M,) int32, and their sort keys (M,) uint32:
    the depth's float bits (depths are positive, so the bits order like the floats)."""
    n = vis.shape[0]
    m = 0
    for i in range(n):
        m += vis[i]
    order = np.empty(m, np.int32)
    keys = np.empty(m, np.uint32)
    bits = rec.view(np.uint32)
    k = 0
    for i in range(n):
        if vis[i]:
            order[k] = i
            keys[k] = bits[i, _Z]
            k += 1
    return order, keys


# Serial on purpose: a parallel version (per-block counts, 6 parallel regions) was no faster on
# 2 cores and slower under load, where every region waits for a descheduled worker. Two passes of
# 16 bits beat three of 11 (the third pass over the data cost more than the bigger histograms).
@njit(cache=True, nogil=True)
def _radix_argsort(keys, idx):
    """Reorder idx (M,) int32 by keys (M,) uint32: LSD radix sort, 2 stable passes of 16 bits
    (both histograms from one read of the keys)."""
    m = keys.shape[0]
    lo = np.zeros(65536, np.int64)
    hi = np.zeros(65536, np.int64)
    for k in range(m):
        lo[keys[k] & 65535] += 1
        hi[keys[k] >> 16] += 1
    t_lo = 0
    t_hi = 0
    for d in range(65536):
        c = lo[d]
        lo[d] = t_lo
        t_lo += c
        c = hi[d]
        hi[d] = t_hi
        t_hi += c
    tmp_idx = np.empty(m, np.int32)
    tmp_keys = np.empty(m, np.uint32)
    for k in range(m):
        d = keys[k] & 65535
        pos = lo[d]
        lo[d] = pos + 1
        tmp_keys[pos] = keys[k]
        tmp_idx[pos] = idx[k]
    out = np.empty(m, np.int32)
    for k in range(m):
        d = tmp_keys[k] >> 16
        pos = hi[d]
        hi[d] = pos + 1
        out[pos] = tmp_idx[k]
    return out


@njit(cache=True, nogil=True)
def _ranks_and_bases(order, ub):
    """rank (N,) int32: each visible Gaussian's place in depth order; base (N + 1,) int64: where
    its tile ids start (prefix sums of ub). Serial: under a millisecond, less than the cost of
    a parallel region on a busy machine."""
    n = ub.shape[0]
    rank = np.empty(n, np.int32)
    for k in range(order.shape[0]):
        rank[order[k]] = k
    base = np.empty(n + 1, np.int64)
    acc = 0
    base[0] = 0
    for i in range(n):
        acc += ub[i]
        base[i + 1] = acc
    return rank, base


@njit(inline="always", fastmath=True)
def _band_tiles(r, ty, width, height):
    """Tile columns (t0, t1) the ellipse of record r touches in tile row ty (t0 > t1: none)."""
    x, y, a, b, level = r[_X], r[_Y], r[_A], r[_B], r[_L]
    hy, det, dym, inva = r[_HY], r[_DET], r[_DYM], r[_INVA]
    v0 = ty * TILE
    v1 = min(v0 + TILE, height) - 1
    lo = max(v0 + 0.5 - y, -hy)  # dy range of the rows' centres inside the ellipse
    hi = min(v1 + 0.5 - y, hy)
    if lo > hi:
        return 1, 0
    # The right boundary is concave in dy with its maximum at dym, the left one convex with its
    # minimum at -dym: clamping those to the band gives the band's exact x extent.
    d = min(max(dym, lo), hi)
    xr = x + (-b * d + math.sqrt(max(a * level - d * d * det, 0.0))) * inva
    d = min(max(-dym, lo), hi)
    xl = x + (-b * d - math.sqrt(max(a * level - d * d * det, 0.0))) * inva
    u0 = max(math.ceil(xl - 0.5 - 1e-3), 0.0)  # pixel columns whose centres lie in [xl, xr]
    u1 = min(math.floor(xr - 0.5 + 1e-3), width - 1.0)
    if u0 > u1:
        return 1, 0
    return int(u0) // TILE, int(u1) // TILE


@njit(inline="always", fastmath=True)
def _tile_rows(r, tiles_y, height):
    y, hy = r[_Y], r[_HY]
    t0 = int(max(math.floor((y - hy) / TILE), 0.0))
    t1 = int(min(math.floor((y + hy) / TILE), tiles_y - 1.0))
    return t0, t1


@njit(inline="always", fastmath=True)
def _single_tile(r, tiles_x, tiles_y):
    """The tile holding r's whole bounding box when there is one (a fast path), else -1."""
    x, y, hx, hy = r[_X], r[_Y], r[_HX], r[_HY]
    tx = math.floor(x / TILE)
    ty = math.floor(y / TILE)
    if (
        x - hx >= tx * TILE and x + hx < (tx + 1) * TILE
        and y - hy >= ty * TILE and y + hy < (ty + 1) * TILE
        and 0 <= tx < tiles_x and 0 <= ty < tiles_y
    ):  # fmt: skip
        return ty * tiles_x + tx
    return -1


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _list_tiles(rec, vis, rank, m, base, tiles_x, tiles_y, width, height, n_chunks, n_workers,
                stop):  # fmt: skip
    """Each visible Gaussian's tiles, and the entries per (depth chunk, tile).

    Gaussian i's tile ids go to tiles_of[base[i]:base[i] + n_tiles[i]]. Chunk ch holds depth
    ranks [ch * step, (ch + 1) * step); counts (n_chunks, tiles) is what `_scatter` needs. The
    spans are computed once, walking the records in memory order (sequential reads), _CHUNK
    Gaussians at a time per worker; each worker counts into its own table.
    """
    n = rec.shape[0]
    n_tiles_total = tiles_x * tiles_y
    step = (m + n_chunks - 1) // n_chunks
    tiles_of = np.empty(base[n], np.int32)
    n_tiles = np.zeros(n, np.int32)
    per_worker = np.zeros((n_workers, n_chunks, n_tiles_total), np.int64)
    next_chunk = np.zeros(1, np.int64)
    for w in prange(n_workers):
        counts = per_worker[w]
        while True:
            g0 = _fetch_add(next_chunk, 0, _CHUNK)
            if g0 >= n or _fetch_add(stop, 0, 0):
                break
            for i in range(g0, min(n, g0 + _CHUNK)):
                if vis[i] == 0:
                    continue
                ch = rank[i] // step
                r = rec[i]
                b0, room = base[i], base[i + 1] - base[i]
                t = _single_tile(r, tiles_x, tiles_y)
                if t >= 0:
                    tiles_of[b0] = t
                    n_tiles[i] = 1
                    counts[ch, t] += 1
                    continue
                k = 0
                t0, t1 = _tile_rows(r, tiles_y, height)
                for ty in range(t0, t1 + 1):
                    c0, c1 = _band_tiles(r, ty, width, height)
                    for tx in range(c0, c1 + 1):
                        if k < room:  # always true: room is the tile bounding box, a pixel wider
                            t = ty * tiles_x + tx
                            tiles_of[b0 + k] = t
                            counts[ch, t] += 1
                            k += 1
                n_tiles[i] = k
    return tiles_of, n_tiles, per_worker.sum(axis=0)


@njit(parallel=True, cache=True, nogil=True)
def _scatter(order, base, tiles_of, n_tiles, counts, n_workers, stop):
    """Per-tile depth-ordered lists: offsets (tiles + 1,) int64 and ids (entries,) int32 rows of rec.

    Chunk ch writes its entries for tile t after those of chunks < ch, in its own (depth)
    order: a stable parallel scatter. Workers take the chunks one at a time until none are left.
    """
    m = order.shape[0]
    n_chunks, n_tiles_total = counts.shape
    offsets = np.empty(n_tiles_total + 1, np.int64)
    starts = np.empty((n_chunks, n_tiles_total), np.int64)
    total = 0
    for t in range(n_tiles_total):
        offsets[t] = total
        for ch in range(n_chunks):
            starts[ch, t] = total
            total += counts[ch, t]
    offsets[n_tiles_total] = total
    ids = np.empty(total, np.int32)
    step = (m + n_chunks - 1) // n_chunks
    next_chunk = np.zeros(1, np.int64)
    for _w in prange(n_workers):
        while True:
            ch = _fetch_add(next_chunk, 0, 1)
            if ch >= n_chunks or _fetch_add(stop, 0, 0):
                break
            for k in range(ch * step, min(m, (ch + 1) * step)):
                i = order[k]
                b0 = base[i]
                for j in range(n_tiles[i]):
                    t = tiles_of[b0 + j]
                    ids[starts[ch, t]] = i
                    starts[ch, t] += 1
    return offsets, ids


@njit(cache=True, nogil=True)
def _tile_order(offsets):
    """Tiles (T,) int32 by decreasing expected cost (list length plus a fixed cost per tile for
    writing it out): workers take them in this order, so the long ones start first."""
    n_tiles = offsets.shape[0] - 1
    cost = np.empty(n_tiles, np.int64)
    for t in range(n_tiles):
        cost[t] = offsets[t] - offsets[t + 1] - 16  # negated: argsort ascends
    return np.argsort(cost, kind="mergesort").astype(np.int32)


_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_HALF = np.float32(0.5)
_TINY = np.float32(1e-30)
_Q_MAX = np.float32(12.0)  # q beyond this has alpha < exp(-6) < ALPHA_MIN: clamp before exp
_LANES = np.arange(TILE, dtype=np.float32)
_GATHER = 64  # records copied ahead of blending (4 KiB: stays in L1)


@njit(inline="always", fastmath=True)
def _exp_neg_half(q):
    """exp(-q/2) for q in [0, _Q_MAX], to ~1e-5 relative: a Taylor polynomial of exp(-q/32),
    squared four times. Pure arithmetic, so the pixel loop vectorises (libm's expf does not)."""
    y = q * np.float32(-1.0 / 32.0)
    p = np.float32(1.0 / 720.0)
    p = p * y + np.float32(1.0 / 120.0)
    p = p * y + np.float32(1.0 / 24.0)
    p = p * y + np.float32(1.0 / 6.0)
    p = p * y + _HALF
    p = p * y + _F1
    p = p * y + _F1
    p = p * p
    p = p * p
    p = p * p
    return p * p


@njit(fastmath=True, cache=True, nogil=True)
def _blend_tile(rec, ids, e0, e1, tx0, ty0, th, acc_r, acc_g, acc_b, acc_d, trans, row_live, buf):
    """Blend tile list entries e0..e1 into the tile's 16x16 accumulators, front to back.

    The records are copied _GATHER at a time into buf (_GATHER, 16) first (see `_gather`).
    """
    for c0 in range(e0, e1, _GATHER):
        c1 = min(c0 + _GATHER, e1)
        _gather(rec, ids, c0, c1, buf)
        if _blend_entries(buf, c1 - c0, tx0, ty0, th, acc_r, acc_g, acc_b, acc_d, trans, row_live):
            break


@njit(inline="always", fastmath=True)
def _gather(rec, ids, c0, c1, buf):
    """Copy the records of list entries c0..c1 into buf: independent loads the core overlaps,
    where blending straight from rec waits on one cache miss per Gaussian."""
    for e in range(c0, c1):
        src = rec[ids[e]]
        dst = buf[e - c0]
        for f in range(_REC):
            dst[f] = src[f]


@njit(inline="always", fastmath=True)
def _blend_entries(buf, n, tx0, ty0, th, acc_r, acc_g, acc_b, acc_d, trans, row_live):
    """Blend the n records in buf (depth order); True once every pixel of the tile is done.

    A pixel's transmittance is stored negated once it is done; row_live (16,) counts each row's
    pixels still blending, so finished rows are skipped and a finished tile stops. Each Gaussian
    is evaluated on the live tile rows its ellipse crosses, all 16 lanes of a row without
    branches (lanes outside the ellipse fail the alpha test), so the row loop compiles to SIMD.
    """
    n_live = 0
    for v in range(TILE):
        n_live += row_live[v]
    for e in range(n):
        r = buf[e]
        x, y, a, b, c = r[_X], r[_Y], r[_A], r[_B], r[_C]
        level, op, z, hy, det = r[_L], r[_OP], r[_Z], r[_HY], r[_DET]
        cr, cg, cb = r[_R], r[_G], r[_BL]
        v0 = max(ty0, math.ceil(y - hy - _HALF))
        v1 = min(ty0 + th - 1, math.floor(y + hy - _HALF))
        lx = x - _HALF - np.float32(tx0)  # the centre in lane units: lane u's centre is at u
        for v in range(v0, v1 + 1):
            if row_live[v - ty0] == 0:
                continue  # every pixel of this row is done
            dy = np.float32(v) + _HALF - y
            disc = a * level - dy * dy * det
            if disc < _F0:
                continue  # this row misses the ellipse
            bdy2 = np.float32(2.0) * b * dy
            cdy2 = c * dy * dy
            # Unsigned indices: numba then skips negative-index wrapping and LLVM vectorises.
            row = np.uint64((v - ty0) * TILE)
            dx0 = -lx
            stops = 0
            for u in range(TILE):
                p = row + np.uint64(u)
                T = trans[p]
                dx = dx0 + _LANES[u]
                q = dx * (a * dx + bdy2) + cdy2
                qc = min(max(q, _F0), _Q_MAX)
                al = min(_ALPHA_MAX, op * _exp_neg_half(qc))
                next_t = T * (_F1 - al)
                live = (T > _F0) & (q >= _F0) & (al >= _ALPHA_MIN)
                stop = live & (next_t < _T_MIN)
                fb = np.float32(live & (next_t >= _T_MIN))
                fs = np.float32(stop)
                wgt = fb * al * T
                acc_r[p] += wgt * cr
                acc_g[p] += wgt * cg
                acc_b[p] += wgt * cb
                acc_d[p] += wgt * z
                trans[p] = T + fb * (next_t - T) - fs * (T + T)
                stops += np.int64(stop)
            row_live[v - ty0] -= stops
            n_live -= stops
        if n_live == 0:
            return True
    return False


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _blend(
    rec, offsets, ids, tiles, n_workers, tiles_x, width, height, bg, rgb, depth, alpha, stop
):
    """Front-to-back blending of every tile; writes rgb (H, W, 3) uint8, depth and alpha (H, W).

    Each worker takes the next tile of `tiles` (costliest first) until none is left: dynamic
    scheduling, so a worker whose core is busy with another process does not hold up the frame.
    A tile's pixels do not depend on which worker blends it. Workers stop early once stop[0] is
    set (the frame is then incomplete and is thrown away).
    """
    next_tile = np.zeros(1, np.int64)
    rgb_f = rgb.reshape(-1)  # flat views: unsigned indices, no wrap-around checks
    depth_f = depth.reshape(-1)
    alpha_f = alpha.reshape(-1)
    bg0, bg1, bg2 = bg[0], bg[1], bg[2]
    for _w in prange(n_workers):
        acc_r = np.empty(TILE * TILE, np.float32)
        acc_g = np.empty(TILE * TILE, np.float32)
        acc_b = np.empty(TILE * TILE, np.float32)
        acc_d = np.empty(TILE * TILE, np.float32)
        trans = np.empty(TILE * TILE, np.float32)
        row_live = np.empty(TILE, np.int64)
        buf = np.empty((_GATHER, _REC), np.float32)
        px8 = np.empty(3 * TILE, np.uint8)
        while True:
            j = _fetch_add(next_tile, 0, 1)
            if j >= tiles.shape[0] or _fetch_add(stop, 0, 0):
                break
            t = tiles[j]
            tx0 = (t % tiles_x) * TILE
            ty0 = (t // tiles_x) * TILE
            tw = min(TILE, width - tx0)
            th = min(TILE, height - ty0)
            acc_r[:] = 0.0
            acc_g[:] = 0.0
            acc_b[:] = 0.0
            acc_d[:] = 0.0
            trans[:] = -1.0  # pixels outside the image start done
            row_live[:] = 0
            for vv in range(th):
                row_live[vv] = tw
                for uu in range(tw):
                    trans[vv * TILE + uu] = 1.0
            _blend_tile(rec, ids, offsets[t], offsets[t + 1], tx0, ty0, th,
                        acc_r, acc_g, acc_b, acc_d, trans, row_live, buf)  # fmt: skip
            for vv in range(th):
                row = np.uint64(vv * TILE)
                out = np.uint64((ty0 + vv) * width + tx0)
                if tw == TILE:  # a constant trip count: SIMD
                    _write_row(row, out, TILE, acc_r, acc_g, acc_b, acc_d, trans, bg0, bg1, bg2,
                               rgb_f, depth_f, alpha_f, px8)  # fmt: skip
                else:
                    _write_row(row, out, tw, acc_r, acc_g, acc_b, acc_d, trans, bg0, bg1, bg2,
                               rgb_f, depth_f, alpha_f, px8)  # fmt: skip


@njit(inline="always", fastmath=True)
def _write_row(row, out, n, acc_r, acc_g, acc_b, acc_d, trans, bg0, bg1, bg2, rgb_f, depth_f,
               alpha_f, px8):  # fmt: skip
    """Write n pixels of a tile row (from row) to the flat outputs (from pixel out).

    Colours go through px8 (48,) planar first, so the arithmetic is one SIMD loop and only the
    byte interleaving into rgb is scalar.
    """
    for u in range(n):
        p = row + np.uint64(u)
        o = out + np.uint64(u)
        T = abs(trans[p])
        px8[u] = _to_u8(acc_r[p] + T * bg0)
        px8[u + 16] = _to_u8(acc_g[p] + T * bg1)
        px8[u + 32] = _to_u8(acc_b[p] + T * bg2)
        al = _F1 - T
        alpha_f[o] = al
        depth_f[o] = acc_d[p] / max(al, _TINY)  # acc_d is 0 where alpha is 0
    for u in range(n):
        o3 = np.uint64(3) * (out + np.uint64(u))
        rgb_f[o3] = px8[u]
        rgb_f[o3 + np.uint64(1)] = px8[u + 16]
        rgb_f[o3 + np.uint64(2)] = px8[u + 32]


@njit(inline="always")
def _to_u8(v):
    """round(clip(v, 0, 1) * 255): the value is >= 0.5 before truncation, so int() is floor
    (a conversion instruction, where math.floor was a libm call per channel)."""
    return np.uint8(np.int32(min(max(v, _F0), _F1) * np.float32(255.0) + _HALF))


def render_cpu(
    inp: SplatInputs, *, times: StageTimes | None = None, cancel: Cancel | None = None
) -> Frame:
    """Render with the numba kernels; fills `times` (ms per stage) when given.

    A set `cancel` stops the kernels at their next chunk of work and raises `RenderCancelled`
    (checked after every stage, so a stage never reads what a stopped one left unfinished).
    """
    with parallel_launch():
        return _render_stages(inp, times, cancel if cancel is not None else Cancel())


def _render_stages(inp: SplatInputs, times: StageTimes | None, cancel: Cancel) -> Frame:
    stop = cancel.flag
    W, H = inp.width, inp.height
    tiles_x = (W + TILE - 1) // TILE
    tiles_y = (H + TILE - 1) // TILE
    n_workers = numba.get_num_threads()
    K = inp.K
    t0 = time.perf_counter()
    rec = np.empty((len(inp), _REC), np.float32)  # rows of culled Gaussians stay unset
    vis = np.zeros(len(inp), np.uint8)
    ub = np.zeros(len(inp), np.int64)
    if len(inp):
        v_norm2 = float(np.linalg.norm(inp.viewmat[:3, :3].astype(np.float64), 2)) ** 2
        _project(inp.means, inp.quats, inp.scales, inp.opacities, inp.colors, inp.viewmat, v_norm2,
                 K[0, 0], K[1, 1], K[0, 2], K[1, 2], float(W), float(H), inp.near, inp.far,
                 rec, vis, ub, n_workers, stop)  # fmt: skip
    cancel.check()
    t1 = time.perf_counter()
    order, keys = _visible_keys(vis, rec)  # (M,) visible Gaussians and their depth bits
    order = _radix_argsort(keys, order)  # front to back; stable for equal depths
    t_sort = time.perf_counter()
    rank, base = _ranks_and_bases(order, ub)
    cancel.check()
    tiles_of, n_tiles, counts = _list_tiles(rec, vis, rank, order.shape[0], base, tiles_x,
                                            tiles_y, W, H, _DEPTH_CHUNKS * n_workers,
                                            n_workers, stop)  # fmt: skip
    cancel.check()
    offsets, ids = _scatter(order, base, tiles_of, n_tiles, counts, n_workers, stop)
    cancel.check()
    tiles = _tile_order(offsets)
    t2 = time.perf_counter()
    rgb = np.empty((H, W, 3), np.uint8)
    depth = np.empty((H, W), np.float32)
    alpha = np.empty((H, W), np.float32)
    _blend(rec, offsets, ids, tiles, n_workers, tiles_x, W, H, inp.background, rgb, depth, alpha,
           stop)  # fmt: skip
    cancel.check()
    t3 = time.perf_counter()
    if times is not None:
        times.project_ms = 1e3 * (t1 - t0)
        times.sort_bin_ms = 1e3 * (t2 - t1)
        times.blend_ms = 1e3 * (t3 - t2)
        times.visible = int(order.shape[0])
        times.tile_entries = int(ids.shape[0])
        times.extra = {"sort_ms": 1e3 * (t_sort - t1), "bin_ms": 1e3 * (t2 - t_sort)}
    return Frame(rgb, depth, alpha)
