"""`accunode bulk-score`: stream a table of companies through the model into a scored table."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from accunode_cli import console
from accunode_cli.commands.options import (
    ApiUrlOption,
    HorizonOption,
    InferredKindOption,
    JsonOption,
    ModelDirOption,
    OrgOption,
    apply_json,
)

__all__ = ["bulk_score", "EPILOG"]


class OnConflict(StrEnum):
    """What a remote job does with a company-period that is already stored."""

    SKIP = "skip"
    REPLACE = "replace"


EPILOG = """Examples:

  accunode bulk-score sample_data/annual_companies.csv -o out/annual_scored.csv

  accunode bulk-score companies.parquet -o scored.parquet --explain --json

  cat companies.csv | accunode bulk-score - --kind quarterly > scored.csv

  accunode bulk-score screen.xlsx --sheet Annual --header-row 4 -o scored.csv

  accunode bulk-score export.csv --map "Net Inc Mgn=net_income_margin" -o scored.csv

  accunode bulk-score fractions.csv --percent-as-fraction -o scored.csv

  accunode bulk-score s3://bucket/in.parquet -o s3://bucket/scored.parquet
  accunode bulk-score companies.csv --remote -o scored.csv   (stored on the server)

Inputs: CSV/TSV (any of , ; tab |; UTF-8 with or without BOM, UTF-16; .gz), Parquet, Excel
.xlsx and .xls, JSON lines; '-' reads CSV from stdin; s3:// URLs with the standard AWS
credentials and AWS_ENDPOINT_URL. A row needs at least one ratio value. Exit codes: 0 done
(some rows may be rejected, see the error column and the errors file), 1 no row could be scored
or S3 denied access, 2 unusable input (a missing file, bucket or key)."""


@console.reports_errors
def bulk_score(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="The table to score: a file, s3://bucket/key, or '-' for CSV on stdin.",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", help="Where to write: .csv, .csv.gz, .parquet, .jsonl, or '-'."
        ),
    ] = "-",
    kind: InferredKindOption = None,
    errors: Annotated[
        str | None,
        typer.Option(
            help="CSV listing rejected rows (default: OUTPUT with .errors.csv).",
            show_default=False,
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Add one contribution_<ratio> column per ratio (log-odds).")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(help="Rows per streamed batch.", min=1, envvar="ACCUNODE_BATCH_SIZE")
    ] = 65_536,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Output format: csv, parquet or jsonl (default: from OUTPUT).",
            show_default=False,
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="Excel sheet to read (default: the first).")
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            help="Excel: the header's row number (default: the first row naming ratios).",
            min=1,
            show_default=False,
        ),
    ] = None,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="HEADER=RATIO",
            help="Read column HEADER as the ratio RATIO (repeatable).",
            show_default=False,
        ),
    ] = None,
    map_file: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help='TOML file of "Header" = "ratio_name" lines, at the top or under \\[columns].',
            show_default=False,
        ),
    ] = None,
    percent_as_fraction: Annotated[
        bool,
        typer.Option(
            "--percent-as-fraction",
            help="Percentage ratios are fractions (0.35 for 35 %): multiply them by 100.",
        ),
    ] = False,
    percent_as_points: Annotated[
        bool,
        typer.Option(
            "--percent-as-points",
            help="Percentage ratios are points (35 for 35 %): skip the fraction check.",
        ),
    ] = False,
    model_dir: ModelDirOption = None,
    horizon: HorizonOption = None,
    remote: Annotated[
        bool,
        typer.Option(
            "--remote", help="Upload to the server as a job, store the predictions there."
        ),
    ] = False,
    on_conflict: Annotated[
        OnConflict, typer.Option(help="With --remote: a company-period already stored.")
    ] = OnConflict.SKIP,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="With --remote: print the job id and return.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="With --remote: longest wait for the job, seconds.", min=1)
    ] = 3600,
    reporting_year: Annotated[
        int | None,
        typer.Option(help="With --remote: the year of every row, when there is no such column."),
    ] = None,
    reporting_quarter: Annotated[
        str | None,
        typer.Option(help="With --remote: the quarter of every row (Q1-Q4), likewise."),
    ] = None,
    api_url: ApiUrlOption = None,
    org: OrgOption = None,
    json_output: JsonOption = False,
) -> None:
    """Score every row of a table of companies and write it back with PDs."""
    from accunode_cli.commands import render_bulk
    from accunode_cli.errors import AccuNodeError, UsageError
    from accunode_cli.tabular import BulkRequest, score_file

    apply_json(json_output)
    if remote:
        from accunode_cli.commands.bulk_remote import score_remote
        from accunode_cli.tabular.column_map import read_column_map

        local_only = {
            "--errors": errors is not None,
            "--explain": explain,
            "--format": output_format is not None,
            "--model-dir": model_dir is not None,
            "--horizon": horizon is not None,
        }
        given = [flag for flag, used in local_only.items() if used]
        if percent_as_fraction and percent_as_points:
            raise UsageError("pass one of --percent-as-fraction and --percent-as-points")
        if given:  # the server's job reads the file as uploaded: say so, never ignore them
            raise UsageError(
                f"{', '.join(given)} only apply when scoring locally; a --remote job reads "
                "the file as uploaded (its results and /errors have every column): drop "
                "them, or score without --remote"
            )

        if output == "-" and not no_wait:
            raise UsageError("--remote downloads the results to a file: give -o OUT.csv")
        score_remote(
            input_path,
            output,
            kind=kind.value if kind else None,
            on_conflict=on_conflict.value,
            sheet=sheet,
            period=(reporting_year, reporting_quarter),
            wait=not no_wait,
            timeout=timeout,
            api_url=api_url,
            org=org,
            percent="fraction" if percent_as_fraction else "points" if percent_as_points else None,
            header_row=header_row,
            column_map=read_column_map(tuple(column_map or ()), map_file),
        )
        return
    if console.state.json_mode and output == "-":
        raise UsageError("--json prints the summary on stdout; write the scores with -o FILE")
    if percent_as_fraction and percent_as_points:
        raise UsageError("pass one of --percent-as-fraction and --percent-as-points")
    percent = "fraction" if percent_as_fraction else "points" if percent_as_points else None
    request = BulkRequest(
        input=input_path,
        output=output,
        kind=kind.value if kind else None,
        errors=errors,
        explain=explain,
        batch_size=batch_size,
        format=output_format,
        sheet=sheet,
        model_dir=str(model_dir) if model_dir else None,
        header_row=header_row,
        column_map=tuple(column_map or ()),
        map_file=map_file,
        percent=percent,
        extra_columns=_horizon_columns(horizon),
    )
    with console.progress(label="scoring") as bar:
        result = score_file(
            request, on_rows=bar.advance, on_total=bar.set_total, on_warning=console.warn
        )
    render_bulk.show(result)
    if result.summary["scored"] == 0:
        raise AccuNodeError(
            f"no row could be scored ({result.summary['rejected']} rejected); "
            f"see {result.errors_file or 'the error column'}"
        )


def _horizon_columns(horizon: int | None) -> Any:
    """Return the cumulative_pd_<t>y columns maker for --horizon (None without it)."""
    if horizon is None:
        return None
    from accunode_cli.analytics import horizon_arrays

    return lambda scored: horizon_arrays(scored, horizon)
