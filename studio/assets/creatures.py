"""Creatures and characters as part hierarchies ready to animate: `make_creature`, `Creature.pose`,
`gait_angles`.

A creature's root frame stands on the ground between its feet, +Y up, **facing +Z** (glTF's
model convention; its left is +X). Each part has a parent (earlier in the list), a rest
transform ``T_parent_part`` and one hinge joint: posing rotates the part about its `axis`
(in its own frame, at its origin) by the joint angle in **radians**, so

    T_world_part = T_world_parent @ T_parent_part @ Rot(axis, angle).

Limb axes are chosen so that a positive hip/shoulder angle swings the limb forward, a positive
knee angle bends it backward as knees do, a positive elbow angle flexes the forearm forward, a
positive wing angle raises the wing, and a positive neck/head angle nods down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import trimesh
from numba import njit

from studio.assets.base import Collider
from studio.assets.geometry import Builder, axis_angle, hsv_jitter, vec
from studio.gaussians import Gaussians
from studio.spec import CREATURE_KINDS
from studio.transforms import matrix_to_quat

JointKind = Literal[
    "root", "spine", "neck", "head", "shoulder", "elbow", "hip", "knee", "wing", "tail"
]
Variant = Literal["knight", "wizard"]

_FWD = np.array([-1.0, 0.0, 0.0])  # hinge axis whose positive angle swings a hanging limb toward +Z
_BACK = np.array([1.0, 0.0, 0.0])


class CreatureError(ValueError):
    """A creature request or pose names something unknown; the message lists the valid names."""


@dataclass(eq=False)
class CreaturePart:
    """One rigid part: geometry in its own frame, hinged to its parent at its origin."""

    name: str
    parent: int  # index into Creature.parts; -1 for the root
    T_parent_part: np.ndarray  # (4, 4) rest transform
    joint: JointKind
    axis: np.ndarray  # (3,) unit hinge axis in the part frame
    mesh: trimesh.Trimesh
    gaussians: Gaussians


@dataclass(eq=False)
class Creature:
    """A posable creature: parts (parents first), a collider, rest height (m) and surfel spacing."""

    kind: str
    parts: list[CreaturePart]
    colliders: list[Collider]
    height: float
    spacing: float
    variant: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for i, p in enumerate(self.parts):
            if not -1 <= p.parent < i:
                raise CreatureError(
                    f"part {p.name!r} has parent {p.parent}; parents must come earlier"
                )
        g = [p.gaussians for p in self.parts]
        self._cache["g_part"] = np.repeat(np.arange(len(g)), [len(x) for x in g])
        self._cache["g"] = Gaussians.concat(g)
        nv = [len(p.mesh.vertices) for p in self.parts]
        self._cache["v_part"] = np.repeat(np.arange(len(nv)), nv)
        self._cache["v"] = np.concatenate([np.asarray(p.mesh.vertices) for p in self.parts])
        offsets = np.cumsum([0, *nv[:-1]])
        self._cache["f"] = np.concatenate(
            [np.asarray(p.mesh.faces) + o for p, o in zip(self.parts, offsets, strict=True)]
        )
        self._cache["c"] = np.concatenate(
            [np.asarray(p.mesh.visual.vertex_colors) for p in self.parts]
        )

    @property
    def joint_names(self) -> list[str]:
        """Names of the posable parts (all but the root), in hierarchy order."""
        return [p.name for p in self.parts if p.parent >= 0]

    def part_index(self, name: str) -> int:
        for i, p in enumerate(self.parts):
            if p.name == name:
                return i
        raise CreatureError(
            f"{self.kind} has no part {name!r}; parts are {', '.join(p.name for p in self.parts)}"
        )

    def part_transforms(self, joint_angles: dict[str, float] | None = None, *,
                        T_world_root: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        """(P, 4, 4) T_world_part of every part for joint angles in radians (missing joints: 0)."""
        angles = dict(joint_angles or {})
        unknown = set(angles) - {p.name for p in self.parts}
        if unknown:
            raise CreatureError(
                f"unknown joint(s) {sorted(unknown)} for {self.kind}; joints are {', '.join(self.joint_names)}"
            )
        T0 = np.eye(4) if T_world_root is None else np.asarray(T_world_root, np.float64)
        if T0.shape != (4, 4):
            raise CreatureError(f"T_world_root must be a (4, 4) matrix; got shape {T0.shape}")
        out = np.empty((len(self.parts), 4, 4))
        for i, p in enumerate(self.parts):
            T = p.T_parent_part
            a = angles.get(p.name, 0.0)
            if a:
                J = np.eye(4)
                J[:3, :3] = axis_angle(p.axis, float(a))
                T = T @ J
            out[i] = (T0 if p.parent < 0 else out[p.parent]) @ T
        return out

    def pose(self, joint_angles: dict[str, float] | None = None, *,
             T_world_root: np.ndarray | None = None) -> tuple[Gaussians, trimesh.Trimesh]:  # fmt: skip
        """World Gaussians and mesh of the creature posed by `joint_angles` (radians) at T_world_root.

        T_world_root may include a uniform scale (a giant, a child); every part composes with
        one vectorised transform. Renderers need only `pose_gaussians`, exports `pose_mesh`.
        """
        Ts = self.part_transforms(joint_angles, T_world_root=T_world_root)
        return self._posed_gaussians(Ts), self._posed_mesh(Ts)

    def pose_gaussians(self, joint_angles: dict[str, float] | None = None, *,
                       T_world_root: np.ndarray | None = None) -> Gaussians:  # fmt: skip
        """The posed Gaussians alone (the per-frame path: no mesh is built)."""
        return self._posed_gaussians(self.part_transforms(joint_angles, T_world_root=T_world_root))

    def pose_mesh(self, joint_angles: dict[str, float] | None = None, *,
                  T_world_root: np.ndarray | None = None) -> trimesh.Trimesh:  # fmt: skip
        """The posed mesh alone (for mesh export)."""
        return self._posed_mesh(self.part_transforms(joint_angles, T_world_root=T_world_root))

    def _posed_gaussians(self, Ts: np.ndarray) -> Gaussians:
        """Every part's Gaussians through its transform (`Gaussians.transform` per part, in
        one numba pass over all of them: this runs for every creature every frame)."""
        A = Ts[:, :3, :3]
        s = np.cbrt(np.linalg.det(A))  # (P,) uniform scale per part
        qR = matrix_to_quat(A / s[:, None, None])
        g: Gaussians = self._cache["g"]
        means, quats, scales = (np.empty_like(a) for a in (g.means, g.quats, g.scales))
        _pose_parts(g.means, g.quats, g.scales, self._cache["g_part"],
                    np.ascontiguousarray(Ts), qR, s, means, quats, scales)  # fmt: skip
        return Gaussians(means, quats, scales, g.opacities.copy(), g.colors.copy())

    def _posed_mesh(self, Ts: np.ndarray) -> trimesh.Trimesh:
        vp = self._cache["v_part"]
        verts = np.einsum("nij,nj->ni", Ts[vp, :3, :3], self._cache["v"]) + Ts[vp, :3, 3]
        return trimesh.Trimesh(
            verts, self._cache["f"], vertex_colors=self._cache["c"], process=False, validate=False
        )

    @property
    def bounds(self) -> np.ndarray:
        """(2, 3) bounds of the rest pose in the root frame."""
        return np.asarray(self.pose_mesh().bounds)


@njit(cache=True, nogil=True)
def _pose_parts(means, quats, scales, part, T, q_part, s_part, out_means, out_quats, out_scales):
    """Gaussian i of part p = part[i]: mean through T[p] (rotation times scale s_part[p],
    then translation), rotation q_part[p] * quats[i] with w >= 0, scales times s_part[p]."""
    for i in range(means.shape[0]):
        p = part[i]
        x, y, z = np.float64(means[i, 0]), np.float64(means[i, 1]), np.float64(means[i, 2])
        for r in range(3):
            out_means[i, r] = T[p, r, 0] * x + T[p, r, 1] * y + T[p, r, 2] * z + T[p, r, 3]
        aw, ax, ay, az = q_part[p, 0], q_part[p, 1], q_part[p, 2], q_part[p, 3]
        bw, bx, by, bz = quats[i, 0], quats[i, 1], quats[i, 2], quats[i, 3]
        w = aw * bw - ax * bx - ay * by - az * bz
        sign = -1.0 if w < 0 else 1.0
        out_quats[i, 0] = sign * w
        out_quats[i, 1] = sign * (aw * bx + ax * bw + ay * bz - az * by)
        out_quats[i, 2] = sign * (aw * by - ax * bz + ay * bw + az * bx)
        out_quats[i, 3] = sign * (aw * bz + ax * by - ay * bx + az * bw)
        for k in range(3):
            out_scales[i, k] = scales[i, k] * s_part[p]


# ---------------------------------------------------------------- construction


def _T(t=(0.0, 0.0, 0.0), R: np.ndarray | None = None) -> np.ndarray:
    T = np.eye(4)
    if R is not None:
        T[:3, :3] = R
    T[:3, 3] = t
    return T


class _Rig:
    """Collects parts; each part's geometry is drawn with its own Builder in the part frame."""

    def __init__(self, rng: np.random.Generator, spacing: float) -> None:
        self.rng = rng
        self.spacing = spacing
        self.defs: list[tuple[str, int, np.ndarray, JointKind, np.ndarray, Builder]] = []

    def part(self, name: str, parent: str | None, T: np.ndarray, joint: JointKind,
             axis=(1.0, 0.0, 0.0)) -> Builder:  # fmt: skip
        pi = -1 if parent is None else [d[0] for d in self.defs].index(parent)
        b = Builder(self.rng)
        self.defs.append((name, pi, T, joint, np.asarray(axis, np.float64), b))
        return b

    def build(
        self, kind: str, seed: int, *, collider: Collider | None, variant: str | None
    ) -> Creature:
        """The creature; collider None: an upright cylinder sized to the rest pose's bounds."""
        parts = []
        for i, (name, pi, T, joint, axis, b) in enumerate(self.defs):
            a = b.finish(
                name, budget=1, detail=1.0, seed=seed * 131 + i, spacing=self.spacing, ground=False
            )
            parts.append(CreaturePart(name, pi, T, joint, axis, a.mesh, a.gaussians))
        c = Creature(kind, parts, [], 0.0, self.spacing, variant)
        lo, hi = c.bounds
        c.height = float(hi[1])
        if collider is None:
            r = 0.42 * float(max(hi[0] - lo[0], hi[2] - lo[2]))
            collider = Collider("cylinder", (0.0, c.height / 2, 0.0), (r, c.height / 2, r))
        c.colliders.append(collider)
        return c


