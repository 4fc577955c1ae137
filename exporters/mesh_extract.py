"""Coloured triangle meshes from Gaussians that have no source mesh (open3d TSDF fusion).

A photo pop-up or an imported 3DGS capture is only splats. To hand it to a game engine we
render RGB + depth of the splats from a deterministic set of views with our own renderer,
fuse the depth maps into a truncated signed distance field (open3d's VoxelBlockGrid,
colours averaged per voxel) and extract its zero level set with marching cubes. The mesh is
in the world frame, vertex colours are sRGB as rendered.

open3d is optional (the ``mesh`` extra) and imported only when a mesh is extracted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import trimesh

from exporters.base import ExportError
from studio.camera import Camera
from studio.gaussians import Gaussians

if TYPE_CHECKING:
    from studio.render.api import Backend
    from studio.storage import TakeRow
    from studio.world import World

log = logging.getLogger(__name__)

RECONSTRUCTION_NODE = "reconstruction"
"""Node (glTF) / prim (USD) name of the extracted mesh in scene exports."""
VIEW_SIZE = (320, 240)
"""Pixels of each view rendered for fusion."""
MAX_TRIANGLES = 300_000
"""Default triangle budget: larger extractions are decimated (quadric error) to this."""
MIN_CLUSTER_TRIANGLES = 32
"""Connected pieces smaller than this are dropped as floaters."""
VOXELS_ACROSS = 256
"""Automatic voxel size: the content's largest horizontal side over this (>= MIN_VOXEL)."""
BLOCK_RESOLUTION = 8
"""Voxels per side of a TSDF block (open3d's VoxelBlockGrid allocates blocks near surfaces)."""
BLOCK_COUNT = 1_000
"""Initial block capacity of the grid (10 KB each; the grid rehashes as it fills, and a large
preallocation costs seconds: 20,000 blocks of 16^3 voxels are 1.6 GB)."""
MIN_VOXEL = 0.03
"""Metres: the finest automatic voxel (`world_reconstruction(voxel=...)` takes any size)."""
MAX_VOXEL = 0.5


def _open3d():
    try:
        import open3d as o3d
    except ImportError as e:  # an optional dependency fails only when used
        raise ExportError(
            "mesh extraction from splats needs open3d: pip install 'tidepool-studio[mesh]' "
            "(or pip install open3d-cpu)"
        ) from e
    return o3d


def open3d_available() -> bool:
    """Whether `extract_mesh` can run here (open3d imports)."""
    try:
        _open3d()
    except ExportError:
        return False
    return True


