"""Camera rigs: subjects stay framed, moves are smooth, the camera never enters ground or props."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from studio.rigs import CLEARANCE, SHOTS, Subject, blend, framing_distance, shot_camera
from studio.sim.world_view import ColliderArrays

TICKS = 120  # a 4 s shot at 30 Hz


def bumpy(x: float, z: float) -> float:
    return 2.0 * math.sin(0.3 * x) + 1.5 * math.cos(0.25 * z)


def walking(t: int) -> Subject:
    """A knight walking at 1.4 m/s along +X over bumpy ground."""
    x = 1.4 * t / 30.0
    return Subject((x, bumpy(x, 0.0), 0.0), heading=-90.0, height=1.8, radius=0.4)


def corners(s: Subject) -> np.ndarray:
    """(8, 3) corners of the subject's bounding box."""
    x, y, z = s.position
    r, h = s.radius, s.height
    return np.array(
        [[x + a * r, y + b * h, z + c * r] for a in (-1, 1) for b in (0, 1) for c in (-1, 1)]
    )


def in_frame(cam, pts: np.ndarray) -> bool:
    uv, depth = cam.project(pts)
    return bool(
        (depth > 0).all()
        and (uv[:, 0] >= 0).all() and (uv[:, 0] <= cam.width).all()
        and (uv[:, 1] >= 0).all() and (uv[:, 1] <= cam.height).all()
    )  # fmt: skip


def forward_angles(cams) -> np.ndarray:
    """(T,) angle (radians) turned between consecutive cameras' view directions."""
    f = np.array([c.forward for c in cams])
    return np.arccos(np.clip((f[1:] * f[:-1]).sum(1), -1.0, 1.0))


def test_orbit_keeps_the_subject_in_frame_for_the_whole_orbit() -> None:
    azimuth0 = 0.0
    yaws = []
    for t in range(TICKS + 1):
        s = walking(t)
        cam = shot_camera("orbit", s, t / TICKS, azimuth0=azimuth0, height_at=bumpy)
        assert in_frame(cam, corners(s)), t
        yaws.append(cam.yaw)
    turned = np.unwrap(np.radians(yaws))
    assert abs(abs(turned[-1] - turned[0]) - 2 * math.pi) < 0.35  # a full turn round it


@pytest.mark.parametrize("shot", [s for s in SHOTS if s not in ("over_shoulder", "pan")])
def test_every_framing_shot_keeps_a_still_subject_in_frame(shot: str) -> None:
    s = Subject((3.0, bumpy(3.0, 4.0), 4.0), heading=30.0)
    pts = corners(s) if shot != "close_up" else s.centre[None]  # a close-up crops the body
    for u in np.linspace(0, 1, 9):
        assert in_frame(shot_camera(shot, s, float(u), height_at=bumpy), pts), (shot, u)


@pytest.mark.parametrize("shot", SHOTS)
def test_moves_are_smooth_bounded_angular_acceleration(shot: str) -> None:
    """Second differences of the view direction stay under 0.5 deg per tick^2 (450 deg/s^2),
    with a walking subject over bumpy ground; a jittery rig fails this by far."""
    cams = [shot_camera(shot, walking(t), t / TICKS, azimuth0=0.0) for t in range(TICKS + 1)]
    f = np.array([c.forward for c in cams])
    acc = np.linalg.norm(f[2:] - 2 * f[1:-1] + f[:-2], axis=1)
    assert np.degrees(acc.max()) < 0.5, shot
    pos = np.array([c.position for c in cams])
    jerkless = np.linalg.norm(pos[2:] - 2 * pos[1:-1] + pos[:-2], axis=1)
    assert jerkless.max() < 0.05, shot  # metres per tick^2


def test_a_rig_with_jitter_would_fail_the_smoothness_bound() -> None:
    rng = np.random.default_rng(0)
    cams = []
    for t in range(TICKS + 1):
        s = walking(t)
        jittered = Subject(tuple(np.array(s.position) + rng.normal(0, 0.05, 3)), s.heading)
        cams.append(shot_camera("orbit", jittered, t / TICKS, azimuth0=0.0))
    pos = np.array([c.position for c in cams])
    assert np.linalg.norm(pos[2:] - 2 * pos[1:-1] + pos[:-2], axis=1).max() > 0.05


