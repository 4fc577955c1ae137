"""The English vocabulary `text_to_spec` grounds prompts in.

Every phrase maps to one or more typed `Concept`s naming an item of the `WorldSpec` vocabulary
(studio.spec: BIOMES, PROP_KINDS, CREATURE_KINDS, Weather, Placement, Behaviour, Palette.mood).
Phrases are stored stemmed (see `stem`), so "wolves" finds "wolf" and "palm trees" finds
"palm tree". What a biome brings by default (a pine forest -> many conifers) lives in
`BIOME_DEFAULTS`; the world engine reads only the finished spec.

Some common words are deliberately absent (e.g. "spruce", "stallion", "pebbles", "fungi"): the
MiniLM embedding fallback (pipelines.embeddings) is expected to ground them, and tests check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ConceptKind = Literal[
    "biome",  # value: a Biome; number: weight (1 explicit noun, 0.5 implied)
    "prop",  # value: a scatter prop kind (nature)
    "landmark",  # value: a structure kind
    "creature",  # value: a creature kind; label: the person word for humanoids
    "group",  # value: tree | people | animal | building | water | rock | plant
    "weather",  # value: a Weather; number: fog density
    "hour",  # number: hours
    "terrain",  # value: a TERRAIN_PRESETS key
    "water",  # value: rivers | lakes | ocean
    "mood",  # value: a MOODS key
    "wind",  # number: wind in [0, 1]
    "colour",  # value: a COLOURS key
    "quantity",  # lo/hi: count range; value: "exact" | "range" | "few" | "many"
    "negation",
    "placement",  # value: a Placement
    "behaviour",  # value: a Behaviour
    "style",  # value: a Style
    "modifier",  # an adjective kept only as part of a label ("wooden", "crooked")
    "scene",  # words that name the whole ("world", "scene", "landscape"): ignored quietly
]


@dataclass(frozen=True)
class Concept:
    """One vocabulary item a phrase stands for."""

    kind: ConceptKind
    value: str = ""
    label: str | None = None
    number: float | None = None
    lo: int = 0
    hi: int = 0


@dataclass(frozen=True)
class BiomeDefaults:
    """What a biome brings when named: props (kind, density per 100 m²), terrain, characters."""

    props: tuple[tuple[str, float], ...]
    terrain: dict[str, float | bool] = field(default_factory=dict)
    characters: tuple[tuple[str, int, str], ...] = ()  # (kind, count, label)
    tree: str = "broadleaf_tree"  # what plain "trees" means here


# -- stemming -------------------------------------------------------------------------------

_IRREGULAR = {
    "wolves": "wolf", "leaves": "leaf", "elves": "elf", "dwarves": "dwarf", "shelves": "shelf",
    "children": "child", "men": "man", "women": "woman", "geese": "goose", "mice": "mouse",
    "cacti": "cactus", "oxen": "ox", "people": "people", "feet": "foot", "teeth": "tooth",
    "knives": "knife", "thieves": "thief", "calves": "calf", "halves": "half",
    "cliffs": "cliff", "dunes": "dune", "ruins": "ruin", "grass": "grass", "moss": "moss",
    "glass": "glass", "cypress": "cypress", "canvas": "canvas", "series": "series",
    "species": "species", "news": "news", "always": "always", "sometimes": "sometimes",
    "this": "this", "its": "its", "his": "his", "has": "has", "was": "was", "is": "is",
    "as": "as", "us": "us", "yes": "yes", "towards": "towards", "across": "across",
    "perhaps": "perhaps", "less": "less", "unless": "unless", "whereas": "whereas",
    "pass": "pass", "bus": "bus", "gas": "gas", "lens": "lens", "atlas": "atlas",
    "heavens": "heavens", "woods": "woods", "outskirts": "outskirts",
}  # fmt: skip


def stem(word: str) -> str:
    """A tiny plural stemmer: "wolves" -> "wolf", "trees" -> "tree", "bushes" -> "bush"."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    n = len(word)
    if n > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if n > 4 and word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if n > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


def key(phrase: str) -> tuple[str, ...]:
    """The lookup key of a phrase: lowercase words, stemmed."""
    return tuple(stem(w) for w in re.findall(r"[a-z]+", phrase.lower()))


# -- tables ---------------------------------------------------------------------------------