SKIN = [
    (0.96, 0.80, 0.66),
    (0.87, 0.66, 0.50),
    (0.72, 0.52, 0.36),
    (0.50, 0.34, 0.24),
    (0.36, 0.24, 0.17),
]
HAIR = [
    (0.20, 0.14, 0.10),
    (0.45, 0.30, 0.16),
    (0.85, 0.70, 0.40),
    (0.10, 0.09, 0.09),
    (0.62, 0.30, 0.14),
]
CLOTH = [(0.72, 0.22, 0.20), (0.22, 0.40, 0.68), (0.30, 0.55, 0.32), (0.88, 0.72, 0.30), (0.55, 0.35, 0.60),
         (0.92, 0.90, 0.84), (0.40, 0.30, 0.22)]  # fmt: skip
METAL = (0.70, 0.72, 0.76)


def _pick(rng: np.random.Generator, options: list) -> np.ndarray:
    return hsv_jitter(options[int(rng.integers(len(options)))], rng)


def _humanoid(
    rng: np.random.Generator, color, variant: str | None, seed: int, detail: float
) -> Creature:
    H = rng.uniform(1.6, 1.9)
    rig = _Rig(rng, spacing=0.036 / np.sqrt(detail))
    skin, hair = _pick(rng, SKIN), _pick(rng, HAIR)
    shirt = np.asarray(color, np.float64) if color is not None else _pick(rng, CLOTH)
    trousers = _pick(
        rng, [(0.28, 0.30, 0.38), (0.42, 0.33, 0.24), (0.30, 0.28, 0.26), (0.55, 0.50, 0.40)]
    )
    boots = hsv_jitter((0.26, 0.18, 0.12), rng)
    if variant == "knight":
        trousers = shirt_metal = hsv_jitter(METAL, rng, val=0.05)
        boots = shirt_metal * 0.8
    w = H * rng.uniform(0.95, 1.08)  # build: slim to broad
    hip_y = 0.5 * H

    pelvis = rig.part("pelvis", None, _T((0, hip_y, 0)), "root")
    pelvis.sphere((0, 0.0, 0), (0.095 * w, 0.07 * H, 0.065 * w), trousers)
    torso = rig.part("torso", "pelvis", _T((0, 0.03 * H, 0)), "spine", _BACK)
    torso.cylinder((0, 0.0, 0), (0, 0.27 * H, 0), 0.085 * w, 0.11 * w, shirt, sections=12)
    torso.sphere((0, 0.25 * H, 0), (0.12 * w, 0.05 * H, 0.07 * w), shirt)
    torso.cylinder(
        (0, 0.0, 0),
        (0, 0.025 * H, 0),
        0.09 * w,
        0.09 * w,
        (0.25, 0.17, 0.1),
        sections=12,
        solid=False,
    )
    if variant == "knight":  # tabard over the mail
        torso.box(
            (0, 0.13 * H, 0.07 * w),
            (0.07 * w, 0.12 * H, 0.01),
            shirt * 0 + _pick(rng, CLOTH),
            solid=False,
        )
    if variant == "wizard":  # robe to the ankles
        pelvis.cylinder(
            (0, 0.02 * H, 0), (0, -0.46 * H, 0), 0.1 * w, 0.17 * w, shirt * 0.9, sections=12
        )
    head = rig.part("head", "torso", _T((0, 0.29 * H, 0)), "neck", _BACK)
    head.cylinder((0, -0.02 * H, 0), (0, 0.05 * H, 0), 0.03 * H, 0.03 * H, skin, sections=8)
    head.sphere((0, 0.1 * H, 0.005 * H), (0.058 * H, 0.068 * H, 0.062 * H), skin)
    for sx in (-1, 1):
        head.sphere(
            (sx * 0.022 * H, 0.11 * H, 0.06 * H),
            0.008 * H,
            (0.08, 0.07, 0.07),
            subdivisions=1,
            solid=False,
        )
    if variant == "knight":
        head.cylinder(
            (0, 0.05 * H, 0), (0, 0.17 * H, 0), 0.068 * H, 0.066 * H, trousers, sections=12
        )
        head.sphere((0, 0.17 * H, 0), (0.066 * H, 0.03 * H, 0.066 * H), trousers, solid=False)
        head.box(
            (0, 0.115 * H, 0.068 * H),
            (0.045 * H, 0.006 * H, 0.004 * H),
            (0.05, 0.05, 0.06),
            solid=False,
        )
        head.cylinder(
            (0, 0.19 * H, -0.01 * H),
            (0, 0.25 * H, -0.05 * H),
            0.015 * H,
            0.0,
            (0.85, 0.15, 0.15),
            sections=6,
        )
    elif variant == "wizard":
        head.cylinder(
            (0, 0.14 * H, 0), (0, 0.16 * H, 0), 0.11 * H, 0.11 * H, shirt * 0.9, sections=14
        )
        head.cylinder(
            (0, 0.16 * H, 0),
            (0.02 * H, 0.36 * H, -0.04 * H),
            0.06 * H,
            0.0,
            shirt * 0.9,
            sections=12,
        )
        head.sphere(
            (0, 0.06 * H, 0.05 * H), (0.04 * H, 0.05 * H, 0.02 * H), (0.9, 0.9, 0.88), solid=False
        )
    else:
        head.sphere(
            (0, 0.125 * H, -0.008 * H), (0.062 * H, 0.058 * H, 0.064 * H), hair, flatten_below=0.1
        )
    for side, sx in (("l", 1), ("r", -1)):
        arm = rig.part(
            f"upper_arm_{side}", "torso", _T((sx * 0.14 * w, 0.24 * H, 0)), "shoulder", _FWD
        )
        arm.sphere((0, 0, 0), 0.04 * w, shirt if variant != "knight" else trousers)
        arm.cylinder(
            (0, 0, 0), (sx * 0.01 * H, -0.17 * H, 0), 0.033 * w, 0.028 * w, shirt, sections=8
        )
        fore = rig.part(
            f"forearm_{side}", f"upper_arm_{side}", _T((sx * 0.01 * H, -0.17 * H, 0)), "elbow", _FWD
        )
        fore.cylinder(
            (0, 0, 0),
            (0, -0.15 * H, 0),
            0.027 * w,
            0.022 * w,
            shirt if variant else skin,
            sections=8,
        )
        fore.sphere((0, -0.165 * H, 0.005 * H), (0.022 * H, 0.03 * H, 0.016 * H), skin)
        if variant == "knight" and side == "l":
            fore.cylinder((0.03 * H, -0.09 * H, 0), (0.045 * H, -0.09 * H, 0), 0.12 * H, 0.12 * H, _pick(rng, CLOTH),
                          sections=10)  # fmt: skip
        if variant == "knight" and side == "r":
            fore.cylinder(
                (0, -0.165 * H, -0.05 * H),
                (0, -0.165 * H, 0.5 * H),
                0.008 * H,
                0.006 * H,
                METAL,
                sections=6,
            )
        if variant == "wizard" and side == "r":
            fore.cylinder(
                (0, -0.7 * H, 0.01 * H),
                (0, 0.3 * H, 0.01 * H),
                0.011 * H,
                0.011 * H,
                (0.4, 0.28, 0.16),
                sections=6,
            )
            fore.sphere((0, 0.31 * H, 0.01 * H), 0.025 * H, (0.4, 0.8, 1.0), subdivisions=1)
        thigh = rig.part(f"thigh_{side}", "pelvis", _T((sx * 0.055 * w, -0.02 * H, 0)), "hip", _FWD)
        thigh.cylinder((0, 0, 0), (0, -0.24 * H, 0), 0.05 * w, 0.038 * w, trousers, sections=8)
        shin = rig.part(f"shin_{side}", f"thigh_{side}", _T((0, -0.24 * H, 0)), "knee", _BACK)
        shin.cylinder((0, 0, 0), (0, -0.2 * H, 0), 0.037 * w, 0.03 * w, trousers, sections=8)
        shin.cylinder((0, -0.12 * H, 0), (0, -0.2 * H, 0), 0.035 * w, 0.035 * w, boots, sections=8)
        shin.box((0, -0.22 * H, 0.025 * H), (0.03 * w, 0.02 * H, 0.06 * H), boots)
    return rig.build("humanoid", seed, collider=Collider("cylinder", (0.0, H / 2, 0.0), (0.3, H / 2, 0.3)),
                     variant=variant)  # fmt: skip


