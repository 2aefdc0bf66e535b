"""`accunode admin user|org`: operators' commands on the configured database (SQLite here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accunode_cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ACCUNODE_DATABASE_URL", "ACCUNODE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACCUNODE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ACCUNODE_BCRYPT_ROUNDS", "4")
    return tmp_path


def _json(*args: str, stdin: str | None = None) -> tuple[int, object]:
    result = runner.invoke(app, ["--json", "admin", *args], input=stdin)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else result.stderr


def test_operator_creates_lists_deactivates_and_resets_users(env: Path) -> None:
    from accunode_cli.server.security import verify_password
    from accunode_cli.storage.db import make_engine, make_session_factory
    from accunode_cli.storage.users import find_user_by_email

    code, created = _json("user", "create", "Owner@Example.com", "--full-name", "Owner")
    assert code == 0 and isinstance(created, dict) and len(created["password"]) >= 16
    code, _ = _json("user", "create", "typed@example.com", "--password-stdin",
                    stdin="typed password\n")  # fmt: skip
    assert code == 0
    code, users = _json("user", "list")
    assert code == 0 and [u["email"] for u in users] == ["Owner@example.com", "typed@example.com"]
    assert all(u["active"] and u["verified"] for u in users)
    code, orgs = _json("org", "list")
    owners = [o["owners"] for o in orgs]
    assert code == 0 and owners == [["Owner@example.com"], ["typed@example.com"]]

    assert _json("user", "deactivate", "OWNER@example.com")[0] == 0
    code, users = _json("user", "list")
    assert [u["active"] for u in users] == [False, True]
    code, reset = _json("user", "reset-password", "owner@example.com")
    assert code == 0 and isinstance(reset, dict)

    engine = make_engine(f"sqlite:///{env / 'data' / 'accunode.db'}")
    with make_session_factory(engine)() as session:
        user = find_user_by_email(session, "owner@example.com")
        assert user is not None and user.is_active
        assert verify_password(reset["password"], user.password_hash)
    engine.dispose()

    missing = runner.invoke(app, ["admin", "user", "deactivate", "nobody@example.com"])
    assert missing.exit_code != 0 and "nobody@example.com" in missing.stderr
    assert "Traceback" not in missing.output
    short = runner.invoke(app, ["admin", "user", "create", "x@example.com", "--password-stdin"],
                          input="short\n")  # fmt: skip
    assert short.exit_code == 2 and "72 bytes" in short.stderr
    human = runner.invoke(app, ["admin", "org", "list"])
    assert human.exit_code == 0 and "typed@example.com" in human.stdout
