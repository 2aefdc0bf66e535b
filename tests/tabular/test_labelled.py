"""`model train`/`evaluate`/`recalibrate` read labelled tables the way users have them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from accunode_cli.errors import ColumnError
from accunode_cli.main import app
from accunode_cli.scoring.generator import generate
from accunode_cli.tabular.labelled import read_labelled_table

RATIOS = ["long_term_debt_to_total_capital", "total_debt_to_ebitda", "net_income_margin",
          "ebit_to_interest_expense", "return_on_assets"]  # fmt: skip
runner = CliRunner()


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _export(path: Path, *, firms: int, outcome: str, words: tuple[str, str]) -> Path:
    """A user's export: symbol, Reporting Year, ratios and an outcome written as words."""
    data = generate("annual", firms=firms, seed=5).columns
    rows = []
    for i in range(data["default"].size):
        ratios = ["" if np.isnan(data[n][i]) else f"{data[n][i]:.4f}" for n in RATIOS]
        rows.append([f"F{data['firm_id'][i]}", int(data["year"][i]), *ratios,
                     words[int(data["default"][i])]])  # fmt: skip
    return _write(path, ["Company Symbol", "Reporting Year", *RATIOS, outcome], rows)


@pytest.mark.parametrize(
    ("outcome", "words"),
    [("Defaulted", ("N", "Y")), ("bankrupt", ("false", "TRUE")), ("default", (" no", "yes "))],
)
def test_outcome_names_and_words_are_read(tmp_path: Path, outcome: str, words: tuple) -> None:  # type: ignore[type-arg]
    rows = [[10, 1, 5, 8, 6, 2019, words[1]], [20, 2, 4, 6, 5, 2020, words[0]]]
    path = _write(tmp_path / "x.csv", [*RATIOS, "fiscal_year", outcome], rows)
    table = read_labelled_table(str(path), "annual")
    assert table.column("default").to_pylist() == [1, 0]
    assert table.column("year").to_pylist() == [2019, 2020]


def test_target_names_any_column_and_bad_values_name_the_row(tmp_path: Path) -> None:
    rows = [[10, 1, 5, 8, 6, "1"], [20, 2, 4, 6, 5, "maybe"], [20, 2, 4, 6, 5, ""]]
    path = _write(tmp_path / "x.csv", [*RATIOS, "Failed Within 12M"], rows)
    with pytest.raises(ColumnError, match="no 'default' column.*--target"):
        read_labelled_table(str(path), "annual")
    with pytest.raises(ColumnError, match="'maybe' in data row 2 \\(2 such rows\\)"):
        read_labelled_table(str(path), "annual", target="failed within 12m")
    with pytest.raises(ColumnError, match="no column 'outcome'"):
        read_labelled_table(str(path), "annual", target="outcome")
    years = _write(tmp_path / "y.csv", [*RATIOS, "year", "default"],
                   [[10, 1, 5, 8, 6, "2019", 0], [10, 1, 5, 8, 6, "FY20", 1]])  # fmt: skip
    with pytest.raises(ColumnError, match="year column 'year' holds 'FY20' in data row 2"):
        read_labelled_table(str(years), "annual")


def test_train_splits_out_of_time_on_reporting_year_with_y_n_outcomes(tmp_path: Path) -> None:
    path = _export(tmp_path / "book.csv", firms=600, outcome="Defaulted", words=("N", "Y"))
    result = runner.invoke(app, ["model", "train", "--kind", "annual", "--data", str(path),
                                 "--out", str(tmp_path / "m"), "--seed", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "train 1990-" in result.stdout and "split in halves by firm" in result.stdout
    assert "no 'year' column" not in result.stdout


def test_unreadable_outcomes_exit_2_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", [*RATIOS, "default"], [[10, 1, 5, 8, 6, "perhaps"]])
    result = runner.invoke(app, ["model", "train", "--kind", "annual", "--data", str(path),
                                 "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 2
    assert "'perhaps' in data row 1" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()
