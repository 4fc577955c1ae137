"""Typed, serialisable events: what the simulation consumes at a tick.

Two families share one discriminated union on ``kind``:

- **player events** — ``input`` (held-key set changes, a look delta, presses) and ``mode``
  (walk/fly, first/third person). Inputs are stored as *changes*: ``held`` is the new full set
  of held keys, or None when it did not change, so a 30-minute session stays small.
- **directed events** — what a directing command becomes (``time_of_day``, ``weather``,
  ``spawn``, ``remove``, ``move_to``, ``follow``, ``flee``, ``attack``, ``emote``, ``say``,
  ``camera_shot``, ``camera_mode``). The directing parser produces them; the simulation applies
  them (see `studio.sim.step`).

A *target* names entities: a label (``"the old wizard"``), a creature kind (``"deer"``, every
deer), ``"#12"`` (entity id 12) or ``"all"``. A *place* is ``"player"``, a target, a landmark
label or kind, or a world point ``[x, y, z]``.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from studio.spec import CREATURE_KINDS, PROP_KINDS, Behaviour, Weather, describe_validation_error

KEYS: tuple[str, ...] = ("w", "a", "s", "d", "shift", "space", "c", "e", "q", "f", "v")
"""Key names an input may hold or press: WASD move, shift sprint, space jump/up, c down (fly),
e attack, q interact, f toggle fly, v toggle first/third person."""

Key = Literal["w", "a", "s", "d", "shift", "space", "c", "e", "q", "f", "v"]
Point = tuple[float, float, float]


class EventError(ValueError):
    """An event could not be parsed; the message names the field and the fix."""


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tick: int = Field(ge=0, description="Simulation tick (30 per second) it applies at")


class InputEvent(_Event):
    """Player input at a tick: the new held-key set (None: unchanged), look delta, presses."""

    kind: Literal["input"] = "input"
    held: tuple[Key, ...] | None = None
    look: tuple[float, float] = (0.0, 0.0)
    press: tuple[Key, ...] = ()

    @field_validator("held", "press")
    @classmethod
    def _canonical(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else tuple(sorted(set(v), key=KEYS.index))

    @field_validator("look")
    @classmethod
    def _finite(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(abs(a) < 1e6 for a in v):
            raise ValueError(f"look delta {v} must be finite degrees (|value| < 1e6)")
        return v


class ModeEvent(_Event):
    """Switch movement (walk/fly) and/or view (first/third person)."""

    kind: Literal["mode"] = "mode"
    move: Literal["walk", "fly"] | None = None
    view: Literal["first", "third"] | None = None


class TimeOfDay(_Event):
    kind: Literal["time_of_day"] = "time_of_day"
    hour: float = Field(ge=0.0, lt=24.0, description="Local solar time, hours")


class WeatherEvent(_Event):
    kind: Literal["weather"] = "weather"
    weather: Weather


class Spawn(_Event):
    """Add `count` creatures of `creature` near `near` (a place) or at the player."""

    kind: Literal["spawn"] = "spawn"
    creature: str
    count: int = Field(1, ge=1, le=100)
    behaviour: Behaviour = "wander"
    label: str | None = None
    near: str | Point = "player"

    @field_validator("creature")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CREATURE_KINDS:
            raise ValueError(f"unknown creature {v!r}; use one of {', '.join(CREATURE_KINDS)}")
        return v


class Remove(_Event):
    kind: Literal["remove"] = "remove"
    target: str


class MoveTo(_Event):
    """Send characters to a place, walking or running (run speed and gait: "the knight runs")."""

    kind: Literal["move_to"] = "move_to"
    target: str
    to: str | Point
    gait: Literal["walk", "run"] = "walk"


class Follow(_Event):
    kind: Literal["follow"] = "follow"
    target: str
    leader: str = "player"


class Flee(_Event):
    kind: Literal["flee"] = "flee"
    target: str
    source: str = "player"


class Attack(_Event):
    kind: Literal["attack"] = "attack"
    target: str
    victim: str = "player"


class Emote(_Event):
    """A gesture; "look" turns the character to face `at` (a place), or the player."""

    kind: Literal["emote"] = "emote"
    target: str
    emote: Literal["wave", "nod", "bow", "dance", "jump", "look", "sit"]
    at: str | Point | None = None


class Say(_Event):
    kind: Literal["say"] = "say"
    target: str
    text: str = Field(min_length=1, max_length=500)


BLEND_S = 1.0
"""Seconds an unmarked shot change blends over: a quick camera move, not a drift."""
MIN_BLEND_S = 0.25
MAX_BLEND_S = 10.0


class CameraShot(_Event):
    """A directed camera move over `duration_s` seconds, framing `target` (default: player)."""

    kind: Literal["camera_shot"] = "camera_shot"
    shot: Literal[
        "orbit", "dolly_in", "dolly_out", "crane_up", "pan", "tracking", "wide", "close_up",
        "crane_down", "over_shoulder", "low_angle", "high_angle", "static",
    ]  # fmt: skip
    target: str = "player"
    duration_s: float = Field(4.0, gt=0.0, le=600.0)
    transition: Literal["blend", "cut"] = "blend"
    """How the camera gets to the shot: a hard cut, or a blend from the current view."""
    blend_s: float = Field(BLEND_S, ge=MIN_BLEND_S, le=MAX_BLEND_S)
    """Seconds a blend takes (ignored by a cut)."""


class Wind(_Event):
    """Wind strength, 0 calm .. 1 gale (rain slant, snow drift, swaying plants)."""

    kind: Literal["wind"] = "wind"
    strength: float = Field(ge=0.0, le=1.0)


class PropEdit(_Event):
    """A world edit on a prop or landmark kind: add `count` near a place, remove, or move one."""

    kind: Literal["prop_edit"] = "prop_edit"
    op: Literal["spawn", "remove", "move"]
    prop: str
    count: int = Field(1, ge=1, le=100)
    near: str | Point | None = None

    @field_validator("prop")
    @classmethod
    def _known_prop(cls, v: str) -> str:
        if v not in PROP_KINDS:
            raise ValueError(f"unknown prop {v!r}; use one of {', '.join(PROP_KINDS)}")
        return v


class CameraMode(_Event):
    kind: Literal["camera_mode"] = "camera_mode"
    mode: Literal["first", "third", "directed", "free"]


PlayerEvent = InputEvent | ModeEvent
DirectedEvent = (
    TimeOfDay | WeatherEvent | Spawn | Remove | MoveTo | Follow | Flee | Attack | Emote | Say
    | CameraShot | CameraMode | Wind | PropEdit
)  # fmt: skip
Event = Annotated[PlayerEvent | DirectedEvent, Field(discriminator="kind")]
EVENT_KINDS: tuple[str, ...] = (
    "input", "mode", "time_of_day", "weather", "spawn", "remove", "move_to", "follow", "flee",
    "attack", "emote", "say", "camera_shot", "camera_mode", "wind", "prop_edit",
)  # fmt: skip

_ADAPTER: TypeAdapter = TypeAdapter(Event)


def event_to_json(event: Event) -> str:
    """Canonical JSON (the same event always gives the same text)."""
    return json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def event_from_json(text: str | bytes) -> Event:
    """Parse and validate one event; raise EventError naming the bad field."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as e:
        raise EventError(describe_validation_error(e).replace("WorldSpec", "event")) from None


def event_from_dict(data: dict) -> Event:
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        raise EventError(describe_validation_error(e).replace("WorldSpec", "event")) from None
