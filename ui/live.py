"""The live channel: one `LiveSession` per browser tab, a worker thread each, a WebSocket each.

The worker thread owns the `studio.session.Session` (world, timeline, project file): it applies
queued inputs, steps the simulation at 30 Hz and renders the newest state to JPEG. The asyncio
side only forwards — browser JSON in (validated by `ui.protocol`), frames and status out — so
rendering never blocks the server's event loop. Frames are latest-wins: the worker renders only
while fewer than `MAX_UNACKED` frames are in flight to its client, so a slow client gets fewer,
fresher frames and a client that never reads gets none (and is dropped when a send stalls).

Sessions persist: the session's branch and tick are written to the world's `.tidepool` file
(`live:<session id>` meta) whenever they change in a way a reload should see, so a reloaded tab
or a restarted server resumes at the same moment. A session whose tab went away is closed after
`LINGER_S` seconds (long enough for a reload to rejoin it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import queue
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from starlette.websockets import WebSocket, WebSocketDisconnect

from studio.conventions import TICK_HZ
from studio.events import InputEvent, ModeEvent
from studio.render import Cancel, RenderCancelled
from ui import protocol as P

log = logging.getLogger(__name__)

LEVELS: tuple[tuple[int, int, int], ...] = (
    (640, 360, 250_000),
    (480, 270, 250_000),
    (480, 270, 150_000),
    (320, 180, 150_000),
)
"""Viewport levels, best first: (width, height, Gaussian budget). The adaptive loop steps down
when rendering is too slow: fewer pixels, then less far detail (projecting and sorting cost
per Gaussian, whatever the resolution), then fewer pixels again."""
SIZES: tuple[tuple[int, int], ...] = tuple(dict.fromkeys((w, h) for w, h, _ in LEVELS))
"""The adaptive resolutions, best first."""
TARGET_FPS = 24.0
JPEG_QUALITY = 80
LINGER_S = 20.0
"""A session without a tab is closed after this long (a reload rejoins within it)."""
SEND_TIMEOUT_S = 5.0
"""A client whose socket does not take a message within this long is dropped."""
MAX_INBOX = 512
"""Queued messages per session; a client that floods beyond this is dropped."""
MAX_BAD_MESSAGES = 20
"""Invalid messages tolerated per connection (each is answered with an error)."""
MAX_CATCH_UP = 30
"""Ticks stepped at once when rendering made the loop late (beyond this, time slows down)."""
STATUS_EVERY_S = 0.25
PERSIST_EVERY_S = 1.0


def _level_cost(level: int) -> float:
    """A level's frame cost relative to the best, modelled as half per pixel, half per Gaussian."""
    w, h, n = LEVELS[level]
    w0, h0, n0 = LEVELS[0]
    return 0.5 * (w * h) / (w0 * h0) + 0.5 * n / n0


