"""`step(world, state, events) -> state`: one fixed 30 Hz tick, deterministic.

Order within a tick: the tick's events are applied (held keys, look, presses, modes, directed
events), then the player's actions (attack, interact), the player's movement, the creatures,
falling debris and toppling props; then ``tick`` advances. In the "free" camera mode the held
keys and look fly the detached camera (`SimState.free_cam`) and the player's body stands still.
Props placed by directed edits collide like the world's (`studio.sim.placed`). No wall clock and no global RNG:
the same (world, state, events) give the same next state in any process.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from studio import navigation
from studio.events import (
    Attack,
    CameraMode,
    CameraShot,
    Emote,
    Event,
    Flee,
    Follow,
    InputEvent,
    ModeEvent,
    MoveTo,
    PropEdit,
    Remove,
    Say,
    Spawn,
    TimeOfDay,
    WeatherEvent,
    Wind,
)
from studio.sim.creatures import FIGHTER, FLIGHT_HEIGHT, FLYER, heading_to, update_creatures
from studio.sim.placed import directed_props
from studio.sim.player import (
    DT,
    EYE_HEIGHT,
    FLY_SPEED,
    GRAVITY,
    PITCH_LIMIT,
    move_player,
    view_vectors,
    wrap_degrees,
)
from studio.sim.state import (
    BEHAVIOURS,
    EMOTES,
    GAITS,
    M_BEHAVE,
    M_DEAD,
    M_FIGHT,
    M_FLEE,
    M_FOLLOW,
    M_MOVE_TO,
    NO_REF,
    Debris,
    Edit,
    Entities,
    Player,
    PropChange,
    SimState,
)
from studio.sim.world_view import SimWorld, WorldView, view
from studio.spec import CREATURE_KINDS
from studio.terrain import hash_uniform

EDGE_KEYS = frozenset({"space", "e", "q", "f", "v"})
"""Keys whose newly-held edge counts as a press."""
ATTACK_REACH = 2.5
ATTACK_COS = math.cos(math.radians(60.0))
"""Targets within ±60° of the view heading are hit."""
ATTACK_COOLDOWN = 15
ATTACK_DAMAGE = 25.0
KNOCKBACK = 6.0
INTERACT_REACH = 3.5
SUBTITLE_TICKS = 120
EMOTE_TICKS = 90
"""An emote lasts 3 s."""
FREE_CAM_CLEARANCE = 0.3
"""Metres the free camera keeps above the ground (it passes through props and the player)."""
FLEE_TICKS = 180
FIGHT_TICKS = 300
TOPPLE_KINDS = frozenset(
    {"conifer", "broadleaf_tree", "palm", "dead_tree", "pillar", "lamp_post", "statue", "cactus",
     "fence", "reeds"}
)  # fmt: skip
BREAK_KINDS = frozenset(
    {"crate", "barrel", "cart", "crystal", "mushroom", "bush", "flowers", "grass_tuft", "tent",
     "campfire", "generic", "log"}
)  # fmt: skip
PIECES = 6
LINES = {
    "humanoid": ("Fine day for a walk.", "Have you seen the old tower?", "Careful out there.",
                 "I heard something in the woods last night.", "Welcome, traveller."),
}  # fmt: skip


def initial_state(world: SimWorld, *, seed: int | None = None) -> SimState:
    """The state at tick 0: the player on the spawn point, the spec's creatures at theirs."""
    spec = getattr(world, "spec", None)
    s = SimState(
        seed=int(seed if seed is not None else (spec.seed if spec is not None else 0)),
        hour=float(spec.hour) if spec is not None else 10.0,
        weather=str(spec.weather.kind) if spec is not None else "clear",
    )
    sp = world.spawn_point() if hasattr(world, "spawn_point") else None
    if sp is not None:
        x, y, z = (float(v) for v in sp.position)
        s.player = Player(x=x, y=y, z=z, yaw=float(wrap_degrees(sp.yaw)))
    else:
        s.player = Player(y=float(world.height_at(0.0, 0.0)))
    spawns = world.creature_spawns() if hasattr(world, "creature_spawns") else []
    rows = [
        dict(kind=c.kind, behaviour=c.behaviour, pos=np.asarray(c.position, float), yaw=c.yaw,
             scale=c.scale, label=c.label or "", seed=c.seed)
        for c in spawns
    ]  # fmt: skip
    s.entities, s.next_id = _new_entities(rows, 0, 0)
    return s


