"""`make_asset(kind, seed)`: the memoised entry point to every prop factory, and `ASSET_INFO`,
the table of which biomes each kind suits and how densely and large it is usually scattered.

The mesh is a function of (kind, seed) only; `detail` changes only the surfel density, so LOD
variants of one seed share their shape exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from studio.assets import nature, props, structures, vegetation
from studio.assets.base import Asset, Collider
from studio.assets.geometry import Builder
from studio.spec import BIOMES, PROP_KINDS

Factory = Callable[[Builder], tuple[list[Collider], int]]

FACTORIES: dict[str, Factory] = {
    "conifer": vegetation.conifer,
    "broadleaf_tree": vegetation.broadleaf_tree,
    "palm": vegetation.palm,
    "dead_tree": vegetation.dead_tree,
    "bush": vegetation.bush,
    "grass_tuft": vegetation.grass_tuft,
    "flowers": vegetation.flowers,
    "reeds": vegetation.reeds,
    "mushroom": vegetation.mushroom,
    "cactus": vegetation.cactus,
    "rock": nature.rock,
    "boulder": nature.boulder,
    "cliff": nature.cliff,
    "log": nature.log,
    "crystal": nature.crystal,
    "house": structures.house,
    "hut": structures.hut,
    "tower": structures.tower,
    "castle_wall": structures.castle_wall,
    "gate": structures.gate,
    "bridge": structures.bridge,
    "well": structures.well,
    "fence": structures.fence,
    "windmill": structures.windmill,
    "tent": structures.tent,
    "pillar": structures.pillar,
    "ruins": structures.ruins,
    "campfire": props.campfire,
    "lamp_post": props.lamp_post,
    "crate": props.crate,
    "barrel": props.barrel,
    "cart": props.cart,
    "shipwreck": props.shipwreck,
    "statue": props.statue,
    "generic": props.generic,
}

Role = Literal["tree", "ground_cover", "rock", "structure", "landmark", "prop"]


@dataclass(frozen=True)
class AssetInfo:
    """How the world scatters one prop kind.

    biomes: where it grows or stands by default; density: typical instances per 100 m² of
    suitable ground (the `PropSpec.density` unit); height: typical (min, max) height in metres
    at scale 1; role: what it is, for placement rules (trees avoid buildings, landmarks are
    placed by relation rather than scattered).
    """

    biomes: tuple[str, ...]
    density: float
    height: tuple[float, float]
    role: Role


_FOREST = ("conifer_forest", "broadleaf_forest")
_GREEN = ("conifer_forest", "broadleaf_forest", "meadow", "farmland", "village", "ruins", "alpine")
_SETTLED = ("village", "farmland")

ASSET_INFO: dict[str, AssetInfo] = {
    "conifer": AssetInfo(("conifer_forest", "alpine", "snow"), 1.2, (6.0, 14.0), "tree"),
    "broadleaf_tree": AssetInfo(("broadleaf_forest", "meadow", "farmland", "village", "swamp"), 0.9, (5.0, 10.0), "tree"),
    "palm": AssetInfo(("beach", "desert"), 0.4, (6.0, 10.0), "tree"),
    "dead_tree": AssetInfo(("swamp", "volcanic", "canyon", "desert", "ruins"), 0.15, (4.0, 8.0), "tree"),
    "bush": AssetInfo((*_GREEN, "swamp", "beach"), 1.5, (0.6, 1.4), "ground_cover"),
    "grass_tuft": AssetInfo((*_GREEN, "swamp", "beach"), 25.0, (0.25, 0.6), "ground_cover"),
    "flowers": AssetInfo(("meadow", "broadleaf_forest", "farmland", "village", "alpine"), 6.0, (0.2, 0.45), "ground_cover"),
    "reeds": AssetInfo(("swamp", "beach"), 4.0, (0.9, 1.8), "ground_cover"),
    "mushroom": AssetInfo((*_FOREST, "swamp"), 1.0, (0.1, 0.4), "ground_cover"),
    "cactus": AssetInfo(("desert", "canyon"), 0.3, (1.8, 4.5), "tree"),
    "rock": AssetInfo(BIOMES, 0.8, (0.2, 0.8), "rock"),
    "boulder": AssetInfo(("alpine", "snow", "canyon", "volcanic", "conifer_forest", "meadow", "desert"), 0.12, (1.0, 2.6), "rock"),
    "cliff": AssetInfo(("alpine", "canyon", "volcanic", "snow", "beach"), 0.02, (6.0, 12.0), "landmark"),
    "log": AssetInfo((*_FOREST, "swamp"), 0.2, (0.4, 0.7), "prop"),
    "crystal": AssetInfo(("volcanic", "canyon", "snow"), 0.1, (0.6, 2.4), "rock"),
    "house": AssetInfo(_SETTLED, 0.06, (5.5, 11.0), "structure"),
    "hut": AssetInfo(("village", "swamp", "beach", "farmland"), 0.05, (3.5, 6.0), "structure"),
    "tower": AssetInfo(("ruins", "village"), 0.0, (12.0, 24.0), "landmark"),
    "castle_wall": AssetInfo(("ruins",), 0.0, (6.0, 9.0), "landmark"),
    "gate": AssetInfo(("ruins", "village"), 0.0, (4.5, 6.5), "landmark"),
    "bridge": AssetInfo(("village", "farmland", "broadleaf_forest"), 0.0, (1.0, 2.8), "landmark"),
    "well": AssetInfo(_SETTLED, 0.02, (2.6, 2.9), "prop"),
    "fence": AssetInfo(("farmland",), 0.15, (1.1, 1.1), "prop"),
    "windmill": AssetInfo(("farmland",), 0.0, (10.0, 16.0), "landmark"),
    "tent": AssetInfo(("meadow", "desert", "beach", "conifer_forest"), 0.01, (1.3, 3.8), "structure"),
    "pillar": AssetInfo(("ruins", "desert"), 0.08, (2.0, 6.3), "prop"),
    "ruins": AssetInfo(("ruins", "desert", "swamp"), 0.03, (1.0, 3.5), "structure"),
    "campfire": AssetInfo(("conifer_forest", "meadow", "beach"), 0.0, (0.6, 0.9), "prop"),
    "lamp_post": AssetInfo(("village",), 0.05, (3.4, 4.6), "prop"),
    "crate": AssetInfo(("village", "beach"), 0.05, (0.7, 3.0), "prop"),
    "barrel": AssetInfo(("village", "beach"), 0.05, (0.9, 1.2), "prop"),
    "cart": AssetInfo(_SETTLED, 0.02, (1.2, 1.6), "prop"),
    "shipwreck": AssetInfo(("beach",), 0.0, (3.0, 6.0), "landmark"),
    "statue": AssetInfo(("ruins", "village"), 0.0, (2.8, 4.5), "landmark"),
    "generic": AssetInfo((), 0.0, (2.0, 2.6), "prop"),
}  # fmt: skip

ASSET_BIOMES: dict[str, tuple[str, ...]] = {k: v.biomes for k, v in ASSET_INFO.items()}
"""For each prop kind, the biomes it suits (a view of `ASSET_INFO`)."""


def kinds_for_biome(biome: str, *, role: Role | None = None) -> list[tuple[str, float]]:
    """(kind, density per 100 m²) of every scattered kind suiting `biome` (density > 0), by kind order."""
    if biome not in BIOMES:
        raise ValueError(f"unknown biome {biome!r}; use one of {', '.join(BIOMES)}")
    return [
        (k, info.density)
        for k, info in ASSET_INFO.items()
        if biome in info.biomes and info.density > 0 and (role is None or info.role == role)
    ]


class AssetError(ValueError):
    """An asset request names an unknown kind or an invalid option; the message says the fix."""


def _stream(kind: str, seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(kind.encode()), seed & 0xFFFFFFFFFFFFFFFF, purpose])


def make_asset(kind: str, seed: int, *, detail: float = 1.0) -> Asset:
    """A seeded variant of `kind`: coloured mesh, surface Gaussians and colliders in its local frame.

    Deterministic (same arguments, byte-identical arrays) and memoised: the returned Asset is
    shared between callers, so treat it as read-only (transform copies, e.g. with
    `Gaussians.transform`). `detail` scales the surfel density (1.0 = near-view quality,
    0.25 = a quarter of the surfels, each twice as wide).
    """
    if kind not in FACTORIES:
        raise AssetError(f"unknown asset kind {kind!r}; use one of {', '.join(PROP_KINDS)}")
    if not (isinstance(detail, int | float) and np.isfinite(detail) and 0.01 <= detail <= 16.0):
        raise AssetError(
            f"detail {detail!r} must be a number in [0.01, 16]; 1.0 is near-view quality"
        )
    return _make_cached(kind, int(seed), float(detail))


@lru_cache(maxsize=1024)
def _make_cached(kind: str, seed: int, detail: float) -> Asset:
    builder = Builder(_stream(kind, seed, 0))
    colliders, budget = FACTORIES[kind](builder)
    sample_seed = int(_stream(kind, seed, 1).integers(1 << 62))
    return builder.finish(kind, budget=budget, detail=detail, seed=sample_seed, colliders=colliders)
