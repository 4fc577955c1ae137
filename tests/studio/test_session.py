"""Session: takes reproduce their cameras, and a killed session keeps what it accepted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.events import CameraShot, InputEvent, ModeEvent
from studio.session import Session, camera_row
from studio.spec import CharacterSpec, WorldSpec
from studio.storage import ProjectFile
from studio.timeline import TimelineError

SPEC = WorldSpec(seed=9, characters=[CharacterSpec(kind="deer", count=4)])
ROOT = Path(__file__).resolve().parents[2]


def test_take_rerenders_from_reproducible_states(tmp_path) -> None:
    s = Session.create(tmp_path / "t.tidepool", SPEC)
    s.apply(InputEvent(tick=0, held=("w",)))
    s.advance(15)
    s.record_start("shot1")
    hashes = []
    for i in range(45):
        if i == 10:
            s.apply([InputEvent(tick=0, look=(30.0, -10.0)), ModeEvent(tick=0, view="third")])
        if i == 30:
            s.apply(CameraShot(tick=0, shot="orbit", duration_s=1.0))
        hashes.append(s.state.state_hash())
        s.advance()
    take = s.record_stop()
    assert (take.start_tick, take.end_tick) == (15, 60)
    path = s.store.path
    s.close()
    # later, in a fresh session: every tick's state and camera come back exactly
    again = Session.open(path)
    stored = again.store.take("shot1")
    for k, tick in enumerate(range(stored.start_tick, stored.end_tick)):
        st = again.timeline.seek("main", tick)
        assert st.state_hash() == hashes[k]
        np.testing.assert_array_equal(camera_row(again.camera_for(st)), stored.cameras[k])
    # the view modes really differ: first person at the eye, third behind it, then the orbit
    cams = stored.cameras
    assert np.linalg.norm(cams[9, :3] - cams[12, :3]) > 3.0
    assert not np.allclose(cams[31, :3], cams[40, :3])
    again.close()


def test_take_refuses_a_jump_in_time(tmp_path) -> None:
    s = Session.create(tmp_path / "j.tidepool", SPEC)
    s.advance(60)
    s.record_start("x")
    s.advance(10)
    s.rewind(1.0)
    s.advance(5)
    with pytest.raises(TimelineError, match="interrupted"):
        s.record_stop()
    s.close()


_WRITER = """
import sys, time
from studio.events import InputEvent
from studio.session import Session
from studio.spec import WorldSpec, CharacterSpec
s = Session.create(sys.argv[1], WorldSpec(seed=9, characters=[CharacterSpec(kind="deer", count=4)]))
keys = [("w",), ("a",), ("w", "shift"), ()]
i = 0
while True:
    s.apply(InputEvent(tick=0, held=keys[i % 4]))
    print(time.monotonic(), s.tick, flush=True)
    s.advance(3)
    i += 1
    time.sleep(0.01)
"""


def test_kill_9_loses_at_most_the_last_second(tmp_path) -> None:
    path = tmp_path / "crash.tidepool"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    accepted: list[tuple[float, int]] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            t, tick = line.split()
            accepted.append((float(t), int(tick)))
            if accepted[-1][0] - accepted[0][0] > 2.0:
                break
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(accepted) > 20, "the writer did not get going"
    with ProjectFile.open(path, readonly=True) as pf:
        stored = {e.tick for e in pf.events(1)}
    must = [tick for t, tick in accepted if t < killed_at - 1.0]
    assert must and set(must) <= stored
    # and the file opens as a session that continues from where it stopped
    again = Session.open(path)
    assert again.tick >= max(must)
    again.close()
