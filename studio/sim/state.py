"""`SimState`: the changing data of a session (MuJoCo's mjData to the World's mjModel).

Plain data only: a small `Player` dataclass of scalars, entity arrays (struct of arrays, one row
per creature), falling debris arrays, the props that changed, and the world's edit log as
records. `copy()` is cheap (arrays copied, immutable records shared); `to_bytes()` is a canonical
serialisation (snapshots) and `state_hash()` is blake2b over it, so two processes that saw the
same events agree on the hash. Headings follow the camera convention: yaw 0 faces world -Z,
yaw +90 faces -X (studio.conventions).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from studio.spec import CREATURE_KINDS

BEHAVIOURS: tuple[str, ...] = ("idle", "wander", "flee", "follow", "patrol", "circle")
"""Spec behaviours, by index in `Entities.behaviour`."""

MODES: tuple[str, ...] = ("behave", "flee", "fight", "dead", "move_to", "follow", "landed")
"""What an entity is doing now, by index in `Entities.mode`: "behave" runs its spec behaviour;
the others come from being attacked or from directed events."""
M_BEHAVE, M_FLEE, M_FIGHT, M_DEAD, M_MOVE_TO, M_FOLLOW, M_LANDED = range(len(MODES))

EMOTES: tuple[str, ...] = ("none", "wave", "nod", "bow", "dance", "jump", "look", "sit", "hurt")

_MAGIC = b"TPS1"


class StateFormatError(ValueError):
    """Snapshot bytes could not be decoded (damaged or from another format version)."""


@dataclass
class Player:
    """The player: feet position (metres), velocity, view angles (degrees) and modes."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    vz: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0
    move: Literal["walk", "fly"] = "walk"
    view: Literal["first", "third"] = "first"
    held: tuple[str, ...] = ()
    on_ground: bool = True
    air_ticks: int = 0
    """Ticks since the player last stood on ground (coyote time counts these)."""
    jumped: bool = False
    """A jump was spent since the player last stood on ground."""
    in_water: bool = False
    kx: float = 0.0
    kz: float = 0.0
    """Knockback velocity (m/s), decaying."""
    health: float = 100.0
    next_attack: int = 0
    """First tick at which E swings again."""
    swing_tick: int = -1
    """Tick of the latest swing (the renderer animates the arm from it)."""

    @property
    def pos(self) -> np.ndarray:
        """(3,) feet position."""
        return np.array([self.x, self.y, self.z])


_ENTITY_ARRAYS: dict[str, tuple[str, tuple[int, ...]]] = {
    "id": ("<i8", ()),
    "kind": ("<i1", ()),
    "behaviour": ("<i1", ()),
    "mode": ("<i1", ()),
    "ref": ("<i8", ()),
    "pos": ("<f8", (3,)),
    "vel": ("<f8", (3,)),
    "yaw": ("<f8", ()),
    "home": ("<f8", (3,)),
    "goal": ("<f8", (3,)),
    "timer": ("<i8", ()),
    "health": ("<f8", ()),
    "scale": ("<f8", ()),
    "phase": ("<f8", ()),
    "speed": ("<f8", ()),
    "head_yaw": ("<f8", ()),
    "next_attack": ("<i8", ()),
    "emote": ("<i1", ()),
    "emote_until": ("<i8", ()),
    "seed": ("<i8", ()),
    "gait": ("<i1", ()),
    "face": ("<f8", (3,)),
    "face_ref": ("<i8", ()),
}
"""Entity columns: dtype and per-row shape. `ref` is the entity a mode refers to (-1: player);
`timer` the tick of the next decision or the end of the current mode; `gait` the pace of a
directed move (`GAITS`); `face` the point a "look" emote turns toward, following entity
`face_ref` (-1: the player, `NO_REF`: a fixed point)."""

GAITS: tuple[str, ...] = ("walk", "run")
NO_REF = -2
_OPTIONAL_ARRAYS = {"gait": 0, "face": 0.0, "face_ref": NO_REF}
"""Columns added after the first snapshot format, with the value older snapshots decode to."""


