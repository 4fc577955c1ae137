"""What the simulation reads from a `World`, and a cached view of its colliders as arrays.

The simulation needs only heights, water and colliders; `SimWorld` is that contract (a
`typing.Protocol`, so tests and tools can pass any object that has them). `WorldView` wraps one
world and caches `colliders_near` per 8 m cell as numpy arrays (a pure function of the world,
so caching never changes results).
"""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from studio.scatter import prop_id

CELL = 8.0
"""Side (metres) of the cells colliders are cached by."""
_SHAPES = {"cylinder": 0, "box": 1, "sphere": 2}


class SimWorld(Protocol):
    """The world queries the simulation uses (studio.world.World provides them)."""

    @property
    def water_level(self) -> float: ...

    def height_at(self, x: Any, z: Any) -> Any: ...

    def normal_at(self, x: Any, z: Any) -> np.ndarray: ...

    def colliders_near(self, x: float, z: float, radius: float) -> Sequence[Any]: ...


@dataclass(frozen=True)
class ColliderArrays:
    """K world-frame colliders: shape code (0 cylinder, 1 box, 2 sphere), centre, size, yaw."""

    shape: np.ndarray  # (K,) int8
    center: np.ndarray  # (K, 3) float64
    size: np.ndarray  # (K, 3) float64: cylinder (r, half height, r), box half extents, sphere r
    yaw: np.ndarray  # (K,) float64 degrees (boxes)
    owner: tuple[str, ...]  # (K,) prop kind
    prop: tuple[str, ...]  # (K,) stable prop id, see `prop_id`

    def __len__(self) -> int:
        return len(self.shape)

    @property
    def top(self) -> np.ndarray:
        """(K,) top height of each solid."""
        return self.center[:, 1] + self.size[:, 1]

    @property
    def bottom(self) -> np.ndarray:
        return self.center[:, 1] - self.size[:, 1]


def collider_arrays(colliders: Sequence[Any]) -> ColliderArrays:
    """`ColliderArrays` of world colliders (anything with shape, center, size, yaw, owner)."""
    cols = list(colliders)
    return ColliderArrays(
        shape=np.array([_SHAPES.get(c.shape, 0) for c in cols], dtype=np.int8),
        center=np.array([c.center for c in cols], dtype=np.float64).reshape(-1, 3),
        size=np.array([c.size for c in cols], dtype=np.float64).reshape(-1, 3),
        yaw=np.array([float(getattr(c, "yaw", 0.0)) for c in cols]),
        owner=tuple(str(getattr(c, "owner", "prop")) for c in cols),
        prop=tuple(
            getattr(c, "prop", "")
            or prop_id(str(getattr(c, "owner", "prop")), c.center[0], c.center[2])
            for c in cols
        ),
    )


def concat_colliders(a: ColliderArrays, b: ColliderArrays) -> ColliderArrays:
    return ColliderArrays(
        np.concatenate([a.shape, b.shape]), np.concatenate([a.center, b.center]),
        np.concatenate([a.size, b.size]), np.concatenate([a.yaw, b.yaw]),
        a.owner + b.owner, a.prop + b.prop,
    )  # fmt: skip


class WorldView:
    """A world plus caches the simulation needs; `view(world)` returns one per world."""

    def __init__(self, world: SimWorld, *, cache_cells: int = 256) -> None:
        self.world = world
        self.water_level = float(world.water_level)
        self._cells: OrderedDict[tuple[int, int], ColliderArrays] = OrderedDict()
        self._cache_cells = cache_cells
        self._heights: OrderedDict[tuple[float, float], float] = OrderedDict()

    def height_at(self, x: Any, z: Any) -> Any:
        return self.world.height_at(x, z)

    def height1(self, x: float, z: float) -> float:
        """Terrain height at one point, memoised for the last few points (the player asks for
        the same spot on consecutive ticks)."""
        key = (x, z)
        h = self._heights.get(key)
        if h is None:
            h = float(self.world.height_at(x, z))
            self._heights[key] = h
            if len(self._heights) > 8:
                self._heights.popitem(last=False)
        return h

    def colliders(self, x: float, z: float) -> ColliderArrays:
        """Colliders of props whose solids may reach within 4 m of (x, z)."""
        key = (math.floor(x / CELL), math.floor(z / CELL))
        hit = self._cells.get(key)
        if hit is not None:
            self._cells.move_to_end(key)
            return hit
        cx, cz = (key[0] + 0.5) * CELL, (key[1] + 0.5) * CELL
        arr = collider_arrays(self.world.colliders_near(cx, cz, CELL * 0.75 + 4.0))
        self._cells[key] = arr
        if len(self._cells) > self._cache_cells:
            self._cells.popitem(last=False)
        return arr

    def landmarks(self) -> list[Any]:
        return list(getattr(self.world, "landmarks", []))


_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def view(world: SimWorld | WorldView) -> WorldView:
    """The cached `WorldView` of a world (memoised per world object)."""
    if isinstance(world, WorldView):
        return world
    v = _VIEWS.get(world)
    if v is None:
        v = WorldView(world)
        _VIEWS[world] = v
    return v
