"""Image- and capture-derived world content: a photo "pop-up" at spawn, and splat-capture worlds.

A `Backdrop` is stored beside the spec in the project file (blob ``"backdrop"``), because a
world made from a photo or a 3DGS capture is no longer a pure function of its spec:

- ``kind="photo"``: Gaussians lifted from a photo (Hoiem-style pop-up: pixels below the horizon
  on the ground plane, everything standing on it folded up as vertical layers at the distance
  where it meets the ground) are drawn with the procedural world (`World.extra_static`).
- ``kind="capture"``: an imported 3DGS capture replaces the procedural terrain; `CaptureWorld`
  walks on a heightfield fitted to the capture's lowest dense surface.

`open_world(store)` builds the right `World` for a project file; everything that opens a
project for a session should use it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from studio.camera import Camera
from studio.gaussians import Gaussians
from studio.terrain import heightfield_grid
from studio.transforms import matrix_to_quat
from studio.world import World, WorldCollider

if TYPE_CHECKING:
    import trimesh

    from studio.scatter import SpawnPoint
    from studio.spec import WorldSpec
    from studio.storage import ProjectFile

log = logging.getLogger(__name__)

BLOB_NAME = "backdrop"
BACKDROP_FORMAT = 1

# Region labels of a photo (pipelines.image produces them; the pop-up places them).
SKY, GROUND, WATER, VEGETATION, UPRIGHT = 0, 1, 2, 3, 4
REGION_NAMES = ("sky", "ground", "water", "vegetation", "upright")

POPUP_MAX_DISTANCE = 60.0
"""Metres: ground farther than this (near the horizon) is folded up as a far layer."""
POPUP_LIFT = 0.04
"""Metres the photo's ground floats above the terrain, so the two never z-fight."""


class BackdropError(ValueError):
    """A backdrop blob or its inputs are unusable; the message says why and what to do."""


