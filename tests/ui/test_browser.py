"""The creator's walk through the studio, in headless Chromium (the issue's acceptance test).

One studio server (the README's `tidepool studio` command) and one browser for the module.
Screenshots go to $TIDEPOOL_ARTIFACTS/studio (default: artifacts/studio) to be looked at.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import httpx
import pytest

from ui.local_studio import CHROMIUM, launch_chromium, studio_process

ARTIFACTS = Path(os.environ.get("TIDEPOOL_ARTIFACTS", "artifacts")) / "studio"

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail("CI needs /usr/bin/chromium for the studio tests: apt-get install chromium")
    pytest.skip("no /usr/bin/chromium: apt-get install chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    settings = tmp_path_factory.mktemp("settings") / "settings.json"  # not the user's own
    with studio_process(
        tmp_path_factory.mktemp("library"), env={"TIDEPOOL_SETTINGS": str(settings)}
    ) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def status(page) -> dict:
    return page.evaluate("window.tidepool.state.status")


def wait_status(page, js_condition: str, timeout: float = 30_000) -> dict:
    page.wait_for_function(
        f"(() => {{ const s = window.tidepool.state.status; return s && ({js_condition}); }})()",
        timeout=timeout,
    )
    return status(page)


def release_pointer(page) -> None:
    """What Esc does for a player: give the mouse back to the page's buttons."""
    page.keyboard.press("Escape")
    page.evaluate("document.exitPointerLock && document.exitPointerLock()")


def server_state(url: str, sid: str) -> dict:
    return httpx.get(f"{url}/api/sessions/{sid}", timeout=10).json()


def test_creator_walkthrough(studio, browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    failed: list[str] = []  # every request the pages make, ours and Gradio's, must succeed
    ctx.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page = ctx.new_page()
    page.goto(studio)
    page.wait_for_selector("#tp-viewport")
    shot(page, "01-empty-library")

    # 1-2. create a world from a prompt; the viewport shows it with "understood: ..."
    page.locator("#tp-prompt textarea").fill("a misty pine forest by a lake")
    page.locator("#tp-seed input").fill("11")
    page.locator("#tp-create").click()
    page.wait_for_function("window.tidepool.state.frames > 0", timeout=120_000)
    assert page.locator("#tp-understood").inner_text().startswith("understood:")
    assert "pine" in page.locator("#tp-understood").inner_text()
    page.wait_for_selector(".tp-card[data-world]")
    shot(page, "02-created")

    # 3. click in and hold W for 1 s: the player walks about 4 m (read from the server)
    page.locator("#tp-viewport").click()
    s0 = wait_status(page, "s.playing")
    sid = s0["session"]
    a = server_state(studio, sid)
    page.keyboard.down("w")
    page.wait_for_timeout(1000)
    page.keyboard.up("w")
    page.wait_for_timeout(500)
    b = server_state(studio, sid)
    walked = math.hypot(b["player"]["x"] - a["player"]["x"], b["player"]["z"] - a["player"]["z"])
    assert walked == pytest.approx(4.0, abs=1.0)
    for key in ("Space", "Shift", "e", "q", "f", "f"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    stats = page.evaluate("window.tidepool.stats()")
    assert stats["n"] >= 2 and stats["p50"] is not None
    assert "key→frame p50" in page.locator("#tp-debug").inner_text()
    shot(page, "03-playing")
    release_pointer(page)

    # 5. record a take for ~1 s, stop; the takes list shows it with a thumbnail
    page.locator("#tp-rec").click()
    wait_status(page, "s.recording")
    page.wait_for_timeout(1000)
    page.locator("#tp-rec").click()
    page.wait_for_selector(".tp-take img[src^='data:image/jpeg']")

    # 4. pause, drag the scrubber back (rewind), branch here
    page.locator("#tp-play").click()
    paused = wait_status(page, "!s.playing")
    box = page.locator("#tp-scrubber").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] - 4, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, y, steps=6)
    page.mouse.up()
    wait_status(page, f"s.tick < {paused['tick']} - 10")
    page.wait_for_timeout(800)  # the drag sent several seeks; let the last one land
    rewound = page.evaluate("window.tidepool.state.status")
    page.locator("#tp-fork").click()
    forked = wait_status(page, f"s.branch !== {rewound['branch']!r}")
    page.wait_for_function("document.querySelectorAll('#tp-branches li').length >= 2")
    assert forked["tick"] == rewound["tick"]
    shot(page, "04-rewound-branched")

    # take playback: it plays, then holds its last frame, paused
    page.locator(".tp-take").first.click()
    wait_status(page, "s.take_playback !== null")
    wait_status(page, "s.take_playback !== null && !s.playing")

    # 8. reload: the same session comes back at the same moment
    page.wait_for_timeout(300)
    before = status(page)
    page.reload()
    page.wait_for_function("window.tidepool && window.tidepool.state.frames > 0", timeout=60_000)
    after = wait_status(page, "true")
    assert after["session"] == sid
    assert (after["branch"], after["tick"]) == (before["branch"], before["tick"])
    assert after["player"] == before["player"]

    # a second tab gets its own session on the same world
    page2 = ctx.new_page()
    page2.goto(studio)
    page2.wait_for_function("window.tidepool && window.tidepool.state.frames > 0", timeout=60_000)
    other = wait_status(page2, "true")
    assert other["session"] != sid and other["world"] == after["world"]
    shot(page2, "05-second-tab")
    page2.close()
    ctx.close()
    assert failed == []