BIOME_WORDS: dict[str, tuple[str, float]] = {
    # phrase: (biome, weight)  weight 1 = the landscape itself, 0.5 = implied by a feature
    "pine forest": ("conifer_forest", 1), "conifer forest": ("conifer_forest", 1),
    "coniferous forest": ("conifer_forest", 1), "evergreen forest": ("conifer_forest", 1),
    "fir forest": ("conifer_forest", 1), "taiga": ("conifer_forest", 1),
    "boreal forest": ("conifer_forest", 1), "pinewood": ("conifer_forest", 1),
    "forest": ("broadleaf_forest", 1), "wood": ("broadleaf_forest", 1),
    "woods": ("broadleaf_forest", 1), "woodland": ("broadleaf_forest", 1),
    "oak forest": ("broadleaf_forest", 1), "grove": ("broadleaf_forest", 1),
    "jungle": ("broadleaf_forest", 1), "rainforest": ("broadleaf_forest", 1),
    "meadow": ("meadow", 1), "field": ("meadow", 1), "grassland": ("meadow", 1),
    "prairie": ("meadow", 1), "glade": ("meadow", 1), "clearing": ("meadow", 1),
    "plain": ("meadow", 1), "savanna": ("meadow", 1), "countryside": ("farmland", 1),
    "desert": ("desert", 1), "dune": ("desert", 1), "sand": ("desert", 0.5),
    "sandy": ("desert", 0.5), "oasis": ("desert", 1), "wasteland": ("desert", 1),
    "snow": ("snow", 1), "snowy": ("snow", 1), "snowfield": ("snow", 1), "tundra": ("snow", 1),
    "arctic": ("snow", 1), "icy": ("snow", 0.5), "frozen": ("snow", 0.5),
    "glacier": ("snow", 1), "winter": ("snow", 1), "wintry": ("snow", 1),
    "snow covered": ("snow", 1), "snow capped": ("snow", 0.5),
    "beach": ("beach", 1), "tropical beach": ("beach", 1), "shore": ("beach", 0.5),
    "island": ("beach", 1), "tropical": ("beach", 0.5), "lagoon": ("beach", 1),
    "swamp": ("swamp", 1), "marsh": ("swamp", 1), "bog": ("swamp", 1), "wetland": ("swamp", 1),
    "bayou": ("swamp", 1), "fen": ("swamp", 1), "swampy": ("swamp", 1), "marshy": ("swamp", 1),
    "alpine": ("alpine", 1), "highland": ("alpine", 1), "mountain": ("alpine", 0.5),
    "mountainous": ("alpine", 0.5), "peak": ("alpine", 0.5),
    "volcanic": ("volcanic", 1), "volcano": ("volcanic", 1), "lava": ("volcanic", 1),
    "lava field": ("volcanic", 1), "ash": ("volcanic", 0.5),
    "canyon": ("canyon", 1), "gorge": ("canyon", 1), "ravine": ("canyon", 1),
    "mesa": ("canyon", 1), "badland": ("canyon", 1),
    "farmland": ("farmland", 1), "farm": ("farmland", 1), "pasture": ("farmland", 1),
    "orchard": ("farmland", 1), "vineyard": ("farmland", 1), "ranch": ("farmland", 1),
    "village": ("village", 1), "medieval village": ("village", 1), "hamlet": ("village", 1),
    "town": ("village", 1), "settlement": ("village", 1), "fishing village": ("village", 1),
    "ruin": ("ruins", 1), "ancient ruin": ("ruins", 1), "ruined city": ("ruins", 1),
    "ruined": ("ruins", 0.5),
}  # fmt: skip

# Feature nouns (stemmed) that name a biome as the landscape but a landmark when they are a feature
# ("a desert canyon with ancient ruins": ruins as a landmark; "ruins at dawn": the biome).
BIOME_AS_FEATURE: dict[str, tuple[str, tuple[int, int]]] = {
    "ruin": ("ruins", (1, 1)),
    "village": ("house", (4, 6)),
}

PROP_WORDS: dict[str, str] = {
    "pine": "conifer", "pine tree": "conifer", "conifer": "conifer", "fir": "conifer",
    "fir tree": "conifer", "evergreen": "conifer", "cedar": "conifer", "redwood": "conifer",
    "oak": "broadleaf_tree", "oak tree": "broadleaf_tree", "birch": "broadleaf_tree",
    "maple": "broadleaf_tree", "willow": "broadleaf_tree", "beech": "broadleaf_tree",
    "ash tree": "broadleaf_tree", "elm": "broadleaf_tree", "apple tree": "broadleaf_tree",
    "cherry tree": "broadleaf_tree", "broadleaf tree": "broadleaf_tree",
    "deciduous tree": "broadleaf_tree", "palm": "palm", "palm tree": "palm",
    "coconut tree": "palm", "dead tree": "dead_tree", "bare tree": "dead_tree",
    "crooked tree": "dead_tree", "withered tree": "dead_tree", "dead wood": "dead_tree",
    "bush": "bush", "shrub": "bush", "hedge": "bush", "thicket": "bush", "bramble": "bush",
    "grass": "grass_tuft", "tall grass": "grass_tuft", "grass tuft": "grass_tuft",
    "flower": "flowers", "wildflower": "flowers", "blossom": "flowers", "tulip": "flowers",
    "daisy": "flowers", "rose": "flowers", "poppy": "flowers", "lavender": "flowers",
    "reed": "reeds", "rush": "reeds", "cattail": "reeds", "bulrush": "reeds",
    "mushroom": "mushroom", "toadstool": "mushroom", "rock": "rock", "stone": "rock",
    "boulder": "boulder", "cliff": "cliff", "crag": "cliff", "log": "log",
    "fallen log": "log", "fallen tree": "log", "stump": "log", "cactus": "cactus",
    "cacti": "cactus", "crystal": "crystal", "gem": "crystal", "fence": "fence",
    "lamp post": "lamp_post", "lamppost": "lamp_post", "street lamp": "lamp_post",
    "lantern": "lamp_post", "crate": "crate", "box": "crate", "barrel": "barrel",
}  # fmt: skip

