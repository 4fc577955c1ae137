"""Benchmarks of the core types (registered with `studio.bench`)."""

from __future__ import annotations

import numpy as np

from studio.bench import Measurement, benchmark, timed
from studio.gaussians import Gaussians
from studio.transforms import rot_y


def random_gaussians(n: int, *, seed: int = 0, extent: float = 10.0) -> Gaussians:
    """N random Gaussians in a cube of side 2*extent (for benchmarks and tests)."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return Gaussians(
        means=rng.uniform(-extent, extent, (n, 3)),
        quats=q,
        scales=rng.uniform(0.01, 0.2, (n, 3)),
        opacities=rng.uniform(0.1, 1.0, n),
        colors=rng.uniform(0, 1, (n, 3)),
    )


@benchmark("core")
def gaussians_transform(quick: bool) -> list[Measurement]:
    """Throughput of Gaussians.transform (rotate + scale + translate) on 1M Gaussians."""
    n = 200_000 if quick else 1_000_000
    g = random_gaussians(n)
    T = np.eye(4)
    T[:3, :3] = 1.5 * rot_y(30.0)
    T[:3, 3] = (1.0, 2.0, 3.0)
    times = timed(lambda: g.transform(T), repeat=2 if quick else 5)
    return [
        Measurement("core.gaussians_transform", n / min(times) / 1e6, "M Gaussians/s"),
    ]
