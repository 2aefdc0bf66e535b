"""Column matching, kind inference, decimal commas and format sniffing."""

from __future__ import annotations

import codecs

import pyarrow as pa
import pytest

from accunode_cli.errors import ColumnError, UnreadableFileError, UsageError
from accunode_cli.scoring import ratio_names
from accunode_cli.tabular.columns import (
    infer_kind,
    match_columns,
    to_point_decimals,
    uses_decimal_comma,
)
from accunode_cli.tabular.formats import output_format_for, sniff_csv_dialect, sniff_format

ANNUAL_HEADERS = [
    "Long-Term Debt / Total Capital",
    "TOTAL DEBT/EBITDA",
    "net income margin",
    "EBIT-to-Interest Expense",
    "Return on Assets (%)",
]
QUARTERLY_HEADERS = [
    "Total Debt to EBITDA",
    "SG&A Margin",
    "long_term_debt_to_total_capital",
    "Return On Capital",
]


def test_headers_fold_to_ratio_names() -> None:
    """Case, spaces, slashes, hyphens, '&' and 'to' fold away; other columns are ignored."""
    match = match_columns(["Company", *ANNUAL_HEADERS], "annual", source="f")
    assert list(match.columns) == list(ratio_names("annual"))
    assert match.columns["long_term_debt_to_total_capital"] == "Long-Term Debt / Total Capital"
    assert match.columns["return_on_assets"] == "Return on Assets (%)"
    quarterly = match_columns(QUARTERLY_HEADERS, "quarterly", source="f")
    assert quarterly.columns["sga_margin"] == "SG&A Margin"


def test_kind_is_inferred_or_refused() -> None:
    """One complete set names the kind; both sets are ambiguous; a partial set lists the gaps."""
    assert infer_kind(ANNUAL_HEADERS, source="f") == "annual"
    assert infer_kind(QUARTERLY_HEADERS, source="f") == "quarterly"
    with pytest.raises(UsageError, match="both annual and quarterly"):
        infer_kind(ANNUAL_HEADERS + QUARTERLY_HEADERS, source="f")
    with pytest.raises(ColumnError) as caught:
        infer_kind(ANNUAL_HEADERS[:4] + ["Retrun on Asets"], source="f")
    assert caught.value.details["missing"] == ["return_on_assets"]
    assert caught.value.details["closest"] == {"return_on_assets": ["Retrun on Asets"]}


def test_scored_file_is_refused_with_a_reason() -> None:
    """Scoring an already scored file would duplicate the output columns: refused, explained."""
    with pytest.raises(ColumnError, match="scored file"):
        match_columns([*ANNUAL_HEADERS, "probability"], "annual", source="f")


def test_decimal_comma_detection_and_rewrite() -> None:
    """'12,5' and '1.234,5' are European; '1,234.5' is not."""
    european = pa.array(["12,5", "1.234,5", "NM", "", "(3,2)"])
    assert uses_decimal_comma([european])
    assert not uses_decimal_comma([pa.array(["1,234.5", "12.5"])])
    assert not uses_decimal_comma([pa.array(["12.5", "7"])])
    assert to_point_decimals(european).to_pylist() == ["12.5", "1234.5", "NM", "", "(3.2)"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    """Each supported delimiter is found, even with commas inside quoted names."""
    text = delimiter.join(["name", "a", "b"]) + "\n"
    text += delimiter.join(['"Smith, Jones & Co"', "1,5", "2"]) + "\n"
    dialect = sniff_csv_dialect(text.encode(), name="x", compression=None)
    assert dialect.delimiter == delimiter


def test_encodings_are_sniffed() -> None:
    """UTF-16 with a BOM, UTF-8 with a BOM, and Windows-1252 exports are recognised."""
    text = "name,a\nCafé,1\n"
    assert sniff_csv_dialect(text.encode("utf-16"), name="x", compression=None).encoding == "utf-16"
    utf8 = sniff_csv_dialect(codecs.BOM_UTF8 + text.encode(), name="x", compression=None)
    assert utf8.encoding == "utf8"
    legacy = sniff_csv_dialect(text.encode("cp1252"), name="x", compression=None)
    assert legacy.encoding == "cp1252"


def test_formats_are_sniffed_from_content() -> None:
    """Without a known extension the first bytes decide; binary content is refused."""
    assert sniff_format(b"PAR1....", name="data") == "parquet"
    assert sniff_format(b"PK\x03\x04...", name="data") == "xlsx"
    assert sniff_format(b'{"a": 1}\n', name="data") == "jsonl"
    assert sniff_format(b"a,b\n1,2\n", name="data") == "csv"
    with pytest.raises(UnreadableFileError, match="binary"):
        sniff_format(b"%PDF-1.7", name="data")
    with pytest.raises(UnreadableFileError, match="empty"):
        sniff_format(b"  \n", name="data")


def test_output_format_from_name_or_option() -> None:
    """OUTPUT's extension picks the format; --format overrides; stdout is CSV."""
    assert output_format_for("a.parquet", None) == "parquet"
    assert output_format_for("a.csv.gz", None) == "csv"
    assert output_format_for("a.ndjson", None) == "jsonl"
    assert output_format_for("-", None) == "csv"
    assert output_format_for("a.dat", "jsonl") == "jsonl"
    with pytest.raises(UsageError):
        output_format_for("a.dat", None)
    with pytest.raises(UsageError):
        output_format_for("a.csv", "xml")
