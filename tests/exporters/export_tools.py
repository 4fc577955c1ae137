"""Third-party validators the export tests run: Khronos glTF-Validator (npm), ffprobe.

In CI (CI=true) a missing tool is a failure; elsewhere the test skips and says what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / ".node"
VALIDATOR = NODE_DIR / "node_modules" / "gltf-validator"

_SCRIPT = r"""
const fs = require('fs');
const validator = require(process.argv[1]);
const data = new Uint8Array(fs.readFileSync(process.argv[2]));
validator.validateBytes(data, {maxIssues: 1000, writeTimestamp: false,
    severityOverrides: JSON.parse(process.argv[3])})
  .then((report) => { console.log(JSON.stringify(report)); })
  .catch((e) => { console.error(String(e)); process.exit(1); });
"""


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not available")


def gltf_validate(path: Path, *, severity_overrides: dict[str, int] | None = None) -> dict:
    """The Khronos glTF-Validator report for a .glb/.gltf file (installed on first use)."""
    if shutil.which("node") is None:
        _missing("node (apt-get install nodejs npm)")
    if not VALIDATOR.exists():
        if shutil.which("npm") is None:
            _missing("npm (apt-get install npm)")
        # The Khronos validator publishes only 2.0.0-dev.* releases on npm; pin the one tested.
        npm = subprocess.run(
            ["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund",
             "gltf-validator@2.0.0-dev.3.10"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if npm.returncode != 0:
            raise RuntimeError(f"npm could not install gltf-validator:\n{npm.stderr[-2000:]}")
    out = subprocess.run(
        ["node", "-e", _SCRIPT, str(VALIDATOR), str(path), json.dumps(severity_overrides or {})],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return json.loads(out.stdout)


def gltf_errors(report: dict) -> list[dict]:
    return [m for m in report["issues"]["messages"] if m["severity"] == 0]


def ffprobe(path: Path) -> dict:
    """ffprobe's streams and format for a media file."""
    if shutil.which("ffprobe") is None:
        _missing("ffprobe (apt-get install ffmpeg)")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-count_frames",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return json.loads(out.stdout)
