"""Fixtures for the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import make_project


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("exp") / "world.tidepool")
