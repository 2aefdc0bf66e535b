"""Fixtures for the analytics tests: the shipped models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_helpers import SAMPLES  # noqa: E402

from accunode_cli.scoring import PDModel, load_model  # noqa: E402


@pytest.fixture(scope="session")
def models() -> dict[str, PDModel]:
    """Return the shipped models."""
    return {kind: load_model(kind) for kind in SAMPLES}