@dataclass(eq=False)
class Heightfield:
    """Ground heights on a regular XZ grid; outside it, `outside` (a fitted plane at y = const).

    heights (nz, nx) metres at x = x0 + i * cell, z = z0 + j * cell.
    """

    x0: float
    z0: float
    cell: float
    heights: np.ndarray  # (nz, nx) float32
    outside: float

    def height(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Bilinear height at world (x, z) (any matching shapes)."""
        x = np.asarray(x, np.float64)
        z = np.asarray(z, np.float64)
        nz, nx = self.heights.shape
        fx = (x - self.x0) / self.cell
        fz = (z - self.z0) / self.cell
        inside = (fx >= 0) & (fx <= nx - 1) & (fz >= 0) & (fz <= nz - 1)
        i = np.clip(np.floor(fx).astype(np.int64), 0, max(nx - 2, 0))
        j = np.clip(np.floor(fz).astype(np.int64), 0, max(nz - 2, 0))
        tx = np.clip(fx - i, 0.0, 1.0)
        tz = np.clip(fz - j, 0.0, 1.0)
        h = self.heights.astype(np.float64)
        i1 = np.minimum(i + 1, nx - 1)
        j1 = np.minimum(j + 1, nz - 1)
        top = h[j, i] * (1 - tx) + h[j, i1] * tx
        bot = h[j1, i] * (1 - tx) + h[j1, i1] * tx
        return np.where(inside, top * (1 - tz) + bot * tz, self.outside)

    def normal(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(..., 3) unit normals by central differences of `height`."""
        e = 0.5 * self.cell
        x = np.asarray(x, np.float64)
        z = np.asarray(z, np.float64)
        dx = (self.height(x + e, z) - self.height(x - e, z)) / (2 * e)
        dz = (self.height(x, z + e) - self.height(x, z - e)) / (2 * e)
        n = np.stack([-dx, np.ones_like(dx), -dz], axis=-1)
        return n / np.linalg.norm(n, axis=-1, keepdims=True)


@dataclass(eq=False)
class Backdrop:
    """World content that came from an image or a capture (see the module docstring).

    spawn (3,) is the eye position and look_at (3,) a point the spawn view faces (a photo's
    camera, or a capture's chosen start).
    """

    kind: Literal["photo", "capture"]
    gaussians: Gaussians
    ground: Heightfield | None = None
    spawn: np.ndarray | None = None
    look_at: np.ndarray | None = None
    source: str = ""
    colliders: np.ndarray | None = None
    """(K, 7) boxes (centre x, y, z, half extents x, y, z, yaw degrees about +Y) standing where
    the photo's upright layers stand (`popup_colliders`); None for worlds saved without them."""

    def to_bytes(self) -> bytes:
        """An npz (no pickles) that `from_bytes` reads back exactly."""
        g = self.gaussians
        arrays: dict[str, np.ndarray] = {
            "format": np.array(BACKDROP_FORMAT),
            "kind": np.array(self.kind),
            "source": np.array(self.source),
            "means": g.means,
            "quats": g.quats,
            "scales": g.scales,
            "opacities": g.opacities,
            "colors": g.colors,
        }
        if self.ground is not None:
            gr = self.ground
            arrays["ground_grid"] = gr.heights.astype(np.float32)
            arrays["ground_meta"] = np.array([gr.x0, gr.z0, gr.cell, gr.outside], np.float64)
        if self.colliders is not None:
            arrays["colliders"] = np.asarray(self.colliders, np.float64).reshape(-1, 7)
        if self.spawn is not None and self.look_at is not None:
            arrays["spawn"] = np.asarray(self.spawn, np.float64)
            arrays["look_at"] = np.asarray(self.look_at, np.float64)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Backdrop:
        try:
            z = np.load(io.BytesIO(data), allow_pickle=False)
            version = int(z["format"])
            if version > BACKDROP_FORMAT:
                raise BackdropError(
                    f"backdrop format {version} is newer than this Tidepool ({BACKDROP_FORMAT}); "
                    "upgrade Tidepool to open this world"
                )
            g = Gaussians(z["means"], z["quats"], z["scales"], z["opacities"], z["colors"])
            ground = None
            if "ground_grid" in z:
                x0, z0, cell, outside = (float(v) for v in z["ground_meta"])
                ground = Heightfield(x0, z0, cell, z["ground_grid"], outside)
            kind = str(z["kind"])
            if kind not in ("photo", "capture"):
                raise BackdropError(f"backdrop kind {kind!r} is unknown; open a backup")
            return cls(
                kind,  # type: ignore[arg-type]
                g,
                ground,
                z["spawn"] if "spawn" in z else None,
                z["look_at"] if "look_at" in z else None,
                str(z["source"]),
                z["colliders"].reshape(-1, 7) if "colliders" in z else None,
            )
        except (OSError, KeyError, ValueError) as e:
            if isinstance(e, BackdropError):
                raise
            raise BackdropError(f"the world's backdrop is damaged ({e}); open a backup") from None


def save_backdrop(store: ProjectFile, backdrop: Backdrop) -> None:
    """Store `backdrop` in an open, writable project file."""
    store.set_blob(BLOB_NAME, backdrop.to_bytes())


def load_backdrop(store: ProjectFile) -> Backdrop | None:
    """The project's backdrop, or None for a purely procedural world."""
    data = store.blob(BLOB_NAME)
    return None if data is None else Backdrop.from_bytes(data)


def world_with_backdrop(spec: WorldSpec, backdrop: Backdrop | None, **kwargs: object) -> World:
    """`World` for a spec plus optional backdrop (photo -> extra Gaussians; capture -> CaptureWorld)."""
    if backdrop is None:
        return World(spec, **kwargs)  # type: ignore[arg-type]
    if backdrop.kind == "photo":
        return PhotoWorld(spec, backdrop, **kwargs)  # type: ignore[arg-type]
    return CaptureWorld(spec, backdrop, **kwargs)  # type: ignore[arg-type]


def open_world(store: ProjectFile, **kwargs: object) -> World:
    """The world of an open project file, its backdrop (photo or capture) included."""
    return world_with_backdrop(store.spec, load_backdrop(store), **kwargs)


# --- photo pop-up --------------------------------------------------------------------------


def _frames(cols: list[np.ndarray]) -> np.ndarray:
    """(N, 4) wxyz from rotation matrices given as three (N, 3) column arrays."""
    return matrix_to_quat(np.stack(cols, axis=2))


@dataclass
class _Fold:
    """Where a photo's pixels land (see `_fold`); arrays are (H, W) unless noted."""

    d: np.ndarray  # (H, W, 3) world ray directions (|d| >= 1)
    d_h: np.ndarray  # horizontal length of each ray
    t_ground: np.ndarray  # ray parameter hitting the ground plane (inf above the horizon)
    dist_ground: np.ndarray  # horizontal distance of that hit, capped at max_distance
    contact: np.ndarray  # (W,) horizontal distance where each column's standing layer stands
    flat: np.ndarray  # ground or water pixels
    stand: np.ndarray  # vegetation or upright pixels
    lowest_stand: np.ndarray  # (W,) lowest standing row of each column (-1: none)


def _fold(
    labels: np.ndarray, camera: Camera, *, ground_height: float, max_distance: float
) -> _Fold:
    """The pop-up's geometry: each pixel's ray, where flat pixels meet the ground plane, and per
    column the distance where its standing layer is folded up."""
    H, W = labels.shape
    eye = float(camera.position[1] - ground_height)
    if eye <= 0:
        raise BackdropError(f"camera height above the ground {eye:.2f} m must be positive.")
    K = camera.K()
    f = float(K[0, 0])
    u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)  # (H, W)
    body = np.stack([(u - K[0, 2]) / f, -(v - K[1, 2]) / f, -np.ones_like(u)], axis=-1)
    d = body @ camera.R_world_body.T  # (H, W, 3) world ray directions (|d| >= 1)
    dy = d[..., 1]
    d_h = np.linalg.norm(d[..., [0, 2]], axis=-1)  # horizontal length of each ray
    with np.errstate(divide="ignore"):
        t_ground = np.where(dy < -1e-6, eye / -dy, np.inf)  # ray parameter hitting the plane
    dist_ground = np.minimum(t_ground * d_h, max_distance)  # horizontal distance

    flat = (labels == GROUND) | (labels == WATER)
    stand = (labels == VEGETATION) | (labels == UPRIGHT)
    # Per column, the ground's last (highest in the image) row of the bottom run of flat pixels:
    # standing pixels above it are at that distance. A column whose bottom pixel already stands
    # uses the image's bottom-edge distance.
    rows = np.arange(H)[:, None]
    lowest_stand = np.where(stand, rows, -1).max(axis=0)  # (W,)
    contact_row = np.clip(lowest_stand + 1, 0, H - 1)
    contact = dist_ground[contact_row, np.arange(W)]
    bottom_stands = lowest_stand == H - 1
    contact = np.where(bottom_stands, dist_ground[H - 1], contact)
    contact = np.where(np.isfinite(contact), contact, max_distance)
    # Smooth the fold line a little (median of 5 columns) so single mislabelled columns do not spike.
    pad = np.pad(contact, 2, mode="edge")
    contact = np.median(np.stack([pad[k : k + W] for k in range(5)]), axis=0)
    return _Fold(d, d_h, t_ground, dist_ground, contact, flat, stand, lowest_stand)


