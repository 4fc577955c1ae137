"""WorldSpec: strict, versioned, JSON round-trip, errors that name the field."""

import json

import pytest

from studio.spec import SPEC_VERSION, CharacterSpec, LandmarkSpec, PropSpec, SpecError, WorldSpec


def full_spec() -> WorldSpec:
    return WorldSpec(
        prompt="a test",
        seed=42,
        props=[PropSpec(kind="conifer", density=3.0)],
        landmarks=[LandmarkSpec(kind="tower", count=2, placement="on_hill", label="watchtower")],
        characters=[CharacterSpec(kind="deer", count=6, behaviour="flee")],
        hour=19.5,
    )


def test_json_round_trip_is_exact():
    s = full_spec()
    assert WorldSpec.from_json(s.to_json()) == s
    assert json.loads(s.to_json())["version"] == SPEC_VERSION


def test_unknown_attribute_is_named():
    data = json.loads(full_spec().to_json())
    data["terrain"]["bumpiness"] = 1
    with pytest.raises(SpecError, match=r"Unrecognized attribute 'terrain\.bumpiness'"):
        WorldSpec.from_dict(data)


def test_out_of_range_value_is_named():
    with pytest.raises(SpecError, match=r"hour: .*less than 24"):
        WorldSpec.from_dict({"hour": 25})


def test_unknown_asset_kind_lists_the_choices():
    with pytest.raises(SpecError, match="unknown prop kind 'spaceship'; use one of conifer"):
        WorldSpec.from_dict({"landmarks": [{"kind": "spaceship"}]})


def test_newer_version_is_refused_with_upgrade_hint():
    with pytest.raises(SpecError, match="newer than this Tidepool"):
        WorldSpec.from_dict({"version": SPEC_VERSION + 1})


def test_not_json():
    with pytest.raises(SpecError, match="not valid JSON"):
        WorldSpec.from_json("{not json")
