"""Creatures as part hierarchies: posing matches rotations computed independently, gaits drive
real joints, and every kind builds a plausible, animatable figure."""

from __future__ import annotations

import numpy as np
import pytest

from studio.assets import CreatureError, gait_angles, make_creature, surfel_normals
from studio.spec import CREATURE_KINDS

HEIGHTS = {"humanoid": (1.5, 2.0), "deer": (1.2, 1.9), "wolf": (0.7, 1.1), "bird": (0.15, 0.5),
           "dragon": (4.0, 7.0), "horse": (1.6, 2.4), "dog": (0.45, 0.85), "sheep": (0.8, 1.3)}  # fmt: skip


def _rodrigues(v: np.ndarray, k: np.ndarray, angle: float) -> np.ndarray:
    """Rotate vectors v (N, 3) about unit axis k by angle (radians): Rodrigues' formula."""
    k = k / np.linalg.norm(k)
    c, s = np.cos(angle), np.sin(angle)
    return v * c + np.cross(k, v) * s + np.outer(v @ k, k) * (1 - c)


def _part_slice(creature, name: str) -> slice:
    i = creature.part_index(name)
    start = sum(len(p.gaussians) for p in creature.parts[:i])
    return slice(start, start + len(creature.parts[i].gaussians))


def test_every_kind_builds_standing_on_the_ground_at_a_plausible_height() -> None:
    for kind in CREATURE_KINDS:
        c = make_creature(kind, 2)
        g, mesh = c.pose()
        g.validate()
        lo, hi = HEIGHTS[kind]
        assert lo <= c.height <= hi, (kind, c.height)
        assert abs(c.bounds[0, 1]) < 0.05 * c.height + 0.02, kind  # feet on the ground
        assert len(c.joint_names) >= 6 and len(g) > 300, kind
        assert len(mesh.vertices) == sum(len(p.mesh.vertices) for p in c.parts)
        (col,) = c.colliders
        inside = np.hypot(g.means[:, 0], g.means[:, 2]) <= col.size[0]
        assert inside.mean() > 0.75, kind


def test_bending_a_knee_rotates_the_shin_about_the_knee_as_rodrigues_says() -> None:
    c = make_creature("humanoid", 1)
    T_world_root = np.eye(4)
    T_world_root[:3, :3] = _rodrigues(np.eye(3), np.array([0.0, 1.0, 0.0]), 0.7).T  # turned
    T_world_root[:3, 3] = (3.0, 0.5, -2.0)
    rest, _ = c.pose(T_world_root=T_world_root)
    bent, _ = c.pose({"shin_l": np.pi / 2}, T_world_root=T_world_root)
    knee_T = c.part_transforms(T_world_root=T_world_root)[c.part_index("shin_l")]
    axis_world = knee_T[:3, :3] @ c.parts[c.part_index("shin_l")].axis
    knee = knee_T[:3, 3]
    sl = _part_slice(c, "shin_l")
    expected = knee + _rodrigues(rest.means[sl].astype(np.float64) - knee, axis_world, np.pi / 2)
    assert np.abs(bent.means[sl] - expected).max() < 1e-4
    n_expected = _rodrigues(surfel_normals(rest)[sl].astype(np.float64), axis_world, np.pi / 2)
    assert np.abs(surfel_normals(bent)[sl] - n_expected).max() < 1e-3
    # a knee bends backward: the foot moves toward -Z of the creature (its back)
    back = T_world_root[:3, :3] @ np.array([0.0, 0.0, -1.0])
    assert (bent.means[sl] - rest.means[sl]).mean(axis=0) @ back > 0.1
    # parts outside the shin's subtree do not move
    other = _part_slice(c, "shin_r")
    assert np.array_equal(bent.means[other], rest.means[other])


def test_a_hip_rotation_carries_its_children_along() -> None:
    c = make_creature("wolf", 3)
    rest, _ = c.pose()
    moved, _ = c.pose({"leg_fl": 0.5})
    T = c.part_transforms()[c.part_index("leg_fl")]
    axis, hip = T[:3, :3] @ c.parts[c.part_index("leg_fl")].axis, T[:3, 3]
    sl = _part_slice(c, "shin_fl")  # the child follows its parent's joint
    expected = hip + _rodrigues(rest.means[sl].astype(np.float64) - hip, axis, 0.5)
    assert np.abs(moved.means[sl] - expected).max() < 1e-4
    assert (moved.means[sl] - rest.means[sl]).mean(axis=0)[2] > 0.02  # forward swing is +Z


