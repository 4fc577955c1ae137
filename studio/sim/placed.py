"""Props the directed world edits place, hide and move, and the colliders they bring.

A prop edit is recorded as an `Edit` ("prop:<kind>", the player's feet, a count, the place);
`directed_props` resolves the state's edits against the world, deterministically: spawns stand
on a ring around their place with variants drawn from the edit's tick; remove and move take
the prop of that kind nearest the named place (remove) or the player (move). The renderer
(`studio.view`) draws the result and the simulation collides with it (`directed_colliders`):
the player, creatures and pathfinding see a directed campfire or a moved cart like any other
prop, and a removed tower no longer blocks. Results are cached per world and edit list.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.scatter import PropInstance, variant_seed
from studio.sim.state import Edit, SimState
from studio.sim.world_view import ColliderArrays, collider_arrays
from studio.terrain import hash_uniform

EDIT_SEARCH = 60.0
"""Metres around the player (or the named place) searched for the prop a remove or move names."""
SPAWN_RING = (2.5, 1.5)
"""Directed prop spawns stand this far (metres) from their place, plus this much per extra one."""


@dataclass(frozen=True)
class DirectedProps:
    """World prop ids the edits hide, the props they add, and the added props' colliders."""

    hidden: frozenset[str]
    added: tuple[PropInstance, ...]
    colliders: ColliderArrays


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _inner(world: Any) -> Any:
    return getattr(world, "world", world)  # a WorldView wraps the World


def prop_edits(state: SimState) -> tuple[Edit, ...]:
    return tuple(e for e in state.edits if e.target.startswith("prop:") and len(e.data) >= 4)


def directed_props(world: Any, state: SimState) -> DirectedProps:
    """Resolve the state's prop edits against `world` (see the module docstring)."""
    w = _inner(world)
    edits = prop_edits(state)
    gone = frozenset(c.prop for c in state.props)
    key = (edits, gone if edits else frozenset(), state.seed)
    try:
        per_world = _CACHE.setdefault(w, {})
    except TypeError:  # a world that cannot be weakly referenced: no cache
        per_world = {}
    hit = per_world.get(key)
    if hit is None:
        hit = _resolve(w, edits, gone, state.seed)
        if len(per_world) > 64:
            per_world.clear()
        per_world[key] = hit
    return hit


def _resolve(w: Any, edits: tuple[Edit, ...], gone: frozenset[str], seed: int) -> DirectedProps:
    hidden: set[str] = set(gone)
    added: list[PropInstance] = []
    spec_seed = int(getattr(getattr(w, "spec", None), "seed", 0))
    for e in edits:
        kind = e.target[5:]
        player = np.array(e.data[:3])
        count = int(e.data[3])
        place = np.array(e.data[4:7]) if len(e.data) >= 7 else None
        if e.kind == "spawn":
            centre = player if place is None else place
            for k in range(count):
                u = [float(hash_uniform(seed, e.tick, k, 51 + j)) for j in range(3)]
                ang = 2 * math.pi * (u[0] + k / max(count, 1))
                r = SPAWN_RING[0] + SPAWN_RING[1] * k
                x = float(centre[0] + r * math.cos(ang))
                z = float(centre[2] + r * math.sin(ang))
                y = float(w.height_at(x, z))
                vseed = variant_seed(spec_seed, kind, int(u[1] * 4))
                added.append(PropInstance(kind, vseed, (x, y, z), u[2] * 360.0, 1.0))
            continue
        ref = player if e.kind == "move" or place is None else place
        found = _nearest(w, kind, ref, hidden, added)
        if found is None:
            continue
        if found in added:
            added.remove(found)
        else:
            hidden.add(found.id)
        if e.kind == "move" and place is not None:
            away = np.array(found.position) - place
            away[1] = 0.0
            n = float(np.hypot(away[0], away[2]))
            step = away / n if n > 1e-6 else np.array([1.0, 0.0, 0.0])
            x, z = place[0] + SPAWN_RING[0] * step[0], place[2] + SPAWN_RING[0] * step[2]
            pos = (float(x), float(w.height_at(x, z)), float(z))
            added.append(dataclasses.replace(found, position=pos, landmark=False))
    posed = getattr(w, "instance_colliders", None)
    cols = [c for p in added for c in posed(p)] if posed is not None else []
    return DirectedProps(frozenset(hidden - gone), tuple(added), collider_arrays(cols))


def _nearest(
    w: Any, kind: str, ref: np.ndarray, hidden: set[str], added: list[PropInstance]
) -> PropInstance | None:
    """The prop of `kind` nearest `ref` (world props not hidden, and those added by edits)."""
    best, best_d = None, EDIT_SEARCH
    near = getattr(w, "props_near", None)
    for p in near(float(ref[0]), float(ref[2]), EDIT_SEARCH, kind=kind) if near else ():
        if p.id not in hidden:
            best, best_d = p, float(np.hypot(p.position[0] - ref[0], p.position[2] - ref[2]))
            break
    for p in added:
        d = float(np.hypot(p.position[0] - ref[0], p.position[2] - ref[2]))
        if p.kind == kind and d < best_d:
            best, best_d = p, d
    return best


BODY_RADIUS = 0.4
"""Metres a walking creature (at scale 1) keeps from a directed prop's solids."""


def push_out_many(
    cols: ColliderArrays, xz: np.ndarray, radius: np.ndarray, feet: np.ndarray
) -> np.ndarray:
    """(N, 2) positions moved out of every solid (a cylinder, sphere or turned box) that stands
    between the feet and 1.8 m above them; `xz` (N, 2), `radius` (N,), `feet` (N,)."""
    out = xz.copy()
    if not len(cols) or not len(xz):
        return out
    for k in range(len(cols)):
        lo, hi = cols.bottom[k], cols.top[k]
        hits = (hi > feet + 0.05) & (lo < feet + 1.8)
        if not hits.any():
            continue
        d = out - cols.center[k, [0, 2]]  # (N, 2)
        a = math.radians(float(cols.yaw[k]))
        c, s = math.cos(a), math.sin(a)
        lx, lz = c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]
        if cols.shape[k] == 1:
            ox = cols.size[k, 0] + radius - np.abs(lx)
            oz = cols.size[k, 2] + radius - np.abs(lz)
            inside = hits & (ox > 0) & (oz > 0)
            px = np.where(ox < oz, np.copysign(ox, lx), 0.0)
            pz = np.where(ox < oz, 0.0, np.copysign(oz, lz))
        else:
            r = np.hypot(lx, lz)
            need = cols.size[k, 0] + radius
            inside = hits & (r < need)
            safe = np.maximum(r, 1e-9)
            px = np.where(r > 1e-9, lx / safe, 1.0) * (need - r)
            pz = np.where(r > 1e-9, lz / safe, 0.0) * (need - r)
        out[inside, 0] += (c * px + s * pz)[inside]
        out[inside, 1] += (-s * px + c * pz)[inside]
    return out
