"""`WorldSpec`: the versioned, strict description a world is generated from.

A world is a pure function of (WorldSpec, seed) plus an edit log (DESIGN.md). The spec is a
pydantic model with ``extra="forbid"``; validation errors are rewritten to name the bad field
(``Unrecognized attribute 'x'``, ``terrain.roughness: ...``). Text, image and voice pipelines
produce it; the world engine only reads it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SPEC_VERSION = 1

Biome = Literal[
    "conifer_forest",
    "broadleaf_forest",
    "meadow",
    "desert",
    "snow",
    "beach",
    "swamp",
    "alpine",
    "volcanic",
    "canyon",
    "farmland",
    "village",
    "ruins",
]
BIOMES: tuple[str, ...] = Biome.__args__  # type: ignore[attr-defined]

PROP_KINDS: tuple[str, ...] = (
    "conifer", "broadleaf_tree", "palm", "dead_tree", "bush", "grass_tuft", "flowers", "reeds",
    "mushroom", "rock", "boulder", "cliff", "log", "house", "hut", "tower", "castle_wall",
    "bridge", "well", "fence", "campfire", "tent", "pillar", "ruins", "shipwreck", "cactus",
    "crystal", "lamp_post", "crate", "barrel", "windmill", "statue", "cart", "gate", "generic",
)  # fmt: skip
"""Asset kinds a prop or landmark may name. "generic" is a labelled stand-in for nouns
outside the vocabulary (never a silently wrong asset)."""

CREATURE_KINDS: tuple[str, ...] = (
    "humanoid", "deer", "wolf", "bird", "dragon", "horse", "dog", "sheep",
)  # fmt: skip
"""Creature and character kinds (part hierarchies ready to animate)."""

Weather = Literal["clear", "cloudy", "rain", "storm", "snow", "fog"]
Placement = Literal["anywhere", "on_hill", "by_river", "centre", "on_coast", "by_water", "overhead"]
Behaviour = Literal["idle", "wander", "flee", "follow", "patrol", "circle"]
Style = Literal["stylised", "painterly", "realistic"]

RGB = Annotated[tuple[float, float, float], Field(description="sRGB in [0, 1]")]


class SpecError(ValueError):
    """A WorldSpec could not be built; the message names the field and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _check_rgb(v: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
    if v is not None and not all(0.0 <= c <= 1.0 for c in v):
        raise ValueError(f"colour {v} must be sRGB with each channel in [0, 1]")
    return v


class BiomeWeight(_Strict):
    biome: Biome
    weight: float = Field(1.0, gt=0.0, le=1.0)


class Terrain(_Strict):
    """Heightfield shape. Heights in metres; water_level is the sea/lake surface height."""

    roughness: float = Field(0.5, ge=0.0, le=1.0)
    height_scale: float = Field(18.0, ge=0.0, le=300.0)
    water_level: float = Field(-4.0, ge=-100.0, le=100.0)
    rivers: bool = False
    lakes: bool = False
    ocean: bool = False


class Palette(_Strict):
    """Colour intent. `mood` picks a grade; explicit colours override the biome's defaults."""

    mood: Literal[
        "neutral", "warm", "cool", "golden", "eerie", "cosy", "vivid", "muted", "dark"
    ] = "neutral"
    saturation: float = Field(1.0, ge=0.0, le=2.0)
    brightness: float = Field(1.0, ge=0.2, le=2.0)
    tint: RGB | None = None
    accent: RGB | None = None

    _rgb = field_validator("tint", "accent")(_check_rgb)


class WeatherSpec(_Strict):
    kind: Weather = "clear"
    fog_density: float = Field(0.0, ge=0.0, le=1.0)
    wind: float = Field(0.3, ge=0.0, le=1.0)


class PropSpec(_Strict):
    """Scattered props: `density` is instances per 100 m² of suitable ground."""

    kind: str
    density: float = Field(1.0, ge=0.0, le=50.0)
    label: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_prop(cls, v: str) -> str:
        if v not in PROP_KINDS:
            raise ValueError(f"unknown prop kind {v!r}; use one of {', '.join(PROP_KINDS)}")
        return v


class LandmarkSpec(_Strict):
    """A notable structure placed by a relation, near spawn and discoverable."""

    kind: str
    count: int = Field(1, ge=1, le=20)
    placement: Placement = "anywhere"
    label: str | None = None

    _known = field_validator("kind")(PropSpec._known_prop.__func__)  # type: ignore[attr-defined]


class CharacterSpec(_Strict):
    """Characters and creatures: a kind, how many, and what they do."""

    kind: str
    count: int = Field(1, ge=1, le=100)
    behaviour: Behaviour = "wander"
    label: str | None = None
    color: RGB | None = None

    _rgb = field_validator("color")(_check_rgb)

    @field_validator("kind")
    @classmethod
    def _known_creature(cls, v: str) -> str:
        if v not in CREATURE_KINDS:
            raise ValueError(f"unknown creature kind {v!r}; use one of {', '.join(CREATURE_KINDS)}")
        return v


class Understood(_Strict):
    """What one phrase of the input became, so the UI can show "understood: ..."."""

    phrase: str
    became: str
    via: Literal[
        "lexicon", "embedding", "number", "negation", "colour", "mood", "default", "generic"
    ]
    score: float | None = None


class WorldSpec(_Strict):
    """Everything the world engine needs. JSON round-trips exactly (`to_json` / `from_json`)."""

    version: int = SPEC_VERSION
    prompt: str = ""
    seed: int = Field(0, ge=0, lt=2**63)
    biomes: list[BiomeWeight] = Field(
        default_factory=lambda: [BiomeWeight(biome="meadow")], min_length=1
    )
    terrain: Terrain = Field(default_factory=Terrain)
    palette: Palette = Field(default_factory=Palette)
    hour: float = Field(10.0, ge=0.0, lt=24.0, description="Local solar time, hours")
    weather: WeatherSpec = Field(default_factory=WeatherSpec)
    props: list[PropSpec] = Field(default_factory=list)
    landmarks: list[LandmarkSpec] = Field(default_factory=list)
    characters: list[CharacterSpec] = Field(default_factory=list)
    style: Style = "stylised"
    understood: list[Understood] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Warnings for the user")

    @field_validator("version")
    @classmethod
    def _supported(cls, v: int) -> int:
        if v > SPEC_VERSION:
            raise ValueError(
                f"spec version {v} is newer than this Tidepool understands ({SPEC_VERSION}); "
                "upgrade Tidepool to open it"
            )
        if v < 1:
            raise ValueError(f"spec version {v} is invalid; versions start at 1")
        return v

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> WorldSpec:
        """Parse and validate; raise SpecError naming the bad field and the fix."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as e:
            raise SpecError(describe_validation_error(e)) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorldSpec:
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise SpecError(describe_validation_error(e)) from None


def describe_validation_error(e: ValidationError) -> str:
    """One readable line per problem, naming the field path (Genesis-style wording)."""
    lines = []
    for err in e.errors():
        path = ".".join(str(p) for p in err["loc"]) or "spec"
        if err["type"] == "extra_forbidden":
            lines.append(f"Unrecognized attribute '{path}': remove it or check its spelling.")
        elif err["type"] == "json_invalid":
            lines.append(f"not valid JSON: {err['msg']}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: {msg} (got {err.get('input')!r})")
    return "invalid WorldSpec: " + "; ".join(lines)
