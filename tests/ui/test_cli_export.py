"""`tidepool export` as a user runs it: a recorded take becomes files; bad requests are named."""

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from ui.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    path = folder / "w.tidepool"
    assert (
        runner.invoke(app, ["new", "a quiet meadow", "--seed", "3", "-o", str(path)]).exit_code == 0
    )
    script = folder / "s.jsonl"
    lines = [
        {"at": 0.0, "record": "start", "take": "shot1"},
        {"at": 0.0, "hold": ["w"], "for": 1.0},
        {"at": 0.5, "look": [20, 0]},
        {"at": 1.0, "record": "stop"},
    ]
    script.write_text("\n".join(json.dumps(x) for x in lines))
    result = runner.invoke(app, ["play", str(path), "--script", str(script), "--json"])
    assert result.exit_code == 0, result.stderr
    return path


def test_camera_json_follows_the_recorded_walk(project, tmp_path):
    out = tmp_path / "cam.json"
    result = runner.invoke(
        app, ["export", str(project), "--take", "shot1", "--format", "json", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["take"] == "shot1"
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # an ordinary file


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--take", "nope", "--format", "json"], "take 'nope' is not in"),
        (["--take", "shot1", "--format", "mp5"], "--format 'mp5' is not one of"),
        (["--take", "shot1", "--format", "mp4", "--fps", "25"], "fps 25 is not supported"),
        (["--take", "shot1", "--format", "mp4", "--size", "641x360"], "even sides"),
        (["--format", "mp4"], "name a take"),
        (["--format", "chan"], "name a take"),
    ],
)
def test_bad_requests_are_named_and_write_nothing(project, tmp_path, args, needle):
    out = tmp_path / "x.out"
    result = runner.invoke(app, ["export", str(project), *args, "-o", str(out)])
    assert result.exit_code == 1
    assert needle in result.stderr
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


def test_without_a_take_the_world_around_its_spawn_exports(project, tmp_path):
    """Splats of a world need no take: the region around the spawn view, read back with
    plyfile (the Inria axes flip y and z, so the ground plane's x and -z are checked)."""
    from plyfile import PlyData

    from studio.storage import ProjectFile
    from studio.world import World

    out = tmp_path / "world.ply"
    result = runner.invoke(
        app, ["export", str(project), "--format", "ply", "--radius", "20", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    v = PlyData.read(str(out))["vertex"]
    with ProjectFile.open(project, readonly=True) as store:
        spawn = World(store.spec, background=False).spawn_camera().position
    d = np.hypot(v["x"] - spawn[0], -v["z"] - spawn[2])
    assert len(d) > 10_000 and d.min() < 2.0 and d.max() <= 20.0 + 1e-3


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
