"""World: props sit on the ground, LOD budget and reach, relighting, colliders, weather."""

import os
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.camera import Camera
from studio.proplod import LOW_KINDS
from studio.spec import (
    BiomeWeight,
    CharacterSpec,
    LandmarkSpec,
    PropSpec,
    Terrain,
    WeatherSpec,
    WorldSpec,
)  # fmt: skip
from studio.weather import particles
from studio.world import BACKGROUND_NICE, CHUNK_SIZE, World, view_anchor


@pytest.fixture(scope="module")
def world() -> World:
    spec = WorldSpec(
        seed=11,
        biomes=[BiomeWeight(biome="conifer_forest")],
        terrain=Terrain(rivers=True, height_scale=20.0),
        props=[PropSpec(kind="conifer", density=2.0), PropSpec(kind="rock", density=0.5)],
        landmarks=[LandmarkSpec(kind="tower", placement="on_hill")],
        characters=[CharacterSpec(kind="deer", count=3)],
        hour=17.5,
    )
    w = World(spec, background=False)
    yield w
    w.close()


def test_props_do_not_float(world):
    props = [p for cx in range(-2, 2) for cz in range(-2, 2) for p in world.props_in_chunk(cx, cz)]
    assert len(props) > 20
    pos = np.array([p.position for p in props])
    ground = world.height_at(pos[:, 0], pos[:, 2])
    # Bases sit at or slightly below the ground (sunk on slopes), never above it.
    assert (pos[:, 1] <= ground + 1e-6).all()
    assert (ground - pos[:, 1] < 1.0).all()
    assert not world.is_water(pos[:, 0], pos[:, 2]).any()


def test_landmark_near_spawn_and_spawn_faces_it(world):
    s = world.spawn_point()
    (lm,) = world.landmarks
    d = np.array(lm.position) - s.position
    assert 25.0 <= np.hypot(d[0], d[2]) <= 125.0
    cam = world.spawn_camera(width=320, height=180)
    uv, z = cam.project(np.array([lm.position]) + np.array([0.0, 3.0, 0.0]))
    assert z[0] > 0 and 0 <= uv[0, 0] < 320 and 0 <= uv[0, 1] < 180


def test_wide_view_fits_budget_and_reaches_300_m(world):
    cam = world.spawn_camera(width=640, height=360)
    cam.vfov = 75.0
    g = world.gaussians_in_view(cam, 120_000, creatures=False, weather=False)
    assert len(g) <= 120_000
    reach = np.hypot(*(g.means[:, [0, 2]] - cam.position[[0, 2]]).T)
    assert reach.max() >= 300.0


def test_near_ground_has_no_holes(world):
    # Looking straight down from 1.7 m: every pixel is covered by opaque ground or props.
    s = world.spawn_point()
    cam = Camera(s.position + np.array([0.0, 1.7, 0.0]), pitch=-89.0, width=160, height=90)
    from studio.render import render

    fr = render(world.gaussians_in_view(cam, weather=False), cam, backend="cpu")
    assert fr.alpha.min() > 0.95


def test_set_hour_relights_without_regenerating(world):
    cam = world.spawn_camera(width=320, height=180)
    world.set_hour(12.0)
    noon = world.gaussians_in_view(cam, creatures=False, weather=False)
    layers_before = dict(world._layers)
    world.set_hour(22.0)
    night = world.gaussians_in_view(cam, creatures=False, weather=False)
    assert all(world._layers[k] is v for k, v in layers_before.items())
    np.testing.assert_array_equal(noon.means, night.means)
    assert night.colors.mean() < 0.6 * noon.colors.mean()
    world.set_hour(17.5)


def test_colliders_near_are_in_world_frame(world):
    props = [p for p in world.props_in_chunk(0, -1) if p.kind == "conifer"]
    p = props[0]
    cols = world.colliders_near(p.position[0], p.position[2], 1.0)
    trunk = [c for c in cols if c.owner == "conifer" and np.hypot(
        c.center[0] - p.position[0], c.center[2] - p.position[2]) < 0.5]  # fmt: skip
    assert trunk and trunk[0].center[1] > p.position[1]


def test_creatures_stand_on_ground_and_are_drawn(world):
    spawns = world.creature_spawns()
    assert len(spawns) == 3
    for c in spawns:
        assert abs(c.position[1] - world.height_at(c.position[0], c.position[2])) < 1e-6
    assert len(world.creature_gaussians()) > 100


