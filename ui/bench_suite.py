"""The modules whose `@benchmark`s `tidepool bench` runs. Add a module here to register it."""

from __future__ import annotations

import importlib

BENCH_MODULES = [
    "studio.bench_core",
    "studio.world_bench",
    "studio.render.bench",
    "studio.assets.bench",
    "ui.studio_bench",
    "studio.sim_bench",
    "pipelines.bench",
    "pipelines.directing_bench",
    "pipelines.inputs_bench",
    "exporters.bench",
]


def load_all() -> None:
    """Import every benchmark module so its benchmarks register."""
    for name in BENCH_MODULES:
        importlib.import_module(name)
