"""Helpers of the analytics tests: the sample files as text columns, as bulk-score reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv

from accunode_cli.scoring import PDModel

SAMPLE_DATA = Path(__file__).resolve().parent.parent.parent / "sample_data"
SAMPLES = {"annual": "annual_companies.csv", "quarterly": "quarterly_companies.csv"}


def read_sample(kind: str, name: str | None = None) -> Any:
    """Return a sample file as a pyarrow Table with every column as text."""
    path = SAMPLE_DATA / (name or SAMPLES[kind])
    names = pcsv.read_csv(path).column_names
    options = pcsv.ConvertOptions(column_types={column: pa.string() for column in names})
    return pcsv.read_csv(path, convert_options=options)


def ratio_columns(model: PDModel, table: Any) -> dict[str, Any]:
    """Return the table's ratio columns keyed by ratio name (headers matched like bulk-score)."""
    from accunode_cli.tabular import match_columns

    match = match_columns(table.column_names, model.kind, source="test table")
    return {ratio: table.column(column) for ratio, column in match.columns.items()}
