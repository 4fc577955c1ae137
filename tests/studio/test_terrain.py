"""Terrain and chunks: seamless borders, determinism across processes, heights match height_at."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from studio.spec import BiomeWeight, Terrain, WorldSpec
from studio.world import CHUNK_SIZE, LOD_SPACING, World


def river_spec(seed: int = 3) -> WorldSpec:
    return WorldSpec(
        seed=seed,
        biomes=[BiomeWeight(biome="conifer_forest"), BiomeWeight(biome="alpine", weight=0.6)],
        terrain=Terrain(rivers=True, lakes=True, roughness=0.7, height_scale=25.0),
    )


@pytest.fixture(scope="module")
def world() -> World:
    return World(river_spec(), background=False)


def test_heights_equal_on_shared_chunk_borders(world):
    a, right, below = world.chunk(0, 0), world.chunk(1, 0), world.chunk(0, 1)
    assert np.abs(a.heights[:, -1] - right.heights[:, 0]).max() == 0.0
    assert np.abs(a.heights[-1, :] - below.heights[0, :]).max() == 0.0


def test_normals_continuous_across_border(world):
    # Last surfel column of chunk 0 and first of chunk 1 are 0.5 m apart: their normals differ
    # no more than neighbours inside one chunk do.
    n = round(CHUNK_SIZE / LOD_SPACING[0])
    a = world.chunk(0, 0).terrain[0].normals.reshape(n, n, 3)
    b = world.chunk(1, 0).terrain[0].normals.reshape(n, n, 3)
    across = np.linalg.norm(a[:, -1] - b[:, 0], axis=1).max()
    inside = np.linalg.norm(np.diff(a, axis=1), axis=2).max()
    assert across <= inside + 1e-6
    # And they match the analytic normal of the height function at the border.
    xs = np.full(n, CHUNK_SIZE)
    zs = np.arange(n) * LOD_SPACING[0]
    ref = world.normal_at(xs, zs)
    assert np.abs(b[:, 0] - ref).max() < 0.05


def test_height_at_matches_chunk_grid(world):
    c = world.chunk(-2, 1)
    x0, z0 = c.origin
    s = LOD_SPACING[0]
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, c.heights.shape[0], (2, 50))
    h = world.height_at(x0 + j * s, z0 + i * s)
    np.testing.assert_allclose(h, c.heights[i, j], rtol=0, atol=1e-5)
    assert isinstance(world.height_at(x0, z0), float)


CHUNK_DIGEST = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.studio.test_terrain import river_spec
from studio.world import World
w = World(river_spec({seed}), background=False)
h = hashlib.sha256()
for cx, cz in [(0, 0), (-1, 2)]:
    c = w.chunk(cx, cz)
    h.update(c.heights.tobytes())
    for s in c.terrain + c.water:
        for a in (s.gaussians.means, s.gaussians.quats, s.gaussians.scales, s.gaussians.colors,
                  s.gaussians.opacities, s.normals):
            h.update(a.tobytes())
print(h.hexdigest())
"""


def _digest(seed: int) -> str:
    import pathlib

    root = str(pathlib.Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", CHUNK_DIGEST.format(root=root, seed=seed)],
        capture_output=True, text=True, check=True, cwd=root,
    )  # fmt: skip
    return out.stdout.strip()


def test_chunks_byte_identical_across_processes_and_seed_sensitive():
    a, b, c = _digest(3), _digest(3), _digest(4)
    assert a == b
    assert a != c
    assert len(a) == len(hashlib.sha256().hexdigest())


def test_water_only_where_the_spec_asks_for_it():
    dry = World(WorldSpec(seed=1), background=False)
    xs, zs = np.meshgrid(np.arange(-300, 300, 5.0), np.arange(-300, 300, 5.0))
    assert not dry.is_water(xs, zs).any()
    wet = World(river_spec(), background=False)
    assert wet.is_water(xs, zs).any()
    # The spawn point is dry and gentle.
    s = wet.spawn_point()
    assert not wet.is_water(s.position[0], s.position[2])
    assert wet.normal_at(s.position[0], s.position[2])[1] > 0.9


def test_slope_surfels_cover_the_same_plan_area_as_flat_ones():
    # On steep ground each surfel's footprint, seen from above, stays the grid's isotropic
    # sigma (stretched along the slope), so hills show neither stripes nor holes.
    from studio.transforms import quat_to_matrix
    from studio.world import SURFEL_SIGMA

    w = World(
        WorldSpec(
            seed=2, biomes=[BiomeWeight(biome="alpine")], terrain=Terrain(height_scale=120.0)
        ),
        background=False,
    )
    lod = 1
    t = w.chunk(3, -2).terrain[lod]
    g = t.gaussians
    steep = (t.normals[:, 1] < 0.8) & (t.normals[:, 1] > 0.3)  # below 0.25 the stretch is capped
    assert steep.mean() > 0.05
    R = quat_to_matrix(g.quats[steep])
    S = g.scales[steep].astype(np.float64)
    cov = np.einsum("nij,nj,nkj->nik", R, S**2, R)
    plan = cov[:, [0, 2]][:, :, [0, 2]]
    sig2 = (SURFEL_SIGMA * LOD_SPACING[lod]) ** 2
    np.testing.assert_allclose(
        plan, np.broadcast_to(np.eye(2) * sig2, plan.shape), atol=0.02 * sig2
    )
    w.close()


def test_heightfield_grid_is_the_height_function_with_upward_faces():
    import trimesh

    from studio.terrain import heightfield_grid

    def slope(x, z):
        return 0.5 * x - 0.25 * z  # a plane: every face normal is (-0.5, 1, 0.25) normalised

    verts, faces = heightfield_grid(slope, np.array([[0.0, 0.0], [4.0, 3.0]]), 1.0)
    assert verts.shape == (5 * 4, 3) and faces.shape == (2 * 4 * 3, 3)
    np.testing.assert_allclose(verts[:, 1], slope(verts[:, 0], verts[:, 2]))
    n = trimesh.Trimesh(verts, faces, process=False).face_normals
    np.testing.assert_allclose(
        n, np.tile([-0.5, 1.0, 0.25] / np.linalg.norm([-0.5, 1.0, 0.25]), (len(n), 1)), atol=1e-12
    )
    with pytest.raises(ValueError, match="max > min"):
        heightfield_grid(slope, np.array([[1.0, 0.0], [0.0, 1.0]]), 1.0)
