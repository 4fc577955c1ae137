"""Read 3DGS captures (.ply, .spz, .splat) into studio Gaussians, and make worlds from them.

Readers (exporters/ writes the same formats; these only read):

- ``.ply``: the INRIA 3DGS layout (x y z, f_dc_0..2, opacity, scale_0..2, rot_0..3; f_rest_*
  ignored) read with plyfile, memory-mapped, so the size is checked against the header before
  any data is touched and a huge file is decimated by reading only the rows kept. Logit
  opacities -> sigmoid, log scales -> exp, DC SH -> sRGB (0.5 + C0 * f_dc).
- ``.splat``: antimatter15's 32-byte records (position f32x3, linear scale f32x3, RGBA u8,
  quaternion u8x4 wxyz as (q - 128) / 128), memory-mapped the same way.
- ``.spz``: Niantic's format through gsply (`gsply.read_spz`); its header (point count) is
  read first so absurd files are refused before decompressing.

Non-finite splats are dropped with a notice; a file over `max_splats` is decimated uniformly
(seeded) with a notice; truncated files and wrong properties raise `SplatImportError` naming
what is wrong. `fit_ground` then finds the capture's ground (RANSAC plane, then a heightfield of
each cell's lowest dense surface) and the transform that puts it at y = 0 with +Y up.
"""

from __future__ import annotations

import gzip
import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from studio.backdrop import Backdrop, Heightfield
from studio.gaussians import Gaussians
from studio.spec import Terrain, WorldSpec

log = logging.getLogger(__name__)

SH_C0 = 0.28209479177387814
DEFAULT_MAX_SPLATS = 1_000_000
"""Splats kept in a world made from a capture (more are decimated with a notice)."""
SPZ_MAX_POINTS = 20_000_000
"""SPZ files claiming more points are refused: they must be decompressed whole to read."""
INRIA_PROPS = (
    "x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
    "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3",
)  # fmt: skip
EYE_HEIGHT = 1.7
Up = Literal["auto", "+y", "-y", "+z", "-z"]


class SplatImportError(ValueError):
    """A capture cannot be read; the message names the file, the problem and the fix."""


@dataclass
class Capture:
    """Gaussians read from a capture file (in the file's own frame), and notices for the user."""

    gaussians: Gaussians
    count_in_file: int
    notes: list[str] = field(default_factory=list)
    name: str = ""


def _keep_index(n: int, max_splats: int, seed: int) -> np.ndarray | None:
    if n <= max_splats:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, max_splats, replace=False))


def _finish(
    path: Path, means, quats, scales, opac, colors, n_file: int, notes: list[str]
) -> Capture:
    g = Gaussians(means, quats, scales, opac, colors)
    finite = np.isfinite(g.means).all(1) & np.isfinite(g.quats).all(1)
    finite &= np.isfinite(g.scales).all(1) & np.isfinite(g.opacities) & np.isfinite(g.colors).all(1)
    qn = np.linalg.norm(g.quats, axis=1)
    finite &= qn > 1e-8
    if not finite.all():
        bad = int((~finite).sum())
        if bad == len(g):
            raise SplatImportError(
                f"{path}: every splat has NaN/inf values or a zero rotation; the file is damaged"
            )
        notes.append(f"{path.name}: dropped {bad} splats with NaN/inf values or zero rotations")
        g = g.subset(finite)
        qn = qn[finite]
    g.quats /= qn[:, None]
    g.quats *= np.where(g.quats[:, :1] < 0, -1.0, 1.0).astype(np.float32)
    np.clip(g.opacities, 0.0, 1.0, out=g.opacities)
    np.clip(g.colors, 0.0, 1.0, out=g.colors)
    np.maximum(g.scales, 0.0, out=g.scales)
    return Capture(g.validate(), n_file, notes, path.name)


def _decimation_note(path: Path, n: int, kept: int) -> str:
    return (
        f"{path.name} has {n:,} splats; kept a uniform random {kept:,} of them "
        f"(raise the limit with --max-splats)"
    )