COLLIDER_TOLERANCE = 0.2
"""Metres a layer may bend away from the straight box that blocks it."""
COLLIDER_MAX_LENGTH = 6.0
"""Metres: longest box along a layer (short boxes keep `colliders_near` queries local)."""
COLLIDER_THICKNESS = 0.3
"""Metres: thickness of a layer's boxes (thick enough that a 12 m/s flyer cannot skip one)."""


def popup_colliders(
    labels: np.ndarray,
    camera: Camera,
    *,
    ground_height: float,
    terrain_height=None,  # Callable[[x (N,), z (N,)], (N,)] | None
    max_distance: float = POPUP_MAX_DISTANCE,
) -> np.ndarray:
    """(K, 7) boxes for the standing layers of `photo_popup` (same arguments, same geometry).

    Each column whose vegetation / upright pixels stand on the ground nearer than
    `max_distance` contributes a foot point and a top height; runs of neighbouring columns are
    covered by straight boxes (centre x, y, z, half extents x, y, z, yaw degrees) that follow
    the fold line within `COLLIDER_TOLERANCE`. Layers folded at `max_distance` (the far
    horizon) get none: the procedural world continues behind them.
    """
    H = labels.shape[0]
    fold = _fold(labels, camera, ground_height=ground_height, max_distance=max_distance)
    near = (fold.lowest_stand >= 0) & (fold.contact < max_distance - 1e-6)  # (W,)
    if not near.any():
        return np.zeros((0, 7))
    # Foot and top of each column's layer: its standing pixels at the contact distance.
    s = fold.contact[None, :] / fold.d_h  # (H, W) ray parameters reaching that distance
    pts = camera.position + fold.d * s[..., None]  # (H, W, 3)
    stand = fold.stand & near[None, :]
    rows = np.arange(H)[:, None]
    top_row = np.where(stand, rows, H).min(axis=0)  # (W,) highest standing pixel
    cols = np.flatnonzero(near & (top_row < H))
    foot = pts[fold.lowest_stand[cols], cols][:, [0, 2]]  # (n, 2) xz
    top = pts[top_row[cols], cols, 1] - ground_height  # (n,) metres above the ground
    top = np.maximum(top, 0.05)
    pixel = np.maximum(fold.contact[cols] / float(camera.K()[0, 0]), 0.01)  # metres per column

    boxes = []
    i = 0
    n = len(cols)
    while i < n:
        j = i
        while j + 1 < n and cols[j + 1] == cols[j] + 1:
            a, b = foot[i], foot[j + 1]
            if np.linalg.norm(foot[j + 1] - foot[j]) > 4 * pixel[j] + COLLIDER_TOLERANCE:
                break  # a jump in depth: a new layer
            if np.linalg.norm(b - a) > COLLIDER_MAX_LENGTH:
                break
            ab = b - a
            L = float(np.linalg.norm(ab))
            if L > 1e-9:
                off = np.abs((foot[i : j + 2] - a) @ np.array([-ab[1], ab[0]]) / L)
                if off.max() > COLLIDER_TOLERANCE:
                    break
            j += 1
        a, b = foot[i], foot[j]
        ab = b - a
        L = float(np.linalg.norm(ab))
        if L < 1e-6:  # one column: across its view ray
            ray = fold.d[fold.lowest_stand[cols[i]], cols[i]][[0, 2]]
            ab = np.array([-ray[1], ray[0]])
        ux, uz = ab / np.linalg.norm(ab)
        half_len = 0.5 * L + 0.5 * float(pixel[i : j + 1].max())
        mid = 0.5 * (a + b)
        y0 = y1 = ground_height
        if terrain_height is not None:  # the layer is draped like its Gaussians
            ends = np.array([a, b, mid])
            under = np.asarray(terrain_height(ends[:, 0], ends[:, 1]), np.float64)
            y0, y1 = float(under.min()), float(under.max()) + POPUP_LIFT
        y1 += float(top[i : j + 1].max())
        yaw = float(np.degrees(np.arctan2(-uz, ux)))  # local +x along the layer
        boxes.append(
            [
                mid[0],
                0.5 * (y0 + y1),
                mid[1],
                half_len,
                0.5 * (y1 - y0),
                COLLIDER_THICKNESS / 2,
                yaw,
            ]
        )
        i = j + 1
    return np.array(boxes, np.float64).reshape(-1, 7)