def _new_entities(rows: list[dict[str, Any]], next_id: int, tick: int) -> tuple[Entities, int]:
    e = Entities.empty(len(rows))
    for i, r in enumerate(rows):
        e.id[i] = next_id + i
        e.kind[i] = CREATURE_KINDS.index(r["kind"])
        e.behaviour[i] = BEHAVIOURS.index(r["behaviour"])
        e.pos[i] = r["pos"]
        e.home[i] = r["pos"]
        e.goal[i] = r["pos"]
        e.yaw[i] = wrap_degrees(float(r["yaw"]))
        e.scale[i] = float(r["scale"])
        e.seed[i] = int(r["seed"]) & 0x7FFFFFFFFFFFFFFF
    e.mode[:] = M_BEHAVE
    e.ref[:] = -1
    e.face_ref[:] = NO_REF
    e.health[:] = 100.0
    e.timer[:] = tick
    e.labels = tuple(r["label"] for r in rows)
    return e, next_id + len(rows)


def step(world: SimWorld | WorldView, state: SimState, events: Sequence[Event] = ()) -> SimState:
    """The state one tick later; `state` is not modified. Events must be for `state.tick`."""
    w = view(world)
    s = state.copy()
    presses: set[str] = set()
    for ev in events:
        if ev.tick != s.tick:
            raise ValueError(
                f"event for tick {ev.tick} given to step at tick {s.tick}; "
                "pass each event to the step of its own tick"
            )
        _apply(w, s, ev, presses)
    p = s.player
    free = s.camera_mode == "free"
    if free:  # the keys fly the detached camera; the body stays where it is
        presses &= {"v"}
        _move_free_camera(w, s)
    if "f" in presses:
        p.move = "walk" if p.move == "fly" else "fly"
        p.vy = 0.0
        p.on_ground = False
    if "v" in presses:
        p.view = "third" if p.view == "first" else "first"
        if s.camera_mode != "directed":
            s.camera_mode = p.view
    if "e" in presses and s.tick >= p.next_attack:
        _attack(w, s)
    if "q" in presses:
        _interact(w, s)
    directed = directed_props(w, s)
    if free:
        held, p.held = p.held, ()
        move_player(w, p, frozenset(presses), s.props, directed=directed)
        p.held = held
    else:
        move_player(w, p, frozenset(presses), s.props, directed=directed)
    navigation.steer_moves(w, s)
    update_creatures(w, s, directed=directed)
    navigation.hold_landed(w, s)
    _update_debris(w, s)
    _update_toppling(w, s)
    if s.camera_shot is not None and s.tick >= s.camera_shot[3]:
        s.camera_shot = None
        s.camera_mode = p.view
        s.camera_from = None
    if s.camera_from is not None and s.tick >= s.camera_from[4]:
        s.camera_from = None
    if s.camera_mode in ("first", "third"):
        s.free_cam = None
    s.tick += 1
    return s


def run(
    world: SimWorld, state: SimState, events_by_tick: dict[int, list[Event]], n: int
) -> SimState:
    """`n` steps from `state` with the events of each tick (a convenience for tools and tests)."""
    w = view(world)
    for _ in range(n):
        state = step(w, state, events_by_tick.get(state.tick, ()))
    return state


# --- events ---------------------------------------------------------------------------


