"""Camera-only exports read back by independent means: JSON, Nuke .chan rebuilt with the ZXY
order, glTF through the Khronos validator, USD through usd-core's validators and Gf.Camera."""

from __future__ import annotations

import json
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from export_fixtures import TAKE_TICKS
from export_tools import gltf_errors, gltf_validate

from exporters import EXPORTERS, ExportCancelled, ExportError, ExportRequest, export
from studio.storage import ProjectFile


def forward(yaw: float, pitch: float) -> np.ndarray:
    """Viewing direction from the conventions' words: yaw 0 looks -Z, +90 looks -X, pitch up."""
    y, p = np.radians(yaw), np.radians(pitch)
    return np.array([-np.sin(y) * np.cos(p), np.sin(p), -np.cos(y) * np.cos(p)])


@pytest.fixture(scope="module")
def cams(project: Path) -> np.ndarray:
    with ProjectFile.open(project, readonly=True) as store:
        return store.take("walk").cameras


def test_registry_lists_camera_formats_and_rejects_unknown(project: Path) -> None:
    assert {"json", "chan", "gltf-camera", "usd-camera"} <= set(EXPORTERS)
    with pytest.raises(ExportError, match="not one of"):
        export("fbx", ExportRequest(project, "walk"))
    with pytest.raises(ExportError, match="'walk'"):
        export("json", ExportRequest(project, "nope"))


def test_json_has_every_tick_with_pose_and_vfov(project: Path, cams: np.ndarray) -> None:
    doc = json.loads(export("json", ExportRequest(project, "walk")))
    frames = doc["frames"]
    assert len(frames) == TAKE_TICKS
    assert [f["tick"] for f in frames] == list(range(doc["start_tick"], doc["end_tick"]))
    for f, row in zip(frames, cams, strict=True):
        T = np.array(f["T_world_camera"])
        np.testing.assert_allclose(T[:3, 3], row[:3], atol=1e-9)
        # OpenCV +z is the viewing direction.
        np.testing.assert_allclose(T[:3, 2], forward(row[3], row[4]), atol=1e-9)
        assert f["vfov"] == row[6]


def test_chan_rebuilt_with_zxy_order_looks_where_the_take_looks(
    project: Path, cams: np.ndarray
) -> None:
    text = export("chan", ExportRequest(project, "walk")).decode()
    rows = np.array([[float(v) for v in line.split()] for line in text.splitlines()])
    assert rows.shape == (TAKE_TICKS, 8)
    assert rows[:, 0].tolist() == list(range(1, TAKE_TICKS + 1))

    def R(axis: int, deg: float) -> np.ndarray:
        c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
        i, j = [(1, 2), (2, 0), (0, 1)][axis]
        m = np.eye(3)
        m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
        return m

    for r, row in zip(rows, cams, strict=True):
        rot = R(1, r[5]) @ R(0, r[4]) @ R(2, r[6])  # Nuke ZXY: Z first, then X, then Y
        np.testing.assert_allclose(r[1:4], row[:3], atol=1e-5)
        np.testing.assert_allclose(rot @ [0, 0, -1], forward(row[3], row[4]), atol=1e-5)
        assert r[7] == pytest.approx(row[6])


def _glb_json_bin(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack_from("<I", data, 12)
    doc = json.loads(data[20 : 20 + n])
    (m,) = struct.unpack_from("<I", data, 20 + n)
    return doc, data[28 + n : 28 + n + m]


def _accessor(doc: dict, binary: bytes, i: int) -> np.ndarray:
    acc = doc["accessors"][i]
    view = doc["bufferViews"][acc["bufferView"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[acc["type"]]
    off = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    return np.frombuffer(binary, "<f4", acc["count"] * width, off).reshape(acc["count"], width)


def _qrot(q_xyzw: np.ndarray, v: np.ndarray) -> np.ndarray:
    x, y, z, w = q_xyzw
    u = np.array([x, y, z])
    return v + 2 * np.cross(u, np.cross(u, v) + w * v)


def test_gltf_camera_validates_and_animates_the_take(
    project: Path, cams: np.ndarray, tmp_path: Path
) -> None:
    out = tmp_path / "cam.glb"
    export("gltf-camera", ExportRequest(project, "walk", output=out))
    report = gltf_validate(out)
    assert gltf_errors(report) == []
    assert report["issues"]["numWarnings"] == 0
    doc, binary = _glb_json_bin(out.read_bytes())
    cam = doc["cameras"][0]["perspective"]
    assert cam["zfar"] > cam["znear"] > 0
    assert np.degrees(cam["yfov"]) == pytest.approx(cams[0, 6])
    anim = doc["animations"][0]
    by_path = {c["target"]["path"]: anim["samplers"][c["sampler"]] for c in anim["channels"]}
    t = _accessor(doc, binary, by_path["translation"]["input"])[:, 0]
    pos = _accessor(doc, binary, by_path["translation"]["output"])
    rot = _accessor(doc, binary, by_path["rotation"]["output"])
    np.testing.assert_allclose(t, np.arange(TAKE_TICKS) / 30, atol=1e-6)
    np.testing.assert_allclose(pos, cams[:, :3], atol=1e-4)
    for q, row in zip(rot, cams, strict=True):
        np.testing.assert_allclose(_qrot(q, np.array([0, 0, -1.0])), forward(row[3], row[4]),
                                   atol=1e-5)  # fmt: skip
    # Also as .gltf JSON with an embedded buffer.
    out2 = tmp_path / "cam.gltf"
    export("gltf-camera", ExportRequest(project, "walk", output=out2))
    assert gltf_errors(gltf_validate(out2)) == []


def test_usd_camera_validates_with_metadata_and_field_of_view(
    project: Path, cams: np.ndarray, tmp_path: Path
) -> None:
    from pxr import Gf, Usd, UsdGeom, UsdValidation

    out = tmp_path / "cam.usda"
    export("usd-camera", ExportRequest(project, "walk", output=out, width=1280, height=720))
    stage = Usd.Stage.Open(str(out))
    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    errors = UsdValidation.ValidationContext(validators).Validate(stage)
    assert [e.GetMessage() for e in errors] == []
    assert UsdGeom.GetStageUpAxis(stage) == "Y"
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert stage.GetTimeCodesPerSecond() == 30
    assert (stage.GetStartTimeCode(), stage.GetEndTimeCode()) == (0, TAKE_TICKS - 1)
    cam = UsdGeom.Camera(stage.GetPrimAtPath("/World/Camera"))
    for i in (0, TAKE_TICKS // 2, TAKE_TICKS - 1):
        gf = cam.GetCamera(Usd.TimeCode(i))
        assert gf.GetFieldOfView(Gf.Camera.FOVVertical) == pytest.approx(cams[i, 6], abs=1e-3)
        M = np.array(gf.transform)  # row-vector convention
        np.testing.assert_allclose(M[3, :3], cams[i, :3], atol=1e-6)
        np.testing.assert_allclose(-M[2, :3], forward(cams[i, 3], cams[i, 4]), atol=1e-6)
    # 36 mm full-frame aperture in tenths of a metre.
    assert cam.GetHorizontalApertureAttr().Get() == pytest.approx(0.36)


def test_cancel_raises_and_leaves_no_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "cam.json"
    stop = threading.Event()
    stop.set()
    with pytest.raises(ExportCancelled):
        export("json", ExportRequest(project, "walk", output=out), cancel=stop)
    assert list(tmp_path.iterdir()) == []
    seen: list[float] = []
    export("json", ExportRequest(project, "walk", output=out), progress=seen.append)
    assert out.exists() and seen and seen[-1] == 1.0
