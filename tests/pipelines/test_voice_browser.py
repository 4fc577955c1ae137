"""The studio microphones in headless Chromium: hold the prompt's mic button and the transcript
fills the prompt box; hold the directing mic and the spoken command changes the scene.
Chromium's fake capture device supplies the audio (a beep), the studio's local Whisper is a
tiny one built from the real classes that spells a known transcript."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from ui.local_studio import CHROMIUM, launch_chromium, studio_process

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail("CI needs /usr/bin/chromium for the studio tests: apt-get install chromium")
    pytest.skip("no /usr/bin/chromium: apt-get install chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("transformers")

from pipelines.neural.tiny import save_tiny_whisper  # noqa: E402

FAKE_MEDIA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    root = tmp_path_factory.mktemp("voice-studio")
    save_tiny_whisper(root / "models" / "tiny-whisper", text="a quiet meadow")
    env = {**os.environ, "TIDEPOOL_MODELS": str(root / "models"),
           "HF_HUB_CACHE": str(root / "empty-cache"),
           "TIDEPOOL_SETTINGS": str(root / "settings.json")}  # fmt: skip
    with studio_process(root / "library", env=env) as url:
        yield url


def hold(page, locator, seconds: float) -> None:
    box = locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(seconds * 1000)
    page.mouse.up()


def test_holding_the_prompt_mic_fills_the_prompt_and_creates_that_world(studio):
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p, extra_args=FAKE_MEDIA)
        try:
            page = browser.new_page()
            page.goto(studio)
            mic = page.locator('.tp-mic[data-target="prompt"]')
            mic.wait_for(timeout=30_000)
            assert page.locator('#tp-direct .tp-mic[data-target="direct"]').count() == 1
            hold(page, mic, 1.5)
            page.wait_for_function(
                "document.querySelector('#tp-prompt textarea').value === 'a quiet meadow'",
                timeout=60_000,
            )
            assert "heard" in page.locator("#tp-toast").inner_text()
            # Gradio saw the value: Create makes the spoken world.
            page.locator("#tp-create").click()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                worlds = httpx.get(studio + "/api/worlds", timeout=5).json()
                if worlds:
                    break
                page.wait_for_timeout(500)
            assert [w["prompt"] for w in worlds] == ["a quiet meadow"]
        finally:
            browser.close()


def test_holding_the_directing_mic_directs_the_scene(tmp_path):
    from ui.worlds import create_world

    save_tiny_whisper(tmp_path / "models" / "tiny-whisper", text="make it night")
    library = tmp_path / "library"
    library.mkdir()
    made = create_world("a grassy meadow", seed=2, library=library)
    env = {"TIDEPOOL_MODELS": str(tmp_path / "models"), "HF_HUB_CACHE": str(tmp_path / "cache"),
           "TIDEPOOL_SETTINGS": str(tmp_path / "settings.json")}  # fmt: skip
    with studio_process(library, env=env) as url, sync_api.sync_playwright() as p:
        browser = launch_chromium(p, extra_args=FAKE_MEDIA)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/?world={made.path.stem}")
            page.wait_for_function(
                "window.tidepool && window.tidepool.state.frames > 0", timeout=90_000
            )
            hold(page, page.locator('#tp-direct .tp-mic[data-target="direct"]'), 1.2)
            page.wait_for_function(
                "(() => { const s = window.tidepool.state.status;"
                " return s && (s.hour >= 20 || s.hour < 5); })()",
                timeout=60_000,
            )
            assert "make it night" in page.locator("#tp-toast").text_content()
        finally:
            browser.close()
