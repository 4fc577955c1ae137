"""Benchmarks of directing commands (registered with `studio.bench`).

Parse latency p50/p95 over the hand-written command set (warm, lexicon path), the latency of a
clause that needs MiniLM ranking, and the cold start of the language model in a fresh process
(importing sentence-transformers, loading MiniLM, embedding the intent examples).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from pipelines import directing, embeddings
from studio.bench import Measurement, benchmark

COMMANDS = Path(__file__).resolve().parents[1] / "tests/pipelines/data/directing_commands.jsonl"
FALLBACK = ("make it night and start raining", "the knight walks to the tower", "orbit the dragon",
            "three wolves appear on the ridge", "the blacksmith says 'welcome'", "rewind 5 seconds")  # fmt: skip
MINILM_CLAUSE = "darken everything"

_COLD = """
import time
t0 = time.perf_counter()
from pipelines import directing
directing.rank_intents("darken everything")
print(time.perf_counter() - t0)
"""


def _commands() -> list[str]:
    try:
        return [json.loads(x)["command"] for x in COMMANDS.read_text().splitlines() if x.strip()]
    except OSError:
        return list(FALLBACK)


@benchmark("directing")
def parse_latency(quick: bool) -> list[Measurement]:
    """Warm parse latency per command (lexicon path), p50 and p95."""
    cmds = _commands()
    for c in cmds:
        directing.parse(c, embeddings_mode="off")
    times = []
    for _ in range(1 if quick else 5):
        for c in cmds:
            t0 = time.perf_counter()
            directing.parse(c, embeddings_mode="off")
            times.append(time.perf_counter() - t0)
    ms = 1e3 * np.array(times)
    out = [
        Measurement("directing.parse_p50", float(np.percentile(ms, 50)), "ms", 10.0, "lower"),
        Measurement("directing.parse_p95", float(np.percentile(ms, 95)), "ms", 50.0, "lower"),
    ]
    if embeddings.minilm_available():
        directing.rank_intents(MINILM_CLAUSE)
        t = []
        for _ in range(3 if quick else 10):
            t0 = time.perf_counter()
            directing.rank_intents(MINILM_CLAUSE)
            t.append(time.perf_counter() - t0)
        out.append(Measurement("directing.minilm_rank_p50", 1e3 * float(np.median(t)), "ms",
                               100.0, "lower"))  # fmt: skip
    return out


@benchmark("directing", fresh_process=True)
def language_model_cold_start(quick: bool) -> list[Measurement]:
    """Seconds from a fresh process to the first MiniLM-ranked clause."""
    if not embeddings.minilm_available():
        return []
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True,
                         cwd=root, check=True)  # fmt: skip
    secs = float(res.stdout.strip().splitlines()[-1])
    return [Measurement("directing.minilm_cold_start", secs, "s", 10.0, "lower")]
