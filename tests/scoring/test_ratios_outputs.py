"""Ratio specs, column-name folding, risk levels and implied ratings."""

from __future__ import annotations

import pytest

from accunode_cli.errors import InputError
from accunode_cli.scoring import (
    RATINGS,
    fold_column_name,
    implied_rating_for,
    normalise_quarter,
    ratio_names,
    ratio_specs,
    risk_level_for,
)


def test_kinds_have_the_designed_ratios_and_directions() -> None:
    assert ratio_names("annual") == (
        "long_term_debt_to_total_capital", "total_debt_to_ebitda", "net_income_margin",
        "ebit_to_interest_expense", "return_on_assets",
    )  # fmt: skip
    assert ratio_names("quarterly") == (
        "total_debt_to_ebitda", "sga_margin", "long_term_debt_to_total_capital",
        "return_on_capital",
    )  # fmt: skip
    directions = {
        spec.name: spec.direction for spec in ratio_specs("annual") + ratio_specs("quarterly")
    }
    assert directions == {
        "long_term_debt_to_total_capital": 1, "total_debt_to_ebitda": 1, "net_income_margin": -1,
        "ebit_to_interest_expense": -1, "return_on_assets": -1, "sga_margin": -1,
        "return_on_capital": -1,
    }  # fmt: skip
    with pytest.raises(ValueError, match="unknown model kind"):
        ratio_specs("monthly")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Long-Term Debt / Total Capital", "long_term_debt_to_total_capital"),
        ("LONG_TERM_DEBT_TO_TOTAL_CAPITAL", "long_term_debt_to_total_capital"),
        ("Total Debt/EBITDA", "total_debt_to_ebitda"),
        ("EBIT / Interest Expense", "ebit_to_interest_expense"),
        ("SG&A Margin", "sga_margin"),
        (" Net Income Margin (%) ", "net_income_margin"),
        ("Return-on-Assets", "return_on_assets"),
    ],
)
def test_headers_fold_to_the_ratio_key(header: str, name: str) -> None:
    assert fold_column_name(header) == fold_column_name(name)


@pytest.mark.parametrize(
    ("probability", "level"),
    [(0.0, "LOW"), (0.0199, "LOW"), (0.02, "MEDIUM"), (0.0499, "MEDIUM"), (0.05, "HIGH"),
     (0.1499, "HIGH"), (0.15, "CRITICAL"), (1.0, "CRITICAL")],
)  # fmt: skip
def test_risk_levels_follow_the_published_bands(probability: float, level: str) -> None:
    assert risk_level_for(probability) == level


def test_implied_ratings_follow_long_run_default_rates() -> None:
    # the S&P one-year rate of each grade maps back to that grade
    assert [
        implied_rating_for(p) for p in (0.0, 0.0002, 0.0005, 0.0014, 0.0056, 0.0293, 0.2612)
    ] == list(RATINGS)


@pytest.mark.parametrize(
    ("value", "quarter"), [(1, "Q1"), ("2", "Q2"), ("q3", "Q3"), (" Q4 ", "Q4")]
)
def test_quarters_normalise_to_one_spelling(value: str | int, quarter: str) -> None:
    assert normalise_quarter(value) == quarter


@pytest.mark.parametrize("value", [0, 5, "Q5", "first", "", True])
def test_other_quarters_are_refused(value: object) -> None:
    with pytest.raises(InputError, match="reporting_quarter"):
        normalise_quarter(value)  # type: ignore[arg-type]