NATURE_PROPS = frozenset(
    {"conifer", "broadleaf_tree", "palm", "dead_tree", "bush", "grass_tuft", "flowers", "reeds",
     "mushroom", "rock", "boulder", "cliff", "log", "cactus", "crystal", "fence", "lamp_post",
     "crate", "barrel"}
)  # fmt: skip
TREE_KINDS = ("conifer", "broadleaf_tree", "palm", "dead_tree")

LANDMARK_WORDS: dict[str, tuple[str, ...]] = {
    "house": ("house",), "cottage": ("house",), "cabin": ("house",), "home": ("house",),
    "farmhouse": ("house",), "inn": ("house",), "tavern": ("house",), "lodge": ("house",),
    "manor": ("house",), "building": ("house",), "barn": ("house",), "shop": ("house",),
    "hut": ("hut",), "shack": ("hut",), "hovel": ("hut",), "shed": ("hut",),
    "tower": ("tower",), "watchtower": ("tower",), "watch tower": ("tower",),
    "lighthouse": ("tower",), "spire": ("tower",), "turret": ("tower",),
    "wizard tower": ("tower",), "bell tower": ("tower",),
    "castle": ("castle_wall", "tower"), "fortress": ("castle_wall", "tower"),
    "fort": ("castle_wall", "tower"), "citadel": ("castle_wall", "tower"),
    "castle wall": ("castle_wall",), "wall": ("castle_wall",), "rampart": ("castle_wall",),
    "bridge": ("bridge",), "footbridge": ("bridge",), "well": ("well",),
    "wishing well": ("well",), "campfire": ("campfire",), "bonfire": ("campfire",),
    "fire": ("campfire",), "camp": ("tent", "campfire"), "tent": ("tent",),
    "pillar": ("pillar",), "column": ("pillar",), "obelisk": ("pillar",),
    "monolith": ("pillar",), "standing stone": ("pillar",), "temple": ("ruins", "pillar"),
    "shipwreck": ("shipwreck",), "wreck": ("shipwreck",), "wrecked ship": ("shipwreck",),
    "windmill": ("windmill",),
    "mill": ("windmill",), "statue": ("statue",), "monument": ("statue",),
    "idol": ("statue",), "cart": ("cart",), "wagon": ("cart",), "carriage": ("cart",),
    "gate": ("gate",), "archway": ("gate",), "arch": ("gate",), "portal": ("gate",),
}  # fmt: skip

# Where a landmark goes when the prompt does not say (and what it implies for the terrain).
DEFAULT_PLACEMENT: dict[str, str] = {
    "shipwreck": "on_coast", "bridge": "by_river", "windmill": "on_hill", "well": "centre",
    "statue": "centre", "castle": "on_hill", "fortress": "on_hill", "citadel": "on_hill",
    "lighthouse": "on_coast", "campfire": "centre",
}  # fmt: skip

CREATURE_WORDS: dict[str, tuple[str, str | None]] = {
    # phrase: (kind, label for the UI when the word is not the kind)
    "deer": ("deer", None), "stag": ("deer", "stag"), "doe": ("deer", "doe"),
    "fawn": ("deer", "fawn"), "elk": ("deer", "elk"), "reindeer": ("deer", "reindeer"),
    "wolf": ("wolf", None), "bird": ("bird", None), "crow": ("bird", "crow"),
    "raven": ("bird", "raven"), "eagle": ("bird", "eagle"), "hawk": ("bird", "hawk"),
    "owl": ("bird", "owl"), "gull": ("bird", "gull"), "seagull": ("bird", "seagull"),
    "sparrow": ("bird", "sparrow"), "dove": ("bird", "dove"), "pigeon": ("bird", "pigeon"),
    "parrot": ("bird", "parrot"), "swallow": ("bird", "swallow"), "bat": ("bird", "bat"),
    "dragon": ("dragon", None), "wyvern": ("dragon", "wyvern"), "drake": ("dragon", "drake"),
    "horse": ("horse", None), "pony": ("horse", "pony"), "mare": ("horse", "mare"),
    "dog": ("dog", None), "hound": ("dog", "hound"), "puppy": ("dog", "puppy"), "wolfhound": ("dog", "wolfhound"),
    "sheep": ("sheep", None), "lamb": ("sheep", "lamb"), "ewe": ("sheep", "ewe"),
}  # fmt: skip

PERSON_WORDS = (
    "villager", "knight", "blacksmith", "farmer", "person", "man", "woman", "child", "kid",
    "merchant", "guard", "soldier", "wizard", "witch", "traveller", "traveler", "pirate",
    "monk", "hunter", "fisherman", "shepherd", "king", "queen", "prince", "princess",
    "warrior", "bandit", "adventurer", "explorer", "hermit", "peasant",
    "miner", "sailor", "priest", "archer", "ranger", "elf", "dwarf", "lumberjack",
    "nomad", "sentry", "sentinel", "trader", "bard", "wanderer", "pilgrim", "stranger",
)  # fmt: skip
GUARD_WORDS = frozenset({"guard", "soldier", "knight", "sentry", "sentinel", "archer"})
FLYERS = frozenset({"bird", "dragon"})

GROUP_WORDS: dict[str, str] = {
    "tree": "tree", "people": "people", "human": "people", "crowd": "people",
    "villager": "people", "animal": "animal", "creature": "animal", "wildlife": "animal",
    "building": "building", "structure": "building", "water": "water", "plant": "plant",
    "vegetation": "plant", "rock": "rock", "stone": "rock",
}  # fmt: skip
"""Words that stand for several kinds; used by negation ("no trees" removes every tree kind)
and, for trees and people, resolved to one kind in a positive mention."""

