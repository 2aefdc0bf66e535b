"""Identity columns of job rows: each distinct cell read once, each row's first reason kept."""

from __future__ import annotations

import pyarrow as pa

from accunode_cli.jobs.identity import read_identities


def _batch(**columns: list[object]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(columns)


def test_each_row_gets_its_values_and_its_first_reason() -> None:
    batch = _batch(
        Ticker=[" acme ", None, "X" * 40, "acme", "beta", "beta"],
        Name=["Acme", "Lost", "N" * 201, "Acme", "Beta", "Beta"],
        year=["2024", "2024", "2024", "1899", "2023", "2023"],
        market_cap=["1,000", "x", None, "5", "x", None],
    )
    ident = read_identities(batch, kind="annual", reporting_year=None, reporting_quarter=None)
    assert ident.symbols == ["ACME", None, "X" * 40, "ACME", "BETA", "BETA"]
    assert ident.years == [2024, 2024, 2024, None, 2023, 2023]
    assert ident.market_caps == [1000.0, None, None, 5.0, None, None]
    assert ident.problems == [
        None,
        ("company_symbol", "company_symbol is missing", None),  # not the market cap's
        ("company_symbol", "company_symbol is longer than 32 characters", "X" * 40),
        (
            "reporting_year",
            "reporting_year is missing or not a year between 1900 and 2200",
            "1899",
        ),
        ("market_cap", "market_cap is not a number", "x"),
        None,
    ]


def test_defaults_fill_absent_columns_and_dictionary_columns_read_alike() -> None:
    symbols = pa.array(["a", None, "b", "a"]).dictionary_encode()
    batch = pa.RecordBatch.from_arrays([symbols], names=["company_symbol"])
    ident = read_identities(batch, kind="quarterly", reporting_year=2022, reporting_quarter="q3")
    assert ident.symbols == ["A", None, "B", "A"]
    assert ident.years == [2022] * 4
    assert ident.quarters == ["Q3"] * 4
    assert [p and p[0] for p in ident.problems] == [None, "company_symbol", None, None]
    no_quarter = read_identities(
        batch, kind="quarterly", reporting_year=2022, reporting_quarter=None
    )
    assert [p and p[0] for p in no_quarter.problems] == [
        "reporting_quarter",
        "company_symbol",
        "reporting_quarter",
        "reporting_quarter",
    ]
