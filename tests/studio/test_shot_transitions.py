"""Shot transitions through the session camera: "cut to" cuts, blends ease from the previous
view into the rig over their time with bounded angular acceleration, and replay after rewind
gives the same cameras."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipelines.directing import direct
from studio.conventions import TICK_HZ
from studio.rigs import BLEND_PEAK_ACCEL, shot_camera, subject_of
from studio.session import VFOV, Session
from studio.spec import CharacterSpec, Terrain, WorldSpec

W, H = 320, 180
SPEC = WorldSpec(
    seed=7,
    terrain=Terrain(height_scale=0.0),
    characters=[
        CharacterSpec(kind="humanoid", label="knight", behaviour="idle"),
        CharacterSpec(kind="wolf", behaviour="idle"),
    ],
)


@pytest.fixture
def session(tmp_path):
    with Session.create(tmp_path / "t.tidepool", SPEC) as s:
        yield s


def _rig(session: Session, shot: str, target: str, u: float):
    """The rig's camera computed directly from studio.rigs (the independent reference)."""
    s = session.state
    w = session.timeline.world
    return shot_camera(
        shot, subject_of(s, target), u, azimuth0=s.player.yaw + 180.0,
        height_at=lambda x, z: float(w.height_at(x, z)), colliders=w.colliders,
        width=W, height=H, vfov=VFOV,
    )  # fmt: skip


def _fwd(cam) -> np.ndarray:
    return np.asarray(cam.forward, dtype=np.float64)


def _angle(a, b) -> float:
    return math.acos(float(np.clip(_fwd(a) @ _fwd(b), -1.0, 1.0)))


def test_cut_to_jumps_to_the_shot_on_the_next_tick(session: Session) -> None:
    session.advance(5)
    eye = session.camera(width=W, height=H)
    out = direct(session, "cut to the wolf", embeddings_mode="off")
    assert out["applied"][0]["transition"] == "cut"
    session.advance(1)
    cam = session.camera(width=W, height=H)
    target = out["applied"][0]["target"]
    ref = _rig(session, "static", target, 1 / (4 * TICK_HZ))
    assert np.allclose(cam.position, ref.position) and cam.yaw == pytest.approx(ref.yaw)
    assert np.linalg.norm(cam.position - eye.position) > 2.0  # no in-between frames


@pytest.mark.parametrize(
    ("command", "seconds"),
    [("slowly pan to the knight", 3.0), ("close-up on the knight", 1.0),
     ("blend over 2 seconds to a wide shot of the wolf", 2.0)],
)  # fmt: skip
def test_a_blend_eases_from_the_view_into_the_shot(
    session: Session, command: str, seconds: float
) -> None:
    session.advance(5)
    before = session.camera(width=W, height=H)
    out = direct(session, command, embeddings_mode="off")
    (ev,) = out["applied"]
    assert ev["transition"] == "blend" and ev["blend_s"] == seconds
    n = round(seconds * TICK_HZ)
    cams = [before]
    for _ in range(n):
        session.advance(1)
        cams.append(session.camera(width=W, height=H))
    # it ends exactly on the rig, and starts next to where the view was
    ref = _rig(session, ev["shot"], ev["target"], n / (ev["duration_s"] * TICK_HZ))
    assert np.allclose(cams[-1].position, ref.position, atol=1e-9)
    assert cams[-1].yaw == pytest.approx(ref.yaw) and cams[-1].pitch == pytest.approx(ref.pitch)
    gap = _angle(cams[0], cams[-1])
    assert gap > math.radians(10)  # a real swing to blend across
    assert _angle(cams[0], cams[1]) < 0.05 * gap  # no jump at the start
    # angular acceleration: the ease's analytic peak over this gap and time, plus the rig's
    # own motion (the orbit test's bound, 0.5 deg/tick^2), with 25 % slack for yaw/pitch mixing
    f = np.array([_fwd(c) for c in cams])
    acc = np.linalg.norm(f[2:] - 2 * f[1:-1] + f[:-2], axis=1)
    bound = 1.25 * BLEND_PEAK_ACCEL * gap / n**2 + math.radians(0.5)
    assert acc.max() <= bound
    # and a cut over the same gap would exceed it by far
    assert gap > 10 * bound


def test_blended_cameras_replay_exactly_after_rewind(session: Session) -> None:
    session.advance(10)
    direct(session, "slowly pan to the knight", embeddings_mode="off")
    session.advance(20)
    direct(session, "cut to the wolf", embeddings_mode="off")
    session.advance(10)
    direct(session, "quickly blend to a close up of the knight", embeddings_mode="off")

    def take() -> list[tuple]:
        out = []
        for _ in range(45):
            session.advance(1)
            c = session.camera(width=W, height=H)
            out.append((*c.position.tolist(), c.yaw, c.pitch))
        return out

    first = take()
    direct(session, "rewind 1.5 seconds", embeddings_mode="off")
    assert take() == first
    session.seek(0)
    session.advance(40)
    assert session.branch.name == "main"
    assert take() == first


def test_free_camera_is_saved_in_the_timeline(session: Session) -> None:
    from studio.events import InputEvent

    session.advance(3)
    direct(session, "free camera", embeddings_mode="off")
    session.apply(InputEvent(tick=0, held=("w",)))
    session.advance(30)
    cam = session.camera(width=W, height=H)
    body = session.state.player.pos
    assert np.hypot(*(cam.position - body)[[0, 2]]) == pytest.approx(12.0, abs=0.05)
    session.seek(0)
    session.advance(33)
    assert session.state.camera_mode == "free"
    assert np.array_equal(session.camera(width=W, height=H).position, cam.position)
