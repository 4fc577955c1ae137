"""The studio microphone in headless Chromium: hold the prompt's mic button, the transcript fills
the prompt box. Chromium's fake capture device supplies the audio (a beep), the studio's local
Whisper is a tiny one built from the real classes that spells a known transcript."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: apt-get install chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("transformers")

from pipelines.neural.tiny import save_tiny_whisper  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    root = tmp_path_factory.mktemp("voice-studio")
    save_tiny_whisper(root / "models" / "tiny-whisper", text="a quiet meadow")
    env = {**os.environ, "TIDEPOOL_MODELS": str(root / "models"),
           "HF_HUB_CACHE": str(root / "empty-cache")}  # fmt: skip
    port = free_port()
    cmd = [sys.executable, "-m", "ui.cli", "studio", "--port", str(port), "--library",
           str(root / "library")]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"studio exited early: {proc.stderr.read()}")
        try:
            httpx.get(url + "/api/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_holding_the_prompt_mic_fills_the_prompt_and_creates_that_world(studio):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(studio)
            mic = page.locator('.tp-mic[data-target="prompt"]')
            mic.wait_for(timeout=30_000)
            assert page.locator('#tp-direct .tp-mic[data-target="direct"]').count() == 1
            box = mic.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.wait_for_timeout(1500)
            page.mouse.up()
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
