"""An installed wheel carries its migrations: upgrading works outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accunode_cli.storage.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_installed_wheel_can_migrate(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run(
        [*pip, "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path / "w")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = (tmp_path / "w").glob("accunode-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = (
        "import accunode_cli, sys\n"
        "from accunode_cli.storage.db import make_engine\n"
        "from accunode_cli.storage.migrate import current_revision, upgrade_database\n"
        f"engine = make_engine('sqlite:///{tmp_path / 'wheel.db'}')\n"
        "upgrade_database(engine)\n"
        "from accunode_cli.analytics import SHIPPED_SCENARIOS, load_scenario\n"
        "assert all(load_scenario(name).shocks for name in SHIPPED_SCENARIOS)\n"
        "from accunode_cli.scoring import load_model\n"
        "assert load_model('annual').reference and load_model('quarterly').reference\n"
        "print(accunode_cli.__file__)\n"
        "print(current_revision(engine))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    location, revision = result.stdout.split()
    assert location.startswith(str(target)) and revision == head_revision()