WEATHER_WORDS: dict[str, tuple[str, float]] = {
    # phrase: (weather kind, fog density)
    "clear": ("clear", 0.0), "sunny": ("clear", 0.0), "cloudless": ("clear", 0.0),
    "clear sky": ("clear", 0.0), "blue sky": ("clear", 0.0),
    "cloudy": ("cloudy", 0.05), "overcast": ("cloudy", 0.1), "cloud": ("cloudy", 0.05),
    "grey sky": ("cloudy", 0.1), "gray sky": ("cloudy", 0.1), "gloomy": ("cloudy", 0.15),
    "rain": ("rain", 0.15), "rainy": ("rain", 0.15), "raining": ("rain", 0.15),
    "drizzle": ("rain", 0.2), "drizzly": ("rain", 0.2), "downpour": ("rain", 0.2),
    "shower": ("rain", 0.1), "wet": ("rain", 0.1),
    "storm": ("storm", 0.2), "stormy": ("storm", 0.2), "thunderstorm": ("storm", 0.2),
    "thunder": ("storm", 0.2), "lightning": ("storm", 0.2), "tempest": ("storm", 0.25),
    "snowing": ("snow", 0.15), "snowfall": ("snow", 0.15), "falling snow": ("snow", 0.15),
    "blizzard": ("snow", 0.5), "snowstorm": ("snow", 0.45), "snowflake": ("snow", 0.1),
    "fog": ("fog", 0.6), "foggy": ("fog", 0.6), "mist": ("fog", 0.35), "misty": ("fog", 0.35),
    "haze": ("fog", 0.25), "hazy": ("fog", 0.25), "thick fog": ("fog", 0.85),
    "dense fog": ("fog", 0.85), "heavy fog": ("fog", 0.85), "light mist": ("fog", 0.2),
    "murky": ("fog", 0.45), "smoky": ("fog", 0.3),
}  # fmt: skip
WEATHER_PRIORITY = ("clear", "cloudy", "fog", "rain", "snow", "storm")

HOUR_WORDS: dict[str, float] = {
    "dawn": 6.0, "daybreak": 6.0, "first light": 6.0, "sunrise": 6.5, "early morning": 7.0,
    "morning": 9.0, "mid morning": 10.0, "late morning": 11.0, "noon": 12.0,
    "midday": 12.0, "high noon": 12.0, "daytime": 12.0, "early afternoon": 13.5,
    "afternoon": 15.0, "late afternoon": 17.0, "golden hour": 18.5, "sunset": 18.5,
    "dusk": 19.5, "sundown": 19.0, "twilight": 20.0, "evening": 20.5, "nightfall": 21.0, "night": 23.0,
    "nighttime": 23.0, "midnight": 0.0, "moonlight": 23.0, "moonlit": 23.0,
    "starry": 23.0, "starlit": 23.0, "blue hour": 20.0,
}  # fmt: skip

TERRAIN_PRESETS: dict[str, dict[str, float]] = {
    "mountain": {"height_scale": 120.0, "roughness": 0.8},
    "mountain pass": {"height_scale": 100.0, "roughness": 0.75},
    "peak": {"height_scale": 140.0, "roughness": 0.85},
    "hill": {"height_scale": 35.0, "roughness": 0.5},
    "rolling hill": {"height_scale": 30.0, "roughness": 0.35},
    "flat": {"height_scale": 4.0, "roughness": 0.15},
    "plain": {"height_scale": 5.0, "roughness": 0.2},
    "canyon": {"height_scale": 70.0, "roughness": 0.7},
    "cliff": {"height_scale": 50.0, "roughness": 0.7},
    "valley": {"height_scale": 45.0, "roughness": 0.5},
    "plateau": {"height_scale": 40.0, "roughness": 0.4},
    "rugged": {"height_scale": 60.0, "roughness": 0.85},
    "gentle": {"height_scale": 12.0, "roughness": 0.25},
}
TERRAIN_WORDS: dict[str, str] = {
    "mountain": "mountain", "mountainous": "mountain", "mountain range": "mountain",
    "mountain pass": "mountain pass", "pass": "mountain pass", "peak": "peak",
    "summit": "peak", "hill": "hill", "hilly": "hill", "hillside": "hill", "hilltop": "hill",
    "rolling hill": "rolling hill", "flat": "flat", "plain": "plain", "lowland": "plain",
    "canyon": "canyon", "gorge": "canyon", "ravine": "canyon", "cliff": "cliff",
    "valley": "valley", "plateau": "plateau", "mesa": "plateau", "rugged": "rugged",
    "rocky": "rugged", "gentle": "gentle", "steep": "rugged", "crag": "cliff",
}  # fmt: skip

WATER_WORDS: dict[str, str] = {
    "river": "rivers", "stream": "rivers", "creek": "rivers", "brook": "rivers",
    "riverbank": "rivers", "waterfall": "rivers", "lake": "lakes", "pond": "lakes",
    "pool": "lakes", "loch": "lakes", "lagoon": "lakes", "ocean": "ocean", "sea": "ocean",
    "coast": "ocean", "coastline": "ocean", "coastal": "ocean", "beach": "ocean",
    "shore": "ocean", "bay": "ocean", "seaside": "ocean", "harbour": "ocean",
    "harbor": "ocean", "island": "ocean", "cove": "ocean",
}  # fmt: skip

