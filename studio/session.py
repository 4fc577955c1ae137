"""`Session`: a world, its timeline and project file, and the live loop's state.

The session owns the current branch, the live `SimState` and whether time runs. `apply` accepts
events for the current tick (committed to the file before it returns: a killed process loses
nothing it accepted); `advance` steps the simulation. Acting while rewound into a branch's
recorded past never rewrites history: the session forks a new branch ("main-2") at that tick
and continues there. Takes record the camera (pose and vfov) for every tick in a range.

Rendering is not here: `camera()` gives the `Camera` for the current view (first person, third
person, or a directed shot) and the renderer draws the world and `state` from it.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel

from studio.camera import Camera
from studio.conventions import TICK_HZ, seconds_to_tick
from studio.events import Event
from studio.sim import EYE_HEIGHT, SimState, step
from studio.spec import WorldSpec
from studio.storage import MAIN_BRANCH, TAKE_FIELDS, ProjectFile, TakeRow
from studio.timeline import Branch, Timeline, TimelineError

log = logging.getLogger(__name__)

THIRD_PERSON_DISTANCE = 4.0
"""Metres behind the eye the third-person camera sits (pulled in above the ground)."""
VFOV = 60.0


@dataclass
class _Recording:
    name: str
    branch: Branch
    start_tick: int
    rows: list[list[float]] = field(default_factory=list)


class Session:
    """A live session on a `.tidepool` file; see the module docstring."""

    def __init__(
        self,
        store: ProjectFile,
        *,
        world: object | None = None,
        branch: str | None = None,
        snapshot_every: int = 30,
    ) -> None:
        from studio.backdrop import open_world

        self.store = store
        self.world = world if world is not None else open_world(store, background=False)
        self.timeline = Timeline(self.world, store, snapshot_every=snapshot_every)
        name = branch or store.meta("current_branch") or MAIN_BRANCH
        self.branch = self.timeline.by_name(name)
        self.state: SimState = self.timeline.seek(self.branch, self.branch.head_tick)
        self.playing = False
        self._recording: _Recording | None = None

    @classmethod
    def open(cls, path: str | os.PathLike, **kwargs: object) -> Session:
        """Open a project file for a live session (it must be writable)."""
        return cls(ProjectFile.open(path), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def create(cls, path: str | os.PathLike, spec: WorldSpec, **kwargs: object) -> Session:
        return cls(ProjectFile.create(path, spec), **kwargs)  # type: ignore[arg-type]

    @property
    def tick(self) -> int:
        return self.state.tick

    @property
    def seconds(self) -> float:
        return self.state.tick / TICK_HZ

    # --- the live loop ----------------------------------------------------------------

    def apply(self, events: Event | Iterable[Event]) -> list[Event]:
        """Accept events at the current tick (their `tick` is set to it); returns them as stored."""
        evs = [events] if isinstance(events, BaseModel) else list(events)
        if not evs:
            return []
        if self.tick < self.branch.head_tick:
            self._diverge()
        evs = [e.model_copy(update={"tick": self.tick}) for e in evs]
        self.timeline.record(self.branch, evs)
        return evs

    def _diverge(self) -> None:
        """Acting inside recorded history: continue on a new branch from here."""
        name = self.timeline.unique_name(self.branch.name)
        log.info("new input at tick %d inside %r: forking %r", self.tick, self.branch.name, name)
        self.fork(name)

    def advance(self, n: int = 1) -> SimState:
        """Step `n` ticks (replaying the branch's recorded events where it has them)."""
        for _ in range(n):
            t = self.tick
            live = t >= self.branch.head_tick
            if self._recording is not None:
                self._recording.rows.append(camera_row(self.camera_for(self.state)))
            self.state = step(
                self.timeline.world, self.state, self.timeline.events_at(self.branch, t)
            )
            self.timeline.extend(self.branch, self.tick)
            self.timeline.note_state(self.branch, self.state)
            if live:
                new = [e for e in self.state.edits if e.tick == t]
                if new:
                    self.store.append_edits(
                        self.branch.id, [(e.tick, e.kind, e.to_json()) for e in new]
                    )
        return self.state

    def pause(self) -> None:
        self.playing = False
        self.store.set_head(self.branch.id, self.branch.head_tick)

    def resume(self) -> None:
        self.playing = True

    # --- time travel ------------------------------------------------------------------

    def seek(self, tick: int, *, branch: str | None = None) -> SimState:
        """Jump to `tick` of `branch` (default: the current one)."""
        b = self.timeline.by_name(branch) if branch is not None else self.branch
        self.state = self.timeline.seek(b, tick)
        self.branch = b
        return self.state

    def rewind(self, seconds: float) -> SimState:
        """Go back `seconds` on the current branch."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise TimelineError(f"rewind by {seconds!r} s: pass a number of seconds >= 0")
        target = self.tick - seconds_to_tick(seconds)
        if target < 0:
            raise TimelineError(
                f"cannot rewind {seconds:g} s from {self.seconds:.2f} s: that is before the start; "
                f"rewind at most {self.seconds:.2f} s"
            )
        return self.seek(target)

    def fork(self, name: str) -> Branch:
        """A new branch from the current tick (redirect); the session continues on it."""
        b = self.timeline.fork(self.branch, self.tick, name)
        self.branch = b
        self.timeline.note_state(b, self.state)
        self.store.set_meta("current_branch", b.name)
        return b

    def switch(self, name: str, *, tick: int | None = None) -> SimState:
        """Continue on another branch, at its end (or at `tick`)."""
        b = self.timeline.by_name(name)
        self.branch = b
        self.state = self.timeline.seek(b, b.head_tick if tick is None else tick)
        self.store.set_meta("current_branch", b.name)
        return self.state

    def branches(self) -> list[dict]:
        return self.timeline.tree()

    # --- takes ------------------------------------------------------------------------

    def record_start(self, name: str) -> None:
        if self._recording is not None:
            raise TimelineError(
                f"already recording take {self._recording.name!r}; stop it before starting {name!r}"
            )
        if not name.strip():
            raise TimelineError("a take needs a name; pass e.g. 'shot1'")
        self._recording = _Recording(name, self.branch, self.tick)

    def record_stop(self) -> TakeRow:
        rec = self._recording
        if rec is None:
            raise TimelineError("not recording; start a take first")
        self._recording = None
        if rec.branch is not self.branch or len(rec.rows) != self.tick - rec.start_tick:
            raise TimelineError(
                f"take {rec.name!r} was interrupted by a seek or branch switch; record it again "
                "without jumping in time"
            )
        take = TakeRow(
            rec.name,
            rec.branch.id,
            rec.start_tick,
            self.tick,
            np.array(rec.rows, dtype=np.float64).reshape(-1, len(TAKE_FIELDS)),
        )
        self.store.put_take(take)
        return take

    @property
    def recording(self) -> str | None:
        return None if self._recording is None else self._recording.name

    # --- camera -----------------------------------------------------------------------

    def camera(self, *, width: int = 1280, height: int = 720) -> Camera:
        """The camera the live view is drawn from now."""
        return self.camera_for(self.state, width=width, height=height)

    def camera_for(self, s: SimState, *, width: int = 1280, height: int = 720) -> Camera:
        """First person: at the eye. Third: behind and above, kept above the ground. Free: the
        detached fly camera. Directed: the shot's move around its target, blended in from the
        previous view when the shot asked for a blend (see `_view_camera`)."""
        return self._view_camera(s, s.camera_mode, s.camera_shot, s.camera_from, width, height)

    def _view_camera(
        self, s: SimState, mode: str, shot: tuple | None, frm: tuple | None, width: int, height: int
    ) -> Camera:
        """The camera of view (mode, shot) at state `s`; during a blend (`frm` = the view it
        leaves and the blend's ticks) both views are evaluated at `s` and eased between, so the
        camera is a pure function of the state: a replay after rewind gives the same camera."""
        p = s.player
        if mode == "directed" and shot is not None:
            cam = self._shot_camera(s, shot, width, height)
        elif mode == "free" and s.free_cam is not None:
            x, y, z, yaw, pitch = s.free_cam
            cam = Camera(np.array([x, y, z]), yaw=yaw, pitch=pitch, vfov=VFOV, width=width,
                         height=height)  # fmt: skip
        else:
            eye = np.array([p.x, p.y + EYE_HEIGHT, p.z])
            cam = Camera(eye, yaw=p.yaw, pitch=p.pitch, vfov=VFOV, width=width, height=height)
            if mode == "third" or (mode == "directed" and p.view == "third"):
                pos = eye - THIRD_PERSON_DISTANCE * cam.forward + np.array([0.0, 0.5, 0.0])
                ground = float(self.timeline.world.height_at(pos[0], pos[2]))
                pos[1] = max(pos[1], ground + 0.3)
                cam.position = pos
        if frm is not None and s.tick < frm[4]:
            from studio.rigs import CLEARANCE, blend

            prev = self._view_camera(s, frm[0], frm[1], frm[2], width, height)
            cam = blend(prev, cam, (s.tick - frm[3]) / max(1, frm[4] - frm[3]))
            x, _, z = cam.position
            ground = float(self.timeline.world.height_at(x, z)) + CLEARANCE
            cam.position[1] = max(float(cam.position[1]), ground)
        return cam

    def _shot_camera(self, s: SimState, shot_row: tuple, width: int, height: int) -> Camera:
        """A directed shot's rig (studio.rigs) over its subject at this tick; past its end a
        shot holds its last frame (while a newer shot blends out of it)."""
        from studio.rigs import shot_camera, subject_of
        from studio.sim.placed import directed_props
        from studio.sim.world_view import concat_colliders

        shot, target, t0, t1 = shot_row
        subject = subject_of(s, target) or subject_of(s, "player")
        w = self.timeline.world
        u = min(1.0, (s.tick - t0) / max(1, t1 - t0))
        added = directed_props(w, s).colliders  # directed props are solid to the camera too
        return shot_camera(
            shot, subject, u, azimuth0=s.player.yaw + 180.0,
            height_at=lambda x, z: float(w.height_at(x, z)),
            colliders=lambda x, z: concat_colliders(w.colliders(x, z), added),
            width=width, height=height, vfov=VFOV,
        )  # fmt: skip

    # --- closing ----------------------------------------------------------------------

    def close(self) -> None:
        if self.store.readonly:
            self.store.close()
            return
        self.store.set_head(self.branch.id, self.branch.head_tick)
        self.store.set_meta("current_branch", self.branch.name)
        self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def camera_row(cam: Camera) -> list[float]:
    """A take row (TAKE_FIELDS order) from a camera."""
    x, y, z = (float(v) for v in cam.position)
    return [x, y, z, float(cam.yaw), float(cam.pitch), float(cam.roll), float(cam.vfov)]
