"""Voice -> text: read a spoken clip (WAV, or what a browser's MediaRecorder sends) and transcribe
it with a local Whisper.

Compressed clips (WebM/Opus, Ogg, MP4/AAC, ...) are decoded and resampled to 16 kHz mono by
PyAV (FFmpeg's resampler); WAV is read with the stdlib `wave` module (8/16/24/32-bit PCM, any channel count, mixed to
mono) and resampled to 16 kHz by linear interpolation (enough for speech recognition). The
transcript then goes down the same prompt or directing path as typed text. No speech model
installed -> `pipelines.neural.NeuralUnavailable`, whose message says how to get one.
"""

from __future__ import annotations

import io
import logging
import threading
import wave
from pathlib import Path

import numpy as np

from pipelines.neural import ASR, load_asr

log = logging.getLogger(__name__)

ASR_RATE = 16_000
MAX_SECONDS = 120.0


class VoiceError(ValueError):
    """A clip cannot be used; the message names the file and the fix."""


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(samples (N,) float32 mono in [-1, 1], sample rate) of a PCM WAV file."""
    path = Path(path)
    if not path.is_file():
        raise VoiceError(f"{path}: no such file; check the path")
    try:
        with wave.open(str(path), "rb") as w:
            ch, width, rate, n = (
                w.getnchannels(),
                w.getsampwidth(),
                w.getframerate(),
                w.getnframes(),
            )
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise VoiceError(
            f"{path}: not a PCM WAV file ({e}); convert it, e.g. ffmpeg -i clip.m4a clip.wav"
        ) from None
    if n == 0 or not raw:
        raise VoiceError(f"{path}: the clip is empty; record a sentence")
    if len(raw) < n * ch * width:
        raise VoiceError(f"{path}: truncated ({len(raw)} of {n * ch * width} bytes of audio)")
    if n / rate > MAX_SECONDS:
        raise VoiceError(
            f"{path}: {n / rate:.0f} s is longer than {MAX_SECONDS:.0f} s; say one prompt or command"
        )
    if width == 1:
        a = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        a = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        a = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    elif width == 4:
        a = np.frombuffer(raw, "<i4").astype(np.float32) / 2.0**31
    else:
        raise VoiceError(f"{path}: {8 * width}-bit samples are not supported; use 16-bit PCM")
    return a.reshape(-1, ch).mean(axis=1), rate


def resample(audio: np.ndarray, rate: int, target: int = ASR_RATE) -> np.ndarray:
    """(N,) audio from `rate` to `target` Hz by linear interpolation."""
    if rate == target:
        return audio.astype(np.float32)
    n = round(len(audio) * target / rate)
    t = np.arange(n) * (rate / target)
    return np.interp(t, np.arange(len(audio)), audio).astype(np.float32)


def decode_audio(data: bytes, *, name: str = "the recording") -> np.ndarray:
    """(N,) float32 mono 16 kHz samples of an encoded clip (WebM/Opus, Ogg, WAV, MP4, ...)."""
    import av

    if not data:
        raise VoiceError(f"{name} is empty; hold the microphone button while you speak")
    chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=ASR_RATE)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise VoiceError(f"{name} has no audio track; record from a microphone")
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
                if sum(len(c) for c in chunks) > MAX_SECONDS * ASR_RATE:
                    raise VoiceError(
                        f"{name} is longer than {MAX_SECONDS:.0f} s; say one prompt or command"
                    )
            chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    except av.FFmpegError as e:
        raise VoiceError(
            f"{name} is not audio Tidepool can decode ({e}); record WebM/Ogg/WAV audio"
        ) from None
    audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if len(audio) == 0:
        raise VoiceError(f"{name} holds no sound; hold the microphone button while you speak")
    return audio


def transcribe_audio(audio: np.ndarray, *, asr: ASR, name: str = "the clip") -> str:
    """Text spoken in (N,) float32 mono 16 kHz `audio`; VoiceError when nothing was recognised."""
    text = asr.transcribe(audio, rate=ASR_RATE)
    if not text.strip():
        raise VoiceError(f"{name}: no speech was recognised; speak closer to the microphone")
    log.info("heard %r in %s", text, name)
    return text


def transcribe_file(path: str | Path, *, asr: ASR | None = None) -> str:
    """Text spoken in a WAV clip (a local Whisper unless `asr` is given)."""
    audio, rate = read_wav(path)
    model = asr if asr is not None else load_asr()
    return transcribe_audio(resample(audio, rate), asr=model, name=str(path))


class SpeechModel:
    """The local ASR model, loaded on first use and kept (thread-safe); a missing model is looked
    for again on the next call, so one pulled while the studio runs is picked up."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self._asr: ASR | None = None
        self._lock = threading.Lock()

    def transcribe(self, data: bytes, *, name: str = "the recording") -> str:
        """Text spoken in an encoded clip; raises VoiceError or NeuralUnavailable."""
        audio = decode_audio(data, name=name)
        with self._lock:
            if self._asr is None:
                self._asr = load_asr(self.name)
            return transcribe_audio(audio, asr=self._asr, name=name)
