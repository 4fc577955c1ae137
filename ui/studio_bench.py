"""End-to-end studio benchmark: key → frame latency and fps measured in headless Chromium.

A real `tidepool studio` server (subprocess) on a fresh library with one world; the page opens
it at a fixed 640×360 (adaptive resolution off), and Playwright presses and releases W
alternately. The page measures, for each input, the time until the first frame whose header
says it reflects that input (`window.tidepool.stats()`), and counts frames received.
Needs /usr/bin/chromium (Debian's package) and the playwright Python package.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import httpx

from studio.bench import Measurement, benchmark
from ui.local_studio import CHROMIUM, launch_chromium, studio_process

log = logging.getLogger(__name__)


def measure_studio(
    *, seconds: float, size: tuple[int, int] | None = (640, 360)
) -> dict[str, float]:
    """Run the studio and a headless browser; return p50/p95 key→frame ms, fps and frames.

    `size` fixes the viewport's resolution; None leaves it adaptive (the studio's default),
    and the result then says which width it settled on.
    """
    from playwright.sync_api import sync_playwright

    from ui.worlds import create_world

    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp)
        made = create_world("a grassy meadow with a few trees", seed=1, library=library)
        with studio_process(library) as url:
            with sync_playwright() as p:
                browser = launch_chromium(p)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                fixed = "" if size is None else f"&size={size[0]}x{size[1]}"
                page.goto(f"{url}/?world={made.path.stem}{fixed}")
                page.wait_for_function(
                    "window.tidepool && window.tidepool.state.frames > 0", timeout=120_000
                )
                page.locator("#tp-viewport").click()
                page.wait_for_function(
                    "window.tidepool.state.status && window.tidepool.state.status.playing"
                )
                page.wait_for_timeout(1500)  # chunks around the spawn settle
                page.evaluate("window.tidepool.resetStats()")
                t0 = time.perf_counter()
                down = False
                while time.perf_counter() - t0 < seconds:
                    if down:
                        page.keyboard.up("w")
                    else:
                        page.keyboard.down("w")
                    down = not down
                    page.wait_for_timeout(250)
                if down:
                    page.keyboard.up("w")
                elapsed = time.perf_counter() - t0
                stats = page.evaluate("window.tidepool.stats()")
                sid = page.evaluate("window.tidepool.state.status.session")
                server = httpx.get(f"{url}/api/sessions/{sid}", timeout=10).json()
                browser.close()
    return {
        "p50_ms": float(stats["p50"] or float("nan")),
        "p95_ms": float(stats["p95"] or float("nan")),
        "fps": stats["frames"] / elapsed,
        "inputs": float(stats["n"]),
        "server_p50_ms": (server.get("input_to_frame_ms") or {}).get("p50", float("nan")),
        "server_p95_ms": (server.get("input_to_frame_ms") or {}).get("p95", float("nan")),
        "width": float(server.get("size", [float("nan")])[0]),
    }


@benchmark("studio", fresh_process=True)
def studio_key_to_frame(quick: bool) -> list[Measurement]:
    """Key → frame latency (p50, p95) and fps in headless Chromium at 640×360."""
    if not CHROMIUM.exists():
        log.warning("studio benchmark skipped: no /usr/bin/chromium (apt-get install chromium)")
        return []
    r = measure_studio(seconds=5.0 if quick else 15.0)
    return [
        Measurement("studio key→frame p50 (browser, 640×360)", r["p50_ms"], "ms", None, "lower"),
        Measurement("studio key→frame p95 (browser, 640×360)", r["p95_ms"], "ms", None, "lower"),
        Measurement("studio fps (browser, 640×360)", r["fps"], "fps", 30.0, "higher"),
        Measurement("key→frame ready p50 (server side)", r["server_p50_ms"], "ms", None, "lower"),
        Measurement("key→frame ready p95 (server side)", r["server_p95_ms"], "ms", 50.0, "lower"),
    ]


@benchmark("studio", fresh_process=True)
def studio_adaptive(quick: bool) -> list[Measurement]:
    """What a user gets by default: fps and latency with the resolution left adaptive."""
    if not CHROMIUM.exists():
        log.warning("studio benchmark skipped: no /usr/bin/chromium (apt-get install chromium)")
        return []
    r = measure_studio(seconds=6.0 if quick else 15.0, size=None)
    return [
        Measurement("studio fps (browser, adaptive)", r["fps"], "fps", None, "higher"),
        Measurement("studio key→frame p50 (browser, adaptive)", r["p50_ms"], "ms", None, "lower"),
        Measurement("studio adaptive width settled at", r["width"], "px", None, "higher"),
    ]