def photo_popup(
    rgb: np.ndarray,
    labels: np.ndarray,
    camera: Camera,
    *,
    ground_height: float,
    terrain_height=None,  # Callable[[x (N,), z (N,)], (N,)] | None
    max_distance: float = POPUP_MAX_DISTANCE,
) -> Gaussians:
    """Lift a photo into Gaussians seen exactly as the photo from `camera`.

    rgb (H, W, 3) sRGB in [0, 1]; labels (H, W) region codes (SKY, GROUND, ...). `camera` is
    the photo's camera (its size must be W x H) standing `camera.position[1] - ground_height`
    above a flat ground. Ground and water pixels land on that plane (depth from the
    ground-plane assumption); each column's vegetation and upright pixels stand as a vertical
    layer at the distance where the column's ground ends; sky pixels are left to the world's
    sky. With `terrain_height`, every point is then shifted by the terrain's height below it
    (minus `ground_height`), so the photo drapes over the procedural ground.
    """
    H, W = labels.shape
    if rgb.shape != (H, W, 3):
        raise BackdropError(f"rgb has shape {rgb.shape}; expected {(H, W, 3)} to match labels.")
    if (camera.width, camera.height) != (W, H):
        raise BackdropError(
            f"camera is {camera.width}x{camera.height} but the image is {W}x{H}; "
            "use camera.with_size(W, H)."
        )
    fold = _fold(labels, camera, ground_height=ground_height, max_distance=max_distance)
    d, d_h, t_ground, dist_ground, contact = (
        fold.d,
        fold.d_h,
        fold.t_ground,
        fold.dist_ground,
        fold.contact,
    )
    flat, stand = fold.flat, fold.stand
    f = float(camera.K()[0, 0])

    # Flat pixels beyond the contact (e.g. ground seen between trees far away) keep their own
    # depth; flat pixels above the horizon cannot hit the ground and become far layers.
    dist = np.where(flat, dist_ground, contact[None, :])
    dist = np.where(flat & ~np.isfinite(t_ground), max_distance, dist)
    keep = (flat | stand) & np.isfinite(dist)
    if not keep.any():
        return Gaussians.empty()
    d_k = d[keep]
    dist_k = dist[keep]
    s = dist_k / d_h[keep]  # ray parameter
    pts = camera.position + d_k * s[:, None]  # (N, 3)
    on_plane = flat[keep] & (dist_k < max_distance)
    pts[on_plane, 1] = ground_height
    rng = np.linalg.norm(d_k, axis=1) * s  # metres along the ray
    pix = rng / f  # metres a pixel spans at that range
    n = len(pts)

    up = np.tile([0.0, 1.0, 0.0], (n, 1))
    fwd = d_k.copy()
    fwd[:, 1] = 0.0
    fwd /= np.maximum(np.linalg.norm(fwd, axis=1, keepdims=True), 1e-9)
    right = np.cross(fwd, up)
    scales = np.empty((n, 3))
    quats = np.empty((n, 4))
    # Ground discs: normal up, stretched along the view by 1 / sin(grazing angle) (capped).
    g = on_plane
    graze = np.clip(-d_k[g, 1] / np.linalg.norm(d_k[g], axis=1), 0.08, 1.0)
    quats[g] = _frames([right[g], -fwd[g], up[g]])
    scales[g] = np.stack([0.62 * pix[g], 0.62 * pix[g] / graze, 0.02 * pix[g]], axis=1)
    # Standing layers: normal towards the camera.
    o = ~g
    quats[o] = _frames([-right[o], up[o], -fwd[o]])
    scales[o] = np.stack([0.62 * pix[o], 0.62 * pix[o], 0.02 * pix[o]], axis=1)
    if terrain_height is not None:
        below = np.asarray(terrain_height(pts[:, 0], pts[:, 2]), np.float64)
        pts[:, 1] += below - ground_height + POPUP_LIFT
    colors = np.clip(rgb[keep], 0.0, 1.0)
    opac = np.full(n, 0.97)
    return Gaussians(pts, quats, scales, opac, colors)


