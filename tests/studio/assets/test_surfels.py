"""`sample_surfels` against exact geometry: on the surface, facing out, covering it without holes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from mesh_checks import closest_on_mesh, nearest_distance

from studio.assets import sample_surfels, surfel_normals


def _coloured_sphere() -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=2, radius=1.5)
    rgba = np.zeros((len(m.vertices), 4), np.uint8)
    rgba[:, 0] = np.round(255 * (m.vertices[:, 1] + 1.5) / 3.0)  # red rises with height
    rgba[:, 2] = 128
    rgba[:, 3] = 255
    m.visual.vertex_colors = rgba
    return m


def test_surfels_lie_on_the_surface_and_face_along_its_normals() -> None:
    mesh = _coloured_sphere()
    g = sample_surfels(mesh, spacing=0.15, seed=3, color_jitter=0.0).validate()
    pts = g.means.astype(np.float64)[::7]
    dist, face = closest_on_mesh(mesh, pts)
    assert dist.max() < 1e-4 * 0.15
    dots = (surfel_normals(g)[::7] * mesh.face_normals[face]).sum(axis=1)
    assert np.quantile(dots, 0.02) > 0.999  # (ties at edges may pick a neighbour face)
    # unlit albedo: the vertex colour ramp, interpolated (red = height) with no jitter
    expected_red = (pts[:, 1] + 1.5) / 3.0
    assert np.abs(g.colors[::7, 0] - expected_red).max() < 0.03


def test_count_follows_area_over_spacing_squared() -> None:
    box = trimesh.creation.box(extents=(4.0, 2.0, 3.0))  # 52 m² in 12 large triangles
    for spacing in (0.1, 0.2):
        n = len(sample_surfels(box, spacing=spacing, seed=0))
        assert n == pytest.approx(box.area / spacing**2, rel=0.05)


@pytest.mark.parametrize("spacing", [0.1, 0.25])
def test_random_surface_points_are_covered_within_a_spacing(spacing: float) -> None:
    mesh = _coloured_sphere()
    g = sample_surfels(mesh, spacing=spacing, seed=1)
    probes, _ = trimesh.sample.sample_surface(mesh, 3000, seed=5)
    d = nearest_distance(np.asarray(probes), g.means.astype(np.float64))
    assert d.max() < 1.5 * spacing  # no hole much wider than a spacing anywhere
    assert np.quantile(d, 0.99) < spacing
    assert np.median(d) < 0.5 * spacing
    # two standard deviations of every surfel reach past the gap to the nearest surfel for 99%
    assert g.scales[:, :2].min() * 2 > np.quantile(d, 0.99)


def test_thin_faces_get_narrow_surfels_along_their_length() -> None:
    blade = trimesh.Trimesh(vertices=[[-0.01, 0, 0], [0.01, 0, 0], [0, 1.0, 0]], faces=[[0, 1, 2]])
    g = sample_surfels(blade, spacing=0.05, seed=0)
    assert len(g) >= 8  # about one per spacing along the 1 m blade, though its area is 0.01 m²
    x_axis = np.stack(
        [1 - 2 * (g.quats[:, 2] ** 2 + g.quats[:, 3] ** 2),
         2 * (g.quats[:, 1] * g.quats[:, 2] + g.quats[:, 0] * g.quats[:, 3]),
         2 * (g.quats[:, 1] * g.quats[:, 3] - g.quats[:, 0] * g.quats[:, 2])], axis=1)  # fmt: skip
    # the long in-plane axis follows the blade (y), the short one is no wider than the blade
    assert np.abs(x_axis[:, 1]).min() > 0.99
    assert g.scales[:, 1].max() <= 0.0105


def test_same_seed_same_bytes_and_bad_spacing_is_named() -> None:
    mesh = _coloured_sphere()
    a = sample_surfels(mesh, spacing=0.2, seed=9)
    b = sample_surfels(mesh, spacing=0.2, seed=9)
    for name in ("means", "quats", "scales", "opacities", "colors"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()
    with pytest.raises(ValueError, match="spacing"):
        sample_surfels(mesh, spacing=0.0, seed=0)