def _apply(w: WorldView, s: SimState, ev: Event, presses: set[str]) -> None:
    p = s.player
    if isinstance(ev, InputEvent):
        if ev.held is not None:
            presses.update(k for k in set(ev.held) - set(p.held) if k in EDGE_KEYS)
            p.held = ev.held
        presses.update(ev.press)
        if s.camera_mode == "free" and s.free_cam is not None:
            x, y, z, yaw, pitch = s.free_cam
            yaw = wrap_degrees(yaw + ev.look[0])
            pitch = min(PITCH_LIMIT, max(-PITCH_LIMIT, pitch + ev.look[1]))
            s.free_cam = (x, y, z, yaw, pitch)
        else:
            p.yaw = wrap_degrees(p.yaw + ev.look[0])
            p.pitch = min(PITCH_LIMIT, max(-PITCH_LIMIT, p.pitch + ev.look[1]))
    elif isinstance(ev, ModeEvent):
        if ev.move is not None and ev.move != p.move:
            p.move = ev.move
            p.vy, p.on_ground = 0.0, False
        if ev.view is not None:
            p.view = ev.view
            if s.camera_mode != "directed":
                s.camera_mode = ev.view
    elif isinstance(ev, TimeOfDay):
        s.hour = ev.hour
    elif isinstance(ev, WeatherEvent):
        s.weather = ev.weather
    elif isinstance(ev, Wind):
        s.wind = ev.strength
    elif isinstance(ev, PropEdit):
        # data: the player's feet (x, y, z), count, then the place (x, y, z) when one is named;
        # studio.view resolves which props these edits add, hide or move.
        where = _place(w, s, ev.near) if ev.near is not None else None
        data = (p.x, p.y, p.z, float(ev.count))
        data += () if where is None else tuple(float(v) for v in where)
        s.edits += (Edit(s.tick, ev.op, f"prop:{ev.prop}", data),)
    elif isinstance(ev, Spawn):
        _spawn(w, s, ev)
    elif isinstance(ev, Remove):
        rows = _select(s, ev.target)
        if rows.any():
            ids = s.entities.id[rows]
            s.entities = s.entities.take(~rows)
            s.edits += tuple(Edit(s.tick, "remove", f"#{i}") for i in ids)
        else:
            _say(s, f"(no one matches {ev.target!r})")
    elif isinstance(ev, (MoveTo, Follow, Flee, Attack)):
        _direct_mode(w, s, ev)
    elif isinstance(ev, Emote):
        rows = _select(s, ev.target)
        e = s.entities
        e.emote[rows] = EMOTES.index(ev.emote)
        e.emote_until[rows] = s.tick + EMOTE_TICKS
        if ev.emote == "look":
            _look(w, s, rows, "player" if ev.at is None else ev.at)
    elif isinstance(ev, Say):
        rows = np.flatnonzero(_select(s, ev.target))
        who = (
            s.entities.labels[rows[0]] or CREATURE_KINDS[s.entities.kind[rows[0]]]
            if len(rows)
            else ev.target
        )
        _say(s, f"{who}: {ev.text}")
    elif isinstance(ev, CameraShot):
        if ev.transition == "blend":
            # the view it leaves (and the blend that view is still in), see studio.session
            end = s.tick + max(1, round(ev.blend_s / DT))
            s.camera_from = (s.camera_mode, s.camera_shot, s.camera_from, s.tick, end)
        else:
            s.camera_from = None
        s.camera_shot = (ev.shot, ev.target, s.tick, s.tick + max(1, round(ev.duration_s / DT)))
        s.camera_mode = "directed"
    elif isinstance(ev, CameraMode):
        if ev.mode == "free" and s.camera_mode != "free":
            s.free_cam = (p.x, p.y + EYE_HEIGHT, p.z, p.yaw, p.pitch)
        s.camera_mode = ev.mode
        s.camera_from = None
        if ev.mode in ("first", "third", "free"):
            s.camera_shot = None
        if ev.mode in ("first", "third"):
            p.view = ev.mode


def _look(w: WorldView, s: SimState, rows: np.ndarray, at: str | tuple) -> None:
    """Rows turn toward `at`: a character (followed while it moves), the player, or a point."""
    e = s.entities
    key = at.strip().lower() if isinstance(at, str) else ""
    ref = NO_REF
    if key == "player":
        ref = -1
    elif isinstance(at, str):
        hit = np.flatnonzero(_select(s, at))
        if len(hit):
            ref = int(e.id[hit[0]])
    point = _place(w, s, at)
    if point is None:
        _say(s, f"(nowhere called {at!r} to look at)")
        e.emote[rows] = EMOTES.index("none")
        return
    e.face[rows] = point
    e.face_ref[rows] = ref


def _move_free_camera(w: WorldView, s: SimState) -> None:
    """Fly the detached camera with the held keys (W/S along the view, A/D sideways, space/c
    up/down) at `FLY_SPEED`, kept above the ground; it passes through the player and props."""
    x, y, z, yaw, pitch = s.free_cam if s.free_cam is not None else (*s.player.pos, 0.0, 0.0)
    held = set(s.player.held)
    a, b = math.radians(yaw), math.radians(pitch)
    fwd = np.array([-math.sin(a) * math.cos(b), math.sin(b), -math.cos(a) * math.cos(b)])
    right = np.array([math.cos(a), 0.0, -math.sin(a)])
    d = (("w" in held) - ("s" in held)) * fwd + (("d" in held) - ("a" in held)) * right
    d[1] += ("space" in held) - ("c" in held)
    n = float(np.linalg.norm(d))
    if n > 0:
        x, y, z = (np.array([x, y, z]) + d / n * FLY_SPEED * DT).tolist()
    y = max(y, w.height1(x, z) + FREE_CAM_CLEARANCE)
    s.free_cam = (float(x), float(y), float(z), float(yaw), float(pitch))


