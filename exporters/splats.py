"""Splat exports of a take's surroundings: `ply`, `splat`, `spz`, `gltf-splat`.

The region is every chunk within `radius` metres (ground distance) of the take's camera path,
at the level of detail the renderer would draw there, lit as at the take's first tick (hour and
weather), with the creatures posed at that tick. Formats:

- ``ply``: the INRIA 3DGS layout (``x y z nx ny nz f_dc_0..2 [f_rest_…] opacity scale_0..2
  rot_0..3``, float32, logit opacity, log scales, wxyz quaternions, f_rest channel-major),
  written with plyfile.
- ``splat``: antimatter15's 32-byte records (position f32×3, linear scale f32×3, RGBA u8,
  quaternion wxyz u8 as q·128+128), sorted by size·opacity, largest first. No library writes
  it (it is a numpy structured array), so it is written here.
- ``spz``: Niantic's format. v3 and v4 are written by gsply; v2 (the default: Unity's
  importer reads only v2) differs from v3 only in its rotation section (x, y, z of the
  quaternion with w ≥ 0, one byte each) and gsply cannot write it, so the sections are packed
  here with the same quantisation. SPZ stores right-up-back (RUB) axes, Tidepool's own.
- ``gltf-splat``: a POINTS primitive with the KHR_gaussian_splatting extension, glTF axes.
  Attributes follow the extension text (review draft): ``…:ROTATION`` xyzw unit quaternions,
  ``…:SCALE`` log-space, ``…:OPACITY`` linear in [0, 1], ``…:SH_DEGREE_0_COEF_0``; COLOR_0
  carries the diffuse colour and opacity as the fallback point colour.

Axes (PLY and .splat, `ExportRequest.axes`): ``inria`` (default) turns the world 180° about
X so +Y points down, as COLMAP/INRIA captures are; SuperSplat, antimatter15's viewer and most
web splat viewers expect that and show the world right side up. ``y-up`` keeps Tidepool's
world as it is, for tools that read PLY in a Y-up frame (glTF-based engines, Blender add-ons
that do not flip).
"""

from __future__ import annotations

import gzip
import struct
import threading
from pathlib import Path

import numpy as np

from exporters.base import (
    ExportError,
    ExportRequest,
    ProgressFn,
    Steps,
    deliver,
    load_take,
)
from exporters.gltf import Gltf
from studio.gaussians import Gaussians
from studio.storage import ProjectFile, TakeRow

SH_C0 = 0.28209479177387814
T_INRIA_WORLD = np.diag([1.0, -1.0, -1.0, 1.0])
"""World (+Y up) -> INRIA/COLMAP-style axes (+Y down, +Z forward): 180° about X."""
SPZ_MAGIC = 0x5053474E
SPZ_FRACTIONAL_BITS = 12
MAX_PATH_POINTS = 64


# --- the region's Gaussians ---------------------------------------------------------------


def region_gaussians(
    store: ProjectFile, take: TakeRow, *, radius: float | None, steps: Steps | None = None
) -> Gaussians:
    """Lit Gaussians of the take's surroundings (see the module docstring)."""
    from studio.lighting import shade
    from studio.session import Session
    from studio.view import state_gaussians, sync_world
    from studio.world import CHUNK_SIZE, LOD_DISTANCE, LOD_SPACING, VIEW_DISTANCE

    session = Session(store)
    world = session.world
    try:
        branch = next(b for b in session.timeline.branches.values() if b.id == take.branch_id)
        state = session.timeline.seek(branch, take.start_tick)
        sync_world(world, state)
        R = VIEW_DISTANCE if radius is None else float(radius)
        path = _path_points(take.cameras[:, [0, 2]])
        lo = np.floor((path.min(axis=0) - R) / CHUNK_SIZE).astype(int)
        hi = np.floor((path.max(axis=0) + R) / CHUNK_SIZE).astype(int)
        keys = []
        for cx in range(lo[0], hi[0] + 1):
            for cz in range(lo[1], hi[1] + 1):
                c = (np.array([cx, cz]) + 0.5) * CHUNK_SIZE
                d = float(np.min(np.linalg.norm(path - c, axis=1))) - CHUNK_SIZE * 0.7072
                if d <= R:
                    keys.append((cx, cz, max(d, 0.0)))
        parts: list[Gaussians] = []
        L = world.lighting
        for k, (cx, cz, d) in enumerate(keys):
            lod = min(int(np.searchsorted(LOD_DISTANCE, d)), len(LOD_SPACING) - 1)
            ch = world.chunk(cx, cz)
            plod = min(lod, len(ch.prop_surfels) - 1)
            for s in (ch.terrain[lod], ch.water[lod], ch.prop_surfels[plod]):
                if len(s.gaussians):
                    g = s.gaussians
                    col = shade(g.colors, s.normals, L, occlusion=s.occlusion)
                    parts.append(Gaussians(g.means, g.quats, g.scales, g.opacities, col))
            if steps is not None:
                steps.report(0.8 * (k + 1) / len(keys))
        parts.append(state_gaussians(world, state, player=state.camera_mode != "first"))
        g = Gaussians.concat(parts)
    finally:
        world.close()
    near = _within(g.means[:, [0, 2]], path, R)
    out = g.subset(near)
    out.colors = np.clip(out.colors, 0.0, 1.0)
    return out


