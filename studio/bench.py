"""Benchmark registry behind `tidepool bench`.

Each package registers its measurements with `@benchmark`; `ui/bench_suite.py` lists the
modules to import. Performance is measured here and reported (README, notes), never asserted
by timed unit tests. A benchmark function takes `quick: bool` (fewer repetitions, smaller
inputs where the result stays meaningful) and returns a list of `Measurement`s.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measurement:
    """One measured number. `target` is the budget from DESIGN.md (None: reported only)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    better: Literal["higher", "lower"] = "higher"

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target

    def to_json(self) -> dict:
        return {"value": self.value, "unit": self.unit, "target": self.target, "ok": self.ok}


BenchFn = Callable[[bool], list[Measurement]]


@dataclass(frozen=True)
class Benchmark:
    group: str
    fn: BenchFn
    fresh_process: bool = False
    """Run in a new process (`run_all`): cold starts, memory of its own."""


_REGISTRY: dict[str, Benchmark] = {}


def benchmark(group: str, *, fresh_process: bool = False) -> Callable[[BenchFn], BenchFn]:
    """Register `fn(quick) -> list[Measurement]` under a group name (e.g. "render")."""

    def register(fn: BenchFn) -> BenchFn:
        key = f"{group}:{fn.__name__}"
        _REGISTRY[key] = Benchmark(group, fn, fresh_process)
        return fn

    return register


def registered() -> dict[str, Benchmark]:
    """The benchmarks registered so far, by "group:function" key."""
    return dict(_REGISTRY)


def run_all(*, quick: bool = False, only: str | None = None) -> dict[str, Measurement]:
    """Run every registered benchmark (or those whose key contains `only`)."""
    results: dict[str, Measurement] = {}
    for key, bench in _REGISTRY.items():
        if only and only not in key:
            continue
        log.info("bench %s", key)
        for m in _in_fresh_process(key, bench, quick) if bench.fresh_process else bench.fn(quick):
            results[m.name] = m
    return results


def _in_fresh_process(key: str, bench: Benchmark, quick: bool) -> list[Measurement]:
    """Run a benchmark in a new Python process, for cold starts and for memory that is its own
    (not the heap the benchmarks before it left behind). The child imports the benchmark's
    module from its file and prints the measurements as JSON on its last line of stdout."""
    import inspect
    import json
    import subprocess
    import sys

    child = (
        "import importlib.util, json, sys\n"
        "from dataclasses import asdict\n"
        "from studio import bench\n"
        "name, path, key, quick = sys.argv[1:5]\n"
        "spec = importlib.util.spec_from_file_location(name, path)\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules[name] = module\n"
        "spec.loader.exec_module(module)\n"
        "out = bench.registered()[key].fn(quick == '1')\n"
        "print(json.dumps([asdict(m) for m in out]))\n"
    )
    args = [bench.fn.__module__, inspect.getfile(bench.fn), key, "1" if quick else "0"]
    # The child's stderr is the user's: its warnings (a benchmark skipped, and why) and, if it
    # fails, its traceback show where the parent's would.
    done = subprocess.run(
        [sys.executable, "-c", child, *args], stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"benchmark {key} failed in its own process (exit {done.returncode}); "
            "its error is printed above"
        )
    return [Measurement(**m) for m in json.loads(done.stdout.strip().splitlines()[-1])]


def machine_info() -> dict:
    """CPU count, platform and library versions, and the CUDA device if any."""
    import numba
    import numpy
    import torch

    info: dict = {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "torch": torch.__version__,
        "numba_threads": numba.get_num_threads(),
    }
    try:
        import gsplat

        info["gsplat"] = gsplat.__version__
    except ImportError:
        info["gsplat"] = None
    info["cuda_device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def timed(fn: Callable[[], object], *, repeat: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of `repeat` calls of fn after `warmup` calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def as_json(results: dict[str, Measurement], machine: dict) -> dict:
    return {"machine": machine, "results": {k: v.to_json() for k, v in results.items()}}