def jpeg_bytes(rgb: np.ndarray, *, quality: int = JPEG_QUALITY) -> bytes:
    """(H, W, 3) uint8 -> JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@dataclass
class _Client:
    """The tab attached to a session: where to wake the sender, and frame flow control."""

    loop: asyncio.AbstractEventLoop
    wake: asyncio.Event
    sent: int = 0
    acked: int = 0

    def notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed: the connection is gone
            self.loop.call_soon_threadsafe(self.wake.set)


@dataclass
class _Pending:
    """Inputs received since the last tick, merged into one InputEvent."""

    held: tuple[str, ...] | None = None
    look: list[float] = field(default_factory=lambda: [0.0, 0.0])
    press: set[str] = field(default_factory=set)
    last_id: int = 0
    any: bool = False


class LiveSession:
    """A tab's session on one world file; see the module docstring."""

    def __init__(
        self,
        sid: str,
        path: Path,
        world: Any = None,
        *,
        fork_from_shared: bool = False,
        size: tuple[int, int] = SIZES[0],
        adaptive: bool = True,
    ) -> None:
        self.sid = sid
        self.path = path
        self._prepared_world = world
        self.fork_from_shared = fork_from_shared
        self.size_level = next((i for i, lv in enumerate(LEVELS) if lv[:2] == size), 0)
        self.fixed_size = None if size in SIZES else size
        self.adaptive = adaptive
        self.inbox: queue.Queue[tuple[float, P.ClientMessage] | None] = queue.Queue(
            maxsize=MAX_INBOX
        )
        """(server arrival time, message): inputs apply at the tick of their arrival."""
        self.client: _Client | None = None
        self.ready = threading.Event()
        self.error: str | None = None
        self._lock = threading.Lock()
        self._frame: bytes | None = None
        self._messages: deque[dict] = deque(maxlen=64)
        self._state: dict[str, Any] = {}
        self._stop = threading.Event()
        self.playing = False
        self.cancel = Cancel()
        """Set to stop the frame in flight (see `interrupt`)."""
        self._rendering = False
        self._cancelled_last = False
        self.frames_cancelled = 0
        self.frames_borrowed = 0
        """Frames that drew the neighbouring view anchor's Gaussians while this one's built."""
        self.detached_at: float | None = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"live-{sid}", daemon=True)
        self._thread.start()

    # --- asyncio side -----------------------------------------------------------------

    def attach(self, client: _Client) -> None:
        with self._lock:
            self.client = client
            self.detached_at = None
        self.inbox.put_nowait(
            (time.monotonic(), P.Ping(t="ping", id=-1))
        )  # wake the worker: resend status

    def interrupt(self, msg: P.ClientMessage) -> None:
        """Stop the frame in flight when a key goes down or up while playing: that frame cannot
        show the key, and finishing it first would make the key wait for two frames instead of
        one. Called before the message is queued, so the frame it stops never holds it. A frame
        that follows a stopped one always finishes, so a stream of keys cannot starve the view.
        Mouse look never stops a frame (it streams at the display's rate)."""
        if (
            isinstance(msg, P.Input)
            and msg.held is not None
            and self.playing
            and self._rendering
            and not self._cancelled_last
        ):
            self.cancel.set()

    def detach(self, client: _Client) -> None:
        with self._lock:
            if self.client is client:
                self.client = None
                self.detached_at = time.monotonic()
        with contextlib.suppress(queue.Full):
            self.inbox.put_nowait((time.monotonic(), P.Pause(t="pause")))

    def take_frame(self) -> bytes | None:
        with self._lock:
            frame, self._frame = self._frame, None
            if frame is not None and self.client is not None:
                self.client.sent += 1
            return frame

    def take_messages(self) -> list[dict]:
        with self._lock:
            out = list(self._messages)
            self._messages.clear()
            return out

    def snapshot(self) -> dict[str, Any]:
        """The latest status (player, tick, branch, ...) as the page last saw it, plus the
        server-side input -> frame-ready latency (p50/p95 ms over the last 600 inputs)."""
        with self._lock:
            out = dict(self._state)
        ms = np.array(self.input_ms, float)
        out["input_to_frame_ms"] = (
            {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)), "n": len(ms)}
            if len(ms)
            else None
        )
        out["frames_cancelled"] = self.frames_cancelled
        out["frames_borrowed"] = self.frames_borrowed
        return out

    def close(self, *, wait: bool = True) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self.inbox.put_nowait(None)
        if wait:
            self._thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # --- worker thread ----------------------------------------------------------------

    def _publish(self, msg: dict) -> None:
        with self._lock:
            self._messages.append(msg)
            client = self.client
        if client is not None:
            client.notify()

    def _in_flight(self) -> int:
        with self._lock:
            c = self.client
            if c is None:
                return P.MAX_UNACKED
            return c.sent - c.acked + (self._frame is not None)

    def _run(self) -> None:
        try:
            self._open()
        except Exception as e:  # the tab must hear why its world would not open
            log.exception("opening %s failed", self.path)
            self.error = f"could not open {self.path.name}: {e}"
            self.ready.set()
            return
        self.ready.set()
        try:
            self._loop()
        except Exception as e:
            log.exception("live session %s failed", self.sid)
            self._publish({"t": "error", "message": f"the session stopped: {e}", "fatal": True})
        finally:
            self._persist()
            self.session.close()
            self.world.close()

    def _open(self) -> None:
        from pipelines.text import describe_understood
        from studio.backdrop import open_world
        from studio.session import Session
        from studio.storage import ProjectFile

        store = ProjectFile.open(self.path)
        self.understood = describe_understood(store.spec)
        # A world just generated for this file (its chunks cached) saves the first live frame
        # from generating everything again.
        self.world = self._prepared_world or open_world(store)
        self._prepared_world = None
        saved = store.meta(f"live:{self.sid}")
        self.session = Session(store, world=self.world)
        s = self.session
        if saved:
            info = json.loads(saved)
            try:
                s.switch(
                    info["branch"],
                    tick=min(int(info["tick"]), s.timeline.by_name(info["branch"]).head_tick),
                )
            except (KeyError, ValueError) as e:
                log.warning(
                    "session %s: cannot restore %s (%s); starting at the head", self.sid, saved, e
                )
        elif self.fork_from_shared:
            s.fork(s.timeline.unique_name("tab"))
        self.playing = bool(saved and json.loads(saved).get("playing", False))
        self.pending = _Pending()
        self.timed: list[tuple[float, P.ClientMessage]] = []
        self.last_input = 0
        self.take_play: tuple[Any, str] | None = None  # (TakeRow, branch name)
        self.fps_times: deque[float] = deque(maxlen=30)
        self.arrivals: deque[tuple[int, float]] = deque(maxlen=256)  # (input id, arrival)
        self.input_ms: deque[float] = deque(maxlen=600)  # input arrival -> frame ready, ms
        self.render_ema = 0.0
        self.slow_since: float | None = None
        self.fast_since: float | None = None
        self.notice = ""
        self.dirty = True
        self.timeline_dirty = True
        self.hour = None
        self._persist()

    def _persist(self) -> None:
        s = self.session
        if s.store.readonly:
            return
        info = {"branch": s.branch.name, "tick": s.tick, "playing": self.playing}
        s.store.set_meta(f"live:{self.sid}", json.dumps(info))
        s.store.set_meta("last_session", self.sid)
        s.store.set_head(s.branch.id, s.branch.head_tick)
        self.persisted_at = time.monotonic()

    def _loop(self) -> None:
        next_tick = time.monotonic()
        status_at = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            timeout = max(0.0, next_tick - now) if self.playing else 0.1
            if self.dirty and self._in_flight() < P.MAX_UNACKED:
                timeout = 0.0
            msgs: list[tuple[float, P.ClientMessage] | None] = []
            try:
                msgs.append(self.inbox.get(timeout=timeout))
                while True:
                    msgs.append(self.inbox.get_nowait())
            except queue.Empty:
                pass
            for item in msgs:
                if item is None:
                    return
                if isinstance(item[1], P.Input):
                    self.arrivals.append((item[1].id, item[0]))
                if isinstance(item[1], P.Input) and self.playing:
                    self.timed.append(item)
                else:
                    self._handle(item[1])
            now = time.monotonic()
            early = bool(self.timed) and self.playing and 0 < next_tick - now < 1.0 / TICK_HZ
            if self.playing and (now >= next_tick or early):
                due = 1 if early else min(int((now - next_tick) * TICK_HZ) + 1, MAX_CATCH_UP)
                self._step(due, first=now if early else next_tick)
                next_tick = max(next_tick + due / TICK_HZ, now - 1.0 / TICK_HZ)
            elif (self.pending.any or self.timed) and not self.playing:
                for _, m in self.timed:
                    self._handle(m)
                self.timed.clear()
                self.last_input = self.pending.last_id  # paused: inputs are not applied
                self.pending = _Pending()
                self.dirty = True
            if self.dirty and self._in_flight() < P.MAX_UNACKED:
                self._render()
            if now - status_at >= STATUS_EVERY_S:
                status_at = now
                self._status()
            if self.playing and now - self.persisted_at >= PERSIST_EVERY_S:
                self._persist()

    # --- messages -----------------------------------------------------------------------

    def _handle(self, m: P.ClientMessage) -> None:
        from studio.timeline import TimelineError

        s = self.session
        try:
            if isinstance(m, P.Input):
                p = self.pending
                if m.held is not None:
                    before = p.held if p.held is not None else s.state.player.held
                    p.press |= set(m.held) - set(before)  # a tap within one tick still counts
                    p.held = m.held
                p.look[0] += m.look[0]
                p.look[1] += m.look[1]
                p.last_id = max(p.last_id, m.id)
                p.any = True
            elif isinstance(m, P.Ack):
                with self._lock:
                    if self.client is not None:
                        self.client.acked = min(self.client.sent, self.client.acked + 1)
            elif isinstance(m, P.Ping):
                self.timeline_dirty = True
                self.dirty = True
                self._status()
            elif isinstance(m, P.Play):
                self.take_play = None
                self.playing = True
                s.resume()
                self._persist()
            elif isinstance(m, P.Pause):
                self.playing = False
                s.pause()
                self._persist()
            elif isinstance(m, P.Seek):
                self.take_play = None
                s.seek(m.tick, branch=m.branch)
                self._moved()
            elif isinstance(m, P.Fork):
                name = m.name or s.timeline.unique_name(s.branch.name)
                s.fork(name)
                self._moved()
                self._notice(f"branched {name!r} at {s.seconds:.1f} s")
            elif isinstance(m, P.Switch):
                self.take_play = None
                s.switch(m.branch)
                self._moved()
            elif isinstance(m, P.Record):
                self._record(m)
            elif isinstance(m, P.PlayTake):
                take = s.store.take(m.name)
                branch = s.timeline.branches[take.branch_id].name
                s.seek(take.start_tick, branch=branch)
                self.take_play = (take, branch)
                self.playing = True
                s.resume()
                self._moved()
                self._status()  # say so now: a short take can end before the next status
            elif isinstance(m, P.Mode):
                if self.playing:
                    s.apply(ModeEvent(tick=s.tick, move=m.move, view=m.view))
            elif isinstance(m, P.Direct):
                self._direct(m.text)
        except (TimelineError, ValueError, KeyError) as e:
            self._publish({"t": "error", "message": str(e).strip("'\"")})

    def _direct(self, text: str) -> None:
        """A directing command: events on the timeline now (or playback), and what was understood."""
        from pipelines.directing import direct

        s = self.session
        result = direct(s, text)
        self.playing = s.playing
        if not self.playing and result.get("applied"):
            s.advance(1)  # paused: step once so the change shows now (a night falls at once)
        self._moved()
        self._publish({"t": "directed", **result})

    def _moved(self) -> None:
        self.dirty = True
        self.timeline_dirty = True
        self._persist()

    def _notice(self, text: str) -> None:
        self._publish({"t": "notice", "message": text})

    def _record(self, m: P.Record) -> None:
        s = self.session
        if m.on:
            name = m.name or _next_take_name([t.name for t in s.store.takes()])
            s.record_start(name)
            if not self.playing:
                self.playing = True
                s.resume()
            self._thumb_for_take = jpeg_bytes(self._render_rgb((320, 180)), quality=70)
            self._notice(f"recording take {name!r}")
        else:
            take = s.record_stop()
            s.store.set_meta(
                f"take_thumb:{take.name}", base64.b64encode(self._thumb_for_take).decode()
            )
            self._notice(
                f"take {take.name!r}: {(take.end_tick - take.start_tick) / TICK_HZ:.1f} s on "
                f"{s.branch.name!r}"
            )
        self.timeline_dirty = True

    # --- simulation and rendering -------------------------------------------------------

    def _step(self, n: int, *, first: float) -> None:
        """Step n ticks; the k-th (scheduled at first + k/30 s) takes the inputs that had arrived."""
        for k in range(n):
            due = first + k / TICK_HZ
            while self.timed and (self.timed[0][0] <= due or k == n - 1):
                self._handle(self.timed.pop(0)[1])
            self._step_one()
            if not self.playing:  # a take's playback ended
                break
        self.dirty = True

    def _step_one(self) -> None:
        s = self.session
        p = self.pending
        if p.any:
            if self.take_play is not None:
                self.take_play = None  # taking the controls ends a take's playback
            s.apply(
                InputEvent(
                    tick=s.tick, held=p.held, look=(p.look[0], p.look[1]), press=tuple(p.press)
                )
            )
            self.last_input = p.last_id
            if s.branch.name != self._state.get("branch"):
                self.timeline_dirty = True
            self.pending = _Pending()
        s.advance(1)
        if self.take_play is not None and self.playing and s.tick >= self.take_play[0].end_tick:
            # the take's last frame stays on screen, from its camera, until the user moves on
            self.playing = False
            s.pause()
            self._persist()
            self._notice("take finished")
        self.dirty = True

    def _camera(self, size: tuple[int, int]):
        from studio.camera import Camera

        s = self.session
        w, h = size
        if self.take_play is not None:
            take = self.take_play[0]
            i = min(max(s.tick - take.start_tick, 0), len(take.cameras) - 1)
            x, y, z, yaw, pitch, roll, vfov = take.cameras[i]
            return Camera(
                np.array([x, y, z]), yaw=yaw, pitch=pitch, roll=roll, vfov=vfov, width=w, height=h
            )
        return s.camera(width=w, height=h)

    def _render_rgb(self, size: tuple[int, int], *, borrow: bool = False) -> np.ndarray:
        from studio.view import render_state

        s = self.session
        frame = render_state(
            self.world, s.state, self._camera(size), width=size[0], height=size[1],
            budget=self.budget, cancel=self.cancel, borrow=borrow,
        )  # fmt: skip
        return frame.rgb

    @property
    def size(self) -> tuple[int, int]:
        return self.fixed_size or LEVELS[self.size_level][:2]

    @property
    def budget(self) -> int:
        """Gaussians drawn at most (the adaptive level's; a fixed size keeps the full budget)."""
        return LEVELS[0 if self.fixed_size else self.size_level][2]

    def _render(self) -> None:
        size = self.size
        t0 = time.perf_counter()
        self.cancel.clear()
        self._rendering = True
        try:
            # Playing, the next tick's frame follows at once, so a frame may draw the view
            # anchor beside the camera's while the worker builds it; paused, it waits for it.
            rgb = self._render_rgb(size, borrow=self.playing)
        except RenderCancelled:  # a key arrived; the loop steps it in and renders again
            self._cancelled_last = True
            self.frames_cancelled += 1
            return
        finally:
            self._rendering = False
        self._cancelled_last = False
        self.frames_borrowed += self.world.last_view_borrowed
        jpeg = jpeg_bytes(rgb)
        ms = (time.perf_counter() - t0) * 1000.0
        self.dirty = False
        flags = (P.FLAG_PLAYING * self.playing) | (P.FLAG_LOW_RES * (self.size_level > 0))
        flags |= P.FLAG_RECORDING * (self.session.recording is not None)
        flags |= P.FLAG_TAKE_PLAYBACK * (self.take_play is not None)
        self._seq = getattr(self, "_seq", 0) + 1
        header = P.FrameHeader(
            self._seq, self.session.tick, self.last_input, ms, size[0], size[1], flags
        )
        ready = time.monotonic()  # before the frame is handed over, so it never trails it
        while self.arrivals and self.arrivals[0][0] <= self.last_input:
            self.input_ms.append((ready - self.arrivals.popleft()[1]) * 1000.0)
        with self._lock:
            self._frame = P.pack_frame(header, jpeg)
            client = self.client
        if client is not None:
            client.notify()
        now = time.monotonic()
        self.fps_times.append(now)
        self.render_ms = ms
        self._adapt(ms, now)

    def _adapt(self, ms: float, now: float) -> None:
        """Step the resolution down when rendering cannot keep TARGET_FPS, up when it easily can."""
        if not self.adaptive or self.fixed_size is not None or not self.playing:
            self.slow_since = self.fast_since = None
            return
        a = 0.2
        self.render_ema = ms if self.render_ema == 0 else (1 - a) * self.render_ema + a * ms
        budget = 1000.0 / TARGET_FPS
        if self.render_ema > budget and self.size_level < len(LEVELS) - 1:
            self.fast_since = None
            self.slow_since = self.slow_since or now
            if now - self.slow_since > 1.0:
                self.size_level += 1
                self.slow_since = None
                self.render_ema = 0.0
                self._notice(f"the renderer cannot keep {TARGET_FPS:g} fps here; {self._level()}")
        elif self.size_level > 0:
            scale = _level_cost(self.size_level - 1) / _level_cost(self.size_level)
            if self.render_ema * scale < 0.8 * budget:
                self.slow_since = None
                self.fast_since = self.fast_since or now
                if now - self.fast_since > 3.0:
                    self.size_level -= 1
                    self.fast_since = None
                    self.render_ema = 0.0
                    self._notice(f"back to {self._level()}")
            else:
                self.fast_since = None

    def _level(self) -> str:
        w, h, n = LEVELS[self.size_level]
        return f"showing {w}×{h}" + ("" if n == LEVELS[0][2] else ", less far detail")

    def _status(self) -> None:
        s = self.session
        p = s.state.player
        times = self.fps_times
        fps = (
            (len(times) - 1) / (times[-1] - times[0])
            if len(times) > 2 and times[-1] > times[0]
            else 0.0
        )
        state = {
            "t": "status",
            "session": self.sid,
            "world": self.path.stem,
            "branch": s.branch.name,
            "tick": s.tick,
            "seconds": round(s.seconds, 3),
            "head_tick": s.branch.head_tick,
            "playing": self.playing,
            "recording": s.recording,
            "take_playback": None if self.take_play is None else self.take_play[0].name,
            "move": p.move,
            "view": p.view,
            "player": {"x": p.x, "y": p.y, "z": p.z, "yaw": p.yaw, "pitch": p.pitch},
            "hour": s.state.hour,
            "weather": s.state.weather,
            "fps": round(fps, 1),
            "render_ms": round(getattr(self, "render_ms", 0.0), 1),
            "size": list(self.size),
            "low_res": self.size_level > 0,
        }
        with self._lock:
            self._state = state
        self._publish(state)
        if self.timeline_dirty:
            self.timeline_dirty = False
            self._publish(self._timeline())

    def _timeline(self) -> dict:
        s = self.session
        takes = []
        for t in s.store.takes():
            b = s.timeline.branches.get(t.branch_id)
            thumb = s.store.meta(f"take_thumb:{t.name}")
            takes.append(
                {
                    "name": t.name,
                    "branch": b.name if b else "?",
                    "start_tick": t.start_tick,
                    "end_tick": t.end_tick,
                    "seconds": round((t.end_tick - t.start_tick) / TICK_HZ, 2),
                    "thumb": f"data:image/jpeg;base64,{thumb}" if thumb else None,
                }
            )
        return {"t": "timeline", "branches": s.branches(), "takes": takes}