class PhotoWorld(World):
    """A procedural world with a photo popped up at spawn; the spawn view is the photo's."""

    def __init__(self, spec: WorldSpec, backdrop: Backdrop, **kwargs: object) -> None:
        super().__init__(spec, extra_static=backdrop.gaussians, **kwargs)  # type: ignore[arg-type]
        self.backdrop = backdrop
        boxes = np.zeros((0, 7)) if backdrop.colliders is None else backdrop.colliders
        self._photo_boxes = boxes  # (K, 7)
        self._photo_colliders = [
            WorldCollider(
                "box", (float(b[0]), float(b[1]), float(b[2])),
                (float(b[3]), float(b[4]), float(b[5])), float(b[6]), "photo",
                f"photo@{b[0] * 100:.0f},{b[2] * 100:.0f}",
            )
            for b in boxes
        ]  # fmt: skip

    def colliders_near(self, x: float, z: float, radius: float) -> list[WorldCollider]:
        """The procedural props' colliders plus the photo's upright layers within `radius`."""
        out = super().colliders_near(x, z, radius)
        b = self._photo_boxes
        if len(b):
            reach = np.hypot(b[:, 0] - x, b[:, 2] - z) - np.hypot(b[:, 3], b[:, 5])
            out += [self._photo_colliders[k] for k in np.flatnonzero(reach <= radius)]
        return out

    def spawn_camera(self, *, width: int = 1280, height: int = 720, eye: float = 1.7) -> Camera:
        b = self.backdrop
        cam = super().spawn_camera(width=width, height=height, eye=eye)
        if b.spawn is not None and b.look_at is not None:
            cam.position = np.asarray(b.spawn, float).copy()
            cam.look_at(np.asarray(b.look_at, float))
        return cam


# --- capture worlds ------------------------------------------------------------------------


