"""`accunode predict` with no ratio at all is bad input (exit 2), not a 2.32 % company."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from accunode_cli.main import app


def test_predict_without_any_ratio_exits_2(runner: CliRunner) -> None:
    for kind in ("annual", "quarterly"):
        result = runner.invoke(app, ["predict", kind, "--company-symbol", "X"])
        assert result.exit_code == 2, result.stdout
        assert "no ratio values" in result.stderr and "Traceback" not in result.stderr
        assert "%" not in result.stdout
    as_json = runner.invoke(app, ["predict", "annual", "--json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["error"]["code"] == "invalid_input"


def test_one_ratio_is_enough(runner: CliRunner) -> None:
    result = runner.invoke(app, ["predict", "annual", "--net-income-margin", "8.5", "--json"])
    assert result.exit_code == 0, result.stderr
    assert 0 < json.loads(result.stdout)["probability"] < 1
