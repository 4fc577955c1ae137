"""The studio web app: FastAPI with the Gradio Blocks mounted, served over real HTTP."""

import json
import socket
import subprocess
import sys
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    library = tmp_path_factory.mktemp("library")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "studio", "--port", str(port), "--library", str(library)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
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
    else:
        proc.kill()
        pytest.fail("studio did not start within 120 s")
    yield url, library
    proc.terminate()
    proc.wait(timeout=20)


def test_studio_serves_gradio_page_and_api(studio_url):
    url, library = studio_url
    health = httpx.get(url + "/api/health").json()
    assert health == {"ok": True, "library": str(library)}
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert "gradio" in page.text.lower()
    config = httpx.get(url + "/config").json()  # Gradio's config of the mounted Blocks
    assert "Tidepool" in json.dumps(config)
