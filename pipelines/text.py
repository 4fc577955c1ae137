"""Prompt -> `WorldSpec`: offline grounding of free English text.

`text_to_spec(prompt, seed)` reads a sentence such as "a misty pine forest with a river at dusk,
a wooden watchtower and a herd of deer" in three passes:

1. tokenise (unicode-normalised, lowercase, plural-stemmed) and match the lexicon
   (pipelines.lexicon), longest phrase first;
2. ground the leftover nouns with MiniLM embeddings (pipelines.embeddings) when the neural
   extra is installed; a noun that matches nothing well enough becomes a labelled *generic*
   prop, never a silently wrong asset;
3. walk the phrases once, attaching numbers ("three", "a herd of"), negation ("no trees"),
   colours, behaviours ("circling overhead") and placements ("on the hill") to the nouns they
   belong to, then assemble the spec with each biome's defaults (`lexicon.BIOME_DEFAULTS`).

Every phrase is recorded in `spec.understood` (what it became and how), warnings in
`spec.notes`; `describe_understood(spec)` renders the UI's "understood: ..." line. Parsing is
deterministic: the seed only picks counts inside ranges ("a herd of" -> 5-8).

Limits: an empty prompt raises `PromptError`; a prompt longer than `MAX_PROMPT_CHARS` (2,000)
characters is truncated at the last word boundary before the limit, with a note; text that
does not look like English yields a default meadow world and a note saying so.
"""

from __future__ import annotations

import logging
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from pipelines import embeddings
from pipelines.lexicon import (
    BIOME_AS_FEATURE,
    BIOME_DEFAULTS,
    COLOURS,
    DEFAULT_PLACEMENT,
    FLYERS,
    GUARD_WORDS,
    LEXICON,
    MAX_PHRASE_WORDS,
    MOODS,
    PLACEMENT_IMPLIES,
    STOPWORDS,
    TERRAIN_PRESETS,
    TINT_NOUNS,
    TREE_KINDS,
    WEATHER_PRIORITY,
    Concept,
    stem,
)
from studio.spec import (
    BiomeWeight,
    CharacterSpec,
    LandmarkSpec,
    Palette,
    PropSpec,
    Terrain,
    Understood,
    WeatherSpec,
    WorldSpec,
)

log = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 2000
"""Longer prompts are cut at the last word boundary before this many characters (with a note)."""
MAX_GENERIC = 8
MAX_LABEL_CHARS = 40
"""At most this many generic (unrecognised) nouns become props; the rest are listed in a note."""

EmbeddingsMode = Literal["auto", "minilm", "off"]

_CLAUSE_WORDS = frozenset(
    {"and", "with", "but", "while", "plus", "also", "then", "where", "featuring", "including"}
)
_ENTITY_KINDS = frozenset({"prop", "landmark", "creature", "group"})
_INVARIANT_PLURALS = frozenset({"deer", "sheep", "elk", "reindeer", "fish", "people"})
_ADJ_SUFFIXES = ("ly", "ous", "ful", "less", "ive", "able", "ible")
_PLURAL_DEFAULT = {
    "wolf": (3, 5), "deer": (4, 6), "bird": (5, 9), "sheep": (5, 8), "horse": (2, 4),
    "dog": (2, 3), "humanoid": (3, 5), "dragon": (2, 3),
}  # fmt: skip
_QTY_DENSITY = {"few": 0.4, "range": 1.0, "many": 2.0}
_GROUP_MEMBERS = {
    "tree": TREE_KINDS,
    "rock": ("rock", "boulder"),
    "plant": ("bush", "flowers", "grass_tuft", "reeds"),
    "building": ("house", "hut", "tower", "castle_wall", "windmill", "ruins", "tent"),
}
_HOUR_RE = re.compile(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?\b|\b(\d{1,2}):(\d{2})\b")


class PromptError(ValueError):
    """The prompt cannot be turned into a world; the message says what to write instead."""


# -- pass 1: tokens and lexicon matches -----------------------------------------------------


@dataclass
class _Item:
    kind: Literal["match", "word", "stop", "break", "head"]
    words: tuple[str, ...]  # surface words, lowercase
    concepts: tuple[Concept, ...] = ()
    plural: bool = False
    via: Literal["lexicon", "embedding", "generic"] = "lexicon"
    score: float | None = None
    fallback: tuple[Concept, ...] = ()  # what a head means if embeddings cannot ground it


def _tokens(text: str) -> list[str]:
    text = re.sub(r"['’]s\b", "", text)
    return re.findall(r"[^\W\d_]+|\d+|[,.;:!?()\n]", text)


def _match(tokens: list[str]) -> list[_Item]:
    items: list[_Item] = []
    stems = [stem(t) for t in tokens]
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if not (t.isalpha() or t.isdigit()):
            items.append(_Item("break", (t,)))
            i += 1
            continue
        for n in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            k = tuple(stems[i : i + n])
            if k in LEXICON and all(w.isalpha() for w in tokens[i : i + n]):
                last = tokens[i + n - 1]
                plural = stems[i + n - 1] != last or last in _INVARIANT_PLURALS
                items.append(_Item("match", tuple(tokens[i : i + n]), LEXICON[k], plural))
                i += n
                break
        else:
            if t.isdigit():
                value = int(t) if len(t) <= 7 else 10**7
                c = Concept("quantity", "exact", lo=value, hi=value)
                items.append(_Item("match", (t,), (c,)))
            elif t in _CLAUSE_WORDS:
                items.append(_Item("break", (t,)))
            elif t in STOPWORDS:
                items.append(_Item("stop", (t,)))
            else:
                items.append(_Item("word", (t,), plural=stems[i] != t))
            i += 1
    return items


def _is_entity(item: _Item) -> bool:
    return item.kind == "head" or (
        item.kind == "match" and any(c.kind in _ENTITY_KINDS for c in item.concepts)
    )


def _looks_like_noun(word: str) -> bool:
    if len(word) < 3 or not word.isalpha() or word in STOPWORDS:
        return False
    if len(word) > 5 and word.endswith((*_ADJ_SUFFIXES, "ing")):
        return False
    return not (len(word) > 4 and word.endswith("ed"))


def _mark_heads(items: list[_Item]) -> list[_Item]:
    """Join "birch trees" / "spruce trees" into one noun, demote nouns used as modifiers
    ("stone bridge"), and mark the unknown nouns to ground with embeddings (the heads)."""
    heads: list[_Item] = []
    for i, it in enumerate(items[:-1]):
        nxt = items[i + 1]
        if nxt.kind == "match" and _only(nxt, "group"):
            specific = it.kind == "match" and _is_entity(it) and not _only(it, "group")
            unknown = it.kind == "word" and not it.concepts and _looks_like_noun(it.words[0])
            if specific or unknown:
                it.words, it.plural, nxt.kind = it.words + nxt.words, nxt.plural, "stop"
                if unknown:
                    it.kind, it.fallback = "head", nxt.concepts
                    heads.append(it)
                continue
        if (
            it.kind == "match"
            and _is_entity(it)
            and _is_entity(nxt)
            and all(c.kind in _ENTITY_KINDS | {"modifier"} for c in it.concepts)
        ):
            it.kind, it.concepts = "word", (Concept("modifier", it.words[-1]),)
    run: list[_Item] = []
    for it in [*items, _Item("break", ("",))]:
        if it.kind == "word" or (it.kind == "match" and _only(it, "modifier", "colour")):
            run.append(it)
            continue
        if run and not _is_entity(it):
            unknown = [r for r in run if r.kind == "word" and not r.concepts]
            nouns = [r for r in unknown if _looks_like_noun(r.words[0])]
            if nouns:
                nouns[-1].kind = "head"
                heads.append(nouns[-1])
        run = []
    return heads


def _only(item: _Item, *kinds: str) -> bool:
    return bool(item.concepts) and all(c.kind in kinds for c in item.concepts)


# -- pass 2: embeddings for the leftover nouns ----------------------------------------------


def _ground_heads(heads: list[_Item], mode: EmbeddingsMode, notes: list[str]) -> None:
    if not heads:
        return
    use = mode == "minilm" or (mode == "auto" and embeddings.minilm_available())
    if mode == "auto" and not use:
        notes.append(
            "MiniLM embeddings are not installed (pip install 'tidepool-studio[neural]'), so "
            "words outside the built-in vocabulary became labelled generic props: "
            + ", ".join(" ".join(h.words) for h in heads)
        )
        log.info("MiniLM unavailable; lexicon only")
    # a head joined with a group noun ("spruce trees") is grounded on its own word, among
    # things of that group's kinds only
    kinds = [frozenset({"prop", "landmark", "creature"}) if h.fallback else None for h in heads]
    results = embeddings.ground([h.words[0] for h in heads], kinds=kinds) if use else []
    for h, g in zip(heads, results or [None] * len(heads), strict=True):
        if g is not None and g.accepted:
            h.concepts, h.via, h.score = g.concepts, "embedding", round(g.score, 3)
            log.debug("embedding: %s -> %s (%.2f)", " ".join(h.words), g.anchor, g.score)
        elif h.fallback:
            h.concepts = h.fallback  # "spruce trees": a tree of the biome, labelled "spruce tree"
        else:
            h.concepts, h.via = (Concept("prop", "generic", label=h.words[0]),), "generic"
            h.score = round(g.score, 3) if g is not None else None


# -- pass 3: attach modifiers and assemble --------------------------------------------------


@dataclass
class _Mention:
    kind: Literal["prop", "landmark", "creature", "generic"]
    values: tuple[str, ...]
    noun: str
    label: str
    phrase: str
    plural: bool
    via: Literal["lexicon", "embedding", "generic"]
    score: float | None = None
    qty: Concept | None = None
    colour: str | None = None
    behaviour: str | None = None
    placement: str | None = None
    placement_phrase: str | None = None


@dataclass
class _State:
    seed: int
    understood: list[Understood] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    biomes: dict[str, float] = field(default_factory=dict)
    biome_phrase: dict[str, str] = field(default_factory=dict)
    density: dict[str, float] = field(default_factory=dict)
    hour: tuple[float, str] | None = None
    weather: list[tuple[str, float]] = field(default_factory=list)
    terrain: list[str] = field(default_factory=list)
    water: set[str] = field(default_factory=set)
    mood: str | None = None
    wind: float | None = None
    style: str | None = None
    tint: tuple[float, float, float] | None = None
    accent: tuple[float, float, float] | None = None
    mentions: list[_Mention] = field(default_factory=list)
    negated: set[tuple[str, str]] = field(default_factory=set)
    ignored: list[str] = field(default_factory=list)

    via: str | None = None  # overrides `say`'s via while a grounded word is applied
    score: float | None = None

    def say(self, phrase: str, became: str, via: str, score: float | None = None) -> None:
        via, score = (self.via, self.score) if self.via is not None else (via, score)
        self.understood.append(Understood(phrase=phrase, became=became, via=via, score=score))  # type: ignore[arg-type]

    def pick(self, lo: int, hi: int, salt: str) -> int:
        return lo if hi <= lo else random.Random(f"{self.seed}:{salt}").randint(lo, hi)


@dataclass
class _Clause:
    index: int = 0
    qty: tuple[Concept, str] | None = None
    neg: str | None = None
    mods: list[tuple[str, bool]] = field(default_factory=list)  # (word, unknown)
    colour: str | None = None
    behaviour: tuple[str, str] | None = None
    placement: tuple[str, str] | None = None
    last: _Mention | None = None


def _walk(items: list[_Item], st: _State) -> None:
    cl = _Clause()
    for it in [*items, _Item("break", ("",))]:
        text = " ".join(it.words)
        if it.kind == "break":
            _end_clause(cl, st)
            cl = _Clause(index=cl.index + 1)
        elif it.kind == "stop":
            continue
        elif it.kind == "word":
            cl.mods.append((text, not it.concepts))
        elif any(c.kind in _ENTITY_KINDS for c in it.concepts):
            _entity(it, cl, st)
            rest = tuple(c for c in it.concepts if c.kind not in _ENTITY_KINDS | {"modifier"})
            if rest:
                _modifier(_Item("match", it.words, rest), text, cl, st)
        else:
            if it.via == "embedding":  # e.g. "sundown" -> an hour: say how it was found
                st.via, st.score = "embedding", it.score
            _modifier(it, text, cl, st)
            st.via, st.score = None, None


def _end_clause(cl: _Clause, st: _State) -> None:
    st.ignored += [w for w, unknown in cl.mods if unknown]
    if cl.colour is not None and st.tint is None:
        st.tint = COLOURS[cl.colour]
        st.say(cl.colour, "palette tint", "colour")


def _modifier(it: _Item, text: str, cl: _Clause, st: _State) -> None:
    for c in it.concepts:
        k = c.kind
        if k == "negation":
            if c.value:
                st.negated.add(("group", c.value))
                st.say(text, f"no {c.value}", "negation")
            else:
                cl.neg = text
        elif k == "quantity":
            cl.qty = (c, text)
        elif k == "colour":
            cl.colour = c.value
        elif k == "modifier" and len(it.concepts) == 1:
            cl.mods.append((text, False))
        elif k == "scene":
            if cl.colour is not None and c.value in TINT_NOUNS:
                st.tint = COLOURS[cl.colour]
                st.say(f"{cl.colour} {text}", "palette tint", "colour")
                cl.colour = None
        elif k == "behaviour":
            m = cl.last
            if m is not None and m.kind == "creature" and m.behaviour is None:
                m.behaviour = c.value
                st.say(text, f"{m.label}: {c.value}", "lexicon")
            else:
                cl.behaviour = (c.value, text)
        elif k == "placement":
            _place(c.value, text, cl, st)
        elif k == "hour":
            if cl.neg is None:
                _hour(float(c.number or 0.0), text, st)
        elif k == "weather":
            if cl.neg is not None:
                st.negated.add(("weather", c.value))
                st.say(f"{cl.neg} {text}", f"no {c.value}", "negation")
            else:
                st.weather.append((c.value, float(c.number or 0.0)))
                st.say(text, f"weather {c.value}" + _fog_text(c), "lexicon")
        elif k == "mood":
            st.mood = c.value
            st.say(text, f"mood {c.value}", "mood")
        elif k == "wind":
            st.wind = c.number
            st.say(text, f"wind {c.number:.1f}", "mood")
        elif k == "style":
            st.style = c.value
            st.say(text, f"style {c.value}", "lexicon")
        elif k == "terrain":
            if cl.neg is None:
                st.terrain.append(c.value)
                st.say(text, f"terrain: {c.value}", "lexicon")
        elif k == "water":
            if cl.neg is not None:
                st.negated.add(("water", c.value))
                st.say(f"{cl.neg} {text}", f"no {c.value}", "negation")
            elif c.value not in st.water:
                st.water.add(c.value)
                st.say(text, c.value, "lexicon")
        elif k == "biome":
            _biome(it, c, text, cl, st)
    if any(c.kind in ("biome", "terrain", "water") for c in it.concepts):
        cl.mods.clear()


def _fog_text(c: Concept) -> str:
    return f" (fog {c.number:.2f})" if c.value == "fog" and c.number else ""


def _hour(value: float, text: str, st: _State) -> None:
    if st.hour is None:
        st.hour = (value, text)
        st.say(text, f"hour {_clock(value)}", "lexicon")
    elif st.hour[0] != value:
        st.notes.append(f"Several times of day were named; used {st.hour[1]!r}, not {text!r}.")


def _clock(h: float) -> str:
    return f"{int(h):02d}:{round((h % 1) * 60):02d}"


def _biome(it: _Item, c: Concept, text: str, cl: _Clause, st: _State) -> None:
    word = stem(it.words[-1])
    if word in BIOME_AS_FEATURE and cl.index > 0 and st.biomes:
        kind, (lo, hi) = BIOME_AS_FEATURE[word]
        label = " ".join([w for w, _ in cl.mods] + [text])
        m = _Mention("landmark", (kind,), text, label, text, lo > 1, "lexicon")
        if lo > 1 and cl.qty is None:
            m.qty = Concept("quantity", "range", lo=lo, hi=hi)
        _add_mention(m, cl, st)
        return
    if cl.neg is not None:
        st.negated.add(("biome", c.value))
        st.say(f"{cl.neg} {text}", f"no {c.value}", "negation")
        return
    weight = float(c.number or 1.0)
    if weight > st.biomes.get(c.value, 0.0):
        st.biomes[c.value] = weight
        st.biome_phrase.setdefault(c.value, text)
        st.say(text, f"biome {c.value}" + ("" if weight >= 1 else " (partly)"), "lexicon")
    if cl.qty is not None and cl.qty[0].value in _QTY_DENSITY:
        st.density[c.value] = _QTY_DENSITY[cl.qty[0].value]
        st.say(cl.qty[1], f"{c.value} density x{st.density[c.value]:g}", "number")
    cl.qty = None


def _place(value: str, text: str, cl: _Clause, st: _State) -> None:
    m = cl.last
    if m is not None and m.kind in ("landmark", "generic") and m.placement is None:
        m.placement, m.placement_phrase = value, text
    elif m is not None and m.kind == "creature" and value == "overhead":
        if m.behaviour is None and m.values[0] in FLYERS:
            m.behaviour = "circle"
            st.say(text, f"{m.label}: circle", "lexicon")
    else:
        cl.placement = (value, text)
    implied = PLACEMENT_IMPLIES.get(value)
    if implied is not None:
        what, where = implied
        if where == "water" and what not in st.water:
            st.water.add(what)
            st.say(text, what, "lexicon")
        elif where == "terrain":
            st.terrain.append(what)


def _entity(it: _Item, cl: _Clause, st: _State) -> None:
    text = " ".join(it.words)
    if cl.neg is not None:
        for c in it.concepts:
            if c.kind in _ENTITY_KINDS:
                st.negated.add((c.kind if c.value != "generic" else "generic", c.value))
        what = ", ".join(sorted({c.value for c in it.concepts if c.kind in _ENTITY_KINDS}))
        st.say(f"{cl.neg} {text}", f"no {what}", "negation")
        cl.qty, cl.mods = None, []
        return
    concepts = [c for c in it.concepts if c.kind in _ENTITY_KINDS]
    first = next((c for c in concepts if c.kind != "group"), concepts[0])
    singular = stem(it.words[-1])
    mods = [w for w, _ in cl.mods]
    label = " ".join([*mods, " ".join(it.words[:-1]), singular]).strip()
    label = re.sub(r"\s+", " ", label)[:MAX_LABEL_CHARS]
    if first.kind == "group" and first.value == "water":
        st.water.add("lakes")
        st.say(text, "lakes", "lexicon")
        cl.mods = []
        return
    if first.kind == "group":
        first = _resolve_group(first)
        if first is None:
            st.say(text, "nothing to add (too general)", "lexicon")
            st.notes.append(f"{text!r} is too general to place; name the kind, e.g. 'deer'.")
            cl.mods = []
            return
    if first.value == "generic":
        kind: Literal["prop", "landmark", "creature", "generic"] = "generic"
        values: tuple[str, ...] = ("generic",)
    elif first.kind == "creature":
        kind, values = "creature", (first.value,)
    elif first.kind == "landmark":
        kind, values = "landmark", tuple(c.value for c in concepts if c.kind == "landmark")
    else:
        kind, values = "prop", (first.value,)
    if first.kind == "creature" and first.value == "humanoid" and first.label:
        label = " ".join([*mods, stem(first.label) if it.via == "lexicon" else singular])
    phrase = " ".join(p for p in ((cl.qty[1] if cl.qty else ""), " ".join(mods), text) if p)
    m = _Mention(kind, values, singular, label, phrase, it.plural, it.via, it.score)
    m.qty = cl.qty[0] if cl.qty else None
    m.colour = cl.colour
    if cl.behaviour is not None:
        m.behaviour = cl.behaviour[0]
    if cl.placement is not None and kind in ("landmark", "generic", "prop"):
        m.placement, m.placement_phrase = cl.placement
    cl.qty, cl.colour, cl.behaviour, cl.placement = None, None, None, None
    _add_mention(m, cl, st)


def _resolve_group(c: Concept) -> Concept | None:
    if c.value == "tree":
        return Concept("prop", "tree")  # resolved to the biome's tree later
    if c.value == "people":
        return Concept("creature", "humanoid", label="person")
    if c.value == "rock":
        return Concept("prop", "rock")
    if c.value == "plant":
        return Concept("prop", "bush")
    if c.value == "building":
        return Concept("landmark", "house")
    return None


def _add_mention(m: _Mention, cl: _Clause, st: _State) -> None:
    st.mentions.append(m)
    cl.last = m
    cl.mods = []


# -- assembly -------------------------------------------------------------------------------


def _count(m: _Mention, st: _State, *, cap: int, what: str) -> int:
    if m.qty is not None:
        n = st.pick(m.qty.lo, m.qty.hi, m.phrase)
    elif m.plural:
        lo, hi = _PLURAL_DEFAULT.get(m.values[0], (2, 4))
        n = st.pick(lo, hi, m.phrase)
    else:
        n = 1
    if n > cap:
        st.notes.append(
            f"Asked for {n} {m.label}; a world holds at most {cap} {what}, so made {cap}."
        )
        n = cap
    return max(n, 1)


def _assemble(prompt: str, st: _State) -> WorldSpec:
    if not st.biomes:
        st.biomes["meadow"] = 1.0
        st.say("(no landscape named)", "biome meadow", "default")
    biomes = sorted(st.biomes.items(), key=lambda kv: -kv[1])
    head = biomes[0][0]
    tree = BIOME_DEFAULTS[head].tree

    props: dict[str, PropSpec] = {}
    for biome, weight in biomes:
        d = BIOME_DEFAULTS[biome]
        factor = st.density.get(biome, 1.0)
        for kind, density in d.props:
            value = round(min(50.0, density * weight * (factor if kind in TREE_KINDS else 1.0)), 3)
            if kind not in props or props[kind].density < value:
                props[kind] = PropSpec(kind=kind, density=value)
        st.say(
            st.biome_phrase.get(biome, biome),
            f"{biome} brings " + ", ".join(k for k, _ in d.props[:4]),
            "default",
        )

    landmarks: list[LandmarkSpec] = []
    characters: list[CharacterSpec] = []
    generic = 0
    for m in st.mentions:
        values = tuple(tree if v == "tree" else v for v in m.values)
        if m.colour is not None:
            st.say(m.colour, f"colour of {m.label}", "colour")
        if m.kind == "creature":
            n = _count(m, st, cap=100, what="creatures of one kind")
            beh = m.behaviour or _default_behaviour(values[0], m.label)
            color = COLOURS[m.colour] if m.colour else None
            characters.append(
                CharacterSpec(kind=values[0], count=n, behaviour=beh, label=m.label, color=color)  # type: ignore[arg-type]
            )
            st.say(m.phrase, f"{n} {values[0]} ({m.label}), {beh}", m.via, m.score)
            continue
        if m.colour is not None and st.accent is None:
            st.accent = COLOURS[m.colour]
        as_landmark = m.kind == "landmark" or (
            m.qty is not None and m.qty.value in ("single", "exact") and m.qty.hi <= 20
        )
        if m.kind == "generic":
            generic += 1
            if generic > MAX_GENERIC:
                st.notes.append(f"Too many unrecognised things; left out {m.label!r}.")
                continue
        if as_landmark or (m.kind == "generic" and not m.plural and m.qty is None):
            n = _count(m, st, cap=20, what="copies of a landmark")
            placement = m.placement or DEFAULT_PLACEMENT.get(m.noun) or "anywhere"
            for v in values:
                p = DEFAULT_PLACEMENT.get(v, placement) if m.placement is None else placement
                landmarks.append(LandmarkSpec(kind=v, count=n, placement=p, label=m.label))  # type: ignore[arg-type]
                _imply_placement(p, st)
            where = "" if placement == "anywhere" else f", {placement}"
            what = "generic prop" if m.kind == "generic" else "+".join(values)
            st.say(m.phrase, f"{n} {what} '{m.label}'{where}", m.via, m.score)
        else:
            factor = _QTY_DENSITY.get(m.qty.value, 1.0) if m.qty is not None else 1.0
            for v in values:
                base = props[v].density if v in props else (0.5 if v == "generic" else 1.5)
                density = round(
                    min(50.0, max(base * 1.3, 1.5 if v != "generic" else 0.5) * factor), 3
                )
                label = m.label if (m.kind == "generic" or m.label != v) else None
                props[v if v != "generic" else f"generic:{m.label}"] = PropSpec(
                    kind=v, density=density, label=label
                )
                what = "generic prop" if v == "generic" else v
                st.say(m.phrase, f"{what} '{m.label}' ({density:g}/100 m²)", m.via, m.score)

    named = {c.kind for c in characters}
    for biome, _ in biomes:
        for kind, n, label in BIOME_DEFAULTS[biome].characters:
            if kind not in named:
                characters.append(
                    CharacterSpec(kind=kind, count=n, behaviour="wander", label=label)
                )
                st.say(st.biome_phrase.get(biome, biome), f"{n} {label} (default)", "default")

    props_l, landmarks, characters = _apply_negation(
        list(props.values()), landmarks, characters, st
    )
    spec = WorldSpec(
        prompt=prompt,
        seed=st.seed,
        biomes=[BiomeWeight(biome=b, weight=w) for b, w in biomes if ("biome", b) not in st.negated]  # type: ignore[arg-type]
        or [BiomeWeight(biome="meadow")],
        terrain=_terrain(head, st),
        palette=_palette(st),
        weather=_weather(st),
        props=props_l,
        landmarks=landmarks,
        characters=characters,
        understood=st.understood,
        notes=st.notes,
    )
    if st.hour is not None:
        spec.hour = st.hour[0] % 24.0
    if st.style is not None:
        spec.style = st.style  # type: ignore[assignment]
    return spec


def _default_behaviour(kind: str, label: str) -> str:
    if kind in FLYERS:
        return "circle"
    if kind == "humanoid" and label.split()[-1] in GUARD_WORDS:
        return "patrol"
    return "wander"


def _imply_placement(p: str, st: _State) -> None:
    implied = PLACEMENT_IMPLIES.get(p)
    if implied is not None:
        what, where = implied
        if where == "water":
            st.water.add(what)
        elif what not in st.terrain:
            st.terrain.append(what)


def _apply_negation(props, landmarks, characters, st: _State):
    removed: set[str] = set()
    creatures_removed: set[str] = set()
    for kind, value in sorted(st.negated):
        if kind == "group" and value in _GROUP_MEMBERS:
            removed.update(_GROUP_MEMBERS[value])
        elif kind == "group" and value == "people":
            creatures_removed.add("humanoid")
        elif kind == "group" and value == "animal":
            creatures_removed.update({"deer", "wolf", "bird", "dragon", "horse", "dog", "sheep"})
        elif kind == "group" and value == "water":
            st.water.clear()
            st.negated.update({("water", "rivers"), ("water", "lakes"), ("water", "ocean")})
        elif kind == "creature":
            creatures_removed.add(value)
        elif kind in ("prop", "landmark"):
            removed.add(value if value != "tree" else "__tree__")
    if "__tree__" in removed:
        removed.update(TREE_KINDS)
    return (
        [p for p in props if p.kind not in removed],
        [lm for lm in landmarks if lm.kind not in removed],
        [c for c in characters if c.kind not in creatures_removed],
    )


def _terrain(head: str, st: _State) -> Terrain:
    t = Terrain(**BIOME_DEFAULTS[head].terrain)  # type: ignore[arg-type]
    for name in st.terrain:
        for k, v in TERRAIN_PRESETS[name].items():
            setattr(t, k, v)
    for flag in ("rivers", "lakes", "ocean"):
        if flag in st.water:
            setattr(t, flag, True)
        if ("water", flag) in st.negated:
            setattr(t, flag, False)
    if (t.lakes or t.ocean) and t.water_level < 0.0:
        t.water_level = 0.0
    return t


def _weather(st: _State) -> WeatherSpec:
    w = WeatherSpec()
    kinds = [k for k, _ in st.weather if ("weather", k) not in st.negated]
    if kinds:
        w.kind = max(kinds, key=WEATHER_PRIORITY.index)  # type: ignore[assignment]
        dropped = sorted(set(kinds) - {w.kind, "fog", "clear", "cloudy"})
        if dropped:
            st.notes.append(f"One weather at a time: used {w.kind}, not {', '.join(dropped)}.")
    fog = [d for k, d in st.weather if ("weather", k) not in st.negated]
    w.fog_density = max([0.0, *fog])
    if st.mood is not None and float(MOODS[st.mood]["fog"]) > w.fog_density:
        w.fog_density = float(MOODS[st.mood]["fog"])
    if ("weather", "fog") in st.negated:
        w.fog_density = 0.0
    if st.wind is not None:
        w.wind = st.wind
    elif w.kind == "storm":
        w.wind = 0.9
    return w


def _palette(st: _State) -> Palette:
    p = Palette(tint=st.tint, accent=st.accent)
    if st.mood is not None:
        m = MOODS[st.mood]
        p.mood, p.saturation, p.brightness = m["mood"], m["saturation"], m["brightness"]  # type: ignore[assignment]
    return p


# -- entry points ---------------------------------------------------------------------------


def looks_english(text: str) -> bool:
    """Mostly Latin letters, and some known English words among them."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ch.isascii() for ch in letters) / len(letters) < 0.6:
        return False
    words = re.findall(r"[a-z]+", text.lower())
    if len(words) < 3:
        return True
    known = sum(w in STOPWORDS or (stem(w),) in LEXICON for w in words)
    return known / len(words) >= 0.25


def text_to_spec(
    prompt: str, seed: int = 0, *, embeddings_mode: EmbeddingsMode = "auto"
) -> WorldSpec:
    """Ground an English prompt in the WorldSpec vocabulary.

    `embeddings_mode`: "auto" uses MiniLM for words outside the lexicon when the neural extra
    is installed (a note says when it is not), "minilm" requires it (EmbeddingsUnavailable
    otherwise), "off" uses the lexicon alone. Raises PromptError for an empty prompt; a prompt
    over MAX_PROMPT_CHARS is truncated with a note; non-English text gives a default meadow
    world with a note.
    """
    if not isinstance(prompt, str):
        raise PromptError(f"the prompt must be text, got {type(prompt).__name__}")
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise PromptError(f"seed {seed!r} must be an integer in [0, 2**63)")
    text = unicodedata.normalize("NFKC", prompt).replace("\x00", " ").strip()
    if not any(ch.isalnum() for ch in text):
        raise PromptError("the prompt is empty; describe a world, e.g. 'a quiet meadow at dawn'")
    st = _State(seed=seed)
    if len(text) > MAX_PROMPT_CHARS:
        cut = text.rfind(" ", 0, MAX_PROMPT_CHARS)
        cut = cut if cut > MAX_PROMPT_CHARS // 2 else MAX_PROMPT_CHARS
        st.notes.append(
            f"The prompt is {len(text):,} characters; only the first {cut:,} were read "
            f"(the limit is {MAX_PROMPT_CHARS:,}). Put the important words first."
        )
        text = text[:cut]
    if not looks_english(text):
        st.notes.append(
            "The prompt does not look like English; made a default world (a meadow at "
            "mid-morning). Tidepool understands English prompts, e.g. 'a misty pine forest "
            "at dusk'."
        )
        st.say(text[:60], "default meadow world", "default")
        return _assemble(text, st)

    lowered = text.lower()
    for m in _HOUR_RE.finditer(lowered):
        h = int(m.group(1) or m.group(4))
        minutes = int(m.group(2) or m.group(5) or 0)
        if m.group(3):
            h = h % 12 + (12 if m.group(3) == "p" else 0)
        if h < 24 and minutes < 60:
            _hour(h + minutes / 60.0, m.group(0).strip(), st)
    lowered = _HOUR_RE.sub(" ", lowered)

    items = _match(_tokens(lowered))
    heads = _mark_heads(items)
    _ground_heads(heads, embeddings_mode, st.notes)
    _walk(items, st)
    if st.ignored:
        st.notes.append("Not understood, ignored: " + ", ".join(dict.fromkeys(st.ignored)) + ".")
    return _assemble(text, st)


def describe_understood(spec: WorldSpec) -> str:
    """The UI's one line: "understood: misty -> weather fog; pine forest -> ...; notes"."""
    parts = []
    for u in spec.understood:
        if u.via == "default" and not u.phrase.startswith("("):
            continue
        how = {"embedding": " (similar meaning)", "generic": " (unknown: generic)"}.get(u.via, "")
        parts.append(f"{u.phrase} → {u.became}{how}")
    line = "understood: " + ("; ".join(parts) if parts else "nothing specific")
    if spec.notes:
        line += " — " + " ".join(spec.notes)
    return line
