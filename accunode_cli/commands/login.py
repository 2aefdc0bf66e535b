"""`accunode login`: check a credential against a server and save it for later commands."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, apply_json
from accunode_cli.commands.remote import open_session
from accunode_cli.errors import UsageError

__all__ = ["login"]

EPILOG = (
    "Examples:\n\n  accunode login --api-url https://accunode.example.com\n\n"
    "  printf '%s' \"$PASSWORD\" | accunode login --email me@example.com --password-stdin\n\n"
    "  printf '%s' \"$ACCUNODE_KEY\" | accunode login --with-token"
)


def _stdin_line(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise UsageError(f"no {what} on stdin")
    return value


@console.reports_errors
def login(
    api_url: ApiUrlOption = None,
    email: Annotated[str | None, typer.Option(help="Your email (prompted on a terminal).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read an API key (acn_...) from stdin.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Log in to an AccuNode server and save the login (never the password)."""
    from accunode_cli.client import api

    apply_json(json_output)
    if with_token and (password_stdin or email):
        raise UsageError("--with-token cannot be combined with --email or --password-stdin")
    with open_session(api_url) as session:
        if session.env_token:
            raise UsageError("ACCUNODE_TOKEN is set: commands use it and nothing is saved")
        if with_token:
            saved = api.login_with_token(session, token=_stdin_line("API key").strip())
        else:
            terminal = sys.stdin.isatty()
            if email is None and not terminal:
                raise UsageError("give --email with --password-stdin when not on a terminal")
            email = email or typer.prompt("Email")
            if password_stdin:
                password = _stdin_line("password")
            elif terminal:
                password = typer.prompt("Password", hide_input=True)
            else:
                raise UsageError("not on a terminal: pass the password with --password-stdin")
            saved = api.login_with_password(session, email=email, password=password)
    document = {
        "api_url": saved.api_url,
        "email": saved.email,
        "organization_id": saved.organization_id,
        "organization_name": saved.organization_name,
        "credential": saved.kind,
        "saved_to": str(session.store.path),
    }
    if console.state.json_mode:
        console.print_json(document)
        return
    console.print_lines([f"Logged in to {saved.api_url} as {saved.email} ({saved.kind})."])