@dataclass(frozen=True)
class _Quad:
    """Proportions of a four-legged creature (metres)."""

    body_len: float
    body_r: float  # vertical radius of the barrel
    body_w: float  # half width
    leg: float  # hip-to-ground length
    neck: float
    neck_up: float  # neck elevation above horizontal, radians
    head: float  # head length
    tail: float
    palette: tuple[tuple[float, float, float], ...]
    spacing: float


_QUADS: dict[str, _Quad] = {
    "deer": _Quad(1.25, 0.26, 0.2, 0.78, 0.5, 1.0, 0.32, 0.15, ((0.60, 0.40, 0.22), (0.55, 0.36, 0.20)), 0.04),
    "wolf": _Quad(1.0, 0.2, 0.16, 0.5, 0.28, 0.55, 0.3, 0.45, ((0.55, 0.55, 0.57), (0.45, 0.40, 0.34), (0.30, 0.28, 0.28)), 0.036),
    "horse": _Quad(1.7, 0.36, 0.27, 0.98, 0.75, 0.85, 0.6, 0.7, ((0.45, 0.26, 0.14), (0.62, 0.34, 0.16), (0.16, 0.14, 0.13), (0.88, 0.86, 0.82)), 0.052),
    "dog": _Quad(0.7, 0.15, 0.12, 0.34, 0.18, 0.7, 0.22, 0.3, ((0.84, 0.64, 0.34), (0.20, 0.17, 0.15), (0.55, 0.35, 0.20), (0.92, 0.90, 0.86)), 0.028),
    "sheep": _Quad(1.0, 0.34, 0.3, 0.42, 0.2, 0.6, 0.26, 0.1, ((0.94, 0.92, 0.86), (0.90, 0.88, 0.82)), 0.055),
    "dragon": _Quad(4.5, 0.9, 0.75, 1.7, 2.6, 0.8, 1.1, 5.0, ((0.70, 0.16, 0.12), (0.22, 0.50, 0.26), (0.20, 0.18, 0.24), (0.80, 0.62, 0.20)), 0.13),
}  # fmt: skip


