"""Compile the numba kernels at setup rather than in a new user's first world.

numba compiles a kernel the first time it runs and keeps the machine code beside its module
(`cache=True`), so on a fresh install the first world waited some 30 s for the renderer, the
lighting, the sky and the simulation to compile. `make studio` and `make test` run
`python -m ui.precompile`, which makes a small world with terrain, water, props, creatures,
a character and rain and draws a few live frames of it, as the studio does.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

PROMPT = "a rainy lake shore with deer, a knight and a stone tower"
"""A world that reaches every kind of kernel a live frame runs."""


def precompile() -> float:
    """Seconds taken to create the world and draw its frames (the compiling, on a fresh install)."""
    from studio.session import Session
    from studio.storage import ProjectFile
    from studio.view import render_state
    from ui.worlds import create_world

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        made = create_world(PROMPT, seed=1, library=Path(tmp), keep_world=True)
        world = made.world
        assert world is not None  # keep_world
        try:
            with ProjectFile.open(made.path) as store:
                session = Session(store, world=world)
                session.resume()
                for _ in range(3):
                    session.advance(1)
                    cam = session.camera(width=160, height=90)
                    render_state(world, session.state, cam, width=160, height=90, borrow=True)
                session.close()
        finally:
            world.close()
    return time.perf_counter() - t0


if __name__ == "__main__":
    print(f"numba kernels ready ({precompile():.1f} s; new worlds now start without compiling)")