def test_directing_box_directs_the_scene(studio, browser):
    """A typed command changes the live world (night falls); nonsense offers suggestions."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio)
    page.locator(".tp-card[data-world]").first.click()  # open a world from the library
    page.wait_for_function("window.tidepool && window.tidepool.state.frames > 0", timeout=60_000)
    page.locator("#tp-direct-text").fill("make it night")
    page.locator("#tp-direct-text").press("Enter")
    page.wait_for_function(
        "(() => { const s = window.tidepool.state.status; return s && (s.hour >= 20 || s.hour < 5); })()",
        timeout=60_000,
    )
    page.wait_for_selector("#tp-notice:not([hidden])")
    assert "understood" in page.locator("#tp-notice").inner_text()
    page.locator("#tp-direct-text").fill("blorp the zanzibar")
    page.locator("#tp-direct-text").press("Enter")
    page.wait_for_selector("#tp-alternatives .tp-chip", timeout=60_000)
    shot(page, "06-directing")
    page.close()


def test_export_a_camera_move_from_the_panel(studio, browser):
    """Export the take recorded in the walkthrough as a Nuke .chan and download it."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio)
    page.locator(".tp-card[data-world]").first.click()
    page.wait_for_selector("#tp-exp-take option", state="attached")
    page.locator("#tp-exp-format").select_option("chan")
    page.locator("#tp-exp-go").click()
    link = page.wait_for_selector("a.tp-download", timeout=60_000)
    body = httpx.get(studio + link.get_attribute("href"), timeout=10).text
    rows = [r.split() for r in body.strip().splitlines()]
    assert len(rows) >= 10 and all(len(r) == 8 for r in rows)  # frame, xyz, rotations, fov
    page.close()


def test_export_the_world_without_a_take_from_the_panel(studio, browser):
    """The take list's "the world" choice allows only the world's formats and exports its
    splats around the spawn (read back with plyfile)."""
    import io

    from plyfile import PlyData

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(studio)
    page.locator(".tp-card[data-world]").first.click()
    page.wait_for_selector("#tp-exp-take option", state="attached")
    page.locator("#tp-exp-take").select_option("")
    assert page.locator('#tp-exp-format option[value="mp4"]').is_disabled()
    assert page.locator('#tp-exp-format option[value="chan"]').is_disabled()
    page.locator("#tp-exp-format").select_option("ply")
    page.locator("#tp-exp-go").click()
    link = page.wait_for_selector("a.tp-download", timeout=120_000)
    body = httpx.get(studio + link.get_attribute("href"), timeout=30).content
    assert PlyData.read(io.BytesIO(body))["vertex"].count > 10_000
    page.close()
