"""Files shaped like real Excel, Capital IQ and Bloomberg exports score as their numbers mean."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.csv as pcsv
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from accunode_cli.main import app
from accunode_cli.scoring import load_model, ratio_names
from accunode_cli.tabular import BulkRequest, score_file

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
PERCENT = ("long_term_debt_to_total_capital", "net_income_margin", "return_on_assets")
CAPITAL_IQ = {
    "long_term_debt_to_total_capital": "LT Debt/Total Cap (%)",
    "total_debt_to_ebitda": "Total Debt/EBITDA (x)",
    "net_income_margin": "Net Income Margin %",
    "ebit_to_interest_expense": "EBIT/Interest Exp. (x)",
    "return_on_assets": "Return on Assets %",
}


def _sample_rows(count: int = 40) -> list[dict[str, str]]:
    with open(SAMPLE / "annual_companies.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[:count]


def _number(cell: str) -> float | str | None:
    try:
        return float(cell)
    except ValueError:
        return cell or None


def _expected(rows: list[dict[str, str]]) -> list[float | None]:
    """The library's own probabilities of the rows typed as points."""
    model = load_model("annual")
    columns = {name: [row[name] for row in rows] for name in ratio_names("annual")}
    return model.score_columns(columns).to_arrow().column("probability").to_pylist()


