"""MP4: ffprobe sees H.264 yuv420p + AAC with the right frame count and duration; decoded frames
equal independent renders of their ticks (RGB PSNR >= 40 dB, see `yuv420p_round_trip`); the
attack is heard at its tick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from export_fixtures import ATTACK_ROW, TAKE_TICKS
from export_tools import ffprobe

from exporters import ExportRequest, export
from exporters.base import take_camera
from studio.session import Session
from studio.storage import ProjectFile
from studio.view import render_state

W, H = 192, 108


@pytest.fixture(scope="module")
def mp4(project: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mp4") / "take.mp4"
    export("mp4", ExportRequest(project, "walk", output=out, width=W, height=H, backend="cpu"))
    return out


def test_ffprobe_sees_h264_yuv420p_aac_and_every_frame(mp4: Path) -> None:
    info = ffprobe(mp4)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (W, H)
    assert int(video["nb_read_frames"]) == TAKE_TICKS
    assert video["r_frame_rate"] == "30/1"
    assert float(info["format"]["duration"]) == pytest.approx(TAKE_TICKS / 30, abs=0.05)
    assert audio["codec_name"] == "aac"
    # +faststart: the index (moov) precedes the media data (mdat).
    head = mp4.read_bytes()
    assert 0 <= head.find(b"moov") < head.find(b"mdat")


def _decode(mp4: Path) -> tuple[list[np.ndarray], np.ndarray, int]:
    import av

    with av.open(str(mp4)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(mp4)) as c:
        chunks = [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]
        rate = c.streams.audio[0].sample_rate
    return frames, np.concatenate(chunks), rate


def yuv420p_round_trip(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: `rgb` converted to yuv420p and back by FFmpeg's swscale, as the encoder
    converts its input and the decoder its output, with no encoder in between.

    The issue asks that frame k equal `tidepool render` of its tick at PSNR >= 40 dB. yuv420p
    keeps chroma at a quarter of the pixels, which alone caps the RGB PSNR of a detailed frame
    near 32 dB at 192x108 (39 dB at 1280x720) however good the encoder is. Comparing against
    the reference after the same format round trip measures what the exporter controls (which
    tick and camera it drew, and the encoder's loss) in full RGB; a wrong tick or camera still
    fails by far (see the neighbouring-frames check).
    """
    import av

    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(format="yuv420p").to_ndarray(format="rgb24")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def test_frames_equal_renders_of_their_ticks(project: Path, mp4: Path) -> None:
    frames, _, _ = _decode(mp4)
    session = Session(ProjectFile.open(project, readonly=True))
    try:
        take = session.store.take("walk")
        branch = session.timeline.by_name("main")
        for row in (0, ATTACK_ROW, TAKE_TICKS - 1):
            state = session.timeline.seek(branch, take.start_tick + row)
            ref = render_state(session.world, state, take_camera(take, row, width=W, height=H),
                               backend="cpu")  # fmt: skip
            assert psnr(frames[row], yuv420p_round_trip(ref.rgb)) >= 40.0, row
            # A frame one tick off would fail (the camera moves): the check is not vacuous.
            if row + 1 < TAKE_TICKS:
                assert psnr(frames[row], frames[row + 1]) < 36.0, row
    finally:
        session.close()
        session.world.close()


def test_attack_sound_onset_within_one_frame_of_its_tick(mp4: Path) -> None:
    _, pcm, rate = _decode(mp4)
    win = rate // 200  # 5 ms energy windows
    energy = np.add.reduceat(pcm.astype(np.float64) ** 2, np.arange(0, len(pcm), win))
    rise = energy[1:] / (energy[:-1] + 1e-9)
    loud = energy[1:] > 0.25 * energy.max()
    onset = (int(np.argmax(np.where(loud, rise, 0))) + 1) * win / rate
    assert abs(onset - ATTACK_ROW / 30) <= 1 / 30


def test_cancel_mid_video_leaves_no_file_and_stops_the_encoder(
    project: Path, tmp_path: Path
) -> None:
    import threading

    from exporters import ExportCancelled

    stop = threading.Event()
    seen: list[float] = []

    def progress(f: float) -> None:
        seen.append(f)
        if len(seen) == 5:
            stop.set()

    out = tmp_path / "cut.mp4"
    req = ExportRequest(project, "walk", output=out, width=64, height=36, backend="cpu")
    with pytest.raises(ExportCancelled):
        export("mp4", req, progress=progress, cancel=stop)
    assert len(seen) == 5  # it stopped at the frame it was cancelled on
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one
    assert not any(t.name == "mp4-encoder" for t in threading.enumerate())
