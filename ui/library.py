"""Where the studio keeps a creator's worlds: a folder of `.tidepool` files."""

from __future__ import annotations

import os
from pathlib import Path


def default_library() -> Path:
    """`$TIDEPOOL_HOME`, else `~/.local/share/tidepool`."""
    env = os.environ.get("TIDEPOOL_HOME")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "tidepool"


def ensure_library(path: Path) -> Path:
    """Create the library folder if needed; raise a clear error if it cannot be used."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"library {path} is a file; pass --library with a folder path.")
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK):
        raise PermissionError(
            f"library {path} is not writable; pass --library with a writable folder."
        )
    return path


def settings_file() -> Path:
    """The neural-backend settings shared by the CLI and the studio: ``$TIDEPOOL_SETTINGS``, else
    ``settings.json`` in the default library (pipelines.neural.settings)."""
    from pipelines.neural.settings import settings_path

    return settings_path(default_library())