def _scored(path: Path, **options: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    target = path.with_name(path.name + ".scored.csv")
    result = score_file(BulkRequest(input=str(path), output=str(target), **options))
    return pcsv.read_csv(target).to_pylist(), result.summary


def _workbook(path: Path, rows: list[dict[str, str]], *, headers: dict[str, str]) -> None:
    """A screening report: a title block, percent-formatted fractions, a Total footer."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Screen"
    sheet.append(["Company Screening Report"])
    sheet.append(["As of 2026-11-30; values in reporting currency"])
    sheet.append([])
    sheet.append(["Symbol", "Company"] + [headers[name] for name in ratio_names("annual")])
    for row in rows:
        cells: list[Any] = [row["company_symbol"], row["company_name"]]
        for name in ratio_names("annual"):
            value = _number(row[name])
            if name in PERCENT and isinstance(value, float):
                value = value / 100  # Excel stores 35 % as 0.35 and shows it as 35.0 %
            cells.append(value)
        sheet.append(cells)
        for cell, name in zip(sheet[sheet.max_row][2:], ratio_names("annual"), strict=True):
            if name in PERCENT:
                cell.number_format = "0.0%"
            elif isinstance(cell.value, float):
                cell.number_format = '0.0"x"'
    sheet.append(["Total"])
    book.create_sheet("Notes").append(["Source: Capital IQ"])
    book.save(path)


def test_workbook_with_title_percent_cells_and_footer_scores_like_points(tmp_path: Path) -> None:
    rows = _sample_rows()
    source = tmp_path / "screen.xlsx"
    _workbook(source, rows, headers=CAPITAL_IQ)
    scored, summary = _scored(source)
    assert [row["probability"] for row in scored[:-1]] == _expected(rows)
    assert scored[-1]["Symbol"] == "Total" and scored[-1]["probability"] is None
    assert scored[-1]["error"] == "no ratio values"
    assert summary["rows"] == len(rows) + 1 and summary["rejected"] == 1
    assert summary["rejected_no_ratio_values"] == 1
    assert summary["warnings"] == []  # percent-formatted cells are points already
    # The same with --percent-as-fraction: formatted cells are not multiplied twice.
    again, _ = _scored(source, percent="fraction")
    assert [row["probability"] for row in again] == [row["probability"] for row in scored]


def test_xls_scores_like_points_and_a_corrupt_one_fails_in_one_line(tmp_path: Path) -> None:
    import xlwt

    rows = _sample_rows(25)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Annual")
    percent = xlwt.easyxf(num_format_str="0.00%")
    sheet.write(0, 0, "Bloomberg export")
    header = ["Ticker"] + [CAPITAL_IQ[name] for name in ratio_names("annual")]
    for j, name in enumerate(header):
        sheet.write(2, j, name)
    for i, row in enumerate(rows, start=3):
        sheet.write(i, 0, row["company_symbol"])
        for j, name in enumerate(ratio_names("annual"), start=1):
            value = _number(row[name])
            if value is None:
                continue
            if name in PERCENT and isinstance(value, float):
                sheet.write(i, j, value / 100, percent)
            else:
                sheet.write(i, j, value)
    source = tmp_path / "export.xls"
    book.save(str(source))
    scored, summary = _scored(source)
    assert [row["probability"] for row in scored] == _expected(rows)
    assert summary["rejected"] == 0

    runner = CliRunner()
    truncated = tmp_path / "truncated.xls"
    truncated.write_bytes(source.read_bytes()[:1500])
    garbage = tmp_path / "garbage.xls"
    garbage.write_bytes(b"this is not a workbook at all\n" * 20)
    broken_zip = tmp_path / "broken.xlsx"
    broken_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    for bad in (truncated, garbage, broken_zip):
        result = runner.invoke(app, ["bulk-score", str(bad), "-o", str(tmp_path / "o.csv")])
        assert result.exit_code == 2, (bad, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(bad.name) in lines[0], lines
        assert "internal error" not in lines[0] and "Traceback" not in result.stderr
        assert result.stdout == ""  # nothing else printed (xlrd logs to stdout by default)


def _divided(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        changed = dict(row)
        for name in PERCENT:
            value = _number(row[name])
            if isinstance(value, float):
                changed[name] = repr(value / 100)
        writer.writerow(changed)
    return out.getvalue()


def test_percentages_divided_by_100_are_caught_and_scaled_back(tmp_path: Path) -> None:
    with open(SAMPLE / "annual_companies.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    source = tmp_path / "fractions.csv"
    source.write_text(_divided(rows))
    runner = CliRunner()
    out = tmp_path / "out.csv"
    warned = runner.invoke(app, ["bulk-score", str(source), "-o", str(out), "--json"])
    assert warned.exit_code == 0, warned.stderr
    summary = json.loads(warned.stdout)
    assert len(summary["warnings"]) == 1 and "look like fractions" in summary["warnings"][0]
    assert "--percent-as-fraction" in summary["warnings"][0]
    assert "look like fractions" in warned.stderr
    assert len([line for line in warned.stderr.splitlines() if "warning:" in line]) == 1

    fixed = runner.invoke(
        app, ["bulk-score", str(source), "-o", str(out), "--percent-as-fraction", "--json"]
    )
    assert fixed.exit_code == 0 and json.loads(fixed.stdout)["warnings"] == []
    original = tmp_path / "original.csv"
    runner.invoke(app, ["bulk-score", str(SAMPLE / "annual_companies.csv"), "-o", str(original)])
    probabilities = pcsv.read_csv(out).column("probability").to_pylist()
    assert probabilities == pcsv.read_csv(original).column("probability").to_pylist()

    quiet = runner.invoke(
        app, ["bulk-score", str(source), "-o", str(out), "--percent-as-points", "--json"]
    )
    assert json.loads(quiet.stdout)["warnings"] == [] and "warning" not in quiet.stderr


@pytest.mark.parametrize("name", ["annual_companies.csv", "quarterly_companies.csv"])
def test_files_in_points_get_no_fraction_warning(name: str, tmp_path: Path) -> None:
    _, summary = _scored_copy(SAMPLE / name, tmp_path)
    assert summary["warnings"] == []


def _scored_copy(path: Path, tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    return _scored(copy)


def test_capital_iq_headers_and_times_cells_score_without_editing(tmp_path: Path) -> None:
    rows = _sample_rows()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Ticker"] + [CAPITAL_IQ[name] for name in ratio_names("annual")])
    for row in rows:
        cells = [row["company_symbol"]]
        for name in ratio_names("annual"):
            value = row[name]
            if name in ("total_debt_to_ebitda", "ebit_to_interest_expense") and isinstance(
                _number(value), float
            ):
                value = f"{value}x" if len(cells) % 2 else f"{value} x"
            cells.append(value)
        writer.writerow(cells)
    source = tmp_path / "capiq.csv"
    source.write_text(out.getvalue())
    scored, summary = _scored(source)
    assert [row["probability"] for row in scored] == _expected(rows)
    assert summary["rejected"] == 0


def test_a_header_nothing_matches_names_the_ratio_and_the_map_syntax(tmp_path: Path) -> None:
    rows = _sample_rows(12)
    out = io.StringIO()
    writer = csv.writer(out)
    headers = {**CAPITAL_IQ, "net_income_margin": "Net Inc Mrgn"}
    writer.writerow([headers[name] for name in ratio_names("annual")])
    for row in rows:
        writer.writerow([row[name] for name in ratio_names("annual")])
    source = tmp_path / "odd.csv"
    source.write_text(out.getvalue())
    runner = CliRunner()
    target = str(tmp_path / "o.csv")
    refused = runner.invoke(app, ["bulk-score", str(source), "-o", target])
    assert refused.exit_code == 2
    message = " ".join(refused.stderr.split())
    assert "net_income_margin (closest: 'Net Inc Mrgn')" in message
    assert '--map "Net Inc Mrgn=net_income_margin"' in message
    mapped = runner.invoke(
        app, ["bulk-score", str(source), "-o", target, "--map", "Net Inc Mrgn=net_income_margin"]
    )
    assert mapped.exit_code == 0, mapped.stderr
    assert pcsv.read_csv(target).column("probability").to_pylist() == _expected(rows)
    toml = tmp_path / "cols.toml"
    toml.write_text('[columns]\n"Net Inc Mrgn" = "net_income_margin"\n')
    from_file = runner.invoke(
        app, ["bulk-score", str(source), "-o", target, "--map-file", str(toml)]
    )
    assert from_file.exit_code == 0, from_file.stderr
    typo = runner.invoke(
        app, ["bulk-score", str(source), "-o", target, "--map", "Net Inc Mrgn=net_income_margn"]
    )
    assert typo.exit_code == 2 and "did you mean net_income_margin" in typo.stderr
    absent = runner.invoke(
        app, ["bulk-score", str(source), "-o", target, "--map", "NI Margin=net_income_margin"]
    )
    assert absent.exit_code == 2 and "no column 'NI Margin'" in absent.stderr
    toml.write_text(toml.read_text() + '"NI Margin" = "net_income_margin"\n')  # for other files
    shared = runner.invoke(app, ["bulk-score", str(source), "-o", target, "--map-file", str(toml)])
    assert shared.exit_code == 0, shared.stderr


def test_excel_errors_name_the_sheet_and_list_the_sheets(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Cover"
    data = book.create_sheet("Data")
    data.append(["Symbol"] + list(ratio_names("annual")))
    data.append(["A", 35, 2.1, 8.5, 9.2, 6.1])
    path = tmp_path / "book.xlsx"
    book.save(path)
    runner = CliRunner()
    target = str(tmp_path / "o.csv")
    empty = runner.invoke(app, ["bulk-score", str(path), "-o", target])
    assert empty.exit_code == 2
    message = " ".join(empty.stderr.split())
    assert "(sheet 'Cover') has no data" in message and "'Cover', 'Data'" in message
    wrong = runner.invoke(app, ["bulk-score", str(path), "--sheet", "Nope", "-o", target])
    assert wrong.exit_code == 2 and "'Cover', 'Data'" in " ".join(wrong.stderr.split())
    ok = runner.invoke(app, ["bulk-score", str(path), "--sheet", "Data", "-o", target])
    assert ok.exit_code == 0, ok.stderr
    data.insert_rows(1, 2)
    data["A1"] = "A title that is no header"
    data["B2"] = "long_term_debt_to_total_capital"  # a stray cell a search could take
    book.save(path)
    by_row = runner.invoke(
        app, ["bulk-score", str(path), "--sheet", "Data", "--header-row", "3", "-o", target]
    )
    assert by_row.exit_code == 0, by_row.stderr
    columns = runner.invoke(
        app, ["bulk-score", str(path), "--sheet", "Data", "--header-row", "1", "-o", target]
    )
    assert columns.exit_code == 2
    assert "(sheet 'Data', header row 1) has none of the ratio columns" in " ".join(
        columns.stderr.split()
    )


@pytest.mark.parametrize("name", ["analyst_screen.xlsx", "analyst_screen.xls"])
def test_sample_workbooks_score_like_the_sample_companies(name: str, tmp_path: Path) -> None:
    """The shipped Capital IQ-style reports (Excel errors for NM and blanks) mean the sample."""
    scored, summary = _scored_copy(SAMPLE / name, tmp_path)
    assert [row["probability"] for row in scored[:-1]] == _expected(_sample_rows(20))
    assert scored[-1]["error"] == "no ratio values" and summary["warnings"] == []


def test_sample_bloomberg_export_scores_with_one_map(tmp_path: Path) -> None:
    copy = tmp_path / "bloomberg_export.csv"
    copy.write_bytes((SAMPLE / "bloomberg_export.csv").read_bytes())
    scored, _ = _scored(copy, column_map=("PROF_MARGIN=net_income_margin",))
    assert [row["probability"] for row in scored] == _expected(_sample_rows(20))


def test_a_mapped_header_wins_over_one_that_merely_folds_alike(tmp_path: Path) -> None:
    rows = _sample_rows(5)
    names = list(ratio_names("annual"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*names, "Net Income Margin (%)"])  # e.g. an older copy of the column
    for row in rows:
        writer.writerow([*(row[name] for name in names), "999"])
    source = tmp_path / "two.csv"
    source.write_text(out.getvalue())
    with pytest.raises(Exception, match="all match the ratio net_income_margin"):
        _scored(source)
    scored, _ = _scored(source, column_map=("net_income_margin=net_income_margin",))
    assert [row["probability"] for row in scored] == _expected(rows)


def test_the_analyst_text_files_are_up_to_date(tmp_path: Path) -> None:
    """They derive from annual_companies.csv: regenerating gives the committed bytes."""
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, str(SAMPLE / "analyst_files.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in ("bloomberg_export.csv", "fractions_annual.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), (
            f"sample_data/{name} is stale: run python sample_data/analyst_files.py"
        )


def test_cells_with_a_percent_sign_are_points_even_with_percent_as_fraction(
    tmp_path: Path,
) -> None:
    """--percent-as-fraction multiplies fractions by 100, never a cell that says "%" (typed
    in text, or an Excel cell formatted as a percentage among unformatted ones)."""
    rows = _sample_rows(12)
    text = tmp_path / "mixed.csv"
    lines = ["company_symbol," + ",".join(ratio_names("annual"))]
    for number, row in enumerate(rows):
        cells = []
        for name in ratio_names("annual"):
            value = _number(row[name])
            if name in PERCENT and isinstance(value, float):
                # even rows: "35.5%" (points with a sign); odd rows: 0.355 (a fraction)
                cells.append(f"{value}%" if number % 2 == 0 else repr(value / 100))
            else:
                cells.append("" if value is None else str(value))
        lines.append(",".join([row["company_symbol"], *cells]))
    text.write_text("\n".join(lines) + "\n")
    scored, _ = _scored(text, percent="fraction")
    assert [row["probability"] for row in scored] == _expected(rows)

    book = Workbook()
    sheet = book.active
    sheet.append(["company_symbol", *ratio_names("annual")])
    for number, row in enumerate(rows):
        cells: list[Any] = [row["company_symbol"]]
        for name in ratio_names("annual"):
            value = _number(row[name])
            cells.append(value / 100 if name in PERCENT and isinstance(value, float) else value)
        sheet.append(cells)
        if number % 2 == 0:  # only some rows' cells are formatted as percentages
            for cell, name in zip(sheet[sheet.max_row][1:], ratio_names("annual"), strict=True):
                if name in PERCENT:
                    cell.number_format = "0.0%"
    workbook = tmp_path / "mixed.xlsx"
    book.save(workbook)
    scored, _ = _scored(workbook, percent="fraction")
    assert [row["probability"] for row in scored] == _expected(rows)
