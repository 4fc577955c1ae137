"""Neural-backend settings: the file, `tidepool models list/use`, and flags overriding settings.

The end-to-end test chooses a tiny Depth-Anything (built from the real classes) with
`tidepool models use depth ...` and checks that `tidepool new --image` then lifts the photo
with it exactly as `--depth tiny-depth` does, and that `--depth off` still wins over it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from photos import meadow_photo
from typer.testing import CliRunner

from pipelines.neural.settings import (
    NeuralSettings,
    SettingsError,
    load_settings,
    save_settings,
)
from ui.cli import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty Tidepool home and Hugging Face cache; models only where a test puts them."""
    monkeypatch.setenv("TIDEPOOL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TIDEPOOL_SETTINGS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("TIDEPOOL_MODELS", str(models))
    return tmp_path / "home"


def fake_model(folder, model_type: str) -> None:
    """A folder discovery classifies by its config (enough for choosing; never loaded here)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))


def test_settings_round_trip_and_defaults(tmp_path):
    path = tmp_path / "settings.json"
    assert load_settings(path) == NeuralSettings()  # no file: the defaults
    assert load_settings(path).asr == "auto" and load_settings(path).depth == "off"
    s = NeuralSettings(depth="tiny-depth", text2image="auto", llm="off")
    save_settings(path, s)
    assert load_settings(path) == s
    assert json.loads(path.read_text())["depth"] == "tiny-depth"
    assert s.resolve("depth") == "tiny-depth" and s.resolve("depth", "off") == "off"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"depht": "x"}', "depht: unrecognized attribute"),
        ('{"depth": 3}', "depth"),
        ('{"version": 9}', "newer than this Tidepool"),
    ],
)
def test_a_malformed_file_is_named_with_the_fix_and_never_overwritten(home, text, says):
    home.mkdir(parents=True)
    path = home / "settings.json"
    path.write_text(text)
    with pytest.raises(SettingsError, match=says) as e:
        load_settings(path)
    assert str(path) in str(e.value) and "delete" in str(e.value)
    fake_model(home.parent / "models" / "tiny-whisper", "whisper")
    r = runner.invoke(app, ["models", "use", "asr", "tiny-whisper"])
    assert r.exit_code == 1 and str(path) in r.stderr
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 1 and str(path) in listed.stderr
    assert path.read_text() == text  # untouched


def test_models_use_refuses_what_is_not_found_and_list_shows_the_choice(home):
    models = home.parent / "models"
    fake_model(models / "dpt-a", "dpt")
    fake_model(models / "dpt-b", "depth_anything")
    fake_model(models / "tiny-whisper", "whisper")
    r = runner.invoke(app, ["models", "use", "depth", "dpt-c"])
    assert r.exit_code == 1
    assert "'dpt-c'" in r.stderr and "dpt-a, dpt-b" in r.stderr
    assert not (home / "settings.json").exists()
    wrong_role = runner.invoke(app, ["models", "use", "depth", "tiny-whisper"])
    assert wrong_role.exit_code == 1 and "dpt-a, dpt-b" in wrong_role.stderr
    bad_role = runner.invoke(app, ["models", "use", "painting", "off"])
    assert bad_role.exit_code == 1 and "depth, text2image, inpaint, asr, llm" in bad_role.stderr

    assert runner.invoke(app, ["models", "use", "depth", "dpt-b"]).exit_code == 0
    assert runner.invoke(app, ["models", "use", "asr", "off"]).exit_code == 0
    assert load_settings(home / "settings.json") == NeuralSettings(depth="dpt-b", asr="off")
    out = json.loads(runner.invoke(app, ["models", "list", "--json"]).stdout)
    assert out["settings"] == str(home / "settings.json")
    assert out["roles"]["depth"] == {
        "chosen": "dpt-b",
        "active": "dpt-b",
        "found": ["dpt-a", "dpt-b"],
    }
    assert out["roles"]["asr"] == {"chosen": "off", "active": None, "found": ["tiny-whisper"]}
    assert {m["name"] for m in out["models"] if m["chosen"]} == {"dpt-b"}
    text = runner.invoke(app, ["models", "list"]).stdout
    assert "depth      chosen: dpt-b" in text and "* dpt-b" in text and "  dpt-a" in text
    # A chosen model that disappears is reported, not silently replaced.
    (models / "dpt-b" / "config.json").unlink()
    text = runner.invoke(app, ["models", "list"]).stdout
    assert "chosen: dpt-b  (NOT FOUND" in text


def test_speech_off_in_settings_says_how_to_turn_it_on(home, tmp_path):
    import wave

    clip = tmp_path / "said.wav"
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.zeros(1600, "<i2").tobytes())
    save_settings(home / "settings.json", NeuralSettings(asr="off"))
    r = runner.invoke(app, ["new", "--audio", str(clip), "-o", str(tmp_path / "a.tidepool")])
    assert r.exit_code == 1
    assert "asr backend is off" in r.stderr and "tidepool models use asr" in r.stderr


def backdrop_means(path):
    from studio.backdrop import load_backdrop
    from studio.storage import ProjectFile

    with ProjectFile.open(path, readonly=True) as store:
        return load_backdrop(store).gaussians.means.copy()


def test_depth_model_chosen_in_settings_lifts_the_photo_and_flags_override(home, tmp_path):
    pytest.importorskip("transformers")
    from pipelines.neural.tiny import save_tiny_depth

    save_tiny_depth(home.parent / "models" / "tiny-depth")
    img = meadow_photo(tmp_path)

    def new(name, *flags):
        out = tmp_path / f"{name}.tidepool"
        r = runner.invoke(app, ["new", "--image", str(img), "--seed", "4", "-o", str(out), *flags])
        assert r.exit_code == 0, r.stderr
        return backdrop_means(out)

    popup = new("default")  # no settings file: depth off
    by_flag = new("flag", "--depth", "tiny-depth")
    r = runner.invoke(app, ["models", "use", "depth", "tiny-depth"])
    assert r.exit_code == 0, r.stderr
    by_setting = new("setting")
    overridden = new("override", "--depth", "off")
    assert np.array_equal(by_setting, by_flag)
    assert np.array_equal(overridden, popup)
    assert not np.array_equal(by_setting, popup)
    # The chosen model vanishing is an error naming the setting, never a silent fallback.
    import shutil

    shutil.rmtree(home.parent / "models" / "tiny-depth")
    r = runner.invoke(app, ["new", "--image", str(img), "-o", str(tmp_path / "gone.tidepool")])
    assert r.exit_code == 1
    assert "the depth setting" in r.stderr and "tidepool models use depth" in r.stderr
    assert not (tmp_path / "gone.tidepool").exists()