def test_weather_particles_deterministic_and_fall():
    a = particles("rain", np.zeros(3), seed=1, time_s=0.0)
    b = particles("rain", np.zeros(3), seed=1, time_s=0.0)
    np.testing.assert_array_equal(a.means, b.means)
    later = particles("rain", np.zeros(3), seed=1, time_s=0.05)
    dy = later.means[:, 1] - a.means[:, 1]
    falling = np.abs(dy) < 5.0  # ignore particles that wrapped to the top of the box
    assert (dy[falling] < 0).all()
    assert len(particles("clear", np.zeros(3), seed=1, time_s=0.0)) == 0


def test_meshes_in_returns_terrain_and_props(world):
    out = world.meshes_in(np.array([[0.0, -CHUNK_SIZE], [CHUNK_SIZE, 0.0]]), terrain_spacing=2.0)
    names = [n for n, _, _ in out]
    assert names[0] == "terrain"
    terrain = out[0][1]
    v = np.asarray(terrain.vertices)
    np.testing.assert_allclose(v[:, 1], world.height_at(v[:, 0], v[:, 2]), atol=1e-9)


def test_weather_changes_light_not_geometry(world):
    world.set_weather(WeatherSpec(kind="storm"))
    assert world.lighting.overcast > 0.9
    world.set_weather(WeatherSpec())


def _first_ground_hits(world: World, cam: Camera, nx: int = 48, ny: int = 40) -> np.ndarray:
    """(M, 3) where rays through a grid of pixels first meet the heightfield (within 200 m)
    (marched independently of the renderer; props ignored)."""
    K = cam.K()
    u, v = np.meshgrid(np.linspace(0, cam.width - 1, nx), np.linspace(0, cam.height - 1, ny))
    d_cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    d = (d_cam / np.linalg.norm(d_cam, axis=-1, keepdims=True)).reshape(-1, 3)
    d = d @ cam.T_world_camera[:3, :3].T
    t = np.arange(0.5, 200.0, 0.5)
    p = cam.position[None, None] + d[:, None] * t[None, :, None]  # (R, T, 3)
    below = p[..., 1] < world.height_at(p[..., 0], p[..., 2])
    hit = below.any(axis=1)
    first = np.argmax(below, axis=1)
    return p[np.flatnonzero(hit), first[hit]]


def test_river_is_in_the_spawn_view():
    spec = WorldSpec(
        seed=7,
        biomes=[BiomeWeight(biome="conifer_forest")],
        terrain=Terrain(rivers=True, height_scale=25.0),
        landmarks=[LandmarkSpec(kind="tower", placement="on_hill")],
    )
    w = World(spec, background=False)
    hits = _first_ground_hits(w, w.spawn_camera(width=320, height=180))
    assert w.is_water(hits[:, 0], hits[:, 2]).mean() > 0.015
    w.close()


def test_ocean_world_spawns_on_dry_land_facing_the_sea():
    spec = WorldSpec(
        seed=7, biomes=[BiomeWeight(biome="beach")], terrain=Terrain(ocean=True, water_level=0.0)
    )
    w = World(spec, background=False)
    s = w.spawn_point()
    assert not w.is_water(s.position[0], s.position[2])
    hits = _first_ground_hits(w, w.spawn_camera(width=320, height=180))
    assert w.is_water(hits[:, 0], hits[:, 2]).mean() > 0.1
    w.close()


def test_herd_of_n_is_n_animals_together_in_view():
    spec = WorldSpec(
        seed=5,
        biomes=[BiomeWeight(biome="meadow")],
        terrain=Terrain(rivers=True),
        characters=[CharacterSpec(kind="deer", count=7), CharacterSpec(kind="dragon", count=1)],
    )
    w = World(spec, background=False)
    deer = [c for c in w.creature_spawns() if c.kind == "deer"]
    assert len(deer) == 7
    pos = np.array([c.position for c in deer])
    spread = np.hypot(*(pos[:, [0, 2]] - pos[:, [0, 2]].mean(axis=0)).T)
    assert spread.max() < 10.0  # a group, not scattered over the map
    gaps = np.hypot(*(pos[:, None, [0, 2]] - pos[None, :, [0, 2]]).transpose(2, 0, 1))
    assert gaps[~np.eye(7, dtype=bool)].min() > 1.2  # apart, not stacked in one spot
    assert not w.is_water(pos[:, 0], pos[:, 2]).any()
    cam = w.spawn_camera(width=320, height=180)
    (dragon,) = [c for c in w.creature_spawns() if c.kind == "dragon"]
    uv, z = cam.project(np.vstack([pos + np.array([0.0, 0.8, 0.0]), dragon.position]))
    inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < 320) & (uv[:, 1] >= 0) & (uv[:, 1] < 180)
    assert inside[:-1].mean() >= 0.7 and inside[-1]  # the herd and the flyer are on screen
    assert dragon.position[1] - w.height_at(dragon.position[0], dragon.position[2]) > 8.0
    w.close()