def _quadruped(kind: str, rng: np.random.Generator, color, seed: int, detail: float) -> Creature:
    q = _QUADS[kind]
    s = rng.uniform(0.9, 1.12)  # individual size
    L, r, w, leg = q.body_len * s, q.body_r * s, q.body_w * s, q.leg * s
    rig = _Rig(rng, spacing=q.spacing * s / np.sqrt(detail))
    coat = np.asarray(color, np.float64) if color is not None else _pick(rng, list(q.palette))
    belly = np.clip(coat * 1.15 + 0.08, 0, 1)
    dark = coat * 0.55
    hoof = (0.18, 0.15, 0.13)
    leg_col = (0.2, 0.18, 0.17) if kind == "sheep" else coat
    y = leg + r * 0.45
    body = rig.part("body", None, _T((0, y, 0)), "root")
    if kind == "sheep":  # woolly cloud
        for _ in range(9):
            d = rng.normal(size=3) * (0.5, 0.35, 1.0)
            body.sphere(d * (w * 0.6, r * 0.4, L * 0.28), (w * 0.7, r * 0.75, w * 0.8), coat * rng.uniform(0.94, 1.04),
                        noise=0.12, freq=3.0, jitter=0.05)  # fmt: skip
    else:
        body.sphere((0, 0, L * 0.18), (w, r, L * 0.34), coat, shade=(0.8, 1.05))
        body.sphere((0, 0, -L * 0.18), (w * 0.95, r * 0.95, L * 0.32), coat, shade=(0.8, 1.05))
        body.sphere((0, -r * 0.35, 0), (w * 0.8, r * 0.6, L * 0.4), belly, solid=False)
    if kind == "dragon":  # back spikes
        for k in range(6):
            z = L * (0.4 - 0.16 * k)
            body.cylinder(
                (0, r * 0.85, z), (0, r * 1.35, z - 0.2), 0.15, 0.0, (0.9, 0.85, 0.72), sections=5
            )
    hip_y, hip_z = -r * 0.45, L * 0.36
    up, low = leg * 0.5, leg * 0.5
    lr = w * (0.3 if kind != "dragon" else 0.35)
    for name, sx, sz in (("fl", 1, 1), ("fr", -1, 1), ("bl", 1, -1), ("br", -1, -1)):
        joint: JointKind = "shoulder" if sz > 0 else "hip"
        upper = rig.part(f"leg_{name}", "body", _T((sx * w * 0.6, hip_y, sz * hip_z)), joint, _FWD)
        upper.cylinder(
            (0, r * 0.3, 0),
            (0, -up, 0),
            lr * 1.3,
            lr,
            coat,
            sections=8,
        )
        lower = rig.part(
            f"shin_{name}", f"leg_{name}", _T((0, -up, 0)), "knee", _BACK if sz > 0 else _FWD
        )
        lower.cylinder((0, 0, 0), (0, -low + 0.06 * s, 0), lr, lr * 0.75, leg_col, sections=8)
        foot = (
            (0.12, 0.11, 0.10)
            if kind == "dragon"
            else (hoof if kind in ("deer", "horse", "sheep") else dark)
        )
        lower.cylinder(
            (0, -low + 0.08 * s, 0), (0, -low, lr * 0.3), lr * 0.85, lr * 1.05, foot, sections=8
        )
    # neck and head
    tilt = np.pi / 2 - q.neck_up
    neck = rig.part(
        "neck", "body", _T((0, r * 0.35, L * 0.42), axis_angle((1, 0, 0), tilt)), "neck", _BACK
    )
    nr = r * (0.5 if kind != "dragon" else 0.45)
    n_col = dark if kind == "sheep" else coat
    neck.cylinder((0, -r * 0.2, 0), (0, q.neck * s, 0), nr, nr * 0.7, n_col, sections=10)
    if kind == "horse":  # mane along the back of the neck
        mane = _pick(rng, [(0.12, 0.10, 0.09), (0.30, 0.20, 0.12), (0.9, 0.88, 0.8)])
        neck.box((0, q.neck * s * 0.45, -nr * 0.8), (0.04, q.neck * s * 0.5, nr * 0.35), mane,
                 R=axis_angle((1, 0, 0), 0.1))  # fmt: skip
    hl = q.head * s
    head = rig.part(
        "head", "neck", _T((0, q.neck * s, 0), axis_angle((1, 0, 0), -tilt + 0.25)), "head", _BACK
    )
    h_col = np.array((0.20, 0.18, 0.16)) if kind == "sheep" else coat
    head.sphere((0, 0, hl * 0.15), (nr * 0.95, nr * 0.95, hl * 0.35), h_col)
    head.cylinder(
        (0, -nr * 0.1, hl * 0.2), (0, -nr * 0.25, hl), nr * 0.7, nr * 0.4, h_col, sections=10
    )
    head.sphere(
        (0, -nr * 0.25, hl * 0.98), nr * 0.38, (0.12, 0.10, 0.10), subdivisions=1, solid=False
    )
    for sx in (-1, 1):
        head.sphere(
            (sx * nr * 0.7, nr * 0.3, hl * 0.32),
            nr * 0.14,
            (0.06, 0.05, 0.05),
            subdivisions=1,
            solid=False,
        )
        ear_tip = (sx * nr * 1.1, nr * (1.6 if kind in ("wolf", "dog") else 0.9), hl * 0.0)
        if kind != "dragon":
            head.cylinder(
                (sx * nr * 0.5, nr * 0.6, hl * 0.05),
                ear_tip,
                nr * 0.28,
                0.0,
                h_col * 0.9,
                sections=5,
            )
    if kind == "deer" and rng.random() < 0.6:  # antlers
        antler = (0.82, 0.74, 0.60)
        for sx in (-1, 1):
            base = np.array([sx * nr * 0.4, nr * 0.8, hl * 0.12])
            tip = base + vec(sx * 0.25 * s, 0.45 * s, -0.1 * s)
            head.cylinder(base, tip, 0.03 * s, 0.015 * s, antler, sections=5)
            for t in (0.4, 0.7):
                p = base + (tip - base) * t
                head.cylinder(
                    p,
                    p + vec(sx * 0.08 * s, 0.15 * s, 0.08 * s),
                    0.018 * s,
                    0.0,
                    antler,
                    sections=4,
                )
    if kind == "dragon":
        horn = (0.92, 0.88, 0.76)
        for sx in (-1, 1):
            head.cylinder(
                (sx * nr * 0.5, nr * 0.6, 0.0),
                (sx * nr * 0.9, nr * 1.2, -hl * 0.6),
                nr * 0.2,
                0.0,
                horn,
                sections=6,
            )
    # tail
    t_len = q.tail * s
    n_seg = 3 if kind == "dragon" else 1
    parent = "body"
    for k in range(n_seg):
        name = "tail" if k == 0 else f"tail{k + 1}"
        if k == 0:
            T = _T(
                (0, r * 0.3, -L * 0.48),
                axis_angle((1, 0, 0), np.pi / 3 if kind != "dragon" else np.pi / 2.3),
            )
        else:
            T = _T((0, -t_len / n_seg, 0), axis_angle((1, 0, 0), -0.1))
        seg = rig.part(name, parent, T, "tail", (0.0, 0.0, 1.0))
        tr = (
            r
            * (0.28 if kind in ("wolf", "horse") else 0.18)
            * (1 - 0.3 * k)
            * (2.2 if kind == "dragon" else 1)
        )
        tcol = (0.16, 0.13, 0.12) if kind == "horse" else coat
        seg.cylinder((0, 0, 0), (0, -t_len / n_seg, 0), tr, tr * (0.6 if kind != "wolf" else 1.0), tcol,
                     sections=8, noise=0.1 if kind in ("wolf", "horse") else 0.0)  # fmt: skip
        parent = name
    if kind == "dragon":
        _wings(
            rig,
            span=L * 2.2,
            chord=L * 0.5,
            root=(w * 0.6, r * 0.7, L * 0.15),
            membrane=np.clip(coat * 0.7 + 0.05, 0, 1),
            bone=coat * 0.8,
            thickness=0.06,
        )
    return rig.build(kind, seed, collider=None, variant=None)


