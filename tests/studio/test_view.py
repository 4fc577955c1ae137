"""render_state: the same tick shows the same pixels however it is reached; state changes show."""

import numpy as np
import pytest

from studio.events import InputEvent, ModeEvent, TimeOfDay
from studio.session import Session
from studio.spec import CharacterSpec, LandmarkSpec, Terrain, WorldSpec
from studio.view import render_state

SIZE = {"width": 192, "height": 108}


@pytest.fixture(scope="module")
def session_file(tmp_path_factory):
    spec = WorldSpec(
        seed=5,
        terrain=Terrain(height_scale=6.0),
        landmarks=[LandmarkSpec(kind="tower")],
        characters=[CharacterSpec(kind="deer", count=3, behaviour="wander")],
        hour=12.0,
    )
    path = tmp_path_factory.mktemp("view") / "v.tidepool"
    s = Session.create(path, spec)
    s.apply(InputEvent(tick=0, held=("w",)))
    s.advance(45)
    s.apply([InputEvent(tick=0, held=()), ModeEvent(tick=0, view="third")])
    s.advance(15)
    s.apply(TimeOfDay(tick=0, hour=23.0))
    s.advance(30)
    s.close()
    s.world.close()
    return path


def frame_at(path, tick, **kw):
    s = Session.open(path)
    try:
        state = s.seek(tick)
        cam = s.camera_for(state, **SIZE)
        return render_state(s.world, state, cam, backend="cpu", **kw).rgb, state
    finally:
        s.close()
        s.world.close()


def test_same_tick_same_pixels_from_a_fresh_session(session_file):
    a, sa = frame_at(session_file, 50)
    b, sb = frame_at(session_file, 50)
    assert sa.state_hash() == sb.state_hash()
    np.testing.assert_array_equal(a, b)


def test_directed_night_darkens_the_frame(session_file):
    noon, _ = frame_at(session_file, 60)
    night, state = frame_at(session_file, 90)
    assert state.hour == 23.0
    assert night.mean() < 0.6 * noon.mean()


def test_third_person_draws_the_player_where_the_camera_projects_it(session_file):
    s = Session.open(session_file)
    try:
        state = s.seek(60)
        assert state.camera_mode == "third" or state.player.view == "third"
        cam = s.camera_for(state, **SIZE)
        with_player = render_state(s.world, state, cam, backend="cpu", draw_player=True).rgb
        without = render_state(s.world, state, cam, backend="cpu", draw_player=False).rgb
        u, v = cam.project(state.player.pos + np.array([0.0, 1.0, 0.0]))[0][0]
    finally:
        s.close()
        s.world.close()
    diff = np.abs(with_player.astype(int) - without.astype(int)).sum(axis=2) > 30
    ys, xs = np.nonzero(diff)
    assert len(xs) > 20  # the body covers pixels
    assert abs(np.median(xs) - u) < 15 and abs(np.median(ys) - v) < 25  # where it should be