def _rgbd(
    rgb: np.ndarray,
    depth: np.ndarray,
    alpha: np.ndarray,
    K: np.ndarray,
    *,
    min_alpha: float,
    max_depth: float,
    min_cos: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour un-premultiplied from the black background and depth with unreliable pixels zeroed.

    rgb (H, W, 3) uint8, depth and alpha (H, W) float32 from `studio.render`, K (3, 3). Pixels
    with little coverage (sky, edges), at depth discontinuities (their expected depth mixes a
    near and a far surface and would smear into the gap) or on surfaces seen at a grazing angle
    (|cos| to the normal below `min_cos`: the nearest splats along the ray dominate the
    expected depth there, pulling it toward the camera) get depth 0, which fusion skips.
    """
    a = np.maximum(alpha, 1e-6)[..., None]
    col = np.clip(rgb.astype(np.float32) / a, 0.0, 255.0).astype(np.uint8)  # (H, W, 3)
    d = depth.astype(np.float32)
    H, W = d.shape
    ok = (alpha >= min_alpha) & (d > 0) & (d < max_depth)
    pad = np.pad(d, 1, mode="edge")
    jump = np.zeros_like(d)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        jump = np.maximum(jump, np.abs(pad[dy : dy + H, dx : dx + W] - d))
    ok &= jump <= 0.05 * d
    # Camera-frame points and their normals from central differences of the depth map.
    u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)  # (H, W)
    ray = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    P = np.pad(ray * d[..., None], ((1, 1), (1, 1), (0, 0)), mode="edge")  # (H+2, W+2, 3)
    du = P[1:-1, 2:] - P[1:-1, :-2]
    dv = P[2:, 1:-1] - P[:-2, 1:-1]
    n = np.cross(du, dv)
    cos = np.abs((n * ray).sum(-1)) / np.maximum(
        np.linalg.norm(n, axis=-1) * np.linalg.norm(ray, axis=-1), 1e-12
    )
    ok &= cos >= min_cos
    return np.ascontiguousarray(col), np.where(ok, d, 0.0).astype(np.float32)


def _canonical(o3d, mesh):  # (open3d module, t.geometry.TriangleMesh) -> legacy TriangleMesh
    """The mesh with vertices sorted by position and faces by vertex index.

    The grid's hash map is filled by several threads, so its vertex order varies from run to
    run; sorted, the same views give byte-identical exports (and decimation gets the same input).
    """
    if "positions" not in mesh.vertex or "indices" not in mesh.triangle:
        return o3d.geometry.TriangleMesh()
    v = mesh.vertex.positions.numpy().astype(np.float64)  # (V, 3)
    f = mesh.triangle.indices.numpy().astype(np.int64)  # (F, 3)
    c = mesh.vertex.colors.numpy().astype(np.float64) if "colors" in mesh.vertex else None
    order = np.lexsort(v.T[::-1])  # by x, then y, then z
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    f = rank[f]
    first = f.argmin(axis=1)  # rotate each triangle to start at its lowest index (same winding)
    f = np.take_along_axis(f, (first[:, None] + np.arange(3)) % 3, axis=1)
    f = f[np.lexsort(f.T[::-1])]
    out = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(v[order]), o3d.utility.Vector3iVector(f.astype(np.int32))
    )
    if c is not None:
        out.vertex_colors = o3d.utility.Vector3dVector(c[order])
    return out


def extract_mesh(
    gaussians: Gaussians,
    cameras: Sequence[Camera],
    *,
    voxel: float = 0.02,
    sdf_trunc: float | None = None,
    min_alpha: float = 0.5,
    min_views: int = 1,
    min_cos: float = 0.25,
    max_depth: float | None = None,
    max_triangles: int | None = MAX_TRIANGLES,
    backend: Backend = "auto",
    progress: Callable[[float], None] | None = None,
) -> trimesh.Trimesh:
    """Fuse rendered RGB-D views of `gaussians` into a vertex-coloured mesh (world frame).

    Each camera is rendered at its own size. `voxel` is the TSDF voxel edge in metres;
    `sdf_trunc` (default 3 voxels) the truncation distance. Pixels with accumulated opacity
    below `min_alpha` (sky, thin edges), farther than `max_depth` (default: the cameras' far
    plane) or on surfaces seen more obliquely than arccos(`min_cos`) are not fused; voxels
    seen by fewer than `min_views` views are left out. Pieces under MIN_CLUSTER_TRIANGLES are
    dropped and the result is decimated to `max_triangles` (None keeps all). An empty mesh
    means no view saw a splat. `progress(fraction)` is called after every view; an exception
    it raises (a cancelled export) stops the extraction.
    """
    if not (voxel > 0 and math.isfinite(voxel)):
        raise ExportError(f"voxel {voxel} m must be a positive number of metres.")
    if not cameras:
        raise ExportError("no cameras to extract a mesh from; pass at least one view.")
    if min_views < 1:
        raise ExportError(f"min_views {min_views} must be at least 1.")
    if max_triangles is not None and max_triangles < 4:
        raise ExportError(f"max_triangles {max_triangles} must be at least 4 (or None).")
    from studio.render import render

    o3d = _open3d()
    o3c = o3d.core
    # Projective TSDF pushes convex surfaces outward by a fraction of the truncation distance
    # (a 0.6 m sphere at 2 cm voxels, before the grazing-angle filter: 6.5 mm at 2 voxels,
    # 8.6 mm at 4, 12 mm at 8), so keep it short by default.
    trunc = 3.0 * voxel if sdf_trunc is None else float(sdf_trunc)
    if trunc < voxel:
        raise ExportError(f"sdf_trunc {trunc} m must be at least one voxel ({voxel} m).")
    grid = o3d.t.geometry.VoxelBlockGrid(
        attr_names=("tsdf", "weight", "color"),
        attr_dtypes=(o3c.float32, o3c.float32, o3c.float32),
        attr_channels=(1, 1, 3),
        voxel_size=float(voxel),
        block_resolution=BLOCK_RESOLUTION,
        block_count=BLOCK_COUNT,
    )
    report = progress or (lambda _f: None)
    fused = 0
    for i, cam in enumerate(cameras):
        fr = render(gaussians, cam, backend=backend)
        far = cam.far if max_depth is None else float(max_depth)
        col, depth = _rgbd(
            fr.rgb, fr.depth, fr.alpha, cam.K(), min_alpha=min_alpha, max_depth=far,
            min_cos=min_cos,
        )  # fmt: skip
        if depth.any():
            d_img = o3d.t.geometry.Image(o3c.Tensor(depth))
            c_img = o3d.t.geometry.Image(o3c.Tensor(col.astype(np.float32) / 255.0))
            K = o3c.Tensor(cam.K(), o3c.float64)
            # open3d wants the world -> camera extrinsic in the OpenCV convention: our viewmat.
            E = o3c.Tensor(cam.viewmat(), o3c.float64)
            mult = trunc / voxel
            try:
                blocks = grid.compute_unique_block_coordinates(d_img, K, E, 1.0, far, mult)
            except RuntimeError as e:  # open3d touches no block for a view this sparse: skip it
                if "No block is touched" not in str(e):
                    raise
                log.debug("view %d: too few depth pixels to fuse (%d)", i, int((depth > 0).sum()))
            else:
                grid.integrate(blocks, d_img, c_img, K, K, E, 1.0, far, mult)
                fused += 1
        report(0.85 * (i + 1) / len(cameras))
    if fused == 0:  # nothing in any view: open3d cannot extract from an empty grid
        log.info("no view saw any splat; the extracted mesh is empty")
        report(1.0)
        return trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64), process=False)
    # Each view adds weight 1 to the voxels it sees: keep voxels seen by `min_views` views.
    mesh = _canonical(o3d, grid.extract_triangle_mesh(weight_threshold=min_views - 0.5))
    report(0.9)
    if len(mesh.triangles):
        labels, counts, _ = mesh.cluster_connected_triangles()
        small = np.asarray(counts)[np.asarray(labels)] < MIN_CLUSTER_TRIANGLES
        mesh.remove_triangles_by_mask(small)
        mesh.remove_unreferenced_vertices()
    if max_triangles is not None and len(mesh.triangles) > max_triangles:
        mesh = mesh.simplify_quadric_decimation(int(max_triangles))
        mesh.remove_unreferenced_vertices()
    report(1.0)
    verts = np.asarray(mesh.vertices, np.float64)  # (V, 3)
    faces = np.asarray(mesh.triangles, np.int64)  # (F, 3)
    colors = np.asarray(mesh.vertex_colors, np.float64)  # (V, 3) sRGB in [0, 1]
    rgba = np.full((len(verts), 4), 255, np.uint8)
    if len(colors) == len(verts):
        rgba[:, :3] = np.round(np.clip(colors, 0.0, 1.0) * 255).astype(np.uint8)
    log.info("extracted %d triangles from %d views (voxel %.3f m)", len(faces), len(cameras), voxel)
    return trimesh.Trimesh(verts, faces, vertex_colors=rgba, process=False)


# --- the views and region of a world's take ------------------------------------------------


def _ring(eye: np.ndarray, *, yaws: int, pitches: Sequence[float], vfov: float) -> list[Camera]:
    w, h = VIEW_SIZE
    return [
        Camera(eye.copy(), 360.0 * k / yaws, p, 0.0, vfov, w, h)
        for p in pitches
        for k in range(yaws)
    ]


def take_views(
    take: TakeRow,
    content: Gaussians,
    *,
    orbit: bool,
    spawn: tuple[np.ndarray, np.ndarray] | None = None,
    take_cameras: int = 8,
) -> list[Camera]:
    """Deterministic views that cover what a take's viewer can see of `content`.

    Up to `take_cameras` of the take's own cameras (evenly spaced), a 360 degree ring at eye
    level and looking 35 degrees down from the take's first, middle and last positions, the
    backdrop's spawn view (`spawn` = (eye, look_at)) and, with `orbit`, 12 views circling the
    content from outside and looking down at its centre (captures; a photo pop-up is seen
    from its camera's side only, and thin layers fused from both sides cancel out).
    """
    from exporters.base import take_camera

    w, h = VIEW_SIZE
    n = len(take.cameras)
    rows = np.unique(np.linspace(0, n - 1, min(n, take_cameras)).round().astype(int))
    views = [take_camera(take, int(i), width=w, height=h) for i in rows]
    anchors: list[np.ndarray] = []
    for i in (0, n // 2, n - 1):
        p = take.cameras[i, :3].astype(np.float64)
        if all(np.linalg.norm(p - a) > 1.0 for a in anchors):
            anchors.append(p)
    for a in anchors:
        views += _ring(a, yaws=8, pitches=(0.0, -35.0), vfov=70.0)
    if spawn is not None:
        eye, target = (np.asarray(v, np.float64) for v in spawn)
        if np.linalg.norm(target - eye) > 1e-6:
            views.append(Camera(eye.copy(), vfov=60.0, width=w, height=h).look_at(target))
    if orbit and len(content):
        lo, hi = np.percentile(content.means, [2, 98], axis=0)
        centre = 0.5 * (lo + hi)
        r = 0.5 * float(np.hypot(*(hi - lo)[[0, 2]])) + 2.0
        for k in range(12):
            a = 2 * math.pi * k / 12
            eye = centre + np.array([r * math.cos(a), 0.6 * r, r * math.sin(a)])
            views.append(Camera(eye, vfov=60.0, width=w, height=h).look_at(centre))
    return views


def take_region(take: TakeRow, radius: float) -> np.ndarray:
    """(2, 2) [[x_min, z_min], [x_max, z_max]]: the take's camera path widened by `radius`."""
    xz = take.cameras[:, [0, 2]].astype(np.float64)
    return np.stack([xz.min(axis=0) - radius, xz.max(axis=0) + radius])


def auto_voxel(content: Gaussians) -> float:
    """A voxel size for `content`: its largest horizontal side / VOXELS_ACROSS, clamped."""
    if len(content) == 0:
        return MIN_VOXEL
    lo, hi = np.percentile(content.means, [1, 99], axis=0)
    side = float(max(hi[0] - lo[0], hi[2] - lo[2]))
    return float(np.clip(side / VOXELS_ACROSS, MIN_VOXEL, MAX_VOXEL))


def has_splat_only_content(world: World) -> bool:
    """Whether part of `world` has no source mesh: a photo pop-up or an imported capture."""
    from studio.backdrop import CaptureWorld, PhotoWorld

    return isinstance(world, PhotoWorld | CaptureWorld)


def world_reconstruction(
    world: World,
    take: TakeRow,
    *,
    radius: float,
    voxel: float | None = None,
    max_triangles: int | None = MAX_TRIANGLES,
    backend: Backend = "auto",
    progress: Callable[[float], None] | None = None,
) -> trimesh.Trimesh | None:
    """The mesh of a world's splat-only content around a take, or None if it has none.

    Photo worlds (`studio.backdrop.PhotoWorld`) reconstruct their pop-up, capture worlds
    (`CaptureWorld`) their capture, within `take_region(take, radius)`; procedural worlds have
    source meshes for everything and return None. `voxel` None picks `auto_voxel`.
    """
    from studio.backdrop import CaptureWorld

    if not has_splat_only_content(world):
        return None
    b = world.backdrop  # type: ignore[attr-defined]
    g = b.gaussians
    region = take_region(take, radius)
    xz = g.means[:, [0, 2]]
    inside = np.flatnonzero(((xz >= region[0]) & (xz <= region[1])).all(axis=1))
    if len(inside) == 0:
        return None
    content = g.subset(inside)
    spawn = None if b.spawn is None or b.look_at is None else (b.spawn, b.look_at)
    views = take_views(take, content, orbit=isinstance(world, CaptureWorld), spawn=spawn)
    size = voxel if voxel is not None else auto_voxel(content)
    lo, hi = np.percentile(content.means, [1, 99], axis=0)
    reach = float(np.linalg.norm(hi - lo)) + 2.0 * radius
    mesh = extract_mesh(
        content, views, voxel=size, max_depth=reach, max_triangles=max_triangles,
        backend=backend, progress=progress,
    )  # fmt: skip
    if len(mesh.faces) == 0:
        return None
    # Keep the mesh inside the export region (fused surfaces can reach a little past it).
    c = mesh.triangles_center[:, [0, 2]]
    keep = ((c >= region[0] - size) & (c <= region[1] + size)).all(axis=1)
    if not keep.all():
        mesh.update_faces(keep)
        mesh.remove_unreferenced_vertices()
    return mesh


__all__ = [
    "RECONSTRUCTION_NODE",
    "auto_voxel",
    "extract_mesh",
    "has_splat_only_content",
    "open3d_available",
    "take_region",
    "take_views",
    "world_reconstruction",
]