MOODS: dict[str, dict[str, float | str]] = {
    # palette mood and its effect on light and fog
    "eerie": {"mood": "eerie", "saturation": 0.7, "brightness": 0.8, "fog": 0.3},
    "cosy": {"mood": "cosy", "saturation": 1.1, "brightness": 1.05, "fog": 0.0},
    "golden": {"mood": "golden", "saturation": 1.15, "brightness": 1.1, "fog": 0.0},
    "warm": {"mood": "warm", "saturation": 1.1, "brightness": 1.05, "fog": 0.0},
    "cool": {"mood": "cool", "saturation": 0.9, "brightness": 0.95, "fog": 0.0},
    "vivid": {"mood": "vivid", "saturation": 1.4, "brightness": 1.1, "fog": 0.0},
    "muted": {"mood": "muted", "saturation": 0.6, "brightness": 0.95, "fog": 0.0},
    "dark": {"mood": "dark", "saturation": 0.8, "brightness": 0.6, "fog": 0.1},
}
MOOD_WORDS: dict[str, str] = {
    "eerie": "eerie", "spooky": "eerie", "creepy": "eerie", "haunted": "eerie",
    "ominous": "eerie", "sinister": "eerie", "ghostly": "eerie", "mysterious": "eerie",
    "uncanny": "eerie", "cursed": "eerie", "cosy": "cosy", "cozy": "cosy", "snug": "cosy",
    "homely": "cosy", "inviting": "cosy", "welcoming": "cosy", "charming": "cosy",
    "golden": "golden", "golden light": "golden", "warm": "warm", "sunlit": "warm",
    "cold": "cool", "chilly": "cool", "bleak": "cool", "wintry light": "cool",
    "vivid": "vivid", "vibrant": "vivid", "colourful": "vivid", "colorful": "vivid",
    "lush": "vivid", "bright": "vivid", "muted": "muted", "pastel": "muted", "faded": "muted",
    "washed out": "muted", "desaturated": "muted", "dark": "dark", "grim": "dark",
    "moody": "dark", "dim": "dark", "sombre": "dark", "somber": "dark", "dreary": "dark",
}  # fmt: skip

WIND_WORDS: dict[str, float] = {
    "quiet": 0.1, "calm": 0.1, "peaceful": 0.1, "serene": 0.1, "tranquil": 0.1,
    "windy": 0.8, "breezy": 0.6, "gusty": 0.9, "windswept": 0.9, "blustery": 0.9,
}  # fmt: skip

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.8, 0.15, 0.12), "crimson": (0.7, 0.08, 0.15), "scarlet": (0.9, 0.15, 0.1),
    "orange": (0.95, 0.55, 0.15), "amber": (1.0, 0.75, 0.0), "yellow": (0.95, 0.85, 0.2),
    "gold": (0.85, 0.68, 0.2), "green": (0.2, 0.6, 0.25), "emerald": (0.1, 0.6, 0.35),
    "teal": (0.0, 0.5, 0.5), "cyan": (0.1, 0.8, 0.85), "turquoise": (0.25, 0.85, 0.8),
    "blue": (0.15, 0.35, 0.85), "azure": (0.2, 0.55, 1.0), "indigo": (0.3, 0.0, 0.5),
    "purple": (0.5, 0.2, 0.65), "violet": (0.55, 0.3, 0.8), "magenta": (0.85, 0.1, 0.6),
    "pink": (0.95, 0.55, 0.7), "white": (0.95, 0.95, 0.95), "black": (0.05, 0.05, 0.05),
    "grey": (0.5, 0.5, 0.5), "gray": (0.5, 0.5, 0.5), "silver": (0.75, 0.75, 0.8),
    "brown": (0.45, 0.3, 0.15), "rust": (0.6, 0.25, 0.1),
}  # fmt: skip
TINT_NOUNS = frozenset({"sky", "light", "glow", "sun", "sunlight", "moon", "haze", "fog",
                        "mist", "cloud", "water", "sea", "ocean", "lake", "river", "world"})  # fmt: skip

