"""Migration 0004 on a database that already holds users: each stored email becomes its key."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from accunode_cli.storage.db import make_engine, utcnow
from accunode_cli.storage.migrate import upgrade_database


def test_existing_users_keep_logging_in_after_0004(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade_database(engine, "0001")
    now = utcnow().replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, full_name, is_active, created_at,"
                " updated_at) VALUES (:id, 'ann@example.com', 'x', '', 1, :now, :now)"
            ),
            {"id": uuid.uuid4().hex, "now": now},
        )
    upgrade_database(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT email, email_key FROM users")).all()
        tables = connection.execute(
            text("SELECT name FROM sqlite_master WHERE name = 'revoked_tokens'")
        ).all()
    assert [tuple(row) for row in rows] == [("ann@example.com", "ann@example.com")]
    assert tables
    engine.dispose()
