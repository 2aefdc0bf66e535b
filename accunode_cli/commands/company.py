"""`accunode company list|show|create|update|delete`: your organization's companies."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from accunode_cli import console
from accunode_cli.commands.options import ApiUrlOption, JsonOption, OrgOption, apply_json
from accunode_cli.commands.remote import confirm, open_session, show_record, show_records

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Companies of your organization on the server.")

Ref = Annotated[str, typer.Argument(help="Company symbol or id.")]
Sector = Annotated[str | None, typer.Option(help="Sector.", show_default=False)]
MarketCap = Annotated[float | None, typer.Option(help="Market capitalisation.", show_default=False)]
_COLUMNS = ["symbol", "name", "sector", "market_cap", "id"]


@app.command("list", epilog="Example:\n\n  accunode company list --search acme --limit 50")
@console.reports_errors
def list_companies(
    search: Annotated[str | None, typer.Option(help="Text in the symbol or name.")] = None,
    sector: Sector = None,
    limit: Annotated[int, typer.Option(help="At most this many (1-100).", min=1, max=100)] = 20,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """List companies."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        page = api.list_companies(session, search=search, sector=sector, size=limit)
    title = f"{len(page['items'])} of {page['total']} companies"
    show_records(page, page["items"], _COLUMNS, title)


@app.command("show", epilog="Example:\n\n  accunode company show ACME --json")
@console.reports_errors
def show(
    company: Ref,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show a company with its latest annual and quarterly predictions."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        found = api.show_company(session, company)
    if console.state.json_mode:
        console.print_json(found)
        return
    show_record(found, [*_COLUMNS, "created_at"])
    for kind in ("annual", "quarterly"):
        latest: dict[str, Any] | None = found.get(f"latest_{kind}_prediction")
        if latest:
            period = latest["reporting_year"], latest.get("reporting_quarter") or ""
            console.print_lines(
                [
                    f"Latest {kind}: {' '.join(str(p) for p in period).strip()}  "
                    f"PD {latest['probability']:.2%}  {latest['risk_level']}  "
                    f"{latest['implied_rating']}  ({latest['id']})"
                ]
            )


@app.command(
    "create",
    epilog="Example:\n\n  accunode company create --symbol ACME --name Acme --sector Industrials",
)
@console.reports_errors
def create(
    symbol: Annotated[str, typer.Option(help="Ticker, unique in the organization.")],
    name: Annotated[str, typer.Option(help="Company name.")],
    sector: Sector = None,
    market_cap: MarketCap = None,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create a company (analysts and above)."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        made = api.create_company(
            session, symbol=symbol, name=name, sector=sector, market_cap=market_cap
        )
    show_record(made, _COLUMNS)


@app.command("update", epilog="Example:\n\n  accunode company update ACME --market-cap 2500000000")
@console.reports_errors
def update(
    company: Ref,
    symbol: Annotated[str | None, typer.Option(help="New ticker.")] = None,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    sector: Sector = None,
    market_cap: MarketCap = None,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Change a company (analysts and above)."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        changed = api.update_company(
            session, company, symbol=symbol, name=name, sector=sector, market_cap=market_cap
        )
    show_record(changed, _COLUMNS)


@app.command("delete", epilog="Example:\n\n  accunode company delete ACME --yes")
@console.reports_errors
def delete(
    company: Ref,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete a company and all its predictions (analysts and above)."""
    from accunode_cli.client import api

    apply_json(json_output)
    confirm(f"Delete company {company} and all its predictions?", yes)
    with open_session(api_url, org) as session:
        gone = api.delete_company(session, company)
    if console.state.json_mode:
        console.print_json({"deleted": True, "id": gone["id"], "symbol": gone["symbol"]})
    else:
        console.print_lines([f"Deleted company {gone['symbol']} ({gone['id']})."])
