"""text_to_spec on the issue's prompts: the fields a user would notice in the world.

These use the lexicon alone (embeddings_mode="off") so they are fast and independent of the
neural extra; the MiniLM path is tested in test_minilm_grounding.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.lexicon import TREE_KINDS
from pipelines.text import MAX_PROMPT_CHARS, PromptError, describe_understood, text_to_spec
from studio.spec import WorldSpec


def parse(prompt: str, seed: int = 0) -> WorldSpec:
    return text_to_spec(prompt, seed, embeddings_mode="off")


def biome_names(spec: WorldSpec) -> list[str]:
    return [b.biome for b in spec.biomes]


def characters(spec: WorldSpec, kind: str):
    return [c for c in spec.characters if c.kind == kind]


def landmark_kinds(spec: WorldSpec) -> set[str]:
    return {lm.kind for lm in spec.landmarks}


def prop_kinds(spec: WorldSpec) -> set[str]:
    return {p.kind for p in spec.props}


def test_headline_prompt():
    s = parse("a misty pine forest with a river at dusk, a wooden watchtower and a herd of deer")
    assert biome_names(s)[0] == "conifer_forest"
    assert s.weather.kind == "fog" and 0.2 <= s.weather.fog_density <= 0.5  # mist: light fog
    assert s.terrain.rivers
    assert 18.0 <= s.hour <= 21.0
    (tower,) = [lm for lm in s.landmarks if lm.kind == "tower"]
    assert tower.count == 1 and "watchtower" in tower.label and "wooden" in tower.label
    (deer,) = characters(s, "deer")
    assert 5 <= deer.count <= 8
    conifer = next(p for p in s.props if p.kind == "conifer")
    assert conifer.density == max(p.density for p in s.props if p.kind in TREE_KINDS)


def test_medieval_village_with_dragon_at_dusk():
    s = parse("a medieval village with a dragon circling overhead at dusk")
    assert biome_names(s) == ["village"]
    assert "house" in prop_kinds(s)
    (dragon,) = characters(s, "dragon")
    assert dragon.count == 1 and dragon.behaviour == "circle"
    assert 18.0 <= s.hour <= 21.0
    assert characters(s, "humanoid"), "a village has villagers by default"


def test_snowy_mountain_pass_at_night_with_wolves():
    s = parse("snowy mountain pass at night with wolves")
    assert "snow" in biome_names(s)
    assert s.terrain.height_scale >= 60 and s.terrain.roughness >= 0.6
    assert s.hour >= 21.0 or s.hour <= 3.0
    (wolves,) = characters(s, "wolf")
    assert wolves.count >= 2  # plural


def test_desert_canyon_with_ancient_ruins_at_noon():
    s = parse("a desert canyon with ancient ruins at noon")
    assert {"desert", "canyon"} <= set(biome_names(s))
    assert s.hour == 12.0
    assert "ruins" in landmark_kinds(s)
    assert "cactus" in prop_kinds(s)
    assert s.terrain.height_scale >= 40


def test_tropical_beach_with_palms_and_shipwreck():
    s = parse("tropical beach with palm trees and a shipwreck")
    assert biome_names(s)[0] == "beach"
    assert s.terrain.ocean and s.terrain.water_level >= 0.0
    palm = next(p for p in s.props if p.kind == "palm")
    assert palm.density >= 1.5
    (wreck,) = [lm for lm in s.landmarks if lm.kind == "shipwreck"]
    assert wreck.placement == "on_coast"


def test_foggy_swamp_with_crooked_hut():
    s = parse("foggy swamp with a crooked hut")
    assert biome_names(s) == ["swamp"]
    assert s.weather.kind == "fog" and s.weather.fog_density >= 0.5
    (hut,) = [lm for lm in s.landmarks if lm.kind == "hut"]
    assert hut.count == 1 and hut.label == "crooked hut"
    assert {"dead_tree", "reeds"} <= prop_kinds(s)


def test_quiet_meadow():
    s = parse("a quiet meadow")
    assert biome_names(s) == ["meadow"]
    assert {"grass_tuft", "flowers"} <= prop_kinds(s)
    assert s.weather.wind <= 0.2
    assert not s.characters and not s.landmarks


@pytest.mark.parametrize(
    ("prompt", "kind", "lo", "hi"),
    [
        ("three dragons over a meadow", "dragon", 3, 3),
        ("a pair of horses in a field", "horse", 2, 2),
        ("a flock of birds above the lake", "bird", 6, 12),
        ("a pack of wolves in the woods", "wolf", 4, 7),
        ("12 sheep on a farm", "sheep", 12, 12),
        ("a dozen knights", "humanoid", 12, 12),
    ],
)
def test_numbers(prompt, kind, lo, hi):
    (c,) = characters(parse(prompt), kind)
    assert lo <= c.count <= hi


def test_seed_picks_counts_inside_the_range_and_is_deterministic():
    counts = {characters(parse("a herd of deer", seed), "deer")[0].count for seed in range(40)}
    assert counts <= set(range(5, 9)) and len(counts) > 1
    assert parse("a herd of deer", 3) == parse("a herd of deer", 3)


def test_count_over_the_limit_is_capped_with_a_note():
    s = parse("5000 wolves")
    assert characters(s, "wolf")[0].count == 100
    assert any("5000" in n and "100" in n for n in s.notes)


def test_negation_removes_trees_and_people():
    s = parse("a pine forest with no trees")
    assert not prop_kinds(s) & set(TREE_KINDS)
    village = parse("a village without people")
    assert not characters(village, "humanoid")
    assert characters(parse("a village"), "humanoid")


def test_negation_of_water_and_weather():
    s = parse("a beach with no fog and no water")
    assert not s.terrain.ocean and s.weather.fog_density == 0.0


@pytest.mark.parametrize(
    ("word", "mood"), [("eerie", "eerie"), ("cosy", "cosy"), ("golden", "golden")]
)
def test_moods_set_palette(word, mood):
    s = parse(f"a {word} meadow")
    assert s.palette.mood == mood
    neutral = parse("a meadow")
    assert (s.palette.saturation, s.palette.brightness) != (
        neutral.palette.saturation,
        neutral.palette.brightness,
    )


def test_eerie_brings_fog_and_dims_light():
    s = parse("an eerie forest")
    assert s.weather.fog_density > 0.0 and s.palette.brightness < 1.0


def test_golden_hour_sets_time_and_mood_words_separately():
    s = parse("a cosy village at golden hour")
    assert 18.0 <= s.hour <= 19.0 and s.palette.mood == "cosy"


def test_colour_of_a_creature_and_of_the_sky():
    s = parse("a red dragon under a purple sky")
    assert characters(s, "dragon")[0].color == pytest.approx((0.8, 0.15, 0.12))
    assert s.palette.tint == pytest.approx((0.5, 0.2, 0.65))


def test_unknown_noun_becomes_labelled_generic_prop():
    s = parse("a purple submarine")
    (sub,) = [lm for lm in s.landmarks if lm.kind == "generic"]
    assert sub.label == "submarine" and sub.count == 1
    assert not [lm for lm in s.landmarks if lm.kind != "generic"]
    assert any(u.via == "generic" and "submarine" in u.phrase for u in s.understood)


def test_unknown_adverbs_are_reported_not_made_into_props():
    s = parse("deer grazing peacefully")
    assert not [p for p in s.props if p.kind == "generic"]
    assert not [lm for lm in s.landmarks if lm.kind == "generic"]
    assert any("peacefully" in n for n in s.notes)


def test_placement_phrases():
    s = parse("a windmill by the river, a statue in the centre and a tower on the hill")
    by_kind = {lm.kind: lm.placement for lm in s.landmarks}
    assert by_kind == {"windmill": "by_river", "statue": "centre", "tower": "on_hill"}
    assert s.terrain.rivers


def test_behaviour_cues():
    s = parse("guards patrolling, deer fleeing and a dog following")
    assert characters(s, "humanoid")[0].behaviour == "patrol"
    assert characters(s, "deer")[0].behaviour == "flee"
    assert characters(s, "dog")[0].behaviour == "follow"


def test_people_words_become_labelled_humanoids():
    s = parse("a blacksmith and two farmers in a village")
    labels = {c.label: c.count for c in characters(s, "humanoid")}
    assert labels == {"blacksmith": 1, "farmer": 2}


def test_clock_times():
    assert parse("a meadow at 3pm").hour == 15.0
    assert parse("a meadow at 06:30").hour == 6.5


def test_understood_records_each_phrase():
    s = parse("a misty pine forest with a river at dusk")
    phrases = {u.phrase: u.became for u in s.understood}
    assert "misty" in phrases and "fog" in phrases["misty"]
    assert "pine forest" in phrases and "conifer_forest" in phrases["pine forest"]
    line = describe_understood(s)
    assert line.startswith("understood: ") and "pine forest → biome conifer_forest" in line


@pytest.mark.parametrize(
    "prompt",
    [
        "a misty pine forest with a river at dusk, a wooden watchtower and a herd of deer",
        "tropical beach with palm trees and a shipwreck",
        "three red dragons guarding a castle on the hill, without people",
    ],
)
def test_json_round_trip(prompt):
    s = parse(prompt, seed=11)
    assert WorldSpec.from_json(s.to_json()) == s


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t", "!!! ...", "\x00"])
def test_empty_prompt_is_a_clear_error(prompt):
    with pytest.raises(PromptError, match="the prompt is empty; describe a world"):
        parse(prompt)


def test_long_prompt_is_truncated_with_a_note():
    prompt = "a quiet meadow with a windmill " + "and more flowers " * 700
    assert len(prompt) > 10_000
    s = parse(prompt)
    assert len(s.prompt) <= MAX_PROMPT_CHARS
    assert "windmill" in landmark_kinds(s)
    assert any("characters; only the first" in n for n in s.notes)


@pytest.mark.parametrize(
    "prompt", ["ein Wald mit einem Fluss und einer Burg", "森の中の小屋", "лес у реки на закате"]
)
def test_non_english_gives_default_world_and_says_so(prompt):
    s = parse(prompt)
    assert biome_names(s) == ["meadow"] and s.props
    assert any("does not look like English" in n for n in s.notes)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_on_arbitrary_text(prompt):
    try:
        s = parse(prompt)
    except PromptError as e:
        assert "empty" in str(e)
        return
    assert WorldSpec.from_json(s.to_json()) == s


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            "a no three herd of deer wolves trees castle on the hill by river misty dusk "
            "purple submarine without people and with , . eerie 7 flock birds circling".split()
        ),
        min_size=1,
        max_size=20,
    )
)
def test_never_crashes_on_vocabulary_soup(words):
    prompt = " ".join(words)
    if not any(ch.isalnum() for ch in prompt):
        with pytest.raises(PromptError):
            parse(prompt)
        return
    s = parse(prompt, seed=5)
    assert WorldSpec.from_json(s.to_json()) == s
