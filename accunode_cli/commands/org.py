"""`accunode org list|switch`: your organizations and the default one of the saved login."""

from __future__ import annotations

from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, apply_json
from accunode_cli.commands.remote import open_session, show_records

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Your organizations on the server.")


@app.command("list", epilog="Example:\n\n  accunode org list --json")
@console.reports_errors
def list_organizations(api_url: ApiUrlOption = None, json_output: JsonOption = False) -> None:
    """List your organizations with your role in each (* marks the default)."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url) as session:
        orgs = api.list_organizations(session)
        current = session.organization_id()
    for org in orgs:
        org["default"] = str(org["id"]) == current if current else bool(org.get("personal"))
    records = [{**org, "": "*" if org["default"] else ""} for org in orgs]
    show_records(orgs, records, ["", "name", "role", "id"], None)


@app.command("switch", epilog='Example:\n\n  accunode org switch "Credit Team"')
@console.reports_errors
def switch(
    organization: Annotated[str, typer.Argument(help="Organization id or name.")],
    api_url: ApiUrlOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make an organization the default of the saved login."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url) as session:
        org = api.switch_organization(session, organization)
    if console.state.json_mode:
        console.print_json(org)
    else:
        console.print_lines([f"Default organization: {org['name']} ({org['id']}), {org['role']}."])
