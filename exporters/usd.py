"""USD stages from takes and scenes (usd-core): metadata, the animated camera, meshes.

Units: metersPerUnit = 1 and upAxis = Y (Tidepool's world as it is). UsdGeomCamera stores
focal length and apertures in *tenths of a scene unit*, so with metres a 36 mm aperture is
written 0.36 (Blender's USD importer reads them that way); the ratio focal/aperture, which
sets the field of view, is exact either way. Time codes are take rows (ticks from the take's
start) at timeCodesPerSecond = 30.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exporters.base import ExportError, take_camera
from studio.conventions import TICK_HZ
from studio.storage import TakeRow

SENSOR_WIDTH_MM = 36.0
"""Full-frame horizontal aperture; the vertical one follows the image aspect."""
METERS_PER_UNIT = 1.0
MM_PER_TENTH_UNIT = 1000.0 * METERS_PER_UNIT / 10.0


def _pxr():
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom
    except ImportError as e:  # an optional dependency fails only when used
        raise ExportError(
            "USD export needs usd-core: pip install 'tidepool-studio[export]' (or usd-core)"
        ) from e
    return Gf, Sdf, Usd, UsdGeom


def new_stage(path: Path, take: TakeRow):
    """A stage at `path` with Tidepool's metadata and the take's time range."""
    _, _, Usd, UsdGeom = _pxr()
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, METERS_PER_UNIT)
    stage.SetTimeCodesPerSecond(TICK_HZ)
    stage.SetFramesPerSecond(TICK_HZ)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(max(0, len(take.cameras) - 1))
    world = UsdGeom.Xform.Define(stage, "/World")
    stage.SetDefaultPrim(world.GetPrim())
    return stage


def focal_mm(vfov: float, width: int, height: int) -> float:
    """Focal length (mm) giving `vfov` on a SENSOR_WIDTH_MM-wide sensor of aspect width/height."""
    v_ap = SENSOR_WIDTH_MM * height / width
    return 0.5 * v_ap / np.tan(np.radians(vfov) / 2)


def add_camera(stage, take: TakeRow, *, width: int, height: int, path: str = "/World/Camera"):
    """The take's camera: one transform op sampled per tick, focal length per tick."""
    Gf, _, _, UsdGeom = _pxr()
    cam = UsdGeom.Camera.Define(stage, path)
    cam.CreateProjectionAttr(UsdGeom.Tokens.perspective)
    cam.CreateHorizontalApertureAttr(SENSOR_WIDTH_MM / MM_PER_TENTH_UNIT)
    cam.CreateVerticalApertureAttr(SENSOR_WIDTH_MM * height / width / MM_PER_TENTH_UNIT)
    cam.CreateClippingRangeAttr(Gf.Vec2f(0.05, 2000.0))
    focal = cam.CreateFocalLengthAttr()
    op = cam.AddTransformOp()
    vfovs = take.cameras[:, 6]
    for i in range(len(take.cameras)):
        c = take_camera(take, i)
        T = np.eye(4)
        T[:3, :3] = c.R_world_body
        T[:3, 3] = c.position
        op.Set(Gf.Matrix4d(T.T.tolist()), float(i))  # USD matrices act on row vectors
        if i == 0 or vfovs[i] != vfovs[i - 1]:
            focal.Set(focal_mm(float(vfovs[i]), width, height) / MM_PER_TENTH_UNIT, float(i))
    return cam


def add_mesh(stage, path: str, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None,
             T_world_local: np.ndarray):  # fmt: skip
    """A UsdGeomMesh of triangles with per-vertex display colours (sRGB in [0, 1])."""
    Gf, _, _, UsdGeom = _pxr()
    from pxr import Vt

    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(vertices, np.float32)))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(faces), 3, np.int32)))
    mesh.CreateFaceVertexIndicesAttr(
        Vt.IntArray.FromNumpy(np.ascontiguousarray(faces, np.int32).ravel())
    )
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    mesh.CreateExtentAttr(Vt.Vec3fArray.FromNumpy(np.stack([lo, hi]).astype(np.float32)))
    if colors is not None:
        pv = mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.vertex)
        pv.Set(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(colors[:, :3], np.float32)))
    if not np.allclose(T_world_local, np.eye(4)):
        mesh.AddTransformOp().Set(Gf.Matrix4d(np.asarray(T_world_local, float).T.tolist()))
    return mesh
