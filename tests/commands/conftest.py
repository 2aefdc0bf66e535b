"""CLI test helpers: a CliRunner that keeps stdout and stderr apart, and the real script."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    """Return a CliRunner (stdout and stderr are separate in result.stdout / result.stderr)."""
    return CliRunner()


@pytest.fixture(scope="session")
def accunode_script() -> str:
    """Return the installed `accunode` console script."""
    found = shutil.which("accunode") or str(Path(sys.executable).parent / "accunode")
    assert Path(found).exists(), "install the package: pip install -e '.[dev]'"
    return found
