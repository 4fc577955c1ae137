"""Benchmarks of asset generation (registered with `studio.bench`): one variant per kind, uncached."""

from __future__ import annotations

import logging

import numpy as np

from studio.assets.catalog import _make_cached
from studio.assets.creatures import _make_creature, gait_angles, make_creature
from studio.bench import Measurement, benchmark, timed
from studio.spec import CREATURE_KINDS, PROP_KINDS

log = logging.getLogger(__name__)


@benchmark("assets")
def asset_build(quick: bool) -> list[Measurement]:
    """Milliseconds to build one fresh variant of each prop kind at detail 1 (no memo), and the worst kind."""
    build = _make_cached.__wrapped__
    per_kind = {}
    for kind in PROP_KINDS:
        per_kind[kind] = 1e3 * min(timed(lambda k=kind: build(k, 7, 1.0), repeat=1 if quick else 3))
    worst = max(per_kind, key=per_kind.get)
    log.info("slowest asset kind: %s (%.1f ms)", worst, per_kind[worst])
    return [
        Measurement(
            "assets.build_mean_ms", float(np.mean(list(per_kind.values()))), "ms", better="lower"
        ),
        Measurement("assets.build_worst_ms", per_kind[worst], "ms", better="lower"),
    ]


@benchmark("assets")
def creature_build_and_pose(quick: bool) -> list[Measurement]:
    """Milliseconds to build each creature kind fresh, and to pose a humanoid mid-stride."""
    build = _make_creature.__wrapped__
    times = [
        min(timed(lambda k=k: build(k, 3, None, None, 1.0), repeat=1 if quick else 3))
        for k in CREATURE_KINDS
    ]
    h = make_creature("humanoid", 3)
    angles = gait_angles("humanoid", 0.3, 1.4)
    pose = min(timed(lambda: h.pose(angles), repeat=5 if quick else 30))
    return [
        Measurement(
            "assets.creature_build_mean_ms", 1e3 * float(np.mean(times)), "ms", better="lower"
        ),
        Measurement("assets.humanoid_pose_ms", 1e3 * pose, "ms", better="lower"),
    ]
