"""Reading 3DGS captures (.ply INRIA layout, .splat) and walking a world made from one."""

from __future__ import annotations

import numpy as np
import pytest
from plyfile import PlyData, PlyElement

from pipelines.splat_import import (
    SH_C0,
    SPLAT_DTYPE,
    SplatImportError,
    capture_world_spec,
    fit_ground,
    read_capture,
)
from studio.backdrop import CaptureWorld

PROPS = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity"]
PROPS += ["scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


def scene(seed: int = 0):
    """A floor at y = +1 in a y-down (COLMAP-like) frame and a red box standing on it."""
    rng = np.random.default_rng(seed)
    n1, n2 = 6000, 1500
    floor = np.c_[rng.uniform(-5, 5, n1), np.full(n1, 1.0), rng.uniform(-5, 5, n1)]
    box = np.c_[rng.uniform(1, 2, n2), rng.uniform(-1, 1, n2), rng.uniform(1, 2, n2)]
    means = np.r_[floor, box]
    colors = np.r_[np.tile([0.3, 0.6, 0.2], (n1, 1)), np.tile([0.8, 0.2, 0.2], (n2, 1))]
    q = rng.normal(size=(len(means), 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q *= np.sign(q[:, :1])
    return means, colors, q


def write_ply(path, means, colors, quats, *, opacity=0.9, scale=0.05, drop=()):
    names = [p for p in PROPS if p not in drop]
    a = np.zeros(len(means), dtype=[(k, "f4") for k in names])
    for i, k in enumerate("xyz"):
        a[k] = means[:, i]
    for i in range(3):
        if f"f_dc_{i}" in names:
            a[f"f_dc_{i}"] = (colors[:, i] - 0.5) / SH_C0
        a[f"scale_{i}"] = np.log(scale)
    if "opacity" in names:
        a["opacity"] = np.log(opacity / (1 - opacity))
    for i in range(4):
        a[f"rot_{i}"] = quats[:, i]
    PlyData([PlyElement.describe(a, "vertex")]).write(str(path))
    return path


def test_ply_decodes_logit_log_and_sh_as_written(tmp_path):
    means, colors, q = scene()
    p = write_ply(tmp_path / "s.ply", means, colors, q, opacity=0.8, scale=0.03)
    cap = read_capture(p)
    g = cap.gaussians
    assert np.allclose(g.means, means, atol=1e-6)
    assert np.allclose(g.colors, colors, atol=1e-5)
    assert np.allclose(g.opacities, 0.8, atol=1e-5)
    assert np.allclose(g.scales, 0.03, atol=1e-6)
    assert np.allclose(g.quats, q, atol=1e-6)
    assert cap.notes == []


def test_splat_format_decodes_32_byte_records(tmp_path):
    means, colors, q = scene()
    rec = np.zeros(len(means), SPLAT_DTYPE)
    rec["pos"] = means
    rec["scale"] = 0.04
    rec["rgba"][:, :3] = np.round(colors * 255)
    rec["rgba"][:, 3] = 200
    rec["rot"] = np.clip(np.round(q * 128 + 128), 0, 255)
    p = tmp_path / "s.splat"
    rec.tofile(p)
    g = read_capture(p).gaussians
    assert np.allclose(g.means, means, atol=1e-6)
    assert np.allclose(g.colors, np.round(colors * 255) / 255, atol=1e-6)
    assert np.allclose(g.opacities, 200 / 255, atol=1e-6)
    assert np.abs(np.abs((g.quats * q).sum(1)) - 1).max() < 0.02  # 8-bit quaternions


def test_truncated_wrong_and_nan_files(tmp_path):
    means, colors, q = scene()
    p = write_ply(tmp_path / "s.ply", means, colors, q)
    cut = tmp_path / "cut.ply"
    cut.write_bytes(p.read_bytes()[:-1000])
    with pytest.raises(SplatImportError, match="truncated"):
        read_capture(cut)
    pc = write_ply(tmp_path / "points.ply", means, colors, q, drop=("opacity", "f_dc_1"))
    with pytest.raises(SplatImportError, match=r"lacks f_dc_1, opacity"):
        read_capture(pc)
    bad = tmp_path / "odd.splat"
    bad.write_bytes(b"\0" * 33)
    with pytest.raises(SplatImportError, match="32-byte"):
        read_capture(bad)
    m2 = means.copy()
    m2[:10, 0] = np.nan
    cap = read_capture(write_ply(tmp_path / "nan.ply", m2, colors, q))
    assert len(cap.gaussians) == len(means) - 10
    assert any("dropped 10 splats" in n for n in cap.notes)


def test_unknown_extension(tmp_path):
    p = tmp_path / "scan.obj"
    p.write_text("v 0 0 0\n")
    with pytest.raises(SplatImportError, match="unknown splat format"):
        read_capture(p)


def test_fifty_million_splat_file_is_decimated_not_hung(tmp_path):
    p = tmp_path / "huge.splat"
    with open(p, "wb") as fh:  # sparse: 1.6 GB of zeros costs no disk
        fh.truncate(50_000_000 * 32)
    cap = read_capture(p, max_splats=20_000)
    assert cap.count_in_file == 50_000_000 and len(cap.gaussians) == 20_000
    assert any("50,000,000" in n and "20,000" in n for n in cap.notes)


def test_ground_is_found_below_a_y_down_capture_and_walkable(tmp_path):
    means, colors, q = scene()
    ground = fit_ground(read_capture(write_ply(tmp_path / "s.ply", means, colors, q)).gaussians)
    T = ground.T_world_capture
    floor_world = means[:6000] @ T[:3, :3].T + T[:3, 3]
    assert np.abs(floor_world[:, 1]).max() < 0.01  # floor at y = 0 (within 1 cm)
    box_world = means[6000:] @ T[:3, :3].T + T[:3, 3]
    assert box_world[:, 1].max() == pytest.approx(2.0, abs=0.05)  # +Y up, 2 m tall box

    spec, backdrop = capture_world_spec(tmp_path / "s.ply", seed=3)
    world = CaptureWorld(spec, backdrop, background=False)
    try:
        xs = np.array([-4.0, 0.0, 3.5])
        assert np.allclose(world.height_at(xs, -xs), 0.0, atol=0.05)
        cam = world.spawn_camera(width=64, height=48)
        assert cam.position[1] == pytest.approx(1.7, abs=0.05)
        assert len(world.gaussians_in_view(cam)) > 0
    finally:
        world.close()


def test_a_capture_world_renders_through_the_session_view(tmp_path):
    """The red box of the capture shows where the camera projects it, through render_state
    (the path the studio, `tidepool render --at` and video export all take)."""
    from studio.backdrop import save_backdrop
    from studio.session import Session
    from studio.storage import ProjectFile
    from studio.view import render_state

    means, colors, q = scene()
    spec, backdrop = capture_world_spec(write_ply(tmp_path / "s.ply", means, colors, q), seed=3)
    path = tmp_path / "w.tidepool"
    with ProjectFile.create(path, spec) as store:
        save_backdrop(store, backdrop)
    session = Session.open(path)
    try:
        T = fit_ground(read_capture(tmp_path / "s.ply").gaussians).T_world_capture
        box_centre = np.array([1.5, 0.0, 1.5]) @ T[:3, :3].T + T[:3, 3]
        cam = session.world.spawn_camera(width=160, height=120).look_at(box_centre)
        rgb = render_state(session.world, session.state, cam, backend="cpu").rgb
        u, v = cam.project(box_centre[None])[0][0]
        r, g, b = rgb[int(v), int(u)].astype(int)
        assert r > g + 40 and r > b + 40, (r, g, b)
    finally:
        session.close()
        session.world.close()


def room(rng, *, n_floor=4000, n_wall=5000):
    """A z-up room corner: floor z = 0 (6 x 5 m), a wall y = 2.5 (normal along Y) and a wall
    x = -3, 3 m tall, each wall denser than the floor, plus a table and a sofa on the floor."""
    floor = np.c_[rng.uniform(-3, 3, n_floor), rng.uniform(-2.5, 2.5, n_floor), np.zeros(n_floor)]
    back = np.c_[rng.uniform(-3, 3, n_wall), np.full(n_wall, 2.5), rng.uniform(0, 3, n_wall)]
    side = np.c_[np.full(n_wall, -3.0), rng.uniform(-2.5, 2.5, n_wall), rng.uniform(0, 3, n_wall)]
    table = np.c_[rng.uniform(0, 1.2, 800), rng.uniform(-1, -0.2, 800), rng.uniform(0, 0.75, 800)]
    sofa = np.c_[rng.uniform(-2.8, -1, 800), rng.uniform(0, 2.3, 800), rng.uniform(0, 0.8, 800)]
    return np.r_[floor, back, side, table, sofa], n_floor


@pytest.mark.parametrize(
    "R_file_room",
    [
        np.eye(3),  # z-up (Blender-like): the back wall's normal is the favoured Y axis
        np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]) @ np.diag([1.0, -1, -1]),  # y-down
    ],
    ids=["z-up", "y-down"],
)
def test_auto_up_picks_a_rooms_floor_not_its_denser_walls(tmp_path, R_file_room):
    rng = np.random.default_rng(5)
    pts_room, n_floor = room(rng)
    means = pts_room @ R_file_room.T + np.array([0.4, -0.3, 0.7])
    q = np.tile([1.0, 0, 0, 0], (len(means), 1))
    colors = np.full((len(means), 3), 0.5)
    cap = read_capture(write_ply(tmp_path / "room.ply", means, colors, q, scale=0.02))
    T = fit_ground(cap.gaussians).T_world_capture
    world = means @ T[:3, :3].T + T[:3, 3]
    assert np.abs(world[:n_floor, 1]).max() < 0.03  # the floor is the ground, at y = 0
    assert world[:, 1].max() == pytest.approx(3.0, abs=0.05)  # walls stand 3 m up
    assert world[n_floor:, 1].min() > -0.03  # nothing below the floor


def test_auto_up_keeps_rolling_hills_with_trees_upright():
    from studio.gaussians import Gaussians

    for seed in range(5):
        rng = np.random.default_rng(seed)
        x, z = rng.uniform(-20, 20, (2, 20000))
        hills = np.c_[x, 1.5 * np.sin(x / 6) * np.cos(z / 7), z]
        trees = np.c_[
            rng.uniform(-20, 20, 3000), rng.uniform(0, 6, 3000), rng.uniform(-20, 20, 3000)
        ]
        means = np.r_[hills, trees]
        n = len(means)
        g = Gaussians(means, np.tile([1.0, 0, 0, 0], (n, 1)), np.full((n, 3), 0.02),
                      np.full(n, 0.9), np.full((n, 3), 0.5))  # fmt: skip
        up_in_file = fit_ground(g, seed=seed).T_world_capture[1, :3]
        assert up_in_file[1] > 0.99, (seed, up_in_file)  # +Y stays up, not flipped or tipped
