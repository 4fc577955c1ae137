"""Directing end to end: commands against a real world and session, as a creator sees them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pipelines.directing import direct, parse
from pipelines.text import text_to_spec
from studio import navigation
from studio.events import InputEvent
from studio.session import Session
from studio.sim import initial_state, run, view
from studio.sim.state import CREATURE_KINDS, M_LANDED
from studio.world import World

PROMPT = "a village with a knight, a dragon, a stone tower and a well"


@pytest.fixture(scope="module")
def world() -> World:
    return World(text_to_spec(PROMPT, seed=3, embeddings_mode="off"), background=False)


def _row(state, label: str) -> int:
    return state.entities.labels.index(label)


def test_the_knight_walks_to_the_tower_and_arrives_within_a_metre(world: World) -> None:
    s = initial_state(world)
    d = parse("the knight walks to the tower", world=world, state=s, embeddings_mode="off")
    (ev,) = d.events
    knight = _row(s, "knight")
    assert ev.target == f"#{int(s.entities.id[knight])}"  # that entity, not every humanoid
    tower = next(lm for lm in world.landmarks if lm.kind == "tower")
    assert np.allclose(ev.to, tower.position, atol=1e-2)
    start = navigation.footprint_distance(
        navigation.footprint(view(world), tower.position), *s.entities.pos[knight, [0, 2]]
    )
    seconds = start / 1.4 * 1.6 + 5  # walking speed 1.4 m/s, detours allowed
    s = run(world, s, {0: [ev]}, int(seconds * 30))
    fp = navigation.footprint(view(world), tower.position)
    assert navigation.footprint_distance(fp, *s.entities.pos[knight, [0, 2]]) <= 1.0


def test_the_dragon_lands_on_the_towers_top(world: World) -> None:
    s = initial_state(world)
    (ev,) = parse("the dragon lands on the bell tower", world=world, state=s).events
    s = run(world, s, {0: [ev]}, 30 * 20)
    dragon = _row(s, "dragon")
    tower = next(lm for lm in world.landmarks if lm.kind == "tower")
    fp = navigation.footprint(view(world), tower.position)
    assert s.entities.mode[dragon] == M_LANDED
    assert np.hypot(*(s.entities.pos[dragon, [0, 2]] - [fp.x, fp.z])) <= 1.0
    assert abs(s.entities.pos[dragon, 1] - fp.top) < 0.05


def test_make_it_night_gives_nights_sky_and_light(world: World) -> None:
    from studio.lighting import lighting_for

    s = initial_state(world)
    d = parse("make it night", world=world, state=s)
    s = run(world, s, {0: d.events}, 2)
    assert s.hour == 23.0
    night = lighting_for(s.hour, world.spec.weather, world.spec.palette)
    day = lighting_for(12.0, world.spec.weather, world.spec.palette)
    assert night.sun_dir[1] < 0 < day.sun_dir[1]  # the sun is below the horizon


def test_names_the_world_lacks_are_refused_not_guessed(world: World) -> None:
    s = initial_state(world)
    d = parse("the wizard walks to the tower", world=world, state=s)
    assert not d.ok and d.understood == "not understood" and "wizard" in d.message
    d = parse("the knight walks to the windmill", world=world, state=s)
    assert not d.ok and "windmill" in d.message and "stone tower" in d.message


def test_a_subject_the_lexicon_does_not_know_is_named_not_dropped(world: World) -> None:
    """ "a unicorn chases the knight" once became a tracking shot on the knight: the unknown
    subject was dropped and the rest read as the imperative "chase the knight"."""
    s = initial_state(world)
    for text, word in (("a unicorn chases the knight", "unicorn"), ("the fox follows me", "fox")):
        d = parse(text, world=world, state=s, embeddings_mode="off")
        assert not d.ok and f"'{word}'" in d.message, (text, d.understood)
    d = parse("follow the knight", world=world, state=s, embeddings_mode="off")
    assert [a.kind for a in d.actions] == ["camera_shot"]  # the imperative still tracks


def test_a_creature_spawned_by_a_command_can_be_directed_in_the_same_command(world: World) -> None:
    """The studio's example "a wolf appears and follows me": "follows" has a subject (the wolf
    the clause before spawned, which the scene did not have yet), and the wolf keeps up with
    the player walking away, where a wolf that only appeared wanders off."""
    s0 = initial_state(world)
    d = parse("a wolf appears and follows me", world=world, state=s0, embeddings_mode="off")
    assert [a.kind for a in d.actions] == ["spawn", "follow"]
    assert (d.actions[1].target, d.actions[1].leader) == ("wolf", "player")
    walk = InputEvent(tick=1, held=("w",))
    gaps = []
    for events in (d.events, d.events[:1]):
        s = run(world, s0, {0: list(events), 1: [walk]}, 30 * 6)
        (wolf,) = [
            i for i in range(len(s.entities)) if CREATURE_KINDS[s.entities.kind[i]] == "wolf"
        ]
        gaps.append(
            np.hypot(s.entities.pos[wolf, 0] - s.player.x, s.entities.pos[wolf, 2] - s.player.z)
        )
    assert np.hypot(s.player.x - s0.player.x, s.player.z - s0.player.z) > 20  # walked 6 s
    assert gaps[0] < 10 < gaps[1]


def test_orbit_keeps_the_dragon_in_frame_through_the_session_camera(tmp_path, world) -> None:
    with Session.create(tmp_path / "w.tidepool", world.spec, world=world) as session:
        out = direct(session, "orbit the dragon", embeddings_mode="off")
        assert out["applied"][0]["shot"] == "orbit"
        for _ in range(4 * 30):
            cam = session.camera(width=320, height=180)
            dragon = session.state.entities.pos[_row(session.state, "dragon")]
            uv, depth = cam.project(dragon[None] + [0.0, 2.0, 0.0])
            assert depth[0] > 0 and 0 <= uv[0, 0] <= 320 and 0 <= uv[0, 1] <= 180
            session.advance()


def test_directed_events_replay_exactly_after_rewind_and_stay_on_their_branch(
    tmp_path, world
) -> None:
    with Session.create(tmp_path / "w.tidepool", world.spec, world=world) as session:
        session.advance(15)
        direct(session, "the knight walks to the tower and make it dusk", embeddings_mode="off")
        session.advance(60)
        first = session.state.state_hash()
        direct(session, "rewind 2 seconds", embeddings_mode="off")
        assert session.tick == 15
        session.advance(60)
        assert session.state.state_hash() == first  # the directed events replayed exactly
        direct(session, "rewind 2 seconds", embeddings_mode="off")
        out = direct(session, "try it differently", embeddings_mode="off")
        assert out["branch"] != "main"
        direct(session, "make it night", embeddings_mode="off")
        session.advance(60)
        assert session.state.hour == 23.0
        main = session.timeline.seek("main", 75)
        assert main.hour == 19.5 and main.state_hash() == first  # main is untouched


def test_back_to_a_moment_seeks_to_when_it_happened(tmp_path, world) -> None:
    with Session.create(tmp_path / "w.tidepool", world.spec, world=world) as session:
        session.advance(10)
        direct(session, "the dragon lands on the tower", embeddings_mode="off")
        session.advance(30 * 15)
        direct(session, "make it night", embeddings_mode="off")
        session.advance(30)
        out = direct(session, "back to when the dragon landed", embeddings_mode="off")
        assert out["playback"] == ["back_to"]
        s = session.state
        assert s.entities.mode[_row(s, "dragon")] == M_LANDED
        before = session.timeline.seek(session.branch, s.tick - 1)
        assert before.entities.mode[_row(before, "dragon")] != M_LANDED


def test_cli_parse_prints_one_json_object() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "parse", "make it night and start raining", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    obj = json.loads(out.stdout)
    assert [e["kind"] for e in obj["events"]] == ["time_of_day", "weather"]
    assert set(obj) >= {"events", "understood", "confidence", "alternatives"}
