"""`accunode admin`: accounts and organizations, for the person who runs the server.

These commands act on the configured database directly (the embedded SQLite file, or
ACCUNODE_DATABASE_URL): the first owner of a self-hosted install, a locked-out user.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from accunode_cli import console
from accunode_cli.commands.db import _load_settings
from accunode_cli.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="Manage accounts and organizations (operators).")
user_app = typer.Typer(no_args_is_help=True, help="Manage users.")
org_app = typer.Typer(no_args_is_help=True, help="List organizations.")
app.add_typer(user_app, name="user")
app.add_typer(org_app, name="org")

Email = Annotated[str, typer.Argument(help="The account's email (any case).")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (default: generate one and show it once).",
    ),
]


@contextmanager
def _session() -> Iterator[Session]:
    from accunode_cli.storage.db import make_engine, make_private_folder, make_session_factory
    from accunode_cli.storage.migrate import upgrade_database

    settings = _load_settings()
    if settings.database_url is None:
        make_private_folder(settings.data_dir)
    engine = make_engine(settings.effective_database_url, timeout=30)
    try:
        upgrade_database(engine)
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _run(work: Callable[[Session], T]) -> T:
    with _session() as session:
        return work(session)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """Return the new password and whether it was generated (and must be shown)."""
    if not from_stdin:
        return secrets.token_urlsafe(18), True
    password = sys.stdin.readline().rstrip("\n")
    if not len(password) >= 8 or len(password.encode()) > 72:
        raise UsageError("the password must be 8 characters to 72 bytes (UTF-8) long")
    return password, False


def _hash(password: str) -> str:
    from accunode_cli.server.security import hash_password

    return hash_password(password, rounds=_load_settings().bcrypt_rounds)


def _show(document: dict[str, object], lines: list[str]) -> None:
    if console.state.json_mode:
        console.print_json(document)
    else:
        console.print_lines(lines)


@user_app.command("list", epilog="Example:\n\n  accunode admin user list --json")
@console.reports_errors
def list_users() -> None:
    """List every account: email, name, active, verified, created."""
    from accunode_cli.storage import operators

    rows = [
        {
            "id": str(user.id),
            "email": user.email,
            "full_name": user.full_name,
            "active": user.is_active,
            "verified": user.email_verified_at is not None,
            "created_at": user.created_at.isoformat(),
        }
        for user in _run(operators.list_users)
    ]
    if console.state.json_mode:
        console.print_json(rows)
        return
    columns = ["email", "full_name", "active", "verified", "created_at"]
    console.print_table(None, columns, [[row[c] for c in columns] for row in rows])


@user_app.command(
    "create",
    epilog="Examples:\n\n  accunode admin user create ann@example.com --full-name Ann\n\n"
    "  echo 'a long passphrase' | accunode admin user create bo@example.com --password-stdin",
)
@console.reports_errors
def create_user(
    email: Email,
    full_name: Annotated[str, typer.Option("--full-name", help="Display name.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account (with its personal organization), already verified."""
    from email_validator import EmailNotValidError, validate_email

    from accunode_cli.storage import users

    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise UsageError(f"not a valid email: {exc}") from exc
    password, generated = _password(password_stdin)
    password_hash = _hash(password)

    def create(session: Session) -> str:
        user = users.create_user(
            session, email=address, password_hash=password_hash, full_name=full_name
        )
        users.mark_email_verified(session, user)
        return str(user.id)

    user_id = _run(create)
    shown = {"password": password} if generated else {}
    _show(
        {"id": user_id, "email": address, **shown},
        [f"created {address}"] + ([f"password (shown once): {password}"] if generated else []),
    )


@user_app.command(
    "deactivate", epilog="Example:\n\n  accunode admin user deactivate ann@example.com"
)
@console.reports_errors
def deactivate_user(email: Email) -> None:
    """Stop an account from logging in; its sessions end at once."""
    from accunode_cli.storage import operators

    address = _run(lambda session: operators.deactivate(session, email).email)
    _show({"email": address, "active": False}, [f"deactivated {address}; its sessions ended"])


@user_app.command(
    "reset-password", epilog="Example:\n\n  accunode admin user reset-password ann@example.com"
)
@console.reports_errors
def reset_password(email: Email, password_stdin: PasswordStdin = False) -> None:
    """Give an account a new password (and reactivate it); its sessions end at once."""
    from accunode_cli.storage import operators, tokens, users

    password, generated = _password(password_stdin)
    password_hash = _hash(password)

    def reset(session: Session) -> str:
        user = operators.require_user(session, email)
        user.is_active = True
        users.set_password_hash(session, user, password_hash)
        tokens.revoke_user_tokens(session, user_id=user.id)
        return user.email

    address = _run(reset)
    shown = {"password": password} if generated else {}
    _show(
        {"email": address, **shown},
        [f"new password set for {address}; its sessions ended"]
        + ([f"password (shown once): {password}"] if generated else []),
    )


@org_app.command("list", epilog="Example:\n\n  accunode admin org list --json")
@console.reports_errors
def list_organizations() -> None:
    """List every organization: name, personal or shared, members, owners."""
    from accunode_cli.storage import operators

    rows = [
        {
            "id": row.id,
            "name": row.name,
            "personal": row.personal,
            "members": row.members,
            "owners": row.owners,
            "created_at": row.created_at.isoformat(),
        }
        for row in _run(operators.list_organizations)
    ]
    if console.state.json_mode:
        console.print_json(rows)
        return
    table = [
        [r["id"], r["name"], r["personal"], r["members"], ", ".join(r["owners"])]  # type: ignore[arg-type]
        for r in rows
    ]
    console.print_table(None, ["id", "name", "personal", "members", "owners"], table)