def test_near_props_drawn_denser_and_sharper_than_far_ones(world):
    # The same asset seen from 6 m and from 60 m: near, more and narrower surfels.
    props = [p for cx in range(-2, 2) for cz in range(-2, 2) for p in world.props_in_chunk(cx, cz)]
    tree = next(p for p in props if p.kind == "conifer")
    near = world._plods.surfels(tree.kind, tree.variant_seed, 0).gaussians
    far = world._plods.surfels(tree.kind, tree.variant_seed, 2).gaussians
    assert len(near) > 5 * len(far)
    assert np.median(near.scales[:, :2]) < 0.5 * np.median(far.scales[:, :2])


def test_no_rain_drop_smears_across_the_lens():
    cam = np.array([3.0, 2.0, -7.0])
    for t in (0.0, 0.4, 1.3):
        g = particles("rain", cam, seed=2, time_s=t)
        seen = g.opacities > 0
        assert seen.sum() > 5000  # rain stays dense
        assert np.linalg.norm(g.means[seen] - cam, axis=1).min() > 2.0


def test_ground_at_the_feet_is_finer_than_lod_0(world):
    # The first metres of ground fill the bottom of the frame: drawn denser than LOD 0 there.
    from studio.world import LOD_SPACING

    cam = world.spawn_camera(width=320, height=180)
    cam.pitch = -40.0
    g = world.gaussians_in_view(cam, creatures=False, weather=False)
    p = cam.position
    d = np.hypot(g.means[:, 0] - p[0], g.means[:, 2] - p[2])
    on_ground = np.abs(g.means[:, 1] - world.height_at(g.means[:, 0], g.means[:, 2])) < 0.05
    n = int((on_ground & (d < 3.0)).sum())
    assert n > 3 * np.pi * 3.0**2 / LOD_SPACING[0] ** 2


@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(-500, 500),
    y=st.floats(-20, 80),
    z=st.floats(-500, 500),
    yaw=st.floats(-720, 720),
    pitch=st.floats(-89, 89),
    roll=st.sampled_from([0.0, 12.0, -35.0]),
    vfov=st.floats(20, 100),
    aspect=st.sampled_from([(640, 360), (480, 270), (1080, 1920), (512, 512)]),
)
def test_view_anchor_frustum_holds_the_cameras(x, y, z, yaw, pitch, roll, vfov, aspect):
    """Every ray the camera sees, moved to the anchor's apex (at most `slack` away), is
    inside the anchor's image: what the anchor's culling keeps covers the camera's view."""
    cam = Camera(np.array([x, y, z]), yaw=yaw, pitch=pitch, roll=roll, vfov=vfov,
                 width=aspect[0], height=aspect[1])  # fmt: skip
    anchor, slack = view_anchor(cam)
    assert np.linalg.norm(anchor.position - cam.position) <= slack + 1e-9
    u, v = np.meshgrid(np.linspace(0, cam.width, 9), np.linspace(0, cam.height, 9))
    pix = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], axis=1)
    rays_cam = pix @ np.linalg.inv(cam.K()).T  # OpenCV camera frame, z = 1
    dirs = rays_cam @ cam.T_world_camera[:3, :3].T
    uv, depth = anchor.project(anchor.position + dirs)
    assert (depth > 0).all()
    assert (uv[:, 0] >= 0).all() and (uv[:, 0] <= anchor.width).all()
    assert (uv[:, 1] >= 0).all() and (uv[:, 1] <= anchor.height).all()


def test_views_built_ahead_of_a_walking_camera_equal_views_built_on_demand():
    """A world with a background worker builds the next view anchor before the camera gets
    there; what it draws is exactly what a world without one builds when asked."""
    spec = WorldSpec(seed=5, props=[PropSpec(kind="rock", density=1.0)])
    ahead, on_demand = World(spec, background=True), World(spec, background=False)
    start = ahead.spawn_camera(width=320, height=180)

    def walking(k: int) -> Camera:  # 0.15 m and 1.5 degrees a frame
        return Camera(start.position + np.array([0.0, 0.0, -0.15 * k]), yaw=start.yaw + 1.5 * k,
                      pitch=start.pitch, width=320, height=180)  # fmt: skip

    def anchor_key(cam: Camera) -> tuple:
        return ahead._view_key(view_anchor(cam)[0], 60_000, frozenset())

    try:
        for k in range(24):
            a = ahead.gaussians_in_view(walking(k), 60_000)
            b = on_demand.gaussians_in_view(walking(k), 60_000)
            np.testing.assert_array_equal(a.means, b.means)
            np.testing.assert_array_equal(a.colors, b.colors)
            if k == 12:  # once the worker is done, the next anchor on the way is built
                ahead._pool.submit(lambda: None).result()
                nxt = next(
                    anchor_key(walking(j))
                    for j in range(k + 1, k + 20)
                    if anchor_key(walking(j)) != anchor_key(walking(k))
                )
                assert nxt in ahead._anchor_views
    finally:
        ahead.close()
        on_demand.close()


