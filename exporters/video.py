"""`mp4`: the take re-rendered deterministically, H.264 yuv420p with +faststart and an AAC track.

Frame k shows the take at time k / fps, i.e. the tick ``start + floor(k · 30 / fps)``: the
simulation state replayed to that tick (hour, weather, creatures, debris) drawn from the take's
camera for that tick with `studio.view.render_state`, the same call `tidepool render` uses.
The soundtrack comes from `exporters.audio`. Encoding is PyAV (FFmpeg's libx264 and AAC) on a
worker thread: x264 releases the GIL, so frame k is converted and encoded while frame k + 1
renders (the render's numpy sky/fog pass is single-threaded and leaves a core free).
"""

from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np

from exporters.audio import SAMPLE_RATE, EventTracker, soundtrack
from exporters.base import (
    ExportRequest,
    ProgressFn,
    Steps,
    deliver,
    frame_ticks,
    load_take,
    take_camera,
    take_seconds,
)
from studio.storage import ProjectFile

X264_OPTIONS = {"crf": "14", "preset": "superfast", "threads": "1"}
"""x264 settings, measured on 1280x720 takes (a meadow walk, 2-core CPU): superfast at CRF 14
costs 19 ms of CPU per frame against 35 ms for veryfast at CRF 10, at the same file size
(~40 kB per frame) and ≥ 43 dB RGB PSNR against the renders passed through yuv420p (the
encoder's own loss; tests/exporters/test_video.py holds it ≥ 40 dB). One x264 thread: the
renderer already keeps both cores busy, and a single thread encodes 720p at ~50 fps."""
AAC_FRAME = 1024
QUEUE_FRAMES = 2
"""Rendered frames waiting for the encoder thread at most (bounds memory: 2.7 MB each at 720p)."""


class _EncoderThread:
    """Encode and mux video frames on a worker thread, in order, `QUEUE_FRAMES` deep.

    The container is touched only by this thread until `finish` returns; an encoder error is
    raised in the caller at the next `put` or at `finish`.
    """

    def __init__(self, container, stream) -> None:
        self.container, self.stream = container, stream
        self.frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="mp4-encoder", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import av

        item = ()
        try:
            while (item := self.frames.get()) is not None:
                pts, rgb = item
                vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                vf.pts = pts
                for packet in self.stream.encode(vf):
                    self.container.mux(packet)
            for packet in self.stream.encode():
                self.container.mux(packet)
        except BaseException as e:  # handed to the caller, which stops the export
            self.error = e
            while item is not None:  # drain to the end marker so the caller never blocks
                item = self.frames.get()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, pts: int, rgb: np.ndarray) -> None:
        self._raise()
        self.frames.put((pts, np.ascontiguousarray(rgb)))

    def finish(self) -> None:
        """Flush the encoder and wait for the thread (also on errors: call from `finally`)."""
        if self.thread.is_alive():
            self.frames.put(None)
            self.thread.join()
        self._raise()


def _encode(path: Path, request: ExportRequest, steps: Steps) -> None:
    import av

    from studio.session import Session
    from studio.sim import step
    from studio.view import render_state

    W, H, fps = request.width, request.height, request.fps
    with ProjectFile.open(request.project, readonly=True) as store:
        take = load_take(store, request.take)
        session = Session(store)
        world = session.world
        try:
            tl = session.timeline
            branch = next(b for b in tl.branches.values() if b.id == take.branch_id)
            rows = frame_ticks(take, fps)
            container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
            try:
                vs = container.add_stream("libx264", rate=fps)
                vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
                vs.options = dict(X264_OPTIONS)
                vs.time_base = Fraction(1, fps)
                as_ = None
                if request.audio:
                    as_ = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
                    as_.bit_rate = 128_000
                state = tl.seek(branch, take.start_tick)
                tracker = EventTracker()
                drawn_row = 0
                tracker.observe(0, state)
                encoder = _EncoderThread(container, vs)
                try:
                    for k, row in enumerate(rows.tolist()):
                        while drawn_row < row:
                            t = take.start_tick + drawn_row
                            state = step(tl.world, state, tl.events_at(branch, t))
                            drawn_row += 1
                            tracker.observe(drawn_row, state)
                        cam = take_camera(take, row, width=W, height=H)
                        frame = render_state(world, state, cam, backend=request.backend)
                        encoder.put(k, frame.rgb)
                        steps.report(0.95 * (k + 1) / max(len(rows), 1))
                finally:
                    encoder.finish()
                # Events of the ticks after the last frame (60 fps / 24 fps rounding).
                while drawn_row < len(take.cameras) - 1:
                    t = take.start_tick + drawn_row
                    state = step(tl.world, state, tl.events_at(branch, t))
                    drawn_row += 1
                    tracker.observe(drawn_row, state)
                if as_ is not None:
                    seconds = len(rows) / fps
                    biome = world.spec.biomes[0].biome
                    pcm = soundtrack(tracker.events, seconds=seconds, biome=biome,
                                     seed=world.spec.seed)  # fmt: skip
                    _encode_audio(container, as_, pcm)
            finally:
                container.close()
        finally:
            world.close()
    steps.report(1.0)


def _encode_audio(container, stream, pcm: np.ndarray) -> None:
    import av

    n = len(pcm)
    pad = (-n) % AAC_FRAME
    pcm = np.concatenate([pcm, np.zeros(pad, np.float32)])
    for i in range(0, len(pcm), AAC_FRAME):
        af = av.AudioFrame.from_ndarray(pcm[None, i : i + AAC_FRAME], format="fltp", layout="mono")
        af.sample_rate = SAMPLE_RATE
        af.pts = i
        af.time_base = Fraction(1, SAMPLE_RATE)
        for packet in stream.encode(af):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def export_mp4(
    request: ExportRequest,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> bytes | Path:
    """The take as H.264/AAC MP4 at request.width x height and request.fps."""
    steps = Steps(progress, cancel)
    return deliver(request, lambda p: _encode(p, request, steps))


def video_seconds(request: ExportRequest) -> float:
    """Duration of the video a request makes (frames / fps)."""
    with ProjectFile.open(request.project, readonly=True) as store:
        take = load_take(store, request.take)
    return len(frame_ticks(take, request.fps)) / request.fps if take_seconds(take) else 0.0
