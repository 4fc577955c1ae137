"""The studio web app: FastAPI with the Gradio Blocks mounted, served over real HTTP."""

import json

import httpx
import pytest

from ui.local_studio import studio_process


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    library = tmp_path_factory.mktemp("library")
    with studio_process(library) as url:
        yield url, library


def test_studio_serves_gradio_page_and_api(studio_url):
    url, library = studio_url
    health = httpx.get(url + "/api/health").json()
    assert health == {"ok": True, "library": str(library)}
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert "gradio" in page.text.lower()
    config = httpx.get(url + "/config").json()  # Gradio's config of the mounted Blocks
    assert "Tidepool" in json.dumps(config)
