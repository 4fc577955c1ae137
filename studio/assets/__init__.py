"""Procedural assets: each kind yields a coloured mesh, surface Gaussians and colliders.

`make_asset(kind, seed, detail=...)` builds any prop kind of `studio.spec.PROP_KINDS`;
`make_creature(kind, seed)` builds a posable creature of `studio.spec.CREATURE_KINDS`;
`sample_surfels` turns any coloured mesh into flat surface Gaussians; `ASSET_INFO` says which
biomes each prop kind suits and how densely it is scattered.
"""

from studio.assets.base import Asset, Collider, surfel_normals
from studio.assets.catalog import (
    ASSET_BIOMES,
    ASSET_INFO,
    FACTORIES,
    AssetError,
    AssetInfo,
    kinds_for_biome,
    make_asset,
)
from studio.assets.creatures import (
    Creature,
    CreatureError,
    CreaturePart,
    gait_angles,
    make_creature,
)
from studio.assets.surfels import sample_surfels

__all__ = [
    "ASSET_BIOMES",
    "ASSET_INFO",
    "FACTORIES",
    "Asset",
    "AssetError",
    "AssetInfo",
    "Collider",
    "Creature",
    "CreatureError",
    "CreaturePart",
    "gait_angles",
    "kinds_for_biome",
    "make_asset",
    "make_creature",
    "sample_surfels",
    "surfel_normals",
]
