"""Splat exports decoded by readers we did not write (plyfile, gsply for SPZ), by a decoder of
the published .splat layout written here from its description, and by glTF-Validator."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from export_tools import gltf_errors, gltf_validate

from exporters import ExportRequest, export
from exporters.splats import region_gaussians
from studio.gaussians import Gaussians
from studio.storage import ProjectFile

RADIUS = 10.0
C0 = 0.28209479177387814


@pytest.fixture(scope="module")
def ref(project: Path) -> Gaussians:
    with ProjectFile.open(project, readonly=True) as store:
        return region_gaussians(store, store.take("walk"), radius=RADIUS)


def _same_rotation(q: np.ndarray, ref: np.ndarray, atol: float) -> None:
    """Unit quaternions equal up to sign."""
    dots = np.abs(np.sum(q * ref, axis=1))
    assert dots.min() > 1 - atol


def test_region_lies_within_radius_of_the_camera_path(project, ref) -> None:
    with ProjectFile.open(project, readonly=True) as store:
        cams = store.take("walk").cameras
    assert len(ref) > 10_000
    d = np.min(np.linalg.norm(ref.means[:, None, [0, 2]] - cams[None, :, [0, 2]], axis=2), 1)
    assert d.max() <= RADIUS + 1e-6
    ref.validate()


@pytest.mark.parametrize("axes", ["y-up", "inria"])
def test_ply_is_the_inria_layout(project: Path, ref: Gaussians, axes: str, tmp_path: Path) -> None:
    from plyfile import PlyData

    out = tmp_path / "w.ply"
    export("ply", ExportRequest(project, "walk", output=out, radius=RADIUS, axes=axes))
    v = PlyData.read(str(out))["vertex"]
    names = [p.name for p in v.properties]
    assert names == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity",
                     "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]  # fmt: skip
    assert all(v.data.dtype[n] == np.dtype("<f4") for n in names)
    assert len(v.data) == len(ref)
    flip = np.array([1, -1, -1]) if axes == "inria" else np.ones(3)
    xyz = np.stack([v["x"], v["y"], v["z"]], 1)
    np.testing.assert_allclose(xyz, ref.means * flip, atol=1e-5)
    rgb = np.stack([v[f"f_dc_{i}"] for i in range(3)], 1) * C0 + 0.5
    np.testing.assert_allclose(rgb, ref.colors, atol=1e-5)
    np.testing.assert_allclose(1 / (1 + np.exp(-v["opacity"])), ref.opacities, atol=1e-5)
    scales = np.exp(np.stack([v[f"scale_{i}"] for i in range(3)], 1))
    np.testing.assert_allclose(scales, ref.scales, rtol=1e-5)
    q = np.stack([v[f"rot_{i}"] for i in range(4)], 1)  # w, x, y, z
    # A 180° turn about X maps (w, x, y, z) to (-x, w, -z, y) (x-axis quaternion (0, 1, 0, 0)).
    r = ref.quats
    expect = np.stack([-r[:, 1], r[:, 0], -r[:, 3], r[:, 2]], 1) if axes == "inria" else r
    _same_rotation(q, expect, 1e-5)
    # Right side up: in INRIA axes the ground lies at +y below the sky (y down).
    assert np.median(v["y"]) * (1 if axes == "y-up" else -1) == pytest.approx(
        np.median(ref.means[:, 1]), abs=1e-4
    )


def test_splat_records_decode_per_published_layout(project: Path, ref: Gaussians) -> None:
    data = export("splat", ExportRequest(project, "walk", radius=RADIUS, axes="y-up"))
    assert len(data) == 32 * len(ref)
    rec = np.frombuffer(data, dtype=np.uint8).reshape(-1, 32)
    pos = rec[:, 0:12].copy().view("<f4").reshape(-1, 3)
    scale = rec[:, 12:24].copy().view("<f4").reshape(-1, 3)
    rgba = rec[:, 24:28] / 255.0
    rot = (rec[:, 28:32].astype(np.float64) - 128) / 128
    # Records are reordered: match them back by position.
    order = np.lexsort((ref.means[:, 2], ref.means[:, 1], ref.means[:, 0]))
    got = np.lexsort((pos[:, 2], pos[:, 1], pos[:, 0]))
    np.testing.assert_array_equal(pos[got], ref.means[order])
    np.testing.assert_allclose(scale[got], ref.scales[order], rtol=1e-6)
    np.testing.assert_allclose(rgba[got, :3], ref.colors[order], atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(rgba[got, 3], ref.opacities[order], atol=0.5 / 255 + 1e-6)
    rot = rot / np.linalg.norm(rot, axis=1, keepdims=True)
    _same_rotation(rot[got], ref.quats[order], 2e-3)


@pytest.mark.parametrize("version", [2, 3, 4])
def test_spz_read_back_by_gsply(project: Path, ref: Gaussians, version: int, tmp_path) -> None:
    gsply = pytest.importorskip("gsply")
    if version == 4:
        pytest.importorskip("zstandard")
    out = tmp_path / "w.spz"
    export("spz", ExportRequest(project, "walk", output=out, radius=RADIUS, spz_version=version))
    raw = out.read_bytes()
    if version < 4:
        assert struct.unpack_from("<II", gzip.decompress(raw))[1] == version
    d = gsply.read_spz(str(out))
    assert len(d.means) == len(ref)
    np.testing.assert_allclose(d.means, ref.means, atol=2**-12)
    np.testing.assert_allclose(np.exp(d.scales), ref.scales, rtol=0.035)
    np.testing.assert_allclose(d.sh0 * C0 + 0.5, ref.colors, atol=0.02)
    np.testing.assert_allclose(1 / (1 + np.exp(-d.opacities)), ref.opacities, atol=0.5 / 255 + 1e-4)
    q = d.quats / np.linalg.norm(d.quats, axis=1, keepdims=True)
    _same_rotation(q, ref.quats, 6e-3 if version == 2 else 1e-3)  # v2: 8-bit x, y, z


def test_gltf_splat_validates_and_carries_the_splats(project: Path, ref, tmp_path) -> None:
    out = tmp_path / "w.glb"
    export("gltf-splat", ExportRequest(project, "walk", output=out, radius=RADIUS))
    report = gltf_validate(out)
    # Only the validator's known gap is overridden: it does not know the extension's attributes.
    errors = [e for e in gltf_errors(report)]
    assert {e["code"] for e in errors} <= {"MESH_PRIMITIVE_INVALID_ATTRIBUTE"}
    assert all("KHR_gaussian_splatting" in _attr(out, e["pointer"]) for e in errors)
    report = gltf_validate(out, severity_overrides={"MESH_PRIMITIVE_INVALID_ATTRIBUTE": 2})
    assert gltf_errors(report) == []


def _attr(path: Path, pointer: str) -> str:
    import json

    data = path.read_bytes()
    (n,) = struct.unpack_from("<I", data, 12)
    doc = json.loads(data[20 : 20 + n])
    parts = pointer.strip("/").split("/")
    node = doc
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    return parts[-1]
