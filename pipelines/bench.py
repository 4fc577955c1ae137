"""Benchmarks of prompt -> WorldSpec (registered with `studio.bench`).

`text.text_to_spec` is part of the "prompt -> first frame" budget (DESIGN.md: <= 2 s on CPU),
so its warm latency and the MiniLM cold start (in a fresh process) are reported here.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from pipelines import embeddings
from pipelines.text import text_to_spec
from studio.bench import Measurement, benchmark

PROMPTS = (
    "a misty pine forest with a river at dusk, a wooden watchtower and a herd of deer",
    "a medieval village with a dragon circling overhead at dusk",
    "snowy mountain pass at night with wolves",
    "a desert canyon with ancient ruins at noon",
    "tropical beach with palm trees and a shipwreck",
    "foggy swamp with a crooked hut",
    "a quiet meadow",
)
LEFTOVER_PROMPT = "a meadow with spruce trees, a stallion and a purple submarine"

_COLD = """
import time
t0 = time.perf_counter()
from pipelines import embeddings
embeddings.load_minilm()
t1 = time.perf_counter()
embeddings.vocabulary_index()
t2 = time.perf_counter()
embeddings.ground(["stallion"])
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def _p50(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@benchmark("pipelines")
def text_to_spec_latency(quick: bool) -> list[Measurement]:
    """Warm p50 of text_to_spec on the issue's prompts (lexicon only) and with MiniLM leftovers."""
    repeat = 5 if quick else 30
    lex = _p50(lambda: [text_to_spec(p, 1, embeddings_mode="off") for p in PROMPTS], repeat)
    out = [Measurement("pipelines.text_to_spec_p50", 1e3 * lex / len(PROMPTS), "ms", 50.0, "lower")]
    if embeddings.minilm_available():
        emb = _p50(lambda: text_to_spec(LEFTOVER_PROMPT, 1, embeddings_mode="minilm"), repeat)
        out.append(
            Measurement("pipelines.text_to_spec_minilm_p50", 1e3 * emb, "ms", 200.0, "lower")
        )
    return out


@benchmark("pipelines", fresh_process=True)
def minilm_cold_start(quick: bool) -> list[Measurement]:
    """MiniLM import + load, vocabulary embedding (or its disk cache), first query: fresh process."""
    if not embeddings.minilm_available():
        return []
    res = subprocess.run(
        [sys.executable, "-c", _COLD], capture_output=True, text=True, check=True, timeout=300
    )
    load, vocab, first = (float(x) for x in res.stdout.split()[-3:])
    return [
        Measurement("pipelines.minilm_load_s", load, "s", 2.0, "lower"),
        Measurement("pipelines.minilm_vocab_s", vocab, "s", None, "lower"),
        Measurement("pipelines.minilm_first_query_s", first, "s", None, "lower"),
    ]
