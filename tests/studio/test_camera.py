"""Camera math against hand-computed projections and DESIGN.md's axis conventions."""

import numpy as np
import pytest

from studio.camera import Camera, CameraError


def test_point_on_axis_projects_to_principal_point():
    cam = Camera(position=(0, 0, 0), vfov=90, width=640, height=360)
    uv, z = cam.project(np.array([[0.0, 0.0, -5.0]]))  # 5 m straight ahead (yaw 0 looks down -Z)
    np.testing.assert_allclose(uv[0], [320.0, 180.0])
    assert z[0] == pytest.approx(5.0)


def test_known_point_projects_to_hand_computed_pixel():
    # vfov 90 at 360 px height: fy = 180 / tan(45°) = 180. Point 1 m right, 0.5 m up, 2 m ahead:
    # u = 320 + 180 * 1 / 2 = 410; v = 180 - 180 * 0.5 / 2 = 135 (OpenCV y points down).
    cam = Camera(position=(10, 2, 3), vfov=90, width=640, height=360)
    uv, z = cam.project(np.array([[11.0, 2.5, 1.0]]))
    np.testing.assert_allclose(uv[0], [410.0, 135.0], atol=1e-9)
    assert z[0] == pytest.approx(2.0)


def test_yaw_90_turns_forward_to_minus_x():
    cam = Camera(yaw=90)
    np.testing.assert_allclose(cam.forward, [-1, 0, 0], atol=1e-12)
    # The OpenCV z axis of T_world_camera is the forward direction, y points down.
    np.testing.assert_allclose(cam.T_world_camera[:3, 2], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(cam.T_world_camera[:3, 1], [0, -1, 0], atol=1e-12)


def test_positive_pitch_looks_up():
    cam = Camera(pitch=30)
    assert cam.forward[1] == pytest.approx(np.sin(np.radians(30)))


def test_viewmat_is_inverse_of_pose():
    cam = Camera(position=(1.5, -2, 7), yaw=33, pitch=-12, roll=7, vfov=50)
    np.testing.assert_allclose(cam.viewmat() @ cam.T_world_camera, np.eye(4), atol=1e-12)
    R = cam.viewmat()[:3, :3]
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)


def test_look_at_centres_the_target():
    cam = Camera(position=(3, 4, 5), width=800, height=600).look_at(np.array([-2.0, 1.0, 9.0]))
    uv, z = cam.project(np.array([[-2.0, 1.0, 9.0]]))
    np.testing.assert_allclose(uv[0], [400, 300], atol=1e-9)
    assert z[0] == pytest.approx(np.linalg.norm([5, 3, -4]))


def test_intrinsics_scale_with_size():
    a, b = Camera(vfov=60, width=640, height=360), Camera(vfov=60, width=1280, height=720)
    np.testing.assert_allclose(b.K(), np.diag([2, 2, 1]) @ a.K())
    assert a.hfov == pytest.approx(np.degrees(2 * np.arctan(np.tan(np.radians(30)) * 16 / 9)))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"vfov": 0}, "vfov"), ({"width": 0}, "image size"), ({"near": 0}, "near")],
)
def test_bad_parameters_are_named(kwargs, needle):
    with pytest.raises(CameraError, match=needle):
        Camera(**kwargs)