def _say(s: SimState, text: str) -> None:
    s.subtitle = text
    s.subtitle_until = s.tick + SUBTITLE_TICKS


def _select(s: SimState, target: str) -> np.ndarray:
    """(N,) bool rows a target names: "all", "#id", a label, or a creature kind."""
    e = s.entities
    t = target.strip().lower()
    if t == "all":
        return e.mode != M_DEAD
    if t.startswith("#") and t[1:].isdigit():
        return e.id == int(t[1:])
    by_label = np.array([lab.lower() == t for lab in e.labels], dtype=bool)
    if by_label.any():
        return by_label
    kind = t.removesuffix("s") if t.removesuffix("s") in CREATURE_KINDS else t
    if kind in CREATURE_KINDS:
        return e.kind == CREATURE_KINDS.index(kind)
    return np.zeros(len(e), dtype=bool)


def _place(w: WorldView, s: SimState, place: str | tuple[float, float, float]) -> np.ndarray | None:
    """(3,) world point a place names, or None."""
    if not isinstance(place, str):
        return np.asarray(place, dtype=np.float64)
    if place.strip().lower() == "player":
        return s.player.pos
    rows = np.flatnonzero(_select(s, place))
    if len(rows):
        return s.entities.pos[rows[0]].copy()
    key = place.strip().lower()
    for lm in w.landmarks():
        if key in ((lm.label or "").lower(), lm.kind):
            return np.asarray(lm.position, dtype=np.float64)
    return None


def _spawn(w: WorldView, s: SimState, ev: Spawn) -> None:
    centre = _place(w, s, ev.near)
    if centre is None:
        _say(s, f"(nowhere called {ev.near!r} to spawn near)")
        return
    ids = np.arange(s.next_id, s.next_id + ev.count)
    ang = 2 * np.pi * hash_uniform(s.seed, ids, np.full(ev.count, s.tick), 21)
    rad = 3.0 + 5.0 * hash_uniform(s.seed, ids, np.full(ev.count, s.tick), 22)
    x = centre[0] + rad * np.cos(ang)
    z = centre[2] + rad * np.sin(ang)
    y = np.asarray(w.height_at(x, z), dtype=np.float64).reshape(-1)
    if FLYER[CREATURE_KINDS.index(ev.creature)]:
        y = y + FLIGHT_HEIGHT
    rows = [
        dict(kind=ev.creature, behaviour=ev.behaviour, pos=np.array([x[i], y[i], z[i]]),
             yaw=float(360.0 * hash_uniform(s.seed, ids[i : i + 1], np.array([s.tick]), 23)[0]),
             scale=1.0, label=ev.label or "", seed=int(ids[i]))
        for i in range(ev.count)
    ]  # fmt: skip
    new, s.next_id = _new_entities(rows, s.next_id, s.tick)
    s.entities = Entities.concat(s.entities, new)
    s.edits += tuple(Edit(s.tick, "spawn", f"#{i}", (x[k], y[k], z[k])) for k, i in enumerate(ids))


def _direct_mode(w: WorldView, s: SimState, ev: MoveTo | Follow | Flee | Attack) -> None:
    e = s.entities
    rows = _select(s, ev.target) & (e.mode != M_DEAD)
    if not rows.any():
        _say(s, f"(no one matches {ev.target!r})")
        return
    if isinstance(ev, MoveTo):
        goal = _place(w, s, ev.to)
        if goal is None:
            _say(s, f"(nowhere called {ev.to!r})")
            return
        e.goal[rows] = goal
        e.mode[rows] = M_MOVE_TO
        e.gait[rows] = GAITS.index(ev.gait)
        navigation.start_move(w, s, rows, goal, ev.to)
    elif isinstance(ev, Follow):
        e.mode[rows] = M_FOLLOW
    elif isinstance(ev, Flee):
        e.mode[rows] = M_FLEE
        e.timer[rows] = s.tick + FLEE_TICKS
    else:
        e.mode[rows] = M_FIGHT
        e.timer[rows] = s.tick + FIGHT_TICKS


# --- player actions -------------------------------------------------------------------