def _wings(rig: _Rig, *, span: float, chord: float, root, membrane, bone, thickness: float,
           parent: str = "body", feathered: bool = False) -> None:  # fmt: skip
    for side, sx in (("l", 1.0), ("r", -1.0)):
        R_side = np.eye(3)
        b = rig.part(
            f"wing_{side}",
            parent,
            _T((sx * root[0], root[1], root[2]), R_side),
            "wing",
            (0.0, 0.0, sx),
        )
        half = span / 2
        if feathered:
            b.sphere(
                (sx * half * 0.45, 0, -chord * 0.15),
                (half * 0.5, thickness, chord * 0.5),
                membrane,
                solid=False,
            )
            b.sphere((sx * half * 0.8, 0, -chord * 0.3), (half * 0.25, thickness * 0.8, chord * 0.35), bone,
                     solid=False)  # fmt: skip
        else:
            b.cylinder(
                (0, 0, 0),
                (sx * half, half * 0.12, chord * 0.1),
                chord * 0.07,
                chord * 0.03,
                bone,
                sections=6,
            )
            for k in range(3):  # finger bones fanning back
                tip = (sx * half * (0.95 - 0.25 * k), half * 0.05, -chord * (0.4 + 0.3 * k))
                b.cylinder(
                    (sx * half * 0.55, half * 0.07, chord * 0.03),
                    tip,
                    chord * 0.03,
                    chord * 0.01,
                    bone,
                    sections=5,
                )
            b.sphere((sx * half * 0.52, half * 0.05, -chord * 0.35), (half * 0.48, thickness, chord * 0.5), membrane,
                     solid=False, shade=(0.9, 1.0))  # fmt: skip


