"""Write the analyst-shaped sample files from sample_data/annual_companies.csv.

    python sample_data/analyst_files.py [--out DIR]

* ``analyst_screen.xlsx``: a Capital IQ-style screening report: a title block above the
  header, Capital IQ headers ("LT Debt/Total Cap (%)", "EBIT/Interest Exp. (x)"), percentages
  stored as fractions in cells formatted ``0.0%``, multiples formatted ``0.0"x"``, Excel error
  values, a "Total" footer row and a second sheet of notes;
* ``analyst_screen.xls``: the same report in the Excel 97-2003 format (needs xlwt, a
  development dependency);
* ``bloomberg_export.csv``: Bloomberg field names (one of them, PROF_MARGIN, needs ``--map``)
  and multiples written "2.7x";
* ``fractions_annual.csv``: annual_companies.csv with every percentage divided by 100.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE  # where the files go (--out)
PERCENT = ("long_term_debt_to_total_capital", "net_income_margin", "return_on_assets")
RATIOS = (
    "long_term_debt_to_total_capital",
    "total_debt_to_ebitda",
    "net_income_margin",
    "ebit_to_interest_expense",
    "return_on_assets",
)
CAPITAL_IQ = (
    "LT Debt/Total Cap (%)",
    "Total Debt/EBITDA (x)",
    "Net Income Margin %",
    "EBIT/Interest Exp. (x)",
    "Return on Assets %",
)
BLOOMBERG = (
    "LT_DEBT_TO_TOT_CAP",
    "TOT_DEBT_TO_EBITDA",
    "PROF_MARGIN",
    "EBIT_TO_INT_EXP",
    "RETURN_ON_ASSET",
)
TITLE = ("Company Screening Report", "As of 2026-11-30; currency USD; source: sample data")
ROWS = 20


def _rows() -> list[dict[str, str]]:
    with open(HERE / "annual_companies.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _excel_value(name: str, cell: str) -> Any:
    """The cell as an analyst's workbook holds it: fractions for percentages, Excel errors."""
    if cell == "":
        return "#N/A"
    if cell == "NM":
        return "#DIV/0!"
    value = float(cell)
    return value / 100 if name in PERCENT else value


def write_xlsx(rows: list[dict[str, str]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.properties.created = book.properties.modified = dt.datetime(2026, 11, 30)
    sheet = book.active
    sheet.title = "Screen"
    for line in TITLE:
        sheet.append([line])
    sheet.append([])
    sheet.append(["Ticker", "Company Name", *CAPITAL_IQ])
    for row in rows:
        values = [_excel_value(name, row[name]) for name in RATIOS]
        sheet.append([row["company_symbol"], row["company_name"], *values])
        for cell, name in zip(sheet[sheet.max_row][2:], RATIOS, strict=True):
            cell.number_format = "0.0%" if name in PERCENT else '0.0"x"'
    sheet.append(["Total"])
    book.create_sheet("Notes").append(["Ratios as reported; NM shown as #DIV/0!"])
    book.save(OUT / "analyst_screen.xlsx")


def write_xls(rows: list[dict[str, str]]) -> None:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Screen")
    percent = xlwt.easyxf(num_format_str="0.0%")
    times = xlwt.easyxf(num_format_str='0.0"x"')
    for r, line in enumerate(TITLE):
        sheet.write(r, 0, line)
    header = 3
    for j, name in enumerate(["Ticker", "Company Name", *CAPITAL_IQ]):
        sheet.write(header, j, name)
    for i, row in enumerate(rows, start=header + 1):
        sheet.write(i, 0, row["company_symbol"])
        sheet.write(i, 1, row["company_name"])
        for j, name in enumerate(RATIOS, start=2):
            value = _excel_value(name, row[name])
            if isinstance(value, str):
                sheet.write(i, j, value)
            else:
                sheet.write(i, j, value, percent if name in PERCENT else times)
    sheet.write(header + len(rows) + 1, 0, "Total")
    book.save(str(OUT / "analyst_screen.xls"))


def write_bloomberg(rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["TICKER", "NAME", *BLOOMBERG])
    for row in rows:
        cells = [row[name] for name in RATIOS]
        for j in (1, 3):  # the multiples, as the terminal shows them
            cells[j] = f"{cells[j]}x" if cells[j] not in ("", "NM") else cells[j]
        writer.writerow([row["company_symbol"], row["company_name"], *cells])
    (OUT / "bloomberg_export.csv").write_text(out.getvalue(), encoding="utf-8")


def write_fractions(rows: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        changed = dict(row)
        for name in PERCENT:
            if row[name] not in ("", "NM"):
                changed[name] = repr(float(row[name]) / 100)
        writer.writerow(changed)
    (OUT / "fractions_annual.csv").write_text(out.getvalue(), encoding="utf-8")


def main() -> None:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    OUT = parser.parse_args().out
    OUT.mkdir(parents=True, exist_ok=True)
    rows = _rows()
    write_xlsx(rows[:ROWS])
    write_xls(rows[:ROWS])
    write_bloomberg(rows[:ROWS])
    write_fractions(rows)


if __name__ == "__main__":
    main()
