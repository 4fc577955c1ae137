"""Pathfinding for directed characters: "the knight walks to the tower" goes around what is in the way.

A walker's route is a *distance field*: Dijkstra (scipy.sparse.csgraph) from the goal over an
8-connected grid (`CELL` metres) centred on the goal, where a cell is blocked when it is under
deep water, too steep (a rise over `MAX_STEP` metres to a neighbour), or inside a prop's
collider (directed world edits applied: props they add block, props they remove do not).
Any position's next waypoint is a few steps down the field, so the field is a pure
function of (world, goal) and is cached per goal: replays in any process take the same steps.
Walkers arrive within `ARRIVE` metres of the goal's footprint (its colliders' edge), flyers fly
straight and land on the landmark's top. A goal that no free cell can reach is refused with a
reason ("no path to the tower") that the simulation shows and writes to the edit log.

Why by hand: the grid and cost model are the world's own (heights, water, colliders); scipy
does the shortest-path search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

CELL = 1.0
"""Grid spacing in metres."""
HALF = 48.0
"""The grid covers the goal +- HALF metres; farther away a walker heads straight for it."""
MAX_STEP = 0.75
"""A rise larger than this between neighbouring cells (metres per CELL) blocks (about 37 deg)."""
ARRIVE = 1.0
"""Walkers stop within this many metres of the goal's footprint."""
CLEARANCE = 0.35
"""Half width of a walker: cells closer than this to a collider are blocked."""
LOOKAHEAD = 3
"""Waypoints are this many cells down the field."""


@dataclass(frozen=True)
class Footprint:
    """What a goal point stands for: its ground point, radius of its solids, and its top."""

    x: float
    z: float
    radius: float  # 0 for a bare point
    top: float  # height of its highest solid (the ground for a bare point)


@dataclass(frozen=True)
class Field:
    """Distances to the goal over the grid (inf where unreachable or blocked)."""

    x0: float
    z0: float
    n: int
    dist: np.ndarray  # (n, n) float64, [iz, ix]
    blocked: np.ndarray  # (n, n) bool
    goal: Footprint

    def cell(self, x: float, z: float) -> tuple[int, int] | None:
        ix = math.floor((x - self.x0) / CELL + 0.5)
        iz = math.floor((z - self.z0) / CELL + 0.5)
        if 0 <= ix < self.n and 0 <= iz < self.n:
            return iz, ix
        return None

    def centre(self, iz: int, ix: int) -> tuple[float, float]:
        return self.x0 + ix * CELL, self.z0 + iz * CELL


def _colliders(world: Any, x: float, z: float, radius: float) -> list[Any]:
    inner = getattr(world, "world", world)  # a WorldView wraps the World
    fn = getattr(inner, "colliders_near", None)
    return list(fn(x, z, radius)) if fn is not None else []


def footprint(world: Any, point: tuple[float, float, float]) -> Footprint:
    """The solids standing at `point` (a landmark's base): their radius and top."""
    x, _y, z = (float(v) for v in point)
    radius, top = 0.0, float(world.height_at(x, z))
    for c in _colliders(world, x, z, 4.0):
        cx, cy, cz = (float(v) for v in c.center)
        sx, sy, sz = (float(v) for v in c.size)
        reach = math.hypot(sx, sz) if c.shape == "box" else sx
        d = math.hypot(cx - x, cz - z)
        if d <= max(1.5, 0.5 * reach):
            radius = max(radius, d + reach)
            top = max(top, cy + sy)
    return Footprint(x, z, radius, top)


def footprint_distance(fp: Footprint, x: float, z: float) -> float:
    """Horizontal distance from (x, z) to the footprint's edge (0 inside)."""
    return max(0.0, math.hypot(x - fp.x, z - fp.z) - fp.radius)


@dataclass(frozen=True)
class _Solid:
    """A collider as plain values (hashable, so a field can be cached per set of them)."""

    shape: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float = 0.0


Edits = tuple[frozenset[str], tuple[_Solid, ...]]
"""What directed edits change for pathfinding: world prop ids removed, solids added."""
NO_EDITS: Edits = (frozenset(), ())


def edits_of(world: Any, state: Any) -> Edits:
    """The state's directed prop edits as pathfinding sees them (`studio.sim.placed`)."""
    from studio.sim.placed import directed_props

    dp = directed_props(world, state)
    if not dp.hidden and not len(dp.colliders):
        return NO_EDITS
    c = dp.colliders
    names = {0: "cylinder", 1: "box", 2: "sphere"}
    solids = tuple(
        _Solid(names[int(c.shape[k])], tuple(map(float, c.center[k])),
               tuple(map(float, c.size[k])), float(c.yaw[k]))
        for k in range(len(c))
    )  # fmt: skip
    return dp.hidden, solids