QUANTITY_WORDS: dict[str, tuple[int, int, str]] = {
    # phrase: (lo, hi, how)  "exact" counts are kept, ranges are drawn with the seed
    "a": (1, 1, "single"), "an": (1, 1, "single"), "one": (1, 1, "exact"),
    "single": (1, 1, "exact"), "lone": (1, 1, "exact"), "solitary": (1, 1, "exact"),
    "a single": (1, 1, "exact"), "a lone": (1, 1, "exact"), "two": (2, 2, "exact"),
    "a pair of": (2, 2, "exact"), "pair of": (2, 2, "exact"), "a couple of": (2, 2, "exact"),
    "twin": (2, 2, "exact"), "both": (2, 2, "exact"), "three": (3, 3, "exact"),
    "four": (4, 4, "exact"), "five": (5, 5, "exact"), "six": (6, 6, "exact"),
    "seven": (7, 7, "exact"), "eight": (8, 8, "exact"), "nine": (9, 9, "exact"),
    "ten": (10, 10, "exact"), "eleven": (11, 11, "exact"), "twelve": (12, 12, "exact"),
    "a dozen": (12, 12, "exact"), "dozen": (12, 12, "exact"), "twenty": (20, 20, "exact"),
    "fifty": (50, 50, "exact"), "hundred": (100, 100, "exact"),
    "a hundred": (100, 100, "exact"), "dozens of": (24, 36, "many"),
    "hundreds of": (200, 300, "many"), "thousands of": (2000, 3000, "many"),
    "a herd of": (5, 8, "range"), "herd of": (5, 8, "range"), "a flock of": (6, 12, "range"),
    "flock of": (6, 12, "range"), "a pack of": (4, 7, "range"), "pack of": (4, 7, "range"),
    "a group of": (3, 6, "range"), "group of": (3, 6, "range"), "a band of": (3, 6, "range"),
    "a crowd of": (8, 14, "range"), "a swarm of": (10, 20, "range"),
    "a family of": (3, 5, "range"), "a handful of": (2, 4, "few"), "a few": (2, 4, "few"),
    "few": (2, 4, "few"), "some": (3, 5, "range"), "several": (3, 5, "range"),
    "many": (8, 12, "many"), "lots of": (8, 12, "many"), "a lot of": (8, 12, "many"),
    "plenty of": (8, 12, "many"), "numerous": (8, 12, "many"), "countless": (15, 25, "many"),
    "a colony of": (6, 10, "range"), "a murder of": (6, 12, "range"),
    "scattered": (3, 6, "few"), "sparse": (2, 4, "few"), "dense": (8, 12, "many"),
    "thick": (8, 12, "many"), "abundant": (8, 12, "many"),
}  # fmt: skip

NEGATION_WORDS = ("no", "without", "not", "none", "never", "nor", "free of", "devoid of",
                  "lacking", "zero", "nobody", "no one", "treeless", "deserted", "empty",
                  "uninhabited", "abandoned")  # fmt: skip
NEGATION_IMPLIES: dict[str, str] = {
    # negation words that carry their own object
    "nobody": "people", "no one": "people", "treeless": "tree", "deserted": "people",
    "empty": "people", "uninhabited": "people", "abandoned": "people",
}  # fmt: skip

PLACEMENT_WORDS: dict[str, str] = {
    "on the hill": "on_hill", "on a hill": "on_hill", "on top of the hill": "on_hill",
    "on the hilltop": "on_hill", "atop the hill": "on_hill", "atop a hill": "on_hill",
    "on a hilltop": "on_hill", "on the ridge": "on_hill", "on a cliff": "on_hill",
    "on the cliff": "on_hill", "on the mountain": "on_hill", "on a mountain": "on_hill",
    "hilltop": "on_hill", "by the river": "by_river", "by a river": "by_river",
    "beside the river": "by_river", "along the river": "by_river", "near the river": "by_river",
    "on the riverbank": "by_river", "by the stream": "by_river", "over the river": "by_river",
    "across the river": "by_river", "by the lake": "by_water", "by a lake": "by_water",
    "beside the lake": "by_water", "near the lake": "by_water", "by the water": "by_water",
    "on the lake shore": "by_water", "by the pond": "by_water", "in the centre": "centre",
    "in the center": "centre", "in the middle": "centre", "at the centre": "centre",
    "at the center": "centre", "at the heart": "centre", "in the square": "centre",
    "central": "centre", "on the coast": "on_coast", "on the beach": "on_coast",
    "on the shore": "on_coast", "by the sea": "on_coast", "by the ocean": "on_coast",
    "on the sand": "on_coast", "washed up": "on_coast", "overhead": "overhead",
    "in the sky": "overhead", "above": "overhead", "high above": "overhead",
    "in the air": "overhead", "aloft": "overhead",
}  # fmt: skip
PLACEMENT_IMPLIES: dict[str, tuple[str, str] | None] = {
    # placement -> (what it implies, which field)
    "by_river": ("rivers", "water"),
    "on_coast": ("ocean", "water"),
    "on_hill": ("hill", "terrain"),
    "by_water": ("lakes", "water"),
}

BEHAVIOUR_WORDS: dict[str, str] = {
    "circling": "circle", "circle": "circle", "soaring": "circle", "flying": "circle",
    "gliding": "circle", "hovering": "circle", "wheeling": "circle", "flying overhead": "circle",
    "circling overhead": "circle", "grazing": "idle", "resting": "idle", "sleeping": "idle",
    "standing": "idle", "sitting": "idle", "sleep": "idle", "drinking": "idle",
    "idle": "idle", "waiting": "idle", "watching": "idle", "fishing": "idle",
    "working": "idle", "fleeing": "flee", "running away": "flee", "scattering": "flee",
    "fleeing from": "flee", "running": "flee", "escaping": "flee", "following": "follow",
    "trailing": "follow", "chasing": "follow", "hunting": "follow", "stalking": "follow",
    "guarding": "patrol", "patrolling": "patrol", "on patrol": "patrol",
    "standing guard": "patrol", "keeping watch": "patrol", "marching": "patrol",
    "wandering": "wander", "roaming": "wander", "walking": "wander", "strolling": "wander",
    "exploring": "wander", "prowling": "wander", "playing": "wander", "dancing": "wander",
    "trading": "wander", "bustling": "wander",
}  # fmt: skip

