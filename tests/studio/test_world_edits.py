"""Props as the simulation changed them: a toppled tree lies where it fell, directed spawns,
removals and moves show in the rendered world, and a revisit shows the same pixels."""

import numpy as np
import pytest

from pipelines.directing import direct
from studio.camera import Camera
from studio.events import InputEvent, PropEdit
from studio.session import Session
from studio.sim.creatures import heading_to
from studio.sim.placed import SPAWN_RING
from studio.spec import LandmarkSpec, PropSpec, Terrain, WorldSpec
from studio.view import placed_gaussians, prop_changes, render_state

W, H = 160, 120
SPEC = WorldSpec(
    seed=4,
    terrain=Terrain(height_scale=2.0),
    landmarks=[LandmarkSpec(kind="tower"), LandmarkSpec(kind="well")],
    props=[PropSpec(kind="conifer", density=3), PropSpec(kind="cart", density=2)],
    hour=12.0,
)


def _cam(
    world, target, *, dist: float, heading: float, up: float = 0.3, eye: float = 1.7
) -> Camera:
    """A camera `dist` metres from `target` along heading `heading` (degrees), `eye` metres
    above the ground, looking at `up` metres above the target."""
    a = np.radians(heading)
    x, z = target[0] - np.sin(a) * dist, target[2] - np.cos(a) * dist
    eye = np.array([x, float(world.height_at(x, z)) + eye, z])
    return Camera(position=eye, width=W, height=H).look_at(np.add(target, [0, up, 0]))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Walk to the nearest conifer, fell it, then direct a spawn, a removal and a move."""
    path = tmp_path_factory.mktemp("edits") / "e.tidepool"
    s = Session.create(path, SPEC)
    w, st = s.world, s.state
    tree = w.props_near(st.player.x, st.player.z, 30.0, kind="conifer")[0]
    dx, dz = tree.position[0] - st.player.x, tree.position[2] - st.player.z
    yaw = float(heading_to(np.array(dx), np.array(dz)))
    s.apply(InputEvent(tick=0, held=("w",), look=(yaw - st.player.yaw, 0.0)))
    while np.hypot(tree.position[0] - st.player.x, tree.position[2] - st.player.z) > 2.2:
        st = s.advance(1)
        assert st.tick < 300, "the player should reach the tree"
    s.apply(InputEvent(tick=0, held=(), press=("e",)))
    t = {"attack": s.tick}
    st = s.advance(90)
    t["fallen"] = s.tick
    direct(s, "add a campfire by the well", embeddings_mode="off")
    s.advance(2)
    t["spawned"] = s.tick
    s.apply(PropEdit(tick=0, op="remove", prop="tower"))
    s.advance(2)
    t["removed"] = s.tick
    s.apply(PropEdit(tick=0, op="move", prop="cart", near="well"))
    s.advance(2)
    t["moved"] = s.tick
    s.close()
    s = Session.open(path)  # everything recorded is on disk
    yield s, tree, t
    s.close()
    s.world.close()


def _frame(s, tick, cam):
    return render_state(s.world, s.seek(tick), cam, backend="cpu", draw_player=False).rgb


def test_toppled_tree_lies_on_the_ground_and_its_top_is_gone(run) -> None:
    s, tree, t = run
    st = s.seek(t["fallen"])
    (change,) = st.props
    assert change.prop == tree.id and change.change == "toppled"
    shown = prop_changes(s.world, st)
    assert tree.id in shown.hidden
    fallen = placed_gaussians(s.world, shown)
    assert len(fallen) > 100
    upright = float(s.world.asset(tree.kind, tree.variant_seed).gaussians.means[:, 1].max())
    upright *= tree.scale
    assert fallen.means[:, 1].max() - tree.position[1] <= 0.4 * upright
    # it lies along the fall heading, reaching most of its height from its base
    reach = np.hypot(fallen.means[:, 0] - tree.position[0], fallen.means[:, 2] - tree.position[2])
    assert reach.max() >= 0.8 * upright
    # seen from the side, the pixels where the upright top was change
    cam = _cam(s.world, tree.position, dist=12.0, heading=change.fall_yaw + 90.0, up=6.0, eye=30.0)
    top = np.add(tree.position, [0.0, 0.8 * upright, 0.0])
    (u, v), depth = cam.project(top)[0][0], cam.project(top)[1][0]
    assert depth > 0 and 8 <= u < W - 8 and 8 <= v < H - 8
    before = _frame(s, t["attack"], cam).astype(int)
    after = _frame(s, t["fallen"], cam).astype(int)
    win = np.s_[int(v) - 3 : int(v) + 4, int(u) - 3 : int(u) + 4]
    assert np.abs(after[win] - before[win]).sum(axis=2).mean() > 20  # other trees stand behind

    # and the world's own view no longer holds the upright tree's crown (neighbours' may reach)
    def crown(hidden):
        g = s.world.gaussians_in_view(cam, creatures=False, weather=False, hidden=hidden)
        d = np.hypot(g.means[:, 0] - tree.position[0], g.means[:, 2] - tree.position[2])
        return int(np.sum((d < 1.0) & (g.means[:, 1] > tree.position[1] + 0.5 * upright)))

    assert crown(shown.hidden) < 0.35 * crown(frozenset()) and crown(frozenset()) > 50


def test_a_revisit_shows_the_same_pixels(run, tmp_path) -> None:
    s, tree, t = run
    cam = _cam(s.world, tree.position, dist=20.0, heading=30.0, up=2.0)
    live = _frame(s, t["moved"], cam)
    fresh = Session.open(s.store.path)
    try:
        again = render_state(fresh.world, fresh.seek(t["moved"]), cam, backend="cpu",
                             draw_player=False).rgb  # fmt: skip
    finally:
        fresh.close()
        fresh.world.close()
    np.testing.assert_array_equal(live, again)


def test_directed_spawn_stands_by_the_well(run) -> None:
    s, _, t = run
    well = next(lm for lm in s.world.landmarks if lm.kind == "well")
    placed = [p for p, _, _ in prop_changes(s.world, s.seek(t["spawned"])).placed]
    fires = [p for p in placed if p.kind == "campfire"]
    assert len(fires) == 1
    d = np.hypot(fires[0].position[0] - well.position[0], fires[0].position[2] - well.position[2])
    assert d == pytest.approx(SPAWN_RING[0], abs=0.01)
    cam = _cam(s.world, fires[0].position, dist=6.0, heading=0.0, up=0.3, eye=8.0)
    (u, v) = cam.project(np.add(fires[0].position, [0, 0.3, 0]))[0][0]
    before = _frame(s, t["fallen"], cam).astype(int)
    after = _frame(s, t["spawned"], cam).astype(int)
    win = np.s_[int(v) - 3 : int(v) + 4, int(u) - 3 : int(u) + 4]
    assert np.abs(after[win] - before[win]).sum(axis=2).mean() > 40


def test_remove_hides_the_tower_and_move_carries_the_cart(run) -> None:
    s, _, t = run
    tower = next(lm for lm in s.world.landmarks if lm.kind == "tower")
    shown = prop_changes(s.world, s.seek(t["removed"]))
    assert tower.id in shown.hidden
    assert all(p.kind != "tower" for p, _, _ in shown.placed)
    cam = _cam(s.world, tower.position, dist=25.0, heading=0.0, up=4.0, eye=20.0)
    (u, v) = cam.project(np.add(tower.position, [0, 4.0, 0]))[0][0]
    before = _frame(s, t["spawned"], cam).astype(int)
    after = _frame(s, t["removed"], cam).astype(int)
    win = np.s_[int(v) - 3 : int(v) + 4, int(u) - 3 : int(u) + 4]
    assert np.abs(after[win] - before[win]).sum(axis=2).mean() > 40
    # the cart nearest the player leaves its place for one beside the well
    st = s.seek(t["moved"])
    moved = prop_changes(s.world, st)
    carts = [p for p, _, _ in moved.placed if p.kind == "cart"]
    assert len(carts) == 1 and carts[0].id not in moved.hidden
    (gone,) = moved.hidden - shown.hidden
    assert gone.startswith("cart@")
    well = next(lm for lm in s.world.landmarks if lm.kind == "well")
    d = np.hypot(carts[0].position[0] - well.position[0], carts[0].position[2] - well.position[2])
    assert d == pytest.approx(SPAWN_RING[0], abs=0.01)
