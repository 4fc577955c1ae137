"""The studio microphone in a real browser: hold 🎤, speak, and the words land where they should.

Chromium's fake capture device stands in for a microphone (a steady beep), so MediaRecorder,
the upload, PyAV's decode and Whisper all run for real; the speech model is a tiny Whisper built
from the real classes that always says "make it night" (pipelines.neural.tiny).
"""

from __future__ import annotations

import os

import pytest

from ui.local_studio import CHROMIUM, launch_chromium, studio_process

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail("CI needs /usr/bin/chromium for the studio tests: apt-get install chromium")
    pytest.skip("no /usr/bin/chromium: apt-get install chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("transformers")

FAKE_MIC = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def hold(page, selector: str, seconds: float) -> None:
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(seconds * 1000)
    page.mouse.up()


def test_speaking_fills_the_prompt_and_directs_the_scene(tmp_path):
    from pipelines.neural.tiny import save_tiny_whisper
    from ui.worlds import create_world

    models = tmp_path / "models"
    save_tiny_whisper(models / "tiny-whisper", text="make it night")
    library = tmp_path / "library"
    library.mkdir()
    made = create_world("a grassy meadow", seed=2, library=library)
    env = {
        "TIDEPOOL_MODELS": str(models),
        "TIDEPOOL_SETTINGS": str(tmp_path / "settings.json"),
        "HF_HUB_CACHE": str(tmp_path / "empty-cache"),
    }
    with studio_process(library, env=env) as url, sync_api.sync_playwright() as p:
        browser = launch_chromium(p, extra_args=FAKE_MIC)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/?world={made.path.stem}")
        page.wait_for_function(
            "window.tidepool && window.tidepool.state.frames > 0", timeout=90_000
        )

        # the prompt's mic: the transcript becomes the new-world prompt
        hold(page, '.tp-mic[data-target="prompt"]', 1.2)
        page.wait_for_function(
            "document.querySelector('#tp-prompt textarea').value === 'make it night'",
            timeout=60_000,
        )

        # the directing mic: the transcript is sent as a command, and night falls
        hold(page, '.tp-mic[data-target="direct"]', 1.2)
        page.wait_for_function(
            "(() => { const s = window.tidepool.state.status;"
            " return s && (s.hour >= 20 || s.hour < 5); })()",
            timeout=60_000,
        )
        assert "make it night" in page.locator("#tp-toast").text_content()
        browser.close()
