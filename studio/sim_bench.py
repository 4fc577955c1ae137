"""Benchmarks of the simulation and timeline (registered with `studio.bench`).

- ``sim.step_{10,100,1000}``: ms per 30 Hz step with that many active creatures (budget: 2 ms
  at 100) while the player walks through a world with props.
- ``timeline.seek_30min``: worst ms of seeks to random ticks (each just before a snapshot, the
  longest replay) after a simulated 30-minute session (5 minutes with --quick); budget 100 ms.
- ``timeline.rss_30min``: resident memory (MB) after that session; budget 2 GB.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from studio.bench import Measurement, benchmark
from studio.conventions import TICK_HZ
from studio.events import KEYS, InputEvent, Spawn
from studio.sim import initial_state, step
from studio.spec import CharacterSpec, PropSpec, WorldSpec

_KINDS = ("deer", "wolf", "sheep", "bird", "humanoid", "dog", "horse")
_BEHAVIOURS = ("wander", "flee", "follow", "patrol", "circle", "idle")


def _world(seed: int = 1):
    from studio.world import World

    spec = WorldSpec(
        seed=seed,
        props=[PropSpec(kind="conifer", density=2), PropSpec(kind="crate", density=1)],
        characters=[CharacterSpec(kind="deer", count=10, behaviour="wander")],
    )
    return World(spec, background=False)


def _populated(world, n: int):
    """A state with exactly `n` creatures of mixed kinds and behaviours."""
    s = initial_state(world)
    s.entities = s.entities.take(np.zeros(len(s.entities), dtype=bool))
    events, left, i = [], n, 0
    while left > 0:
        c = min(left, 100)
        events.append(Spawn(tick=0, creature=_KINDS[i % len(_KINDS)], count=c,
                            behaviour=_BEHAVIOURS[i % len(_BEHAVIOURS)]))  # fmt: skip
        left -= c
        i += 1
    s = step(world, s, events)
    return step(world, s, [InputEvent(tick=s.tick, held=("w",))])


@benchmark("sim")
def sim_step(quick: bool) -> list[Measurement]:
    """Mean ms per step with 10, 100 and 1000 creatures."""
    world = _world()
    out = []
    for n in (10, 100, 1000):
        s = _populated(world, n)
        for _ in range(10):  # warm caches (colliders, numpy)
            s = step(world, s)
        reps = 60 if quick else 300
        t0 = time.perf_counter()
        for _ in range(reps):
            s = step(world, s)
        ms = (time.perf_counter() - t0) / reps * 1e3
        out.append(Measurement(f"sim.step_{n}", ms, "ms", 2.0 if n == 100 else None, "lower"))
    return out


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@benchmark("timeline", fresh_process=True)
def seek_long_session(quick: bool) -> list[Measurement]:
    """Drive a session for 30 simulated minutes with random input, then seek around it."""
    from studio.session import Session

    minutes = 5 if quick else 30
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        spec = WorldSpec(
            seed=2,
            props=[PropSpec(kind="broadleaf_tree", density=1), PropSpec(kind="barrel", density=1)],
            characters=[CharacterSpec(kind=k, count=4, behaviour=b)
                        for k, b in zip(_KINDS, _BEHAVIOURS, strict=False)],
        )  # fmt: skip
        s = Session.create(Path(d) / "long.tidepool", spec)
        ticks = minutes * 60 * TICK_HZ
        t0 = time.perf_counter()
        while s.tick < ticks:
            if rng.random() < 0.05:
                held = tuple(k for k in KEYS[:5] if rng.random() < 0.3)
                s.apply(InputEvent(tick=0, held=held, look=tuple(rng.uniform(-30, 30, 2))))
            s.advance(1)
        live_ms = (time.perf_counter() - t0) / ticks * 1e3
        every = s.timeline.snapshot_every
        targets = [int(k) * every + every - 1 for k in rng.integers(0, ticks // every - 1, 20)]
        targets.append(ticks - 1)
        times = []
        for t in targets:
            t1 = time.perf_counter()
            s.timeline.seek(s.branch, t)
            times.append((time.perf_counter() - t1) * 1e3)
        rss = _rss_mb()
        s.close()
    label = f"{minutes}min"
    return [
        Measurement(f"timeline.seek_{label}_max", max(times), "ms", 100.0, "lower"),
        Measurement(f"timeline.seek_{label}_median", float(np.median(times)), "ms", None, "lower"),
        Measurement(f"timeline.live_tick_{label}", live_ms, "ms", None, "lower"),
        Measurement(f"timeline.rss_{label}", rss, "MB", 2048.0, "lower"),
    ]
