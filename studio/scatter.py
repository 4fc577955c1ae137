"""Where things go: scattered props on a hashed jittered grid, the spawn point, landmarks, creatures.

All placement is a pure function of the spec and world positions: a prop's cell, jitter,
variant, yaw and scale come from `hash_uniform(seed, ix, iz)` of its world grid cell, so
chunks agree on props near their borders and revisiting a place shows the same things.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.spec import LandmarkSpec, PropSpec, WorldSpec
from studio.terrain import LAND_LIFT, TerrainField, _noise, _sample, hash_uniform, stable_seed
from studio.transforms import rot_y

VARIANTS_PER_KIND = 4
"""Distinct asset variants each scattered prop kind cycles through."""
SPAWN_CLEARING = 5.0
"""Metres around the spawn point kept free of scattered props."""

WATER_KINDS = frozenset({"reeds"})
"""Kinds that grow at the water's edge instead of avoiding it."""
SMALL_KINDS = frozenset({"grass_tuft", "flowers", "mushroom", "reeds", "bush", "rock"})
FLYERS = frozenset({"bird", "dragon"})


def prop_id(kind: str, x: float, z: float) -> str:
    """Stable id of a prop: "kind@x,z" of its base position in centimetres. The simulation
    records changes to props (`SimState.props`) under this id and the world hides them by it."""
    return f"{kind}@{round(x * 100)},{round(z * 100)}"


@dataclass(frozen=True)
class PropInstance:
    """One placed asset: kind, variant, pose (position on the ground, yaw degrees, scale)."""

    kind: str
    variant_seed: int
    position: tuple[float, float, float]
    yaw: float
    scale: float
    label: str | None = None
    landmark: bool = False

    @property
    def T_world_instance(self) -> np.ndarray:
        """(4, 4) similarity transform from the asset's local frame to the world."""
        T = np.eye(4)
        T[:3, :3] = rot_y(self.yaw) * self.scale
        T[:3, 3] = self.position
        return T

    @property
    def id(self) -> str:
        """The prop's stable id (`prop_id` of its kind and base position)."""
        return prop_id(self.kind, self.position[0], self.position[2])


@dataclass(frozen=True)
class SpawnPoint:
    """A pleasant start: ground position, and the yaw (degrees) that faces `look_at`."""

    position: np.ndarray  # (3,) on the ground
    yaw: float
    look_at: np.ndarray  # (3,)


@dataclass(frozen=True)
class CreatureSpawn:
    """Where one creature of a `CharacterSpec` starts (flyers: `position` is in the air)."""

    kind: str
    index: int
    position: np.ndarray  # (3,)
    yaw: float
    scale: float
    behaviour: str
    label: str | None
    seed: int


def variant_seed(spec_seed: int, kind: str, variant: int) -> int:
    return stable_seed("variant", spec_seed, kind, variant, bits=31)