@dataclass
class Entities:
    """Creatures as a struct of arrays (N rows) plus their labels ("" for none)."""

    id: np.ndarray  # (N,) int64, stable across spawns and removals
    kind: np.ndarray  # (N,) int8 index into CREATURE_KINDS
    behaviour: np.ndarray  # (N,) int8 index into BEHAVIOURS
    mode: np.ndarray  # (N,) int8 index into MODES
    ref: np.ndarray  # (N,) int64
    pos: np.ndarray  # (N, 3) float64 feet (flyers: body) position
    vel: np.ndarray  # (N, 3) float64
    yaw: np.ndarray  # (N,) float64 degrees, heading
    home: np.ndarray  # (N, 3) float64
    goal: np.ndarray  # (N, 3) float64
    timer: np.ndarray  # (N,) int64
    health: np.ndarray  # (N,) float64
    scale: np.ndarray  # (N,) float64
    phase: np.ndarray  # (N,) float64 gait cycles
    speed: np.ndarray  # (N,) float64 horizontal speed, m/s
    head_yaw: np.ndarray  # (N,) float64 degrees relative to the body
    next_attack: np.ndarray  # (N,) int64
    emote: np.ndarray  # (N,) int8 index into EMOTES
    emote_until: np.ndarray  # (N,) int64
    seed: np.ndarray  # (N,) int64
    gait: np.ndarray  # (N,) int8 index into GAITS
    face: np.ndarray  # (N, 3) float64 point a "look" emote faces
    face_ref: np.ndarray  # (N,) int64 entity followed by `face` (-1 player, NO_REF none)
    labels: tuple[str, ...] = ()

    @staticmethod
    def empty(n: int = 0) -> Entities:
        cols = {k: np.zeros((n, *shape), dtype=dt) for k, (dt, shape) in _ENTITY_ARRAYS.items()}
        return Entities(**cols, labels=("",) * n)

    def __len__(self) -> int:
        return len(self.id)

    def copy(self) -> Entities:
        return Entities(**{k: getattr(self, k).copy() for k in _ENTITY_ARRAYS}, labels=self.labels)

    def take(self, rows: np.ndarray) -> Entities:
        """The entities at `rows` (an index or boolean array)."""
        idx = np.arange(len(self))[rows]
        return Entities(
            **{k: getattr(self, k)[idx] for k in _ENTITY_ARRAYS},
            labels=tuple(self.labels[i] for i in idx),
        )

    @staticmethod
    def concat(a: Entities, b: Entities) -> Entities:
        return Entities(
            **{k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in _ENTITY_ARRAYS},
            labels=a.labels + b.labels,
        )

    def kind_names(self) -> list[str]:
        return [CREATURE_KINDS[k] for k in self.kind]


@dataclass
class Debris:
    """Pieces of broken props: they fall under gravity and stay where they land."""

    pos: np.ndarray  # (M, 3) float64
    vel: np.ndarray  # (M, 3) float64
    size: np.ndarray  # (M,) float64 half size, metres
    rest: np.ndarray  # (M,) bool, landed and fixed
    prop: np.ndarray  # (M,) int64 index into SimState.props

    @staticmethod
    def empty() -> Debris:
        return Debris(
            np.zeros((0, 3)),
            np.zeros((0, 3)),
            np.zeros(0),
            np.zeros(0, bool),
            np.zeros(0, np.int64),
        )

    def copy(self) -> Debris:
        return Debris(
            self.pos.copy(), self.vel.copy(), self.size.copy(), self.rest.copy(), self.prop.copy()
        )


@dataclass(frozen=True)
class PropChange:
    """A prop that broke or is toppling/toppled. `angle` (degrees) tilts it about its base
    toward heading `fall_yaw`; 90 lies on the ground. Its colliders no longer block."""

    prop: str
    """Stable prop id: "kind@x,z" of its base (centimetres)."""
    kind: str
    x: float
    y: float
    z: float
    radius: float
    height: float
    change: Literal["broken", "toppling", "toppled"]
    fall_yaw: float = 0.0
    angle: float = 0.0
    angvel: float = 0.0


@dataclass(frozen=True)
class Edit:
    """One record of the world's edit log: what changed, where, at which tick."""

    tick: int
    kind: Literal["break", "topple", "debris", "spawn", "remove", "move", "fail"]
    target: str
    data: tuple[float, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))


