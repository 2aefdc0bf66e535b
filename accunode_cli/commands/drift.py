"""`accunode drift`: how far a population of companies has moved from the model's own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accunode_cli import console
from accunode_cli.commands.options import (
    InferredKindOption,
    JsonOption,
    ModelDirOption,
    apply_json,
)

__all__ = ["drift", "EPILOG"]

EPILOG = """Examples:

  accunode drift companies_2025.csv

  accunode drift companies_2025.parquet --reference scored_2024.csv --json

  accunode drift companies_2025.csv --report out/drift

PSI per ratio and for the score, on the model's own bins: stable < 0.10, watch 0.10-0.25,
shifted > 0.25. The reference defaults to the model's training data. Exit codes: 0 done,
1 failure at run time, 2 unusable input."""


@console.reports_errors
def drift(
    current: Annotated[str, typer.Argument(metavar="CURRENT", help="The table to check.")],
    reference: Annotated[
        str | None,
        typer.Option(
            help="A table with the ratio columns (an older scored file will do); "
            "default: the model's training data.",
            show_default=False,
        ),
    ] = None,
    kind: InferredKindOption = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write one PNG per ratio (reference vs current shares) here.", show_default=False
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Rows per streamed batch.", min=1, envvar="ACCUNODE_BATCH_SIZE")
    ] = 65_536,
    model_dir: ModelDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Measure population drift (PSI) of every ratio and of the score."""
    from accunode_cli.commands import render_analytics
    from accunode_cli.commands.analytics_files import drift_files

    apply_json(json_output)
    if report is not None:
        from accunode_cli.analytics.plots import prepare_report

        prepare_report(report)  # fail before reading a large file
    result = drift_files(
        current,
        reference=reference,
        kind=kind.value if kind else None,
        batch_size=batch_size,
        model_dir=str(model_dir) if model_dir else None,
    )
    pictures = None
    if report is not None:
        from accunode_cli.analytics.plots import write_drift_pngs

        pictures = write_drift_pngs(result, report)
    render_analytics.show_drift(result, current=current, pictures=pictures)
