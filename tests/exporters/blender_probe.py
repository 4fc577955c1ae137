"""Run by Blender's Python (`bpy`), not by pytest: import a GLB or USD file into an empty scene
and print, as one JSON object, the imported camera's pose at the first and last frame of its
animation, converted back from Blender's +Z-up world to Tidepool's +Y-up world.

    python blender_probe.py glb|usd FILE
"""

from __future__ import annotations

import json
import sys

import bpy
import numpy as np

# Blender's importers turn a +Y-up file into Blender's +Z-up world: (x, y, z) -> (x, -z, y).
# Its inverse maps Blender world vectors back to Tidepool's world.
TIDEPOOL_FROM_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _pose(cam, frame: float) -> dict:
    scene = bpy.context.scene
    whole = int(np.floor(frame))
    scene.frame_set(whole, subframe=frame - whole)
    M = np.array(cam.matrix_world)  # (4, 4) Blender world <- camera object
    R = M[:3, :3] / np.linalg.norm(M[:3, :3], axis=0)  # drop any import scale
    return {
        "frame": frame,
        "position": (TIDEPOOL_FROM_BLENDER @ M[:3, 3]).tolist(),
        # Blender cameras look down local -Z with local +Y up, as Tidepool's body frame does.
        "forward": (TIDEPOOL_FROM_BLENDER @ -R[:, 2]).tolist(),
        "up": (TIDEPOOL_FROM_BLENDER @ R[:, 1]).tolist(),
        "vfov_deg": float(np.degrees(cam.data.angle_y)) if cam.data.sensor_fit != "AUTO" else None,
    }


def main(kind: str, path: str) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps = 30
    scene.render.fps_base = 1.0
    if kind == "glb":
        bpy.ops.import_scene.gltf(filepath=path)
    elif kind == "usd":
        bpy.ops.wm.usd_import(filepath=path, set_frame_range=True)
    else:
        raise SystemExit(f"kind {kind!r} must be glb or usd")
    cams = [o for o in scene.objects if o.type == "CAMERA"]
    if len(cams) != 1:
        raise SystemExit(f"expected one camera in {path}, found {[o.name for o in cams]}")
    cam = cams[0]
    ad = cam.animation_data
    if ad is not None and ad.action is not None:
        first, last = (float(f) for f in ad.action.frame_range)
    else:  # USD: animated transforms come in through a Transform Cache constraint
        first, last = float(scene.frame_start), float(scene.frame_end)
    out = {
        "blender": bpy.app.version_string,
        "kind": kind,
        "objects": len(scene.objects),
        "meshes": sum(o.type == "MESH" for o in scene.objects),
        "first": _pose(cam, first),
        "last": _pose(cam, last),
    }
    sys.stdout.write("TIDEPOOL-PROBE " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
