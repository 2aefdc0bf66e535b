"""`accunode db upgrade|current|downgrade`: the packaged Alembic migrations on the database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import JsonOption, apply_json
from accunode_cli.errors import ConfigError, UsageError

if TYPE_CHECKING:  # pydantic-settings and SQLAlchemy load only when a command runs
    from sqlalchemy import Engine

    from accunode_cli.config import Settings

__all__ = ["app", "upgrade", "current", "downgrade"]


def _load_settings() -> Settings:
    from pydantic import ValidationError

    from accunode_cli.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from exc


@contextmanager
def _database() -> Iterator[tuple[Engine, str]]:
    """Yield the configured database's engine and its URL without the password."""
    from sqlalchemy.engine import make_url

    from accunode_cli.storage.db import make_engine, make_private_folder

    settings = _load_settings()
    if settings.database_url is None:
        make_private_folder(settings.data_dir)
    engine = make_engine(settings.effective_database_url)
    try:
        yield engine, make_url(settings.effective_database_url).render_as_string(hide_password=True)
    finally:
        engine.dispose()


def _report(where: str, before: str | None, after: str | None) -> None:
    if console.state.json_mode:
        console.print_json({"database": where, "from_revision": before, "revision": after})
    else:
        console.print_lines([f"{where}: {before or 'empty'} -> {after or 'empty'}"])


app = typer.Typer(
    no_args_is_help=True,
    help="Manage the database schema (the embedded SQLite file, or ACCUNODE_DATABASE_URL).",
)


@app.command(epilog="Examples:\n\n  accunode db upgrade\n\n  accunode db upgrade 0001 --json")
@console.reports_errors
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    json_output: JsonOption = False,
) -> None:
    """Apply the database migrations (the embedded SQLite file, or ACCUNODE_DATABASE_URL)."""
    from accunode_cli.storage.migrate import check_revision, current_revision, upgrade_database

    apply_json(json_output)
    check_revision(revision)
    with _database() as (engine, where):
        before = current_revision(engine)
        upgrade_database(engine, revision)
        after = current_revision(engine)
    _report(where, before, after)


@app.command(epilog="Example:\n\n  accunode db current --json")
@console.reports_errors
def current(json_output: JsonOption = False) -> None:
    """Show the database's revision and whether it is at the newest one shipped."""
    from accunode_cli.storage.migrate import current_revision, head_revision

    apply_json(json_output)
    with _database() as (engine, where):
        revision = current_revision(engine)
    head = head_revision()
    if console.state.json_mode:
        console.print_json(
            {"database": where, "revision": revision, "head": head, "up_to_date": revision == head}
        )
        return
    state = "(head)" if revision == head else f"(newest {head}: accunode db upgrade)"
    console.print_lines([f"{where}: {revision or 'empty'} {state}"])


@app.command(
    epilog="Examples:\n\n  accunode db downgrade --yes\n\n  accunode db downgrade base --yes\n\n"
    "  accunode db downgrade --yes -- -2\n\n"
    "Exit codes: 0 done, 1 not confirmed (nothing changed), 2 unknown revision or no --yes "
    "without a terminal."
)
@console.reports_errors
def downgrade(
    revision: Annotated[
        str,
        typer.Argument(help="Target revision: an id, base (empty), or -N steps back (after --)."),
    ] = "-1",
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask: downgrading drops tables and data.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Undo migrations down to REVISION (default: one step); asks first, as it drops data."""
    from accunode_cli.storage.migrate import check_revision, current_revision, downgrade_database

    apply_json(json_output)
    check_revision(revision)
    with _database() as (engine, where):
        before = current_revision(engine)
        if before is None:
            raise UsageError(f"{where} is empty: there is nothing to downgrade")
        if not yes:
            _confirm(f"downgrade {where} from {before or 'empty'} to {revision}")
        downgrade_database(engine, revision)
        after = current_revision(engine)
    _report(where, before, after)


def _confirm(action: str) -> None:
    """Ask on the terminal; without one (or with --json), refuse: the caller must pass --yes."""
    if console.state.json_mode or not sys.stdin.isatty():
        raise UsageError(f"{action} drops tables and their data; pass --yes to confirm")
    if not typer.confirm(f"{action}? This drops tables and their data.", err=True):
        console.print_lines(["nothing changed"], stderr=True)
        raise typer.Exit(1)