def _in_front(p: Player, dx: np.ndarray, dz: np.ndarray) -> np.ndarray:
    (fx, fz), _ = view_vectors(p.yaw)
    d = np.hypot(dx, dz)
    return (dx * fx + dz * fz) >= ATTACK_COS * d


def _attack(w: WorldView, s: SimState) -> None:
    p = s.player
    p.next_attack = s.tick + ATTACK_COOLDOWN
    p.swing_tick = s.tick
    e = s.entities
    if len(e):
        d = e.pos - p.pos
        dist = np.hypot(d[:, 0], d[:, 2])
        vert = np.abs(d[:, 1] - 0.5)
        hit = (
            (e.mode != M_DEAD)
            & (dist <= ATTACK_REACH)
            & (vert < 2.5)
            & _in_front(p, d[:, 0], d[:, 2])
        )
        if hit.any():
            idx = np.flatnonzero(hit)
            away = d[idx][:, [0, 2]] / np.maximum(dist[idx], 1e-6)[:, None]
            e.vel[idx, 0] += away[:, 0] * KNOCKBACK
            e.vel[idx, 2] += away[:, 1] * KNOCKBACK
            e.health[idx] -= ATTACK_DAMAGE
            dead = idx[e.health[idx] <= 0]
            live = idx[e.health[idx] > 0]
            e.mode[dead] = M_DEAD
            e.emote[live] = EMOTES.index("hurt")
            e.emote_until[live] = s.tick + 15
            fights = live[FIGHTER[e.kind[live].astype(np.intp)]]
            flees = live[~FIGHTER[e.kind[live].astype(np.intp)]]
            e.mode[fights], e.timer[fights] = M_FIGHT, s.tick + FIGHT_TICKS
            e.mode[flees], e.timer[flees] = M_FLEE, s.tick + FLEE_TICKS
            return
    _hit_prop(w, s)


def _hit_prop(w: WorldView, s: SimState) -> None:
    p = s.player
    cols = w.colliders(p.x, p.z)
    if not len(cols):
        return
    dx = cols.center[:, 0] - p.x
    dz = cols.center[:, 2] - p.z
    reach = np.hypot(dx, dz) - cols.size[:, 0]
    gone = {(c.kind, round(c.x, 3), round(c.z, 3)) for c in s.props}
    best, best_d = -1, math.inf
    for k in np.flatnonzero((reach <= ATTACK_REACH) & _in_front(p, dx, dz)):
        kind = cols.owner[k]
        if kind not in TOPPLE_KINDS and kind not in BREAK_KINDS:
            continue
        if cols.bottom[k] > p.y + 2.5 or cols.top[k] < p.y - 0.5:
            continue
        if any(
            g[0] == kind and math.hypot(g[1] - cols.center[k, 0], g[2] - cols.center[k, 2]) <= 1.0
            for g in gone
        ):
            continue
        if reach[k] < best_d:
            best, best_d = int(k), float(reach[k])
    if best < 0:
        return
    kind = cols.owner[best]
    cx, cy, cz = (float(v) for v in cols.center[best])
    r, hh = float(cols.size[best, 0]), float(cols.size[best, 1])
    base = cy - hh
    pid = cols.prop[best]
    if kind in TOPPLE_KINDS:
        (fx, fz), _ = view_vectors(p.yaw)
        fall = float(heading_to(np.array(fx), np.array(fz)))
        s.props += (PropChange(pid, kind, cx, base, cz, r, 2 * hh, "toppling", fall, 0.0, 40.0),)
        return
    s.props += (PropChange(pid, kind, cx, base, cz, r, 2 * hh, "broken"),)
    s.edits += (Edit(s.tick, "break", pid, (cx, base, cz)),)
    ids = np.arange(PIECES) + len(s.debris.pos)
    u = [hash_uniform(s.seed, ids, np.full(PIECES, s.tick), 31 + j) for j in range(4)]
    ang = 2 * np.pi * u[0]
    out = 1.0 + 2.5 * u[1]
    size = np.clip(np.minimum(r, hh) * (0.25 + 0.25 * u[3]), 0.05, 0.6)
    pos = np.stack([cx + 0.5 * r * np.cos(ang), np.full(PIECES, cy), cz + 0.5 * r * np.sin(ang)], 1)
    vel = np.stack([out * np.cos(ang), 2.0 + 3.0 * u[2], out * np.sin(ang)], 1)
    d = s.debris
    s.debris = Debris(
        np.concatenate([d.pos, pos]), np.concatenate([d.vel, vel]),
        np.concatenate([d.size, size]), np.concatenate([d.rest, np.zeros(PIECES, bool)]),
        np.concatenate([d.prop, np.full(PIECES, len(s.props) - 1)]),
    )  # fmt: skip