def _bird(rng: np.random.Generator, color, seed: int, detail: float) -> Creature:
    r = rng.uniform(0.08, 0.16)
    rig = _Rig(rng, spacing=r * 0.24 / np.sqrt(detail))
    palette = [((0.12, 0.12, 0.14), (0.2, 0.2, 0.22)), ((0.30, 0.50, 0.85), (0.92, 0.90, 0.85)),
               ((0.50, 0.36, 0.24), (0.90, 0.45, 0.20)), ((0.92, 0.92, 0.90), (0.60, 0.62, 0.66))]  # fmt: skip
    main, second = (np.asarray(c) for c in palette[int(rng.integers(len(palette)))])
    if color is not None:
        main = np.asarray(color, np.float64)
    leg = r * 0.9
    body = rig.part("body", None, _T((0, leg + r * 0.7, 0)), "root")
    body.sphere((0, 0, 0), (r * 0.75, r * 0.75, r * 1.25), main)
    body.sphere((0, -r * 0.25, r * 0.25), (r * 0.6, r * 0.55, r * 0.8), second, solid=False)
    head = rig.part("head", "body", _T((0, r * 0.6, r * 0.95)), "neck", _BACK)
    head.sphere((0, r * 0.2, 0), r * 0.5, main)
    head.cylinder(
        (0, r * 0.15, r * 0.4),
        (0, r * 0.08, r * 1.05),
        r * 0.15,
        0.0,
        (0.95, 0.65, 0.15),
        sections=6,
    )
    for sx in (-1, 1):
        head.sphere(
            (sx * r * 0.35, r * 0.32, r * 0.28),
            r * 0.08,
            (0.03, 0.03, 0.03),
            subdivisions=1,
            solid=False,
        )
    tail = rig.part(
        "tail", "body", _T((0, r * 0.1, -r * 1.1), axis_angle((1, 0, 0), -0.25)), "tail", _BACK
    )
    tail.sphere((0, 0, -r * 0.5), (r * 0.45, r * 0.06, r * 0.7), main * 0.8, solid=False)
    _wings(rig, span=r * 9, chord=r * 1.6, root=(r * 0.55, r * 0.35, r * 0.1), membrane=main, bone=main * 0.6,
           thickness=r * 0.06, feathered=True)  # fmt: skip
    for side, sx in (("l", 1), ("r", -1)):
        lg = rig.part(f"leg_{side}", "body", _T((sx * r * 0.3, -r * 0.5, 0)), "hip", _FWD)
        lg.cylinder(
            (0, 0, 0), (0, -leg - r * 0.2, 0), r * 0.05, r * 0.04, (0.85, 0.6, 0.2), sections=5
        )
        lg.box(
            (0, -leg - r * 0.2 + 0.005, r * 0.12),
            (r * 0.12, 0.005, r * 0.2),
            (0.85, 0.6, 0.2),
            solid=False,
        )
    return rig.build(
        "bird",
        seed,
        collider=None,
        variant=None,
    )


