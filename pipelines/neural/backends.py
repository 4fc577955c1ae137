"""Backends for the neural roles, built from local folders only (``local_files_only=True``).

Each wraps one transformers / diffusers class behind the role interface of `pipelines.neural`;
importing this module imports torch lazily per backend, so the offline paths never pay for it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class WhisperASR:
    """Speech -> text with a Whisper checkpoint (WhisperForConditionalGeneration + processor)."""

    RATE = 16_000

    def __init__(self, path: Path) -> None:
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.processor = WhisperProcessor.from_pretrained(path, local_files_only=True)
        self.model = WhisperForConditionalGeneration.from_pretrained(path, local_files_only=True)
        self.model.eval()

    def transcribe(self, audio: np.ndarray, *, rate: int, max_new_tokens: int = 96) -> str:
        import torch

        if rate != self.RATE:
            raise ValueError(f"Whisper needs {self.RATE} Hz audio; got {rate} Hz (resample first)")
        feats = self.processor(
            np.asarray(audio, np.float32), sampling_rate=rate, return_tensors="pt"
        ).input_features
        with torch.inference_mode():
            ids = self.model.generate(feats, max_new_tokens=max_new_tokens)
        return self.processor.batch_decode(ids, skip_special_tokens=True)[0].strip()


class TransformersDepth:
    """Monocular depth with a transformers depth-estimation model (Depth-Anything, DPT, ...)."""

    def __init__(self, path: Path) -> None:
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        self.processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForDepthEstimation.from_pretrained(path, local_files_only=True)
        self.model.eval()

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        import torch

        img = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
        inputs = self.processor(images=img, return_tensors="pt")
        with torch.inference_mode():
            out = self.model(**inputs).predicted_depth  # (1, h, w)
        return out[0].float().numpy()


class DiffusersText2Image:
    """Text -> keyframe image with a local diffusers pipeline."""

    def __init__(self, path: Path) -> None:
        from diffusers import DiffusionPipeline

        self.pipe = DiffusionPipeline.from_pretrained(path, local_files_only=True)
        self.pipe.set_progress_bar_config(disable=True)

    def generate(
        self, prompt: str, *, seed: int, width: int, height: int, steps: int = 4
    ) -> np.ndarray:
        import torch

        g = torch.Generator().manual_seed(seed)
        out = self.pipe(
            prompt, width=width, height=height, num_inference_steps=steps, generator=g,
            output_type="np",
        )  # fmt: skip
        return np.asarray(out.images[0], np.float32)
