"""Read JSON lines in batches: one JSON object per line, blank lines skipped.

Column types are fixed by the first batch (int, float, bool or text); the ratio columns stay
text so a number and a token like "NM" can share a column, as they do in real exports.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from accunode_cli.errors import UnreadableFileError

__all__ = ["JsonLinesReader"]


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _infer_type(values: list[Any]) -> Any:
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


class JsonLinesReader:
    """Parse a JSON-lines stream; ``names`` is known after the first batch is parsed."""

    def __init__(self, handle: BinaryIO, *, name: str, batch_size: int) -> None:
        self._handle = handle
        self._name = name
        self._batch_size = batch_size
        self._line = 0
        self._first = self._read_rows()
        if not self._first:
            raise UnreadableFileError(f"{name} has no JSON objects")
        names: dict[str, None] = {}
        for row in self._first:
            names.update(dict.fromkeys(row))
        self.names = list(names)

    def _read_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for raw in self._handle:
            self._line += 1
            text = raw.strip()
            if self._line == 1:
                text = text.removeprefix(b"\xef\xbb\xbf")
            if not text:
                continue
            try:
                row = json.loads(text)
            except (ValueError, UnicodeDecodeError) as error:
                raise UnreadableFileError(
                    f"{self._name} line {self._line} is not valid JSON: {error}"
                ) from error
            if not isinstance(row, dict):
                raise UnreadableFileError(f"{self._name} line {self._line} is not a JSON object")
            rows.append(row)
            if len(rows) >= self._batch_size:
                break
        return rows

    def batches(self, *, text_columns: frozenset[str]) -> Iterator[Any]:
        """Yield record batches with one schema, fixed by the first batch."""
        import pyarrow as pa

        schema = pa.schema(
            [
                (
                    name,
                    pa.string()
                    if name in text_columns
                    else _infer_type([row.get(name) for row in self._first]),
                )
                for name in self.names
            ]
        )
        rows = self._first
        while rows:
            yield self._to_batch(rows, schema)
            rows = self._read_rows()

    def _to_batch(self, rows: list[dict[str, Any]], schema: Any) -> Any:
        import pyarrow as pa

        extra = {key for row in rows for key in row} - set(self.names)
        if extra:
            raise UnreadableFileError(
                f"{self._name} near line {self._line}: field {sorted(extra)[0]!r} "
                "does not appear in the first rows"
            )
        arrays = []
        for field in schema:
            values = [row.get(field.name) for row in rows]
            if pa.types.is_string(field.type):
                values = [_as_text(v) for v in values]
            try:
                arrays.append(pa.array(values, type=field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
                raise UnreadableFileError(
                    f"{self._name} near line {self._line}: field {field.name!r} changes type "
                    f"(first rows: {field.type})"
                ) from error
        return pa.RecordBatch.from_arrays(arrays, schema=schema)
