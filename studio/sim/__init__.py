"""Adventure mode's simulation: a fixed 30 Hz, deterministic `step(world, state, events)`.

`SimState` is plain data (state.py); `World` is the fixed model. The player (player.py),
creatures (creatures.py) and the tick's order (step.py) are documented in their modules.
"""

from studio.sim.player import (
    DT,
    EYE_HEIGHT,
    FLY_SPEED,
    GRAVITY,
    JUMP_APEX,
    JUMP_SPEED,
    SPRINT_SPEED,
    WALK_SPEED,
)
from studio.sim.state import Edit, Entities, Player, PropChange, SimState, StateFormatError
from studio.sim.step import events_by_tick, initial_state, run, step
from studio.sim.world_view import SimWorld, WorldView, view

__all__ = [
    "DT", "EYE_HEIGHT", "FLY_SPEED", "GRAVITY", "JUMP_APEX", "JUMP_SPEED", "SPRINT_SPEED",
    "WALK_SPEED", "Edit", "Entities", "Player", "PropChange", "SimState", "SimWorld",
    "StateFormatError", "WorldView", "events_by_tick", "initial_state", "run", "step", "view",
]  # fmt: skip
