"""A studio server in a child process on a free loopback port, and the headless Chromium
that drives it: shared by the studio benchmark and the browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium (`apt-get install chromium`); Playwright never downloads a browser here."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StudioStartError(RuntimeError):
    """The studio process exited or did not answer in time; the message has its stderr."""


@contextlib.contextmanager
def studio_process(
    library: Path,
    *,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    timeout: float = 120.0,
) -> Iterator[str]:
    """Run `tidepool studio` on a free port for the block; yields its URL, then stops it."""
    import httpx

    port = free_port()
    log = tempfile.TemporaryFile("w+")  # not a pipe: a chatty server must never block on it
    cmd = [sys.executable, "-m", "ui.cli", "studio", "--port", str(port), "--library", str(library)]
    proc = subprocess.Popen(
        [*cmd, *args],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise StudioStartError(f"studio exited early: {log.read()}")
            try:
                httpx.get(url + "/api/health", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise StudioStartError(
                        f"studio did not answer on {url} within {timeout:g} s"
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def launch_chromium(playwright, *, extra_args: tuple[str, ...] = ()):
    """Headless Debian chromium through Playwright's sync API."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
    )
