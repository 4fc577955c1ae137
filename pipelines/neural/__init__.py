"""Optional neural backends, one small interface per role, loaded only from local weights.

Roles: ``depth`` (image -> relative depth), ``text2image`` (prompt -> keyframe image),
``inpaint``, ``asr`` (speech -> text) and ``llm``. `discover` lists what is on disk (the
Hugging Face cache and ``$TIDEPOOL_MODELS``), classified by each model's own config; `load`
builds a backend with ``local_files_only=True``. Nothing is ever downloaded implicitly: only
`pull` (``tidepool models pull NAME``) fetches weights, on that explicit request.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

log = logging.getLogger(__name__)

Role = Literal["depth", "text2image", "inpaint", "asr", "llm"]
ROLES: tuple[str, ...] = ("depth", "text2image", "inpaint", "asr", "llm")

KNOWN: dict[str, tuple[Role, str]] = {
    "whisper-tiny": ("asr", "openai/whisper-tiny"),
    "whisper-base": ("asr", "openai/whisper-base"),
    "depth-anything-v2-small": ("depth", "depth-anything/Depth-Anything-V2-Small-hf"),
    "sd-turbo": ("text2image", "stabilityai/sd-turbo"),
}
"""Names `tidepool models pull` accepts, with their role and Hugging Face repository."""


class NeuralUnavailable(RuntimeError):
    """No usable local model for a role (or a download failed); the message says how to get one."""


@dataclass(frozen=True)
class LocalModel:
    """A model found on disk: its role, a name (repo id or folder name) and its folder."""

    role: Role
    name: str
    path: Path

    def as_dict(self) -> dict[str, str]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


_ASR_TYPES = {"whisper"}
_DEPTH_TYPES = {"depth_anything", "dpt", "glpn", "zoedepth", "depth_pro"}


def classify(folder: Path) -> Role | None:
    """The role of a saved model folder from its config.json / model_index.json, or None."""
    index = folder / "model_index.json"
    if index.is_file():
        try:
            cls = str(json.loads(index.read_text()).get("_class_name", ""))
        except (OSError, ValueError):
            return None
        if "Inpaint" in cls:
            return "inpaint"
        return "text2image" if "Pipeline" in cls else None
    cfg = folder / "config.json"
    if not cfg.is_file():
        return None
    try:
        conf = json.loads(cfg.read_text())
    except (OSError, ValueError):
        return None
    mt = str(conf.get("model_type", ""))
    if mt in _ASR_TYPES:
        return "asr"
    if mt in _DEPTH_TYPES:
        return "depth"
    if any(a.endswith("ForCausalLM") for a in conf.get("architectures", []) or []):
        return "llm"
    return None


def _search_roots() -> list[Path]:
    roots = []
    extra = os.environ.get("TIDEPOOL_MODELS")
    if extra:
        roots.extend(Path(p) for p in extra.split(os.pathsep) if p)
    return roots


def _hf_cache_models() -> list[LocalModel]:
    try:
        from huggingface_hub import scan_cache_dir
        from huggingface_hub.errors import CacheNotFound
    except ImportError:
        return []
    try:
        info = scan_cache_dir()
    except (CacheNotFound, OSError):
        return []
    out = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        for rev in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)[:1]:
            role = classify(Path(rev.snapshot_path))
            if role is not None:
                out.append(LocalModel(role, repo.repo_id, Path(rev.snapshot_path)))
    return out


def discover() -> list[LocalModel]:
    """Every usable model on disk, sorted by role then name (reads configs only; no network)."""
    found = _hf_cache_models()
    for root in _search_roots():
        if not root.is_dir():
            log.warning("TIDEPOOL_MODELS folder %s does not exist; skipping it", root)
            continue
        for folder in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
            role = classify(folder)
            if role is not None:
                found.append(LocalModel(role, folder.name, folder))
    return sorted(found, key=lambda m: (ROLES.index(m.role), m.name))


def find(role: Role, name: str | None = None) -> LocalModel:
    """The local model for `role` (by `name` if given); NeuralUnavailable says how to get one."""
    models = [m for m in discover() if m.role == role]
    if name is not None:
        models = [m for m in models if m.name == name or str(m.path) == name]
    if models:
        return models[0]
    hint = {
        "asr": "tidepool models pull whisper-tiny",
        "depth": "tidepool models pull depth-anything-v2-small",
        "text2image": "tidepool models pull sd-turbo",
    }.get(role)
    what = f"named {name!r} " if name else ""
    raise NeuralUnavailable(
        f"no local {role} model {what}was found (searched the Hugging Face cache and "
        f"$TIDEPOOL_MODELS); "
        + (f"get one with `{hint}`" if hint else "save one there with save_pretrained()")
    )


def pull(name: str) -> Path:
    """Download a known model into the Hugging Face cache (the only place Tidepool downloads)."""
    if name not in KNOWN:
        raise NeuralUnavailable(f"unknown model {name!r}; known: {', '.join(KNOWN)}")
    _role, repo = KNOWN[name]
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise NeuralUnavailable(
            "pulling models needs huggingface_hub: pip install huggingface_hub"
        ) from None
    try:
        return Path(snapshot_download(repo))
    except Exception as e:  # network, auth and disk errors all end the same way for the user
        raise NeuralUnavailable(
            f"could not download {name} ({repo}): {type(e).__name__}: {e}. Check the network "
            "connection, or copy the model folder into $TIDEPOOL_MODELS"
        ) from None


# --- role interfaces -------------------------------------------------------------------------


class ASR(Protocol):
    def transcribe(self, audio: np.ndarray, *, rate: int) -> str:
        """audio (N,) float32 mono in [-1, 1] at `rate` Hz -> text."""
        ...


class Depth(Protocol):
    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """rgb (H, W, 3) float sRGB in [0, 1] -> (h, w) relative depth or disparity."""
        ...


class Text2Image(Protocol):
    def generate(self, prompt: str, *, seed: int, width: int, height: int) -> np.ndarray:
        """prompt -> (height, width, 3) float sRGB in [0, 1]."""
        ...


class Inpaint(Protocol):
    def inpaint(self, rgb: np.ndarray, mask: np.ndarray, prompt: str, *, seed: int) -> np.ndarray:
        """Fill rgb (H, W, 3) where mask (H, W) is True, guided by `prompt`."""
        ...


class LLM(Protocol):
    def complete(self, prompt: str, *, max_new_tokens: int) -> str: ...


def load_asr(name: str | None = None) -> ASR:
    from pipelines.neural.backends import WhisperASR

    return WhisperASR(find("asr", name).path)


def load_depth(name: str | None = None) -> Depth:
    from pipelines.neural.backends import TransformersDepth

    return TransformersDepth(find("depth", name).path)


def load_text2image(name: str | None = None) -> Text2Image:
    from pipelines.neural.backends import DiffusersText2Image

    return DiffusersText2Image(find("text2image", name).path)
