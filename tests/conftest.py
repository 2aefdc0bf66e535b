"""Fixtures shared by every test package: keep each test away from the real home folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"


@pytest.fixture(autouse=True)
def _isolated_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point ACCUNODE_CONFIG_DIR and ACCUNODE_DATA_DIR at a fresh temporary folder."""
    home = tmp_path_factory.mktemp("accunode-home")
    monkeypatch.setenv("ACCUNODE_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("ACCUNODE_DATA_DIR", str(home / "data"))


@pytest.fixture
def sample_data() -> Path:
    """Return the repository's sample_data folder."""
    return SAMPLE_DATA