def _next_take_name(existing: list[str]) -> str:
    n = 1
    while f"take{n}" in existing:
        n += 1
    return f"take{n}"


class LiveHub:
    """All live sessions of a studio server, by session id."""

    def __init__(self, library: Path, *, linger_s: float = LINGER_S) -> None:
        self.library = library
        self.linger_s = linger_s
        self.sessions: dict[str, LiveSession] = {}
        self._prepared: tuple[Path, Any] | None = None
        self._lock = threading.Lock()

    def adopt(self, path: Path, world: Any) -> None:
        """Keep a just-created world for the first session that opens `path` (one at a time)."""
        with self._lock:
            old, self._prepared = self._prepared, (Path(path).resolve(), world)
        if old is not None:
            old[1].close()

    def world_path(self, name: str) -> Path:
        path = (self.library / f"{name}.tidepool").resolve()
        if path.parent != self.library.resolve() or not path.is_file():
            raise FileNotFoundError(f"no world named {name!r} in the library {self.library}")
        return path

    def join(self, hello: P.Hello) -> LiveSession:
        """The session a tab asked for: its own (rejoined), or a new one on the world it names.

        A session remembered by the browser (`claim="stored"`) that another tab is using gives
        this tab a session of its own on the same world, on a branch of its own.
        """
        with self._lock:
            self._reap()
            live = self.sessions.get(hello.session or "")
            if (
                live is not None
                and live.alive
                and (hello.world is None or live.path.stem == hello.world)
                and not (hello.claim == "stored" and live.client is not None)
            ):
                return live
            if hello.world is None:
                raise FileNotFoundError("no world chosen; create one or pick one from the library")
            path = self.world_path(hello.world)
            sid = hello.session if hello.session and hello.session not in self.sessions else None
            shared = any(s.path == path and s.alive for s in self.sessions.values())
            sid = sid or secrets.token_urlsafe(9)
            size = (hello.width, hello.height)
            world = None
            if self._prepared is not None and self._prepared[0] == path and not shared:
                world, self._prepared = self._prepared[1], None
            live = LiveSession(
                sid, path, world=world, fork_from_shared=shared, size=size, adaptive=hello.adaptive
            )
            self.sessions[sid] = live
            return live

    def _reap(self) -> None:
        now = time.monotonic()
        for sid, s in list(self.sessions.items()):
            if not s.alive or (s.detached_at is not None and now - s.detached_at >= self.linger_s):
                s.close(wait=False)
                del self.sessions[sid]

    def reap(self) -> None:
        with self._lock:
            self._reap()

    def close(self) -> None:
        with self._lock:
            if self._prepared is not None:
                self._prepared[1].close()
                self._prepared = None
            for s in self.sessions.values():
                s.close()
            self.sessions.clear()