@pytest.mark.parametrize("shot", SHOTS)
def test_never_below_the_ground(shot: str) -> None:
    for t in range(0, TICKS + 1, 5):
        cam = shot_camera(shot, walking(t), t / TICKS, azimuth0=0.0, height_at=bumpy)
        x, y, z = cam.position
        assert y >= bumpy(x, z) + CLEARANCE - 1e-9, (shot, t)


def test_the_camera_is_pushed_out_of_a_prop_that_stands_where_it_would_be() -> None:
    s = Subject((0.0, 0.0, 0.0), heading=0.0)
    free = shot_camera("static", s, 0.0)
    x, _, z = free.position
    cyl = ColliderArrays(
        shape=np.array([0], np.int8), center=np.array([[x, 3.0, z]]),
        size=np.array([[1.5, 3.0, 1.5]]), yaw=np.zeros(1), owner=("tower",), prop=("tower@0,0",),
    )  # fmt: skip
    cam = shot_camera("static", s, 0.0, colliders=lambda _x, _z: cyl)
    assert math.hypot(cam.position[0] - x, cam.position[2] - z) > 1.5  # outside the tower
    assert in_frame(cam, s.centre[None])


def test_framing_from_the_subjects_bounds() -> None:
    """A close-up of a 1.8 m knight fills ~90 % of the frame height; a dragon is shot from
    farther away than a knight for the same framing."""
    knight = Subject((0.0, 0.0, 0.0), height=1.8, radius=0.4)
    cam = shot_camera("close_up", knight, 0.5)
    uv, _ = cam.project(np.array([[0.0, 0.0, 0.0], [0.0, 1.8, 0.0]]))
    assert 0.7 < abs(uv[0, 1] - uv[1, 1]) / cam.height < 1.0
    dragon = Subject((0.0, 0.0, 0.0), height=4.0, radius=4.0)
    assert framing_distance(dragon, 0.5) > 2 * framing_distance(knight, 0.5)


def test_dolly_in_grows_the_subject_and_dolly_out_shrinks_it() -> None:
    s = Subject((0.0, 0.0, 0.0))

    def size(shot: str, u: float) -> float:
        uv, _ = shot_camera(shot, s, u).project(np.array([[0.0, 0.0, 0.0], [0.0, 1.8, 0.0]]))
        return abs(uv[0, 1] - uv[1, 1])

    ins = [size("dolly_in", u) for u in np.linspace(0, 1, 6)]
    outs = [size("dolly_out", u) for u in np.linspace(0, 1, 6)]
    assert all(b > a for a, b in itertools.pairwise(ins))
    assert all(b < a for a, b in itertools.pairwise(outs))


def test_crane_up_rises_and_crane_down_descends() -> None:
    s = Subject((0.0, 0.0, 0.0))
    ys = [shot_camera("crane_up", s, u).position[1] for u in np.linspace(0, 1, 5)]
    assert ys == sorted(ys) and ys[-1] - ys[0] > 3.0
    ys = [shot_camera("crane_down", s, u).position[1] for u in np.linspace(0, 1, 5)]
    assert ys == sorted(ys, reverse=True)


def test_low_and_high_angles_look_up_and_down() -> None:
    s = Subject((0.0, 0.0, 0.0))
    assert shot_camera("low_angle", s, 0.5).pitch > 5.0
    assert shot_camera("high_angle", s, 0.5).pitch < -30.0


def test_rigs_are_deterministic_and_blend_ends_on_the_shot() -> None:
    s = walking(17)
    a = shot_camera("tracking", s, 0.3, azimuth0=12.0, height_at=bumpy)
    b = shot_camera("tracking", s, 0.3, azimuth0=12.0, height_at=bumpy)
    assert np.array_equal(a.position, b.position) and (a.yaw, a.pitch) == (b.yaw, b.pitch)
    start = shot_camera("wide", s, 0.0)
    end = blend(start, a, 1.0)
    assert np.allclose(end.position, a.position) and math.isclose(end.pitch, a.pitch)
    assert np.allclose(blend(start, a, 0.0).position, start.position)


def test_unknown_shot_names_the_choices() -> None:
    with pytest.raises(ValueError, match="orbit"):
        shot_camera("spiral", Subject((0.0, 0.0, 0.0)), 0.0)