def test_ground_occlusion_is_the_product_over_every_tall_prop(world):
    """The ground darkens under trees as 1 - 0.45 exp(-d^2 / r^2) per tall prop, multiplied
    over all of them; the kernel's skipping of props beyond 4 r changes it by < 1e-6."""
    cam = world.spawn_camera()
    props = world.props_near(cam.position[0], cam.position[2], 60.0)
    tall = [p for p in props if p.kind not in LOW_KINDS]
    assert len(tall) > 10
    rng = np.random.default_rng(1)
    x = cam.position[0] + rng.uniform(-40, 40, 3000)
    z = cam.position[2] + rng.uniform(-40, 40, 3000)
    px = np.array([p.position[0] for p in tall])
    pz = np.array([p.position[2] for p in tall])
    r = np.array([2.2 * p.scale * (2.0 if p.landmark else 1.0) for p in tall])
    d2 = (x[:, None] - px) ** 2 + (z[:, None] - pz) ** 2
    dense = np.prod(1.0 - 0.45 * np.exp(-d2 / r**2), axis=1)
    got = world._ground_occlusion(x, z, props)
    np.testing.assert_allclose(got, dense, atol=1e-6)
    assert got.min() < 0.6  # some points do lie under a tree


def test_a_live_view_borrows_the_neighbouring_anchor_only_until_its_own_is_built():
    """With `borrow`, a camera that crosses into an anchor not built yet draws the view drawn
    last (one step away) instead of waiting, and the worker builds its own, which later frames
    get exactly. Two steps away, or with other props hidden, it never borrows."""
    spec = WorldSpec(seed=5, props=[PropSpec(kind="rock", density=1.0)])
    live, exact = World(spec, background=True), World(spec, background=False)
    start = live.spawn_camera(width=320, height=180)
    gate = threading.Event()

    def at(dz: float, turn: float = 0.0) -> Camera:  # anchors are 1 m and 6 degrees apart
        return Camera(start.position + np.array([0.0, 0.0, dz]), yaw=start.yaw + turn,
                      pitch=start.pitch, width=320, height=180)  # fmt: skip

    def view(w: World, cam: Camera, hidden: frozenset[str] = frozenset()):
        g = w.gaussians_in_view(
            cam, 60_000, creatures=False, weather=False, hidden=hidden, borrow=True
        )
        return g, w.last_view_borrowed

    def same(a, b) -> None:
        np.testing.assert_array_equal(a.means, b.means)
        np.testing.assert_array_equal(a.colors, b.colors)

    try:
        first, borrowed = view(live, at(0.0))
        assert not borrowed
        live._pool.submit(gate.wait)  # the worker is busy: nothing new gets built ahead
        g, borrowed = view(live, at(-1.0))  # a step forward
        assert borrowed
        same(g, first)
        gate.set()
        live._pool.submit(lambda: None).result()
        assert live._view_key(view_anchor(at(-1.0))[0], 60_000, frozenset()) in live._anchor_views
        here, borrowed = view(live, at(-1.0))  # built by the worker meanwhile
        assert not borrowed
        same(here, view(exact, at(-1.0))[0])
        gate.clear()
        live._pool.submit(gate.wait)
        g, borrowed = view(live, at(-1.0, turn=6.0))  # a step of turn
        assert borrowed
        same(g, here)
        g, borrowed = view(live, at(-3.0))  # two steps from the view drawn last
        assert not borrowed
        same(g, view(exact, at(-3.0))[0])
        hidden = frozenset({live.props_near(*start.position[[0, 2]], 40.0)[0].id})
        g, borrowed = view(live, at(-4.0), hidden)  # a prop broke: never the old props
        assert not borrowed
        same(g, view(exact, at(-4.0), hidden)[0])
    finally:
        gate.set()
        live.close()
        exact.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_work_ahead_of_the_camera_runs_at_background_priority():
    """The chunk/view worker yields the cores to frames: its thread's nice value is raised,
    and the thread that created the world keeps its own."""
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    world = World(WorldSpec(seed=5), background=True)
    try:
        nice = world._pool.submit(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        ).result()
    finally:
        world.close()
    assert nice == max(before, BACKGROUND_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
