"""`sample_surfels`: flat Gaussians covering a coloured mesh's surface, area-weighted and hole-free.

Each face receives ``area / spacing²`` samples (fractions carried over to the next face along a
Z-order curve through the face centroids, so neighbouring faces share the rounding), laid
out inside the triangle by a randomly shifted R2 low-discrepancy sequence folded onto the
triangle, which spreads them far more evenly than independent uniform samples (fewer holes at
the same count). Every sample becomes a disc whose local z axis is the face normal, whose
in-plane standard deviation is `scale_factor * spacing` so neighbours overlap, and whose colour
is the mesh colour at the sample (vertex colours interpolated barycentrically, or the face
colour) with a little seeded brightness jitter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh

from studio.gaussians import Gaussians

_R2 = np.array([0.7548776662466927, 0.5698402909980532])  # 1/phi2, 1/phi2² (Roberts' R2 sequence)

KeepFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""keep(points (N, 3), face_index (N,), normals (N, 3)) -> (N,) bool: which samples to keep."""


def mesh_colors_at(mesh: trimesh.Trimesh, face_index: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """(N, 3) sRGB colours of `mesh` at barycentric points (N, 3) of faces `face_index` (N,)."""
    if mesh.visual.kind == "vertex":
        vc = np.asarray(mesh.visual.vertex_colors[:, :3], np.float64) / 255.0  # (V, 3)
        tri = vc[mesh.faces[face_index]]  # (N, 3 corners, 3 rgb)
        return np.einsum("nc,nck->nk", bary, tri)
    fc = np.asarray(mesh.visual.face_colors[:, :3], np.float64) / 255.0  # (F, 3)
    return fc[face_index]


def quats_z_to(normals: np.ndarray, spin: np.ndarray) -> np.ndarray:
    """(N, 4) wxyz rotations taking local +z to `normals` (N, 3, unit), spun by `spin` (N,) rad about it."""
    n = normals
    w = 1.0 + n[:, 2]
    q = np.stack([w, -n[:, 1], n[:, 0], np.zeros(len(n))], axis=1)  # axis z × n, half-angle form
    flip = w < 1e-6  # n = -z: half turn about x
    q[flip] = (0.0, 1.0, 0.0, 0.0)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    c, s = np.cos(spin / 2), np.sin(spin / 2)
    # q * (c, 0, 0, s): spin about the local z first, then align z with the normal.
    out = np.stack(
        [
            q[:, 0] * c - q[:, 3] * s,
            q[:, 1] * c + q[:, 2] * s,
            q[:, 2] * c - q[:, 1] * s,
            q[:, 3] * c + q[:, 0] * s,
        ],
        axis=1,
    )
    out *= np.where(out[:, :1] < 0, -1.0, 1.0)
    return out


def _morton_order(points: np.ndarray) -> np.ndarray:
    """(N,) permutation visiting points (N, 3) along a Z-order curve (spatial neighbours stay close)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    q = ((points - lo) / np.maximum(hi - lo, 1e-12) * 1023).astype(np.uint64)  # 10 bits per axis
    code = np.zeros(len(points), np.uint64)
    for bit in range(10):
        for axis in range(3):
            code |= ((q[:, axis] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(3 * bit + axis)
    return np.argsort(code, kind="stable")


def _diffused_counts(expected: np.ndarray, centroids: np.ndarray, u: float) -> np.ndarray:
    """(F,) integer sample counts per face whose running sum tracks the expected one along a
    space-filling curve, so rounding errors cancel between neighbouring faces (no clustered holes)."""
    order = _morton_order(centroids)
    cum = np.floor(np.cumsum(expected[order]) + u)
    counts = np.empty(len(expected), np.int64)
    counts[order] = np.diff(cum, prepend=np.floor(u)).astype(np.int64)
    return counts


def _rotate_x_axis(q: np.ndarray) -> np.ndarray:
    """(N, 3) image of the x axis under wxyz unit quaternions q (N, 4): the first matrix column."""
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)], axis=1)


def sample_surfels(
    mesh: trimesh.Trimesh,
    *,
    spacing: float,
    seed: int,
    scale_factor: float = 0.6,
    thickness: float = 0.12,
    opacity: float = 0.96,
    color_jitter: float = 0.045,
    anisotropy: float = 0.15,
    keep: KeepFn | None = None,
    return_faces: bool = False,
) -> Gaussians | tuple[Gaussians, np.ndarray]:
    """Flat surfels covering `mesh` at about one per `spacing`² of area (deterministic in `seed`).

    scales: in-plane std `scale_factor * spacing` (± `anisotropy`), normal std `thickness` times
    that; on faces narrower than a surfel the disc lies along the face's long edge and its
    width shrinks to the face's. `keep(points, face_index, normals)` may drop hidden samples. With `return_faces`, also
    returns the (N,) face index of each surfel.
    """
    if not (np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing {spacing!r} must be a positive number of metres, e.g. 0.1")
    rng = np.random.default_rng(seed)
    v = np.asarray(mesh.vertices, np.float64)
    f = np.asarray(mesh.faces, np.int64)
    tri = v[f]  # (F, 3, 3)
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    cross = np.cross(e1, e2)
    dbl = np.linalg.norm(cross, axis=1)  # (F,) twice the area
    edges = np.stack([e1, tri[:, 2] - tri[:, 1], -e2], axis=1)  # (F, 3 edges, 3)
    elen = np.linalg.norm(edges, axis=2)
    longest = np.argmax(elen, axis=1)
    long_len = elen[np.arange(len(f)), longest]  # (F,)
    long_dir = edges[np.arange(len(f)), longest] / np.maximum(long_len, 1e-12)[:, None]
    width = dbl / np.maximum(long_len, 1e-12)  # (F,) triangle height over its longest edge
    # Thin faces (blades, stems) get at least one sample per spacing along their length.
    thin_long = (width < 0.5 * spacing) & (long_len > spacing)
    expected = np.where(
        thin_long,
        np.maximum(0.5 * dbl / spacing**2, 0.5 * long_len / spacing),
        0.5 * dbl / spacing**2,
    )
    counts = _diffused_counts(expected, tri.mean(axis=1), rng.random())  # (F,)
    face_index = np.repeat(np.arange(len(f)), counts)  # (N,)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(len(face_index)) - start  # sample number within its face
    offset = rng.random((len(f), 2))[face_index]
    uv = (offset + (k[:, None] + 0.5) * _R2) % 1.0  # (N, 2) in the unit square
    fold = uv.sum(axis=1) > 1.0
    uv[fold] = 1.0 - uv[fold]
    bary = np.stack([1.0 - uv[:, 0] - uv[:, 1], uv[:, 0], uv[:, 1]], axis=1)  # (N, 3)
    points = np.einsum("nc,nck->nk", bary, tri[face_index])
    with np.errstate(invalid="ignore", divide="ignore"):
        fn = cross / dbl[:, None]
    normals = fn[face_index]
    good = np.isfinite(normals).all(axis=1)
    if keep is not None:
        good &= keep(points, face_index, normals)
    points, face_index, bary, normals = points[good], face_index[good], bary[good], normals[good]
    n = len(points)
    colors = mesh_colors_at(mesh, face_index, bary)
    colors = colors * (1.0 + color_jitter * rng.normal(size=(n, 1)))
    colors += 0.4 * color_jitter * rng.normal(size=(n, 3)) * colors  # slight hue wobble
    sigma = scale_factor * spacing
    a = 1.0 + anisotropy * rng.uniform(-1, 1, n)
    sx, sy = sigma * a, sigma / a
    # On faces narrower than a surfel, lay the disc along the long edge and narrow it to the face.
    w = width[face_index]
    thin = w < 2.0 * sigma
    sy = np.where(thin, np.minimum(sy, np.maximum(0.5 * w, 0.2 * sigma)), sy)
    sx = np.where(thin, sigma, sx)
    scales = np.stack([sx, sy, sigma * thickness * np.ones(n)], axis=1)
    spin = rng.uniform(0, 2 * np.pi, n)
    if thin.any():
        q0 = quats_z_to(normals[thin], np.zeros(int(thin.sum())))
        t1 = _rotate_x_axis(q0)  # (M, 3) the frame's x axis before spinning
        t2 = np.cross(normals[thin], t1)
        d = long_dir[face_index[thin]]
        spin[thin] = np.arctan2((d * t2).sum(axis=1), (d * t1).sum(axis=1))
    quats = quats_z_to(normals, spin)
    g = Gaussians(points, quats, scales, np.full(n, opacity), np.clip(colors, 0.0, 1.0))
    return (g, face_index) if return_faces else g
