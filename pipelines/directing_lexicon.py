"""The cue vocabulary of directing commands (what `pipelines.directing` matches first).

Nouns (creatures, people, landmarks, props), weather and hours come from `pipelines.lexicon`
(one vocabulary for prompts and commands); this module adds what only directing needs: the
verbs and phrases that name an intent, their inflections, number words, camera shot names,
playback phrases, and the example sentences MiniLM ranks a clause against when no cue matches.
"""

from __future__ import annotations

from pipelines.lexicon import (
    CREATURE_WORDS,
    HOUR_WORDS,
    LANDMARK_WORDS,
    PERSON_WORDS,
    PROP_WORDS,
    STOPWORDS,
    WEATHER_WORDS,
    stem,
)

INTENTS: tuple[str, ...] = (
    "time_of_day", "weather", "wind", "spawn", "remove", "move", "move_to", "follow", "flee",
    "attack", "emote", "say", "camera_shot", "camera_mode", "pause", "resume", "rewind",
    "back_to", "branch", "speed",
)  # fmt: skip
"""What one clause can mean. "move" moves a world object (a prop or landmark); "move_to" sends a
character somewhere. The last six are playback controls, not simulation events."""

# -- verbs: lemma -> intent -------------------------------------------------------------------

VERBS: dict[str, str] = {
    # characters go somewhere
    "walk": "move_to", "go": "move_to", "head": "move_to", "run": "move_to", "fly": "move_to",
    "land": "move_to", "travel": "move_to", "march": "move_to", "stroll": "move_to",
    "wander": "move_to", "hurry": "move_to", "rush": "move_to", "return": "move_to",
    "approach": "move_to", "reach": "move_to", "climb": "move_to", "gallop": "move_to",
    "trot": "move_to", "sprint": "move_to", "dash": "move_to", "swoop": "move_to",
    "perch": "move_to", "step": "move_to", "send": "move_to", "come": "move_to",
    "proceed": "move_to", "jog": "move_to", "soar": "move_to", "glide": "move_to",
    "sneak": "move_to", "limp": "move_to", "ride": "move_to", "descend": "move_to",
    # world edits
    "add": "spawn", "spawn": "spawn", "place": "spawn", "put": "spawn", "create": "spawn",
    "summon": "spawn", "appear": "spawn", "arrive": "spawn", "bring": "spawn",
    "build": "spawn", "drop": "spawn", "show up": "spawn", "materialise": "spawn",
    "materialize": "spawn", "emerge": "spawn", "conjure": "spawn", "release": "spawn",
    "remove": "remove", "delete": "remove", "despawn": "remove", "destroy": "remove",
    "erase": "remove", "get rid of": "remove", "take away": "remove", "disappear": "remove",
    "vanish": "remove", "banish": "remove", "eliminate": "remove", "clear away": "remove",
    "move": "move", "relocate": "move", "shift": "move", "drag": "move", "push": "move",
    "carry": "move",
    # characters act
    "follow": "follow", "accompany": "follow", "trail": "follow", "tail": "follow",
    "shadow": "follow", "chase": "follow", "escort": "follow", "tag along": "follow",
    "flee": "flee", "run away": "flee", "escape": "flee", "scatter": "flee", "retreat": "flee",
    "run off": "flee", "get away": "flee", "bolt": "flee", "panic": "flee", "run from": "flee",
    "hide from": "flee",
    "attack": "attack", "fight": "attack", "charge": "attack", "assault": "attack",
    "strike": "attack", "bite": "attack", "hit": "attack", "ambush": "attack",
    "pounce": "attack", "lunge": "attack", "battle": "attack", "duel": "attack",
    "breathe fire": "attack",
    "say": "say", "shout": "say", "yell": "say", "whisper": "say", "tell": "say",
    "announce": "say", "exclaim": "say", "mutter": "say", "call out": "say", "cry": "say",
    "greet": "say", "speak": "say",
}  # fmt: skip

EMOTE_VERBS: dict[str, str] = {
    "jump": "jump", "leap": "jump", "hop": "jump", "wave": "wave", "wave at": "wave",
    "dance": "dance", "sit": "sit", "sit down": "sit", "kneel": "sit", "rest": "sit",
    "nod": "nod", "bow": "bow", "curtsy": "bow", "look at": "look", "look": "look",
    "stare at": "look", "glance at": "look", "watch": "look", "turn to": "look",
    "gaze at": "look", "face": "look",
}  # fmt: skip

