"""`accunode db upgrade|current|downgrade` on the embedded SQLite database."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from accunode_cli.main import app
from accunode_cli.storage.db import make_engine
from accunode_cli.storage.migrate import head_revision

ACCUNODE = str(Path(sys.executable).parent / "accunode")


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUNODE_")}
    return {**env, "ACCUNODE_DATA_DIR": str(data), "COLUMNS": "200"}


class _Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _db(data: Path, *args: str) -> _Result:
    """Run `accunode db ...` in process (stdin is no terminal), on the data folder ``data``."""
    result = CliRunner().invoke(app, ["db", *args], env=_env(data))
    return _Result(result.exit_code, result.stdout, result.stderr)


def _tables(data: Path) -> set[str]:
    engine = make_engine(f"sqlite:///{data / 'accunode.db'}")
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_unknown_revision_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for command in (["upgrade", "bogusrev"], ["downgrade", "bogusrev", "--yes"]):
        result = _db(tmp_path, *command)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "unknown revision 'bogusrev'" in lines[0], result.stderr
        assert head_revision() in lines[0]  # names what exists
    assert not (tmp_path / "accunode.db").exists()


def test_current_follows_upgrade_and_downgrade(tmp_path: Path) -> None:
    empty = json.loads(_db(tmp_path, "current", "--json").stdout)
    assert empty["revision"] is None and empty["up_to_date"] is False
    assert empty["head"] == head_revision()
    assert "accunode db upgrade" in _db(tmp_path, "current").stdout

    assert _db(tmp_path, "upgrade").returncode == 0
    now = json.loads(_db(tmp_path, "current", "--json").stdout)
    assert now["revision"] == head_revision() and now["up_to_date"] is True
    assert f"{head_revision()} (head)" in _db(tmp_path, "current").stdout

    down = _db(tmp_path, "downgrade", "base", "--yes", "--json")
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout) == {
        "database": f"sqlite:///{tmp_path / 'accunode.db'}",
        "from_revision": head_revision(),
        "revision": None,
    }
    assert "annual_predictions" not in _tables(tmp_path)
    assert json.loads(_db(tmp_path, "current", "--json").stdout)["revision"] is None
    assert _db(tmp_path, "upgrade").returncode == 0  # and back up again
    assert "annual_predictions" in _tables(tmp_path)


def test_downgrade_one_step_by_default(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from accunode_cli.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    previous = script.get_revision(head_revision()).down_revision
    assert _db(tmp_path, "upgrade").returncode == 0
    result = _db(tmp_path, "downgrade", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["revision"] == previous


def test_downgrade_without_yes_and_without_a_terminal_refuses(tmp_path: Path) -> None:
    assert _db(tmp_path, "upgrade").returncode == 0
    result = _db(tmp_path, "downgrade", "base")
    assert result.returncode == 2
    assert "pass --yes" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "annual_predictions" in _tables(tmp_path)


def test_downgrade_of_an_empty_database_says_so(tmp_path: Path) -> None:
    result = _db(tmp_path, "downgrade", "--yes")
    assert result.returncode == 2 and "nothing to downgrade" in result.stderr


@pytest.mark.parametrize(("answer", "code", "kept"), [("n", 1, True), ("y", 0, False)])
def test_downgrade_asks_on_a_terminal(tmp_path: Path, answer: str, code: int, kept: bool) -> None:
    assert _db(tmp_path, "upgrade").returncode == 0
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([ACCUNODE, "db", "downgrade", "base"], env=_env(tmp_path),
                                   stdin=follower, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        os.write(leader, f"{answer}\n".encode())
        _, err = process.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    assert process.returncode == code, err
    assert "drops tables and their data" in err
    assert ("annual_predictions" in _tables(tmp_path)) is kept
