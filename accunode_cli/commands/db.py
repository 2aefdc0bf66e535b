"""`accunode db upgrade`: apply the packaged Alembic migrations to the configured database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from accunode_cli import console
from accunode_cli.errors import ConfigError

if TYPE_CHECKING:  # pydantic-settings loads only when a command runs, not for --help
    from accunode_cli.config import Settings

__all__ = ["app", "upgrade"]


def _load_settings() -> Settings:
    from pydantic import ValidationError

    from accunode_cli.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from exc


app = typer.Typer(no_args_is_help=True, help="Manage the database schema.")


@app.command()
@console.reports_errors
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply the database migrations (the embedded SQLite file, or ACCUNODE_DATABASE_URL)."""
    from sqlalchemy.engine import make_url

    from accunode_cli.storage.db import make_engine, make_private_folder
    from accunode_cli.storage.migrate import current_revision, upgrade_database

    settings = _load_settings()
    if settings.database_url is None:
        make_private_folder(settings.data_dir)
    engine = make_engine(settings.effective_database_url)
    try:
        before = current_revision(engine)
        upgrade_database(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    where = make_url(settings.effective_database_url).render_as_string(hide_password=True)
    if console.state.json_mode:
        console.print_json({"database": where, "from_revision": before, "revision": after})
    else:
        console.print_lines([f"{where}: {before or 'empty'} -> {after}"])