AUX_VERBS = frozenset({"make", "have", "let", "get", "order", "ask", "command", "tell", "want"})
"""Causatives before a subject: "make the knight walk", "have the dog follow me"."""

IRREGULAR_FORMS: dict[str, str] = {
    "went": "go", "goes": "go", "going": "go", "gone": "go", "ran": "run", "running": "run",
    "flew": "fly", "flies": "fly", "flying": "fly", "flown": "fly", "came": "come",
    "comes": "come", "coming": "come", "said": "say", "says": "say", "saying": "say",
    "fought": "fight", "fighting": "fight", "brought": "bring", "sat": "sit",
    "sitting": "sit", "put": "put", "puts": "put", "putting": "put", "rode": "ride",
    "struck": "strike", "bit": "bite", "hid": "hide", "told": "tell", "sent": "send",
    "fled": "flee", "leapt": "leap", "rolls": "roll", "rolled": "roll", "rolling": "roll",
    "got": "get", "gets": "get", "getting": "get", "stepping": "step", "stepped": "step",
    "drops": "drop", "dropped": "drop", "dropping": "drop", "hops": "hop", "hopped": "hop",
    "hopping": "hop", "hits": "hit", "hitting": "hit", "shifts": "shift", "cries": "cry",
    "cried": "cry", "hurries": "hurry", "hurried": "hurry", "carries": "carry",
    "carried": "carry", "lets": "let", "letting": "let", "dies": "die", "stops": "stop",
    "stopped": "stop", "stopping": "stop", "begins": "begin", "began": "begin",
}  # fmt: skip

# -- environment ------------------------------------------------------------------------------

HOURS: dict[str, float] = {
    **HOUR_WORDS, "day": 12.0, "daylight": 12.0, "morning light": 8.0, "late night": 2.0,
    "early evening": 19.0, "night time": 23.0, "sun up": 6.5, "sun down": 19.0,
    "dark": 23.0, "darkness": 23.0, "bright day": 12.0, "lunchtime": 12.5, "lunch time": 12.5,
    "teatime": 16.5, "small hours": 3.0, "pitch black": 0.5, "gloaming": 20.0,
}  # fmt: skip
"""Phrase -> local solar hour. Includes the prompt lexicon's hours."""

WEATHER: dict[str, str] = {
    **{k: v[0] for k, v in WEATHER_WORDS.items()}, "clear sky": "clear", "clear up": "clear",
    "clears up": "clear", "stop raining": "clear", "stop the rain": "clear",
    "stop snowing": "clear", "sunshine": "clear", "sun come out": "clear",
    "fair weather": "clear", "good weather": "clear", "nice weather": "clear",
    "rains": "rain", "pouring": "rain", "pour": "rain", "rainstorm": "storm",
    "snow": "snow", "snows": "snow", "snowy": "snow", "flurries": "snow", "flurry": "snow",
    "clouds": "cloudy", "cloud over": "cloudy", "grey": "cloudy", "fogs": "fog",
    "foggy": "fog", "thunderstorms": "storm", "lightning storm": "storm", "hail": "storm",
    "gale": "storm", "clear skies": "clear", "blue skies": "clear",
}  # fmt: skip
"""Phrase -> weather kind (studio.spec.Weather)."""

WIND: dict[str, float] = {
    "windy": 0.8, "wind picks up": 0.8, "wind pick up": 0.8, "strong wind": 0.9,
    "strong winds": 0.9, "gusty": 0.9, "gust": 0.9, "gusts": 0.9, "gale force": 1.0,
    "breeze": 0.4, "breezy": 0.5, "light breeze": 0.3, "gentle breeze": 0.3,
    "wind dies down": 0.05, "wind die down": 0.05, "no wind": 0.0, "calm the wind": 0.05,
    "still air": 0.0, "stop the wind": 0.0, "wind stops": 0.0, "wind stop": 0.0,
    "howling wind": 1.0, "calm wind": 0.1, "wind calms": 0.1, "wind": 0.7,
    "blustery": 0.9,
}  # fmt: skip
"""Phrase -> wind strength in [0, 1]."""

# -- camera -----------------------------------------------------------------------------------

