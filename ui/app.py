"""The studio web app: FastAPI serving the Gradio Blocks (and, as it lands, the live WebSocket).

Routes other than Gradio's are declared before `gr.mount_gradio_app` (DESIGN.md).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from fastapi import FastAPI

from ui.library import ensure_library

COMING = """
<div class="tp-hero">
  <h1>Tidepool</h1>
  <p>An open, local-first world-model studio.</p>
  <p>Library: <code>{library}</code> — {count} world(s).</p>
  <p>Coming in this studio: create a world from a sentence, walk it live in the viewport,
  direct it, rewind and branch the timeline, record takes, and export them.</p>
</div>
"""


def build_blocks(library: Path) -> gr.Blocks:
    """The studio's Gradio UI."""
    worlds = sorted(library.glob("*.tidepool"))
    with gr.Blocks(title="Tidepool studio") as blocks:
        gr.HTML(COMING.format(library=library, count=len(worlds)))
    return blocks


def create_app(library: Path) -> FastAPI:
    """The FastAPI app with the Gradio studio mounted at /."""
    library = ensure_library(library)
    app = FastAPI(title="Tidepool studio")

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True, "library": str(library)}

    return gr.mount_gradio_app(app, build_blocks(library), path="/")
