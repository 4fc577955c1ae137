"""Mesh scenes read by third-party loaders: glTF-Validator and trimesh for GLB, usd-core's
validators and UsdGeom for USD; the terrain must sit where the world's heightfield is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from export_tools import gltf_errors, gltf_validate

from exporters import ExportRequest, export
from studio.storage import ProjectFile
from studio.world import World

RADIUS = 12.0


@pytest.fixture(scope="module")
def glb(project: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("glb") / "scene.glb"
    export("glb", ExportRequest(project, "walk", output=out, radius=RADIUS))
    return out


def test_glb_validates_with_named_nodes_camera_and_true_heights(project: Path, glb: Path) -> None:
    report = gltf_validate(glb)
    assert gltf_errors(report) == []
    assert report["issues"]["numWarnings"] == 0
    scene = trimesh.load(glb, force="scene")
    names = set(scene.graph.nodes_geometry)
    terrain = sorted(n for n in names if n.startswith("terrain_"))
    assert len(terrain) >= 1
    assert any(n.startswith("rock_") for n in names)
    assert sum(n.startswith("sheep_") for n in names) == 2
    assert "reconstruction" not in names  # a procedural world has source meshes for everything
    info = report["info"]
    assert info["animationCount"] == 1
    with ProjectFile.open(project, readonly=True) as store:
        world = World(store.spec, background=False)
    try:
        for n in terrain:
            T, geom = scene.graph[n]
            v = trimesh.transform_points(scene.geometry[geom].vertices, T)
            np.testing.assert_allclose(v[:, 1], world.height_at(v[:, 0], v[:, 2]), atol=1e-3)
            assert scene.geometry[geom].visual.kind == "vertex"
    finally:
        world.close()


def test_usd_scene_validates_with_metadata_and_the_same_nodes(project: Path, tmp_path) -> None:
    from pxr import Usd, UsdGeom, UsdValidation

    out = tmp_path / "scene.usda"
    export("usd", ExportRequest(project, "walk", output=out, radius=RADIUS))
    stage = Usd.Stage.Open(str(out))
    vals = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    assert [e.GetMessage() for e in UsdValidation.ValidationContext(vals).Validate(stage)] == []
    assert UsdGeom.GetStageUpAxis(stage) == "Y" and UsdGeom.GetStageMetersPerUnit(stage) == 1
    terrain = stage.GetPrimAtPath("/World/Terrain").GetChildren()
    creatures = stage.GetPrimAtPath("/World/Creatures").GetChildren()
    assert len(terrain) >= 1 and len(creatures) == 2
    mesh = UsdGeom.Mesh(terrain[0])
    pts = np.array(mesh.GetPointsAttr().Get())
    assert len(mesh.GetDisplayColorPrimvar().Get()) == len(pts)
    assert UsdGeom.Camera(stage.GetPrimAtPath("/World/Camera"))
