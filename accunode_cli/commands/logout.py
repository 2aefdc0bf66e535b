"""`accunode logout`: end the session on the server and forget the saved login."""

from __future__ import annotations

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, apply_json
from accunode_cli.commands.remote import open_session

__all__ = ["logout"]


@console.reports_errors
def logout(api_url: ApiUrlOption = None, json_output: JsonOption = False) -> None:
    """Log out of a server: its session is revoked there and the saved login deleted here."""
    from accunode_cli.client import api
    from accunode_cli.errors import UsageError

    apply_json(json_output)
    with open_session(api_url) as session:
        if session.env_token:
            raise UsageError("ACCUNODE_TOKEN is set: nothing is saved; unset it instead")
        done = api.logout(session)
    if console.state.json_mode:
        console.print_json({"api_url": session.api_url, "logged_out": done})
    elif done:
        console.print_lines([f"Logged out of {session.api_url}."])
    else:
        console.print_lines([f"Not logged in to {session.api_url}; nothing to do."])
