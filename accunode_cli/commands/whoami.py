"""`accunode whoami`: the server, user, organization, role and kind of credential in use."""

from __future__ import annotations

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, OrgOption, apply_json
from accunode_cli.commands.remote import open_session, show_record

__all__ = ["whoami"]


@console.reports_errors
def whoami(
    api_url: ApiUrlOption = None, org: OrgOption = None, json_output: JsonOption = False
) -> None:
    """Show who the remote commands act as (checked against the server)."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        me = api.whoami(session)
    fields = ["api_url", "email", "organization_name", "organization_id", "role", "credential"]
    show_record(me, fields)
