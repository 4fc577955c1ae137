"""Exports: takes to video, worlds to splats and meshes, camera moves to DCC tools.

`EXPORTERS` maps each `tidepool export --format` name to a function
``(request, *, progress, cancel) -> bytes | Path`` (see `exporters.base`); `export` runs one.
"""

from __future__ import annotations

import threading
from pathlib import Path

from exporters.base import (
    ExportCancelled,
    Exporter,
    ExportError,
    ExportRequest,
    ProgressFn,
)
from exporters.camera_path import export_chan, export_gltf_camera, export_json, export_usd_camera
from exporters.scene import export_glb, export_usd
from exporters.splats import export_gltf_splat, export_ply, export_splat, export_spz
from exporters.video import export_mp4

EXPORTERS: dict[str, Exporter] = {
    "mp4": export_mp4,
    "json": export_json,
    "chan": export_chan,
    "gltf-camera": export_gltf_camera,
    "usd-camera": export_usd_camera,
    "ply": export_ply,
    "splat": export_splat,
    "spz": export_spz,
    "gltf-splat": export_gltf_splat,
    "glb": export_glb,
    "usd": export_usd,
}


WORLD_FORMATS = ("ply", "splat", "spz", "gltf-splat", "glb", "usd")
"""The formats of the world itself (splats, meshes), which export without a take."""


def export(
    format: str,
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """Run the exporter for `format`; an ExportError lists the formats that exist."""
    check_format(format, request.take)
    return EXPORTERS[format](request, progress=progress, cancel=cancel)


def check_format(format: str, take: str | None) -> None:
    """An ExportError unless `format` exists and applies (video and camera moves need a take)."""
    if format not in EXPORTERS:
        raise ExportError(f"format {format!r} is not one of: {', '.join(EXPORTERS)}.")
    if take is None and format not in WORLD_FORMATS:
        raise ExportError(
            f"{format} exports a camera move: name a take (record one in the studio first); "
            f"without one, only the world exports ({', '.join(WORLD_FORMATS)})."
        )


__all__ = [
    "EXPORTERS",
    "WORLD_FORMATS",
    "ExportCancelled",
    "ExportError",
    "ExportRequest",
    "Exporter",
    "check_format",
    "export",
]
