"""`tidepool play`: scripts drive a session exactly; bad scripts fail by line and write nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from studio.events import KEYS
from studio.session import Session
from studio.spec import CharacterSpec, WorldSpec
from studio.storage import ProjectFile
from ui.cli import app
from ui.script import ScriptError, parse_script

SPEC = WorldSpec(seed=5, characters=[CharacterSpec(kind="deer", count=3)])
SCRIPT = [
    {"at": 0.0, "hold": ["w", "shift"], "for": 2.0},
    {"at": 1.0, "press": "space"},
    {"at": 1.5, "look": [30, -5]},
    {"at": 4.0, "record": "start", "take": "shot1"},
    {"at": 9.0, "record": "stop"},
    {"at": 10.0, "rewind": 5.0},
    {"at": 10.0, "branch": "alt"},
    {"at": 11.0, "mode": "fly"},
    {"at": 11.0, "hold": ["w"], "for": 1.0},
]


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("play") / "w.tidepool"
    ProjectFile.create(path, SPEC).close()
    return path.read_bytes()


def _play(tmp_path, blank: bytes, lines: list, name: str = "w.tidepool"):
    world = tmp_path / name
    if not world.exists():
        world.write_bytes(blank)
    script = tmp_path / "s.jsonl"
    script.write_text(
        "\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines) + "\n"
    )
    return world, CliRunner().invoke(app, ["play", str(world), "--script", str(script), "--json"])


def test_play_runs_the_issue_example_and_replays_exactly(tmp_path, blank) -> None:
    world, result = _play(tmp_path, blank, SCRIPT)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) >= {"file", "ticks", "branch", "branches", "takes", "player", "state_hash"}
    assert out["ticks"] == 360 and out["tick"] == 210  # 12 s of script, rewound 5 s
    assert (
        out["branch"] == "alt" and out["branches"] == ["main", "alt"] and out["takes"] == ["shot1"]
    )
    assert out["player"]["mode"] == "fly" and out["player"]["yaw"] == 30.0
    # 2 s sprinting on a 1.5 s-old look: the sim's numbers, not the script's, decide where we are
    with Session.open(world) as s:
        assert s.branch.name == "alt" and s.tick == 210
        assert s.state.state_hash() == out["state_hash"]
        assert s.timeline.seek("alt", 210).state_hash() == out["state_hash"]
        take = s.store.take("shot1")
        assert (take.start_tick, take.end_tick) == (120, 270)
    # the same script on a fresh copy gives the same hash (determinism end to end)
    _, again = _play(tmp_path, blank, SCRIPT, name="w2.tidepool")
    assert json.loads(again.stdout)["state_hash"] == out["state_hash"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([{"at": 0, "hold": "w", "for": 1}], 'line 1: "hold" must be a list of key names (w a s d'),
        ([{"at": 0, "press": "x"}], 'line 1: "press" must be one of the key names'),
        ([{"at": 1, "press": "w"}, {"at": 0.5, "press": "w"}], 'line 2: "at" 0.5 is earlier'),
        ([{"at": 0, "press": "w"}, "{oops"], "line 2: not valid JSON"),
        ([{"at": 0, "press": "w", "look": [1, 2]}], "line 1: has 2 actions"),
        (
            [{"at": 0, "direct": "make it night"}],
            "line 1: directing commands are not implemented yet",
        ),
        (
            [{"at": 0, "hold": ["w"], "for": 1}, {"at": 1, "rewind": 5}],
            "line 2: rewind 5 s goes before the start",
        ),
        ([{"at": 0, "record": "start", "take": "a"}], "line 1: take 'a' is never stopped"),
        ([{"at": 0, "record": "stop"}], "line 1: nothing is recording"),
        ([{"at": 0, "mode": "swim"}], 'line 1: "mode" must be one of walk, fly, first, third'),
        ([{"at": 0, "jump": True}], "line 1: unknown field 'jump'"),
    ],
)
def test_bad_scripts_fail_by_line_and_write_nothing(tmp_path, blank, lines, message) -> None:
    world, result = _play(tmp_path, blank, lines)
    assert result.exit_code == 1
    assert message in result.stderr and "s.jsonl" in result.stderr
    assert result.stdout == ""
    assert world.read_bytes() == blank
    assert (
        not (tmp_path / "w.tidepool-wal").exists()
        or (tmp_path / "w.tidepool-wal").stat().st_size == 0
    )


_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(st.sampled_from([*KEYS, "x", 3]), max_size=3),
)  # fmt: skip
_line = st.dictionaries(
    st.sampled_from(["at", "hold", "for", "press", "look", "record", "take", "rewind", "branch", "mode", "zap"]),
    _values, max_size=4,
)  # fmt: skip


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(_line, st.text(max_size=20)), min_size=1, max_size=6))
def test_fuzzed_scripts_parse_or_fail_clearly(lines) -> None:
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else x.replace("\n", " ") for x in lines)
    try:
        parsed = parse_script(text, name="fuzz.jsonl")
    except ScriptError as e:
        assert str(e).startswith("fuzz.jsonl line ")
    else:
        assert all(
            ln.action in ("hold", "press", "look", "record", "rewind", "branch", "mode")
            for ln in parsed
        )


_valid_line = st.one_of(
    st.builds(lambda k, d: {"hold": k, "for": d}, st.lists(st.sampled_from(KEYS), min_size=1, max_size=3), st.floats(0.05, 1.0)),
    st.builds(lambda k: {"press": k}, st.sampled_from(KEYS)),
    st.builds(lambda a, b: {"look": [a, b]}, st.floats(-90, 90), st.floats(-90, 90)),
    st.builds(lambda r: {"rewind": r}, st.floats(0.05, 3.0)),
    st.builds(lambda b: {"branch": b}, st.sampled_from(["main", "alt", "b2"])),
    st.builds(lambda m: {"mode": m}, st.sampled_from(["walk", "fly", "first", "third"])),
    st.just({"record": "start", "take": "t"}),
    st.just({"record": "stop"}),
)  # fmt: skip


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.floats(0, 0.5), _valid_line), min_size=1, max_size=6))
def test_fuzzed_valid_lines_run_or_fail_by_line_without_damage(
    tmp_path_factory, blank, steps
) -> None:
    tmp = tmp_path_factory.mktemp("fz")
    at, lines = 0.0, []
    for dt, line in steps:
        at += dt
        lines.append({"at": round(at, 3), **line})
    world, result = _play(tmp, blank, lines)
    if result.exit_code == 0:
        out = json.loads(result.stdout)
        with Session.open(world) as s:
            assert s.timeline.seek(out["branch"], out["tick"]).state_hash() == out["state_hash"]
    else:
        assert result.exit_code == 1 and "s.jsonl line " in result.stderr, result.output
        assert world.read_bytes() == blank
