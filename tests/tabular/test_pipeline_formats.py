"""Every input and output format through score_file gives the library's scores, row for row."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from accunode_cli.scoring import load_model, ratio_names
from accunode_cli.tabular import BulkRequest, score_file


def _csv_text(table: pa.Table, *, delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(table.schema.names)
    writer.writerows(zip(*(table.column(n).to_pylist() for n in table.schema.names), strict=True))
    return out.getvalue()


def _probabilities(path: Path) -> list[float | None]:
    if path.suffix == ".parquet":
        return pq.read_table(path).column("probability").to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line)["probability"] for line in path.read_text().splitlines()]
    table = pcsv.read_csv(
        path, convert_options=pcsv.ConvertOptions(column_types={"probability": pa.float64()})
    )
    return table.column("probability").to_pylist()


def _score(tmp_path: Path, source: Path, output: str = "out.csv", **options: object) -> Path:
    target = tmp_path / output
    result = score_file(BulkRequest(input=str(source), output=str(target), **options))  # type: ignore[arg-type]
    assert result.summary["rows"] == 120
    return target


WRITERS = {
    "comma.csv": lambda t: _csv_text(t).encode(),
    "semicolon.csv": lambda t: _csv_text(t, delimiter=";").encode(),
    "pipe.csv": lambda t: _csv_text(t, delimiter="|").encode(),
    "tabs.tsv": lambda t: _csv_text(t, delimiter="\t").encode(),
    "crlf.csv": lambda t: _csv_text(t, newline="\r\n").encode(),
    "bom.csv": lambda t: codecs.BOM_UTF8 + _csv_text(t).encode(),
    "utf16.csv": lambda t: _csv_text(t).encode("utf-16"),
    "gzipped.csv.gz": lambda t: gzip.compress(_csv_text(t).encode()),
    "no_extension": lambda t: _csv_text(t, delimiter=";").encode(),
    "blank_lines.csv": lambda t: _csv_text(t).replace("\n", "\n\n", 40).encode(),
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_delimited_inputs_score_like_the_library(
    tmp_path: Path, annual_text: pa.Table, annual_expected: list[float | None], name: str
) -> None:
    """CSV in every dialect, encoding and compression gives exactly the library's scores."""
    source = tmp_path / name
    source.write_bytes(WRITERS[name](annual_text))
    assert _probabilities(_score(tmp_path, source)) == annual_expected


def test_parquet_input_with_numbers(tmp_path: Path, annual_text: pa.Table) -> None:
    """Parquet with float ratio columns scores like the library on the same floats."""
    columns = {n: annual_text.column(n) for n in annual_text.schema.names}
    for name in ratio_names("annual"):
        text = columns[name].to_pylist()
        columns[name] = pa.array(
            [None if t == "" else 1e8 if t == "NM" else float(t) for t in text], pa.float64()
        )
    table = pa.table(columns)
    pq.write_table(table, tmp_path / "in.parquet")
    expected = (
        load_model("annual")
        .score_columns({n: table.column(n) for n in ratio_names("annual")})
        .to_arrow()
        .column("probability")
        .to_pylist()
    )
    target = _score(tmp_path, tmp_path / "in.parquet", "out.parquet")
    assert _probabilities(target) == expected
    out = pq.read_table(target)
    assert out.schema.names[: len(table.schema.names)] == table.schema.names
    assert out.select(table.schema.names).equals(table)  # passed through unchanged


def test_excel_input_first_and_named_sheet(
    tmp_path: Path, annual_text: pa.Table, annual_expected: list[float | None]
) -> None:
    """.xlsx reads the first sheet, or the one --sheet names; blank rows are skipped."""
    book = Workbook()
    first = book.active
    first.title = "Notes"
    first.append(["nothing to see"])
    data = book.create_sheet("Companies")
    data.append(annual_text.schema.names)
    for i, row in enumerate(annual_text.to_pylist()):
        data.append(list(row.values()))
        if i == 5:
            data.append([None] * len(row))
    book.save(tmp_path / "in.xlsx")
    target = _score(tmp_path, tmp_path / "in.xlsx", sheet="Companies")
    assert _probabilities(target) == annual_expected


