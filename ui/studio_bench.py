"""End-to-end studio benchmarks: key → frame latency and fps, in headless Chromium and with
the server alone.

A real `tidepool studio` server (subprocess) on a fresh library with one world, opened at a
fixed 640×360 (adaptive resolution off) unless asked otherwise; W is pressed and released
alternately every 250 ms. In the browser run the page measures, for each input, the time until
the first frame whose header says it reflects that input (`window.tidepool.stats()`); both runs
read the server's own input → frame-ready times from `GET /api/sessions/{sid}`. The browser
run needs /usr/bin/chromium (Debian's package) and the playwright Python package.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from studio.bench import Measurement, benchmark
from ui import protocol as P
from ui.local_studio import CHROMIUM, launch_chromium, studio_process

log = logging.getLogger(__name__)

KEY_PERIOD_S = 0.25
"""W goes down or up this often."""


@contextlib.contextmanager
def _studio_with_a_world() -> Iterator[tuple[str, str]]:
    """A studio server on a fresh library holding the benchmark's world: (URL, world name)."""
    from ui.worlds import create_world

    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp)
        made = create_world("a grassy meadow with a few trees", seed=1, library=library)
        with studio_process(library) as url:
            yield url, made.path.stem


def _toggle_w(seconds: float, hold: Callable[[bool], None], wait: Callable[[float], None]) -> float:
    """Press and release W alternately for `seconds` (ending released); returns the time taken.
    `hold(down)` sends the key, `wait(s)` waits in the caller's way."""
    t0 = time.perf_counter()
    down = False
    while time.perf_counter() - t0 < seconds:
        down = not down
        hold(down)
        wait(KEY_PERIOD_S)
    if down:
        hold(False)
    return time.perf_counter() - t0


def _server_numbers(url: str, sid: str) -> dict[str, float]:
    """The session's server-side input → frame-ready p50/p95 (ms) and frame width, from
    `GET /api/sessions/{sid}`."""
    state = httpx.get(f"{url}/api/sessions/{sid}", timeout=10).json()
    ms = state.get("input_to_frame_ms") or {}
    return {
        "server_p50_ms": ms.get("p50", float("nan")),
        "server_p95_ms": ms.get("p95", float("nan")),
        "width": float(state.get("size", [float("nan")])[0]),
    }


def _browser_missing() -> str | None:
    """What the browser benchmarks lack here, with how to get it (None: nothing)."""
    import importlib.util

    if not CHROMIUM.exists():
        return f"no {CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "no playwright (make test installs it, or: pip install playwright)"
    return None


def measure_studio(
    *, seconds: float, size: tuple[int, int] | None = (640, 360)
) -> dict[str, float]:
    """Run the studio and a headless browser; return p50/p95 key→frame ms, fps and frames.

    `size` fixes the viewport's resolution; None leaves it adaptive (the studio's default),
    and the result then says which width it settled on.
    """
    from playwright.sync_api import sync_playwright

    with _studio_with_a_world() as (url, world), sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        fixed = "" if size is None else f"&size={size[0]}x{size[1]}"
        page.goto(f"{url}/?world={world}{fixed}")
        page.wait_for_function(
            "window.tidepool && window.tidepool.state.frames > 0", timeout=120_000
        )
        page.locator("#tp-viewport").click()
        page.wait_for_function(
            "window.tidepool.state.status && window.tidepool.state.status.playing"
        )
        page.wait_for_timeout(1500)  # chunks around the spawn settle
        page.evaluate("window.tidepool.resetStats()")
        keyboard = page.keyboard
        elapsed = _toggle_w(
            seconds,
            lambda down: keyboard.down("w") if down else keyboard.up("w"),
            lambda s: page.wait_for_timeout(1000 * s),
        )
        stats = page.evaluate("window.tidepool.stats()")
        server = _server_numbers(url, page.evaluate("window.tidepool.state.status.session"))
        browser.close()
    return {
        "p50_ms": float(stats["p50"] or float("nan")),
        "p95_ms": float(stats["p95"] or float("nan")),
        "fps": stats["frames"] / elapsed,
        "inputs": float(stats["n"]),
        **server,
    }


def measure_server(*, seconds: float, size: tuple[int, int] = (640, 360)) -> dict[str, float]:
    """The same session and keys as `measure_studio`, sent by a thin WebSocket client that
    acknowledges every frame as the page does: the server's key → frame-ready latency and fps
    with the cores to itself (DESIGN.md's "server side" budget; the browser run shares them
    with Chromium)."""
    from websockets.sync.client import connect

    frames: list[float] = []
    session: list[str] = []
    done = threading.Event()

    def read(ws) -> None:
        while not done.is_set():
            try:
                m = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            except Exception:  # the connection closed: the measurement is over
                return
            if isinstance(m, bytes):
                header, _ = P.unpack_frame(m)
                ws.send(json.dumps({"t": "ack", "seq": header.seq}))
                frames.append(time.perf_counter())
            elif not session and (msg := json.loads(m)).get("t") == "welcome":
                session.append(msg["session"])

    with (
        _studio_with_a_world() as (url, world),
        connect(url.replace("http", "ws", 1) + "/ws/live", max_size=None) as ws,
    ):
        ws.send(json.dumps({"t": "hello", "v": P.PROTOCOL_VERSION, "world": world,
                            "width": size[0], "height": size[1], "adaptive": False}))  # fmt: skip
        ws.send(json.dumps({"t": "play"}))
        threading.Thread(target=read, args=(ws,), daemon=True).start()
        deadline = time.monotonic() + 120
        while len(frames) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # chunks around the spawn settle, as in the browser run
        n0 = len(frames)
        ids = iter(range(1, 1 << 31))
        elapsed = _toggle_w(
            seconds,
            lambda down: ws.send(
                json.dumps({"t": "input", "id": next(ids), "held": ["w"] if down else []})
            ),
            time.sleep,
        )
        n = len(frames) - n0
        server = _server_numbers(url, session[0])
        done.set()
    return {"fps": n / elapsed, **server}


@benchmark("studio", fresh_process=True)
def studio_key_to_frame(quick: bool) -> list[Measurement]:
    """Key → frame latency (p50, p95) and fps in headless Chromium at 640×360."""
    if (missing := _browser_missing()) is not None:
        log.warning("studio browser benchmark skipped: %s", missing)
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
    if (missing := _browser_missing()) is not None:
        log.warning("studio browser benchmark skipped: %s", missing)
        return []
    r = measure_studio(seconds=6.0 if quick else 15.0, size=None)
    return [
        Measurement("studio fps (browser, adaptive)", r["fps"], "fps", None, "higher"),
        Measurement("studio key→frame p50 (browser, adaptive)", r["p50_ms"], "ms", None, "lower"),
        Measurement("studio adaptive width settled at", r["width"], "px", None, "higher"),
    ]


@benchmark("studio", fresh_process=True)
def studio_server_alone(quick: bool) -> list[Measurement]:
    """Key → frame ready and fps at 640×360 with a thin WebSocket client, no browser."""
    r = measure_server(seconds=5.0 if quick else 15.0)
    return [
        Measurement("key→frame ready p50 (server alone)", r["server_p50_ms"], "ms", None, "lower"),
        Measurement("key→frame ready p95 (server alone)", r["server_p95_ms"], "ms", 50.0, "lower"),
        Measurement("server fps (alone, 640×360)", r["fps"], "fps", None, "higher"),
    ]