SHOTS: dict[str, str] = {
    "orbit": "orbit", "orbit around": "orbit", "circle around": "orbit", "circle the camera": "orbit",
    "360": "orbit", "spin around": "orbit", "revolve around": "orbit", "orbiting shot": "orbit",
    "wide shot": "wide", "wide": "wide", "establishing shot": "wide", "establishing": "wide",
    "long shot": "wide", "extreme wide": "wide", "master shot": "wide", "full shot": "wide",
    "close up": "close_up", "closeup": "close_up", "close shot": "close_up",
    "tight shot": "close_up", "extreme close up": "close_up", "detail shot": "close_up",
    "over the shoulder": "over_shoulder", "over shoulder": "over_shoulder",
    "ots": "over_shoulder", "low angle": "low_angle", "from below": "low_angle",
    "worm eye": "low_angle", "worms eye": "low_angle", "high angle": "high_angle",
    "from above": "high_angle", "bird eye": "high_angle", "birds eye": "high_angle",
    "top down": "high_angle", "overhead shot": "high_angle", "tracking shot": "tracking",
    "tracking": "tracking", "track": "tracking", "follow shot": "tracking",
    "dolly in": "dolly_in", "push in": "dolly_in", "zoom in": "dolly_in",
    "move in on": "dolly_in", "dolly out": "dolly_out", "pull out": "dolly_out",
    "pull back": "dolly_out", "zoom out": "dolly_out", "dolly back": "dolly_out",
    "crane up": "crane_up", "boom up": "crane_up", "rise up": "crane_up",
    "pedestal up": "crane_up", "jib up": "crane_up", "crane shot": "crane_up",
    "crane down": "crane_down", "boom down": "crane_down", "jib down": "crane_down",
    "pedestal down": "crane_down", "static shot": "static", "static": "static",
    "locked off": "static", "hold the shot": "static", "still shot": "static",
    "medium shot": "static", "pan": "pan", "pan across": "pan", "panning shot": "pan",
    "cut to": "static", "switch to": "static", "show me": "static", "frame": "static",
    "focus on": "close_up", "point the camera at": "static",
}  # fmt: skip
"""Phrase -> CameraShot.shot. "cut to" / "switch to" are cuts (transition "cut")."""

CUT_WORDS = frozenset({"cut to", "switch to"})
CUT_MARKERS = frozenset({"cut", "snap", "instantly", "immediately"})
"""Words anywhere in a shot's clause that ask for a cut ("hard cut to a close-up")."""
BLEND_MARKERS: dict[str, float | None] = {
    "blend": None, "ease": None, "transition": None, "smoothly": None, "smooth": None,
    "slowly": 3.0, "slow": 3.0, "gently": 3.0, "gradually": 3.0, "gentle": 3.0,
    "drift": 3.0, "glide": 3.0, "quickly": 0.5, "fast": 0.5, "swiftly": 0.5, "whip": 0.5,
}  # fmt: skip
"""Words that ask for a blend, and its length in seconds (None: the default `BLEND_S`).
A shot change that names neither a cut nor a blend blends over the default: a camera
operator moving to the next set-up, which the director can always make a cut by saying so."""
RUN_CUES = frozenset({"run", "sprint", "dash", "rush", "hurry", "gallop", "jog", "charge"})
RUN_MARKERS = frozenset({"quickly", "fast", "hurriedly", "running", "swiftly", "speedily"})
"""Move-to cues and words that make a character run (run speed and gait) instead of walk."""

CAMERA_MODES: dict[str, str] = {
    "first person": "first", "1st person": "first", "fps": "first", "pov": "first",
    "point of view": "first", "my eyes": "first", "third person": "third",
    "3rd person": "third", "behind me": "third", "chase cam": "third",
    "chase camera": "third", "free camera": "free", "free cam": "free", "freecam": "free",
    "free fly": "free", "free look": "free", "free roam camera": "free", "free": "free",
    "detach the camera": "free", "detached camera": "free",
}  # fmt: skip

# -- playback ---------------------------------------------------------------------------------

