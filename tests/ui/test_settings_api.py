"""The studio's Models panel API (GET/PUT /api/settings) and world creation with the chosen
backends, through FastAPI's TestClient and tiny models built from the real classes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from pipelines.neural.settings import NeuralSettings, load_settings
from ui.app import STATIC_URL, create_app, create_with_settings


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("TIDEPOOL_MODELS", str(root))
    return root


def test_settings_api_lists_roles_saves_choices_and_refuses_missing_models(tmp_path, models):
    (models / "dpt-a").mkdir()
    (models / "dpt-a" / "config.json").write_text(json.dumps({"model_type": "dpt"}))
    path = tmp_path / "home" / "settings.json"
    with TestClient(create_app(tmp_path / "library", settings=path)) as client:
        state = client.get("/api/settings").json()
        assert state["file"] == str(path)
        roles = {r["role"]: r for r in state["roles"]}
        assert list(roles) == ["depth", "text2image", "inpaint", "asr", "llm"]
        assert roles["depth"] == {
            "role": "depth",
            "chosen": "off",
            "active": None,
            "found": ["dpt-a"],
        }
        assert roles["asr"]["chosen"] == "auto" and roles["asr"]["found"] == []

        r = client.put("/api/settings", json={"role": "depth", "model": "dpt-a"})
        assert r.status_code == 200, r.text
        assert {x["role"]: x for x in r.json()["roles"]}["depth"]["active"] == "dpt-a"
        assert load_settings(path) == NeuralSettings(depth="dpt-a")  # what the CLI reads

        missing = client.put("/api/settings", json={"role": "depth", "model": "dpt-z"})
        assert missing.status_code == 400
        assert "dpt-z" in missing.json()["detail"] and "dpt-a" in missing.json()["detail"]
        role = client.put("/api/settings", json={"role": "paint", "model": "off"})
        assert role.status_code == 400 and "paint" in role.json()["detail"]
        assert load_settings(path) == NeuralSettings(depth="dpt-a")

        path.write_text('{"depth": ')  # broken by hand while the studio runs
        for r in (
            client.get("/api/settings"),
            client.put("/api/settings", json={"role": "llm", "model": "off"}),
        ):
            assert r.status_code == 409 and str(path) in r.json()["detail"]
        assert path.read_text() == '{"depth": '
        page = client.get(f"{STATIC_URL}/settings.js")
        assert page.status_code == 200 and "/api/settings" in page.text


def test_studio_creates_worlds_with_the_depth_model_the_settings_choose(tmp_path, models):
    pytest.importorskip("transformers")
    from pipelines.neural.tiny import save_tiny_depth
    from studio.backdrop import load_backdrop
    from studio.storage import ProjectFile
    from ui.worlds import create_world

    save_tiny_depth(models / "tiny-depth")
    img = np.zeros((120, 160, 3), np.uint8)
    img[:48] = (110, 160, 230)
    img[48:] = (90, 150, 60)
    Image.fromarray(img).save(tmp_path / "meadow.png")
    path = tmp_path / "settings.json"
    library = tmp_path / "library"
    library.mkdir()

    with TestClient(create_app(library, settings=path)) as client:
        r = client.put("/api/settings", json={"role": "depth", "model": "tiny-depth"})
        assert r.status_code == 200, r.text
    made = create_with_settings(
        "", library=library, settings=path, image=tmp_path / "meadow.png", seed=4
    )
    made.world.close()
    ref = create_world(
        "", library=library, image=tmp_path / "meadow.png", seed=4, depth="tiny-depth"
    )
    popup = create_world("", library=library, image=tmp_path / "meadow.png", seed=4)

    def means(p):
        with ProjectFile.open(p, readonly=True) as store:
            return load_backdrop(store).gaussians.means

    assert np.array_equal(means(made.path), means(ref.path))
    assert not np.array_equal(means(made.path), means(popup.path))
