"""Mesh scene exports of a take's surroundings: `glb` (trimesh + the animated camera) and `usd`.

The scene holds the procedural source meshes: terrain as one mesh per chunk, one named node
per prop instance, the creatures posed as at the take's first tick, and the take's camera
animated per tick. Content that exists only as Gaussians (a photo world's pop-up, a capture
world's capture) is reconstructed from rendered depth (`exporters.mesh_extract`, the ``mesh``
extra) into one node named "reconstruction". Vertex colours are sRGB as generated.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import trimesh

from exporters.base import ExportError, ExportRequest, ProgressFn, Steps, deliver, load_take
from studio.storage import ProjectFile, TakeRow

if TYPE_CHECKING:
    from studio.world import World

SceneItem = tuple[str, trimesh.Trimesh, np.ndarray]


def scene_items(
    store: ProjectFile,
    take: TakeRow,
    *,
    radius: float,
    steps: Steps | None = None,
    backend: str = "auto",
) -> list[SceneItem]:
    """(name, mesh, T_world_local) for terrain chunks, props, creatures and the reconstruction
    of splat-only content (`RECONSTRUCTION_NODE`, photo and capture worlds) around the take."""
    from exporters.mesh_extract import RECONSTRUCTION_NODE, has_splat_only_content
    from studio.assets import make_creature
    from studio.session import Session
    from studio.sim.animation import creature_poses
    from studio.view import creature_variant
    from studio.world import CHUNK_SIZE

    session = Session(store)
    world = session.world
    try:
        branch = next(b for b in session.timeline.branches.values() if b.id == take.branch_id)
        state = session.timeline.seek(branch, take.start_tick)
        xz = take.cameras[:, [0, 2]]
        lo, hi = xz.min(axis=0) - radius, xz.max(axis=0) + radius
        c0 = np.floor(lo / CHUNK_SIZE).astype(int)
        c1 = np.floor(hi / CHUNK_SIZE).astype(int)
        items: list[SceneItem] = []
        seen: set[str] = set()
        rebuild = has_splat_only_content(world)
        span = 0.2 if rebuild else 0.6  # of the progress, for the chunks' meshes
        keys = [(cx, cz) for cx in range(c0[0], c1[0] + 1) for cz in range(c0[1], c1[1] + 1)]
        for k, (cx, cz) in enumerate(keys):
            b0 = np.maximum(lo, np.array([cx, cz]) * CHUNK_SIZE)
            b1 = np.minimum(hi, (np.array([cx, cz]) + 1) * CHUNK_SIZE)
            if (b1 - b0 < 1.0).any():
                continue
            for name, mesh, T in world.meshes_in(np.stack([b0, b1])):
                if name in ("terrain", "ground"):  # a capture's fitted ground is its terrain
                    items.append((f"terrain_{cx}_{cz}", mesh, T))
                elif name not in seen:
                    seen.add(name)
                    items.append((name, mesh, T))
            if steps is not None:
                steps.report(span * (k + 1) / len(keys))
        if rebuild:
            mesh = _reconstruction(world, take, radius=radius, steps=steps, backend=backend)
            if mesh is not None:
                items.append((RECONSTRUCTION_NODE, mesh, np.eye(4)))
        colors = {c.kind: c.color for c in world.spec.characters}
        for pose in creature_poses(state):
            model = make_creature(
                pose.kind, creature_variant(pose.kind, pose.seed), color=colors.get(pose.kind)
            )
            mesh = model.pose_mesh(pose.angles, T_world_root=pose.T_world_root)
            label = pose.label or pose.kind
            items.append((f"{label}_{pose.id}", mesh, np.eye(4)))
    finally:
        world.close()
    return items


def _reconstruction(
    world: World, take: TakeRow, *, radius: float, steps: Steps | None, backend: str
) -> trimesh.Trimesh | None:
    """The mesh of the world's splat-only content; progress 0.2 -> 0.6, cancellable per view."""
    from exporters.mesh_extract import world_reconstruction

    def progress(f: float) -> None:
        if steps is not None:
            steps.report(0.2 + 0.4 * f)

    return world_reconstruction(
        world, take, radius=radius, progress=progress,
        backend=backend,  # type: ignore[arg-type]
    )  # fmt: skip


def _load(request: ExportRequest, steps: Steps) -> tuple[list[SceneItem], TakeRow]:
    with ProjectFile.open(request.project, readonly=True) as store:
        take = load_take(store, request.take)
        radius = 48.0 if request.radius is None else request.radius
        items = scene_items(store, take, radius=radius, steps=steps, backend=request.backend)
    if not items:
        raise ExportError(f"take {request.take!r}: nothing within {radius} m to export.")
    return items, take


def glb_bytes(items: list[SceneItem], take: TakeRow, *, width: int, height: int) -> bytes:
    from exporters.gltf import Gltf, add_camera

    scene = trimesh.Scene()
    for name, mesh, T in items:
        scene.add_geometry(mesh, node_name=name, geom_name=name, transform=T)
    g = Gltf.from_glb(scene.export(file_type="glb"))
    add_camera(g, take, width=width, height=height)
    return g.glb()


def export_glb(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """Terrain chunks, props and posed creatures with colours, plus the animated take camera."""
    steps = Steps(progress, cancel)
    items, take = _load(request, steps)
    data = glb_bytes(items, take, width=request.width, height=request.height)
    steps.report(1.0)
    return deliver(request, lambda p: p.write_bytes(data))


def _prim_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return s if s and not s[0].isdigit() else f"_{s}"


def export_usd(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The same scene as `glb` as a USD stage, with the take's camera and stage metadata."""
    from exporters import usd
    from exporters.camera_path import _usd_suffix
    from exporters.mesh_extract import RECONSTRUCTION_NODE

    steps = Steps(progress, cancel)
    items, take = _load(request, steps)

    def write(path: Path) -> None:
        target = path.with_name(path.name + _usd_suffix(request))
        stage = usd.new_stage(target, take)
        for group in ("Terrain", "Props", "Creatures"):
            stage.DefinePrim(f"/World/{group}", "Xform")
        used: set[str] = set()
        for k, (name, mesh, T) in enumerate(items):
            colors = np.asarray(mesh.visual.vertex_colors)[:, :3] / 255.0
            if name == RECONSTRUCTION_NODE:
                prim_path = "/World/Reconstruction"
            else:
                group = "Terrain" if name.startswith("terrain_") else "Props"
                if np.allclose(T, np.eye(4)) and not name.startswith("terrain_"):
                    group = "Creatures"
                prim = _prim_name(name)
                while prim in used:
                    prim += "_"
                used.add(prim)
                prim_path = f"/World/{group}/{prim}"
            usd.add_mesh(
                stage, prim_path, np.asarray(mesh.vertices), np.asarray(mesh.faces), colors, T
            )
            if k % 16 == 0:
                steps.report(0.6 + 0.35 * k / len(items))
        usd.add_camera(stage, take, width=request.width, height=request.height)
        stage.GetRootLayer().Save()
        del stage
        target.replace(path)

    out = deliver(request, write)
    steps.report(1.0)
    return out