def _path_points(xz: np.ndarray) -> np.ndarray:
    """(K, 2) points along a camera path at least ~1 m apart (at most MAX_PATH_POINTS)."""
    keep = [0]
    for i in range(1, len(xz)):
        if np.linalg.norm(xz[i] - xz[keep[-1]]) >= 1.0:
            keep.append(i)
    if keep[-1] != len(xz) - 1:
        keep.append(len(xz) - 1)
    pts = xz[keep]
    if len(pts) > MAX_PATH_POINTS:
        pts = pts[np.linspace(0, len(pts) - 1, MAX_PATH_POINTS).round().astype(int)]
    return pts.astype(np.float64)


def _within(xz: np.ndarray, path: np.ndarray, radius: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    d, _ = cKDTree(path).query(xz.astype(np.float64), k=1)
    return d <= radius


def take_region(request: ExportRequest, steps: Steps) -> tuple[Gaussians, TakeRow]:
    """The requested take and its region's Gaussians (an ExportError if the region is empty)."""
    with ProjectFile.open(request.project, readonly=True) as store:
        take = load_take(store, request.take)
        g = region_gaussians(store, take, radius=request.radius, steps=steps)
    if len(g) == 0:
        raise ExportError(f"take {request.take!r}: no Gaussians within {request.radius} m.")
    return g, take


def oriented(g: Gaussians, axes: str) -> Gaussians:
    return g.transform(T_INRIA_WORLD) if axes == "inria" else g


# --- encodings ----------------------------------------------------------------------------


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def ply_array(g: Gaussians) -> np.ndarray:
    """(N,) structured float32 array in the INRIA 3DGS vertex layout."""
    n = len(g)
    k = 0 if g.sh is None else g.sh.shape[1]
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(3 * k)]
    names += ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    a = np.zeros(n, dtype=[(nm, "<f4") for nm in names])
    for i, c in enumerate("xyz"):
        a[c] = g.means[:, i]
    dc = (g.colors.astype(np.float64) - 0.5) / SH_C0
    for i in range(3):
        a[f"f_dc_{i}"] = dc[:, i]
    if k:
        rest = np.transpose(g.sh, (0, 2, 1)).reshape(n, 3 * k)  # channel-major: R..., G..., B...
        for i in range(3 * k):
            a[f"f_rest_{i}"] = rest[:, i]
    a["opacity"] = _logit(g.opacities)
    logs = np.log(np.maximum(g.scales.astype(np.float64), 1e-12))
    for i in range(3):
        a[f"scale_{i}"] = logs[:, i]
        a[f"rot_{i}"] = g.quats[:, i]
    a["rot_3"] = g.quats[:, 3]
    return a


def write_ply(path: Path, g: Gaussians) -> None:
    from plyfile import PlyData, PlyElement

    PlyData([PlyElement.describe(ply_array(g), "vertex")], byte_order="<").write(str(path))