def make_creature(kind: str, seed: int, *, color: tuple[float, float, float] | None = None,
                  variant: Variant | None = None, detail: float = 1.0) -> Creature:  # fmt: skip
    """A seeded creature of `kind` (studio.spec.CREATURE_KINDS) as a posable part hierarchy.

    `color` (sRGB) replaces the main colour (clothing for humanoids, coat or plumage for
    animals); `variant` ("knight", "wizard") dresses a humanoid; `detail` scales the surfel
    density as in `make_asset`. Memoised; treat as read-only.
    """
    if not (isinstance(detail, int | float) and np.isfinite(detail) and 0.01 <= detail <= 16.0):
        raise CreatureError(
            f"detail {detail!r} must be a number in [0.01, 16]; 1.0 is near-view quality"
        )
    if kind not in CREATURE_KINDS:
        raise CreatureError(
            f"unknown creature kind {kind!r}; use one of {', '.join(CREATURE_KINDS)}"
        )
    if variant is not None and (kind != "humanoid" or variant not in ("knight", "wizard")):
        raise CreatureError(
            f"variant {variant!r} is not available for {kind!r}; humanoids take 'knight' or 'wizard'"
        )
    if color is not None:
        color = tuple(float(c) for c in color)
        if len(color) != 3 or not all(0.0 <= c <= 1.0 for c in color):
            raise CreatureError(f"color {color} must be three sRGB values in [0, 1]")
    return _make_creature(kind, int(seed), color, variant, float(detail))