def test_uniform_scale_in_the_root_transform_scales_the_whole_figure() -> None:
    c = make_creature("humanoid", 4)
    T = np.diag([2.0, 2.0, 2.0, 1.0])
    g1, _ = c.pose()
    g2, mesh = c.pose(T_world_root=T)
    assert np.allclose(g2.means, 2 * g1.means, atol=1e-5)
    assert np.allclose(g2.scales, 2 * g1.scales, atol=1e-6)
    assert mesh.bounds[1, 1] == pytest.approx(2 * c.height, rel=1e-5)


def test_a_posed_creature_is_each_part_transformed_as_gaussians_transform_does() -> None:
    """The one-pass posing agrees with `Gaussians.transform` of every part by its own
    world transform (a gait, a yaw, a uniform scale and a translation in the root)."""
    c = make_creature("deer", 2)
    root = np.eye(4)
    a = np.radians(130.0)
    root[:3, :3] = 1.3 * np.array(
        [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    )
    root[:3, 3] = (12.0, 3.5, -40.0)
    angles = gait_angles("deer", 0.37, speed=1.0)
    posed = c.pose_gaussians(angles, T_world_root=root)
    for p, T in zip(c.parts, c.part_transforms(angles, T_world_root=root), strict=True):
        want = p.gaussians.transform(T)
        got = posed.subset(_part_slice(c, p.name))
        np.testing.assert_allclose(got.means, want.means, atol=1e-5)
        np.testing.assert_allclose(got.quats, want.quats, atol=1e-6)
        np.testing.assert_allclose(got.scales, want.scales, rtol=1e-6)
        np.testing.assert_array_equal(got.colors, want.colors)
        np.testing.assert_array_equal(got.opacities, want.opacities)


def test_gaits_name_real_joints_alternate_legs_and_flap_wings() -> None:
    for kind in CREATURE_KINDS:
        c = make_creature(kind, 0)
        angles = gait_angles(kind, 0.3, 2.0)
        assert set(angles) <= set(c.joint_names), kind
        c.pose(angles)  # accepted as a pose
    h0, h1 = gait_angles("humanoid", 0.1, 1.4), gait_angles("humanoid", 0.6, 1.4)
    assert h0["thigh_l"] == pytest.approx(h1["thigh_r"]) and h0["thigh_l"] != 0
    assert all(
        abs(v) < 1e-9 for k, v in gait_angles("horse", 0.3, 0.0).items() if k.startswith("leg")
    )
    flaps = [gait_angles("bird", p, 3.0)["wing_l"] for p in np.linspace(0, 1, 9)]
    assert max(flaps) > 0.5 and min(flaps) < -0.5
    # a raised wing tip sits higher than at rest
    bird = make_creature("bird", 1)
    sl = _part_slice(bird, "wing_l")
    up, _ = bird.pose({"wing_l": 0.6})
    assert up.means[sl, 1].max() > bird.pose()[0].means[sl, 1].max() + 0.05


def test_colours_variants_and_determinism() -> None:
    a = make_creature("dog", 8)
    assert a is make_creature("dog", 8)
    red = make_creature("horse", 1, color=(0.9, 0.1, 0.1))
    g, _ = red.pose()
    assert np.median(g.colors[:, 0] - g.colors[:, 1]) > 0.3  # mostly the requested coat
    knight = make_creature("humanoid", 1, variant="knight")
    plain = make_creature("humanoid", 1)
    assert len(knight.parts) == len(plain.parts)
    assert not np.array_equal(knight.pose()[0].colors, plain.pose()[0].colors)


def test_bad_requests_name_the_fix() -> None:
    with pytest.raises(CreatureError, match="unknown creature kind 'unicorn'"):
        make_creature("unicorn", 0)
    with pytest.raises(CreatureError, match="knee_x"):
        make_creature("humanoid", 0).pose({"knee_x": 1.0})
    with pytest.raises(CreatureError, match="variant"):
        make_creature("wolf", 0, variant="knight")
    with pytest.raises(CreatureError, match="color"):
        make_creature("wolf", 0, color=(2.0, 0.0, 0.0))
