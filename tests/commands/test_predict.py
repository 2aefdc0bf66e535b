"""`accunode predict`: human and JSON output, missing ratios, bad values, and agreement."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from accunode_cli.main import app
from accunode_cli.scoring import load_model

ANNUAL = [
    "--long-term-debt-to-total-capital", "35", "--total-debt-to-ebitda", "2.1",
    "--net-income-margin", "8.5", "--ebit-to-interest-expense", "9.2",
    "--return-on-assets", "6.1",
]  # fmt: skip


def test_predict_annual_json_matches_the_library(runner: CliRunner) -> None:
    """--json has every documented field, and the library gives the same numbers."""
    result = runner.invoke(app, ["predict", "annual", *ANNUAL, "--json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    for key in ("probability", "risk_level", "implied_rating", "model_version", "contributions"):
        assert key in document
    assert document["flags"] == {}
    expected = load_model("annual").score_one(
        {
            "long_term_debt_to_total_capital": 35.0,
            "total_debt_to_ebitda": 2.1,
            "net_income_margin": 8.5,
            "ebit_to_interest_expense": 9.2,
            "return_on_assets": 6.1,
        }
    )
    assert document["probability"] == expected.probability
    assert document["contributions"] == expected.contributions


def test_predict_human_output_shows_the_table(runner: CliRunner) -> None:
    """Humans get PD, risk level, rating and one row per ratio with its effect."""
    result = runner.invoke(
        app, ["predict", "annual", *ANNUAL, "--company-symbol", "ACME", "--reporting-year", "2024"]
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Probability of default" in out and "Risk level" in out and "Implied rating" in out
    assert "ACME 2024" in out
    for label in ("Long-term debt / total capital", "Net income margin", "Return on assets"):
        assert label in out


def test_omitted_ratio_is_missing_and_says_so(runner: CliRunner) -> None:
    """A ratio left out is scored as missing, flagged, and named in a warning."""
    result = runner.invoke(app, ["predict", "annual", *ANNUAL[:8]])
    assert result.exit_code == 0
    assert "missing" in result.stdout
    assert "return_on_assets" in result.stderr
    document = json.loads(runner.invoke(app, ["predict", "annual", *ANNUAL[:8], "--json"]).stdout)
    assert document["flags"] == {"return_on_assets": "missing"}


def test_quarterly_accepts_tokens_and_negative_numbers(runner: CliRunner) -> None:
    """Cells like '12.5%', NM and negative numbers work as option values."""
    result = runner.invoke(
        app,
        [
            "predict", "quarterly", "--total-debt-to-ebitda", "NM", "--sga-margin", "12.5%",
            "--long-term-debt-to-total-capital", "40", "--return-on-capital", "-3.5", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["flags"] == {"total_debt_to_ebitda": "not_meaningful"}
    expected = load_model("quarterly").score_one(
        {
            "total_debt_to_ebitda": "NM",
            "sga_margin": 12.5,
            "long_term_debt_to_total_capital": 40.0,
            "return_on_capital": -3.5,
        }
    )
    assert document["probability"] == expected.probability


def test_bad_value_is_exit_2_with_an_envelope(runner: CliRunner) -> None:
    """Text that is no number is invalid input: exit 2, the error envelope in JSON mode."""
    result = runner.invoke(app, ["predict", "annual", "--net-income-margin", "abc", "--json"])
    assert result.exit_code == 2
    envelope = json.loads(result.stdout)
    assert envelope["error"]["code"] == "invalid_input"
    assert "abc" in envelope["error"]["message"]
    human = runner.invoke(app, ["predict", "annual", "--net-income-margin", "abc"])
    assert human.exit_code == 2
    assert human.stdout == ""
    assert human.stderr.strip().startswith("Error:")
    assert len(human.stderr.strip().splitlines()) == 1


def test_bad_quarter_is_bad_usage(runner: CliRunner) -> None:
    """--reporting-quarter takes 1-4 or Q1-Q4."""
    result = runner.invoke(app, ["predict", "annual", "--reporting-quarter", "Q5"])
    assert result.exit_code == 2


def test_version_and_help(runner: CliRunner) -> None:
    """--version prints the version; every command's help has an example."""
    assert runner.invoke(app, ["--version"]).stdout.startswith("accunode ")
    for command in (["predict", "annual"], ["predict", "quarterly"], ["bulk-score"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.stdout
