"""Tidepool's conventions, in one place. Every module that touches space, time or colour follows them.

World space
    Right-handed, **+Y up**, metres. The ground is the XZ plane. This is glTF's convention,
    so meshes export without an axis change.

Rotations
    Quaternions are ``wxyz`` in memory (as gsplat and the INRIA 3DGS PLY store them).
    glTF stores ``xyzw``: convert only at that boundary (`wxyz_to_xyzw`, `xyzw_to_wxyz`).

Cameras
    A camera's *body* frame is glTF's: x right, y up, looking down -z.
    Its orientation is yaw, pitch, roll in degrees, applied as
    ``R_world_body = Ry(yaw) @ Rx(pitch) @ Rz(roll)``:

    - yaw 0 looks along world -Z; yaw +90 looks along world -X (a left turn, counter-clockwise
      seen from above);
    - pitch > 0 looks up; roll > 0 tilts the horizon clockwise on screen (a right-wing-down bank
      is negative roll).

    Renderers take the world-to-camera view matrix in the **OpenCV** convention (x right,
    y down, z forward) and the intrinsics ``K``. ``Camera.T_world_camera`` is the pose of that
    OpenCV frame in the world, and ``Camera.viewmat() == inv(Camera.T_world_camera)``.
    Pixel (u, v) spans [u, u+1) x [v, v+1); its centre is (u + 0.5, v + 0.5). The principal
    point is the image centre (width/2, height/2). ``vfov`` is the vertical field of view in
    degrees at every user-facing API.

Colours and opacity
    Colours are sRGB in [0, 1] (the renderer blends them as stored, like the 3DGS papers);
    opacities are in [0, 1]; Gaussian scales are linear standard deviations in metres.
    Log scales and logit opacities appear only inside file formats.

Time
    The simulation ticks at `TICK_HZ` (30 per second) and counts time in integer ``tick``s.
    Seconds appear only at the user boundary (`seconds_to_tick`, `tick_to_seconds`).

Names say their frame: ``T_world_camera`` maps camera coordinates to world coordinates,
``pos_world`` is a position in the world frame, ``means`` are (N, 3) world positions.
"""

from __future__ import annotations

import numpy as np

TICK_HZ = 30
"""Simulation ticks per second."""

UP = np.array([0.0, 1.0, 0.0])
"""World up (+Y)."""

# OpenCV camera axes expressed in the glTF-style body frame: x stays, y and z flip.
BODY_FROM_OPENCV = np.diag([1.0, -1.0, -1.0])


def seconds_to_tick(seconds: float) -> int:
    """Nearest tick for a time in seconds (user boundary → simulation)."""
    return round(seconds * TICK_HZ)


def tick_to_seconds(tick: int) -> float:
    """Time in seconds of a tick (simulation → user boundary)."""
    return tick / TICK_HZ


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions from Tidepool's wxyz to glTF's xyzw."""
    q = np.asarray(q)
    return np.concatenate([q[..., 1:4], q[..., 0:1]], axis=-1)


def xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions from glTF's xyzw to Tidepool's wxyz."""
    q = np.asarray(q)
    return np.concatenate([q[..., 3:4], q[..., 0:3]], axis=-1)