@dataclass
class SimState:
    """Everything that changes during a session; see the module docstring."""

    tick: int = 0
    seed: int = 0
    hour: float = 10.0
    weather: str = "clear"
    wind: float = 0.3
    player: Player = field(default_factory=Player)
    entities: Entities = field(default_factory=Entities.empty)
    next_id: int = 0
    debris: Debris = field(default_factory=Debris.empty)
    props: tuple[PropChange, ...] = ()
    edits: tuple[Edit, ...] = ()
    subtitle: str = ""
    subtitle_until: int = 0
    camera_mode: Literal["first", "third", "directed", "free"] = "first"
    camera_shot: tuple[str, str, int, int] | None = None
    """(shot, target, start_tick, end_tick) of the directed camera move, if any."""
    camera_from: tuple | None = None
    """A blend into the current view: (mode, shot, from, start_tick, end_tick), the view it
    leaves (its mode and shot, and the blend *it* was in, recursively) and the ticks the blend
    runs; None after a cut or once the blend is over (see `studio.session`)."""
    free_cam: tuple[float, float, float, float, float] | None = None
    """The detached free camera's (x, y, z, yaw, pitch) while `camera_mode` is "free"."""

    def copy(self) -> SimState:
        return dataclasses.replace(
            self,
            player=dataclasses.replace(self.player),
            entities=self.entities.copy(),
            debris=self.debris.copy(),
        )

    # --- canonical bytes -------------------------------------------------------------

    def _header(self) -> dict[str, Any]:
        return {
            "tick": self.tick,
            "seed": self.seed,
            "hour": self.hour,
            "weather": self.weather,
            "wind": self.wind,
            "player": dataclasses.asdict(self.player),
            "labels": list(self.entities.labels),
            "next_id": self.next_id,
            "props": [dataclasses.astuple(p) for p in self.props],
            "edits": [dataclasses.astuple(e) for e in self.edits],
            "subtitle": self.subtitle,
            "subtitle_until": self.subtitle_until,
            "camera_mode": self.camera_mode,
            "camera_shot": self.camera_shot,
            "camera_from": self.camera_from,
            "free_cam": self.free_cam,
        }

    def _arrays(self) -> list[tuple[str, np.ndarray]]:
        out = [(f"e.{k}", getattr(self.entities, k)) for k in _ENTITY_ARRAYS]
        d = self.debris
        out += [("d.pos", d.pos), ("d.vel", d.vel), ("d.size", d.size), ("d.rest", d.rest),
                ("d.prop", d.prop)]  # fmt: skip
        return out

    def to_bytes(self, *, compress: bool = False) -> bytes:
        """Canonical serialisation: equal states give equal bytes (floats kept exact)."""
        arrays = self._arrays()
        head = self._header()
        head["arrays"] = [(name, a.dtype.str, list(a.shape)) for name, a in arrays]
        hj = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
        body = b"".join(np.ascontiguousarray(a).tobytes() for _, a in arrays)
        raw = struct.pack("<I", len(hj)) + hj + body
        return _MAGIC + (b"Z" + zlib.compress(raw, 1) if compress else b"R" + raw)

    @staticmethod
    def from_bytes(data: bytes) -> SimState:
        """Inverse of `to_bytes`; raises StateFormatError on damaged input."""
        try:
            if data[:4] != _MAGIC:
                raise ValueError("bad magic")
            raw = zlib.decompress(data[5:]) if data[4:5] == b"Z" else data[5:]
            (n,) = struct.unpack("<I", raw[:4])
            head = json.loads(raw[4 : 4 + n])
            off = 4 + n
            cols: dict[str, np.ndarray] = {}
            for name, dt, shape in head.pop("arrays"):
                size = int(np.prod(shape)) * np.dtype(dt).itemsize
                cols[name] = np.frombuffer(raw[off : off + size], dtype=dt).reshape(shape).copy()
                off += size
            if off != len(raw):
                raise ValueError("trailing bytes")
            n_ent = len(cols["e.id"])
            for k, fill in _OPTIONAL_ARRAYS.items():
                if f"e.{k}" not in cols:
                    dt, shape = _ENTITY_ARRAYS[k]
                    cols[f"e.{k}"] = np.full((n_ent, *shape), fill, dtype=dt)
            ents = Entities(
                **{k: cols[f"e.{k}"] for k in _ENTITY_ARRAYS}, labels=tuple(head.pop("labels"))
            )
            deb = Debris(*(cols[f"d.{k}"] for k in ("pos", "vel", "size", "rest", "prop")))
            player = _player(head.pop("player"))
            shot = head.pop("camera_shot")
            return SimState(
                **{k: head[k] for k in ("tick", "seed", "hour", "weather", "next_id",
                                        "subtitle", "subtitle_until", "camera_mode")},
                wind=float(head.get("wind", 0.3)),
                player=player,
                entities=ents,
                debris=deb,
                props=tuple(PropChange(*p) for p in head["props"]),
                edits=tuple(Edit(e[0], e[1], e[2], tuple(e[3])) for e in head["edits"]),
                camera_shot=None if shot is None else tuple(shot),
                camera_from=_tuples(head.get("camera_from")),
                free_cam=None if head.get("free_cam") is None else tuple(head["free_cam"]),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, IndexError, struct.error, zlib.error) as e:
            raise StateFormatError(f"snapshot could not be decoded ({e})") from None

    def state_hash(self) -> str:
        """blake2b-128 hex of the canonical bytes; equal in any process for equal states."""
        return hashlib.blake2b(self.to_bytes(), digest_size=16).hexdigest()


def _tuples(v: Any) -> Any:
    """JSON lists back to the nested tuples they were written from."""
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _player(d: dict[str, Any]) -> Player:
    d = dict(d)
    d["held"] = tuple(d["held"])
    return Player(**d)