def read_ply(path: Path, *, max_splats: int = DEFAULT_MAX_SPLATS, seed: int = 0) -> Capture:
    """An INRIA-layout 3DGS PLY (see the module docstring)."""
    from plyfile import PlyData, PlyHeaderParseError

    notes: list[str] = []
    try:
        with open(path, "rb") as fh:
            header = PlyData._parse_header(fh)  # header only: no data read
            data_start = fh.tell()
    except (PlyHeaderParseError, UnicodeDecodeError, ValueError) as e:
        raise SplatImportError(f"{path}: not a PLY file Tidepool can read ({e})") from None
    names = [el.name for el in header.elements]
    if "vertex" not in names:
        raise SplatImportError(f"{path}: the PLY has no 'vertex' element (it has {names})")
    vertex = header["vertex"]
    props = [p.name for p in vertex.properties]
    missing = [p for p in INRIA_PROPS if p not in props]
    if missing:
        raise SplatImportError(
            f"{path}: not a 3D Gaussian splat PLY: vertex lacks {', '.join(missing)} (it has "
            f"{', '.join(props[:12])}{'...' if len(props) > 12 else ''}); export 3DGS splats "
            "in the INRIA layout (e.g. from SuperSplat, Polycam or Luma), not a point cloud or mesh"
        )
    n = int(vertex.count)
    if n == 0:
        raise SplatImportError(f"{path}: the PLY holds no splats")
    if header.text:
        if n > 200_000:
            raise SplatImportError(
                f"{path}: an ASCII PLY with {n:,} splats is too slow to read; save it as binary"
            )
        data = PlyData.read(str(path))["vertex"].data
        idx = _keep_index(n, max_splats, seed)
    else:
        if len(names) > 1 and names[0] != "vertex":
            raise SplatImportError(f"{path}: the 'vertex' element must come first (found {names})")
        dtype = vertex.dtype(header.byte_order)
        need = data_start + n * dtype.itemsize
        size = path.stat().st_size
        if size < need:
            raise SplatImportError(
                f"{path}: truncated: its header promises {n:,} splats ({need:,} bytes) but the "
                f"file has {size:,} bytes; re-export or re-download it"
            )
        data = np.memmap(path, dtype=dtype, mode="r", offset=data_start, shape=(n,))
        idx = _keep_index(n, max_splats, seed)
    if idx is not None:
        data = data[idx]
        notes.append(_decimation_note(path, n, len(idx)))

    def cols(*ks: str) -> np.ndarray:
        return np.stack([np.asarray(data[k], np.float64) for k in ks], axis=1)

    means = cols("x", "y", "z")
    colors = 0.5 + SH_C0 * cols("f_dc_0", "f_dc_1", "f_dc_2")
    with np.errstate(over="ignore"):
        opac = 1.0 / (1.0 + np.exp(-np.asarray(data["opacity"], np.float64)))
        scales = np.exp(cols("scale_0", "scale_1", "scale_2"))
    quats = cols("rot_0", "rot_1", "rot_2", "rot_3")
    return _finish(path, means, quats, scales, opac, colors, n, notes)


