"""A minimal glTF 2.0 writer for what trimesh cannot write: animated cameras and splat points.

trimesh writes the meshes (`exporters.scene`); this module appends nodes, accessors and
animations to a glTF document and packs it as GLB (or .gltf with an embedded buffer). The
Khronos glTF-Validator checks every file in the tests.
"""

from __future__ import annotations

import base64
import json
import struct

import numpy as np

from exporters.base import ExportError, take_camera
from studio.conventions import TICK_HZ
from studio.storage import TakeRow
from studio.transforms import matrix_to_quat

FLOAT, UBYTE = 5126, 5121
ARRAY_BUFFER = 34962
_TYPES = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4"}
ZFAR = 2000.0


class Gltf:
    """A glTF document under construction with one binary buffer."""

    def __init__(self, doc: dict | None = None, bin_chunk: bytes = b"") -> None:
        self.doc = doc or {"asset": {"version": "2.0", "generator": "Tidepool"}}
        self.doc.setdefault("asset", {"version": "2.0"})["generator"] = "Tidepool"
        self.bin = bytearray(bin_chunk)

    @classmethod
    def from_glb(cls, data: bytes) -> Gltf:
        magic, version, _ = struct.unpack_from("<III", data, 0)
        if magic != 0x46546C67 or version != 2:
            raise ExportError("not a GLB 2.0 file")
        off, doc, binary = 12, None, b""
        while off < len(data):
            length, kind = struct.unpack_from("<II", data, off)
            chunk = data[off + 8 : off + 8 + length]
            if kind == 0x4E4F534A:
                doc = json.loads(chunk)
            elif kind == 0x004E4942:
                binary = bytes(chunk)
            off += 8 + length
        if doc is None:
            raise ExportError("GLB has no JSON chunk")
        return cls(doc, binary)

    def _list(self, key: str) -> list:
        return self.doc.setdefault(key, [])

    def accessor(
        self, data: np.ndarray, *, component: int = FLOAT, normalized: bool = False,
        minmax: bool = False, vertex: bool = False,
    ) -> int:  # fmt: skip
        """Append (N,) or (N, C) data as a tightly packed buffer view + accessor; returns its index."""
        a = np.asarray(data)
        a = a.reshape(len(a), -1)
        dtype = np.float32 if component == FLOAT else np.uint8
        a = np.ascontiguousarray(a, dtype=dtype)
        while len(self.bin) % 4:
            self.bin.append(0)
        views = self._list("bufferViews")
        views.append({"buffer": 0, "byteOffset": len(self.bin), "byteLength": a.nbytes})
        if vertex:
            views[-1]["target"] = ARRAY_BUFFER
        self.bin.extend(a.tobytes())
        acc = {
            "bufferView": len(views) - 1,
            "componentType": component,
            "count": len(a),
            "type": _TYPES[a.shape[1]],
        }
        if normalized:
            acc["normalized"] = True
        if minmax:
            acc["min"] = a.min(axis=0).tolist()
            acc["max"] = a.max(axis=0).tolist()
        accs = self._list("accessors")
        accs.append(acc)
        return len(accs) - 1

    def add_node(self, node: dict, *, root: bool = True) -> int:
        nodes = self._list("nodes")
        nodes.append(node)
        idx = len(nodes) - 1
        if root:
            if not self.doc.get("scenes"):
                self.doc["scenes"] = [{"nodes": []}]
                self.doc["scene"] = 0
            self.doc["scenes"][self.doc.get("scene", 0)].setdefault("nodes", []).append(idx)
        return idx

    def use_extension(self, name: str) -> None:
        used = self._list("extensionsUsed")
        if name not in used:
            used.append(name)

    def _finish(self) -> dict:
        doc = dict(self.doc)
        while len(self.bin) % 4:
            self.bin.append(0)
        if self.bin:
            doc["buffers"] = [{"byteLength": len(self.bin)}]
        else:
            doc.pop("buffers", None)
        return doc

    def glb(self) -> bytes:
        doc = self._finish()
        js = json.dumps(doc, separators=(",", ":")).encode()
        js += b" " * (-len(js) % 4)
        chunks = struct.pack("<II", len(js), 0x4E4F534A) + js
        if self.bin:
            chunks += struct.pack("<II", len(self.bin), 0x004E4942) + bytes(self.bin)
        return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks

    def gltf_json(self) -> bytes:
        doc = self._finish()
        if self.bin:
            uri = "data:application/octet-stream;base64," + base64.b64encode(self.bin).decode()
            doc["buffers"] = [{"byteLength": len(self.bin), "uri": uri}]
        return json.dumps(doc, indent=1).encode()


def camera_track(take: TakeRow) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (T,) seconds from the take's start, positions (T, 3) and glTF xyzw rotations (T, 4)
    of the camera node (glTF cameras look down -Z with +Y up: Tidepool's body frame)."""
    n = len(take.cameras)
    times = np.arange(n) / TICK_HZ
    pos = take.cameras[:, :3].astype(np.float64)
    R = np.stack([take_camera(take, i).R_world_body for i in range(n)])
    q = matrix_to_quat(R)  # (T, 4) wxyz
    # Keep successive quaternions in one hemisphere so LINEAR interpolation takes the short way.
    for i in range(1, n):
        if np.dot(q[i], q[i - 1]) < 0:
            q[i] = -q[i]
    xyzw = np.concatenate([q[:, 1:], q[:, :1]], axis=1)
    return times, pos, xyzw


def add_camera(g: Gltf, take: TakeRow, *, width: int, height: int, name: str = "") -> int:
    """Add the take's camera as an animated perspective camera node; returns the node index.

    glTF core cannot animate yfov; the first tick's vfov is used (a take's vfov is constant
    unless a shot zooms; `json`, `chan` and `usd-camera` carry it per frame)."""
    times, pos, xyzw = camera_track(take)
    vfov = float(take.cameras[0, 6])
    cams = g._list("cameras")
    cams.append(
        {
            "type": "perspective",
            "name": name or take.name,
            "perspective": {
                "yfov": float(np.radians(vfov)),
                "aspectRatio": width / height,
                "znear": 0.05,
                "zfar": ZFAR,
            },
        }
    )
    node = g.add_node(
        {
            "name": name or f"camera_{take.name}",
            "camera": len(cams) - 1,
            "translation": pos[0].tolist(),
            "rotation": xyzw[0].tolist(),
        }
    )
    t_acc = g.accessor(times, minmax=True)
    p_acc = g.accessor(pos)
    r_acc = g.accessor(xyzw)
    g._list("animations").append(
        {
            "name": f"take_{take.name}",
            "samplers": [
                {"input": t_acc, "output": p_acc, "interpolation": "LINEAR"},
                {"input": t_acc, "output": r_acc, "interpolation": "LINEAR"},
            ],
            "channels": [
                {"sampler": 0, "target": {"node": node, "path": "translation"}},
                {"sampler": 1, "target": {"node": node, "path": "rotation"}},
            ],
        }
    )
    return node
