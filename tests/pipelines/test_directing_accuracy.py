"""Intent and slot accuracy of the directing parser over the hand-written command set.

tests/pipelines/data/directing_commands.jsonl holds commands (varied wording, typos, synonyms,
compound forms, and nonsense that must not become an action) with the structured events a
person expects. Only the fields each expected event names are compared (ticks, durations and
other defaults are ignored). Targets from the issue: >= 95 % intent, >= 90 % slots.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipelines.directing import parse

DATA = Path(__file__).parent / "data" / "directing_commands.jsonl"
HELD_OUT = Path(__file__).parent / "data" / "directing_heldout.jsonl"
"""Commands written after the lexicon was tuned and scored once (new wordings, typos, run,
look-at and transition slots); the lexicon is not tuned on them. Misses are kept in the set."""


def _rows(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _intent(ev: dict) -> str:
    sub = ev.get("action") or ev.get("op") or ""
    return f"{ev['kind']}:{sub}" if sub else ev["kind"]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and math.isclose(float(a), float(b), abs_tol=1e-6)
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def score(rows: list[dict]) -> dict[str, float | list]:
    """Intent accuracy (event kinds in order), slot accuracy (every expected field value)."""
    intent_ok = slots_ok = slots_total = exact = 0
    misses = []
    for row in rows:
        got = [
            a.model_dump(mode="json") for a in parse(row["command"], embeddings_mode="off").actions
        ]
        want = row["events"]
        same_intents = [_intent(e) for e in got] == [_intent(e) for e in want]
        intent_ok += same_intents
        good = 0
        total = 0
        for i, w in enumerate(want):
            for k, v in w.items():
                if k == "kind":
                    continue
                total += 1
                good += same_intents and i < len(got) and _same(got[i].get(k), v)
        slots_ok += good
        slots_total += total
        exact += same_intents and good == total
        if not (same_intents and good == total):
            misses.append((row["command"], want, got))
    n = len(rows)
    return {
        "n": n,
        "intent": intent_ok / n,
        "slots": slots_ok / max(1, slots_total),
        "exact": exact / n,
        "misses": misses,
    }


def test_the_set_is_large_and_varied() -> None:
    rows = _rows()
    assert len(rows) >= 150
    kinds = {_intent(e) for r in rows for e in r["events"]}
    for needed in ("time_of_day", "weather", "wind", "spawn", "prop_edit:spawn",
                   "prop_edit:remove", "prop_edit:move", "remove", "move_to", "follow", "flee",
                   "attack", "emote", "say", "camera_shot", "camera_mode", "playback:pause",
                   "playback:resume", "playback:rewind", "playback:back_to", "playback:branch",
                   "playback:speed"):  # fmt: skip
        assert needed in kinds, needed
    assert sum(len(r["events"]) > 1 for r in rows) >= 10  # compound commands
    assert sum(not r["events"] for r in rows) >= 5  # must stay "not understood"


def _score_and_report(rows: list[dict], title: str, capsys: pytest.CaptureFixture) -> dict:
    """Score `rows`, print the accuracy and every miss (shown even when the test passes)."""
    s = score(rows)
    with capsys.disabled():
        print(
            f"\n{title}, {s['n']} commands: intent {s['intent']:.1%}, "
            f"slots {s['slots']:.1%}, exact {s['exact']:.1%}"
        )
        for cmd, want, got in s["misses"]:
            print(f"  miss: {cmd!r}\n    want {want}\n    got  {got}")
    return s


def test_intent_and_slot_accuracy_meet_the_targets(capsys: pytest.CaptureFixture) -> None:
    s = _score_and_report(_rows(), "directing parser", capsys)
    assert s["intent"] >= 0.95
    assert s["slots"] >= 0.90


def test_nonsense_is_never_an_action() -> None:
    for row in _rows():
        if not row["events"]:
            d = parse(row["command"], embeddings_mode="off")
            assert d.actions == [] and d.understood == "not understood" and d.confidence == 0
            assert d.alternatives, "suggestions are offered"


def test_held_out_commands_score_near_the_tuned_set(capsys: pytest.CaptureFixture) -> None:
    rows = _rows(HELD_OUT)
    assert len(rows) >= 40
    s = _score_and_report(rows, "held-out set", capsys)
    assert s["intent"] >= 0.95
    assert s["slots"] >= 0.90
