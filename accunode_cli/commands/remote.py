"""Shared pieces of the remote commands: open a session, print a list or one record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from accunode_cli import console

if TYPE_CHECKING:
    from accunode_cli.client.session import RemoteSession

__all__ = ["open_session", "show_records", "show_record", "confirm"]


def open_session(api_url: str | None, org: str | None = None) -> RemoteSession:
    """Return the session of a remote command (flag > environment > saved login)."""
    from accunode_cli.client.session import RemoteSession

    return RemoteSession(api_url=api_url, org=org)


_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})[0-9:.]*(Z|[+-]00:00)?$")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6g}"
    text = str(value)
    stamp = _TIMESTAMP.match(text)  # tables show UTC minutes; --json keeps the full value
    return f"{stamp.group(1)} {stamp.group(2)}" if stamp else text


def show_records(
    document: Any, records: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None
) -> None:
    """Print ``document`` as JSON, or ``records`` as a table of ``columns``."""
    if console.state.json_mode:
        console.print_json(document)
        return
    if not records:
        console.print_lines(["(none)"])
        return
    rows = [[_cell(record.get(column)) for column in columns] for record in records]
    console.print_table(title, list(columns), rows)


def show_record(document: dict[str, Any], fields: Sequence[str] | None = None) -> None:
    """Print one record as JSON, or as aligned ``field: value`` lines."""
    if console.state.json_mode:
        console.print_json(document)
        return
    names = list(fields or document.keys())
    rows = [[name, _cell(document.get(name))] for name in names]
    console.print_table(None, ["Field", "Value"], rows)


def confirm(question: str, yes: bool) -> None:
    """Ask before a deletion unless --yes; without a terminal, --yes is required."""
    import sys

    from accunode_cli.errors import UsageError

    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} needs --yes when not run on a terminal")
    if not typer.confirm(question):
        raise typer.Abort()
