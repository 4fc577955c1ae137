"""`tidepool bench` export numbers: MP4 seconds per take-second at 1280x720 (DESIGN.md budget:
a 10 s take in <= 20 s on CPU, i.e. <= 2 s per take-second), file size per format, and the
seconds and triangles of a capture world's mesh extraction (the `mesh` extra)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from studio.bench import Measurement, benchmark


def _project(folder: Path, ticks: int) -> Path:
    from studio.events import InputEvent
    from studio.session import Session
    from studio.spec import CharacterSpec, PropSpec, WorldSpec

    path = folder / "bench.tidepool"
    spec = WorldSpec(
        seed=11,
        props=[PropSpec(kind="rock", density=1.5), PropSpec(kind="bush", density=1.0)],
        characters=[CharacterSpec(kind="sheep", count=2)],
    )
    with Session.create(path, spec) as s:
        s.record_start("bench")
        s.apply(InputEvent(tick=0, held=("w",), look=(3.0, 0.0)))
        for i in range(ticks):
            if i == ticks // 2:
                s.apply(InputEvent(tick=0, press=("e",)))
            s.advance(1)
        s.record_stop()
        s.world.close()
    return path


@benchmark("export")
def export_speed_and_sizes(quick: bool) -> list[Measurement]:
    from exporters import EXPORTERS, ExportRequest

    ticks = 150 if quick else 300  # DESIGN.md's case is a 10 s take
    out: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as d:
        folder = Path(d)
        project = _project(folder, ticks)
        t0 = time.perf_counter()
        mp4 = folder / "take.mp4"
        EXPORTERS["mp4"](ExportRequest(project, "bench", output=mp4))
        per_second = (time.perf_counter() - t0) / (ticks / 30)
        out.append(
            Measurement("export mp4 1280x720 s per take-second", per_second, "s", 2.0, "lower")
        )
        out.append(
            Measurement(
                "export size mp4 per take-second", mp4.stat().st_size / 1e6 / (ticks / 30), "MB"
            )
        )
        suffix = {"ply": "ply", "splat": "splat", "spz": "spz", "gltf-splat": "glb", "glb": "glb",
                  "usd": "usdc", "gltf-camera": "glb", "usd-camera": "usda", "chan": "chan",
                  "json": "json"}  # fmt: skip
        for fmt, ext in suffix.items():
            path = folder / f"out-{fmt}.{ext}"
            t0 = time.perf_counter()
            EXPORTERS[fmt](ExportRequest(project, "bench", output=path, radius=48.0))
            out.append(Measurement(f"export size {fmt} (48 m)", path.stat().st_size / 1e6, "MB"))
            out.append(Measurement(f"export time {fmt} (48 m)", time.perf_counter() - t0, "s",
                                   better="lower"))  # fmt: skip
    return out


def _capture_project(folder: Path, *, side: float, seed: int = 5) -> tuple[Path, int]:
    """A capture world of `side` x `side` m: a floor and 12 boxes of flat splats (4 cm apart),
    with a take that walks and looks around. Returns the project and its splat count."""
    from studio.backdrop import Backdrop, Heightfield, save_backdrop
    from studio.events import InputEvent
    from studio.gaussians import Gaussians
    from studio.session import Session
    from studio.spec import Terrain, WorldSpec
    from studio.storage import ProjectFile
    from studio.transforms import matrix_to_quat

    rng = np.random.default_rng(seed)
    step = 0.04
    g = np.arange(-side / 2, side / 2, step) + step / 2
    x, z = (a.ravel() for a in np.meshgrid(g, g))
    pts, nrm = [np.c_[x, np.zeros_like(x), z]], [np.tile([0.0, 1.0, 0.0], (len(x), 1))]
    cols = [np.c_[0.35 + 0.1 * np.sin(x), 0.5 + 0.1 * np.cos(z), np.full_like(x, 0.25)]]
    for _ in range(12):
        lo = np.r_[
            rng.uniform(-side / 2 + 2, side / 2 - 4), 0.0, rng.uniform(-side / 2 + 2, side / 2 - 4)
        ]
        size = rng.uniform(0.6, 2.5, 3)
        for axis in range(3):
            for face in (0.0, 1.0):
                if axis == 1 and face == 0.0:
                    continue  # the bottom stands on the floor
                a, b = [k for k in range(3) if k != axis]
                ua = np.arange(0, size[a], step) + step / 2
                ub = np.arange(0, size[b], step) + step / 2
                A, B = (m.ravel() for m in np.meshgrid(ua, ub))
                p = np.empty((len(A), 3))
                p[:, axis], p[:, a], p[:, b] = face * size[axis], A, B
                n = np.zeros((len(A), 3))
                n[:, axis] = 1.0 if face else -1.0
                pts.append(lo + p)
                nrm.append(n)
                cols.append(np.tile(rng.uniform(0.1, 0.9, 3), (len(A), 1)))
    means, normals, colors = np.concatenate(pts), np.concatenate(nrm), np.concatenate(cols)
    t1 = np.cross(normals, [0.31, 0.52, 0.8])
    t1 /= np.linalg.norm(t1, axis=1, keepdims=True)
    quats = matrix_to_quat(np.stack([t1, np.cross(normals, t1), normals], axis=2))
    scales = np.tile([0.6 * step, 0.6 * step, 0.03 * step], (len(means), 1))
    splats = Gaussians(means, quats, scales, np.full(len(means), 0.95), colors)
    n = int(side) + 1
    ground = Heightfield(-side / 2, -side / 2, side / (n - 1), np.zeros((n, n), np.float32), 0.0)
    backdrop = Backdrop("capture", splats, ground, np.array([0.0, 1.7, 0.0]),
                        np.array([0.0, 1.7, -5.0]), source="bench")  # fmt: skip
    spec = WorldSpec(seed=seed, terrain=Terrain(height_scale=0.0, water_level=-100.0))
    path = folder / "capture.tidepool"
    with ProjectFile.create(path, spec) as store:
        save_backdrop(store, backdrop)
    with Session.open(path) as s:
        s.record_start("bench")
        s.apply(InputEvent(tick=0, held=("w",), look=(4.0, -1.0)))
        s.advance(45)
        s.record_stop()
        s.world.close()
    return path, len(splats)


@benchmark("export")
def mesh_extraction_of_a_capture(quick: bool) -> list[Measurement]:
    """TSDF mesh extraction (exporters.mesh_extract) of a capture world around a 1.5 s take."""
    from exporters.mesh_extract import open3d_available, world_reconstruction
    from studio.backdrop import open_world
    from studio.storage import ProjectFile

    if not open3d_available():
        return []
    side = 12.0 if quick else 24.0
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as d:
        project, count = _capture_project(Path(d), side=side)
        with ProjectFile.open(project, readonly=True) as store:
            world = open_world(store, background=False)
            take = store.take("bench")
        try:
            t0 = time.perf_counter()
            mesh = world_reconstruction(world, take, radius=48.0)
            seconds = time.perf_counter() - t0
        finally:
            world.close()
    label = f"capture {side:.0f} m, {count / 1000:.0f}k splats"
    faces = 0 if mesh is None else len(mesh.faces)
    return [
        Measurement(f"mesh extraction s ({label})", seconds, "s", better="lower"),
        Measurement(f"mesh extraction triangles ({label})", faces, "triangles"),
    ]
