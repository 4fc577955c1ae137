"""Voice: WAV clips read exactly, and a missing speech model is reported with how to get one."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from pipelines.neural import NeuralUnavailable, classify, discover, find
from pipelines.voice import VoiceError, read_wav, resample, transcribe_file


def write_wav(path, samples, *, rate=22050, width=2, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 2:
            w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
        else:
            w.writeframes((np.clip(samples, -1, 1) * 127 + 128).astype(np.uint8).tobytes())
    return path


def test_wav_pcm16_stereo_reads_as_mono_float(tmp_path):
    t = np.arange(22050) / 22050
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([tone, tone], axis=1).ravel()
    a, rate = read_wav(write_wav(tmp_path / "s.wav", stereo, channels=2))
    assert rate == 22050 and a.shape == (22050,)
    assert np.allclose(a, tone, atol=3 / 32767)


def test_resampling_keeps_the_pitch():
    rate = 22050
    t = np.arange(rate) / rate
    out = resample(np.sin(2 * np.pi * 300 * t).astype(np.float32), rate)
    assert len(out) == 16000
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == pytest.approx(300, abs=1)  # 1 s clip: bin = Hz


def test_bad_clips_are_refused(tmp_path):
    junk = tmp_path / "clip.wav"
    junk.write_bytes(b"RIFF....not audio")
    with pytest.raises(VoiceError, match="not a PCM WAV"):
        read_wav(junk)
    with pytest.raises(VoiceError, match="empty"):
        read_wav(write_wav(tmp_path / "e.wav", np.zeros(0)))


def test_no_speech_model_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("TIDEPOOL_MODELS", str(tmp_path))
    clip = write_wav(tmp_path / "c.wav", np.zeros(16000))
    with pytest.raises(NeuralUnavailable, match="tidepool models pull whisper-tiny"):
        transcribe_file(clip)


def test_discovery_classifies_saved_configs(tmp_path, monkeypatch):
    transformers = pytest.importorskip("transformers")
    monkeypatch.setenv("TIDEPOOL_MODELS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    transformers.WhisperConfig(d_model=16, encoder_layers=1, decoder_layers=1).save_pretrained(
        tmp_path / "tiny-whisper"
    )
    transformers.DPTConfig(hidden_size=16, num_hidden_layers=1).save_pretrained(
        tmp_path / "tiny-dpt"
    )
    assert classify(tmp_path / "tiny-whisper") == "asr"
    assert {(m.role, m.name) for m in discover()} == {
        ("asr", "tiny-whisper"),
        ("depth", "tiny-dpt"),
    }
    assert find("depth").path == tmp_path / "tiny-dpt"
