"""`make_asset` for every prop kind: builds, is deterministic, varies by seed, and its three
forms (mesh, surfels, colliders) agree with each other."""

from __future__ import annotations

import numpy as np
import pytest
from mesh_checks import closest_on_mesh, nearest_distance

from studio.assets import ASSET_INFO, AssetError, kinds_for_biome, make_asset, surfel_normals
from studio.assets.catalog import _make_cached
from studio.spec import BIOMES, PROP_KINDS

STONE_KINDS = {
    "rock",
    "boulder",
    "cliff",
    "castle_wall",
    "tower",
    "pillar",
    "ruins",
    "statue",
    "gate",
}
ARRAYS = ("means", "quats", "scales", "opacities", "colors")


def test_every_kind_builds_valid_coloured_assets_of_plausible_size() -> None:
    assert set(ASSET_INFO) == set(PROP_KINDS)
    for kind in PROP_KINDS:
        a = make_asset(kind, 11, detail=0.25)
        g = a.gaussians.validate()
        assert len(g) > 10, kind
        lo, hi = a.bounds
        assert -1.0 < lo[1] < 0.6, (kind, lo)  # stands on the ground (may sink a little)
        hmin, hmax = ASSET_INFO[kind].height
        assert 0.6 * hmin <= hi[1] <= 1.5 * hmax, (kind, hi[1], ASSET_INFO[kind].height)
        assert a.mesh.visual.kind == "vertex"
        # never a flat grey box: brightness varies across the surfels, and all but stone
        # kinds carry a visible hue somewhere
        lum = g.colors.mean(axis=1)
        assert lum.std() > 0.06 * lum.mean(), kind
        if kind not in STONE_KINDS:
            sat = g.colors.max(axis=1) - g.colors.min(axis=1)
            assert np.quantile(sat, 0.9) > 0.08, kind


def test_same_arguments_give_byte_identical_arrays() -> None:
    for kind in ("conifer", "house", "flowers"):
        _make_cached.cache_clear()
        a = make_asset(kind, 5)
        _make_cached.cache_clear()
        b = make_asset(kind, 5)
        assert a is not b
        for name in ARRAYS:
            assert getattr(a.gaussians, name).tobytes() == getattr(b.gaussians, name).tobytes()
        assert a.mesh.vertices.tobytes() == b.mesh.vertices.tobytes()
        assert make_asset(kind, 5) is make_asset(kind, 5)  # memoised


def test_seeds_vary_size_shape_and_colour() -> None:
    for kind in ("conifer", "broadleaf_tree", "rock", "house"):
        assets = [make_asset(kind, s, detail=0.25) for s in range(6)]
        heights = [a.bounds[1, 1] for a in assets]
        colours = np.array([a.gaussians.colors.mean(axis=0) for a in assets])
        assert np.ptp(heights) > 0.1 * np.mean(heights), kind
        assert np.ptp(colours, axis=0).max() > 0.02, kind


def test_detail_scales_surfel_count_but_keeps_the_shape() -> None:
    near, far = make_asset("boulder", 3, detail=1.0), make_asset("boulder", 3, detail=0.25)
    assert near.mesh.vertices.tobytes() == far.mesh.vertices.tobytes()
    assert len(far.gaussians) == pytest.approx(len(near.gaussians) / 4, rel=0.15)
    assert far.spacing == pytest.approx(2 * near.spacing)


@pytest.mark.parametrize("kind", ["rock", "conifer", "hut"])
def test_asset_surfels_lie_on_their_mesh_and_face_outward(kind: str) -> None:
    a = make_asset(kind, 2, detail=0.5)
    g = a.gaussians
    idx = np.linspace(0, len(g) - 1, 150).astype(int)
    dist, face = closest_on_mesh(a.mesh, g.means[idx].astype(np.float64))
    assert dist.max() < 0.01 * a.spacing
    dots = (surfel_normals(g)[idx] * a.mesh.face_normals[face]).sum(axis=1)
    assert np.mean(dots > 0.99) > 0.95


def test_rock_surface_is_covered_where_it_is_visible() -> None:
    a = make_asset("rock", 4)
    import trimesh

    probes, _ = trimesh.sample.sample_surface(a.mesh, 2000, seed=1)
    probes = np.asarray(probes)[np.asarray(probes)[:, 1] > 0.02]  # above the ground
    d = nearest_distance(probes, a.gaussians.means.astype(np.float64))
    assert np.quantile(d, 0.99) < 1.1 * a.spacing
    assert d.max() < 1.6 * a.spacing


def test_colliders_enclose_trunks_and_buildings() -> None:
    for kind in ("conifer", "broadleaf_tree", "palm", "cactus"):
        for seed in range(3):
            a = make_asset(kind, seed, detail=0.25)
            (c,) = a.colliders
            assert c.shape == "cylinder"
            v = np.asarray(a.mesh.vertices)
            foot = v[v[:, 1] < 0.5]  # the trunk at the ground: nothing else is that low
            r = np.hypot(foot[:, 0] - c.center[0], foot[:, 2] - c.center[2])
            assert r.max() <= c.size[0] * 1.02 + 1e-6, (kind, seed)
            assert c.center[1] + c.size[1] >= 0.3 * a.bounds[1, 1]
    h = make_asset("house", 1)
    (box,) = h.colliders
    walls = h.gaussians.means[(h.gaussians.means[:, 1] > 0.1) & (h.gaussians.means[:, 1] < 3.0)]
    inside = (np.abs(walls - np.asarray(box.center)) <= np.asarray(box.size) + 0.12).all(axis=1)
    assert inside.mean() > 0.99
    assert make_asset("grass_tuft", 0).colliders == []


def test_biome_table_is_consistent_with_the_spec() -> None:
    for info in ASSET_INFO.values():
        assert set(info.biomes) <= set(BIOMES)
    for biome in BIOMES:
        kinds = kinds_for_biome(biome)
        assert kinds, biome
        assert all(ASSET_INFO[k].density > 0 and biome in ASSET_INFO[k].biomes for k, _ in kinds)
    assert {k for k, _ in kinds_for_biome("conifer_forest", role="tree")} == {"conifer"}
    with pytest.raises(ValueError, match="unknown biome"):
        kinds_for_biome("moon")


def test_bad_requests_name_the_fix() -> None:
    with pytest.raises(AssetError, match=r"unknown asset kind 'spaceship'.*conifer"):
        make_asset("spaceship", 0)
    with pytest.raises(AssetError, match="detail"):
        make_asset("rock", 0, detail=0.0)
