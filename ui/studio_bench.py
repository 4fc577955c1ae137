"""End-to-end studio benchmark: key → frame latency and fps measured in headless Chromium.

A real `tidepool studio` server (subprocess) on a fresh library with one world; the page opens
it at a fixed 640×360 (adaptive resolution off), and Playwright presses and releases W
alternately. The page measures, for each input, the time until the first frame whose header
says it reflects that input (`window.tidepool.stats()`), and counts frames received.
Needs /usr/bin/chromium (Debian's package) and the playwright Python package.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from studio.bench import Measurement, benchmark

log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"studio exited early with code {proc.returncode}")
        try:
            httpx.get(url + "/api/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"studio did not answer on {url} within {timeout:g} s")


def measure_studio(*, seconds: float, width: int = 640, height: int = 360) -> dict[str, float]:
    """Run the studio and a headless browser; return p50/p95 key→frame ms, fps and frames."""
    from playwright.sync_api import sync_playwright

    from ui.worlds import create_world

    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp)
        made = create_world("a grassy meadow with a few trees", seed=1, library=library)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "ui.cli", "studio", "--port", str(port), "--library", tmp]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_up(url, proc)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(f"{url}/?world={made.path.stem}&size={width}x{height}")
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
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "p50_ms": float(stats["p50"] or float("nan")),
        "p95_ms": float(stats["p95"] or float("nan")),
        "fps": stats["frames"] / elapsed,
        "inputs": float(stats["n"]),
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
    ]
