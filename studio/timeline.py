"""`Timeline`: branches of recorded events plus snapshots, so any tick of any branch can be rebuilt.

A branch has a parent and a fork tick: it sees its parent's events before the fork tick, then
its own (events on one branch never leak into another). The state at tick t of branch b is
``replay(nearest snapshot at or before t on b's ancestry, events)``; replay runs the same `step`
as the live session, so a seek is exact (equal `state_hash`).

Snapshots: every `snapshot_every` ticks a state is written to the project file (compressed) and
kept in memory. Memory is thinned with age: near each branch's head every snapshot is kept, older
ones only every `sparse_every` ticks, and at most `memory_snapshots` in all (least recently used
go first); the file keeps all of them, so a seek anywhere replays fewer than `snapshot_every`
ticks after one indexed read.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from studio.events import Event, EventError, event_from_json, event_to_json
from studio.sim import SimState, StateFormatError, WorldView, initial_state, step, view
from studio.sim.world_view import SimWorld
from studio.storage import MAIN_BRANCH, ProjectFile, ProjectFileError

log = logging.getLogger(__name__)


class TimelineError(ValueError):
    """A seek, fork or switch was asked for something that does not exist; the message says what does."""


@dataclass
class Branch:
    """A branch: its own events by tick (in the order they were accepted) and its extent."""

    id: int
    name: str
    parent: int | None
    fork_tick: int
    head_tick: int
    events: dict[int, list[Event]] = field(default_factory=dict)


@dataclass(frozen=True)
class Marker:
    """Something worth showing on a branch's strip: a fork, a take, a directed event."""

    tick: int
    kind: str
    label: str


