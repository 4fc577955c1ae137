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


def _core_requirements(dist: str, seen: set[str] | None = None) -> set[str]:
    """Names of the distributions `dist` needs without any extra, transitively (from the
    installed packages' metadata)."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement

    seen = set() if seen is None else seen
    try:
        reqs = requires(dist) or []
    except PackageNotFoundError:
        return seen
    for text in reqs:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra's requirement, or another platform's
        name = req.name.lower().replace("_", "-")
        if name not in seen:
            seen.add(name)
            _core_requirements(name, seen)
    return seen


def test_a_plain_install_can_serve_the_live_viewport():
    """`make studio` installs no dev tools: the WebSocket library uvicorn needs for the live
    viewport must come with the package itself (it once came only with the test extras)."""
    assert {"websockets", "wsproto"} & _core_requirements("tidepool-studio")
