"""Small synthetic photos for the image-path tests (imported by name: pytest puts this folder
on sys.path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def meadow_photo(folder: Path) -> Path:
    """A 160x120 PNG: blue sky over the top 40%, green grass below."""
    img = np.zeros((120, 160, 3), np.uint8)
    img[:48] = (110, 160, 230)
    img[48:] = (90, 150, 60)
    Image.fromarray(img).save(folder / "meadow.png")
    return folder / "meadow.png"