class Timeline:
    """Branches, their events and snapshots, backed by a `ProjectFile` (see module docstring)."""

    def __init__(
        self,
        world: SimWorld,
        store: ProjectFile,
        *,
        snapshot_every: int = 30,
        sparse_every: int = 600,
        dense_ticks: int = 1800,
        memory_snapshots: int = 256,
    ) -> None:
        if snapshot_every < 1 or sparse_every % snapshot_every:
            raise ValueError(
                f"snapshot_every={snapshot_every} must be >= 1 and divide sparse_every={sparse_every}"
            )
        self.world: WorldView = view(world)
        self.store = store
        self.snapshot_every = snapshot_every
        self.sparse_every = sparse_every
        self.dense_ticks = dense_ticks
        self.memory_snapshots = memory_snapshots
        self._cache: OrderedDict[tuple[int, int], SimState] = OrderedDict()
        self.branches: dict[int, Branch] = {}
        for row in store.branches():
            b = Branch(row.id, row.name, row.parent_id, row.fork_tick, row.head_tick)
            for ev in store.events(row.id):
                try:
                    e = event_from_json(ev.body)
                except EventError as err:
                    raise ProjectFileError(
                        f"{store.path}: event {ev.id} on branch {row.name!r} is damaged ({err}); "
                        "open a backup"
                    ) from None
                b.events.setdefault(e.tick, []).append(e)
                b.head_tick = max(b.head_tick, e.tick)
            self.branches[b.id] = b
        main = self.by_name(MAIN_BRANCH)
        self._origin = initial_state(world)
        self._cache[(main.id, 0)] = self._origin

    # --- branches ---------------------------------------------------------------------

    def by_name(self, name: str) -> Branch:
        for b in self.branches.values():
            if b.name == name:
                return b
        names = ", ".join(b.name for b in self.branches.values())
        raise TimelineError(f"no branch named {name!r}; branches: {names}")

    def ancestry(self, branch: Branch) -> list[tuple[Branch, int]]:
        """[(branch, first tick it does not own)] from `branch` up to the root."""
        out, limit, b = [], None, branch
        while True:
            out.append((b, limit))
            if b.parent is None:
                return out
            limit = b.fork_tick if limit is None else min(limit, b.fork_tick)
            b = self.branches[b.parent]

    def events_at(self, branch: Branch, tick: int) -> list[Event]:
        """The events that apply at `tick` on `branch` (its own, or its ancestors' before forks)."""
        b = branch
        while b.parent is not None and tick < b.fork_tick:
            b = self.branches[b.parent]
        return b.events.get(tick, [])

    def record(self, branch: Branch, events: Iterable[Event]) -> None:
        """Accept events on a branch: stored and committed before this returns."""
        events = list(events)
        if not events:
            return
        for e in events:
            if e.tick < branch.fork_tick:
                raise TimelineError(
                    f"event at tick {e.tick} is before branch {branch.name!r} forked "
                    f"(tick {branch.fork_tick}); record it on the parent branch"
                )
        head = max(branch.head_tick, max(e.tick for e in events))
        self.store.append_events(
            branch.id, [(e.tick, e.kind, event_to_json(e)) for e in events], head_tick=head
        )
        for e in events:
            branch.events.setdefault(e.tick, []).append(e)
        branch.head_tick = head

    def extend(self, branch: Branch, tick: int) -> None:
        """Note that `branch` now reaches `tick` (stored with the next snapshot or event)."""
        branch.head_tick = max(branch.head_tick, tick)

    def fork(self, parent: Branch, tick: int, name: str) -> Branch:
        """A new branch that shares `parent` up to `tick` and continues on its own from there."""
        if not 0 <= tick <= parent.head_tick:
            raise TimelineError(
                f"cannot fork {parent.name!r} at tick {tick}: it spans ticks 0..{parent.head_tick}"
            )
        if not name.strip():
            raise TimelineError("a branch needs a name; pass e.g. 'alt'")
        if any(b.name == name for b in self.branches.values()):
            raise TimelineError(f"branch {name!r} already exists; pick another name")
        bid = self.store.add_branch(name, parent_id=parent.id, fork_tick=tick)
        b = Branch(bid, name, parent.id, tick, tick)
        self.branches[bid] = b
        return b

    def unique_name(self, base: str) -> str:
        names = {b.name for b in self.branches.values()}
        i = 2
        while f"{base}-{i}" in names:
            i += 1
        return f"{base}-{i}"

    # --- snapshots and seeking --------------------------------------------------------

    def note_state(self, branch: Branch, state: SimState) -> None:
        """Called with each live state: keeps a snapshot every `snapshot_every` ticks."""
        t = state.tick
        if t % self.snapshot_every or (branch.id, t) in self._cache:
            return
        self.store.put_snapshot(branch.id, t, state.to_bytes(compress=True))
        self.store.set_head(branch.id, max(branch.head_tick, t))
        self._remember(branch.id, t, state.copy())

    def _remember(self, bid: int, tick: int, state: SimState) -> None:
        self._cache[(bid, tick)] = state
        self._cache.move_to_end((bid, tick))
        self._thin()

    def _thin(self) -> None:
        """Drop old snapshots from memory: dense near heads, sparse farther back, bounded."""
        if len(self._cache) <= self.memory_snapshots:
            return
        for key in list(self._cache):
            bid, t = key
            old = t < self.branches[bid].head_tick - self.dense_ticks
            if old and t % self.sparse_every and t != 0:
                del self._cache[key]
        while len(self._cache) > self.memory_snapshots:
            key = next(iter(self._cache))
            if key[1] == 0 and len(self._cache) > 1:  # keep the origin
                self._cache.move_to_end(key)
                key = next(iter(self._cache))
            del self._cache[key]

    def _nearest(self, branch: Branch, tick: int) -> tuple[Branch, SimState]:
        """The latest snapshot at or before `tick` on the ancestry that `branch` sees."""
        best: tuple[int, Branch, SimState | None] | None = None
        for b, limit in self.ancestry(branch):
            upto = tick if limit is None else min(tick, limit)
            lo = b.fork_tick if b.parent is not None else 0
            mem = [t for (bid, t) in self._cache if bid == b.id and lo <= t <= upto]
            t_mem = max(mem) if mem else -1
            disk = self.store.snapshot_at_or_before(b.id, upto)
            t_disk = disk[0] if disk is not None and disk[0] >= lo else -1
            if max(t_mem, t_disk) < 0:
                continue
            if t_mem >= t_disk:
                self._cache.move_to_end((b.id, t_mem))
                cand = (t_mem, b, self._cache[(b.id, t_mem)])
            else:
                try:
                    st = SimState.from_bytes(disk[1])
                except StateFormatError as e:
                    raise ProjectFileError(
                        f"{self.store.path}: snapshot at tick {t_disk} of branch {b.name!r} is "
                        f"damaged ({e}); open a backup"
                    ) from None
                cand = (t_disk, b, st)
            if best is None or cand[0] > best[0]:
                best = cand
            if best[0] >= (lo if b.parent is not None else 0):
                break  # an ancestor cannot have a later snapshot than this branch's own
        if best is None:
            return self.branches[next(iter(self.branches))], self._origin
        return best[1], best[2]

    def seek(self, branch: Branch | str, tick: int) -> SimState:
        """The exact state at the start of `tick` on `branch` (snapshot + replay)."""
        b = self.by_name(branch) if isinstance(branch, str) else branch
        if not 0 <= tick <= b.head_tick:
            raise TimelineError(
                f"tick {tick} is outside branch {b.name!r}, which spans ticks 0..{b.head_tick}"
            )
        _, s = self._nearest(b, tick)
        s = s.copy()
        while s.tick < tick:
            s = step(self.world, s, self.events_at(b, s.tick))
        return s

    # --- listing ----------------------------------------------------------------------

    def markers(self, branch: Branch) -> list[Marker]:
        out = [
            Marker(c.fork_tick, "fork", c.name)
            for c in self.branches.values()
            if c.parent == branch.id
        ]
        for tick, evs in branch.events.items():
            out += [Marker(tick, e.kind, e.kind) for e in evs if e.kind not in ("input", "mode")]
        for take in self.store.takes():
            if take.branch_id == branch.id:
                out.append(Marker(take.start_tick, "take", take.name))
        return sorted(out, key=lambda m: (m.tick, m.kind, m.label))

    def tree(self) -> list[dict]:
        """Every branch with its parent, extent and markers (for the CLI and the studio)."""
        return [
            {
                "name": b.name,
                "parent": None if b.parent is None else self.branches[b.parent].name,
                "fork_tick": b.fork_tick,
                "head_tick": b.head_tick,
                "markers": [m.__dict__ for m in self.markers(b)],
            }
            for b in self.branches.values()
        ]