def _interact(w: WorldView, s: SimState) -> None:
    p = s.player
    e = s.entities
    if len(e):
        d = e.pos - p.pos
        dist = np.hypot(d[:, 0], d[:, 2])
        ok = (e.mode != M_DEAD) & (dist <= INTERACT_REACH) & _in_front(p, d[:, 0], d[:, 2])
        if ok.any():
            i = int(np.flatnonzero(ok)[np.argmin(dist[ok])])
            kind = CREATURE_KINDS[e.kind[i]]
            e.yaw[i] = float(heading_to(-d[i, 0:1], -d[i, 2:3])[0])
            e.emote[i] = EMOTES.index("wave" if kind == "humanoid" else "look")
            e.face[i], e.face_ref[i] = p.pos, -1
            e.emote_until[i] = s.tick + 60
            name = e.labels[i] or f"the {kind}"
            lines = LINES.get(kind)
            if lines:
                pick = int(
                    hash_uniform(s.seed, e.id[i : i + 1], np.array([s.tick]), 41)[0] * len(lines)
                )
                _say(s, f"{name[0].upper()}{name[1:]}: {lines[pick]}")
            else:
                _say(s, f"{name[0].upper()}{name[1:]} looks at you.")
            return
    cols = w.colliders(p.x, p.z)
    if len(cols):
        reach = np.hypot(cols.center[:, 0] - p.x, cols.center[:, 2] - p.z) - cols.size[:, 0]
        near = np.flatnonzero(reach <= INTERACT_REACH)
        if len(near):
            k = near[np.argmin(reach[near])]
            _say(s, f"You look at the {cols.owner[k].replace('_', ' ')}.")
            return
    _say(s, "Nothing to interact with here.")


# --- props ----------------------------------------------------------------------------


def _update_debris(w: WorldView, s: SimState) -> None:
    d = s.debris
    moving = ~d.rest
    if not moving.any():
        return
    i = np.flatnonzero(moving)
    pos = d.pos[i] + d.vel[i] * DT
    pos[:, 1] = d.pos[i, 1] + d.vel[i, 1] * DT - 0.5 * GRAVITY * DT * DT
    vel = d.vel[i].copy()
    vel[:, 1] -= GRAVITY * DT
    ground = np.asarray(w.height_at(pos[:, 0], pos[:, 2]), dtype=np.float64).reshape(-1) + d.size[i]
    landed = pos[:, 1] <= ground
    pos[landed, 1] = ground[landed]
    vel[landed] = 0.0
    d.pos[i], d.vel[i] = pos, vel
    d.rest[i[landed]] = True
    for prop in np.unique(d.prop[i[landed]]):
        mine = d.prop == prop
        if d.rest[mine].all():  # every piece has landed: record where they lie
            s.edits += (
                Edit(s.tick, "debris", s.props[prop].prop, tuple(d.pos[mine].ravel().tolist())),
            )


def _update_toppling(w: WorldView, s: SimState) -> None:
    if not any(c.change == "toppling" for c in s.props):
        return
    out = []
    for c in s.props:
        if c.change == "toppling":
            # a rod pivoting on its base: angular acceleration (3g / 2L) sin(angle)
            a = math.radians(c.angle)
            acc = 1.5 * GRAVITY / max(c.height, 0.2) * math.sin(max(a, 0.05))
            om = math.radians(c.angvel) + acc * DT
            a += om * DT
            if a >= math.pi / 2:
                c = dataclasses.replace(c, change="toppled", angle=90.0, angvel=0.0)
                s.edits += (Edit(s.tick, "topple", c.prop, (c.x, c.y, c.z, c.fall_yaw)),)
            else:
                c = dataclasses.replace(c, angle=math.degrees(a), angvel=math.degrees(om))
        out.append(c)
    s.props = tuple(out)


def eye_position(p: Player) -> np.ndarray:
    """(3,) first-person eye position."""
    return np.array([p.x, p.y + EYE_HEIGHT, p.z])


def events_by_tick(events: Iterable[Event]) -> dict[int, list[Event]]:
    out: dict[int, list[Event]] = {}
    for ev in events:
        out.setdefault(ev.tick, []).append(ev)
    return out