PLAYBACK: dict[str, str] = {
    "pause": "pause", "freeze": "pause", "stop time": "pause", "hold on": "pause",
    "hold it": "pause", "wait": "pause", "halt": "pause", "freeze frame": "pause",
    "resume": "resume", "play": "resume", "continue": "resume", "unpause": "resume",
    "go on": "resume", "carry on": "resume", "keep going": "resume", "action": "resume",
    "start time": "resume", "unfreeze": "resume", "rewind": "rewind", "go back": "rewind",
    "back up": "rewind", "step back": "rewind", "undo": "rewind", "back to": "back_to",
    "return to": "back_to", "rewind to": "back_to", "go back to": "back_to",
    "jump back to": "back_to", "branch": "branch", "try it differently": "branch",
    "try that differently": "branch", "try again": "branch", "try something else": "branch",
    "new take": "branch", "another take": "branch", "take two": "branch", "redo": "branch",
    "do it again": "branch", "alternate take": "branch", "fork": "branch", "retake": "branch",
    "slow motion": "speed", "slow mo": "speed", "slowmo": "speed", "slow down time": "speed",
    "slow time": "speed", "slow it down": "speed", "normal speed": "speed",
    "real time": "speed", "realtime": "speed", "speed up": "speed", "fast forward": "speed",
    "double speed": "speed", "bullet time": "speed", "half speed": "speed",
}  # fmt: skip

SPEED_RATES: dict[str, float] = {
    "slow motion": 0.25, "slow mo": 0.25, "slowmo": 0.25, "slow down time": 0.25,
    "slow time": 0.25, "slow it down": 0.5, "normal speed": 1.0, "real time": 1.0,
    "realtime": 1.0, "speed up": 2.0, "fast forward": 4.0, "double speed": 2.0,
    "bullet time": 0.1, "half speed": 0.5,
}  # fmt: skip

DEFAULT_REWIND_S = 5.0
"""What a bare "rewind" goes back by (said in the understood text, never hidden)."""

# -- numbers ----------------------------------------------------------------------------------

NUMBERS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "single": 1, "another": 1, "two": 2, "pair": 2, "couple": 2,
    "three": 3, "few": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "several": 4, "some": 3,
    "pack": 4, "herd": 5, "flock": 6, "group": 3, "bunch": 4, "crowd": 8, "band": 3,
}  # fmt: skip

SECONDS_UNITS: dict[str, float] = {
    "second": 1.0, "sec": 1.0, "s": 1.0, "minute": 60.0, "min": 60.0, "moment": 3.0,
}  # fmt: skip

# -- entities ---------------------------------------------------------------------------------

PLAYER_WORDS = frozenset({"me", "i", "myself", "player", "us", "you", "camera", "viewer"})
ALL_WORDS = frozenset({"everyone", "everybody", "all", "everything", "creatures", "animals"})
GROUP_PEOPLE = frozenset({"villager", "people", "person", "crowd", "folk", "townsfolk",
                          "human", "villagers", "peasant", "townspeople"})  # fmt: skip
"""Person words that, in the plural, mean every humanoid rather than one labelled character."""

CREATURES: dict[str, tuple[str, str | None]] = {
    **CREATURE_WORDS, "wolve": ("wolf", None), "crows": ("bird", "crow"),
    "beast": ("dragon", None), "monster": ("dragon", None), "steed": ("horse", None),
    "doggo": ("dog", None), "pup": ("dog", "pup"),
}  # fmt: skip
PERSONS: tuple[str, ...] = (*PERSON_WORDS, "guy", "lady", "girl", "boy", "mage", "smith",
                            "innkeeper", "baker", "captain", "old man", "old woman",
                            "townsfolk", "folk", "human", "villagers", "townspeople")  # fmt: skip
LANDMARKS: dict[str, str] = {
    **{k: v[0] for k, v in LANDMARK_WORDS.items()}, "keep": "tower", "belfry": "tower",
    "church": "house", "chapel": "house", "fire pit": "campfire", "firepit": "campfire",
    "fountain": "well", "water well": "well", "stones": "pillar", "wagon": "cart",
    "door": "gate", "entrance": "gate", "ruin": "ruins", "ruins": "ruins", "tents": "tent",
}  # fmt: skip
PROPS: dict[str, str] = {**PROP_WORDS, "tree": "broadleaf_tree", "trees": "broadleaf_tree"}
PLACE_WORDS: dict[str, str] = {
    "ridge": "hill", "hill": "hill", "hilltop": "hill", "mountain": "hill", "river": "river",
    "lake": "lake", "shore": "shore", "beach": "shore", "forest": "forest", "woods": "forest",
    "meadow": "meadow", "clearing": "meadow", "square": "centre", "center": "centre",
    "centre": "centre", "village": "village", "sky": "sky", "here": "player",
    "there": "there", "spawn": "spawn",
}  # fmt: skip
"""Terrain places (not entities): resolved against the world's terrain when there is one."""

