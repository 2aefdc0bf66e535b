"""Unusable input fails before writing anything; unscorable rows keep their place and reason."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from accunode_cli.errors import ColumnError, InputError, UnreadableFileError, UsageError
from accunode_cli.tabular import BulkRequest, score_file

HEADER = (
    "company_symbol,long_term_debt_to_total_capital,total_debt_to_ebitda,net_income_margin,"
    "ebit_to_interest_expense,return_on_assets\n"
)


def _good_csv(rows: int = 30) -> str:
    return HEADER + "".join(f"C{i},35.5,2.1,{i / 3:.2f},9.2,6.1\n" for i in range(rows))


def _files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


CASES = {
    "missing": (lambda d: None, UnreadableFileError, "no such file"),
    "directory": (lambda d: (d / "in.csv").mkdir(), UnreadableFileError, "directory"),
    "empty": (lambda d: (d / "in.csv").write_bytes(b""), UnreadableFileError, "empty"),
    "blank": (lambda d: (d / "in.csv").write_text("\n\n  \n"), UnreadableFileError, "empty"),
    "header_only": (lambda d: (d / "in.csv").write_text(HEADER), UnreadableFileError, "no data"),
    "binary": (
        lambda d: (d / "in.csv").write_bytes(b"\x00\x01\x02binary\xff" * 100),
        UnreadableFileError,
        "binary",
    ),
    "png": (
        lambda d: (d / "in.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        UnreadableFileError,
        "binary",
    ),
    "truncated_gzip": (
        lambda d: (d / "in.csv.gz").write_bytes(gzip.compress(_good_csv(3000).encode())[:-200]),
        UnreadableFileError,
        "cannot read",
    ),
    "truncated_csv_row": (
        lambda d: (d / "in.csv").write_text(_good_csv() + "C99,35.5,2.1"),
        UnreadableFileError,
        "cannot read",
    ),
    "wrong_columns": (
        lambda d: (d / "in.csv").write_text("a,b,c\n1,2,3\n"),
        ColumnError,
        "none of the ratio columns",
    ),
    "missing_column": (
        lambda d: (d / "in.csv").write_text(
            "long_term_debt_to_total_capital,total_debt_ebitda,net_income_margin,"
            "ebit_to_interest_expense,return_on_asets\n1,2,3,4,5\n"
        ),
        ColumnError,
        "return_on_assets (closest: 'return_on_asets')",
    ),
    "duplicated_column": (
        lambda d: (d / "in.csv").write_text(
            HEADER.strip() + ",company_symbol\n" + "A,1,2,3,4,5,B\n"
        ),
        ColumnError,
        "duplicated",
    ),
    "two_columns_one_ratio": (
        lambda d: (d / "in.csv").write_text(
            HEADER.strip() + ",Net Income Margin\n" + "A,1,2,3,4,5,6\n"
        ),
        ColumnError,
        "all match the ratio net_income_margin",
    ),
    "truncated_parquet": (
        lambda d: (d / "in.parquet").write_bytes(b"PAR1" + b"\x00" * 50),
        UnreadableFileError,
        "Parquet",
    ),
    "not_really_excel": (
        lambda d: (d / "in.xlsx").write_text(_good_csv()),
        UnreadableFileError,
        "xlsx",
    ),
    "bad_json": (
        lambda d: (d / "in.jsonl").write_text('{"a": 1}\n{not json\n'),
        UnreadableFileError,
        "not valid JSON",
    ),
    "bad_utf8_later": (
        lambda d: (d / "in.csv").write_bytes(
            _good_csv(3000).encode() + b"C1,35.5,2.1,\xff\xfe,9.2,6.1\n"
        ),
        UnreadableFileError,
        "cannot read",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unusable_input_writes_nothing(tmp_path: Path, case: str) -> None:
    """Each unusable input raises its error (exit 2) and leaves no output or errors file."""
    make, error, words = CASES[case]
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder)
    found = _files_in(folder)
    source = folder / (found[0] if found else "in.csv")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(error) as caught:
        score_file(BulkRequest(input=str(source), output=str(out / "scored.csv")))
    assert caught.value.exit_code == 2
    assert words in caught.value.message
    assert "\n" not in caught.value.message
    assert _files_in(out) == []


def test_unwritable_output_fails_before_writing(tmp_path: Path) -> None:
    """An output in a folder that cannot be created is bad usage, and nothing is written."""
    source = tmp_path / "in.csv"
    source.write_text(_good_csv())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write"):
        score_file(BulkRequest(input=str(source), output=str(blocker / "scored.csv")))
    with pytest.raises(UsageError, match="is a directory"):
        score_file(BulkRequest(input=str(source), output=str(tmp_path)))
    with pytest.raises(UsageError, match="is the input"):
        score_file(BulkRequest(input=str(source), output=str(source)))
    with pytest.raises(UsageError, match="Parquet output needs a file"):
        score_file(BulkRequest(input=str(source), output="-", format="parquet"))
    with pytest.raises(UsageError, match="output format"):
        score_file(BulkRequest(input=str(source), output=str(tmp_path / "scored.xyz")))
    assert sorted(os.listdir(tmp_path)) == ["file", "in.csv"]


def test_existing_output_survives_a_failed_run(tmp_path: Path) -> None:
    """A failure mid-stream leaves a previous output untouched (write to temp, then rename)."""
    target = tmp_path / "scored.csv"
    target.write_text("previous\n")
    source = tmp_path / "in.csv.gz"
    source.write_bytes(gzip.compress(_good_csv(5000).encode())[:-300])
    with pytest.raises(UnreadableFileError):
        score_file(BulkRequest(input=str(source), output=str(target), batch_size=100))
    assert target.read_text() == "previous\n"
    assert sorted(os.listdir(tmp_path)) == ["in.csv.gz", "scored.csv"]


def test_bad_rows_keep_their_place_and_are_listed(tmp_path: Path) -> None:
    """A text cell that is no number rejects its row: empty probability, reason, errors file."""
    lines = _good_csv(10).splitlines(keepends=True)
    lines[3] = "BAD1,35.5,2.1,abc,9.2,6.1\n"  # data row 3
    lines.insert(6, "\n")  # a fully empty line is not a data row
    lines.insert(7, ",,,, ,\n")  # nor is a row of blank cells (a spreadsheet's export)
    lines[10] = "BAD2,x1,2.1,1.0,9.2,??\n"  # data row 8
    source = tmp_path / "in.csv"
    source.write_text("".join(lines))
    target = tmp_path / "scored.csv"
    result = score_file(BulkRequest(input=str(source), output=str(target), batch_size=4))
    assert result.summary["rows"] == 10
    assert result.summary["rejected"] == 2
    assert result.errors_file == str(tmp_path / "scored.errors.csv")
    table = pcsv.read_csv(target).to_pylist()
    assert len(table) == 10
    assert [row["company_symbol"] for row in table][2:4] == ["BAD1", "C3"]
    assert table[2]["probability"] is None
    assert table[2]["error"] == "net_income_margin: 'abc' is not a number"
    assert table[7]["probability"] is None
    assert table[7]["error"] == (
        "long_term_debt_to_total_capital: 'x1' is not a number; "
        "return_on_assets: '??' is not a number"
    )
    assert all(row["probability"] is not None for i, row in enumerate(table) if i not in (2, 7))
    errors = pcsv.read_csv(tmp_path / "scored.errors.csv").to_pylist()
    assert errors == [
        {
            "row": 3,
            "column": "net_income_margin",
            "value": "abc",
            "reason": "net_income_margin: 'abc' is not a number",
        },
        {
            "row": 8,
            "column": "long_term_debt_to_total_capital",
            "value": "x1",
            "reason": "long_term_debt_to_total_capital: 'x1' is not a number",
        },
        {
            "row": 8,
            "column": "return_on_assets",
            "value": "??",
            "reason": "return_on_assets: '??' is not a number",
        },
    ]


def test_errors_file_option_and_clean_run(tmp_path: Path) -> None:
    """--errors names the file; a clean run writes just its header."""
    source = tmp_path / "in.csv"
    source.write_text(_good_csv())
    result = score_file(
        BulkRequest(
            input=str(source),
            output=str(tmp_path / "s.parquet"),
            errors=str(tmp_path / "rejects.csv"),
        )
    )
    assert result.summary["rejected"] == 0
    assert (tmp_path / "rejects.csv").read_text() == "row,column,value,reason\n"
    assert pq.read_table(tmp_path / "s.parquet").num_rows == 30


def test_batch_size_must_be_positive(tmp_path: Path) -> None:
    """A zero batch size is bad usage."""
    source = tmp_path / "in.csv"
    source.write_text(_good_csv())
    with pytest.raises(InputError.__mro__[1]):
        score_file(BulkRequest(input=str(source), output="-", batch_size=0))


def test_unwritable_errors_file_leaves_no_output(tmp_path: Path) -> None:
    """When the errors file cannot be reserved, the already reserved output is removed too."""
    source = tmp_path / "in.csv"
    source.write_text(_good_csv())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UsageError, match="cannot write"):
        score_file(
            BulkRequest(input=str(source), output=str(out / "s.csv"), errors=str(blocker / "e.csv"))
        )
    assert _files_in(out) == []