class Scatter:
    """Prop, landmark, spawn and creature placement for one spec over a `TerrainField`."""

    def __init__(self, spec: WorldSpec, terrain: TerrainField) -> None:
        self.spec = spec
        self.terrain = terrain
        self._clump = {
            p.kind: _noise(stable_seed("clump", spec.seed, p.kind, bits=31), 1 / 70, octaves=2)
            for p in spec.props
        }
        self.spawn = self._find_spawn()
        self.landmarks = self._place_landmarks()
        self.spawn = self._face_landmark(self.spawn)

    # --- scattered props ---------------------------------------------------------------

    def props_in(self, x0: float, z0: float, size: float) -> list[PropInstance]:
        """Scattered props whose base lies in [x0, x0+size) x [z0, z0+size), in a fixed order."""
        return self.props_in_many([(x0, z0)], size)[0]

    def props_in_many(
        self,
        origins: list[tuple[float, float]],
        size: float,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> list[list[PropInstance]]:
        """`props_in` for many squares at once (one vectorised pass per prop kind), leaving out
        the kinds in `skip` (far views need no grass)."""
        out: list[list[PropInstance]] = [[] for _ in origins]
        for j, p in enumerate(self.spec.props):
            if p.kind in skip:
                continue
            for c, props in enumerate(self._scatter_kind(j, p, origins, size)):
                out[c].extend(props)
        return out

    def _scatter_kind(
        self, j: int, p: PropSpec, origins: list[tuple[float, float]], size: float
    ) -> list[list[PropInstance]]:
        out: list[list[PropInstance]] = [[] for _ in origins]
        if p.density <= 0:
            return out
        # Twice the cells, half accepted by the clump noise: groves and clearings, same mean.
        cell = 10.0 / np.sqrt(2.0 * p.density)
        seed = stable_seed("props", self.spec.seed, j, p.kind)
        cells = []
        for c, (x0, z0) in enumerate(origins):
            i0, i1 = int(np.floor(x0 / cell)), int(np.floor((x0 + size) / cell))
            k0, k1 = int(np.floor(z0 / cell)), int(np.floor((z0 + size) / cell))
            ix, iz = np.meshgrid(np.arange(i0, i1 + 1), np.arange(k0, k1 + 1))
            cells.append(np.stack([ix.ravel(), iz.ravel(), np.full(ix.size, c)], axis=1))
        ix, iz, owner = np.concatenate(cells).T
        ox = np.array([o[0] for o in origins])[owner]
        oz = np.array([o[1] for o in origins])[owner]
        px = (ix + hash_uniform(seed, ix, iz, 1)) * cell
        pz = (iz + hash_uniform(seed, ix, iz, 2)) * cell
        inside = (px >= ox) & (px < ox + size) & (pz >= oz) & (pz < oz + size)
        inside &= hash_uniform(seed, ix, iz, 3) < 0.95  # cheap early rejection
        ix, iz, px, pz, owner = ix[inside], iz[inside], px[inside], pz[inside], owner[inside]
        if len(px) == 0:
            return out
        clump = np.clip(0.5 + 0.9 * _sample(self._clump[p.kind], px, pz), 0.0, 1.0)
        keep = hash_uniform(seed, ix, iz, 3) < 0.95 * clump
        ix, iz, px, pz, owner = ix[keep], iz[keep], px[keep], pz[keep], owner[keep]
        if len(px) == 0:
            return out
        h = self.terrain.height(px, pz)
        n = self.terrain.normal(px, pz, eps=0.5)
        wl = self.terrain.water_level
        if p.kind in WATER_KINDS:
            keep = (h > wl - 0.4) & (h < wl + LAND_LIFT + 0.6)
        else:
            keep = h > wl + 0.25
        keep &= n[:, 1] > (0.7 if p.kind in SMALL_KINDS else 0.82)
        sx, _, sz = self.spawn.position
        keep &= (px - sx) ** 2 + (pz - sz) ** 2 > (
            SPAWN_CLEARING * (0.6 if p.kind == "grass_tuft" else 1.6)
        ) ** 2
        for lm in self.landmarks:
            r = 7.0 * lm.scale + (2.0 if p.kind in SMALL_KINDS else 4.0)
            keep &= (px - lm.position[0]) ** 2 + (pz - lm.position[2]) ** 2 > r * r
        if p.kind not in SMALL_KINDS:
            # Tall things stay out of the spawn's clearing and the sightline to the first landmark.
            keep &= (px - sx) ** 2 + (pz - sz) ** 2 > (2.5 * SPAWN_CLEARING) ** 2
            if self.landmarks:
                keep &= self._off_sightline(px, pz, 5.0)
        var = (hash_uniform(seed, ix, iz, 4) * VARIANTS_PER_KIND).astype(int)
        yaw = hash_uniform(seed, ix, iz, 5) * 360.0
        scale = 0.75 + 0.5 * hash_uniform(seed, ix, iz, 6)
        # Sink the base on slopes so the downhill side of the trunk never floats.
        sink = 0.08 + 0.6 * np.sqrt(np.maximum(1.0 / n[:, 1] ** 2 - 1.0, 0.0))
        seeds = [variant_seed(self.spec.seed, p.kind, v) for v in range(VARIANTS_PER_KIND)]
        for i in np.flatnonzero(keep):
            out[owner[i]].append(
                PropInstance(
                    kind=p.kind,
                    variant_seed=seeds[var[i]],
                    position=(float(px[i]), float(h[i] - sink[i] * scale[i]), float(pz[i])),
                    yaw=float(yaw[i]),
                    scale=float(scale[i]),
                    label=p.label,
                )
            )
        return out

    def _off_sightline(self, x: np.ndarray, z: np.ndarray, width: float) -> np.ndarray:
        """True where (x, z) is farther than `width` from the spawn-to-first-landmark segment."""
        a = self.spawn.position[[0, 2]]
        b = np.array(self.landmarks[0].position)[[0, 2]]
        ab = b - a
        t = np.clip(((x - a[0]) * ab[0] + (z - a[1]) * ab[1]) / (ab @ ab), 0.0, 1.0)
        d2 = (x - a[0] - t * ab[0]) ** 2 + (z - a[1] - t * ab[1]) ** 2
        return d2 > width * width

    # --- spawn and landmarks -------------------------------------------------------------

    def _dry_flat(self, x: np.ndarray, z: np.ndarray, *, min_ny: float) -> np.ndarray:
        h = self.terrain.height(x, z)
        ny = self.terrain.normal(x, z, eps=1.0)[..., 1]
        return (h > self.terrain.water_level + LAND_LIFT * 0.6) & (ny > min_ny)

    def _near_water(self, x: np.ndarray, z: np.ndarray, radius: float) -> np.ndarray:
        """Fraction of 12 points on a ring of `radius` around each (x, z) that are water."""
        a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        rx = x[:, None] + radius * np.cos(a)[None, :]
        rz = z[:, None] + radius * np.sin(a)[None, :]
        return (self.terrain.height(rx, rz) < self.terrain.water_level).mean(axis=1)

    def _search_centre(self) -> np.ndarray:
        """(2,) where to look for a spawn: the origin, or 45 m inland of the coast with an ocean."""
        if not self.spec.terrain.ocean:
            return np.zeros(2)
        xs = np.arange(0.0, 600.0, 5.0)
        wet = self.terrain.height(xs, np.zeros_like(xs)) < self.terrain.water_level
        return np.array([xs[int(np.argmax(wet))] - 45.0 if wet.any() else 0.0, 0.0])

    def water_view(self, origin: np.ndarray, angles: np.ndarray) -> np.ndarray:
        """(A,) fraction of ground points 8-70 m away within ±20° of each angle (radians; 0
        looks along -Z, positive towards +X) that are water visible from eye height above
        `origin` (3,); for origins (K, 3), a (K, A) array."""
        o = np.asarray(origin, float)
        single = o.ndim == 1
        o = o.reshape(-1, 3)
        if not self.terrain.has_water:
            out = np.zeros((len(o), len(angles)))
            return out[0] if single else out
        off = np.radians([-20.0, -10.0, 0.0, 10.0, 20.0])
        r = np.array([8.0, 15.0, 25.0, 40.0, 55.0, 70.0])
        a = angles[None, :, None, None] + off[None, None, :, None]  # (1, A, 5, 1)
        shape = (len(o), len(angles), len(off), len(r))
        x = np.broadcast_to(o[:, 0, None, None, None] + r * np.sin(a), shape).ravel()
        z = np.broadcast_to(o[:, 2, None, None, None] - r * np.cos(a), shape).ravel()
        eyes = np.repeat(o + np.array([0.0, 1.7, 0.0]), len(x) // len(o), axis=0)
        wl = self.terrain.water_level
        wet = self.terrain.height(x, z) < wl
        seen = np.zeros(len(x), bool)
        k = int(wet.sum())
        seen[wet] = self._visible_from(eyes[wet], x[wet], np.full(k, wl + 0.2), z[wet]) > 0
        out = seen.reshape(len(o), len(angles), -1).mean(axis=2)
        return out[0] if single else out

    def _find_spawn(self) -> SpawnPoint:
        g = np.arange(-80.0, 80.1, 4.0)
        x, z = (a.ravel() for a in np.meshgrid(g, g))
        c = self._search_centre()
        x, z = x + c[0], z + c[1]
        ok = self._dry_flat(x, z, min_ny=0.94) & (self._near_water(x, z, 4.0) == 0)
        score = -np.hypot(x - c[0], z - c[1]) / 40.0
        # Prefer an open outlook: penalise ground that rises above the spot within 16 m.
        a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
        h0 = self.terrain.height(x, z)
        rise = np.zeros_like(x)
        for rad in (6.0, 11.0, 16.0):
            ring = self.terrain.height(
                x[:, None] + rad * np.cos(a)[None], z[:, None] + rad * np.sin(a)[None]
            )
            rise = np.maximum(rise, (ring - h0[:, None]).max(axis=1) / rad)
        score -= 12.0 * np.maximum(rise - 0.04, 0.0)
        if self.terrain.has_water:
            score += 2.0 * (self._near_water(x, z, 18.0) > 0) + 2.5 * (
                self._near_water(x, z, 10.0) > 0
            )
        score = np.where(ok, score, -np.inf)
        if not np.isfinite(score).any():  # a world of cliffs or water: stand on the highest point
            score = self.terrain.height(x, z)
        elif self.terrain.has_water:  # of the best spots, prefer one that sees the water
            top = np.argsort(-score)[:40]
            top = top[np.isfinite(score[top])]
            a = np.radians(np.arange(0.0, 360.0, 30.0))
            h = self.terrain.height(x[top], z[top])
            sees = self.water_view(np.stack([x[top], h, z[top]], axis=1), a).max(axis=1)
            score = score.copy()
            score[top] += 4.0 * np.minimum(sees / 0.15, 1.0)
        i = int(np.argmax(score))
        p = np.array([x[i], float(self.terrain.height(x[i : i + 1], z[i : i + 1])[0]), z[i]])
        return SpawnPoint(p, 0.0, p + np.array([0.0, 1.7, -30.0]))

    def _place_landmarks(self) -> list[PropInstance]:
        out: list[PropInstance] = []
        sx, _sy, sz = self.spawn.position
        radii = np.arange(28.0, 112.0, 6.0)
        angles = np.radians(np.arange(0.0, 360.0, 10.0))
        r, a = (v.ravel() for v in np.meshgrid(radii, angles))
        x, z = sx + r * np.sin(a), sz - r * np.cos(a)
        h = self.terrain.height(x, z)
        dry = self._dry_flat(x, z, min_ny=0.9)
        near_water = self._near_water(x, z, 9.0)
        visible = self._visible_from(self.spawn.position + np.array([0.0, 1.7, 0.0]), x, h + 4.0, z)
        # The first landmark sets the view: prefer directions that also show the water.
        water_dir = 4.0 * np.minimum(self.water_view(self.spawn.position, a) / 0.12, 1.0)
        # The first landmark sets the view direction; later ones prefer that side of spawn.
        first_dir: float | None = None
        for li, lm in enumerate(self.spec.landmarks):
            for k in range(lm.count):
                score = self._landmark_score(lm, r, h, near_water)
                score = score + 1.5 * visible
                if first_dir is not None:
                    score += 0.8 * np.cos(a - first_dir)
                else:
                    score += water_dir
                for other in out:
                    d2 = (x - other.position[0]) ** 2 + (z - other.position[2]) ** 2
                    score = np.where(d2 < 22.0**2, -np.inf, score)
                jitter = hash_uniform(
                    stable_seed("lm", self.spec.seed, li, k), np.arange(len(x)), 0
                )
                score = np.where(dry, score + 0.3 * jitter, -np.inf)
                if not np.isfinite(score).any():
                    continue
                i = int(np.argmax(score))
                if first_dir is None:
                    first_dir = float(a[i])
                yaw = float(np.degrees(np.arctan2(sx - x[i], sz - z[i])))  # face the spawn
                out.append(
                    PropInstance(
                        kind=lm.kind,
                        variant_seed=stable_seed("landmark", self.spec.seed, li, k, bits=31),
                        position=(float(x[i]), float(h[i]) - 0.15, float(z[i])),
                        yaw=yaw,
                        scale=1.0,
                        label=lm.label or lm.kind,
                        landmark=True,
                    )
                )
        return out

    @staticmethod
    def _landmark_score(
        lm: LandmarkSpec, r: np.ndarray, h: np.ndarray, near_water: np.ndarray
    ) -> np.ndarray:
        dist_pref = -np.abs(r - 42.0) / 40.0
        if lm.placement == "on_hill":
            return (h - h.mean()) / (h.std() + 1e-6) + 0.5 * dist_pref
        if lm.placement in ("by_river", "by_water", "on_coast"):
            return 3.0 * np.minimum(near_water, 0.4) + dist_pref
        if lm.placement == "centre":
            return -np.abs(r - 32.0) / 10.0
        return dist_pref

    def _visible_from(
        self, eye: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray
    ) -> np.ndarray:
        """(N,) 1.0 where the segment from eye ((3,) or (N, 3)) to each target clears the terrain."""
        t = np.linspace(0.1, 0.9, 12)[None, :]
        e = np.asarray(eye, float).reshape(-1, 3)
        ex, ey, ez = e[:, 0:1], e[:, 1:2], e[:, 2:3]
        px = ex + (x[:, None] - ex) * t
        py = ey + (y[:, None] - ey) * t
        pz = ez + (z[:, None] - ez) * t
        return (self.terrain.height(px, pz) < py).all(axis=1).astype(float)

    def _face_landmark(self, spawn: SpawnPoint) -> SpawnPoint:
        if not self.landmarks:  # face the water if there is any in reach, else north
            a = np.radians(np.arange(0.0, 360.0, 10.0))
            view = self.water_view(spawn.position, a)
            best = float(a[int(np.argmax(view))]) if view.max() > 0.04 else 0.0
            target = spawn.position + np.array([30.0 * np.sin(best), 1.7, -30.0 * np.cos(best)])
        else:
            lm = self.landmarks[0]
            target = np.array(lm.position) + np.array([0.0, 3.0, 0.0])
        d = target - spawn.position
        yaw = float(np.degrees(np.arctan2(-d[0], -d[2])))
        return SpawnPoint(spawn.position, yaw, target)

    # --- creatures ---------------------------------------------------------------------

    def creature_spawns(self) -> list[CreatureSpawn]:
        """Start positions for every creature in spec.characters (deterministic).

        Walkers of one kind form a group on dry ground 12-24 m in front of the spawn view
        (a sunflower layout keeps a herd's animals apart and facing roughly one way); flyers
        circle 12-18 m up over a point 45 m ahead, inside the spawn camera's view.
        """
        out: list[CreatureSpawn] = []
        sx, _sy, sz = self.spawn.position
        fwd = np.radians(self.spawn.yaw)
        f = np.array([-np.sin(fwd), -np.cos(fwd)])  # yaw 0 looks along -Z
        wl = self.terrain.water_level
        for ci, c in enumerate(self.spec.characters):
            seed = stable_seed("creature", self.spec.seed, ci, c.kind)
            u = hash_uniform(seed, np.arange(4 * c.count + 8), 0)
            k = np.arange(c.count)
            if c.kind in FLYERS:
                ang = 2 * np.pi * k / c.count + 2 * np.pi * u[0]
                centre = np.array([sx, sz]) + 45.0 * f
                pxz = centre[None] + 10.0 * np.stack([np.cos(ang), np.sin(ang)], axis=1)
                ground = self.terrain.height(pxz[:, 0], pxz[:, 1])
                y = np.maximum(ground, wl) + 12.0 + 6.0 * u[4 + 4 * k + 1]
                yaw = np.degrees(-ang)
            else:
                pxz = self._group_positions(c.count, u, f, 0.3 * ci)
                y = self.terrain.height(pxz[:, 0], pxz[:, 1])
                yaw = 360.0 * u[2] + 80.0 * (u[7 + 4 * k] - 0.5)
            for i in range(c.count):
                out.append(
                    CreatureSpawn(
                        kind=c.kind,
                        index=i,
                        position=np.array([pxz[i, 0], float(y[i]), pxz[i, 1]]),
                        yaw=float(yaw[i] % 360.0),
                        scale=float(0.9 + 0.2 * u[6 + 4 * i]),
                        behaviour=c.behaviour,
                        label=c.label,
                        seed=stable_seed("creature", self.spec.seed, ci, i, bits=31),
                    )
                )
        return out

    def _group_positions(
        self, count: int, u: np.ndarray, forward: np.ndarray, side_offset: float
    ) -> np.ndarray:
        """(count, 2) dry ground positions of a group in front of the spawn view."""
        sx, _sy, sz = self.spawn.position
        k = np.arange(count)
        rad = 2.2 * np.sqrt(k + 0.5) * (count > 1)
        ang = k * 2.39996 + 0.6 * (u[4 + 4 * k] - 0.5)
        offs = np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
        base_side = (u[0] - 0.5) * 0.3 + side_offset * (1 if u[3] < 0.5 else -1)
        best = None
        # Nearest to the view's centre first: sides within ±26° keep the group on screen.
        for side in (base_side, -base_side, 0.0, 0.25, -0.25, 0.45, -0.45, 0.7, -0.7, 1.0, -1.0):
            for dist in (14.0 + 8.0 * u[1], 12.0, 18.0, 24.0):
                rot = np.array([[np.cos(side), -np.sin(side)], [np.sin(side), np.cos(side)]])
                centre = np.array([sx, sz]) + dist * (rot @ forward)
                pxz = centre[None] + offs
                dry = self.terrain.height(pxz[:, 0], pxz[:, 1]) > self.terrain.water_level + 0.3
                dry &= self.terrain.normal(pxz[:, 0], pxz[:, 1], eps=1.0)[:, 1] > 0.9  # gentle
                dry &= np.hypot(pxz[:, 0] - sx, pxz[:, 1] - sz) > 8.0  # not in the viewer's face
                if dry.all():  # and not hidden behind a rise
                    h = self.terrain.height(pxz[:, 0], pxz[:, 1])
                    eye = self.spawn.position + np.array([0.0, 1.7, 0.0])
                    dry &= self._visible_from(eye, pxz[:, 0], h + 0.9, pxz[:, 1]) > 0
                if dry.all():
                    return pxz
                if best is None or dry.sum() > best[0]:
                    best = (int(dry.sum()), pxz)
        return best[1]  # no place suits every member: the one that suits most
