"""`accunode prediction list|show|delete`: stored predictions on the server."""

from __future__ import annotations

from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import (
    ApiUrlOption,
    JsonOption,
    KindChoice,
    OrgOption,
    apply_json,
)
from accunode_cli.commands.remote import confirm, open_session, show_record, show_records

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help="Stored predictions of your organization.")

PredictionId = Annotated[str, typer.Argument(help="Prediction id.")]


@app.command(
    "list",
    epilog="Example:\n\n  accunode prediction list --kind quarterly --risk-level HIGH",
)
@console.reports_errors
def list_predictions(
    kind: Annotated[KindChoice, typer.Option(help="annual or quarterly.")] = KindChoice.annual,
    company: Annotated[str | None, typer.Option(help="Company symbol.")] = None,
    year: Annotated[int | None, typer.Option(help="Reporting year.")] = None,
    risk_level: Annotated[str | None, typer.Option(help="LOW, MEDIUM, HIGH or CRITICAL.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1-100).", min=1, max=100)] = 20,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """List predictions, newest first."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        page = api.list_predictions(
            session,
            kind=kind.value,
            symbol=company,
            reporting_year=year,
            risk_level=risk_level.upper() if risk_level else None,
            size=limit,
        )
    records = [
        {
            **item,
            "symbol": item["company_symbol"],
            "pd": f"{item['probability']:.2%}",
        }
        for item in page["items"]
    ]
    columns = ["symbol", "reporting_year"]
    if kind == KindChoice.quarterly:
        columns.append("reporting_quarter")
    columns += ["pd", "risk_level", "implied_rating", "id"]
    show_records(page, records, columns, f"{len(records)} of {page['total']} {kind.value}")


@app.command(
    "show",
    epilog="Example:\n\n  accunode prediction show 2f37a527-2367-4c0b-b384-fc7218219a45 --json",
)
@console.reports_errors
def show(
    prediction_id: PredictionId,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one prediction (annual or quarterly)."""
    from accunode_cli.client import api

    apply_json(json_output)
    with open_session(api_url, org) as session:
        kind, found = api.find_prediction(session, prediction_id)
    found = {"kind": kind, **found}
    if console.state.json_mode:
        console.print_json(found)
        return
    fields = [key for key in found if key not in ("contributions", "flags")]
    show_record(found, fields)


@app.command(
    "delete",
    epilog="Example:\n\n  accunode prediction delete 2f37a527-2367-4c0b-b384-fc7218219a45 --yes",
)
@console.reports_errors
def delete(
    prediction_id: PredictionId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete a prediction (analysts and above)."""
    from accunode_cli.client import api

    apply_json(json_output)
    confirm(f"Delete prediction {prediction_id}?", yes)
    with open_session(api_url, org) as session:
        kind = api.delete_prediction(session, prediction_id)
    if console.state.json_mode:
        console.print_json({"deleted": True, "id": prediction_id, "kind": kind})
    else:
        console.print_lines([f"Deleted {kind} prediction {prediction_id}."])
