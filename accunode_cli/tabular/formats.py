"""Recognise a table file's format, compression, encoding and CSV dialect from name and bytes."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from accunode_cli.errors import UnreadableFileError, UsageError

__all__ = [
    "EXCEL_FORMATS",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "CsvDialect",
    "format_from_name",
    "sniff_format",
    "sniff_csv_dialect",
    "output_format_for",
    "read_header",
]

INPUT_FORMATS = ("csv", "parquet", "xlsx", "xls", "jsonl")
EXCEL_FORMATS = ("xlsx", "xls")
OUTPUT_FORMATS = ("csv", "parquet", "jsonl")
DELIMITERS = (",", ";", "\t", "|")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_MAGIC = (
    (b"PAR1", "parquet"),
    (b"PK\x03\x04", "xlsx"),
    (b"\xd0\xcf\x11\xe0", "xls"),  # an OLE2 compound file: Excel 97-2003
)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\x7fELF", b"\xff\xd8\xff", b"GIF8", b"BZh")


@dataclass(frozen=True)
class CsvDialect:
    """How to read a delimited text file."""

    delimiter: str
    encoding: str  # a Python codec name; "utf8" needs no transcoding
    compression: str | None  # "gzip" or None


def _strip_compression(name: str) -> tuple[str, str | None]:
    lower = name.lower()
    if lower.endswith(".gz"):
        return lower[:-3], "gzip"
    return lower, None


def format_from_name(name: str) -> str | None:
    """Return the format an extension names ("csv", "parquet", "xlsx", "xls", "jsonl"), or None."""
    stem, _ = _strip_compression(name)
    return _EXTENSIONS.get(Path(stem).suffix)


def sniff_format(head: bytes, *, name: str) -> str:
    """Return the input format from the extension, else from the first bytes."""
    if not head.strip():
        raise UnreadableFileError(f"{name} is empty")
    if head.startswith(b"\x1f\x8b"):
        inner = format_from_name(name) if name.lower().endswith(".gz") else None
        return inner or "csv"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        raise UnreadableFileError(f"{name} is a binary file, not a table")
    known = format_from_name(name)
    if known in ("parquet", "xlsx", "xls"):
        # The name promises a binary container but the bytes are not one.
        raise UnreadableFileError(f"{name} is not a valid {known} file (truncated or corrupt?)")
    if known:
        return known
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def output_format_for(path: str, requested: str | None) -> str:
    """Return the output format: ``--format`` if given, else OUTPUT's extension, else csv."""
    if requested:
        if requested not in OUTPUT_FORMATS:
            raise UsageError(f"unknown output format {requested!r}; use one of csv, parquet, jsonl")
        return requested
    if path == "-":
        return "csv"
    found = format_from_name(path)
    if found in OUTPUT_FORMATS:
        return found
    raise UsageError(
        f"cannot tell the output format of {path!r}; name it .csv, .parquet or .jsonl "
        "or pass --format"
    )


def _decode_head(head: bytes, *, name: str) -> tuple[str, str]:
    """Return (encoding, text) for the first bytes of a text file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf8"
        head = head[3:]
    else:
        encoding = "utf8"
    if encoding == "utf8" and b"\x00" in head:
        raise UnreadableFileError(f"{name} is a binary file, not a table")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        if encoding != "utf8":
            raise UnreadableFileError(f"{name} is not valid {encoding} text") from None
        # Not UTF-8: an Excel export in Windows-1252 is the usual case.
        encoding = "cp1252"
        text = head.decode(encoding, errors="replace")
        if sum(not (ch.isprintable() or ch in "\r\n\t") for ch in text) > len(text) // 20:
            raise UnreadableFileError(f"{name} is a binary file, not a table") from None
    return encoding, text


def sniff_csv_dialect(head: bytes, *, name: str, compression: str | None) -> CsvDialect:
    """Find the encoding and the delimiter (one of , ; tab |) from the first bytes."""
    encoding, text = _decode_head(head, name=name)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut by the sample
    lines = lines[:50]
    if not lines:
        raise UnreadableFileError(f"{name} is empty")
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [
            len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
        ]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(count == counts[0] for count in counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    if _strip_compression(name)[0].endswith((".tsv", ".tab")) and best_score[0] == 0:
        best = "\t"
    return CsvDialect(best, encoding, compression)


def read_header(head: bytes, dialect: CsvDialect, *, name: str) -> list[str]:
    """Return the header cells of a delimited file."""
    _, text = _decode_head(head, name=name)
    for row in csv.reader(io.StringIO(text), delimiter=dialect.delimiter):
        if any(cell.strip() for cell in row):
            return row
    raise UnreadableFileError(f"{name} has no header line")