SPLAT_DTYPE = np.dtype(
    [("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)]
)


def splat_array(g: Gaussians) -> np.ndarray:
    """(N,) 32-byte antimatter15 records, largest·most opaque first (as its converter orders)."""
    order = np.argsort(-(g.scales.astype(np.float64).prod(axis=1) * g.opacities), kind="stable")
    a = np.zeros(len(g), SPLAT_DTYPE)
    a["pos"] = g.means[order]
    a["scale"] = g.scales[order]
    rgba = np.concatenate([g.colors[order], g.opacities[order, None]], axis=1)
    a["rgba"] = np.clip(np.round(rgba * 255.0), 0, 255)
    q = g.quats[order] / np.linalg.norm(g.quats[order], axis=1, keepdims=True)
    a["rot"] = np.clip(np.round(q * 128.0 + 128.0), 0, 255)
    return a


def spz_v2_bytes(g: Gaussians) -> bytes:
    """SPZ version 2 (gzip; 24-bit positions, 3-byte rotations)."""
    n = len(g)
    fixed = np.round(g.means.astype(np.float64) * (1 << SPZ_FRACTIONAL_BITS)).astype(np.int64)
    if np.abs(fixed).max(initial=0) >= 1 << 23:
        raise ExportError("positions beyond ±2048 m do not fit SPZ's 24-bit fixed point.")
    fixed &= 0xFFFFFF
    pos = np.stack([(fixed >> s) & 0xFF for s in (0, 8, 16)], axis=-1).astype(np.uint8)
    alpha = np.clip(np.round(g.opacities * 255.0), 0, 255).astype(np.uint8)
    dc = (g.colors.astype(np.float64) - 0.5) / SH_C0
    color = np.clip(np.round(dc * (0.15 * 255.0) + 127.5), 0, 255).astype(np.uint8)
    logs = np.log(np.maximum(g.scales.astype(np.float64), 1e-12))
    scale = np.clip(np.round((logs + 10.0) * 16.0), 0, 255).astype(np.uint8)
    q = g.quats.astype(np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    q = q * np.where(q[:, :1] < 0, -1.0, 1.0)  # w >= 0; w is rebuilt from |xyz|
    rot = np.clip(np.round(q[:, 1:] * 127.5 + 127.5), 0, 255).astype(np.uint8)
    header = struct.pack("<IIIBBBB", SPZ_MAGIC, 2, n, 0, SPZ_FRACTIONAL_BITS, 0, 0)
    body = b"".join(x.tobytes() for x in (pos, alpha, color, scale, rot))
    return gzip.compress(header + body, compresslevel=6)


def write_spz(path: Path, g: Gaussians, version: int) -> None:
    if version == 2:
        path.write_bytes(spz_v2_bytes(g))
        return
    import gsply

    data = gsply.GSData(
        means=g.means,
        scales=np.log(np.maximum(g.scales, 1e-12)).astype(np.float32),
        quats=g.quats,
        opacities=_logit(g.opacities).astype(np.float32),
        sh0=((g.colors - 0.5) / SH_C0).astype(np.float32),
        shN=np.zeros((len(g), 0, 3), np.float32),
        _format=gsply.create_ply_format(0),
    )
    gsply.write_spz(str(path), data, version=version, fractional_bits=SPZ_FRACTIONAL_BITS)


EXT = "KHR_gaussian_splatting"


def gltf_splat_bytes(g: Gaussians) -> bytes:
    """GLB with one POINTS primitive carrying the KHR_gaussian_splatting attributes."""
    doc = Gltf()
    q = g.quats.astype(np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    xyzw = np.concatenate([q[:, 1:], q[:, :1]], axis=1)
    attrs = {
        "POSITION": doc.accessor(g.means, minmax=True, vertex=True),
        "COLOR_0": doc.accessor(
            np.concatenate([g.colors, g.opacities[:, None]], axis=1), vertex=True
        ),
        f"{EXT}:ROTATION": doc.accessor(xyzw, vertex=True),
        f"{EXT}:SCALE": doc.accessor(np.log(np.maximum(g.scales, 1e-12)), vertex=True),
        f"{EXT}:OPACITY": doc.accessor(g.opacities, vertex=True),
        f"{EXT}:SH_DEGREE_0_COEF_0": doc.accessor((g.colors - 0.5) / SH_C0, vertex=True),
    }
    prim = {
        "attributes": attrs,
        "mode": 0,
        "extensions": {
            EXT: {
                "kernel": "ellipse",
                "colorSpace": "srgb_rec709_display",
                "sortingMethod": "cameraDistance",
                "projection": "perspective",
            }
        },
    }
    doc._list("meshes").append({"name": "splats", "primitives": [prim]})
    doc.add_node({"name": "splats", "mesh": 0})
    doc.use_extension(EXT)
    return doc.glb()


# --- exporters ----------------------------------------------------------------------------


def _splat_export(request: ExportRequest, progress, cancel, write) -> bytes | Path:
    steps = Steps(progress, cancel)
    g, _ = take_region(request, steps)
    out = deliver(request, lambda p: write(p, g))
    steps.report(1.0)
    return out


def export_ply(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's surroundings as an INRIA 3DGS PLY (axes per `request.axes`)."""
    return _splat_export(
        request, progress, cancel, lambda p, g: write_ply(p, oriented(g, request.axes))
    )


def export_splat(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's surroundings as antimatter15 .splat records (axes per `request.axes`)."""
    return _splat_export(
        request,
        progress,
        cancel,
        lambda p, g: p.write_bytes(splat_array(oriented(g, request.axes)).tobytes()),
    )


def export_spz(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's surroundings as Niantic SPZ (version `request.spz_version`, default 2)."""
    return _splat_export(
        request, progress, cancel, lambda p, g: write_spz(p, g, request.spz_version)
    )


def export_gltf_splat(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's surroundings as glTF (GLB) with KHR_gaussian_splatting, +Y up."""
    return _splat_export(request, progress, cancel, lambda p, g: p.write_bytes(gltf_splat_bytes(g)))
