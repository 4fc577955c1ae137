"""Small rotation helpers shared by cameras, Gaussians and assets (vectorised numpy).

Quaternions are wxyz (see `studio.conventions`).
"""

from __future__ import annotations

import numpy as np


def rot_x(deg: float) -> np.ndarray:
    """(3, 3) rotation about +X by `deg` degrees (right-handed)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(deg: float) -> np.ndarray:
    """(3, 3) rotation about +Y by `deg` degrees (right-handed)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(deg: float) -> np.ndarray:
    """(3, 3) rotation about +Z by `deg` degrees (right-handed)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(N, 4) unit wxyz quaternions -> (N, 3, 3) rotation matrices."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.empty((*q.shape[:-1], 3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - w * z)
    m[..., 0, 2] = 2 * (x * z + w * y)
    m[..., 1, 0] = 2 * (x * y + w * z)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - w * x)
    m[..., 2, 0] = 2 * (x * z - w * y)
    m[..., 2, 1] = 2 * (y * z + w * x)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation matrices -> (N, 4) unit wxyz quaternions with w >= 0.

    Shepperd's method: pick the largest of (trace, diagonal) as the pivot for stability.
    """
    m = np.asarray(m, dtype=np.float64)
    single = m.ndim == 2
    m = m.reshape(-1, 3, 3)
    t = np.trace(m, axis1=1, axis2=2)
    d = np.stack([t, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)  # (N, 4)
    pivot = np.argmax(d, axis=1)
    q = np.empty((len(m), 4))
    for p in range(4):  # four cases, each vectorised over its rows
        i = pivot == p
        r = m[i]
        if p == 0:
            s = np.sqrt(1.0 + d[i, 0]) * 2
            q[i] = np.stack(
                [0.25 * s, (r[:, 2, 1] - r[:, 1, 2]) / s, (r[:, 0, 2] - r[:, 2, 0]) / s,
                 (r[:, 1, 0] - r[:, 0, 1]) / s], axis=1)  # fmt: skip
        elif p == 1:
            s = np.sqrt(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]) * 2
            q[i] = np.stack(
                [(r[:, 2, 1] - r[:, 1, 2]) / s, 0.25 * s, (r[:, 0, 1] + r[:, 1, 0]) / s,
                 (r[:, 0, 2] + r[:, 2, 0]) / s], axis=1)  # fmt: skip
        elif p == 2:
            s = np.sqrt(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2]) * 2
            q[i] = np.stack(
                [(r[:, 0, 2] - r[:, 2, 0]) / s, (r[:, 0, 1] + r[:, 1, 0]) / s, 0.25 * s,
                 (r[:, 1, 2] + r[:, 2, 1]) / s], axis=1)  # fmt: skip
        else:
            s = np.sqrt(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1]) * 2
            q[i] = np.stack(
                [(r[:, 1, 0] - r[:, 0, 1]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s,
                 (r[:, 1, 2] + r[:, 2, 1]) / s, 0.25 * s], axis=1)  # fmt: skip
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q[0] if single else q


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b of (..., 4) wxyz quaternions (apply b, then a)."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )
