"""A small real world with a recorded take: the player walks, jumps and swings (attack)."""

from __future__ import annotations

from pathlib import Path

from studio.events import InputEvent
from studio.session import Session
from studio.spec import CharacterSpec, PropSpec, WorldSpec

TAKE_TICKS = 45
ATTACK_ROW = 20
"""Take row (tick from the take's start) at which the player presses E (an attack)."""
JUMP_ROW = 8


def make_project(path: Path) -> Path:
    spec = WorldSpec(
        seed=11,
        props=[PropSpec(kind="rock", density=1.5), PropSpec(kind="bush", density=1.0)],
        characters=[CharacterSpec(kind="sheep", count=2, behaviour="idle")],
    )
    with Session.create(path, spec) as s:
        s.advance(3)
        s.record_start("walk")
        for row in range(TAKE_TICKS):
            if row == 0:
                s.apply(InputEvent(tick=0, held=("w",), look=(6.0, -2.0)))
            elif row == JUMP_ROW:
                s.apply(InputEvent(tick=0, press=("space",)))
            elif row == ATTACK_ROW:
                s.apply(InputEvent(tick=0, press=("e",)))
            elif row % 5 == 0:
                s.apply(InputEvent(tick=0, look=(4.0, 0.5)))
            s.advance(1)
        s.record_stop()
        s.world.close()
    return path
