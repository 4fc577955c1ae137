"""Camera-only exports of a take: `json`, `chan` (Nuke), `gltf-camera`, `usd-camera`.

Every format carries one sample per simulation tick (30 per second) in Tidepool's world frame
(+Y up, metres), so DCC tools get the move exactly as recorded.

Nuke .chan: one line per frame, ``frame tx ty tz rx ry rz vfov`` (frames from 1, degrees).
The rotation order is **ZXY** (Nuke's camera default): roll about Z first, then pitch about
X, then yaw about Y, i.e. R = Ry(ry) · Rx(rx) · Rz(rz), with rx = pitch, ry = yaw,
rz = roll; a Nuke camera looks down -Z with +Y up, as Tidepool's camera body frame does.
Set the camera's rotation order to ZXY when importing and the project to 30 fps.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from exporters.base import (
    ExportRequest,
    ProgressFn,
    Steps,
    deliver,
    load_take,
    open_take,
    take_camera,
)
from exporters.gltf import Gltf, add_camera
from studio.conventions import TICK_HZ
from studio.storage import TakeRow


def camera_json(take: TakeRow, *, width: int, height: int) -> dict:
    """Per-tick pose, vfov and tick as plain JSON (see `export_json`)."""
    frames = []
    for i in range(len(take.cameras)):
        c = take_camera(take, i, width=width, height=height)
        frames.append(
            {
                "tick": take.start_tick + i,
                "time_s": i / TICK_HZ,
                "position": c.position.tolist(),
                "yaw": c.yaw,
                "pitch": c.pitch,
                "roll": c.roll,
                "vfov": c.vfov,
                "T_world_camera": c.T_world_camera.tolist(),
            }
        )
    return {
        "format": "tidepool-camera",
        "version": 1,
        "take": take.name,
        "conventions": {
            "world": "right-handed, +Y up, metres",
            "angles": "degrees; R_world_body = Ry(yaw) Rx(pitch) Rz(roll); body x right, y up, "
            "looking down -z",
            "T_world_camera": "pose of the OpenCV camera frame (x right, y down, z forward)",
            "vfov": "vertical field of view, degrees",
        },
        "fps": TICK_HZ,
        "width": width,
        "height": height,
        "start_tick": take.start_tick,
        "end_tick": take.end_tick,
        "frames": frames,
    }


def read_take(request: ExportRequest) -> TakeRow:
    """The requested take of the requested project (a clear error if either is missing)."""
    with open_take(request.project) as store:
        return load_take(store, request.take)


def export_json(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's camera per tick as JSON: position, yaw/pitch/roll, vfov, T_world_camera."""
    steps = Steps(progress, cancel)
    take = read_take(request)
    doc = camera_json(take, width=request.width, height=request.height)
    steps.report(1.0)
    data = json.dumps(doc, indent=1).encode()
    return deliver(request, lambda p: p.write_bytes(data))


def chan_text(take: TakeRow) -> str:
    """Nuke .chan lines (see the module docstring for columns and rotation order)."""
    lines = []
    for i, (x, y, z, yaw, pitch, roll, vfov) in enumerate(take.cameras.tolist()):
        vals = (x, y, z, pitch, yaw, roll, vfov)
        lines.append(f"{i + 1} " + " ".join(f"{v:.6f}" for v in vals))
    return "\n".join(lines) + "\n"


def export_chan(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's camera as a Nuke .chan file (frame tx ty tz rx ry rz vfov, rotation ZXY)."""
    steps = Steps(progress, cancel)
    take = read_take(request)
    text = chan_text(take).encode()
    steps.report(1.0)
    return deliver(request, lambda p: p.write_bytes(text))


def export_gltf_camera(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's camera as an animated glTF camera (GLB, or .gltf JSON by the output suffix)."""
    steps = Steps(progress, cancel)
    take = read_take(request)
    g = Gltf()
    add_camera(g, take, width=request.width, height=request.height)
    steps.report(1.0)
    as_json = request.output is not None and Path(request.output).suffix.lower() == ".gltf"
    data = g.gltf_json() if as_json else g.glb()
    return deliver(request, lambda p: p.write_bytes(data))


def export_usd_camera(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take's camera as a USD stage (.usda text unless the output ends in .usd/.usdc)."""
    from exporters import usd

    steps = Steps(progress, cancel)
    take = read_take(request)

    def write(path: Path) -> None:
        target = path.with_name(path.name + _usd_suffix(request))
        stage = usd.new_stage(target, take)
        usd.add_camera(stage, take, width=request.width, height=request.height)
        steps.report(0.9)
        stage.GetRootLayer().Save()
        del stage
        target.replace(path)

    return deliver(request, write)


def _usd_suffix(request: ExportRequest) -> str:
    """USD picks the file format by suffix: .usda text by default, .usdc/.usd crate binary."""
    if request.output is not None and Path(request.output).suffix.lower() in (".usd", ".usdc"):
        return ".usdc"
    return ".usda"