def _blocked(
    world: Any, xs: np.ndarray, zs: np.ndarray, fp: Footprint, edits: Edits = NO_EDITS
) -> np.ndarray:
    """(n, n) bool: deep water, steep steps and colliders (directed edits applied)."""
    h = np.asarray(world.height_at(xs, zs), dtype=np.float64)
    water = float(getattr(world, "water_level", -1e9))
    bad = h < water - 0.3
    step = np.zeros_like(bad)
    step[:, 1:] |= np.abs(np.diff(h, axis=1)) > MAX_STEP
    step[:, :-1] |= np.abs(np.diff(h, axis=1)) > MAX_STEP
    step[1:, :] |= np.abs(np.diff(h, axis=0)) > MAX_STEP
    step[:-1, :] |= np.abs(np.diff(h, axis=0)) > MAX_STEP
    bad |= step
    hidden, added = edits
    solids = [c for c in _colliders(world, fp.x, fp.z, HALF * 1.42)
              if getattr(c, "prop", "") not in hidden]  # fmt: skip
    for c in [*solids, *added]:
        cx, cy, cz = (float(v) for v in c.center)
        sx, sy, sz = (float(v) for v in c.size)
        if cy - sy > float(world.height_at(cx, cz)) + 1.8:
            continue  # overhead (a branch, a bridge deck high up): walk under it
        dx, dz = xs - cx, zs - cz
        if c.shape == "box":
            a = math.radians(float(getattr(c, "yaw", 0.0)))
            u = np.cos(a) * dx - np.sin(a) * dz
            v = np.sin(a) * dx + np.cos(a) * dz
            inside = (np.abs(u) <= sx + CLEARANCE) & (np.abs(v) <= sz + CLEARANCE)
        else:
            inside = np.hypot(dx, dz) <= sx + CLEARANCE
        bad |= inside
    return bad


@lru_cache(maxsize=64)
def _field_cached(
    world_key: int, gx: float, gz: float, world_ref: Any, fp: Footprint, edits: Edits
) -> Field:
    del world_key
    world = world_ref()
    n = int(2 * HALF / CELL) + 1
    x0, z0 = gx - HALF, gz - HALF
    xs, zs = np.meshgrid(x0 + np.arange(n) * CELL, z0 + np.arange(n) * CELL)  # (n, n)
    blocked = _blocked(world, xs, zs, fp, edits)
    near_goal = np.hypot(xs - fp.x, zs - fp.z) - fp.radius <= ARRIVE - 0.3 * CELL
    sources = np.flatnonzero((near_goal & ~blocked).ravel())
    free = ~blocked.ravel()
    idx = np.arange(n * n).reshape(n, n)
    rows, cols, w = [], [], []
    for diz, dix in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = idx[max(0, -diz) : n - max(0, diz), max(0, -dix) : n - max(0, dix)].ravel()
        b = idx[
            max(0, diz) : n + min(0, diz) or None, max(0, dix) : n + min(0, dix) or None
        ].ravel()
        ok = free[a] & free[b]
        if diz and dix:  # no corner cutting past a blocked cell
            ok &= free[a + dix] & free[a + diz * n]
        rows.append(a[ok])
        cols.append(b[ok])
        w.append(np.full(ok.sum(), CELL * math.hypot(diz, dix)))
    r, c, ww = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
    graph = coo_matrix((ww, (r, c)), shape=(n * n, n * n)).tocsr()
    if len(sources):
        dist = dijkstra(graph, directed=False, indices=sources, min_only=True)
    else:
        dist = np.full(n * n, np.inf)
    return Field(x0, z0, n, dist.reshape(n, n), blocked, fp)


def field_to(world: Any, point: tuple[float, float, float], *, edits: Edits = NO_EDITS) -> Field:
    """The distance field toward a goal point (cached per world, goal and directed edits)."""
    import weakref

    fp = footprint(world, point)
    key = id(getattr(world, "world", world))
    ref = weakref.ref(getattr(world, "world", world))
    return _field_cached(key, round(fp.x, 3), round(fp.z, 3), ref, fp, edits)


def next_waypoint(f: Field, x: float, z: float) -> tuple[float, float] | None:
    """Where to head from (x, z): LOOKAHEAD cells down the field; None when there is no path.
    Outside the grid: straight at the goal."""
    cell = f.cell(x, z)
    if cell is None:
        return f.goal.x, f.goal.z
    iz, ix = cell
    if not np.isfinite(f.dist[iz, ix]):
        # standing in a blocked cell (brushing a collider): step to the best free neighbour
        best = None
        for dz in (-1, 0, 1):
            for dx in (-1, 0, 1):
                j, i = iz + dz, ix + dx
                if 0 <= j < f.n and 0 <= i < f.n and np.isfinite(f.dist[j, i]):
                    if best is None or f.dist[j, i] < f.dist[best]:
                        best = (j, i)
        if best is None:
            return None
        iz, ix = best
    for _ in range(LOOKAHEAD):
        j0, j1 = max(0, iz - 1), min(f.n, iz + 2)
        i0, i1 = max(0, ix - 1), min(f.n, ix + 2)
        win = f.dist[j0:j1, i0:i1]
        k = np.unravel_index(int(np.argmin(win)), win.shape)
        nz, nx = j0 + int(k[0]), i0 + int(k[1])
        if f.dist[nz, nx] >= f.dist[iz, ix]:
            break
        iz, ix = nz, nx
    return f.centre(iz, ix)