STYLE_WORDS: dict[str, str] = {
    "painterly": "painterly", "painted": "painterly", "watercolour": "painterly",
    "watercolor": "painterly", "oil painting": "painterly", "impressionist": "painterly",
    "realistic": "realistic", "photorealistic": "realistic", "photoreal": "realistic",
    "lifelike": "realistic", "cinematic": "realistic", "stylised": "stylised",
    "stylized": "stylised", "cartoon": "stylised", "cartoony": "stylised",
    "low poly": "stylised", "toon": "stylised", "ghibli": "painterly",
}  # fmt: skip

MODIFIER_WORDS = (
    "old", "ancient", "wooden", "stone", "tall", "small", "big", "large", "huge", "giant",
    "tiny", "little", "crooked", "ruined", "broken", "medieval", "rustic", "lonely", "great",
    "massive", "enormous", "majestic", "grand", "ornate", "mossy", "weathered", "crumbling",
    "rotting", "rickety", "derelict", "wild", "young", "baby", "brave", "fierce", "friendly",
    "gentle", "hungry", "sleepy", "fiery", "ice", "iron", "marble", "brick",
    "thatched", "red roofed", "fantasy", "magical", "magic", "enchanted", "mystic",
    "sacred", "forgotten", "lost", "hidden", "secret", "distant", "far", "nearby", "tiny",
    "twisted", "gnarled", "wide", "narrow", "long", "deep", "shallow", "winding",
    "new", "beautiful", "pretty", "lovely", "vast", "open", "idyllic", "sprawling",
)  # fmt: skip

SCENE_WORDS = (
    "world", "scene", "place", "landscape", "environment", "setting", "view", "picture",
    "image", "area", "land", "kind", "sort", "type", "bit", "location", "spot", "region",
    "somewhere", "something", "everything", "nothing", "thing", "time", "day", "sky",
    "ground", "light", "air", "middle", "centre", "center", "edge", "side", "top", "bottom",
    "distance", "background", "foreground", "corner", "path", "road", "trail", "way",
    "as well", "as well as", "well lit", "very well",
)  # fmt: skip

STOPWORDS = frozenset(
    """the of and or but with at in on by to from for into onto over under above below near
    beside along across through between among around behind beyond inside outside upon
    within without against toward towards up down off out about after before during while
    is are was were be been being am it its it's this that these those there here where
    when what which who whom whose how why all any each every other another such own same
    so than too very just only also even still then now again once more most much less
    least quite rather really almost nearly somewhat slightly my your our their his her
    him them they we you he she me us i do does did doing done has have had having can
    could would should will shall may might must let make made show create generate build
    render give want need like please imagine see look looking stand stands sit sits lie
    lies rise rises loom looms fly flies grow grows cover covered filled full surrounded
    overlooking overlook stretch stretching sprawling nestled set placed lit bathed under
    beneath whose if as like who which featuring including has have get got go going come
    coming seen seem seems feel feels some any lot lots bit far away""".split()
)
"""English function words and filler verbs: never grounded, never turned into props."""


def _merge(*tables: dict[tuple[str, ...], tuple[Concept, ...]]) -> dict:
    out: dict[tuple[str, ...], tuple[Concept, ...]] = {}
    for t in tables:
        for k, v in t.items():
            out[k] = out.get(k, ()) + v
    return out


def _table(words: dict | tuple, make) -> dict[tuple[str, ...], tuple[Concept, ...]]:
    items = words.items() if isinstance(words, dict) else ((w, w) for w in words)
    out: dict[tuple[str, ...], tuple[Concept, ...]] = {}
    for phrase, v in items:
        out[key(phrase)] = out.get(key(phrase), ()) + tuple(make(phrase, v))
    return out


def build_lexicon() -> dict[tuple[str, ...], tuple[Concept, ...]]:
    """Stemmed phrase -> concepts. Longer phrases win when parsing (greedy longest match)."""
    return _merge(
        _table(BIOME_WORDS, lambda p, v: [Concept("biome", v[0], number=float(v[1]))]),
        _table(PROP_WORDS, lambda p, v: [Concept("prop", v, label=p)]),
        _table(
            LANDMARK_WORDS,
            lambda p, v: [
                Concept("landmark", k, label=p if i == 0 else None) for i, k in enumerate(v)
            ],
        ),
        _table(CREATURE_WORDS, lambda p, v: [Concept("creature", v[0], label=v[1])]),
        _table(PERSON_WORDS, lambda p, v: [Concept("creature", "humanoid", label=p)]),
        _table(GROUP_WORDS, lambda p, v: [Concept("group", v, label=p)]),
        _table(WEATHER_WORDS, lambda p, v: [Concept("weather", v[0], number=v[1])]),
        _table(HOUR_WORDS, lambda p, v: [Concept("hour", p, number=v)]),
        _table(TERRAIN_WORDS, lambda p, v: [Concept("terrain", v)]),
        _table(WATER_WORDS, lambda p, v: [Concept("water", v)]),
        _table(MOOD_WORDS, lambda p, v: [Concept("mood", v)]),
        _table(WIND_WORDS, lambda p, v: [Concept("wind", p, number=v)]),
        _table(tuple(COLOURS), lambda p, v: [Concept("colour", p)]),
        _table(QUANTITY_WORDS, lambda p, v: [Concept("quantity", v[2], lo=v[0], hi=v[1])]),
        _table(NEGATION_WORDS, lambda p, v: [Concept("negation", NEGATION_IMPLIES.get(p, ""))]),
        _table(PLACEMENT_WORDS, lambda p, v: [Concept("placement", v)]),
        _table(BEHAVIOUR_WORDS, lambda p, v: [Concept("behaviour", v)]),
        _table(STYLE_WORDS, lambda p, v: [Concept("style", v)]),
        _table(MODIFIER_WORDS, lambda p, v: [Concept("modifier", p)]),
        _table(SCENE_WORDS, lambda p, v: [Concept("scene", p)]),
    )


