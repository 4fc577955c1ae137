"""Render benchmarks for `tidepool bench`: fps by size and scene size, ms per stage, first-call time.

The scene is `studio.render.scenes.ground_and_objects` (surfel ground plus trees, rocks and
crates) seen from `bench_camera`. Targets are DESIGN.md's: ≥ 30 fps at 640x360 and ≥ 15 fps
at 1280x720 for a typical view (250k Gaussians) on a 2-core CPU, ≥ 120 fps at 1280x720 on CUDA.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from studio.bench import Measurement, benchmark, timed
from studio.render.api import render_view
from studio.render.common import prepare_inputs
from studio.render.cpu import StageTimes, render_cpu
from studio.render.cuda import cuda_available
from studio.render.scenes import bench_camera, ground_and_objects

SIZES = [(640, 360), (854, 480), (1280, 720)]
COUNTS = [50_000, 250_000, 1_000_000]
TYPICAL = 250_000
CPU_TARGETS = {(640, 360): 30.0, (1280, 720): 15.0}
CUDA_TARGET_1280 = 120.0
BACKGROUND = (0.6, 0.75, 0.95)

_FIRST_CALL = """
import json, time
t0 = time.perf_counter()
from studio.render import render
from studio.render.scenes import bench_camera, ground_and_objects
g = ground_and_objects(5000)
t1 = time.perf_counter()
render(g, bench_camera(), backend="cpu")
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_render_s": t2 - t1}))
"""


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def _fps(backend: str, n_list: list[int], repeat: int) -> list[Measurement]:
    out = []
    for n in n_list:
        g = ground_and_objects(n)
        for w, h in SIZES:
            cam = bench_camera(w, h)
            args = (g, cam.viewmat(), cam.K(), w, h)
            kw = {"near": cam.near, "far": cam.far, "background": BACKGROUND, "backend": backend}
            best = min(timed(lambda a=args, k=kw: render_view(*a, **k), repeat=repeat))
            target = None
            if n == TYPICAL:
                target = CPU_TARGETS.get((w, h)) if backend == "cpu" else None
                if backend == "cuda" and (w, h) == (1280, 720):
                    target = CUDA_TARGET_1280
            out.append(
                Measurement(f"render.{backend}.fps.{w}x{h}.{_label(n)}", 1 / best, "fps", target)
            )
    return out


@benchmark("render")
def cpu_fps(quick: bool) -> list[Measurement]:
    """Frames per second of the numba renderer (best of several frames; warm kernels)."""
    return _fps("cpu", [TYPICAL] if quick else COUNTS, repeat=3 if quick else 7)


@benchmark("render")
def cpu_stages(quick: bool) -> list[Measurement]:
    """Milliseconds per stage of the numba renderer on the typical view (best frame), and the
    process CPU time per frame."""
    g = ground_and_objects(TYPICAL)
    out = []
    for w, h in [(640, 360), (1280, 720)]:
        cam = bench_camera(w, h)
        inp = prepare_inputs(g, cam.viewmat(), cam.K(), w, h, near=cam.near, far=cam.far,
                             background=BACKGROUND)  # fmt: skip
        best: StageTimes | None = None
        cpu_s = []
        for _ in range(3 if quick else 8):
            st = StageTimes()
            c0 = time.process_time()
            render_cpu(inp, times=st)
            cpu_s.append(time.process_time() - c0)
            total = st.project_ms + st.sort_bin_ms + st.blend_ms
            if best is None or total < best.project_ms + best.sort_bin_ms + best.blend_ms:
                best = st
        assert best is not None
        key = f"render.cpu.ms.{w}x{h}.{_label(TYPICAL)}"
        out += [
            # CPU time of the whole process per frame (all threads): steadier than wall-clock
            # on a shared machine, and the work a frame costs whatever the thread count.
            Measurement(f"{key}.cpu_time", 1e3 * min(cpu_s), "ms", better="lower"),
            Measurement(f"{key}.project", best.project_ms, "ms", better="lower"),
            Measurement(f"{key}.bin_sort", best.sort_bin_ms, "ms", better="lower"),
            Measurement(f"{key}.blend", best.blend_ms, "ms", better="lower"),
            Measurement(f"{key}.visible", best.visible, "Gaussians", better="lower"),
            Measurement(f"{key}.tile_entries", best.tile_entries, "entries", better="lower"),
        ]
    return out


def first_call_seconds(cache_dir: str) -> dict[str, float]:
    """Import + first render of a small scene in a fresh Python process using this numba cache."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, cwd=root,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@benchmark("render", fresh_process=True)
def cpu_first_call(quick: bool) -> list[Measurement]:
    """First-call time in a fresh process: cold numba cache (compiles) and warm (loads)."""
    with tempfile.TemporaryDirectory(prefix="tidepool-numba-") as cache:
        cold = first_call_seconds(cache)
        warm = first_call_seconds(cache)
    return [
        Measurement(
            "render.cpu.first_call_s.cold_cache", cold["first_render_s"], "s", better="lower"
        ),
        Measurement(
            "render.cpu.first_call_s.warm_cache", warm["first_render_s"], "s", better="lower"
        ),
        Measurement("render.cpu.import_s", warm["import_s"], "s", better="lower"),
    ]


@benchmark("render")
def cuda_fps(quick: bool) -> list[Measurement]:
    """Frames per second of gsplat (only where torch sees a GPU and gsplat imports)."""
    if not cuda_available():
        return []
    return _fps("cuda", [TYPICAL] if quick else COUNTS, repeat=10 if quick else 30)
