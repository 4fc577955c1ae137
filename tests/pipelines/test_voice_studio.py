"""The studio microphone path: a MediaRecorder-style clip -> POST /api/voice -> local Whisper -> text.

Clips are encoded in the test with PyAV (WebM/Opus, as Chrome's MediaRecorder sends; WAV); the
speech model is a tiny Whisper built from the real classes that spells a known transcript.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

pytest.importorskip("transformers")
av = pytest.importorskip("av")

from fastapi.testclient import TestClient  # noqa: E402

from pipelines.neural.tiny import save_tiny_whisper  # noqa: E402
from pipelines.voice import VoiceError, decode_audio  # noqa: E402
from ui.app import create_app  # noqa: E402


def sine(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def webm_opus(samples: np.ndarray, rate: int = 48_000) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=rate)
        stream.layout = "mono"
        for i in range(0, len(samples), 960):
            frame = av.AudioFrame.from_ndarray(
                samples[None, i : i + 960], format="flt", layout="mono"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def peak_hz(audio: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.argmax(spectrum) * rate / len(audio))


def test_recorded_webm_and_wav_decode_to_16k_mono_at_the_same_pitch():
    opus = decode_audio(webm_opus(sine(440, 1.0, 48_000)))
    assert opus.dtype == np.float32 and abs(len(opus) - 16_000) < 400
    assert peak_hz(opus) == pytest.approx(440, abs=2)
    pcm = decode_audio(wav_bytes(sine(300, 1.0, 22_050), 22_050))
    assert abs(len(pcm) - 16_000) < 40
    assert peak_hz(pcm) == pytest.approx(300, abs=2)
    assert np.abs(pcm).max() == pytest.approx(0.5, abs=0.03)


def test_clips_that_are_not_audio_are_refused():
    with pytest.raises(VoiceError, match="empty"):
        decode_audio(b"")
    with pytest.raises(VoiceError, match="not audio"):
        decode_audio(np.random.default_rng(0).bytes(4000))


def test_voice_endpoint_says_how_to_get_a_model_then_transcribes_once_one_is_there(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("TIDEPOOL_MODELS", str(models))
    clip = webm_opus(sine(220, 0.8, 48_000))
    with TestClient(create_app(tmp_path / "library")) as client:
        missing = client.post("/api/voice?target=prompt", content=clip)
        assert missing.status_code == 503
        assert "tidepool models pull whisper-tiny" in missing.json()["detail"]
        # A model saved while the studio runs is found on the next request.
        save_tiny_whisper(models / "tiny-whisper", text="make it night")
        for target in ("prompt", "direct"):
            r = client.post(
                f"/api/voice?target={target}", content=clip, headers={"content-type": "audio/webm"}
            )
            assert r.status_code == 200, r.text
            assert r.json() == {"text": "make it night", "target": target}
        bad = client.post("/api/voice?target=elsewhere", content=clip)
        assert bad.status_code == 400 and "elsewhere" in bad.json()["detail"]
        junk = client.post("/api/voice", content=b"not a recording at all")
        assert junk.status_code == 400 and "not audio" in junk.json()["detail"]
