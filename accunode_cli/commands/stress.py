"""`accunode stress`: shock every company's ratios by a scenario and rescore."""

from __future__ import annotations

from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import (
    InferredKindOption,
    JsonOption,
    ModelDirOption,
    apply_json,
)

__all__ = ["stress", "EPILOG"]

EPILOG = """Examples:

  accunode stress sample_data/annual_companies.csv --scenario recession

  accunode stress book.parquet --scenario severe -o stressed.parquet --json

  accunode stress book.csv --scenario my_scenario.toml -o stressed.csv

Shipped scenarios: mild, recession, severe (see docs/models.md). A custom scenario is a TOML
file with a \\[shocks] table: points added for percentage ratios (net_income_margin = -3),
a factor for multiples (total_debt_to_ebitda = 1.25), optionally \\[sectors.energy] overrides.
Exit codes: 0 done, 1 failure at run time, 2 unusable input or scenario."""


@console.reports_errors
def stress(
    input_path: Annotated[str, typer.Argument(metavar="FILE", help="The table to stress.")],
    scenario: Annotated[
        str,
        typer.Option(help="mild, recession, severe, or a scenario .toml file.", show_default=False),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Write each row's baseline and stressed results here "
            "(.csv, .csv.gz, .parquet, .jsonl, or '-').",
            show_default=False,
        ),
    ] = None,
    kind: InferredKindOption = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Output format: csv, parquet or jsonl (default: from OUTPUT).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Rows per streamed batch.", min=1, envvar="ACCUNODE_BATCH_SIZE")
    ] = 65_536,
    model_dir: ModelDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Apply a stress scenario and compare PDs, ratings and expected defaults."""
    from accunode_cli.analytics import load_scenario
    from accunode_cli.commands import render_analytics
    from accunode_cli.commands.analytics_files import stress_file
    from accunode_cli.errors import UsageError

    apply_json(json_output)
    if console.state.json_mode and output == "-":
        raise UsageError("--json prints the summary on stdout; write the rows with -o FILE")
    summary = stress_file(
        input_path,
        load_scenario(scenario),
        output=output,
        output_format=output_format,
        kind=kind.value if kind else None,
        batch_size=batch_size,
        model_dir=str(model_dir) if model_dir else None,
    )
    render_analytics.show_stress(summary, output=output)