SPLAT_DTYPE = np.dtype(
    [("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)]
)


def read_splat(path: Path, *, max_splats: int = DEFAULT_MAX_SPLATS, seed: int = 0) -> Capture:
    """An antimatter15 ``.splat`` file (32 bytes per splat)."""
    size = path.stat().st_size
    if size == 0:
        raise SplatImportError(f"{path}: the file is empty")
    if size % SPLAT_DTYPE.itemsize:
        raise SplatImportError(
            f"{path}: truncated or not a .splat file: {size:,} bytes is not a whole number of "
            f"32-byte splats; re-export it"
        )
    n = size // SPLAT_DTYPE.itemsize
    data = np.memmap(path, dtype=SPLAT_DTYPE, mode="r", shape=(n,))
    notes: list[str] = []
    idx = _keep_index(n, max_splats, seed)
    if idx is not None:
        data = data[idx]
        notes.append(_decimation_note(path, n, len(idx)))
    rgba = np.asarray(data["rgba"], np.float64) / 255.0
    quats = (np.asarray(data["rot"], np.float64) - 128.0) / 128.0
    return _finish(path, data["pos"], quats, data["scale"], rgba[:, 3], rgba[:, :3], n, notes)


def spz_point_count(path: Path) -> int:
    """The point count in an SPZ header (gzip containers v1-v3, or raw NGSP v4)."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                hdr = fh.read(16)
        else:
            with open(path, "rb") as fh:
                hdr = fh.read(16)
    except (OSError, EOFError) as e:
        raise SplatImportError(f"{path}: truncated or not an SPZ file ({e})") from None
    if len(hdr) < 16 or hdr[:4] != b"NGSP":
        raise SplatImportError(f"{path}: not an SPZ file (its header does not start with NGSP)")
    _magic, _version, count = struct.unpack("<III", hdr[:12])
    return int(count)


def read_spz(path: Path, *, max_splats: int = DEFAULT_MAX_SPLATS, seed: int = 0) -> Capture:
    """A Niantic ``.spz`` file via gsply (its header is checked first)."""
    n = spz_point_count(path)
    if n == 0:
        raise SplatImportError(f"{path}: the SPZ holds no splats")
    if n > SPZ_MAX_POINTS:
        raise SplatImportError(
            f"{path}: its header claims {n:,} splats, over the {SPZ_MAX_POINTS:,} an SPZ can be "
            "read with here (it must be decompressed whole); convert it to .ply, which is "
            "decimated while reading"
        )
    try:
        import gsply
    except ImportError:
        raise SplatImportError(
            "reading .spz needs the gsply package: pip install gsply (or convert to .ply)"
        ) from None
    try:
        d = gsply.read_spz(path)
    except (ValueError, OSError, EOFError, gzip.BadGzipFile, struct.error) as e:
        raise SplatImportError(f"{path}: truncated or damaged SPZ ({e}); re-export it") from None
    m = len(d.means)
    if m != n:
        raise SplatImportError(f"{path}: header says {n:,} splats but {m:,} were decoded")
    notes: list[str] = []
    idx = _keep_index(m, max_splats, seed)
    sel = slice(None) if idx is None else idx
    if idx is not None:
        notes.append(_decimation_note(path, m, len(idx)))
    means = np.asarray(d.means, np.float64)[sel]
    colors = 0.5 + SH_C0 * np.asarray(d.sh0, np.float64)[sel]
    with np.errstate(over="ignore"):
        opac = 1.0 / (1.0 + np.exp(-np.asarray(d.opacities, np.float64)[sel]))
        scales = np.exp(np.asarray(d.scales, np.float64)[sel])
    quats = np.asarray(d.quats, np.float64)[sel]
    return _finish(path, means, quats, scales, opac, colors, n, notes)


READERS = {".ply": read_ply, ".splat": read_splat, ".spz": read_spz}


def read_capture(
    path: str | Path, *, max_splats: int = DEFAULT_MAX_SPLATS, seed: int = 0
) -> Capture:
    """Read a .ply / .spz / .splat capture by its extension (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise SplatImportError(f"{path}: no such file; check the path")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SplatImportError(
            f"{path}: unknown splat format {path.suffix!r}; use a .ply, .spz or .splat capture"
        )
    if max_splats < 1:
        raise SplatImportError(f"max_splats {max_splats} must be at least 1")
    cap = reader(path, max_splats=max_splats, seed=seed)
    for note in cap.notes:
        log.info("%s", note)
    return cap


# --- ground --------------------------------------------------------------------------------


@dataclass
class Ground:
    """The capture's ground: T_world_capture (4, 4) putting it at y = 0 with +Y up, the fitted
    heightfield (world frame), and a spawn eye position and look-at point (world frame)."""

    T_world_capture: np.ndarray
    heightfield: Heightfield
    spawn: np.ndarray
    look_at: np.ndarray
    inlier_fraction: float


def _rotation_to_up(n: np.ndarray) -> np.ndarray:
    """(3, 3) rotation taking unit vector n to +Y (the shortest arc)."""
    y = np.array([0.0, 1.0, 0.0])
    v = np.cross(n, y)
    c = float(n @ y)
    if c < -1 + 1e-9:
        return np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


_AXES = {
    "+y": np.array([0.0, 1.0, 0.0]),
    "-y": np.array([0.0, -1.0, 0.0]),
    "+z": np.array([0.0, 0.0, 1.0]),
    "-z": np.array([0.0, 0.0, -1.0]),
}


def _ransac_plane(
    pts: np.ndarray, thr: float, rng: np.random.Generator, *, iters: int, axis: np.ndarray | None
) -> tuple[np.ndarray, float, float]:
    """(unit normal, offset, inlier fraction) of the plane with the most points within `thr`
    of it, weighted by how one-sided the cloud is about it (floors, walls and ceilings bound a
    scene; a plane through the middle of hills does not); with `axis`, only planes whose normal
    is within ~25 degrees of it."""
    best = (-1.0, np.array([0.0, 1.0, 0.0]), 0.0, 0.0)
    for _ in range(iters):
        a, b, c = pts[rng.choice(len(pts), 3, replace=False)]
        n = np.cross(b - a, c - a)
        ln = np.linalg.norm(n)
        if ln < 1e-12:
            continue
        n /= ln
        if axis is not None and abs(n @ axis) < 0.9:
            continue
        dist = (pts - a) @ n
        support = float((np.abs(dist) < thr).mean())
        above, below = float((dist > thr).mean()), float((dist < -thr).mean())
        score = support * (max(above, below) / max(above + below, 1e-9)) ** 4
        if score > best[0]:
            best = (score, n, float(a @ n), support)
    _, n, d0, support = best
    return n, d0, support


def _axis_ground_plane(
    pts: np.ndarray, thr: float, rng: np.random.Generator, axis: np.ndarray
) -> tuple[np.ndarray, float]:
    """The densest plane facing the forced up `axis` (normal oriented along it)."""
    n, d0, _ = _ransac_plane(pts, thr, rng, iters=256, axis=axis)
    return (n, d0) if n @ axis >= 0 else (-n, -d0)


def _auto_ground_plane(
    pts: np.ndarray, thr: float, rng: np.random.Generator, *, max_planes: int = 4
) -> tuple[np.ndarray, float]:
    """The ground among the capture's dominant planes (floor, walls, ceiling, table tops).

    Planes are found one after another by RANSAC on the points not yet explained (each must hold
    5% of the points), oriented with most points above them, and scored by how ground-like they
    are: the share of points above (the ground is at the bottom of the cloud), support, the up
    conventions of capture tools (+-Y, then +-Z), the cloud's extent along the normal against its
    extent across it (scenes are wider than tall), how high the points on no plane (things)
    sit above it (things rest near the floor, far from a ceiling) and how many other planes
    stand upright on it (walls).
    """
    if len(pts) > 20_000:  # plenty to find and score planes; the caller refines on all
        pts = pts[rng.choice(len(pts), 20_000, replace=False)]
    left = np.ones(len(pts), bool)
    planes: list[tuple[np.ndarray, float, float]] = []
    for k in range(max_planes):
        rest = pts[left]
        if len(rest) < 50:
            break
        n, d0, _ = _ransac_plane(rest, thr, rng, iters=256 if k == 0 else 160, axis=None)
        inl = np.abs(pts @ n - d0) < thr
        support = float(inl.mean())
        if support < 0.05:
            break
        planes.append((n, d0, support))
        left &= ~inl
    if not planes:  # no dominant plane at all: the densest one, facing the usual up
        n, d0, _ = _ransac_plane(pts, thr, rng, iters=256, axis=None)
        planes = [(n, d0, 0.0)]
    best_score, best = -1.0, planes[0][:2]
    for i, (n, d0, support) in enumerate(planes):
        dist = pts @ n - d0
        if (dist < -thr).mean() > (dist > thr).mean():
            n, d0, dist = -n, -d0, -dist
        bottom = float((dist >= -thr).mean())
        prior = 0.4 + 0.6 * max(abs(n[1]), 0.8 * abs(n[2]))
        # extents along the normal and across it (the two in-plane principal spreads)
        q = pts - np.outer(dist, n)
        across = np.sqrt(np.maximum(np.linalg.eigvalsh(np.cov(q.T))[1:], 1e-12))  # (2,) std
        height = float(np.quantile(dist, 0.95) - np.quantile(dist, 0.05))
        squat = height / (3.46 * float(np.sqrt(across.prod())) + 1e-9)  # std -> uniform width
        off = dist[(dist > thr) & left]  # things, not planes: they rest near the floor
        low = float(np.median(off)) / (height + 1e-9) if len(off) else 0.0
        upright = sum(abs(float(n @ m)) < 0.15 for j, (m, _, _) in enumerate(planes) if j != i)
        score = (
            bottom**16 * np.sqrt(support + 0.01) * prior * (1 + 0.25 * upright)
            / (1 + squat) * (1.5 - min(low, 1.0))
        )  # fmt: skip
        log.debug(
            "plane %d n=%s support=%.2f bottom=%.2f squat=%.2f low=%.2f upright=%d score=%.3f",
            i, np.round(n, 2), support, bottom, squat, low, upright, score,
        )  # fmt: skip
        if score > best_score:
            best_score, best = score, (n, d0)
    return best


def fit_ground(
    g: Gaussians, *, up: Up = "auto", scale: float = 1.0, seed: int = 0, cells: int = 96
) -> Ground:
    """Find the capture's ground plane and lowest dense surface (see the module docstring).

    `up` forces the capture's up axis; "auto" picks the ground among the capture's dominant
    planes (`_auto_ground_plane`: at the bottom of the cloud, wider than the cloud is tall,
    with the other content resting near it), so a room's walls are not taken for its floor.
    `scale` multiplies the capture's units into metres.
    """
    rng = np.random.default_rng(seed)
    dense = (g.opacities > 0.3) & (g.scales.max(axis=1) <= np.quantile(g.scales.max(axis=1), 0.9))
    pts = g.means[dense].astype(np.float64) if dense.sum() >= 50 else g.means.astype(np.float64)
    if len(pts) > 60_000:
        pts = pts[rng.choice(len(pts), 60_000, replace=False)]
    if len(pts) < 3:
        raise SplatImportError("the capture has fewer than 3 splats; nothing to walk on")
    lo, hi = np.quantile(pts, 0.05, axis=0), np.quantile(pts, 0.95, axis=0)
    extent = float(np.linalg.norm(hi - lo)) or 1.0
    thr = 0.01 * extent
    if up == "auto":
        n, d0 = _auto_ground_plane(pts, thr, rng)
    else:
        n, d0 = _axis_ground_plane(pts, thr, rng, _AXES[up])
    # Refine the plane on its inliers by least squares (SVD), then again in a thinner band so
    # the feet of walls and furniture standing on it do not tilt it.
    for band in (thr, thr / 3):
        inl = np.abs(pts @ n - d0) < band
        if inl.sum() < 3:
            break
        q = pts[inl]
        ctr = q.mean(0)
        n2 = np.linalg.eigh(np.cov((q - ctr).T))[1][:, 0]  # smallest-variance direction
        n = n2 if n2 @ n > 0 else -n2
        d0 = float(ctr @ n)
    inl = np.abs(pts @ n - d0) < thr
    R = _rotation_to_up(n)
    origin_on_plane = -(0.0 - d0) * n  # the file origin projected onto the plane
    T = np.eye(4)
    T[:3, :3] = scale * R
    T[:3, 3] = -scale * (R @ origin_on_plane)
    w = (pts @ T[:3, :3].T) + T[:3, 3]  # (M, 3) world points
    inlier_fraction = float(inl.mean())

    # Heightfield of each cell's lowest dense surface (10th percentile of heights near the plane).
    lo_xz = np.quantile(w[:, [0, 2]], 0.01, axis=0)
    hi_xz = np.quantile(w[:, [0, 2]], 0.99, axis=0)
    cell = max(float((hi_xz - lo_xz).max()) / cells, 0.25)
    nx = int(np.ceil((hi_xz[0] - lo_xz[0]) / cell)) + 1
    nz = int(np.ceil((hi_xz[1] - lo_xz[1]) / cell)) + 1
    band = 3 * thr * scale
    heights = np.zeros((nz, nx), np.float64)
    near = w[:, 1] > -band
    ix = np.clip(np.round((w[near, 0] - lo_xz[0]) / cell).astype(int), 0, nx - 1)
    iz = np.clip(np.round((w[near, 2] - lo_xz[1]) / cell).astype(int), 0, nz - 1)
    key = iz * nx + ix
    order = np.lexsort((w[near, 1], key))
    ks, ys = key[order], w[near, 1][order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    counts = np.diff(np.r_[starts, len(ks)])
    ok = counts >= 5
    p10 = ys[starts + (counts * 0.1).astype(int)]
    flat = heights.ravel()
    flat[ks[starts[ok]]] = np.clip(p10[ok], -band, 20 * band)
    heights = flat.reshape(nz, nx)
    # 3x3 median to remove single-cell spikes.
    pad = np.pad(heights, 1, mode="edge")
    stack = np.stack([pad[i : i + nz, j : j + nx] for i in range(3) for j in range(3)])
    heights = np.median(stack, axis=0)
    hf = Heightfield(float(lo_xz[0]), float(lo_xz[1]), cell, heights.astype(np.float32), 0.0)

    # Spawn at the file origin if it lies within the capture, else at the ground's centroid;
    # look toward where most of the capture is.
    inside = (lo_xz[0] <= 0 <= hi_xz[0]) and (lo_xz[1] <= 0 <= hi_xz[1])
    sxz = np.zeros(2) if inside else np.median(w[:, [0, 2]], axis=0)
    rel = w[:, [0, 2]] - sxz
    far = np.linalg.norm(rel, axis=1) > 0.05 * extent * scale
    ang = np.arctan2(rel[far, 1], rel[far, 0]) if far.any() else np.zeros(1)
    hist, edges = np.histogram(ang, bins=16, range=(-np.pi, np.pi))
    a = 0.5 * (edges[np.argmax(hist)] + edges[np.argmax(hist) + 1])
    gy = float(hf.height(np.array(sxz[0]), np.array(sxz[1])))
    spawn = np.array([sxz[0], gy + EYE_HEIGHT, sxz[1]])
    look = spawn + np.array([np.cos(a), 0.0, np.sin(a)]) * 10.0
    return Ground(T, hf, spawn, look, inlier_fraction)


def capture_world_spec(
    path: str | Path,
    *,
    prompt: str = "",
    seed: int = 0,
    max_splats: int = DEFAULT_MAX_SPLATS,
    up: Up = "auto",
    scale: float = 1.0,
) -> tuple[WorldSpec, Backdrop]:
    """A world spec and capture backdrop for a 3DGS file (walkable on its fitted ground).

    The prompt (optional) sets the light, weather and mood; procedural props, landmarks and
    characters are left out (the capture is the world).
    """
    from pipelines.text import text_to_spec

    path = Path(path)
    if not (scale > 0 and np.isfinite(scale)):
        raise SplatImportError(f"--scale {scale} must be a positive number (capture units -> m)")
    cap = read_capture(path, max_splats=max_splats, seed=seed)
    ground = fit_ground(cap.gaussians, up=up, scale=scale, seed=seed)
    g = cap.gaussians.transform(ground.T_world_capture)
    spec = text_to_spec(prompt, seed) if prompt.strip() else WorldSpec(seed=seed)
    notes = list(spec.notes) + cap.notes
    if spec.props or spec.landmarks or spec.characters:
        notes.append("a capture world keeps only the capture: props and characters were left out")
    data = spec.model_dump()
    data.update(
        prompt=spec.prompt or f"(capture {path.name})",
        props=[],
        landmarks=[],
        characters=[],
        terrain=Terrain(height_scale=0.0, water_level=-100.0).model_dump(),
        notes=notes,
    )
    out = WorldSpec.from_dict(data)
    backdrop = Backdrop(
        "capture", g, ground.heightfield, ground.spawn, ground.look_at, source=path.name
    )
    return out, backdrop
