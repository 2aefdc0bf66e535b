"""`accunode drift`, `accunode stress` and `--horizon` through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accunode_cli.main import app


def _json(result: object) -> dict:
    return json.loads(result.stdout)  # type: ignore[attr-defined]


def test_drift_table_for_humans(runner: CliRunner, sample_data: Path) -> None:
    """The default reference is the training data; every ratio gets a PSI and a status."""
    result = runner.invoke(app, ["drift", str(sample_data / "annual_companies.csv")])
    assert result.exit_code == 0, result.stderr
    for word in ("training", "PSI", "Status", "score", "Mean PD"):
        assert word in result.stdout


def test_drift_of_a_scored_file_against_its_source_is_zero(
    runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """An older scored file serves as reference (its output columns are ignored)."""
    scored = tmp_path / "scored.parquet"
    source = sample_data / "quarterly_companies.csv"
    assert runner.invoke(app, ["bulk-score", str(source), "-o", str(scored)]).exit_code == 0
    result = runner.invoke(app, ["drift", str(source), "--reference", str(scored), "--json"])
    assert result.exit_code == 0, result.stdout
    data = _json(result)
    assert data["kind"] == "quarterly" and data["reference"] == str(scored)
    assert [r["psi"] for r in data["ratios"]] == [0.0] * 4 and data["score"]["psi"] == 0.0


def test_drift_report_writes_a_png_per_ratio(
    runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """--report DIR: one PNG per ratio and one for the score."""
    folder = tmp_path / "report"
    result = runner.invoke(
        app, ["drift", str(sample_data / "annual_companies.csv"), "--report", str(folder), "--json"]
    )
    assert result.exit_code == 0, result.stdout
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        ["long_term_debt_to_total_capital.png", "total_debt_to_ebitda.png",
         "net_income_margin.png", "ebit_to_interest_expense.png", "return_on_assets.png",
         "score.png"]
    )  # fmt: skip
    assert all((folder / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    assert len(_json(result)["report_files"]) == 6


def test_drift_report_without_matplotlib_is_one_clear_line(
    sample_data: Path, tmp_path: Path
) -> None:
    """With matplotlib absent, --report fails at once with one line saying how to install it."""
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "from accunode_cli.main import app\n"
        f"sys.argv = ['accunode', 'drift', {str(sample_data / 'annual_companies.csv')!r}, "
        f"'--report', {str(tmp_path / 'r')!r}]\n"
        "app()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs matplotlib" in lines[0] and "pip install" in lines[0]
    assert "Traceback" not in done.stderr and not (tmp_path / "r").exists()


def test_drift_of_a_file_without_ratio_columns_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    """Unusable input: one line, exit 2."""
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["drift", str(path)])
    assert result.exit_code == 2
    assert "none of the ratio columns" in result.stderr


def test_stress_summary_and_rows(runner: CliRunner, sample_data: Path, tmp_path: Path) -> None:
    """--json summary (mean PD, expected defaults, migration) and -o rows agree."""
    out = tmp_path / "stressed.parquet"
    result = runner.invoke(
        app,
        ["stress", str(sample_data / "annual_companies.csv"), "--scenario", "recession",
         "-o", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    data = _json(result)
    rows = pq.read_table(out)
    assert rows.num_rows == data["rows"] == 300
    for column in ("company_symbol", "baseline_probability", "stressed_implied_rating"):
        assert column in rows.column_names
    before = rows.column("baseline_probability").to_pylist()
    after = rows.column("stressed_probability").to_pylist()
    assert sum(after) == pytest.approx(data["expected_defaults"]["stressed"])
    assert sum(before) == pytest.approx(data["expected_defaults"]["baseline"])
    assert data["mean_probability"]["stressed"] > data["mean_probability"]["baseline"]
    assert sum(map(sum, data["migration"]["counts"])) == 300
    assert data["scenario"]["name"] == "recession"


def test_stress_for_humans_and_a_custom_scenario(
    runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """A TOML scenario file; the human report shows the portfolio and the migration matrix."""
    scenario = tmp_path / "oil.toml"
    scenario.write_text(
        'description = "oil shock"\n[shocks]\nsga_margin = -2\n'
        "[sectors.energy]\nreturn_on_capital = { points = -10 }\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["stress", str(sample_data / "quarterly_companies.csv"), "--scenario", str(scenario)]
    )
    assert result.exit_code == 0, result.stderr
    for word in ("Scenario oil", "Mean PD", "Expected defaults", "Rating migration", "CCC"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("scenario", "message"),
    [("doom", "unknown scenario 'doom'"), ("missing.toml", "no such scenario file")],
)
def test_stress_bad_scenario_exits_2(
    runner: CliRunner, sample_data: Path, scenario: str, message: str
) -> None:
    """An unknown scenario name or missing file: one line, exit 2, nothing written."""
    result = runner.invoke(
        app, ["stress", str(sample_data / "annual_companies.csv"), "--scenario", scenario, "--json"]
    )
    assert result.exit_code == 2
    assert message in _json(result)["error"]["message"]


def test_stress_invalid_toml_exits_2(runner: CliRunner, sample_data: Path, tmp_path: Path) -> None:
    """A scenario with a unit mistake names the ratio and the fix."""
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[shocks]\ntotal_debt_to_ebitda = { points = 1 }\n", encoding="utf-8")
    result = runner.invoke(
        app, ["stress", str(sample_data / "annual_companies.csv"), "--scenario", str(scenario)]
    )
    assert result.exit_code == 2
    assert "give { factor = ... }" in result.stderr


def test_bulk_score_horizon_adds_cumulative_columns(
    runner: CliRunner, sample_data: Path, tmp_path: Path
) -> None:
    """--horizon 5 adds cumulative_pd_1y..5y; year 1 is the probability; never decreasing."""
    out = tmp_path / "scored.csv"
    result = runner.invoke(
        app, ["bulk-score", str(sample_data / "messy_annual.csv"), "--horizon", "5", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    table = pcsv.read_csv(out)
    names = [f"cumulative_pd_{t}y" for t in range(1, 6)]
    assert table.column_names[-5:] == names
    for row in table.to_pylist():
        values = [row[name] for name in names]
        if row["probability"] is None:  # a rejected row has no term structure either
            assert values == [None] * 5
            continue
        assert values[0] == row["probability"]
        assert values == sorted(values)


def test_predict_horizon(runner: CliRunner) -> None:
    """predict --horizon 3 adds cumulative_pd with 1y equal to the probability."""
    result = runner.invoke(
        app, ["predict", "annual", "--net-income-margin", "2", "--horizon", "3", "--json"]
    )
    assert result.exit_code == 0, result.stdout
    data = _json(result)
    assert list(data["cumulative_pd"]) == ["1y", "2y", "3y"]
    assert data["cumulative_pd"]["1y"] == data["probability"]
    human = runner.invoke(app, ["predict", "quarterly", "--sga-margin", "20", "--horizon", "5"])
    assert human.exit_code == 0 and "Cumulative PD: 1y" in human.stdout and "5y" in human.stdout
    bad = runner.invoke(app, ["predict", "annual", "--horizon", "6"])
    assert bad.exit_code == 2


def test_cli_drift_agrees_with_the_job_route_function(runner: CliRunner, sample_data: Path) -> None:
    """The function a job's drift route calls on result rows gives the CLI's numbers."""
    from accunode_cli.analytics import drift_of_rows
    from accunode_cli.scoring import load_model

    path = sample_data / "annual_companies.csv"
    result = runner.invoke(app, ["drift", str(path), "--json"])
    assert result.exit_code == 0, result.stdout
    cli = _json(result)
    rows = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    job = drift_of_rows(load_model("annual"), rows.to_pylist()).to_dict()
    assert [r["psi"] for r in cli["ratios"]] == pytest.approx([r["psi"] for r in job["ratios"]])
    assert cli["score"]["psi"] == pytest.approx(job["score"]["psi"])
    assert cli["mean_probability"] == pytest.approx(job["mean_probability"])