def path(
    world: Any,
    start: tuple[float, float, float],
    goal: tuple[float, float, float],
    *,
    edits: Edits = NO_EDITS,
) -> np.ndarray | None:
    """(K, 2) xz cell centres from `start` down the field to the goal, or None (no path)."""
    f = field_to(world, goal, edits=edits)
    cell = f.cell(float(start[0]), float(start[2]))
    if cell is None or not np.isfinite(f.dist[cell]):
        return None
    iz, ix = cell
    out = [f.centre(iz, ix)]
    while f.dist[iz, ix] > 0:
        j0, j1 = max(0, iz - 1), min(f.n, iz + 2)
        i0, i1 = max(0, ix - 1), min(f.n, ix + 2)
        win = f.dist[j0:j1, i0:i1]
        k = np.unravel_index(int(np.argmin(win)), win.shape)
        iz, ix = j0 + int(k[0]), i0 + int(k[1])
        out.append(f.centre(iz, ix))
    return np.array(out)


# --- the simulation's hooks (called from studio.sim.step) -----------------------------------

LAND_SPEED = 6.0
"""m/s a flyer descends (and glides the last metres) onto a landmark's top."""


def _name(place: object) -> str:
    return place if isinstance(place, str) else "there"


def start_move(w: Any, s: Any, rows: np.ndarray, goal: np.ndarray, place: object) -> bool:
    """A MoveTo was accepted for `rows`: remember the destination (in `home`, which the move
    owns until arrival) and refuse, with a reason, when a walker has no path there."""
    from studio.sim.creatures import FLYER
    from studio.sim.state import M_BEHAVE, Edit

    e = s.entities
    fp = footprint(w, tuple(goal))
    idx = np.flatnonzero(rows)
    fly = FLYER[e.kind[idx].astype(np.intp)]
    stuck = []
    for i, f in zip(idx, fly, strict=True):
        if f:
            continue
        x, z = float(e.pos[i, 0]), float(e.pos[i, 2])
        if footprint_distance(fp, x, z) <= ARRIVE - 0.1:
            continue
        fld = field_to(w, tuple(goal), edits=edits_of(w, s))
        if next_waypoint(fld, x, z) is None:
            stuck.append(i)
    e.home[idx] = goal
    e.home[idx[fly], 1] = fp.top
    if stuck:
        st = np.array(stuck)
        e.mode[st] = M_BEHAVE
        e.goal[st] = e.pos[st]
        e.home[st] = e.pos[st]
        reason = f"no path to the {_name(place)}"
        who = e.labels[st[0]] or "it"
        s.subtitle, s.subtitle_until = f"({who}: {reason})", s.tick + 120
        s.edits += tuple(Edit(s.tick, "fail", f"#{int(e.id[i])}", ()) for i in st)
        return False
    return True


def steer_moves(w: Any, s: Any) -> None:
    """Before creatures move: point each moving walker at its next waypoint, land flyers."""
    from studio.sim.creatures import FLYER
    from studio.sim.state import M_LANDED, M_MOVE_TO

    e = s.entities
    landed = e.mode == M_LANDED
    e.goal[landed] = e.pos[landed]  # hold_landed moves them on from here
    edits = edits_of(w, s) if (e.mode == M_MOVE_TO).any() else NO_EDITS
    for i in np.flatnonzero(e.mode == M_MOVE_TO):
        x, z = float(e.pos[i, 0]), float(e.pos[i, 2])
        dest = e.home[i]
        if FLYER[int(e.kind[i])]:
            e.goal[i] = dest
            if math.hypot(dest[0] - x, dest[2] - z) <= 1.0:
                e.mode[i] = M_LANDED
                e.goal[i] = e.pos[i]
            continue
        fld = field_to(w, (float(dest[0]), float(dest[1]), float(dest[2])), edits=edits)
        if footprint_distance(fld.goal, x, z) <= ARRIVE - 0.1:
            e.goal[i] = e.pos[i]  # arrived: creatures settle it here
            continue
        wp = next_waypoint(fld, x, z)
        if wp is None:
            wp = (float(dest[0]), float(dest[2]))
        e.goal[i] = (wp[0], float(w.height_at(wp[0], wp[1])), wp[1])


def hold_landed(w: Any, s: Any) -> None:
    """After creatures move: landed flyers settle onto (and stay on) their landing point."""
    from studio.sim.player import DT
    from studio.sim.state import M_LANDED

    e = s.entities
    rows = np.flatnonzero(e.mode == M_LANDED)
    if not len(rows):
        return
    prev = e.goal[rows]  # (R, 3) where they were before this tick (see steer_moves)
    d = e.home[rows] - prev
    n = np.linalg.norm(d, axis=1)
    stepn = np.minimum(n, LAND_SPEED * DT)
    e.pos[rows] = prev + d * (stepn / np.maximum(n, 1e-9))[:, None]
    e.goal[rows] = e.pos[rows]
    e.vel[rows] = 0.0
    e.speed[rows] = 0.0