def test_jsonl_input_with_numbers_and_tokens(
    tmp_path: Path, annual_text: pa.Table, annual_expected: list[float | None]
) -> None:
    """JSON lines with numbers, "NM" strings and nulls side by side score like the library."""
    lines = []
    for row in annual_text.to_pylist():
        for name in ratio_names("annual"):
            value = row[name]
            row[name] = None if value == "" else value if value == "NM" else float(value)
        lines.append(json.dumps(row))
    (tmp_path / "in.jsonl").write_text("\n".join(lines[:50]) + "\n\n" + "\n".join(lines[50:]))
    target = _score(tmp_path, tmp_path / "in.jsonl", "out.jsonl", batch_size=32)
    assert _probabilities(target) == annual_expected
    first = json.loads(target.read_text().splitlines()[0])
    assert first["company_symbol"] == annual_text.column("company_symbol")[0].as_py()


@pytest.mark.parametrize("output", ["out.csv", "out.csv.gz", "out.parquet", "out.jsonl"])
def test_output_formats_keep_rows_and_order(
    tmp_path: Path, sample_data: Path, annual_expected: list[float | None], output: str
) -> None:
    """Every output format has one row per input row, in input order, input columns first."""
    source = tmp_path / "in.csv"
    source.write_text(
        "\n".join((sample_data / "annual_companies.csv").read_text().splitlines()[:121]) + "\n"
    )
    target = _score(tmp_path, source, output, batch_size=7)
    if output.endswith(".gz"):
        table = pcsv.read_csv(target)
    elif output.endswith(".parquet"):
        table = pq.read_table(target)
    elif output.endswith(".jsonl"):
        table = pa.Table.from_pylist([json.loads(x) for x in target.read_text().splitlines()])
    else:
        table = pcsv.read_csv(target)
    names = table.schema.names
    assert names[:2] == ["company_symbol", "company_name"]
    assert names[-6:] == [
        "probability", "risk_level", "implied_rating", "model_version", "flags", "error"
    ]  # fmt: skip
    got = table.column("probability").to_pylist()
    assert got == annual_expected


def test_explain_adds_contributions_that_sum_to_the_log_odds(
    tmp_path: Path, sample_data: Path
) -> None:
    """--explain adds contribution_<ratio> columns; base + their sum gives the probability."""
    import math

    model = load_model("annual")
    target = tmp_path / "out.parquet"
    score_file(
        BulkRequest(
            input=str(sample_data / "annual_companies.csv"), output=str(target), explain=True
        )
    )
    table = pq.read_table(target)
    for row in table.to_pylist()[:50]:
        if row["probability"] is None:
            continue
        log_odds = model.base_log_odds + sum(
            row[f"contribution_{n}"] for n in ratio_names("annual")
        )
        assert math.isclose(1 / (1 + math.exp(-log_odds)), row["probability"], rel_tol=1e-12)


def test_european_decimal_commas(tmp_path: Path, sample_data: Path) -> None:
    """`;` with decimal commas ("35,5", "1.234,5") reads as 35.5 and 1234.5."""
    target = tmp_path / "out.csv"
    score_file(BulkRequest(input=str(sample_data / "european_annual.csv"), output=str(target)))
    got = _probabilities(target)
    model = load_model("annual")
    expected = model.score_columns(
        {
            "long_term_debt_to_total_capital": [35.5, 1234.5, 42.0, 28.75],
            "total_debt_to_ebitda": [2.1, 3.4, "NM", 1.8],
            "net_income_margin": [8.5, -2.5, 5.25, 12.1],
            "ebit_to_interest_expense": [9.2, 1.1, None, 15.3],
            "return_on_assets": [6.1, -0.8, 4.0, 9.4],
        }
    ).probability.tolist()
    assert got == expected
    # the cells themselves pass through unchanged
    assert '"35,5"' in target.read_text(encoding="utf-8")


def test_progress_hears_total_and_rows(tmp_path: Path, sample_data: Path) -> None:
    """Parquet knows its row count up front; every written row is reported once."""
    totals: list[int | None] = []
    done: list[int] = []
    score_file(
        BulkRequest(
            input=str(sample_data / "annual_companies.parquet"),
            output=str(tmp_path / "o.parquet"),
            batch_size=64,
        ),
        on_rows=done.append,
        on_total=totals.append,
    )
    assert totals == [300]
    assert sum(done) == 300 and len(done) == 5


def test_parquet_output_reads_back_as_plain_strings(tmp_path: Path, sample_data: Path) -> None:
    """Parquet output has string label columns for any reader, not dictionary types."""
    target = tmp_path / "out.parquet"
    score_file(BulkRequest(input=str(sample_data / "annual_companies.csv"), output=str(target)))
    schema = pq.read_schema(target)
    for name in ("risk_level", "implied_rating", "model_version", "flags", "error"):
        assert schema.field(name).type == pa.string()
