"""`accunode db upgrade` and `accunode serve` refusing unsafe production settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from accunode_cli.storage.db import make_engine
from accunode_cli.storage.migrate import head_revision

ACCUNODE = str(Path(sys.executable).parent / "accunode")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    return subprocess.run(
        [ACCUNODE, *args], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_db_upgrade_migrates_the_embedded_database(tmp_path: Path) -> None:
    result = _run("--json", "db", "upgrade", ACCUNODE_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["from_revision"] is None and report["revision"] == head_revision()
    engine = make_engine(f"sqlite:///{tmp_path / 'accunode.db'}")
    assert "annual_predictions" in inspect(engine).get_table_names()
    engine.dispose()
    again = _run("--json", "db", "upgrade", ACCUNODE_DATA_DIR=str(tmp_path))
    assert json.loads(again.stdout)["from_revision"] == head_revision()


def test_production_refuses_to_start_and_names_what_is_missing(tmp_path: Path) -> None:
    result = _run("serve", ACCUNODE_ENV="production", ACCUNODE_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    for name in ("ACCUNODE_JWT_SECRET", "ACCUNODE_DATABASE_URL", "ACCUNODE_REDIS_URL"):
        assert name in result.stderr
    weak = _run(
        "--json",
        "serve",
        ACCUNODE_ENV="production",
        ACCUNODE_JWT_SECRET="changeme",
        ACCUNODE_DATABASE_URL="postgresql://u@db/x",
        ACCUNODE_REDIS_URL="redis://cache:6379/0",
        ACCUNODE_DATA_DIR=str(tmp_path),
    )
    assert weak.returncode == 2
    error = json.loads(weak.stdout)["error"]
    assert error["code"] == "config_error" and "ACCUNODE_JWT_SECRET" in error["message"]
    assert "DATABASE_URL" not in error["message"]
    assert not (tmp_path / "dev-jwt-secret").exists()


def test_unreachable_database_is_reported_not_a_traceback(tmp_path: Path) -> None:
    result = _run(
        "db",
        "upgrade",
        ACCUNODE_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none",
        ACCUNODE_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "cannot be reached" in result.stderr