LEXICON: dict[tuple[str, ...], tuple[Concept, ...]] = build_lexicon()
MAX_PHRASE_WORDS = max(len(k) for k in LEXICON)

# -- what a biome brings --------------------------------------------------------------------

BIOME_DEFAULTS: dict[str, BiomeDefaults] = {
    "conifer_forest": BiomeDefaults(
        props=(("conifer", 6.0), ("bush", 1.5), ("rock", 0.8), ("log", 0.4),
               ("grass_tuft", 2.0), ("mushroom", 0.4)),
        terrain={"roughness": 0.55, "height_scale": 25.0}, tree="conifer",
    ),
    "broadleaf_forest": BiomeDefaults(
        props=(("broadleaf_tree", 5.0), ("bush", 2.0), ("grass_tuft", 3.0), ("flowers", 0.8),
               ("log", 0.5), ("rock", 0.5), ("mushroom", 0.5)),
        terrain={"roughness": 0.45, "height_scale": 20.0},
    ),
    "meadow": BiomeDefaults(
        props=(("grass_tuft", 8.0), ("flowers", 4.0), ("broadleaf_tree", 0.4), ("bush", 0.6),
               ("rock", 0.4)),
        terrain={"roughness": 0.3, "height_scale": 12.0},
    ),
    "desert": BiomeDefaults(
        props=(("cactus", 0.8), ("rock", 1.0), ("boulder", 0.3), ("dead_tree", 0.1),
               ("bush", 0.3)),
        terrain={"roughness": 0.35, "height_scale": 22.0}, tree="palm",
    ),
    "snow": BiomeDefaults(
        props=(("conifer", 2.0), ("rock", 1.0), ("boulder", 0.4), ("dead_tree", 0.2)),
        terrain={"roughness": 0.55, "height_scale": 35.0}, tree="conifer",
    ),
    "beach": BiomeDefaults(
        props=(("palm", 1.5), ("rock", 0.5), ("grass_tuft", 1.0), ("log", 0.2)),
        terrain={"roughness": 0.25, "height_scale": 8.0, "water_level": 0.0, "ocean": True},
        tree="palm",
    ),
    "swamp": BiomeDefaults(
        props=(("dead_tree", 2.5), ("reeds", 6.0), ("mushroom", 1.5), ("broadleaf_tree", 0.8),
               ("log", 0.8), ("grass_tuft", 2.0)),
        terrain={"roughness": 0.15, "height_scale": 3.0, "water_level": 0.2, "lakes": True},
        tree="dead_tree",
    ),
    "alpine": BiomeDefaults(
        props=(("conifer", 1.5), ("rock", 2.0), ("boulder", 0.8), ("grass_tuft", 2.0),
               ("flowers", 0.6)),
        terrain={"roughness": 0.8, "height_scale": 110.0}, tree="conifer",
    ),
    "volcanic": BiomeDefaults(
        props=(("rock", 2.0), ("boulder", 1.0), ("dead_tree", 0.4), ("crystal", 0.2)),
        terrain={"roughness": 0.75, "height_scale": 80.0}, tree="dead_tree",
    ),
    "canyon": BiomeDefaults(
        props=(("rock", 1.5), ("boulder", 0.6), ("cliff", 0.4), ("cactus", 0.3), ("bush", 0.3)),
        terrain={"roughness": 0.7, "height_scale": 70.0},
    ),
    "farmland": BiomeDefaults(
        props=(("grass_tuft", 5.0), ("fence", 1.0), ("broadleaf_tree", 0.4), ("flowers", 1.0),
               ("bush", 0.4)),
        terrain={"roughness": 0.2, "height_scale": 8.0},
        characters=(("sheep", 4, "sheep"),),
    ),
    "village": BiomeDefaults(
        props=(("house", 0.6), ("fence", 1.2), ("well", 0.05), ("lamp_post", 0.4),
               ("barrel", 0.3), ("crate", 0.3), ("cart", 0.05), ("grass_tuft", 3.0),
               ("broadleaf_tree", 0.5), ("flowers", 1.0)),
        terrain={"roughness": 0.25, "height_scale": 10.0},
        characters=(("humanoid", 4, "villager"),),
    ),
    "ruins": BiomeDefaults(
        props=(("ruins", 0.4), ("pillar", 0.5), ("rock", 1.2), ("boulder", 0.4),
               ("grass_tuft", 3.0), ("bush", 0.8)),
        terrain={"roughness": 0.4, "height_scale": 18.0},
    ),
}  # fmt: skip
