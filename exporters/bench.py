"""`tidepool bench` export numbers: MP4 seconds per take-second at 1280x720 (DESIGN.md budget:
a 10 s take in <= 20 s on CPU, i.e. <= 2 s per take-second) and file size per format."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

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

    ticks = 30 if quick else 90
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