@lru_cache(maxsize=256)
def _make_creature(kind: str, seed: int, color, variant, detail: float) -> Creature:
    import zlib

    rng = np.random.default_rng([zlib.crc32(kind.encode()), seed & 0xFFFFFFFFFFFFFFFF, 7])
    if kind == "humanoid":
        return _humanoid(rng, color, variant, seed, detail)
    if kind == "bird":
        return _bird(rng, color, seed, detail)
    return _quadruped(kind, rng, color, seed, detail)


# ---------------------------------------------------------------- animation

_STRIDE_SPEED = {"humanoid": 1.4, "deer": 2.0, "wolf": 2.0, "horse": 2.5, "dog": 1.5, "sheep": 1.0,
                 "dragon": 4.0, "bird": 3.0}  # fmt: skip
"""Speed (m/s) at which each kind's walk reaches its full stride amplitude."""


def gait_angles(kind: str, phase: float, speed: float) -> dict[str, float]:
    """Joint angles (radians) of `kind`'s walk/flap cycle at `phase` (cycles; 1.0 = one stride).

    Amplitude grows with `speed` (m/s) up to a full stride at the kind's walking speed and
    somewhat beyond when running; at speed 0 only breathing-small motion remains (and birds
    and dragons keep flapping gently). Keys are joint names of `make_creature(kind, ...)`.
    """
    if kind not in CREATURE_KINDS:
        raise CreatureError(
            f"unknown creature kind {kind!r}; use one of {', '.join(CREATURE_KINDS)}"
        )
    a = float(np.clip(speed / _STRIDE_SPEED[kind], 0.0, 1.6))
    t = 2 * np.pi * phase
    out: dict[str, float] = {}
    if kind == "humanoid":
        for side, off in (("l", 0.0), ("r", np.pi)):
            out[f"thigh_{side}"] = 0.45 * a * np.sin(t + off)
            out[f"shin_{side}"] = 0.7 * a * max(0.0, np.sin(t + off - np.pi / 2))
            out[f"upper_arm_{side}"] = -0.4 * a * np.sin(t + off)
            out[f"forearm_{side}"] = 0.25 + 0.2 * a * max(0.0, -np.sin(t + off))
        out["head"] = 0.03 * a * np.sin(2 * t)
        out["torso"] = 0.05 * a
        return out
    if kind == "bird":
        flap = 0.35 + 0.5 * min(a, 1.0)
        out["wing_l"] = out["wing_r"] = flap * np.sin(t)
        out["tail"] = 0.1 * np.sin(t + 0.5)
        out["head"] = 0.05 * np.sin(2 * t)
        out["leg_l"] = out["leg_r"] = 0.9 * min(a, 1.0)  # tucked back in flight
        return out
    for leg, off in (
        ("fl", 0.0),
        ("br", 0.0),
        ("fr", np.pi),
        ("bl", np.pi),
    ):  # trot: diagonal pairs
        out[f"leg_{leg}"] = 0.4 * a * np.sin(t + off)
        out[f"shin_{leg}"] = 0.5 * a * max(0.0, np.sin(t + off + np.pi / 2))
    out["neck"] = 0.06 * a * np.sin(2 * t)
    out["head"] = -0.04 * a * np.sin(2 * t)
    out["tail"] = 0.25 * np.sin(t) * (0.3 + a)
    if kind == "dragon":
        out["wing_l"] = out["wing_r"] = 0.15 + 0.6 * np.sin(t)
        out["tail2"] = 0.2 * np.sin(t - 0.6)
        out["tail3"] = 0.25 * np.sin(t - 1.2)
    return out