PREPOSITIONS = (
    "next to", "close to", "in front of", "on top of", "to the top of", "the top of",
    "up to", "over to", "back to", "away from", "towards", "toward", "beside", "near",
    "by", "at", "to", "onto", "on", "into", "in", "around", "behind", "from", "atop",
    "with", "of", "upon", "across", "past", "inside",
)  # fmt: skip

FILLER = STOPWORDS | {
    "please",
    "now",
    "then",
    "okay",
    "ok",
    "hey",
    "slowly",
    "quickly",
    "fast",
    "suddenly",
    "gently",
    "immediately",
    "just",
    "can",
    "could",
    "you",
    "would",
    "should",
    "it",
    "the",
    "some",
    "camera",
    "shot",
    "view",
    "angle",
    "lets",
    "let's",
    "we",
}

# -- MiniLM exemplars (for clauses no cue matched) --------------------------------------------

EXEMPLARS: dict[str, tuple[str, ...]] = {
    "time_of_day": ("make it night", "change the time of day to morning", "it gets dark",
                    "the sun goes down", "the sun comes up", "turn the lights off in the sky"),
    "weather": ("start raining", "the weather turns bad", "make it snow", "the sky clears",
                "bad weather is coming", "precipitation begins"),
    "wind": ("the wind picks up", "make it windy", "the air becomes still"),
    "spawn": ("add a campfire", "put a tent over there", "a horse appears", "bring in some sheep",
              "introduce a new character"),
    "remove": ("remove the tent", "get rid of the cart", "make the wolf disappear",
               "take that out of the scene"),
    "move": ("move the cart next to the gate", "relocate the tent to the well"),
    "move_to": ("the knight walks to the tower", "the dragon lands on the tower",
                "the horse goes over to the well", "the knight makes his way to the gate"),
    "follow": ("the dog follows me", "the dog comes with me", "stay close to me"),
    "flee": ("the villagers run away from the dragon", "the deer are frightened and bolt"),
    "attack": ("the wolf attacks the knight", "the dragon goes for the villagers"),
    "emote": ("the knight waves", "the villager dances", "the knight sits down", "celebrate"),
    "say": ("the blacksmith says welcome", "the knight speaks"),
    "camera_shot": ("orbit the dragon", "a close up of the knight", "a wide shot",
                    "give me a cinematic view of the tower", "film the knight from below"),
    "camera_mode": ("switch to first person", "third person view", "let me control the camera"),
    "pause": ("pause", "stop everything", "hold everything"),
    "resume": ("resume", "let time run again", "unpause the world"),
    "rewind": ("rewind five seconds", "go back a little", "undo the last few seconds"),
    "back_to": ("back to when the dragon landed",),
    "branch": ("try it differently", "let's try another version", "do a different take"),
    "speed": ("slow motion", "make time slower", "speed things up"),
}  # fmt: skip

MINILM_ACCEPT = 0.62
"""Cosine similarity a clause needs with an intent's exemplar to be read as that intent."""
MINILM_AMBIGUOUS = 0.04
"""Intents scoring within this of the best are offered as alternatives."""


def inflections(lemma: str) -> set[str]:
    """Surface forms of a (possibly multi-word) verb phrase: "run away" -> "runs away", ..."""
    head, _, rest = lemma.partition(" ")
    forms = {head, head + "s", head + "ed", head + "ing", head + "es"}
    if head.endswith("e"):
        forms |= {head + "d", head[:-1] + "ing"}
    if head.endswith("y") and head[-2:-1] not in "aeiou":
        forms |= {head[:-1] + "ies", head[:-1] + "ied"}
    if (
        len(head) >= 3
        and head[-1] not in "aeiouwxy"
        and head[-2] in "aeiou"
        and head[-3] not in "aeiou"
    ):
        forms |= {head + head[-1] + "ing", head + head[-1] + "ed"}
    forms |= {k for k, v in IRREGULAR_FORMS.items() if v == head}
    return {f"{f} {rest}".strip() for f in forms}


def noun_key(word: str) -> str:
    return stem(word)
