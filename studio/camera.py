"""`Camera`: a pinhole camera posed by position + yaw/pitch/roll (see `studio.conventions`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.conventions import BODY_FROM_OPENCV
from studio.transforms import rot_x, rot_y, rot_z


class CameraError(ValueError):
    """A camera parameter is out of range; the message names it and the fix."""


@dataclass
class Camera:
    """Pinhole camera. Angles in degrees; vfov is vertical; width/height in pixels.

    yaw 0 looks along world -Z, yaw +90 along -X; pitch > 0 looks up (studio.conventions).
    """

    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    vfov: float = 60.0
    width: int = 640
    height: int = 360
    near: float = 0.05
    far: float = 2000.0

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, dtype=np.float64).reshape(3)
        if not 1.0 <= self.vfov <= 170.0:
            raise CameraError(f"vfov {self.vfov} is outside [1, 170] degrees; pass e.g. vfov=60.")
        if self.width < 1 or self.height < 1:
            raise CameraError(f"image size {self.width}x{self.height} must be at least 1x1 pixels.")
        if not 0 < self.near < self.far:
            raise CameraError(f"near {self.near} and far {self.far} must satisfy 0 < near < far.")

    @property
    def R_world_body(self) -> np.ndarray:
        """(3, 3) rotation of the glTF-style body frame (x right, y up, -z forward)."""
        return rot_y(self.yaw) @ rot_x(self.pitch) @ rot_z(self.roll)

    @property
    def forward(self) -> np.ndarray:
        """(3,) unit viewing direction in the world."""
        return self.R_world_body @ np.array([0.0, 0.0, -1.0])

    @property
    def T_world_camera(self) -> np.ndarray:
        """(4, 4) pose of the OpenCV camera frame (x right, y down, z forward) in the world."""
        T = np.eye(4)
        T[:3, :3] = self.R_world_body @ BODY_FROM_OPENCV
        T[:3, 3] = self.position
        return T

    def viewmat(self) -> np.ndarray:
        """(4, 4) world-to-camera matrix, OpenCV convention; the inverse of T_world_camera."""
        R = self.R_world_body @ BODY_FROM_OPENCV
        V = np.eye(4)
        V[:3, :3] = R.T
        V[:3, 3] = -R.T @ self.position
        return V

    def K(self) -> np.ndarray:
        """(3, 3) intrinsics: square pixels, principal point at the image centre."""
        fy = 0.5 * self.height / np.tan(np.radians(self.vfov) / 2)
        return np.array([[fy, 0.0, self.width / 2], [0.0, fy, self.height / 2], [0.0, 0.0, 1.0]])

    @property
    def hfov(self) -> float:
        """Horizontal field of view in degrees."""
        return float(
            np.degrees(2 * np.arctan(np.tan(np.radians(self.vfov) / 2) * self.width / self.height))
        )

    def project(self, points_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world points -> ((N, 2) pixel coordinates, (N,) depth along the view axis)."""
        p = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
        V = self.viewmat()
        pc = p @ V[:3, :3].T + V[:3, 3]
        z = pc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (pc @ self.K().T)[:, :2] / z[:, None]
        return uv, z

    def look_at(self, target: np.ndarray, *, roll: float = 0.0) -> Camera:
        """Turn to face `target` (a world point); returns self for chaining."""
        d = np.asarray(target, dtype=np.float64) - self.position
        dist = np.linalg.norm(d)
        if dist < 1e-9:
            raise CameraError(
                "look_at target coincides with the camera position; move one of them."
            )
        self.yaw = float(np.degrees(np.arctan2(-d[0], -d[2])))
        self.pitch = float(np.degrees(np.arcsin(np.clip(d[1] / dist, -1.0, 1.0))))
        self.roll = roll
        return self

    def with_size(self, width: int, height: int) -> Camera:
        """A copy of this camera at another image size (same pose and vfov)."""
        return Camera(
            self.position.copy(), self.yaw, self.pitch, self.roll, self.vfov, width, height,
            self.near, self.far,
        )  # fmt: skip
