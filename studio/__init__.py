"""Tidepool's core: types, world generation, simulation, timeline, rendering, project files.

`studio` never imports `pipelines`, `exporters` or `ui` (see DESIGN.md, layers).
Conventions (axes, quaternions, cameras, colours, time) live in `studio.conventions`.
"""

from studio.camera import Camera
from studio.gaussians import Gaussians

__all__ = ["Camera", "Gaussians"]
__version__ = "0.1.0"
