"""Helpers for the tabular tests: a small reference table and the library's own scores of it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from accunode_cli.scoring import load_model, ratio_names

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def read_text_table(path: Path) -> pa.Table:
    """Read a CSV with every column as text, the way a user's cells look."""
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    return pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=False
        ),
    )


@pytest.fixture(scope="session")
def annual_text() -> pa.Table:
    """The first 120 rows of sample_data/annual_companies.csv, every cell as text."""
    return read_text_table(SAMPLE / "annual_companies.csv").slice(0, 120)


@pytest.fixture(scope="session")
def annual_expected(annual_text: pa.Table) -> list[float | None]:
    """The library's probabilities for ``annual_text`` (the one scoring path)."""
    model = load_model("annual")
    batch = model.score_columns({r: annual_text.column(r) for r in ratio_names("annual")})
    return batch.to_arrow().column("probability").to_pylist()
