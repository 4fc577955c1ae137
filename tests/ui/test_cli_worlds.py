"""`tidepool new` and `tidepool render` as a user runs them: files, JSON, PNGs, clear errors."""

import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from studio.spec import WorldSpec
from studio.storage import ProjectFile
from ui.cli import app

runner = CliRunner()
PROMPT = "a quiet meadow with a windmill at noon"


@pytest.fixture(scope="module")
def world_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("worlds") / "meadow.tidepool"
    result = runner.invoke(app, ["new", PROMPT, "--seed", "11", "-o", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    return path, json.loads(result.stdout)


def test_new_prints_one_json_object_and_writes_the_world(world_file):
    path, out = world_file
    assert set(out) == {"file", "seed", "spec", "seconds", "gaussians_in_view"}
    assert out["file"] == str(path) and out["seed"] == 11
    assert 0 < out["gaussians_in_view"] <= 250_000 and out["seconds"] > 0
    with ProjectFile.open(path, readonly=True) as project:
        assert project.spec == WorldSpec.from_dict(out["spec"])
        thumb = Image.open(io.BytesIO(project.thumbnail()))
    assert thumb.size == (480, 270)
    assert any(lm["kind"] == "windmill" for lm in out["spec"]["landmarks"])


def test_render_writes_png_of_requested_size_deterministically(world_file, tmp_path):
    path, _ = world_file
    shots = []
    for name in ("a.png", "b.png"):
        result = runner.invoke(
            app, ["render", str(path), "--size", "320x180", "-o", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.stderr
        shots.append(np.asarray(Image.open(tmp_path / name)))
    assert shots[0].shape == (180, 320, 3)
    np.testing.assert_array_equal(shots[0], shots[1])  # same world, same view: same pixels
    assert shots[0].std() > 10  # a scene, not a flat fill


def test_render_from_a_given_camera_differs_from_spawn(world_file, tmp_path):
    path, _ = world_file
    a, b = tmp_path / "spawn.png", tmp_path / "up.png"
    assert (
        runner.invoke(app, ["render", str(path), "--size", "160x90", "-o", str(a)]).exit_code == 0
    )
    result = runner.invoke(
        app, ["render", str(path), "--size", "160x90", "--camera", "0,60,0,0,80", "-o", str(b)]
    )
    assert result.exit_code == 0, result.stderr
    sky = np.asarray(Image.open(b)).astype(float)
    assert np.abs(sky - np.asarray(Image.open(a)).astype(float)).mean() > 5


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["new", "   "], "the prompt is empty"),
        (["new", "a meadow", "-o", "world.txt"], "end in .tidepool"),
        (["new", "a meadow", "--seed", "-3"], "--seed -3"),
        (["render", "missing.tidepool"], "missing.tidepool"),
        (["render", "{file}", "--size", "big"], "--size 'big' is not WIDTHxHEIGHT"),
        (["render", "{file}", "--size", "0x10"], "out of range"),
        (["render", "{file}", "--camera", "1,2,3"], "x,y,z,yaw,pitch"),
        (["render", "{file}", "--backend", "gpu"], "--backend 'gpu'"),
        (["render", "{file}", "-o", "shot.jpg"], "PNG"),
    ],
)
def test_bad_input_names_the_problem(args, needle, world_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, _ = world_file
    result = runner.invoke(app, [a.replace("{file}", str(path)) for a in args])
    assert result.exit_code == 1
    assert needle in result.stderr


def test_new_refuses_to_overwrite_and_render_refuses_damaged_files(world_file, tmp_path):
    path, _ = world_file
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = runner.invoke(app, ["new", "a desert", "-o", str(path)])
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before

    damaged = tmp_path / "damaged.tidepool"
    damaged.write_bytes(path.read_bytes()[:3000])
    snapshot = damaged.read_bytes()
    result = runner.invoke(app, ["render", str(damaged), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and str(damaged) in result.stderr
    assert damaged.read_bytes() == snapshot
    assert not (tmp_path / "x.png").exists()


def test_image_worlds_pop_the_photo_up_at_spawn(tmp_path):
    import numpy as np
    from PIL import Image

    from studio.backdrop import PhotoWorld
    from studio.session import Session

    missing = runner.invoke(app, ["new", "--image", str(tmp_path / "a.png")])
    assert missing.exit_code == 1 and "a.png" in missing.stderr
    img = np.zeros((120, 160, 3), np.uint8)
    img[:48] = (110, 160, 230)
    img[48:] = (90, 150, 60)
    Image.fromarray(img).save(tmp_path / "meadow.png")
    out = tmp_path / "m.tidepool"
    result = runner.invoke(app, ["new", "--image", str(tmp_path / "meadow.png"), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    session = Session.open(out)
    try:
        assert isinstance(session.world, PhotoWorld)
        assert len(session.world.backdrop.gaussians) > 1000
        assert session.world.spec.biomes[0].biome == "meadow"
    finally:
        session.close()
        session.world.close()
