"""Fixtures for the scoring tests: small generated sets and models trained on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from accunode_cli.scoring.generator import generate
from accunode_cli.scoring.training import train_model

SMALL_FIRMS = {"annual": 3000, "quarterly": 1200}


@pytest.fixture(scope="session")
def small_tables() -> dict[str, object]:
    """Return small generated tables of both kinds (seeded, so identical every run)."""
    return {
        kind: generate(kind, firms=firms, seed=11).to_arrow() for kind, firms in SMALL_FIRMS.items()
    }


@pytest.fixture(scope="session")
def small_models(
    small_tables: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Train a model of each kind on the small tables; return their folders."""
    root = tmp_path_factory.mktemp("models")
    folders = {}
    for kind, table in small_tables.items():
        folders[kind] = root / kind
        train_model(kind, table, folders[kind], seed=3)
    return folders
