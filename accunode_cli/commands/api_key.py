"""`accunode api-key create|list|revoke`: API keys of your organization, for scripts and CI."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, OrgOption, apply_json
from accunode_cli.commands.remote import open_session, show_records

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="API keys for scripts and CI (acn_...).")


class KeyRole(StrEnum):
    """The roles a key may have."""

    viewer = "viewer"
    analyst = "analyst"
    admin = "admin"


@app.command(
    "create",
    epilog='Example:\n\n  accunode api-key create --name "nightly CI" --expires-in 30',
)
@console.reports_errors
def create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'nightly CI'.")],
    role: Annotated[
        KeyRole | None, typer.Option(help="Default: your own role (admin at most).")
    ] = None,
    expires_in: Annotated[
        int, typer.Option("--expires-in", help="Days until it expires (0: never).", min=0)
    ] = 90,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make an API key; it is printed this once (store it as a secret)."""
    from accunode_cli.client import api

    apply_json(json_output)
    body = {
        "name": name,
        "role": role.value if role else None,
        "expires_in_days": expires_in or None,
    }
    with open_session(api_url, org) as session:
        made = api.create_api_key(session, **body)
    if console.state.json_mode:
        console.print_json(made)
        return
    expiry = made["expires_at"] or "never"
    console.print_lines(
        [made["key"]],
    )
    console.print_lines(
        [
            f"API key {made['name']!r} ({made['role']}, expires {expiry}, id {made['id']}).",
            "This is the only time the key is shown: store it as a secret "
            "(for example ACCUNODE_TOKEN in your CI).",
        ],
        stderr=True,
    )


@app.command("list", epilog="Example:\n\n  accunode api-key list --include-revoked")
@console.reports_errors
def list_keys(
    include_revoked: Annotated[bool, typer.Option(help="Also list revoked keys.")] = False,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the keys you may see (admins: every key of the organization)."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        keys = api.list_api_keys(session, include_revoked=include_revoked)
    columns = ["name", "prefix", "role", "created_at", "expires_at", "last_used_at", "id"]
    if include_revoked:
        columns.insert(-1, "revoked_at")
    show_records(keys, keys, columns, None)


@app.command(
    "revoke", epilog="Example:\n\n  accunode api-key revoke b760dbdf-91ca-46fa-a8e4-0f3f23fe1667"
)
@console.reports_errors
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see api-key list).")],
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Revoke a key; it stops working at once."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        api.revoke_api_key(session, key_id)
    if console.state.json_mode:
        console.print_json({"revoked": True, "id": key_id})
    else:
        console.print_lines([f"Revoked API key {key_id}."])
