"""`tidepool new --depth` and `--neural-look` with tiny local models, and without any."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("transformers")
pytest.importorskip("diffusers")

from photos import meadow_photo

from pipelines.neural.tiny import save_tiny_depth, save_tiny_text2image
from studio.backdrop import PhotoWorld
from studio.session import Session
from ui.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    save_tiny_depth(root / "tiny-depth")
    save_tiny_text2image(root / "tiny-sd")
    return root


@pytest.fixture
def no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("TIDEPOOL_HOME", str(tmp_path / "home"))
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("TIDEPOOL_MODELS", str(empty))


def backdrop_means(path):
    session = Session.open(path)
    try:
        assert isinstance(session.world, PhotoWorld)
        return session.world.backdrop.gaussians.means.copy()
    finally:
        session.close()
        session.world.close()


def test_without_models_the_neural_options_say_how_to_find_one(no_cache, tmp_path):
    look = runner.invoke(
        app, ["new", "a red canyon", "--neural-look", "-o", str(tmp_path / "a.tidepool")]
    )
    assert look.exit_code == 1
    assert "tidepool models list" in look.stderr and "tidepool models pull sd-turbo" in look.stderr
    img = meadow_photo(tmp_path)
    named = runner.invoke(
        app, ["new", "--image", str(img), "--depth", "dpt-x", "-o", str(tmp_path / "b.tidepool")]
    )
    assert named.exit_code == 1
    assert "dpt-x" in named.stderr and "tidepool models list" in named.stderr
    assert not (tmp_path / "a.tidepool").exists() and not (tmp_path / "b.tidepool").exists()
    alone = runner.invoke(app, ["new", "a meadow", "--depth", "auto"])
    assert alone.exit_code == 1 and "--image" in alone.stderr
    # auto with nothing on disk is the model-free pop-up, the same as off.
    for mode in ("auto", "off"):
        out = tmp_path / f"{mode}.tidepool"
        r = runner.invoke(
            app, ["new", "--image", str(img), "--seed", "4", "--depth", mode, "-o", str(out)]
        )
        assert r.exit_code == 0, r.stderr
    assert np.array_equal(
        backdrop_means(tmp_path / "auto.tidepool"), backdrop_means(tmp_path / "off.tidepool")
    )


def test_depth_model_and_neural_look_make_photo_worlds(no_cache, models, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDEPOOL_MODELS", str(models))
    img = meadow_photo(tmp_path)
    outs = {}
    for mode in ("off", "tiny-depth"):
        outs[mode] = tmp_path / f"{mode}.tidepool"
        r = runner.invoke(
            app, ["new", "--image", str(img), "--seed", "4", "--depth", mode, "-o", str(outs[mode])]
        )
        assert r.exit_code == 0, r.stderr
    assert not np.array_equal(backdrop_means(outs["off"]), backdrop_means(outs["tiny-depth"]))

    out = tmp_path / "look.tidepool"
    r = runner.invoke(
        app,
        ["new", "a red canyon at dusk", "--neural-look", "--seed", "5", "-o", str(out), "--json"],
    )
    assert r.exit_code == 0, r.stderr
    assert "painted a keyframe" in r.stderr
    session = Session.open(out)
    try:
        world = session.world
        assert isinstance(world, PhotoWorld)
        assert world.backdrop.source == "keyframe.png"
        assert world.spec.biomes[0].biome == "canyon"  # what the prompt names wins over the image
        assert world.spec.seed == 5
    finally:
        session.close()
        world.close()