async def serve_socket(ws: WebSocket, hub: LiveHub) -> None:
    """One tab's WebSocket: hello, then inputs in, frames and status out."""
    await ws.accept()
    try:
        first = P.parse_client(await asyncio.wait_for(ws.receive_text(), 10.0))
    except (P.ProtocolError, TimeoutError, WebSocketDisconnect, KeyError) as e:
        with contextlib.suppress(Exception):
            await ws.send_json(
                {"t": "error", "message": f"expected a hello message: {e}", "fatal": True}
            )
            await ws.close(code=1008)
        return
    if not isinstance(first, P.Hello) or first.v != P.PROTOCOL_VERSION:
        await ws.send_json(
            {
                "t": "error",
                "message": f"protocol version {getattr(first, 'v', None)} is not {P.PROTOCOL_VERSION}; "
                "reload the page",
                "fatal": True,
            }
        )
        await ws.close(code=1008)
        return
    try:
        live = await asyncio.to_thread(hub.join, first)
    except (FileNotFoundError, OSError) as e:
        await ws.send_json({"t": "error", "message": str(e), "fatal": True})
        await ws.close(code=1008)
        return
    await asyncio.to_thread(live.ready.wait, 60.0)
    if live.error:
        await ws.send_json({"t": "error", "message": live.error, "fatal": True})
        await ws.close(code=1011)
        return
    client = _Client(asyncio.get_running_loop(), asyncio.Event())
    live.attach(client)
    await ws.send_json(
        {
            "t": "welcome",
            "v": P.PROTOCOL_VERSION,
            "session": live.sid,
            "world": live.path.stem,
            "understood": live.understood,
        }
    )
    sender = asyncio.create_task(_send_loop(ws, live, client))
    bad = 0
    try:
        while not sender.done():
            text = await ws.receive_text()
            try:
                msg = P.parse_client(text)
            except P.ProtocolError as e:
                bad += 1
                if bad > MAX_BAD_MESSAGES:
                    await ws.close(code=1008, reason="too many invalid messages")
                    break
                live._publish({"t": "error", "message": str(e)})
                continue
            live.interrupt(msg)
            try:
                live.inbox.put_nowait((time.monotonic(), msg))
            except queue.Full:
                await ws.close(code=1008, reason="too many messages; slow down")
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        live.detach(client)
        hub.reap()


async def _send_loop(ws: WebSocket, live: LiveSession, client: _Client) -> None:
    try:
        while True:
            await client.wake.wait()
            client.wake.clear()
            for msg in live.take_messages():
                await asyncio.wait_for(ws.send_text(json.dumps(msg)), SEND_TIMEOUT_S)
            frame = live.take_frame()
            if frame is not None:
                await asyncio.wait_for(ws.send_bytes(frame), SEND_TIMEOUT_S)
    except (TimeoutError, WebSocketDisconnect, RuntimeError):
        log.info("session %s: client stalled or left; dropping it", live.sid)
        with contextlib.suppress(Exception):
            await ws.close(code=1008, reason="client did not read; dropped")