class CaptureWorld(World):
    """A world whose content is an imported 3DGS capture, walked on its fitted ground.

    The procedural terrain and props are replaced by the capture; directing, creatures,
    weather, light changes and takes work as in any world. The capture's colours are baked
    light, so it is drawn as captured (relighting does not darken it).
    """

    def __init__(self, spec: WorldSpec, backdrop: Backdrop, **kwargs: object) -> None:
        if backdrop.kind != "capture" or backdrop.ground is None:
            raise BackdropError("CaptureWorld needs a capture backdrop with a fitted ground.")
        super().__init__(spec, **kwargs)  # type: ignore[arg-type]
        self.backdrop = backdrop
        self.ground = backdrop.ground
        g = backdrop.gaussians
        self._order = np.random.default_rng(spec.seed).permutation(len(g))
        self._capture = g.subset(self._order)  # random order: any prefix is a fair decimation

    @property
    def water_level(self) -> float:
        return float(min(self.ground.outside, float(self.ground.heights.min())) - 1000.0)

    def height_at(self, x: float | np.ndarray, z: float | np.ndarray) -> float | np.ndarray:
        h = self.ground.height(np.asarray(x, float), np.asarray(z, float))
        return float(h) if np.ndim(h) == 0 else h

    def normal_at(self, x: float | np.ndarray, z: float | np.ndarray) -> np.ndarray:
        return self.ground.normal(np.asarray(x, float), np.asarray(z, float))

    def is_water(self, x: float | np.ndarray, z: float | np.ndarray) -> bool | np.ndarray:
        w = np.zeros(np.broadcast(np.asarray(x), np.asarray(z)).shape, bool)
        return bool(w) if w.ndim == 0 else w

    def spawn_point(self) -> SpawnPoint:
        from studio.scatter import SpawnPoint

        b = self.backdrop
        assert b.spawn is not None and b.look_at is not None
        pos = np.array([b.spawn[0], self.height_at(b.spawn[0], b.spawn[2]), b.spawn[2]])
        d = b.look_at - pos
        yaw = float(np.degrees(np.arctan2(-d[0], -d[2])))
        return SpawnPoint(pos, yaw, np.asarray(b.look_at, float))

    def creature_spawns(self) -> list:
        return []

    def props_in_chunk(self, cx: int, cz: int) -> list:
        return []

    def colliders_near(self, x: float, z: float, radius: float) -> list:
        return []

    def gaussians_in_view(
        self,
        camera: Camera,
        budget: int = 250_000,
        *,
        time_s: float = 0.0,
        creatures: bool = True,
        weather: bool = True,
        hidden: frozenset[str] = frozenset(),
        extra: Gaussians | None = None,
        borrow: bool = False,
    ) -> Gaussians:
        """The capture's splats in front of the camera (a random subset if over `budget`),
        plus weather particles and `extra` (already lit: the simulation's player, creatures
        and debris). A capture has no procedural props, so `hidden` hides nothing, and its
        view is cut for each frame, so there is no anchor view to `borrow`."""
        g = self._capture
        V = camera.viewmat()
        z = g.means @ V[2, :3] + V[2, 3]  # (N,) depth
        front = np.flatnonzero(z > -3.0 * g.scales.max(axis=1))
        if len(front) > budget:
            front = front[:budget]  # `_capture` is in random order
        parts = [g.subset(front)]
        if weather:
            from studio.weather import weather_particles

            parts.append(weather_particles(self, camera, time_s=time_s))
        if extra is not None:
            parts.append(extra)
        out = Gaussians.concat(parts)
        self.last_view_count = len(out)
        return out

    def lit(self, g: Gaussians) -> Gaussians:
        from studio.assets import surfel_normals
        from studio.lighting import shade

        if len(g) == 0:
            return g
        col = shade(g.colors, surfel_normals(g), self.lighting)
        return Gaussians(g.means, g.quats, g.scales, g.opacities, col)

    def creature_gaussians(self, *, time_s: float = 0.0) -> Gaussians:
        return Gaussians.empty()

    def meshes_in(
        self, bounds: np.ndarray, *, terrain_spacing: float = 1.0
    ) -> list[tuple[str, trimesh.Trimesh, np.ndarray]]:
        """The fitted ground as a mesh (the capture itself exports as splats)."""
        import trimesh

        verts, faces = heightfield_grid(self.ground.height, bounds, terrain_spacing)
        return [("ground", trimesh.Trimesh(verts, faces, process=False), np.eye(4))]
