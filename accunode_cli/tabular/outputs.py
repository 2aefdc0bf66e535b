"""Build the output columns of a scored batch, as ``ScoredBatch.to_arrow`` does, but cheaper.

``ScoredBatch.to_arrow`` is the reference; a test checks that these columns equal it, value for
value and type for type. The bulk path builds them here because it runs once per batch of a
file of millions of rows: the flags are labelled through a lookup table over the (at most
4**k) status codes instead of a sort, and the constant model version is a one-entry dictionary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["output_columns", "ratio_arrays"]


def _text(array: Any, *, dictionary: bool) -> Any:
    import pyarrow as pa

    return array if dictionary else array.cast(pa.string())


def _labels(codes: np.ndarray, labels: Any, *, dictionary: bool) -> Any:
    import pyarrow as pa

    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    labelled = pa.DictionaryArray.from_arrays(indices, pa.array(labels, type=pa.string()))
    return _text(labelled, dictionary=dictionary)


def _flags(scored: Any, *, dictionary: bool) -> Any:
    import pyarrow as pa

    from accunode_cli.scoring import OK, STATUS_NAMES

    names = scored.ratio_names
    k = len(names)
    code = np.zeros(len(scored), dtype=np.int64)
    for j in range(k):
        code = code * 4 + scored.status[:, j]
    present = np.flatnonzero(np.bincount(code, minlength=1))
    lookup = np.zeros(int(present[-1]) + 1 if present.size else 1, dtype=np.int32)
    lookup[present] = np.arange(present.size, dtype=np.int32)
    labels = []
    for value in present:
        digits = [(int(value) // 4 ** (k - 1 - j)) % 4 for j in range(k)]
        labels.append(
            ";".join(
                f"{name}={STATUS_NAMES[d]}"
                for name, d in zip(names, digits, strict=True)
                if d != OK
            )
        )
    labelled = pa.DictionaryArray.from_arrays(
        pa.array(lookup[code]), pa.array(labels, type=pa.string())
    )
    return _text(labelled, dictionary=dictionary)


def output_columns(
    scored: Any, *, explain: bool, dictionary: bool = False
) -> tuple[list[str], list[Any]]:
    """Return (names, arrays) equal to ``scored.to_arrow(explain=explain)``'s columns.

    With ``dictionary`` the four label columns stay dictionary-encoded (same values, no
    expansion to one string per row): the CSV, JSON-lines and Parquet writers take them as
    they are, and Parquet stores them as plain strings without hashing them again.
    """
    import pyarrow as pa

    from accunode_cli.scoring import RATINGS, RISK_LEVELS

    n = len(scored)
    unscored = scored.risk_codes < 0
    version = _text(
        pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, dtype=np.int32)), pa.array([scored.model_version])
        ),
        dictionary=dictionary,
    )
    names = ["probability", "risk_level", "implied_rating", "model_version", "flags", "error"]
    arrays = [
        pa.array(scored.probability, mask=unscored),
        _labels(scored.risk_codes, RISK_LEVELS, dictionary=dictionary),
        _labels(scored.rating_codes, RATINGS, dictionary=dictionary),
        version,
        _flags(scored, dictionary=dictionary),
        pa.array(scored.row_error, type=pa.string()),
    ]
    if explain:
        for j, name in enumerate(scored.ratio_names):
            names.append(f"contribution_{name}")
            arrays.append(pa.array(scored.contributions[:, j], mask=unscored))
    return names, arrays


def ratio_arrays(batch: Any, columns: dict[str, str]) -> dict[str, Any]:
    """Return the ratio columns to score: numeric ones as float64 numpy (null as NaN), text as is.

    A null and a NaN both mean missing to the cleaner, so the numpy form scores identically
    and skips a conversion per column.
    """
    import pyarrow as pa

    raw: dict[str, Any] = {}
    for ratio, name in columns.items():
        column = batch.column(name)
        kind = column.type
        if pa.types.is_floating(kind) or pa.types.is_integer(kind):
            raw[ratio] = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        else:
            raw[ratio] = column
    return raw
